"""The conference demo's narrative, computed in the library: steps, figures, the scenario.

Overview -> one category's gaps -> one Ortsteil's profile -> a what-if scenario. The story
follows the data, it never invents gaps: where the chosen Ortsteil has residents beyond the
threshold it gets one example service, placed by a one-site maximal-covering choice
(:func:`dorfkarte.siting.greedy_mclp`; for a single site the greedy pick is the optimum)
over its own homes, else at its village centre. Where everybody is within reach (the
embedded data: every Ortsteil has a stop within 1,000 m) the scenario shows what closing
the service the Ortsteil relies on would cost. Categories without data stay "keine Daten"
(any scenario would invent facts). Every scenario is labelled as example data.

``dorfkarte.ui.demo`` only renders these objects; the order of Ortsteile is
:func:`dorfkarte.views.ranking`, the same as the overview's, the profile's and the
headline's.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd

from dorfkarte import fmt, siting, views
from dorfkarte.coverage import CoverageResult, times_from_points
from dorfkarte.districts import read_centres
from dorfkarte.enums import GapClass, Mode, Source
from dorfkarte.errors import DorfkarteError
from dorfkarte.i18n import category_label, gap_label, join_list, mode_label, t
from dorfkarte.region import Region
from dorfkarte.scenario import WhatIf, compare, dest_ref
from dorfkarte.snapshot import STOPS, Snapshot

#: The four steps, in order (labels: ``i18n`` key ``demo_steps``).
STEPS: tuple[str, ...] = ("overview", "gaps", "profile", "scenario")
#: Homes tried as sites for the example service of the "add" scenario.
MAX_CANDIDATES = 120


# --------------------------------------------------------------------------- choices


def demo_mode(result: CoverageResult, category: str, mode: str) -> str:
    """ÖPNV-Nähe for transit categories, else ``mode`` if the pair exists.

    For stops the story is the BBSR rule (a served stop within 1,000 m), where the stops'
    service weight counts; walking minutes to any pole would hide that.
    """
    modes = [m for (c, m) in result.times if c == category]
    if Mode.TRANSIT in modes:
        return Mode.TRANSIT.value
    if mode in modes:
        return mode
    return modes[0] if modes else mode


def has_data(result: CoverageResult, category: str) -> bool:
    """Whether the category has any service point in the data (else all "keine Daten")."""
    return category in views.categories_with_data(result)


def no_data_categories(result: CoverageResult) -> list[str]:
    """Categories without any service point in the data (not gaps: missing data)."""
    have = set(views.categories_with_data(result))
    return [c for c in result.categories if c not in have]


def pick_category(result: CoverageResult, category: str | None, mode: str) -> str:
    """The app's category if it has data, else the one with most gaps (the story's point).

    The automatic choice skips the central-place test (``source = "places"``): its list of
    places holds only what a plan could be cited for, so its "gaps" partly mirror places
    left out, not a missing service; a planner opens it on purpose, the story does not.
    """
    with_data = views.categories_with_data(result)
    if category in with_data:
        return str(category)
    services = [c for c in with_data if result.region.category(c).source != Source.PLACES]
    best, best_n = None, -1
    for cid in services or with_data:
        n = int(views.gap_counts(result, demo_mode(result, cid, mode)).get(cid, 0))
        if n > best_n:
            best, best_n = cid, n
    return best or (category or result.categories[0])


def focus_ranking(result: CoverageResult, category: str, mode: str) -> pd.DataFrame:
    """The demo's order of Ortsteile: :func:`dorfkarte.views.ranking` (worst first; when
    all are within reach, the least served nearest stop first)."""
    return views.ranking(result, category, mode)


def unserved_stops(snapshot: Snapshot, region: Region) -> int:
    """Stops in the data that do not count as served (weight below the minimum or none)."""
    stops = snapshot.get(STOPS)
    if stops is None or not len(stops) or "weight" not in stops:
        return 0
    w = pd.to_numeric(stops["weight"], errors="coerce")
    return int((w.isna() | (w < region.transit.min_weight)).sum())


def scenario_kind(result: CoverageResult, category: str, mode: str, name: str) -> str:
    """``add`` where the Ortsteil has residents beyond the threshold (a gap to close),
    ``remove`` where all are within reach (show what a closure would cost), ``nodata``
    where the category has no data at all (any scenario would invent facts)."""
    rows = views.ranking(result, category, mode).set_index("district")
    if name not in rows.index or rows.at[name, "gap_class"] == GapClass.NO_DATA:
        return "nodata"
    share = float(rows.at[name, "share_within"])
    return "add" if not math.isfinite(share) or share < 1.0 else "remove"


# --------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class StepMap:
    """What a step's map shows: the result, view and unit its text speaks of (one object,
    so text and map cannot drift apart)."""

    result: CoverageResult
    category: str | None
    mode: str
    indicator: str = "share_within"
    highlight: str | None = None
    extra_points: gpd.GeoDataFrame | None = None
    #: replaces the loaded snapshot (a closure without the closed stop)
    snapshot: Snapshot | None = None
    #: names such a variant (cache key)
    tag: str = ""


def _count(n: int, kind: str, lang: str) -> str:
    return t(f"demo_n_{kind}_1", lang) if n == 1 else t(f"demo_n_{kind}e", lang,
                                                        n=fmt.integer(n, lang))


@dataclass(frozen=True)
class OverviewStep:
    """Step 1: the region at a glance."""

    n_units: int
    population: float
    #: units without a published population (the sum above leaves them out)
    population_missing: list[str]
    mode: str
    n_gaps: int
    n_services: int
    map: StepMap
    #: of ``n_units``, the Kernorte (the rest are Ortsteile)
    n_kernorte: int = 0

    def units_text(self, lang: str = "de") -> str:
        """"27 Ortsteile + 2 Kernorte", counted from the data, in the page's language."""
        return units_text(self.n_units, self.n_kernorte, lang)


