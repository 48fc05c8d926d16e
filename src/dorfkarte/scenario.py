"""What-if scenarios and "where best" suggestions on top of a coverage result.

A :class:`WhatIf` holds a coverage result and changes it one service point at a time,
recomputing only the affected category, incrementally:

- **adding** a point costs one shortest-path search per mode from the new point (bounded
  by the currently worst time: beyond it nobody can gain), then an element-wise minimum;
- **removing** a point recomputes only the origins whose nearest provider it was (one
  multi-source search from the remaining providers of that category);
- **undo** restores the arrays saved before the change, so removing and taking it back
  gives the original results bit for bit.

Times are computed with the same arithmetic as :mod:`dorfkarte.coverage` (virtual source
edge for the snapping time, then the origin's own offset), so a point removed and added
again at the same place also reproduces the original times exactly. Indicators reuse the
coverage module's per-district computation.

:func:`suggest` answers "where should k new points go" with the location models of
:mod:`dorfkarte.siting` (exact MCLP via spopt + HiGHS, greedy with its gap, p-median);
:func:`mobile_stops` ranks stops of a mobile service by residents newly reached per minute.
Scenarios are named lists of changes, stored in ``<data_dir>/scenarios.json`` beside the
listing store (:class:`ScenarioStore`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dorfkarte import siting
from dorfkarte.coverage import CoverageResult, nearest_service, travel_matrix
from dorfkarte.errors import DorfkarteError
from dorfkarte.network import point_xy

SCENARIO_FILE = "scenarios.json"
#: Indicator columns that depend on the service points (the rest is fixed per district).
DYNAMIC_COLUMNS = ("median", "p90", "max", "share_within", "residents_within", "gap_class",
                   "nearest_name", "nearest_source", "nearest_weight", "unreachable_share")
SCENARIO_SOURCE = "szenario"
ACTIONS = ("add", "remove", "schedule")
ACTION_LABELS = {"add": "neu", "remove": "entfällt", "schedule": "Zeitplan"}
#: Kinds of candidate sites, with German labels.
CANDIDATE_KINDS = {"stop": "Haltestelle", "centre": "Ortsmitte", "anchor": "Ankerort",
                   "user": "eigener Punkt", "map": "Kartenpunkt"}
METHODS = ("exact", "greedy", "pmedian")

Pair = tuple[str, str]


class ScenarioError(DorfkarteError):
    """A scenario change or file cannot be applied or read (names the change/field)."""


# ---- changes and scenarios ---------------------------------------------------------------

@dataclass
class Change:
    """One edit of the service points of a category.

    ``add``: a new point at ``lat``/``lon`` named ``name`` (``kind`` says where it came
    from: map, stop, centre, anchor, suggestion). ``remove``: the destination with
    ``ref`` (its OSM id / listing id / stop id, or ``#<index>`` when it has none).
    ``schedule``: listing ``ref`` gets ``opening_hours``; it counts as removed or added
    depending on whether it is there at the analysis time (``when``).
    """

    action: str
    category: str
    name: str = ""
    lat: float | None = None
    lon: float | None = None
    ref: str = ""
    kind: str = ""
    opening_hours: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in ("", None)}

    @classmethod
    def from_dict(cls, raw: Any, where: str = "Änderung") -> Change:
        if not isinstance(raw, dict):
            raise ScenarioError(f"{where}: muss ein Objekt sein")
        action = str(raw.get("action", "")).strip()
        if action not in ACTIONS:
            raise ScenarioError(f"{where}, Feld 'action': {action!r}; erlaubt: "
                                + ", ".join(ACTIONS))
        cat = str(raw.get("category", "")).strip()
        if not cat:
            raise ScenarioError(f"{where}, Feld 'category' fehlt")
        ch = cls(action=action, category=cat, name=str(raw.get("name", "") or ""),
                 ref=str(raw.get("ref", "") or ""), kind=str(raw.get("kind", "") or ""),
                 opening_hours=str(raw.get("opening_hours", "") or ""))
        if action == "add":
            for f in ("lat", "lon"):
                try:
                    v = float(raw.get(f))
                except (TypeError, ValueError):
                    raise ScenarioError(f"{where}, Feld '{f}': keine Zahl") from None
                if not math.isfinite(v) or abs(v) > (90 if f == "lat" else 180):
                    raise ScenarioError(f"{where}, Feld '{f}': {v} liegt außerhalb")
                setattr(ch, f, v)
        elif not ch.ref:
            raise ScenarioError(f"{where}, Feld 'ref' fehlt")
        return ch


@dataclass
class Scenario:
    """A named list of changes; ``example`` marks illustrative scenarios in every output."""

    name: str
    changes: list[Change] = field(default_factory=list)
    note: str = ""
    created: str = ""
    updated: str = ""
    example: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "note": self.note, "created": self.created,
                "updated": self.updated, "example": self.example,
                "changes": [c.to_dict() for c in self.changes]}

    @classmethod
    def from_dict(cls, raw: Any, where: str = "Szenario") -> Scenario:
        if not isinstance(raw, dict):
            raise ScenarioError(f"{where}: muss ein Objekt sein")
        name = " ".join(str(raw.get("name", "")).split())
        if not name:
            raise ScenarioError(f"{where}, Feld 'name' fehlt")
        changes = raw.get("changes", [])
        if not isinstance(changes, list):
            raise ScenarioError(f"{where} {name!r}, Feld 'changes': muss eine Liste sein")
        return cls(name=name, note=str(raw.get("note", "") or ""),
                   created=str(raw.get("created", "") or ""),
                   updated=str(raw.get("updated", "") or ""),
                   example=bool(raw.get("example", False)),
                   changes=[Change.from_dict(c, f"{where} {name!r}, Änderung {i + 1}")
                            for i, c in enumerate(changes)])


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


class ScenarioStore:
    """Scenarios of a data folder: ``<data_dir>/scenarios.json`` beside ``listings.gpkg``.

    One JSON file (readable, diffable, small); every write takes a file lock and replaces
    the file in one rename, so a crash never leaves it half-written.
    """

    def __init__(self, data_dir: str | Path, *, lock_timeout: float = 10.0) -> None:
        self.path = Path(data_dir) / SCENARIO_FILE
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.lock_timeout = lock_timeout

    def _read(self) -> dict[str, Scenario]:
        if not self.path.exists():
            return {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ScenarioError(f"Szenariodatei {self.path} ist nicht lesbar: {exc}") from None
        items = raw.get("scenarios", []) if isinstance(raw, dict) else None
        if not isinstance(items, list):
            raise ScenarioError(f"Szenariodatei {self.path}: Schlüssel 'scenarios' fehlt")
        out: dict[str, Scenario] = {}
        for i, item in enumerate(items):
            sc = Scenario.from_dict(item, f"{self.path.name}, Szenario {i + 1}")
            out[sc.name] = sc
        return out

    def names(self) -> list[str]:
        return sorted(self._read())

    def list(self) -> list[Scenario]:
        return [s for _, s in sorted(self._read().items())]

    def get(self, name: str) -> Scenario:
        items = self._read()
        if name not in items:
            known = ", ".join(sorted(items)) or "keine"
            raise ScenarioError(f"Szenario {name!r} nicht gefunden (gespeichert: {known})")
        return items[name]

    def save(self, scenario: Scenario) -> Scenario:
        """Insert or replace by name; keeps ``created`` of an existing one."""
        name = " ".join(scenario.name.split())
        if not name:
            raise ScenarioError("Szenario braucht einen Namen")
        with self._locked():
            items = self._read()
            old = items.get(name)
            now = _now()
            sc = replace(scenario, name=name, created=old.created if old else
                         (scenario.created or now), updated=now,
                         changes=[replace(c) for c in scenario.changes])
            items[name] = sc
            self._write(items)
        return sc

    def delete(self, name: str) -> bool:
        with self._locked():
            items = self._read()
            if name not in items:
                return False
            del items[name]
            self._write(items)
        return True

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        from filelock import FileLock, Timeout

        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with FileLock(str(self.lock_path), timeout=self.lock_timeout):
                yield
        except Timeout:
            raise ScenarioError("Szenariodatei wird gerade von einem anderen Vorgang "
                                "geschrieben; bitte gleich noch einmal versuchen") from None

    def _write(self, items: dict[str, Scenario]) -> None:
        doc = {"format": "dorfkarte-scenarios", "version": 1,
               "scenarios": [items[k].to_dict() for k in sorted(items)]}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".scenarios-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, ensure_ascii=False, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def scenario_geojson(scenario: Scenario, result: CoverageResult | None = None) -> dict[str, Any]:
    """The scenario's changes as GeoJSON (added points at their place; removals where the
    removed point was, if ``result`` knows it)."""
    feats = []
    for i, c in enumerate(scenario.changes):
        lon, lat = c.lon, c.lat
        if (lat is None or lon is None) and result is not None and c.ref:
            d = result.destinations.get(c.category)
            if d is not None and len(d):
                try:
                    k = _find_ref(d, c.ref)
                    g = d.geometry.iloc[k]
                    lon, lat = float(g.x), float(g.y)
                except ScenarioError:
                    pass
        geom = {"type": "Point", "coordinates": [lon, lat]} if lat is not None else None
        props = {"order": i + 1, "scenario": scenario.name, **c.to_dict()}
        props.pop("lat", None)
        props.pop("lon", None)
        if scenario.example:
            props["example"] = "Beispieldaten, kein echter Plan"
        feats.append({"type": "Feature", "geometry": geom, "properties": props})
    return {"type": "FeatureCollection", "name": scenario.name, "features": feats}


# ---- the what-if engine ---------------------------------------------------------------------

def _find_ref(dest: gpd.GeoDataFrame, ref: str) -> int:
    """Row of a destination by ref (``#<index>`` addresses a row without a ref)."""
    if ref.startswith("#") and ref[1:].isdigit():
        k = int(ref[1:])
        if 0 <= k < len(dest):
            return k
    refs = dest["ref"].astype(str).to_numpy() if "ref" in dest else np.array([])
    hit = np.flatnonzero(refs == ref)
    if len(hit) == 0:
        raise ScenarioError(f"Einrichtung {ref!r} ist im Datenstand nicht (mehr) vorhanden")
    return int(hit[0])


def dest_ref(dest: gpd.GeoDataFrame, k: int) -> str:
    """The stable reference of destination row ``k`` (its ref, else ``#k``)."""
    r = str(dest["ref"].iloc[k]) if "ref" in dest else ""
    if r and r != "nan" and int((dest["ref"].astype(str) == r).sum()) == 1:
        return r
    return f"#{k}"


@dataclass
class _Saved:
    """What one change overwrote, so :meth:`WhatIf.undo` can put it back."""

    category: str
    n_dest: int
    active: np.ndarray
    times: dict[Pair, np.ndarray]
    nearest: dict[Pair, np.ndarray]
    indicators: pd.DataFrame


@dataclass
class ChangeEffect:
    """Result of one change: how long it took and residents newly covered / losing coverage."""

    change: Change
    ms: float
    gained: dict[str, float]
    lost: dict[str, float]
    note: str = ""


class WhatIf:
    """A coverage result under a list of changes; every change is incremental.

    ``result`` is the base (it is not modified); :attr:`result` is the current state, a
    :class:`~dorfkarte.coverage.CoverageResult` usable everywhere the base is.
    ``when``/``listings`` are needed only for schedule changes (which listings count).
    """

    def __init__(self, result: CoverageResult, *, when: Any = None, listings: Any = None) -> None:
        self.base = result
        self.when = when
        self.listings = listings
        self.changes: list[Change] = []
        self.effects: list[ChangeEffect] = []
        self._undo: list[_Saved] = []
        self._active: dict[str, np.ndarray] = {}
        self._snap: dict[Pair, tuple[np.ndarray, np.ndarray]] = {}
        self.result = replace(result, times=dict(result.times), nearest=dict(result.nearest),
                              destinations=dict(result.destinations))

    # -- state ---------------------------------------------------------------------------

    def pairs(self, category: str) -> list[Pair]:
        """The (category, mode) pairs computed for ``category``."""
        return [k for k in self.result.times if k[0] == category]

    def active(self, category: str) -> np.ndarray:
        """Mask of the category's destinations currently in service."""
        d = self.result.destinations[category]
        a = self._active.get(category)
        if a is None or len(a) != len(d):
            a = np.ones(len(d), dtype=bool) if a is None else np.concatenate(
                [a, np.ones(len(d) - len(a), dtype=bool)])
            self._active[category] = a
        return a

    def destinations(self, category: str) -> gpd.GeoDataFrame:
        """The category's destinations with a ``status`` column (bestehend/neu/entfällt)."""
        d = self.result.destinations[category].copy()
        a = self.active(category)
        new = (d["source"].astype(str) == SCENARIO_SOURCE).to_numpy()
        d["status"] = np.where(~a, "entfällt", np.where(new, "neu", "bestehend"))
        return d

    def _save(self, category: str) -> None:
        pairs = self.pairs(category)
        self._undo.append(_Saved(
            category=category, n_dest=len(self.result.destinations[category]),
            active=self.active(category).copy(),
            times={k: self.result.times[k] for k in pairs},
            nearest={k: self.result.nearest[k] for k in pairs},
            indicators=self.result.indicators))

    def undo(self) -> Change | None:
        """Take back the last change exactly (arrays restored, not recomputed)."""
        if not self._undo:
            return None
        s = self._undo.pop()
        ch = self.changes.pop()
        self.effects.pop()
        d = self.result.destinations[s.category]
        if len(d) != s.n_dest:
            self.result.destinations[s.category] = d.iloc[:s.n_dest].copy()
            for key in [k for k in self._snap if k[0] == s.category]:
                nodes, offs = self._snap[key]
                self._snap[key] = (nodes[:s.n_dest], offs[:s.n_dest])
        self._active[s.category] = s.active
        self.result.times.update(s.times)
        self.result.nearest.update(s.nearest)
        self.result.indicators = s.indicators
        return ch

    def reset(self) -> None:
        """Back to the base result (all changes undone)."""
        while self._undo:
            self.undo()

    # -- geometry helpers ------------------------------------------------------------------

    def _dest_xy(self, category: str) -> np.ndarray:
        return point_xy(self.result.destinations[category], self.result.region.crs)

    def _dest_snap(self, key: Pair, mg: Any) -> tuple[np.ndarray, np.ndarray]:
        d = self.result.destinations[key[0]]
        cached = self._snap.get(key)
        if cached is None or len(cached[0]) != len(d):
            cached = mg.network.snap(self._dest_xy(key[0]))
            self._snap[key] = cached
        return cached

    def _point_times(self, key: Pair, xy: np.ndarray, current: np.ndarray) -> np.ndarray:
        """Times from every origin to one new point (coverage's arithmetic, bounded).

        The search stops at the currently worst time: beyond it nobody can gain.
        """
        mg = self.result.network[key[1]]
        fin = current[np.isfinite(current)]
        lim = np.inf
        if len(fin) == len(current) and len(fin):
            lim = float(fin.max()) * (1 + 1e-9) + 1e-9 * (mg.metres_per_minute
                                                         if mg.unit == "m" else 1.0)
        t, _ = nearest_service(mg, self.result.origin_xy, xy.reshape(1, 2), limit=lim)
        return t

    def _recompute(self, key: Pair, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Times and nearest index for origin ``rows`` from the active destinations."""
        mg = self.result.network[key[1]]
        act = np.flatnonzero(self.active(key[0]))
        snapped = None
        if mg.method == "network":
            nodes, offs = self._dest_snap(key, mg)
            snapped = (nodes[act], offs[act])
        t, j = nearest_service(mg, self.result.origin_xy, self._dest_xy(key[0])[act],
                               rows=rows, snapped=snapped)
        out = np.full(len(j), -1, dtype=np.int64)
        out[j >= 0] = act[j[j >= 0]]  # index among the active ones -> destination row
        return t, out

    # -- changes ---------------------------------------------------------------------------

    def _plain_dest(self, category: str) -> pd.DataFrame:
        """Destination attributes without geometry (indicator code reads names only)."""
        cache = self.__dict__.setdefault("_dest_cache", {})
        d = self.result.destinations[category]
        hit = cache.get(category)
        if hit is None or hit[0] is not d:
            cols = {c: d[c].to_numpy() for c in ("name", "source", "weight", "ref")
                    if c in d.columns}
            hit = (d, pd.DataFrame(cols))
            cache[category] = hit
        return hit[1]

    def _rows(self, key: Pair) -> np.ndarray:
        """Positions of the pair's indicator rows, in the district order of the groups."""
        cache = self.__dict__.setdefault("_row_cache", {})
        if key not in cache:
            ind = self.result.indicators
            pos = np.flatnonzero((ind["category"].to_numpy() == key[0])
                                 & (ind["mode"].to_numpy() == key[1]))
            names = ind["district"].to_numpy()[pos]
            order = pd.Index(names).get_indexer(self.result.districts["name"])
            cache[key] = pos[order]
        return cache[key]

    def _refresh_indicators(self, category: str, before: dict[Pair, tuple[np.ndarray,
                                                                           np.ndarray]]) -> None:
        """Recompute the indicator rows of the districts whose origins changed.

        Uses coverage's own per-district function on the changed districts only (every
        indicator is per district, so the other rows stay valid); the base table is never
        modified.
        """
        res = self.result
        ind = res.indicators
        d = self._plain_dest(category)
        codes_of = res.origin_districts
        data: dict[str, np.ndarray] = {}
        for key in self.pairs(category):
            t, j = res.times[key], res.nearest[key]
            tb, jb = before[key]
            same = (t == tb) | (np.isnan(t) & np.isnan(tb))
            changed = ~same | (j != jb)
            codes = np.unique(codes_of[changed])
            if len(codes) == 0:
                continue
            cols = res.pair_indicators(key, t, j, d, districts=codes)
            rows = self._rows(key)[codes]
            for c in DYNAMIC_COLUMNS:
                v = cols[c]
                if c not in ind.columns:
                    continue
                if c not in data:
                    data[c] = ind[c].to_numpy(copy=True)
                    if data[c].dtype != object and np.asarray(v).dtype == object:
                        data[c] = data[c].astype(object)
                data[c][rows] = v
        if not data:
            return
        new = ind.copy(deep=False)
        for c, arr in data.items():
            old = ind[c].to_numpy()
            if arr.dtype == object or old.dtype == object:
                if all(a == b for a, b in zip(arr, old, strict=True)):
                    continue
                new[c] = pd.array(arr.astype(str), dtype=ind[c].dtype)
            else:
                if np.array_equal(arr, old, equal_nan=True):
                    continue
                new[c] = arr
        res.indicators = new

    def _gain_loss(self, before: dict[Pair, np.ndarray], category: str
                   ) -> tuple[dict[str, float], dict[str, float]]:
        w = self.result.origin_weights
        gained, lost = {}, {}
        for key in self.pairs(category):
            thr = self.result.thresholds[key]
            b, a = before[key] <= thr, self.result.times[key] <= thr
            gained[key[1]] = float(w[a & ~b].sum())
            lost[key[1]] = float(w[b & ~a].sum())
        return gained, lost

    def apply(self, change: Change) -> ChangeEffect:
        """Apply one change incrementally; raises :class:`ScenarioError` naming the problem."""
        t0 = time.perf_counter()
        cat = change.category
        if cat not in self.result.destinations:
            raise ScenarioError(f"Kategorie {cat!r} ist in diesem Ergebnis nicht berechnet")
        action = change.action
        note = ""
        if action == "add" and not change.name:
            change = replace(change, name=f"Neuer Standort {len(self.changes) + 1}")
        work = change
        if action == "schedule":
            work, note = self._schedule_action(change)
            if work is None:
                self._save(cat)
                self.changes.append(change)
                zero = {m: 0.0 for _, m in self.pairs(cat)}
                eff = ChangeEffect(change, (time.perf_counter() - t0) * 1000, zero,
                                   dict(zero), note)
                self.effects.append(eff)
                return eff
            action = work.action
        before = {k: self.result.times[k] for k in self.pairs(cat)}
        before_j = {k: (self.result.times[k], self.result.nearest[k]) for k in self.pairs(cat)}
        if action == "add":
            if work.lat is None or work.lon is None:
                raise ScenarioError("Neuer Standort braucht lat/lon")
            self._save(cat)
            self._add(work)
        elif action == "remove":
            k = _find_ref(self.result.destinations[cat], work.ref)
            if not self.active(cat)[k]:
                raise ScenarioError(f"Einrichtung {work.ref!r} ist schon entfernt")
            self._save(cat)
            self._remove(cat, k)
        else:
            raise ScenarioError(f"Unbekannte Änderung {action!r}")
        self._refresh_indicators(cat, before_j)
        self.changes.append(change)
        gained, lost = self._gain_loss(before, cat)
        eff = ChangeEffect(change, (time.perf_counter() - t0) * 1000, gained, lost, note)
        self.effects.append(eff)
        return eff

    def add(self, category: str, lat: float, lon: float, name: str = "",
            kind: str = "map") -> ChangeEffect:
        """A new service point of ``category`` at ``lat``/``lon`` (EPSG:4326)."""
        return self.apply(Change("add", category, name=name, lat=float(lat), lon=float(lon),
                                 kind=kind))

    def remove(self, category: str, ref: str) -> ChangeEffect:
        """Close the destination ``ref`` (see :func:`dest_ref`)."""
        return self.apply(Change("remove", category, ref=ref))

    def apply_all(self, changes: Sequence[Change]) -> list[ChangeEffect]:
        """Apply a saved scenario's changes in order."""
        return [self.apply(c) for c in changes]

    def _add(self, change: Change) -> None:
        cat = change.category
        d = self.result.destinations[cat]
        pt = shapely.Point(float(change.lon), float(change.lat))
        name = change.name or f"Neuer Standort {len(self.changes) + 1}"
        row = gpd.GeoDataFrame({"name": [name], "category": [cat], "source": [SCENARIO_SOURCE],
                                "ref": [f"szenario-{len(d)}"], "weight": [np.nan]},
                               geometry=[pt], crs="EPSG:4326")
        for c in d.columns:
            if c not in row.columns and c != "geometry":
                row[c] = None
        row = row[list(d.columns)] if len(d.columns) else row
        self.result.destinations[cat] = pd.concat([d, row], ignore_index=True)
        k = len(d)
        self.active(cat)
        xy = point_xy(row, self.result.region.crs)[0]
        for key in self.pairs(cat):
            cur = self.result.times[key]
            if np.isnan(cur).all():  # "keine Daten" so far: the new point is the only one
                cur = np.full(len(cur), np.inf)
            t_new = self._point_times(key, xy, cur)
            better = t_new < cur
            self.result.times[key] = np.where(better, t_new, cur)
            self.result.nearest[key] = np.where(better, k, self.result.nearest[key]).astype(
                np.int64)

    def _remove(self, cat: str, k: int) -> None:
        self.active(cat)[k] = False
        for key in self.pairs(cat):
            near = self.result.nearest[key]
            rows = np.flatnonzero(near == k)
            if len(rows) == 0:
                continue
            t = self.result.times[key].copy()
            j = near.copy()
            t[rows], j[rows] = self._recompute(key, rows)
            self.result.times[key] = t
            self.result.nearest[key] = j

    def _schedule_action(self, change: Change) -> tuple[Change | None, str]:
        """A schedule change as an add/remove at the analysis time ``when`` (or None)."""
        from dorfkarte.listings.schedule import available, check_schedule

        if self.listings is None:
            raise ScenarioError("Zeitplanänderung braucht die Angebotsliste")
        lst = self.listings.read() if hasattr(self.listings, "read") else self.listings
        rows = lst[lst["id"].astype(str) == change.ref] if len(lst) else lst
        if len(rows) == 0:
            raise ScenarioError(f"Angebot {change.ref!r} ist nicht in der Angebotsliste")
        rec = rows.iloc[0]
        try:
            new = check_schedule(change.opening_hours)
        except ValueError as exc:  # ScheduleError (and any parser slip) -> one line
            raise ScenarioError(f"Zeitplan für {change.ref!r}: {exc}") from None
        vf, vt = str(rec.get("valid_from") or ""), str(rec.get("valid_to") or "")
        new_on = available(new, self.when, vf, vt)
        d = self.result.destinations[change.category]
        refs = d["ref"].astype(str).to_numpy() if "ref" in d else np.array([])
        hit = np.flatnonzero((refs == change.ref) & self.active(change.category))
        if hit.size and not new_on:
            return (Change("remove", change.category, ref=dest_ref(d, int(hit[0]))),
                    "Mit dem neuen Zeitplan zur gewählten Zeit nicht da.")
        if not hit.size and new_on:
            g = rec.geometry
            return (Change("add", change.category, name=change.name or str(rec.get("name", "")),
                           lat=float(g.y), lon=float(g.x), kind="listing"),
                    "Mit dem neuen Zeitplan zur gewählten Zeit da.")
        return None, "Zeitplan geändert; zur gewählten Zeit ändert sich die Versorgung nicht."


# ---- before/after ---------------------------------------------------------------------------

DIFF_COLUMNS = ["district", "category", "mode", "population", "share_before", "share_after",
                "share_change", "residents_before", "residents_after", "newly_covered",
                "losing_coverage", "median_before", "median_after", "gap_before", "gap_after",
                "unit", "threshold"]


def compare(before: CoverageResult, after: CoverageResult, category: str,
            mode: str | None = None) -> pd.DataFrame:
    """Per district (and a total row ``Gesamt``): who gains, who loses, share change.

    ``newly_covered`` / ``losing_coverage`` are residents (origin weights) crossing the
    threshold, computed per origin, so gains and losses inside one district both show.
    """
    codes, weights = after.origin_districts, after.origin_weights
    n_units = len(after.districts)
    out = []
    keys = [k for k in after.times if k[0] == category and (mode is None or k[1] == mode)]
    ib = before.indicators.set_index(["category", "mode", "district"])
    ia = after.indicators.set_index(["category", "mode", "district"])
    for key in keys:
        thr = after.thresholds[key]
        tb, ta = before.times[key], after.times[key]
        cb, ca = tb <= thr, ta <= thr
        gain = np.bincount(codes, weights=weights * (ca & ~cb), minlength=n_units)
        loss = np.bincount(codes, weights=weights * (cb & ~ca), minlength=n_units)
        for i, name in enumerate(after.districts["name"]):
            rb, ra = ib.loc[(key[0], key[1], name)], ia.loc[(key[0], key[1], name)]
            out.append({
                "district": name, "category": key[0], "mode": key[1],
                "population": float(ra["population"]),
                "share_before": float(rb["share_within"]), "share_after": float(ra["share_within"]),
                "share_change": float(ra["share_within"]) - float(rb["share_within"]),
                "residents_before": float(rb["residents_within"]),
                "residents_after": float(ra["residents_within"]),
                "newly_covered": float(gain[i]), "losing_coverage": float(loss[i]),
                "median_before": float(rb["median"]), "median_after": float(ra["median"]),
                "gap_before": str(rb["gap_class"]), "gap_after": str(ra["gap_class"]),
                "unit": str(ra["unit"]), "threshold": thr,
            })
    df = pd.DataFrame(out, columns=DIFF_COLUMNS)
    if len(df):
        tot = []
        for m, part in df.groupby("mode", sort=False):
            pop = part["population"].sum(min_count=1)
            rb, ra = part["residents_before"].sum(), part["residents_after"].sum()
            ok = bool(pop) and pop == pop
            sb = rb / pop if ok and part["share_before"].notna().any() else np.nan
            sa = ra / pop if ok and part["share_after"].notna().any() else np.nan
            tot.append({"district": "Gesamt", "category": category, "mode": m,
                        "population": pop, "share_before": sb, "share_after": sa,
                        "share_change": sa - sb if sa == sa and sb == sb else np.nan,
                        "residents_before": rb, "residents_after": ra,
                        "newly_covered": part["newly_covered"].sum(),
                        "losing_coverage": part["losing_coverage"].sum(),
                        "median_before": np.nan, "median_after": np.nan,
                        "gap_before": f"{(part['gap_before'] == 'Lücke').sum()} Lücken",
                        "gap_after": f"{(part['gap_after'] == 'Lücke').sum()} Lücken",
                        "unit": part["unit"].iloc[0], "threshold": part["threshold"].iloc[0]})
        df = pd.concat([df, pd.DataFrame(tot, columns=DIFF_COLUMNS)], ignore_index=True)
    return df


def origin_changes(before: CoverageResult, after: CoverageResult, key: Pair) -> gpd.GeoDataFrame:
    """Origins whose coverage changed: ``status`` gains (+1) or loses (-1), for maps."""
    thr = after.thresholds[key]
    cb, ca = before.times[key] <= thr, after.times[key] <= thr
    st = ca.astype(int) - cb.astype(int)
    o = after.origins.loc[st != 0].copy()
    o["status"] = st[st != 0]
    o["time_before"] = before.times[key][st != 0]
    o["time_after"] = after.times[key][st != 0]
    return o


# ---- candidates and suggestions ----------------------------------------------------------------

def candidate_sites(snapshot: Any, region: Any, *, data_dir: str | Path | None = None,
                    include: Sequence[str] = ("stop", "centre", "anchor"),
                    extra: gpd.GeoDataFrame | None = None,
                    districts: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Candidate sites: bus stops, Ortsteil centres, anchor places, plus ``extra`` points.

    Centres come from the region's centres file, or (no file / ``districts`` given) from a
    point inside each district. Anchors are listings of kind ``anchor`` in the store.
    Columns: name, kind, ref, geometry (EPSG:4326).
    """
    from dorfkarte.snapshot import STOPS

    frames: list[gpd.GeoDataFrame] = []
    if "stop" in include:
        s = snapshot.get(STOPS)
        if s is not None and len(s):
            frames.append(gpd.GeoDataFrame({
                "name": s["name"].astype(str).to_numpy(), "kind": "stop",
                "ref": s["stop_id"].astype(str).to_numpy() if "stop_id" in s else ""},
                geometry=s.to_crs("EPSG:4326").geometry.to_numpy(), crs="EPSG:4326"))
    if "centre" in include:
        if districts is None and region.districts.centres_file is not None:
            from dorfkarte.districts import read_centres

            c = read_centres(region)
            frames.append(gpd.GeoDataFrame({
                "name": c["name"].astype(str).to_numpy(), "kind": "centre",
                "ref": ["centre:" + str(n) for n in c["name"]]},
                geometry=gpd.points_from_xy(c["lon"], c["lat"]), crs="EPSG:4326"))
        else:
            d = districts if districts is not None else snapshot.get("districts")
            if d is not None and len(d):
                pts = d.to_crs(region.crs).geometry.representative_point().to_crs("EPSG:4326")
                frames.append(gpd.GeoDataFrame({
                    "name": d["name"].astype(str).to_numpy(), "kind": "centre",
                    "ref": ["centre:" + str(n) for n in d["name"]]},
                    geometry=pts.to_numpy(), crs="EPSG:4326"))
    if "anchor" in include and data_dir is not None:
        # a broken listing store is reported by the listings panel; here it adds no anchors
        with contextlib.suppress(ImportError, DorfkarteError):
            from dorfkarte.listings.store import ListingStore

            store = ListingStore(data_dir)
            if store.exists():
                lst = store.read()
                a = lst[lst["kind"].astype(str) == "anchor"] if len(lst) else lst
                a = a[~(a.geometry.isna() | a.geometry.is_empty)] if len(a) else a
                if len(a):
                    frames.append(gpd.GeoDataFrame({
                        "name": a["name"].astype(str).to_numpy(), "kind": "anchor",
                        "ref": a["id"].astype(str).to_numpy()},
                        geometry=a.to_crs("EPSG:4326").geometry.to_numpy(), crs="EPSG:4326"))
    if extra is not None and len(extra):
        e = extra.to_crs("EPSG:4326")
        frames.append(gpd.GeoDataFrame({
            "name": e["name"].astype(str).to_numpy() if "name" in e else
            [f"Punkt {i + 1}" for i in range(len(e))],
            "kind": e["kind"].astype(str).to_numpy() if "kind" in e else "user",
            "ref": e["ref"].astype(str).to_numpy() if "ref" in e else
            [f"user:{i}" for i in range(len(e))]},
            geometry=e.geometry.to_numpy(), crs="EPSG:4326"))
    if not frames:
        return gpd.GeoDataFrame({"name": [], "kind": [], "ref": []},
                                geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                           crs="EPSG:4326")
    ok = ~(out.geometry.isna() | out.geometry.is_empty)
    return out[ok.to_numpy()].reset_index(drop=True)


def candidate_times(result: CoverageResult, mode: str, candidates: gpd.GeoDataFrame,
                    limit: float = np.inf, chunk: int = 64) -> np.ndarray:
    """Origins x candidates times (coverage's own arithmetic), in chunks to bound memory."""
    from dorfkarte.coverage import times_from_points

    n_o = len(result.origin_xy)
    out = np.empty((n_o, len(candidates)))
    for s in range(0, len(candidates), chunk):
        part = candidates.iloc[s:s + chunk]
        out[:, s:s + len(part)] = times_from_points(result, mode, part, limit=limit).T
    return out


@dataclass
class Suggestion:
    """k suggested sites with the coverage each adds, and how it was found."""

    category: str
    mode: str
    method: str
    sites: pd.DataFrame  # rank, name, kind, ref, lat, lon, gain, cumulative, share_after
    solution: siting.SitingSolution
    greedy: siting.SitingSolution | None
    demand_total: float  # residents of the region (weights)
    uncovered_before: float  # residents beyond the threshold before
    threshold: float
    unit: str
    seconds: float
    notes: list[str] = field(default_factory=list)

    def changes(self) -> list[Change]:
        """The suggestion as scenario changes (added points)."""
        return [Change("add", self.category, name=str(r["name"]), lat=float(r["lat"]),
                       lon=float(r["lon"]), kind="suggestion:" + str(r["kind"]))
                for _, r in self.sites.iterrows()]


def suggest(result: CoverageResult, category: str, mode: str = "walk", k: int = 5, *,
            method: str = "exact", candidates: gpd.GeoDataFrame | None = None,
            snapshot: Any = None, data_dir: str | Path | None = None,
            time_limit: float = siting.DEFAULT_TIME_LIMIT) -> Suggestion:
    """The k best new sites for a category: MCLP (exact/greedy) or p-median.

    Existing providers (as in ``result``, e.g. a :class:`WhatIf` state) already cover:
    only residents beyond the threshold are demand for MCLP. ``candidates`` default to
    :func:`candidate_sites` of ``snapshot``.
    """
    t0 = time.perf_counter()
    if method not in METHODS:
        raise ScenarioError(f"Unbekannte Methode {method!r}; erlaubt: {', '.join(METHODS)}")
    key = (category, mode)
    if key not in result.times:
        raise ScenarioError(f"Keine Ergebnisse für {category!r} im Modus {mode!r}")
    if candidates is None:
        if snapshot is None:
            raise ScenarioError("Kandidaten fehlen (weder Punkte noch Datenstand angegeben)")
        candidates = candidate_sites(snapshot, result.region, data_dir=data_dir)
    if len(candidates) == 0:
        raise ScenarioError("Keine Kandidatenstandorte (Haltestellen, Ortsmitten, Ankerorte)")
    if k > len(candidates):
        raise ScenarioError(f"k = {k} ist größer als die Zahl der Kandidaten ({len(candidates)})")
    thr = float(result.thresholds[key])
    w = np.asarray(result.origin_weights, dtype=float)
    cur = np.asarray(result.times[key], dtype=float)
    cur = np.where(np.isnan(cur), np.inf, cur)
    unit = "m" if mode == "transit" else "min"
    notes: list[str] = []
    if np.isnan(np.asarray(result.times[key], dtype=float)).all():
        notes.append("Keine Einrichtungen dieser Kategorie im Datenstand: die Vorschläge "
                     "nehmen an, dass es keine gibt (erst Daten prüfen).")
    greedy = None
    if method in ("exact", "greedy"):
        cost = candidate_times(result, mode, candidates, limit=thr)
        demand = siting.uncovered_weights(w, cur, thr)
        cover = cost <= thr
        sol, greedy = siting.mclp(cover, demand, k, method=method, time_limit=time_limit)
        gains = sol.gains
    else:
        cost = candidate_times(result, mode, candidates)
        mg = result.network[mode]
        if mg.method == "network":
            # exact aggregation: origins on one node differ only by their own offset
            off = mg.origin_offset * (mg.metres_per_minute if unit == "m" else 1.0)
            nodes, first, inv = np.unique(mg.origin_node, return_index=True,
                                          return_inverse=True)
            agg_w = np.bincount(inv, weights=w, minlength=len(nodes))
            agg_cost = cost[first] - off[first][:, None]
            agg_cur = cur[first] - off[first]
        else:
            agg_w, agg_cost, agg_cur = w, cost, cur
        sol = siting.exact_pmedian(agg_cost, agg_w, k, agg_cur, time_limit=time_limit)
        gains = sol.gains
        greedy = siting.greedy_pmedian(agg_cost, agg_w, k, agg_cur)
        greedy.gap = siting.pmedian_gap(sol.objective, greedy.objective)
    sel = sol.selected
    pts = candidates.iloc[sel].to_crs("EPSG:4326")
    total = float(w.sum())
    uncovered = float(w[~(cur <= thr)].sum())
    covered_after = total - uncovered
    cum, share = [], []
    acc = 0.0
    best = cur.copy()
    for j in sel:
        best = np.minimum(best, cost[:, j])
        if method == "pmedian":
            covered_after = float(w[best <= thr].sum())
        else:
            acc += gains[len(cum)]
            covered_after = total - uncovered + acc
        cum.append(covered_after - (total - uncovered))
        share.append(covered_after / total if total else np.nan)
    sites = pd.DataFrame({
        "rank": np.arange(1, len(sel) + 1),
        "name": pts["name"].astype(str).to_numpy(),
        "kind": pts["kind"].astype(str).to_numpy() if "kind" in pts else "user",
        "ref": pts["ref"].astype(str).to_numpy() if "ref" in pts else "",
        "lat": pts.geometry.y.to_numpy(), "lon": pts.geometry.x.to_numpy(),
        "gain": gains,
        "cumulative": cum,
        "share_after": share,
    })
    if method == "pmedian":
        sites = sites.rename(columns={"gain": "time_saved"})
        sites["cumulative"] = cum  # residents within threshold gained, for comparison
    notes.extend(sol.notes)
    return Suggestion(category, mode, method, sites, sol, greedy, total, uncovered, thr, unit,
                      time.perf_counter() - t0, notes)


# ---- mobile service stops ---------------------------------------------------------------------

def mobile_stops(result: CoverageResult, category: str, candidates: gpd.GeoDataFrame, *,
                 budget_min: float, stop_min: float, mode: str = "walk",
                 travel: bool = True, threshold: float | None = None) -> pd.DataFrame:
    """Stops for a mobile service with a weekly time budget, by residents per minute.

    Each step picks the candidate with the most residents newly within ``threshold``
    (default: the category's, for ``mode``) per minute it costs: ``stop_min`` plus, if
    ``travel`` and a car network exists, the drive from the nearest stop already chosen
    (a rough tour estimate, not a route plan). Stops while the budget lasts.
    """
    key = (category, mode)
    if key not in result.times:
        raise ScenarioError(f"Keine Ergebnisse für {category!r} im Modus {mode!r}")
    if budget_min <= 0 or stop_min <= 0:
        raise ScenarioError("Zeitbudget und Haltedauer müssen positiv sein (Minuten)")
    if len(candidates) == 0:
        raise ScenarioError("Keine Kandidaten für Halte")
    thr = float(threshold if threshold is not None else result.thresholds[key])
    w = np.asarray(result.origin_weights, dtype=float)
    cur = np.asarray(result.times[key], dtype=float)
    demand = siting.uncovered_weights(w, np.where(np.isnan(cur), np.inf, cur), thr)
    cover = candidate_times(result, mode, candidates, limit=thr) <= thr
    drive = _drive_matrix(result, candidates) if travel else None
    chosen: list[int] = []
    rows = []
    used = 0.0
    left = demand.copy()
    open_ = np.ones(len(candidates), dtype=bool)
    while True:
        gain = cover.T.dot(left)
        trav = np.zeros(len(candidates)) if drive is None or not chosen else \
            drive[chosen].min(axis=0)
        cost = stop_min + np.where(np.isfinite(trav), trav, np.inf)
        fits = open_ & (used + cost <= budget_min) & (gain > 0)
        if not fits.any():
            break
        rate = np.where(fits, gain / cost, -1.0)
        j = int(np.argmax(rate))
        used += float(cost[j])
        chosen.append(j)
        open_[j] = False
        left = np.where(cover[:, j], 0.0, left)
        g = candidates.geometry.iloc[j]
        rows.append({"rank": len(chosen), "name": str(candidates["name"].iloc[j]),
                     "kind": str(candidates["kind"].iloc[j]) if "kind" in candidates else "",
                     "newly_covered": float(gain[j]), "minutes": float(cost[j]),
                     "travel_min": float(trav[j]), "per_minute": float(rate[j]),
                     "minutes_used": used, "lat": float(g.y), "lon": float(g.x)})
    df = pd.DataFrame(rows, columns=["rank", "name", "kind", "newly_covered", "minutes",
                                     "travel_min", "per_minute", "minutes_used", "lat", "lon"])
    df["cumulative"] = df["newly_covered"].cumsum()
    return df


def _drive_matrix(result: CoverageResult, candidates: gpd.GeoDataFrame) -> np.ndarray | None:
    """Car minutes between candidates (on the car network), None without one."""
    mg = result.network.get("drive")
    if mg is None:
        return None
    return travel_matrix(mg, point_xy(candidates.to_crs("EPSG:4326"), result.region.crs))


def bench_figures(result: CoverageResult, snapshot: Any, region: Any) -> dict[str, float]:
    """``whatif_ms`` and ``suggest_k5_s`` (see :mod:`dorfkarte.bench_scenario`)."""
    from dorfkarte.bench_scenario import bench_figures as _bench

    return _bench(result, snapshot, region)


__all__ = [
    "ACTIONS", "CANDIDATE_KINDS", "DIFF_COLUMNS", "METHODS", "Change", "ChangeEffect",
    "Scenario", "ScenarioError", "ScenarioStore", "Suggestion", "WhatIf", "bench_figures",
    "candidate_sites", "candidate_times", "compare", "dest_ref", "mobile_stops",
    "origin_changes", "scenario_geojson", "suggest",
]
