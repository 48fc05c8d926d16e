"""Check listing rows against the region and locate them; every problem names row and field.

The same check runs for a CLI import, an upload and a table edited in the app, so a
row that is refused in one place is refused everywhere. Locating needs no network:
coordinates, a stop name from the region's timetable, an Ortsteil centre, an anchor
place, or an address that the OSM snapshot knows.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.prepared import prep

from dorfkarte.districts import norm_name, read_centres
from dorfkarte.embedded import open_snapshot
from dorfkarte.errors import DataError
from dorfkarte.imported_districts import districts_path
from dorfkarte.listings.reader import RawTable
from dorfkarte.listings.schedule import (
    ScheduleError,
    has_weekday,
    normalise_schedule,
    read_schedule,
)
from dorfkarte.listings.schema import (
    FALSE_WORDS,
    KIND_ALIASES,
    MAX_ID,
    MAX_NAME,
    MAX_TEXT,
    STORE_FIELDS,
    TEXT_FIELDS,
    TRUE_WORDS,
    Issue,
)
from dorfkarte.region import Region
from dorfkarte.snapshot import DISTRICTS, HOMES, STOPS, Snapshot

_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_URL = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)
_DATE_DE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2}|\d{4})$")
_TIME_ONLY = re.compile(r"^\d{1,2}([:.]\d{2})?(:\d{2})?\s*(uhr|h)?$", re.IGNORECASE)
_DATE_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$")


@dataclass
class Place:
    name: str
    lon: float
    lat: float


@dataclass
class ValidationContext:
    """What rows are checked against: categories, region area, stops, centres, addresses.

    Build it with :meth:`from_region`; ``existing`` holds the stored listings (for anchor
    references and to tell new rows from updates).
    """

    region: Region
    area: shapely.Geometry  # districts union + buffer, in region.crs
    stops: dict[str, Place] = field(default_factory=dict)  # norm_name -> place
    centres: dict[str, Place] = field(default_factory=dict)
    addresses: dict[str, list[Place]] = field(default_factory=dict)  # norm address -> places
    existing: gpd.GeoDataFrame | None = None

    def __post_init__(self) -> None:
        self._prepared = prep(self.area)
        self._to_crs = Transformer.from_crs("EPSG:4326", self.region.crs, always_xy=True)
        cats: dict[str, str] = {}
        for c in self.region.categories.values():
            for key in (c.id, c.label, c.label_en):
                cats[key.casefold()] = c.id
                cats[norm_name(key)] = c.id
        self._cats = cats

    @classmethod
    def from_region(cls, region: Region, data_dir: str | Path,
                    existing: gpd.GeoDataFrame | None = None) -> ValidationContext:
        """Context from the region's snapshot (districts, stops, homes) and centres file.

        The region-derived parts are cached per region file, data folder and snapshot date,
        so checking one edited row in the app does not rebuild the region every time.
        """
        key = _cache_key(region, data_dir)
        parts = _CONTEXT_CACHE.get(key)
        if parts is None:
            parts = _region_parts(region, open_snapshot(region, data_dir))
            _remember(key, parts)
        return cls._from_parts(region, parts, existing)

    @classmethod
    def from_snapshot(cls, region: Region, snapshot: Snapshot, *,
                      existing: gpd.GeoDataFrame | None = None,
                      key: str | None = None) -> ValidationContext:
        """Context from an already opened snapshot (``Workspace.validation_context``).

        ``key`` (the workspace's fingerprint) caches the region-derived parts like
        :meth:`from_region` does; without it they are built anew.
        """
        ckey = ("snapshot", key, _mtime(region.districts.centres_file)) if key else None
        parts = _CONTEXT_CACHE.get(ckey) if ckey else None
        if parts is None:
            parts = _region_parts(region, snapshot)
            if ckey:
                _remember(ckey, parts)
        return cls._from_parts(region, parts, existing)

    @classmethod
    def _from_parts(cls, region: Region, parts: tuple,
                    existing: gpd.GeoDataFrame | None) -> ValidationContext:
        area, stops, centres, addresses = parts
        return cls(region=region, area=area, stops=stops, centres=centres,
                   addresses=addresses, existing=existing)

    # -- lookups -----------------------------------------------------------------------

    def category_id(self, token: str) -> str | None:
        return self._cats.get(token.strip().casefold()) or self._cats.get(norm_name(token))

    def inside(self, lon: float, lat: float) -> bool:
        x, y = self._to_crs.transform(lon, lat)
        return bool(self._prepared.contains(shapely.Point(x, y)))

    def km_outside(self, lon: float, lat: float) -> float:
        x, y = self._to_crs.transform(lon, lat)
        return float(self.area.distance(shapely.Point(x, y))) / 1000.0

    def stop(self, name: str) -> Place | None:
        return self.stops.get(name.casefold()) or self.stops.get(_loose(name))

    def centre(self, name: str) -> Place | None:
        return self.centres.get(name.casefold()) or self.centres.get(norm_name(name))


@dataclass
class ValidationReport:
    """Outcome of a check: the valid rows (normalised, located) and every issue found."""

    listings: gpd.GeoDataFrame
    issues: list[Issue]
    n_rows: int
    row_word: str = "Zeile"
    source: str = ""
    updates: list[str] = field(default_factory=list)  # ids already in the store

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity != "error"]

    @property
    def ok(self) -> bool:
        """True when nothing blocks importing the whole file."""
        return not self.errors

    @property
    def bad_rows(self) -> set[int]:
        return {i.row for i in self.errors if i.row is not None}

    def issues_frame(self) -> pd.DataFrame:
        """Issues as a table (row, field, severity, message) for the app."""
        return pd.DataFrame(
            [{"Zeile": i.row, "Feld": i.field,
              "Art": "Fehler" if i.severity == "error" else "Hinweis", "Meldung": i.message}
             for i in self.issues],
            columns=["Zeile", "Feld", "Art", "Meldung"],
        )

    def summary(self) -> str:
        n_ok = len(self.listings)
        n_new = n_ok - len(self.updates)
        head = f"{self.source}: " if self.source else ""
        return (f"{head}{self.n_rows} Einträge geprüft, {n_ok} gültig ({n_new} neu, "
                f"{len(self.updates)} schon gespeichert), {len(self.bad_rows)} fehlerhaft, "
                f"{len(self.errors)} Fehler, {len(self.warnings)} Hinweise")


def validate(table: RawTable, ctx: ValidationContext) -> ValidationReport:
    """Check every row of ``table``; never raises for bad rows, it reports them."""
    issues: list[Issue] = list(table.issues)
    word = table.row_word
    file_errors = _check_columns(table)
    issues.extend(file_errors)
    if file_errors:
        return ValidationReport(_empty(), issues, len(table.rows), word, table.source)

    # duplicate ids are refused whatever else is wrong with the rows (second one = error)
    records = table.frame.to_dict("records")
    first_seen: dict[str, int] = {}
    dup_rows: set[int] = set()
    for i, rno in enumerate(table.rows):
        rid = _CTRL.sub("", str(records[i]["id"])).strip()
        if not rid:
            continue
        if rid in first_seen:
            issues.append(Issue(rno, "id", f"Kennung '{_show(rid)}' doppelt (schon in {word} "
                                f"{first_seen[rid]})", "error", word))
            dup_rows.add(i)
        else:
            first_seen[rid] = rno

    parsed: list[dict | None] = []
    for i, rno in enumerate(table.rows):
        rec = {k: str(v) for k, v in records[i].items()}
        row_issues: list[Issue] = []
        out = _parse_row(rec, rno, word, ctx, row_issues)
        issues.extend(row_issues)
        bad = i in dup_rows or any(x.severity == "error" for x in row_issues)
        parsed.append(None if bad else out)

    # second pass: anchors (may point to rows further down the file or to the store)
    by_id = {r["id"]: r for r in parsed if r is not None and r["id"]}
    stored = ctx.existing
    stored_ids = set(stored["id"]) if stored is not None and len(stored) else set()
    for k, r in enumerate(parsed):
        if r is None or r["lat"] is not None or not r["anchor"]:
            continue
        ref = r["anchor"]
        target = by_id.get(ref)
        if target is not None and target["lat"] is not None:
            r["lat"], r["lon"] = target["lat"], target["lon"]
            r["location_source"] = f"Ankerort {ref}"
            if target["kind"] != "anchor":
                issues.append(Issue(r["_row"], "anchor", f"'{_show(ref)}' ist kein Eintrag der "
                                    "Art 'anchor'; sein Ort wird trotzdem übernommen", "warning",
                                    word))
        elif ref in stored_ids:
            g = stored.loc[stored["id"] == ref].geometry.iloc[0]
            r["lat"], r["lon"] = round(float(g.y), 7), round(float(g.x), 7)
            r["location_source"] = f"Ankerort {ref}"
        else:
            issues.append(Issue(r["_row"], "anchor", f"Ankerort '{_show(ref)}' nicht gefunden "
                                "(weder gültig mit eigenem Ort in der Datei noch gespeichert)",
                                "error", word))
            parsed[k] = None

    # rows without id get one from name, category and place; identical rows collide
    for k, r in enumerate(parsed):
        if r is None or r["id"]:
            continue
        r["id"] = _auto_id(r)
        if r["id"] in first_seen:
            issues.append(Issue(r["_row"], "id", f"gleicher Eintrag wie {word} "
                                f"{first_seen[r['id']]} (Name, Kategorie und Ort gleich)",
                                "error", word))
            parsed[k] = None
        else:
            first_seen[r["id"]] = r["_row"]

    rows = [r for r in parsed if r is not None]
    issues.sort(key=lambda x: (x.row is not None, x.row or 0))
    gdf = _frame(rows)
    updates: list[str] = []
    if stored is not None and len(stored) and len(gdf):
        known = set(stored["id"])
        updates = [i for i in gdf["id"] if i in known]
    return ValidationReport(gdf, issues, len(table.rows), word, table.source, updates)


_CONTEXT_CACHE: dict[tuple, tuple] = {}


def _mtime(path: Path | None) -> int | None:
    try:
        return path.stat().st_mtime_ns if path is not None else None
    except OSError:
        return None


def _cache_key(region: Region, data_dir: str | Path) -> tuple:
    from dorfkarte.snapshot import snapshot_path

    return (str(region.path), region.id, region.buffer_m, region.crs,
            str(Path(data_dir).resolve()), _mtime(snapshot_path(data_dir, region.id)),
            _mtime(districts_path(data_dir, region.id)),
            _mtime(region.districts.centres_file), _mtime(region.transit.stops_file))


def _remember(key: tuple, parts: tuple) -> None:
    if len(_CONTEXT_CACHE) >= 8:
        _CONTEXT_CACHE.pop(next(iter(_CONTEXT_CACHE)))
    _CONTEXT_CACHE[key] = parts


def _region_parts(region: Region, snap: Snapshot) -> tuple:
    districts = snap.get(DISTRICTS)
    if districts is None or districts.empty:
        raise DataError("Keine Ortsteile bekannt: Regionsgrenzen für die Prüfung fehlen")
    area = shapely.union_all(districts.to_crs(region.crs).geometry.to_numpy()).buffer(
        region.buffer_m)
    stops: dict[str, Place] = {}
    sgdf = snap.get(STOPS)
    if sgdf is not None and len(sgdf):
        for name, g in zip(sgdf["name"].astype(str), sgdf.geometry, strict=True):
            stops.setdefault(name.casefold(), Place(name, g.x, g.y))
            stops.setdefault(_loose(name), Place(name, g.x, g.y))
    centres: dict[str, Place] = {}
    try:
        cdf = read_centres(region)
    except DataError:
        cdf = None
    if cdf is not None:
        for name, lat, lon in zip(cdf["name"].astype(str), cdf["lat"], cdf["lon"], strict=True):
            centres.setdefault(name.casefold(), Place(name, float(lon), float(lat)))
            centres.setdefault(norm_name(name), Place(name, float(lon), float(lat)))
    return area, stops, centres, _address_index(snap.get(HOMES))


# -- one row ------------------------------------------------------------------------------

def _parse_row(rec: dict[str, str], rno: int, word: str, ctx: ValidationContext,
               issues: list[Issue]) -> dict:
    def err(fld: str, msg: str, sev: str = "error") -> None:
        issues.append(Issue(rno, fld, msg, sev, word))

    out: dict = {"_row": rno}
    for f, v in rec.items():
        v = _CTRL.sub("", v).strip()
        limit = MAX_ID if f == "id" else MAX_NAME if f == "name" else MAX_TEXT
        if len(v) > limit:
            err(f, f"zu lang ({len(v)} Zeichen, höchstens {limit})")
            v = v[:limit]
        rec[f] = v
    out["id"] = rec["id"]
    if not rec["name"]:
        err("name", "Pflichtfeld 'name' ist leer")
    out["name"] = rec["name"]

    kind_key = rec["kind"].casefold()
    kind = KIND_ALIASES.get(kind_key)
    if kind is None:
        err("kind", f"Art '{_show(rec['kind'])}' unbekannt; erlaubt: fixed (fest), "
            "mobile (mobil), anchor (Ankerort)")
        kind = "fixed"
    out["kind"] = kind

    cats: list[str] = []
    tokens = [t.strip() for t in re.split(r"[,|+]", rec["category"]) if t.strip()]
    for t in tokens:
        cid = ctx.category_id(t)
        if cid is None:
            known = ", ".join(ctx.region.categories)
            err("category", f"Kategorie '{_show(t)}' unbekannt; erlaubt: {known}")
        elif cid not in cats:
            cats.append(cid)
    if not tokens and kind != "anchor":
        err("category", "Pflichtfeld 'category' ist leer")
    out["category"] = ",".join(cats)

    _day_columns(rec, err)
    try:
        sched, note = read_schedule(rec["opening_hours"])
    except ScheduleError as exc:
        err("opening_hours", str(exc))
        sched, note = "", ""
    out["opening_hours"] = sched
    if kind == "mobile" and not rec["opening_hours"]:
        err("opening_hours", "mobiles Angebot ohne Zeiten: zählt zu jeder Zeit", "warning")
    elif kind == "mobile" and sched and not has_weekday(sched):
        # a van or bus that comes at the same hour every day is rare; more often the day
        # was in another column or forgotten, and "every day" would overstate coverage
        err("opening_hours", f"mobiles Angebot ohne Wochentag ({_show(rec['opening_hours'])}) "
            f"würde jeden Tag gezählt: Tag ergänzen, z. B. 'Tu {sched}', oder ausdrücklich "
            f"'Mo-Su {sched}' (täglich) schreiben")
    elif note:
        err("opening_hours", note, "warning")

    for f in ("valid_from", "valid_to"):
        try:
            out[f] = _date(rec[f])
        except ValueError:
            if _TIME_ONLY.match(rec[f]):
                err(f, f"'{_show(rec[f])}' ist eine Uhrzeit, kein Datum ('{f}' = gültig "
                    f"{'ab' if f == 'valid_from' else 'bis'}); Uhrzeiten gehören in "
                    "'opening_hours', z. B. 'Tu 10:00-11:00'")
            else:
                err(f, f"'{_show(rec[f])}' ist kein Datum (JJJJ-MM-TT oder TT.MM.JJJJ)")
            out[f] = ""
    if out["valid_from"] and out["valid_to"] and out["valid_from"] > out["valid_to"]:
        err("valid_to", f"'gültig bis' ({out['valid_to']}) liegt vor 'gültig ab' "
            f"({out['valid_from']})")

    ex = rec["example"].casefold()
    if ex in TRUE_WORDS:
        out["example"] = True
    elif ex in FALSE_WORDS:
        out["example"] = False
    else:
        err("example", f"'{_show(rec['example'])}' ist weder ja noch nein")
        out["example"] = False

    if rec["url"] and not _URL.match(rec["url"]):
        err("url", f"'{_show(rec['url'])}' ist keine http(s)-Adresse")
    for f in TEXT_FIELDS:
        out[f] = rec[f]

    out["lat"] = out["lon"] = None
    out["location_source"] = ""
    _locate(rec, out, ctx, err)
    return out


def _day_columns(rec: dict[str, str], err) -> None:
    """A timetable laid out as "Tag | von | bis" (Dienstag | 10:00 | 11:00) becomes one
    ``opening_hours`` value; "von"/"bis" holding dates stay validity dates."""
    day = rec.get("day", "")
    vf, vt = rec["valid_from"], rec["valid_to"]
    times = bool(vf and vt and _TIME_ONLY.match(vf) and _TIME_ONLY.match(vt))
    if not day and not times:
        return
    if rec["opening_hours"]:
        if times:
            err("opening_hours", f"Zeiten doppelt: '{_show(rec['opening_hours'])}' und von/bis "
                f"'{_show(vf)}'-'{_show(vt)}'; nur eines angeben")
            rec["valid_from"] = rec["valid_to"] = ""
        elif day and not has_weekday(normalise_schedule(rec["opening_hours"])):
            rec["opening_hours"] = f"{day} {rec['opening_hours']}"  # "Di" + "10-11 Uhr"
            err("opening_hours", f"Zeiten aus den Spalten Tag und Zeiten gebildet: "
                f"'{_show(rec['opening_hours'])}'", "warning")
        elif day:
            err("day", f"Tag '{_show(day)}' und Zeiten '{_show(rec['opening_hours'])}' "
                "nennen beide Tage; den Tag nur in den Zeiten angeben, z. B. "
                "'Tu 10:00-11:00'")
        return
    if times:
        rec["opening_hours"] = f"{day} {vf}-{vt}".strip()
        rec["valid_from"] = rec["valid_to"] = ""
    else:
        rec["opening_hours"] = day  # a day alone: the schedule check asks for the time
    err("opening_hours", f"Zeiten aus den Spalten Tag/von/bis gebildet: "
        f"'{_show(rec['opening_hours'])}'", "warning")


def _locate(rec: dict[str, str], out: dict, ctx: ValidationContext, err) -> None:
    lat_s, lon_s = rec["lat"], rec["lon"]
    if lat_s or lon_s:
        if not (lat_s and lon_s):
            err("lon" if lat_s else "lat", "nur eine Koordinate angegeben; 'lat' und 'lon' "
                "gehören zusammen")
            return
        lat, lon = _number(lat_s), _number(lon_s)
        if lat is None or lon is None:
            bad = "lat" if lat is None else "lon"
            err(bad, f"'{_show(rec[bad])}' ist keine Zahl")
            return
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            if -90 <= lon <= 90 and -180 <= lat <= 180 and ctx.inside(lat, lon):
                err("lat", f"Breite und Länge vertauscht? (lat={_show(lat_s)}, "
                    f"lon={_show(lon_s)})")
            else:
                err("lat", f"keine gültige Koordinate (lat={_show(lat_s)}, lon={_show(lon_s)})")
            return
        if not ctx.inside(lon, lat):
            if -90 <= lon <= 90 and ctx.inside(lat, lon):
                err("lat", f"Breite und Länge vertauscht? (lat={_show(lat_s)}, "
                    f"lon={_show(lon_s)}); getauscht läge der Punkt in der Region")
            else:
                err("lat", f"Koordinaten liegen außerhalb der Region (lat={_show(lat_s)}, "
                    f"lon={_show(lon_s)}; {_km(ctx.km_outside(lon, lat))} vom Gebiet entfernt)")
            return
        out["lat"], out["lon"] = round(lat, 7), round(lon, 7)
        out["location_source"] = "Koordinaten"
        return
    if rec["stop"]:
        p = ctx.stop(rec["stop"])
        if p is None:
            err("stop", f"Haltestelle '{_show(rec['stop'])}' nicht gefunden"
                + _suggest(rec["stop"], (s.name for s in ctx.stops.values())))
            return
        _set_place(out, p, f"Haltestelle {p.name}", "stop", ctx, err)
        return
    if rec["ortsteil"]:
        p = ctx.centre(rec["ortsteil"])
        if p is None:
            err("ortsteil", f"Ortsteil '{_show(rec['ortsteil'])}' nicht gefunden"
                + _suggest(rec["ortsteil"], (c.name for c in ctx.centres.values())))
            return
        _set_place(out, p, f"Ortsmitte {p.name}", "ortsteil", ctx, err)
        return
    if rec["anchor"]:
        return  # resolved in the second pass
    if rec["address"]:
        hits = _pick_address(rec["address"], ctx.addresses.get(_addr_key(rec["address"]), []))
        if len(hits) == 1:
            _set_place(out, hits[0], "Adresse (OSM)", "address", ctx, err)
            return
        why = ("mehrdeutig (mehrfach im OSM-Schnappschuss)" if hits else
               "nicht im OSM-Schnappschuss gefunden; ohne Netz wird nicht geocodiert")
        err("address", f"Adresse '{_show(rec['address'])}' konnte nicht verortet werden: {why}; "
            "bitte lat/lon, Haltestelle oder Ortsteil ergänzen")
        return
    err("lat", "kein Ort angegeben: lat/lon, Haltestelle (stop), Ortsteil, Ankerort (anchor) "
        "oder eine Adresse nötig")


def _set_place(out: dict, p: Place, how: str, fld: str, ctx: ValidationContext, err) -> None:
    if not ctx.inside(p.lon, p.lat):
        err(fld, f"{how} liegt außerhalb der Region ({_km(ctx.km_outside(p.lon, p.lat))} "
            "vom Gebiet entfernt)")
        return
    out["lat"], out["lon"] = round(p.lat, 7), round(p.lon, 7)
    out["location_source"] = how


# -- helpers ------------------------------------------------------------------------------

def _check_columns(table: RawTable) -> list[Issue]:
    cols = set(table.columns)
    out = []
    if not table.rows:
        out.append(Issue(None, "", "keine Einträge (nur Kopfzeile oder leere Datei)"))
    if "name" not in cols:
        found = ", ".join(table.columns) or "keine bekannte"
        out.append(Issue(None, "name", f"Spalte 'name' fehlt (gefunden: {found}); "
                         "Trennzeichen und Kopfzeile prüfen, Vorlage: dorfkarte listings "
                         "template"))
    elif "category" not in cols:
        out.append(Issue(None, "category", "Spalte 'category' fehlt"))
    return out


def parse_coordinates(lat: object, lon: object) -> tuple[float, float] | None:
    """Latitude and longitude as typed into a form: decimal comma or point (52,1386).

    None when both are empty; :class:`DataError` naming the field when one is missing,
    not a number or out of range (the same reading as the listings import).
    """
    lat_s, lon_s = ("" if v is None else str(v).strip() for v in (lat, lon))
    if not lat_s and not lon_s:
        return None
    if not (lat_s and lon_s):
        raise DataError(f"{'Länge' if lat_s else 'Breite'} fehlt: Breite und Länge gehören "
                        "zusammen")
    la, lo = _number(lat_s), _number(lon_s)
    if la is None or lo is None:
        bad, text = ("Breite", lat_s) if la is None else ("Länge", lon_s)
        raise DataError(f"{bad} '{_show(text)}' ist keine Zahl (z. B. 52,1386 oder 52.1386)")
    if not (-90 <= la <= 90 and -180 <= lo <= 180):
        raise DataError(f"keine gültige Koordinate (Breite {_show(lat_s)}, Länge {_show(lon_s)})")
    return la, lo


def _number(s: str) -> float | None:
    t = s.replace(" ", "").replace("\u00a0", "")
    if "," in t and "." in t:
        t = t.replace(".", "")
    t = t.replace(",", ".")
    try:
        v = float(t)
    except ValueError:
        return None
    return v if v == v and abs(v) != float("inf") else None


def _date(s: str) -> str:
    """ISO date from "2026-03-31", "31.03.2026", "31.3.26" or an Excel date-time cell."""
    s = s.strip()
    if not s:
        return ""
    m = _DATE_DE.match(s)
    if m:
        d, mo, y = (int(x) for x in m.groups())
        return dt.date(y + 2000 if y < 100 else y, mo, d).isoformat()
    if _DATE_ISO.match(s):
        return dt.date.fromisoformat(s[:10]).isoformat()
    raise ValueError(s)


def _km(km: float) -> str:
    return f"{km:.1f} km".replace(".", ",")


def _show(value: object, limit: int = 60) -> str:
    """A cell value quoted in a message: one line, cut after ``limit`` characters."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _loose(name: str) -> str:
    return re.sub(r"[^0-9a-zäöüß]+", "", name.casefold())


def _suggest(name: str, candidates: Iterable[str]) -> str:
    names = sorted(set(candidates))
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.7)
    return f" (gemeint: '{close[0]}'?)" if close else ""


