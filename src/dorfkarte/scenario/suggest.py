"""Where best: candidate sites, k new sites by location models, stops of a mobile service.

:func:`suggest` answers "where should k new points go" with the location models of
:mod:`dorfkarte.siting` (exact MCLP via spopt + HiGHS, greedy with its gap, p-median) on
the candidates x origins times of :func:`dorfkarte.coverage.times_from_points`;
:func:`mobile_stops` ranks stops of a mobile service by residents newly reached per minute.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from dorfkarte import siting
from dorfkarte.coverage import CoverageResult, ModeGraph, times_from_points, travel_matrix
from dorfkarte.districts import read_centres
from dorfkarte.enums import Mode
from dorfkarte.errors import DorfkarteError
from dorfkarte.listings.store import ListingStore
from dorfkarte.network import network_for, point_xy, straight_line_kmh
from dorfkarte.region import Region
from dorfkarte.scenario.changes import Change, ScenarioError
from dorfkarte.snapshot import STOPS, Snapshot

#: Kinds of candidate sites, with German labels.
CANDIDATE_KINDS = {"stop": "Haltestelle", "centre": "Ortsmitte", "anchor": "Ankerort",
                   "user": "eigener Punkt", "map": "Kartenpunkt"}
METHODS = ("exact", "greedy", "pmedian")


def candidate_sites(snapshot: Snapshot, region: Region, *, data_dir: str | Path | None = None,
                    include: Sequence[str] = ("stop", "centre", "anchor"),
                    extra: gpd.GeoDataFrame | None = None,
                    districts: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Candidate sites: bus stops, Ortsteil centres, anchor places, plus ``extra`` points.

    Centres come from the region's centres file, or (no file / ``districts`` given) from a
    point inside each district. Anchors are listings of kind ``anchor`` in the store.
    Columns: name, kind, ref, geometry (EPSG:4326).
    """
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
        with contextlib.suppress(DorfkarteError):
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
    #: what the weights count: "Einwohner" where every unit's population is known,
    #: "Wohnorte" where none is (each home counts once), else both (see :func:`demand_label`)
    demand: str = "Einwohner"
    #: sites the optimiser chose that would add nobody (dropped from ``sites``)
    dropped: int = 0

    def changes(self) -> list[Change]:
        """The suggestion as scenario changes (added points)."""
        return [Change("add", self.category, name=str(r["name"]), lat=float(r["lat"]),
                       lon=float(r["lon"]), kind="suggestion:" + str(r["kind"]))
                for _, r in self.sites.iterrows()]