def units_text(n_units: int, n_kernorte: int, lang: str = "de") -> str:
    """"27 Ortsteile + 2 Kernorte" (``n_units`` includes the Kernorte)."""
    parts = [_count(n_units - n_kernorte, "ortsteil", lang)]
    if n_kernorte:
        parts.append(_count(n_kernorte, "kernort", lang))
    return " + ".join(parts)


def overview(result: CoverageResult, mode: str) -> OverviewStep:
    """Units, residents, gaps over all categories (network mode), services in the data."""
    d = result.districts
    pops = pd.to_numeric(d["population"], errors="coerce")
    net = mode if mode != Mode.TRANSIT else Mode.WALK.value
    kinds = d["kind"].astype(str) if "kind" in d else pd.Series([], dtype=str)
    return OverviewStep(
        n_units=len(d), population=float(np.nansum(pops)),
        population_missing=[str(n) for n in d.loc[pops.isna(), "name"]], mode=net,
        n_gaps=int(views.gap_counts(result, net).sum()),
        n_services=sum(len(g) for g in result.destinations.values()),
        map=StepMap(result, None, net), n_kernorte=int((kinds == "kernort").sum()))


@dataclass(frozen=True)
class GapsStep:
    """Step 2: one category's gaps, or (none) what differs instead."""

    category: str
    mode: str
    ranking: pd.DataFrame
    n_gap: int
    has_data: bool
    #: units with some residents beyond the threshold although none has a gap
    n_beyond: int
    transit: bool
    #: map indicator: the share where there are gaps, else the median trip
    indicator: str
    #: listing-only category (OSM not searched): units served by a listing, units unknown
    local_only: bool = False
    n_served: int = 0
    n_unknown: int = 0
    map: StepMap | None = None

    @property
    def worst(self) -> list[str]:
        """The five worst-served units of the view (its map's order)."""
        return [str(x) for x in self.ranking["district"].head(5)]

    def text_args(self, region: Region, lang: str = "de") -> dict[str, str]:
        """Category, mode, threshold and counts as the step's texts print them: taken from
        the step's own map result and view."""
        thr = self.map.result.thresholds.get((self.category, self.mode)) if self.map else None
        return {"cat": category_label(region.category(self.category), lang),
                "mode": mode_label(self.mode, lang),
                "thr": fmt.threshold(thr, "m" if self.mode == Mode.TRANSIT else "min", lang),
                "n": fmt.integer(self.n_gap, lang),
                "total": fmt.integer(len(self.ranking), lang)}

    def head(self, region: Region, lang: str = "de") -> str:
        """The step's headline: what its map shows, with the same figures."""
        args = self.text_args(region, lang)
        if not self.has_data:
            return t("demo_nodata_gaps", lang, cat=args["cat"])
        if self.local_only:
            return t("demo_local_only_head", lang, cat=args["cat"])
        return t("demo_gaps_head" if self.n_gap else "demo_gaps_none", lang, **args)

    def worst_text(self, lang: str = "de") -> str:
        """"Am schlechtesten versorgt: A, B und C"."""
        return f"{t('demo_worst', lang)}: {join_list(self.worst, lang)}"

    def service_table(self, n: int = 6) -> pd.DataFrame:
        """The Ortsteile whose nearest served stop is served least (machine columns)."""
        w = self.ranking["nearest_weight"].astype(float).fillna(np.inf)
        return self.ranking.assign(_w=w).sort_values("_w", kind="stable").head(n).drop(
            columns="_w")

    def longest(self, n: int = 6) -> pd.DataFrame:
        """The Ortsteile with the longest median trip."""
        r = self.ranking
        return r.assign(_m=r["median"].astype(float)).sort_values(
            "_m", ascending=False).head(n).drop(columns="_m")