def _auto_id(r: dict) -> str:
    key = "|".join(str(r[k]) for k in ("name", "category", "lat", "lon", "anchor"))
    return "auto-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]


def _addr_key(text: str) -> str:
    first = text.split(",")[0]
    first = re.sub(r"(?i)str\.", "straße", first)
    return _loose(first)


def _col(homes: gpd.GeoDataFrame, *names: str) -> str | None:
    return next((c for c in names if c in homes.columns), None)


def _address_index(homes: gpd.GeoDataFrame | None) -> dict[str, list[Place]]:
    """OSM addresses of the snapshot's homes layer, if it carries them.

    Keyed by street + house number, or (villages often have no street names) by
    ``addr:place`` + house number; ``Place.name`` keeps place/city to tell namesakes apart.
    """
    if homes is None or not len(homes):
        return {}
    number = _col(homes, "addr:housenumber", "addr_housenumber", "housenumber")
    street = _col(homes, "addr:street", "addr_street", "street")
    place = _col(homes, "addr:place", "addr_place")
    city = _col(homes, "addr:city", "addr_city", "addr:suburb", "addr_suburb")
    if number is None or (street is None and place is None):
        return {}

    def text(c: str | None) -> list[str]:
        if c is None:
            return [""] * len(homes)
        return ["" if v is None or (isinstance(v, float) and v != v) else str(v)
                for v in homes[c]]

    pts = homes.geometry.representative_point()
    out: dict[str, list[Place]] = {}
    for s, pl, ci, n, p in zip(text(street), text(place), text(city), text(number), pts,
                               strict=True):
        base = s or pl
        if not base or not n or p is None or p.is_empty:
            continue
        where = " ".join(x for x in (pl, ci) if x)
        hit = Place(f"{base} {n}|{where}", p.x, p.y)
        bucket = out.setdefault(_addr_key(f"{base} {n}"), [])
        if not any(abs(h.lon - hit.lon) < 1e-4 and abs(h.lat - hit.lat) < 1e-4 for h in bucket):
            bucket.append(hit)  # several points of one address are one place
    return out


def _pick_address(text: str, hits: list[Place]) -> list[Place]:
    """Among namesakes ("Dorfstraße 1" in several villages) keep those whose place/city
    appears in the rest of the address ("Dorfstraße 1, Lütte")."""
    if len(hits) <= 1 or "," not in text:
        return hits
    rest = _loose(text.split(",", 1)[1])
    chosen = [h for h in hits if rest and any(
        _loose(w) and (_loose(w) in rest or rest in _loose(w))
        for w in h.name.split("|", 1)[1].split())]
    return chosen or hits


def _frame(rows: list[dict]) -> gpd.GeoDataFrame:
    if not rows:
        return _empty()
    df = pd.DataFrame([{k: r.get(k, "") for k in STORE_FIELDS if k not in
                        ("updated_at", "updated_by")} for r in rows])
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]),
                            crs="EPSG:4326")


def _empty() -> gpd.GeoDataFrame:
    cols = [k for k in STORE_FIELDS if k not in ("updated_at", "updated_by")]
    return gpd.GeoDataFrame({k: pd.Series(dtype=object) for k in cols}, geometry=[],
                            crs="EPSG:4326")