def suggest(result: CoverageResult, category: str, mode: str = Mode.WALK.value, k: int = 5, *,
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
    unit = "m" if mode == Mode.TRANSIT else "min"
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
    # a site that adds no resident within the threshold (MCLP) / saves no time (p-median)
    # is no proposal: say that k sites would add nothing instead of listing it
    gain_col = "time_saved" if method == "pmedian" else "gain"
    useless = ~(sites[gain_col].to_numpy(dtype=float) > 1e-9)
    dropped = int(useless.sum())
    if dropped:
        sites = sites[~useless].reset_index(drop=True)
        sites["rank"] = np.arange(1, len(sites) + 1)
        what = demand_label(result, category, mode)
        if len(sites) == 0:
            notes.append(f"Kein Standort würde {what} zusätzlich erreichen: {k} neue "
                         "Standorte brächten nichts (alle erreichbaren sind schon versorgt).")
        else:
            notes.append(f"Nur {len(sites)} von {k} Standorten erreichen zusätzliche {what}; "
                         f"{dropped} weitere brächten nichts und werden nicht vorgeschlagen.")
    demand = demand_label(result, category, mode)
    if demand != "Einwohner":
        notes.append("Einwohnerzahl nicht für alle Ortsteile bekannt: dort zählt jeder "
                     "Wohnort einmal, die Zahlen sind daher „" + demand + "“, keine Einwohner.")
    return Suggestion(category, mode, method, sites, sol, greedy, total, uncovered, thr, unit,
                      time.perf_counter() - t0, notes, demand=demand, dropped=dropped)


def demand_label(result: CoverageResult, category: str, mode: str, lang: str = "de") -> str:
    """What suggestion figures count: residents, homes (unknown population), or both."""
    ind = result.indicators
    rows = ind[(ind["category"] == category) & (ind["mode"] == mode)]
    if "weighted" not in rows or not len(rows):
        weighted = np.array([True])
    else:
        weighted = rows.loc[rows["n_origins"] > 0, "weighted"].astype(bool).to_numpy()
    if weighted.all():
        return "residents" if lang == "en" else "Einwohner"
    if not weighted.any():
        return "homes (residents unknown)" if lang == "en" else "Wohnorte (Einwohner unbekannt)"
    return ("residents or homes (where residents are unknown)" if lang == "en"
            else "Einwohner bzw. Wohnorte (wo Einwohner unbekannt)")


# ---- mobile service stops ---------------------------------------------------------------------

#: How :func:`mobile_stops` timed the drive between two stops (column ``travel_method``).
TRAVEL_METHODS: tuple[str, ...] = ("network", "straight_line", "none")


def mobile_stops(result: CoverageResult, category: str, candidates: gpd.GeoDataFrame, *,
                 budget_min: float, stop_min: float, mode: str = Mode.WALK.value,
                 travel: bool = True, threshold: float | None = None,
                 snapshot: Snapshot | None = None) -> pd.DataFrame:
    """Stops for a mobile service with a weekly time budget, by residents per minute.

    Each step picks the candidate with the most residents newly within ``threshold``
    (default: the category's, for ``mode``) per minute it costs: ``stop_min`` plus the drive
    from the stop before it (so the rows are a route in order; the way to the first stop is
    not counted). The drive is timed on the car network (the result's, else ``snapshot``'s),
    else as straight line x the region's detour factor at its straight-line car speed, the
    same fallback the analysis uses; a pair the network does not connect (or connects in
    0 min) falls back to the straight line, so two different stops are never 0 min apart.
    Column ``travel_method`` (:data:`TRAVEL_METHODS`) says which per row (``none`` for the
    first); ``attrs`` hold ``travel`` (the route's method) and ``detour_factor`` /
    ``drive_kmh`` of the fallback (:func:`~dorfkarte.scenario.summary.route_travel_note`).
    ``travel=False`` counts stop time only ("none": for comparisons; the app and CLI always
    count the drive).
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
    if travel:
        drive, how = stop_travel(result, candidates, snapshot=snapshot)
    else:
        drive = np.zeros((len(candidates), len(candidates)))
        how = np.full((len(candidates), len(candidates)), "none", dtype=object)
    chosen: list[int] = []
    rows = []
    used = 0.0
    left = demand.copy()
    open_ = np.ones(len(candidates), dtype=bool)
    while True:
        gain = cover.T.dot(left)
        trav = np.zeros(len(candidates)) if not chosen else drive[chosen[-1]]
        cost = stop_min + np.where(np.isfinite(trav), trav, np.inf)
        fits = open_ & (used + cost <= budget_min) & (gain > 0)
        if not fits.any():
            break
        rate = np.where(fits, gain / cost, -1.0)
        j = int(np.argmax(rate))
        used += float(cost[j])
        method = "none" if not chosen else str(how[chosen[-1], j])
        chosen.append(j)
        open_[j] = False
        left = np.where(cover[:, j], 0.0, left)
        g = candidates.geometry.iloc[j]
        rows.append({"rank": len(chosen), "name": str(candidates["name"].iloc[j]),
                     "kind": str(candidates["kind"].iloc[j]) if "kind" in candidates else "",
                     "newly_covered": float(gain[j]), "minutes": float(cost[j]),
                     "travel_min": float(trav[j]), "travel_method": method,
                     "per_minute": float(rate[j]), "minutes_used": used,
                     "lat": float(g.y), "lon": float(g.x)})
    df = pd.DataFrame(rows, columns=["rank", "name", "kind", "newly_covered", "minutes",
                                     "travel_min", "travel_method", "per_minute",
                                     "minutes_used", "lat", "lon"])
    df["cumulative"] = df["newly_covered"].cumsum()
    overall = "none" if not travel else (
        "network" if (how == "network").any() else "straight_line")
    df.attrs.update(travel=overall, detour_factor=float(result.region.modes.detour_factor),
                    drive_kmh=float(straight_line_kmh(Mode.DRIVE, result.region)))
    return df


def stop_travel(result: CoverageResult, candidates: gpd.GeoDataFrame, *,
                snapshot: Snapshot | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Car minutes between candidates and how each was timed (``network``/``straight_line``).

    The result's car network, else the snapshot's; without one (or for a pair it leaves
    unconnected or at 0 min), straight-line metres x ``region.modes.detour_factor`` at
    :func:`~dorfkarte.network.straight_line_kmh` (the analysis' own fallback). Diagonal 0.
    """
    region = result.region
    xy = point_xy(candidates.to_crs("EPSG:4326"), region.crs)
    straight = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    kmh = straight_line_kmh(Mode.DRIVE, region)
    line = straight * region.modes.detour_factor / (kmh * 1000.0 / 60.0)
    net_min = None
    mg = result.network.get(Mode.DRIVE)
    if mg is not None and mg.method == "network":
        net_min = travel_matrix(mg, xy)
    elif snapshot is not None:
        net = network_for(snapshot, Mode.DRIVE.value, region)
        if net is not None:
            net_min = travel_matrix(ModeGraph(Mode.DRIVE.value, "network", net, None, None,
                                              net.snap_kmh, 1.0, "min"), xy)
    how = np.full(line.shape, "straight_line", dtype=object)
    if net_min is None:
        return line, how
    distinct = straight > 0
    usable = np.isfinite(net_min) & ((net_min > 0) | ~distinct)
    how[usable] = "network"
    out = np.where(usable, net_min, line)
    np.fill_diagonal(out, 0.0)
    return out, how