def gaps(result: CoverageResult, region: Region, category: str, mode: str) -> GapsStep:
    rank = views.ranking(result, category, mode)
    n_gap = int((rank["gap_class"] == GapClass.GAP).sum())
    data = has_data(result, category)
    local = category in result.local_only
    indicator = "gap_class" if local else ("share_within" if (n_gap or not data) else "median")
    return GapsStep(
        category=category, mode=mode, ranking=rank, n_gap=n_gap, has_data=data,
        n_beyond=int((rank["share_within"].astype(float) < 1.0).sum()),
        transit=region.category(category).source == Source.TRANSIT,
        indicator=indicator, local_only=local,
        n_served=int((rank["gap_class"] == GapClass.OK).sum()),
        n_unknown=int((rank["gap_class"] == GapClass.LOCAL_ONLY).sum()),
        map=StepMap(result, category, mode, indicator))


def category_options(result: CoverageResult) -> list[str]:
    """Categories the demo offers: those with rows in the result (data or not)."""
    return [c for c in result.categories if (result.indicators["category"] == c).any()]


def focus_names(result: CoverageResult, category: str, mode: str) -> list[str]:
    """The Ortsteile to choose from, worst-served first (the first is the default)."""
    return [str(x) for x in focus_ranking(result, category, mode)["district"]]


@dataclass(frozen=True)
class ProfileStep:
    """Step 3: one Ortsteil, every category; its map highlights that Ortsteil."""

    name: str
    population: float
    kernort: bool
    rows: pd.DataFrame
    map: StepMap

    def table(self, region: Region, lang: str = "de") -> pd.DataFrame:
        """The Ortsteil's rows for people: one per category (plus ÖPNV-Nähe), labelled."""
        sub = self.rows
        labels = [category_label(region.category(c), lang)
                  + (f" ({mode_label(m, lang)})" if m == Mode.TRANSIT else "")
                  for c, m in zip(sub["category"], sub["mode"], strict=True)]
        return pd.DataFrame({
            t("demo_col_cat", lang): labels,
            t("demo_col_median", lang): [fmt.value(v, str(u), lang) for v, u in zip(
                sub["median"], sub["unit"], strict=True)],
            t("demo_col_share", lang): [fmt.share(v, lang) if math.isfinite(v) else fmt.DASH
                                        for v in sub["share_within"].astype(float)],
            t("demo_col_class", lang): [gap_label(g, lang) for g in sub["gap_class"]],
            t("demo_col_nearest", lang): sub["nearest_name"].fillna("").astype(str).to_numpy(),
        }).set_index(t("demo_col_cat", lang))

    def head(self, lang: str = "de") -> str:
        kind = t("demo_kernort" if self.kernort else "demo_ortsteil", lang)
        if not math.isfinite(self.population):  # no figure: unknown, not "–" or 0
            return t("demo_profile_head_unknown", lang, name=self.name, kind=kind)
        return t("demo_profile_head", lang, name=self.name,
                 pop=fmt.integer(self.population, lang), kind=kind)


