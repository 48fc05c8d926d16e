"""The what-if engine: a coverage result under a list of changes, every change incremental.

A :class:`WhatIf` holds a coverage result and changes it one service point at a time,
recomputing only the affected category, incrementally:

- **adding** a point costs one shortest-path search per mode from the new point (bounded
  by the currently worst time: beyond it nobody can gain), then an element-wise minimum;
- **removing** a point recomputes only the origins whose nearest provider it was (one
  multi-source search from the remaining providers of that category);
- **undo** restores the arrays saved before the change, so removing and taking it back
  gives the original results bit for bit.

Times come from :func:`dorfkarte.coverage.nearest_service`, the analysis' own arithmetic
(virtual source edge for the snapping time, then the origin's own offset), so a point
removed and added again at the same place also reproduces the original times exactly.
Indicators come from :meth:`~dorfkarte.coverage.CoverageResult.pair_indicators` for the
changed districts only. :func:`compare` and :func:`origin_changes` put two results side
by side.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dorfkarte.coverage import CoverageResult, nearest_service
from dorfkarte.enums import GapClass, SiteStatus, Source
from dorfkarte.listings.schedule import available, check_schedule
from dorfkarte.network import point_xy
from dorfkarte.scenario.changes import Change, ScenarioError, _find_ref, dest_ref

#: Indicator columns that depend on the service points (the rest is fixed per district).
DYNAMIC_COLUMNS = ("median", "p90", "max", "share_within", "residents_within", "gap_class",
                   "nearest_name", "nearest_source", "nearest_weight", "unreachable_share")
#: ``source`` of a point a scenario adds: the enum's value (``"scenario"``), as the demo's
#: points and every map/sheet expect; kept as a name for importers
SCENARIO_SOURCE: str = Source.SCENARIO.value
#: ``district`` of the total row of :func:`compare` (one per mode)
TOTAL_ROW = "Gesamt"

Pair = tuple[str, str]


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
        """The category's destinations with a ``status`` column (:class:`SiteStatus`)."""
        d = self.result.destinations[category].copy()
        a = self.active(category)
        new = (d["source"].astype(str) == SCENARIO_SOURCE).to_numpy()
        d["status"] = np.where(~a, SiteStatus.CLOSED.value,
                               np.where(new, SiteStatus.NEW.value, SiteStatus.EXISTING.value))
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
                "unit", "threshold", "gaps_before", "gaps_after"]


def compare(before: CoverageResult, after: CoverageResult, category: str,
            mode: str | None = None) -> pd.DataFrame:
    """Per district (and a :data:`TOTAL_ROW` per mode): who gains, who loses, share change.

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
                "gaps_before": np.nan, "gaps_after": np.nan,  # counted in the total row
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
            tot.append({"district": TOTAL_ROW, "category": category, "mode": m,
                        "population": pop, "share_before": sb, "share_after": sa,
                        "share_change": sa - sb if sa == sa and sb == sb else np.nan,
                        "residents_before": rb, "residents_after": ra,
                        "newly_covered": part["newly_covered"].sum(),
                        "losing_coverage": part["losing_coverage"].sum(),
                        "median_before": np.nan, "median_after": np.nan,
                        "gap_before": "", "gap_after": "",  # no class: the counts
                        "unit": part["unit"].iloc[0], "threshold": part["threshold"].iloc[0],
                        "gaps_before": int((part["gap_before"] == GapClass.GAP).sum()),
                        "gaps_after": int((part["gap_after"] == GapClass.GAP).sum())})
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
