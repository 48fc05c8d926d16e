"""Template and example listing files (CSV as German Excel writes it, XLSX with help sheets).

The example rows are invented to show the format: every one says so in its name, its
``example`` column and its note, and the app marks them wherever they appear. They sit
at real stops and Ortsteil centres only so that they validate against the region.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from dorfkarte.atomic import write_bytes_atomic
from dorfkarte.errors import DataError, DorfkarteError
from dorfkarte.listings.schema import COLUMNS, EXAMPLE_NOTE, FIELDS, KIND_LABELS
from dorfkarte.listings.validate import ValidationContext
from dorfkarte.region import Region
from dorfkarte.safe import cell_safe
from dorfkarte.settings import default_data_dir

#: Columns whose documented examples name places or categories of one region.
_PLACE_FIELDS = ("category", "lat", "lon", "address", "stop", "ortsteil")

_EX = {"provider": "Beispielanbieter (erfunden)", "source": "erfunden, nur zur Veranschaulichung",
       "note": EXAMPLE_NOTE, "example": "ja"}


def example_rows(region: Region | None = None,
                 data_dir: str | Path | None = None) -> list[dict[str, str]]:
    """The example listings (all invented, all marked as examples).

    Without ``region``: the shipped rows (Hoher Fläming places). With ``region``: every
    category, stop, Ortsteil and coordinate the region does not know is replaced by one it
    does (its own categories, stops of its snapshot, its Ortsteil centres), so the example
    validates wherever it is written.
    """
    rows = [
        {"id": "BSP-ANKER-LUETTE", "name": "Beispiel-Ankerort Dorfgemeinschaftshaus",
         "category": "treffpunkt", "kind": "anchor", "ortsteil": "Lütte",
         "opening_hours": "Tu,Th 09:00-17:00"},
        {"id": "BSP-VERKAUFSWAGEN", "name": "Beispiel-Verkaufswagen", "category": "lebensmittel",
         "kind": "mobile", "stop": "Lütte, Dorf", "opening_hours": "Tu 10:00-11:00"},
        {"id": "BSP-SPRECHSTUNDE", "name": "Beispiel-Sprechstunde Hausarzt",
         "category": "hausarzt", "kind": "mobile", "anchor": "BSP-ANKER-LUETTE",
         "opening_hours": "Th[2] 14:00-16:00"},
        {"id": "BSP-BANKBUS", "name": "Beispiel-Bankbus", "category": "bank", "kind": "mobile",
         "stop": "Dippmannsdorf, Ortsmitte", "opening_hours": "We[1,3] 09:00-10:00"},
        {"id": "BSP-POSTSCHALTER", "name": "Beispiel-Post- und Bankschalter",
         "category": "post, bank", "kind": "fixed", "lat": "52,2205", "lon": "12,5962",
         "address": "Beispielstraße 1 (erfunden)", "opening_hours": "Mo-Fr 08:00-12:00",
         "valid_from": "01.01.2026", "valid_to": "31.12.2027"},
        {"id": "BSP-WOCHENMARKT", "name": "Beispiel-Wochenmarkt", "category": "lebensmittel",
         "kind": "mobile", "ortsteil": "Reetz", "opening_hours": "Fr 08:00-12:00"},
    ]
    out = [{f: r.get(f, _EX.get(f, "")) for f in FIELDS} for r in rows]
    return out if region is None else fit_to_region(out, region, data_dir)


def template_rows(region: Region | None = None,
                  data_dir: str | Path | None = None) -> list[dict[str, str]]:
    """One marked example row (a mobile service at a stop), so the template shows the format."""
    return example_rows(region, data_dir)[1:2]


def fit_to_region(rows: list[dict[str, str]], region: Region,
                  data_dir: str | Path | None = None) -> list[dict[str, str]]:
    """Example rows with the region's own categories and places where theirs are unknown.

    Names, schedules and the example marking stay; only what the region cannot check is
    swapped: an unknown category for one of the region's (the name then says which), an
    unknown stop / Ortsteil / outside coordinate for a stop of the region's snapshot or an
    Ortsteil centre (a point inside the region's districts if it has neither).
    """
    places = _RegionPlaces(region, data_dir)
    cats = [c.id for c in region.categories.values() if c.source == "osm"] or \
        list(region.categories)
    out: list[dict[str, str]] = []
    for i, row in enumerate(rows):
        r = dict(row)
        tokens = [t.strip() for t in r["category"].split(",") if t.strip()]
        known = [t for t in tokens if places.category(t)]
        if tokens and not known and cats:
            cid = cats[i % len(cats)]
            r["category"] = cid
            label = region.categories[cid].label
            r["name"] = f"Beispiel-Angebot {label} ({KIND_LABELS.get(r['kind'], r['kind'])})"
        elif len(known) < len(tokens):
            r["category"] = ", ".join(known)
        if r["lat"] or r["lon"]:
            ok = places.coords_ok(r["lat"], r["lon"])
        elif r["stop"]:
            ok = places.has_stop(r["stop"])
        elif r["ortsteil"]:
            ok = places.has_centre(r["ortsteil"])
        else:
            ok = bool(r["anchor"])  # an anchor row of the same example set
        if not ok:
            for f in ("lat", "lon", "stop", "ortsteil", "address"):
                r[f] = ""
            r.update(places.place_for(i, prefer="centre" if row["ortsteil"] else "stop"))
        out.append(r)
    return out


def column_examples(region: Region, data_dir: str | Path | None = None) -> dict[str, str]:
    """Examples for the explanation sheet that exist in ``region`` (place and category
    columns; the documented ones are Hoher Fläming's and are kept only where they fit)."""
    places = _RegionPlaces(region, data_dir)
    ex = {c.name: c.example for c in COLUMNS if c.name in _PLACE_FIELDS}
    out: dict[str, str] = {}
    if not places.category(ex["category"]):
        cats = [c.id for c in region.categories.values() if c.source == "osm"]
        out["category"] = (cats or list(region.categories) or [""])[0]
    if not places.has_stop(ex["stop"]):
        out["stop"] = places.stops[0].name if places.stops else ""
    if not places.has_centre(ex["ortsteil"]):
        out["ortsteil"] = places.centres[0].name if places.centres else ""
    if not places.coords_ok(ex["lat"], ex["lon"]):
        pt = places.place_for(0, prefer="none")
        out["lat"], out["lon"] = pt.get("lat", ""), pt.get("lon", "")
        out["address"] = ""  # the documented address names a village of another region
    return out


class _RegionPlaces:
    """Stops, Ortsteil centres and the area of a region, as the validator sees them."""

    def __init__(self, region: Region, data_dir: str | Path | None) -> None:
        self.region = region
        self.ctx: ValidationContext | None = None
        try:
            self.ctx = ValidationContext.from_region(
                region, data_dir if data_dir is not None else default_data_dir())
        except DorfkarteError:
            self.ctx = None  # no districts known (or unreadable): nothing could be checked
        self.stops = self._unique(self.ctx.stops.values()) if self.ctx else []
        self.centres = self._unique(self.ctx.centres.values()) if self.ctx else []

    def _unique(self, places) -> list:
        seen: dict[str, object] = {}
        for p in places:
            if p.name not in seen and self.ctx is not None and self.ctx.inside(p.lon, p.lat):
                seen[p.name] = p
        return [seen[k] for k in sorted(seen)]

    def category(self, token: str) -> bool:
        if self.ctx is not None:
            return self.ctx.category_id(token) is not None
        return token in self.region.categories

    def coords_ok(self, lat: str, lon: str) -> bool:
        try:
            y, x = float(lat.replace(",", ".")), float(lon.replace(",", "."))
        except ValueError:
            return False
        return self.ctx is not None and self.ctx.inside(x, y)

    def has_stop(self, name: str) -> bool:
        p = self.ctx.stop(name) if self.ctx is not None else None
        return p is not None and self.ctx.inside(p.lon, p.lat)

    def has_centre(self, name: str) -> bool:
        p = self.ctx.centre(name) if self.ctx is not None else None
        return p is not None and self.ctx.inside(p.lon, p.lat)

    def place_for(self, i: int, prefer: str = "stop") -> dict[str, str]:
        """The ``i``-th stop or centre (so several rows spread over several places)."""
        order = [("stop", self.stops), ("ortsteil", self.centres)]
        if prefer == "centre":
            order.reverse()
        elif prefer == "none":
            order = []
        for field, places in order:
            if places:
                return {field: places[i % len(places)].name}
        if self.ctx is not None:  # neither stops nor centres: a point inside the districts
            from pyproj import Transformer

            inner = self.ctx.area.buffer(-self.region.buffer_m)  # ~ the districts themselves
            pt = (self.ctx.area if inner.is_empty else inner).representative_point()
            lon, lat = Transformer.from_crs(self.region.crs, "EPSG:4326",
                                            always_xy=True).transform(pt.x, pt.y)
            return {"lat": f"{lat:.5f}".replace(".", ","), "lon": f"{lon:.5f}".replace(".", ",")}
        return {}


def csv_bytes(rows: list[dict[str, str]], *, encoding: str = "utf-8-sig") -> bytes:
    """Rows as German Excel CSV: ``;`` separator, BOM so Excel detects UTF-8."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(FIELDS)
    for r in rows:
        w.writerow([_safe(r.get(f, "")) for f in FIELDS])
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows: list[dict[str, str]], region: Region | None = None,
               data_dir: str | Path | None = None) -> bytes:
    """Sheet "Angebote" (the data), "Erläuterung" (columns) and "Kategorien" (allowed values)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Angebote"
    ws.append(list(FIELDS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append([_safe(r.get(f, "")) for f in FIELDS])
    for col, f in zip(ws.iter_cols(min_row=1, max_row=1), FIELDS, strict=True):
        ws.column_dimensions[col[0].column_letter].width = max(10, min(40, len(f) + 14))
    help_ws = wb.create_sheet("Erläuterung")
    help_ws.append(["Spalte", "Bezeichnung", "Bedeutung", "Beispiel"])
    examples = column_examples(region, data_dir) if region is not None else {}
    for c in COLUMNS:
        help_ws.append([c.name, c.label, c.help, examples.get(c.name, c.example)])
    help_ws.column_dimensions["C"].width = 90
    if region is not None:
        cat_ws = wb.create_sheet("Kategorien")
        cat_ws.append(["category", "Bezeichnung", "label_en"])
        for c in region.categories.values():
            cat_ws.append([c.id, c.label, c.label_en])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_template(path: str | Path, region: Region | None = None, *,
                   rows: list[dict[str, str]] | None = None,
                   data_dir: str | Path | None = None) -> Path:
    """Write the template (by suffix: .csv or .xlsx) atomically.

    With ``region`` the example row uses that region's categories and places (stops from
    the snapshot in ``data_dir``, Ortsteil centres), so the template passes its own check.
    """
    path = Path(path)
    rows = template_rows(region, data_dir) if rows is None else rows
    suffix = path.suffix.lower()
    if suffix == ".csv":
        data = csv_bytes(rows)
    elif suffix == ".xlsx":
        data = xlsx_bytes(rows, region, data_dir)
    else:
        raise DataError(f"Vorlage {path.name}: Endung .csv oder .xlsx angeben")
    write_bytes_atomic(path, data)  # the umask's permissions: a template is for sharing
    return path


def _safe(v: str) -> str:
    """Text that spreadsheet programs do not run as a formula (``dorfkarte.safe``)."""
    return cell_safe(str(v))