def profile(result: CoverageResult, category: str, mode: str, name: str, app_mode: str
            ) -> ProfileStep:
    """The Ortsteil's figures and the map of ``category``/``mode`` with it highlighted."""
    row = result.districts.set_index("name").loc[name]
    pop = pd.to_numeric(pd.Series([row.get("population")]), errors="coerce").iloc[0]
    return ProfileStep(name=name, population=float(pop), kernort=bool(row.get("kind") == "kernort"),
                       rows=profile_rows(result, name, mode, app_mode),
                       map=StepMap(result, category, mode, highlight=name))


def profile_rows(result: CoverageResult, name: str, mode: str, app_mode: str
                 ) -> pd.DataFrame:
    """Step 3: the Ortsteil's rows, every category in a network mode plus ÖPNV-Nähe."""
    ind = result.indicators
    net = mode if mode != Mode.TRANSIT else (app_mode if app_mode != Mode.TRANSIT
                                             else Mode.WALK.value)
    here = ind["district"] == name
    sub = ind[here & ((ind["mode"] == net) | (ind["mode"] == Mode.TRANSIT))]
    if sub.empty:
        sub = ind[here & (ind["mode"] == mode)]
    return sub


# --------------------------------------------------------------------------- scenario


def closure_target(result: CoverageResult, category: str, mode: str, name: str) -> int | None:
    """Row in ``result.destinations[category]`` of the service most of the Ortsteil relies
    on (nearest for the largest share of its residents), None when none is reachable."""
    near = np.asarray(result.nearest[(category, mode)])
    o = result.origins
    mask = (o["district"].astype(str) == name).to_numpy() & (near >= 0)
    if not mask.any():
        return None
    w = pd.to_numeric(o["population"], errors="coerce").to_numpy(dtype=float)[mask]
    w = np.where(np.isfinite(w) & (w > 0), w, 1.0)
    return int(np.argmax(np.bincount(near[mask], weights=w)))


def centre_of(result: CoverageResult, region: Region, name: str) -> gpd.GeoDataFrame:
    """Where the Ortsteil's example service goes: its village centre (EPSG:4326).

    In order: the ``centre`` origin (approximate areas), the centre from the region's
    centres file when it lies in the area, the home closest to the residents' weighted mean
    position (where the village is, not the middle of its fields), a point on the area.
    """
    o = result.origins
    mine = o[o["district"].astype(str) == name]
    hit = mine[mine["kind"] == "centre"] if "kind" in mine else mine.iloc[0:0]
    d = result.districts
    area = d.loc[d["name"].astype(str) == name]
    geom = hit.geometry.iloc[0] if len(hit) else None
    if geom is None and region.districts.centres_file is not None and len(area):
        try:
            c = read_centres(region)
        except DorfkarteError:
            c = None
        if c is not None:
            row = c[c["name"].astype(str) == name]
            if len(row):
                pt = gpd.GeoSeries(gpd.points_from_xy(row["lon"], row["lat"]),
                                   crs="EPSG:4326").to_crs(area.crs).iloc[0]
                if area.geometry.iloc[0].covers(pt):
                    geom = gpd.GeoSeries([pt], crs=area.crs).to_crs(o.crs).iloc[0]
    if geom is None and len(mine):
        xy = result.origin_xy[(o["district"].astype(str) == name).to_numpy()]
        w = pd.to_numeric(mine["population"], errors="coerce").to_numpy(dtype=float)
        w = np.where(np.isfinite(w) & (w > 0), w, 1.0)
        mean = (xy * w[:, None]).sum(axis=0) / w.sum()
        geom = mine.geometry.iloc[int(np.argmin(((xy - mean) ** 2).sum(axis=1)))]
    if geom is None:
        geom = area.to_crs(o.crs).geometry.representative_point().iloc[0]
    return gpd.GeoDataFrame({"name": [name]}, geometry=[geom], crs=o.crs).to_crs("EPSG:4326")


def best_site(result: CoverageResult, category: str, mode: str, name: str,
              max_candidates: int = MAX_CANDIDATES) -> gpd.GeoDataFrame | None:
    """The Ortsteil's own home from which a new service would newly reach the most of its
    residents now beyond the threshold: a one-site MCLP (:mod:`dorfkarte.siting`).

    None when no home gains anyone (e.g. homes cut off from the street network): then the
    village centre is used. At most ``max_candidates`` evenly spread homes are tried, with
    bounded searches (``limit`` = threshold), so this stays well under a second.
    """
    o = result.origins
    idx = np.flatnonzero((o["district"].astype(str) == name).to_numpy())
    if not len(idx) or (category, mode) not in result.times:
        return None
    thr = float(result.thresholds[(category, mode)])
    cur = np.asarray(result.times[(category, mode)], dtype=float)[idx]
    w = np.asarray(result.origin_weights, dtype=float)[idx]
    need = np.where(cur <= thr, 0.0, w)  # NaN/inf: not covered
    if not need.any():
        return None
    pick = idx[np.unique(np.linspace(0, len(idx) - 1, min(len(idx), max_candidates))
                         .round().astype(int))]
    cand = o.iloc[pick][["geometry"]].reset_index(drop=True)
    # unit origins x candidates
    times = times_from_points(result, mode, cand, limit=thr).T[idx]
    sol = siting.greedy_mclp(times <= thr, need, 1)  # one site: the greedy pick is optimal
    j = sol.selected[0]
    if sol.objective <= 0:
        return None
    return gpd.GeoDataFrame({"name": [name]}, geometry=[cand.geometry.iloc[j]],
                            crs=o.crs).to_crs("EPSG:4326")


def scenario_points(result: CoverageResult, region: Region, category: str, name: str,
                    mode: str | None = None, lang: str = "de") -> gpd.GeoDataFrame:
    """One example service point in the Ortsteil (labelled as example data): where it
    reaches the most residents now beyond the threshold, else at the village centre.
    Column ``placed`` says which (``best`` / ``centre``)."""
    pt = best_site(result, category, mode, name) if mode is not None else None
    placed = "best" if pt is not None else "centre"
    if pt is None:
        pt = centre_of(result, region, name)
    label = t("demo_scenario_point", lang,
              cat=category_label(region.category(category), lang))
    return gpd.GeoDataFrame(
        {"name": [label], "category": [category], "source": [Source.SCENARIO.value],
         "ref": ["demo"], "example": [True], "placed": [placed]},
        geometry=pt.geometry.to_numpy(), crs="EPSG:4326",
    )


@dataclass(frozen=True)
class AddScenario:
    """Before/after of one extra example service in the Ortsteil."""

    points: gpd.GeoDataFrame
    after: CoverageResult
    ms: float
    share_before: float
    share_after: float
    gaps_before: int
    gaps_after: int
    gain: float
    placed: str
    total_ms: float
    map: StepMap | None = None


def run_scenario(result: CoverageResult, region: Region, category: str, mode: str,
                 name: str, lang: str = "de") -> AddScenario:
    """Before/after for one extra example point, as an incremental what-if (milliseconds).

    :class:`dorfkarte.scenario.WhatIf` changes only the affected category on the shown
    result, so the app's listings and slider thresholds count in both states.
    """
    t0 = time.perf_counter()
    pts = scenario_points(result, region, category, name, mode, lang)
    pt = pts.geometry.iloc[0]
    wi = WhatIf(result)
    effect = wi.add(category, lat=pt.y, lon=pt.x, name=str(pts["name"].iloc[0]),
                    kind="centre")
    after = wi.result
    before_rows = views.ranking(result, category, mode).set_index("district")
    after_rows = views.ranking(after, category, mode).set_index("district")

    def served(rows: pd.DataFrame) -> float:
        return float(np.nansum(rows["residents_within"].to_numpy(dtype=float)))

    return AddScenario(
        points=pts, after=after, ms=effect.ms,
        share_before=float(before_rows.at[name, "share_within"]),
        share_after=float(after_rows.at[name, "share_within"]),
        gaps_before=int((before_rows["gap_class"] == GapClass.GAP).sum()),
        gaps_after=int((after_rows["gap_class"] == GapClass.GAP).sum()),
        gain=served(after_rows) - served(before_rows),
        placed=str(pts["placed"].iloc[0]),
        total_ms=(time.perf_counter() - t0) * 1000,
        map=StepMap(after, category, mode, highlight=name, extra_points=pts, tag="add"),
    )


@dataclass(frozen=True)
class Closure:
    """Before/after when the service the Ortsteil relies on closes."""

    stop: str
    ref: str
    weight: float
    after: CoverageResult
    #: ``after`` without the closed service among the points (for the map)
    display: CoverageResult
    #: the snapshot without the closed stop (transit categories), for the map
    snapshot: Snapshot
    points: gpd.GeoDataFrame
    ms: float
    lost: float
    lost_here: float
    losers: list[tuple[str, float]]
    median_before: float
    median_after: float
    next_after: str
    unit: str
    gaps_before: int
    gaps_after: int
    share_before: float
    share_after: float
    total_ms: float
    map: StepMap | None = None

    def losers_text(self, lang: str = "de") -> str:
        """"Verlieren den Zugang: A (12) und B (3)", or that nobody does."""
        if not self.losers:
            return t("demo_losers_none", lang)
        return t("demo_losers", lang, items=join_list(
            [f"{d} ({fmt.integer(v, lang)})" for d, v in self.losers], lang))


def run_closure(result: CoverageResult, snapshot: Snapshot, region: Region, category: str,
                mode: str, name: str, lang: str = "de") -> Closure | None:
    """Before/after when the service the Ortsteil relies on closes (incremental what-if).

    Only the origins whose nearest service it was are recomputed; ``compare`` gives who
    loses access per Ortsteil. None when the Ortsteil reaches no service at all.
    """
    t0 = time.perf_counter()
    k = closure_target(result, category, mode, name)
    if k is None:
        return None
    dest = result.destinations[category]
    ref = dest_ref(dest, k)
    stop = str(dest["name"].iloc[k])
    wi = WhatIf(result)
    effect = wi.remove(category, ref)
    after = wi.result
    diff = compare(result, after, category, mode)
    per = diff[diff["district"] != "Gesamt"].set_index("district")
    total = diff[diff["district"] == "Gesamt"]
    losers = per[per["losing_coverage"] > 0].sort_values("losing_coverage", ascending=False)
    before_row = views.ranking(result, category, mode).set_index("district").loc[name]
    after_row = views.ranking(after, category, mode).set_index("district").loc[name]
    # for the map: the closed service is gone from the points (and from the stops layer)
    shown = after.destinations[category][wi.active(category)]
    display = replace(after, destinations={**after.destinations, category: shown})
    snap = snapshot
    stops = snap.get(STOPS)
    if region.category(category).source == Source.TRANSIT and stops is not None \
            and "stop_id" in stops:
        kept = stops[stops["stop_id"].astype(str) != str(dest["ref"].iloc[k])]
        snap = replace(snap, layers={**snap.layers, STOPS: kept})
    pts = gpd.GeoDataFrame(
        {"name": [t("demo_closure_point", lang, stop=stop)], "category": [category],
         "source": [Source.SCENARIO.value], "ref": ["demo"], "example": [True]},
        geometry=[dest.geometry.iloc[k]], crs=dest.crs).to_crs("EPSG:4326")
    weight = dest["weight"].iloc[k] if "weight" in dest else np.nan
    return Closure(
        stop=stop, ref=ref, weight=float(weight) if weight is not None else np.nan,
        after=after, display=display, snapshot=snap, points=pts, ms=effect.ms,
        lost=float(total["losing_coverage"].iloc[0]) if len(total) else 0.0,
        lost_here=float(per.at[name, "losing_coverage"]),
        losers=[(str(d), float(v)) for d, v in losers["losing_coverage"].items()],
        median_before=float(before_row["median"]),
        median_after=float(after_row["median"]),
        next_after=str(after_row["nearest_name"] or ""),
        unit=str(after_row["unit"]),
        gaps_before=int((per["gap_before"] == GapClass.GAP).sum()),
        gaps_after=int((per["gap_after"] == GapClass.GAP).sum()),
        share_before=float(before_row["share_within"]),
        share_after=float(after_row["share_within"]),
        total_ms=(time.perf_counter() - t0) * 1000,
        map=StepMap(display, category, mode, highlight=name, extra_points=pts, snapshot=snap,
                    tag=f"closed:{ref}"),
    )
