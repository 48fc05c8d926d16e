"""Coverage: travel time from every home to the nearest service, and gaps per Ortsteil.

One multi-source shortest-path search per category and mode (all service points of the
category are sources at once; their own snapping time enters as a virtual edge), over the
*reverse* street graph, gives every home its time to the nearest service and which service
that is. Indicators per Ortsteil x category x mode are then cheap array statistics, so a
threshold slider only recomputes those (:meth:`CoverageResult.with_thresholds`).

Without a street network (embedded data only) times are straight-line distance x the
region's detour factor / speed and marked ``method = "straight_line"``. A category with no
service point at all in the data gets ``gap_class = "keine Daten"`` and NaN times: "no GP
anywhere" would be an invented fact when the data simply has no GP layer yet.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from dorfkarte.enums import GapClass, Mode, Source
from dorfkarte.errors import DataError, DorfkarteError
from dorfkarte.network import Network, network_for, point_xy, straight_line_kmh
from dorfkarte.origins import build_origins, districts_of
from dorfkarte.region import MODE_LABELS, MODES, NETWORK_MODES, TRANSIT, Region, Threshold
from dorfkarte.snapshot import AMENITIES, DATA_GAP, STOPS, Snapshot

NO_DATA = GapClass.NO_DATA
LOCAL_ONLY = GapClass.LOCAL_ONLY
#: Indicator columns that say nothing for a "nur lokale Angebote" unit (NaN there).
LOCAL_UNKNOWN_COLUMNS = ("median", "p90", "max", "share_within", "residents_within",
                         "unreachable_share")
GAP_CLASSES = tuple(GapClass)
DEST_COLUMNS = ["name", "category", "source", "ref", "weight"]
INDICATOR_COLUMNS = [
    "district", "municipality", "kind", "category", "category_label", "mode", "population",
    "n_origins", "median", "p90", "max", "unit", "threshold", "share_within",
    "residents_within", "gap_class", "nearest_name", "nearest_source", "nearest_weight",
    "unreachable_share", "method", "weighted", "data_edge",
]

Pair = tuple[str, str]
#: Extra indicator columns of mode ``pt`` rows (NaN elsewhere), see dorfkarte.pt.
PT_COLUMNS = ["pt_best_median", "pt_departures_per_day", "roundtrip_share", "timetable"]
#: With central-place categories: the plan designating the nearest place (dorfkarte.central).
EXTRA_COLUMNS = [*PT_COLUMNS, "central_place_source"]


class UnknownModeError(DorfkarteError, ValueError):
    """A mode name that is not walk/bike/drive/transit."""


@dataclass
class ModeGraph:
    """What a what-if needs to add service points to one mode without a full re-run.

    ``network`` is None for straight-line modes. ``origin_node`` / ``origin_offset`` are
    each origin's snapped node and the minutes from the origin to it. For ``transit`` the
    walk network is used and times are converted to metres (``metres_per_minute``).
    """

    mode: str
    method: str  # "network" | "straight_line"
    network: Network | None
    origin_node: np.ndarray | None
    origin_offset: np.ndarray | None
    speed_kmh: float
    detour_factor: float
    unit: str  # "min" | "m"
    #: mode ``pt``: the timetable run (``dorfkarte.pt.PTRun``) its times come from
    pt: Any = None

    @property
    def metres_per_minute(self) -> float:
        return self.speed_kmh * 1000.0 / 60.0


@dataclass
class CoverageResult:
    """Times per origin and indicators per district x category x mode (see ARCHITECTURE.md)."""

    region: Region
    districts: gpd.GeoDataFrame
    origins: gpd.GeoDataFrame
    origin_xy: np.ndarray
    destinations: dict[str, gpd.GeoDataFrame]
    times: dict[Pair, np.ndarray]
    nearest: dict[Pair, np.ndarray]
    methods: dict[Pair, str]
    thresholds: dict[Pair, float]
    network: dict[str, ModeGraph]
    indicators: pd.DataFrame
    categories: list[str]
    modes: list[str]
    notes: list[str] = field(default_factory=list)
    _groups: _Groups | None = field(default=None, repr=False)
    #: Whose residents weigh the indicators: ``all``, ``65plus`` or ``under18``.
    group: str = "all"
    #: mode ``pt``: the timetable analysis (``dorfkarte.pt.PTAnalysis``) or None
    pt: Any = None

    @property
    def local_only(self) -> frozenset[str]:
        """Categories whose service points are local listings (or planned sites) only.

        OSM was not searched for them (no snapshot, or built before the category existed):
        units no listing serves are ``GapClass.LOCAL_ONLY``, not gaps.
        """
        unsearched = self._groups.local_only if self._groups is not None else frozenset()
        return frozenset(c for c in unsearched
                         if c in self.destinations and len(self.destinations[c]))

    @property
    def data_edge_units(self) -> frozenset[str]:
        """Units at the data's edge: the extract does not cover their surroundings.

        Their gaps may come from the cut, not from the services (column ``data_edge``;
        computed once by :func:`analyse` from the snapshot's ``data_gap`` layer).
        """
        d = self.districts
        if d is None or "data_edge" not in d:
            return frozenset()
        return frozenset(d.loc[d["data_edge"].astype(bool), "name"].astype(str))

    @property
    def pairs(self) -> list[Pair]:
        return list(self.times)

    def unit(self, mode: str) -> str:
        return "m" if mode == TRANSIT else "min"

    @property
    def origin_weights(self) -> np.ndarray:
        """Residents each origin stands for: the weights of every share and gain.

        1.0 for each origin of a district whose population is unknown (or 0): there every
        home counts once (``weighted = False`` in the indicators).
        """
        assert self._groups is not None
        return self._groups.weights

    @property
    def origin_districts(self) -> np.ndarray:
        """Row of ``districts`` that each origin belongs to (int array, one per origin)."""
        assert self._groups is not None
        return self._groups.codes

    def pair_indicators(self, key: Pair, times: np.ndarray, nearest: np.ndarray,
                        destinations: pd.DataFrame,
                        districts: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Indicator columns of one pair computed from other per-origin times.

        What a what-if needs to refresh only the districts whose homes changed:
        ``districts`` are row indices into :attr:`districts` (default all), ``times`` /
        ``nearest`` cover *all* origins (as in :attr:`times`), ``destinations`` are the
        pair's service points (``name, source, weight``; what ``nearest`` indexes).
        Returns ``{column: array}`` with one entry per requested district, in that order,
        computed exactly as :func:`analyse` does.
        """
        g = self._groups
        assert g is not None
        if districts is None:
            return _pair_frame(g, self.region, key, times, nearest, destinations,
                               self.methods[key], self.thresholds[key])
        codes = np.asarray(districts, dtype=np.int64)
        sel = np.isin(g.codes, codes)
        remap = np.full(g.n, -1, dtype=np.int64)
        remap[codes] = np.arange(len(codes))
        sub = _Groups(codes=remap[g.codes[sel]], weights=g.weights[sel],
                      districts=g.plain_districts().iloc[codes].reset_index(drop=True),
                      local_only=g.local_only)
        return _pair_frame(sub, self.region, key, times[sel], nearest[sel], destinations,
                           self.methods[key], self.thresholds[key])

    def with_thresholds(self, changes: Mapping[Pair, float]) -> CoverageResult:
        """A copy with other thresholds; only threshold-dependent columns are recomputed."""
        thr = dict(self.thresholds)
        for key, val in changes.items():
            if key not in self.times:
                raise DorfkarteError(f"Keine Ergebnisse für Kategorie/Modus {key!r}")
            v = float(val)
            if not v > 0:
                raise DorfkarteError(f"Schwelle für {key!r} muss positiv sein, nicht {val!r}")
            thr[key] = v
        ind = self.indicators.reset_index(drop=True).copy()
        g = self._groups
        assert g is not None
        cat_col, mode_col = ind["category"].to_numpy(), ind["mode"].to_numpy()
        row_of = {n: k for k, n in enumerate(g.districts["name"])}
        for key in changes:
            rows = np.flatnonzero((cat_col == key[0]) & (mode_col == key[1]))
            code = np.array([row_of[n] for n in ind["district"].to_numpy()[rows]], dtype=int)
            ind.loc[rows, "threshold"] = thr[key]
            if key[0] in g.local_only:
                # the masked columns depend on the class: rebuild the pair's rows
                cols = _pair_frame(g, self.region, key, self.times[key], self.nearest[key],
                                   self.destinations[key[0]], self.methods[key], thr[key])
                ind.loc[rows, "gap_class"] = np.asarray(cols["gap_class"]).astype(str)[code]
                for c in LOCAL_UNKNOWN_COLUMNS:
                    ind.loc[rows, c] = np.asarray(cols[c], dtype=float)[code]
                continue
            live = rows[(ind["gap_class"].to_numpy()[rows] != NO_DATA)]
            if len(live) == 0:
                continue
            share = g.shares(self.times[key], thr[key])[code]
            share = share[np.isin(rows, live)]
            pop = ind.loc[live, "population"].to_numpy(dtype=float)
            ind.loc[live, "share_within"] = share
            ind.loc[live, "residents_within"] = np.where(np.isfinite(pop), share * pop, np.nan)
            ind.loc[live, "gap_class"] = [self.region.gap_classes.classify(float(x))
                                          for x in share]
        return replace(self, thresholds=thr, indicators=ind)

    def for_group(self, group: str) -> CoverageResult:
        """Indicators for residents 65+ / under 18 / all (see :func:`for_group`)."""
        return for_group(self, group)

    def table(self) -> pd.DataFrame:
        """Indicators without internal columns (what exports write)."""
        extra = [c for c in EXTRA_COLUMNS if c in self.indicators]  # pt / central places
        return self.indicators[INDICATOR_COLUMNS + extra].copy()


# ---- destinations -------------------------------------------------------------------

def _point_geoms(gdf: gpd.GeoDataFrame, crs: str) -> np.ndarray:
    """Point geometries in ``crs`` (areas at a point on their surface)."""
    xy = point_xy(gdf, crs)
    return gpd.points_from_xy(xy[:, 0], xy[:, 1]) if len(xy) else np.array([], dtype=object)


def _empty_dest(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: pd.Series(dtype=float if c == "weight" else object)
                             for c in DEST_COLUMNS}, geometry=gpd.GeoSeries([], crs=crs))


def _validate_extra(extra: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if extra.crs is None:
        raise DataError("Zusätzliche Angebote haben kein Koordinatensystem")
    for col in ("name", "category"):
        if col not in extra.columns:
            raise DataError(f"Zusätzliche Angebote: Spalte '{col}' fehlt")
    bad = extra.geometry.isna() | extra.geometry.is_empty
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"Zusätzliche Angebote, Zeile {row + 1} "
                        f"({extra['name'].iloc[row]!r}): keine Lage (Geometrie fehlt)")
    return extra


def destinations_for(snapshot: Snapshot, region: Region, category: str,
                     extra: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Service points of one category: OSM amenities, extra (listings), or served stops.

    Polygons count at a point on their surface. Points outside the region are kept on
    purpose: the snapshot is fetched with a buffer so that services just across the border
    count.
    """
    cat = region.category(category)
    frames: list[gpd.GeoDataFrame] = []
    if cat.source == Source.PLACES:  # central places named in the region file
        from dorfkarte import central

        frames.append(central.destinations(region, category))
    elif cat.source == Source.TRANSIT:
        stops = snapshot.get(STOPS)
        if stops is not None and len(stops):
            w = pd.to_numeric(stops.get("weight"), errors="coerce").to_numpy(dtype=float)
            served = w >= region.transit.min_weight if region.transit.min_weight > 0 \
                else np.ones(len(stops), dtype=bool)
            s = stops[served]
            frames.append(gpd.GeoDataFrame({
                "name": s["name"].astype(str).to_numpy(),
                "category": category,
                "source": Source.TRANSIT,
                "ref": s["stop_id"].astype(str).to_numpy() if "stop_id" in s else "",
                "weight": w[served],
            }, geometry=_point_geoms(s, "EPSG:4326"), crs="EPSG:4326"))
    else:
        am = snapshot.get(AMENITIES)
        if am is not None and len(am) and "category" in am:
            cats = am["category"].astype(str).str.split(";")
            hit = cats.map(lambda cs: category in [c.strip() for c in cs])
            a = am[hit.to_numpy()]
            if len(a):
                frames.append(gpd.GeoDataFrame({
                    "name": a["name"].fillna("").astype(str).to_numpy() if "name" in a else "",
                    "category": category,
                    "source": a["source"].fillna(Source.OSM).astype(str).to_numpy()
                    if "source" in a else Source.OSM,
                    "ref": a["osm_id"].astype(str).to_numpy() if "osm_id" in a else "",
                    "weight": np.nan,
                }, geometry=_point_geoms(a, "EPSG:4326"), crs="EPSG:4326"))
    if extra is not None and len(extra):
        e = extra[extra["category"].astype(str) == category]
        if len(e):
            more = {c: e[c].to_numpy() for c in e.columns
                    if c not in (*DEST_COLUMNS, e.geometry.name)}  # e.g. example, kind
            frames.append(gpd.GeoDataFrame({
                **more,
                "name": e["name"].fillna("").astype(str).to_numpy(),
                "category": category,
                "source": e["source"].fillna(Source.LISTING).astype(str).to_numpy()
                if "source" in e else Source.LISTING,
                "ref": e["ref"].fillna("").astype(str).to_numpy() if "ref" in e else "",
                "weight": pd.to_numeric(e["weight"], errors="coerce").to_numpy(dtype=float)
                if "weight" in e else np.nan,
            }, geometry=_point_geoms(e, "EPSG:4326"), crs="EPSG:4326"))
    if not frames:
        return _empty_dest()
    out = pd.concat(frames, ignore_index=True)
    cols = DEST_COLUMNS + [c for c in out.columns if c not in DEST_COLUMNS and c != "geometry"]
    return gpd.GeoDataFrame(out[[*cols, "geometry"]], geometry="geometry", crs="EPSG:4326")


# ---- travel times ---------------------------------------------------------------------

def _xy(gdf: gpd.GeoDataFrame, crs: str) -> np.ndarray:
    return point_xy(gdf, crs)


def nearest_service(mg: ModeGraph, origin_xy: np.ndarray, dest_xy: np.ndarray, *,
                    rows: np.ndarray | None = None,
                    snapped: tuple[np.ndarray, np.ndarray] | None = None,
                    limit: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Time from origins to the nearest of ``dest_xy``, and that point's index (-1: none).

    The one arithmetic of every coverage time, public so that a what-if reproduces the
    analysis exactly: on a network one multi-source Dijkstra over the reverse graph with a
    virtual source per point whose edge carries the point's snap time, then the origin's
    own offset; without one the straight line x detour factor at the mode's speed.

    Parameters
    ----------
    mg
        The mode's graph (``result.network[mode]``).
    origin_xy, dest_xy
        Positions in ``region.crs`` (n x 2, metres); ``origin_xy`` is ``result.origin_xy``.
    rows
        Only these origins (indices; default all): a removal recomputes only the homes
        whose nearest provider closed.
    snapped
        ``mg.network.snap(dest_xy)`` if the caller already has it (cached per category).
    limit
        Search bound in the mode's unit: beyond it a time is ``inf`` and the index -1.

    Returns
    -------
    times, nearest
        Minutes (metres for ``transit``) and index into ``dest_xy`` per origin of ``rows``.
    """
    sel = slice(None) if rows is None else rows
    n_out = len(origin_xy) if rows is None else len(rows)
    if len(dest_xy) == 0:
        return np.full(n_out, np.inf), np.full(n_out, -1, dtype=np.int64)
    if mg.mode == Mode.PT and mg.pt is not None:  # by timetable, not by street
        from dorfkarte import pt as pt_mode

        return pt_mode.nearest_service(mg.pt, origin_xy[sel], dest_xy, limit)
    to_min = 1.0 / mg.metres_per_minute if mg.unit == "m" else 1.0
    if mg.method == "network":
        net = mg.network
        assert net is not None and mg.origin_node is not None and mg.origin_offset is not None
        dnode, doff = net.snap(dest_xy) if snapped is None else snapped
        g = net.with_sources(dnode, doff)
        n = net.n_nodes
        dist, _, src = dijkstra(g, directed=True, indices=n + np.arange(len(dnode)),
                                return_predecessors=True, min_only=True,
                                limit=limit * to_min)
        on = mg.origin_node[sel]
        t = dist[on] + mg.origin_offset[sel]
        s = src[on]
        nearest = np.where(s >= n, s - n, -1).astype(np.int64)
        t[nearest < 0] = np.inf
    else:
        d, j = cKDTree(dest_xy).query(origin_xy[sel], k=1)
        t = d * mg.detour_factor / mg.metres_per_minute
        nearest = j.astype(np.int64)
        if math.isfinite(limit):
            far = t > limit * to_min
            t[far], nearest[far] = np.inf, -1
    if mg.unit == "m":
        t = t * mg.metres_per_minute
    return t, nearest


def travel_matrix(mg: ModeGraph, xy: np.ndarray) -> np.ndarray | None:
    """Minutes between every pair of points on the mode's network (snap time at both ends).

    ``None`` for a straight-line mode (no network to route on). Diagonal 0. Used for the
    rough tour estimate of a mobile service (drive between chosen stops).
    """
    if mg.method != "network" or mg.network is None:
        return None
    net = mg.network
    nodes, offs = net.snap(xy)
    uniq, inv = np.unique(nodes, return_inverse=True)
    dist = dijkstra(net.graph, directed=True, indices=uniq)[:, uniq]
    out = dist[inv][:, inv] + offs[:, None] + offs[None, :]
    np.fill_diagonal(out, 0.0)
    return out


def _mode_graph(snapshot: Snapshot, region: Region, mode: str,
                origin_xy: np.ndarray) -> ModeGraph:
    net_mode = Mode.WALK.value if mode in (TRANSIT, Mode.PT) else mode
    net = network_for(snapshot, net_mode, region)
    unit = "m" if mode == TRANSIT else "min"
    if net is None:
        # Transit: straight-line metres as the BBSR 1,000 m rule defines them (no detour).
        detour = 1.0 if mode == TRANSIT else region.modes.detour_factor
        speed = region.modes.walk_kmh if mode in (TRANSIT, Mode.PT) \
            else straight_line_kmh(mode, region)
        return ModeGraph(mode, "straight_line", None, None, None, speed, detour, unit)
    node, off = net.snap(origin_xy)
    return ModeGraph(mode, "network", net, node, off, net.snap_kmh, 1.0, unit)


def times_from_points(result: CoverageResult, mode: str, points: gpd.GeoDataFrame,
                      limit: float = np.inf) -> np.ndarray:
    """Time (minutes; metres for ``transit``) from every origin to each of ``points``.

    Shape ``(n_points, n_origins)``; ``inf`` where unreachable (or beyond ``limit``, in
    the mode's unit). One search per distinct snapped node over the reverse graph, so a
    what-if with a new service point costs one Dijkstra, not a full analysis.
    """
    if mode not in result.network:
        raise UnknownModeError(f"Modus {mode!r} wurde nicht berechnet")
    if mode == Mode.PT:
        from dorfkarte import pt as pt_mode

        return pt_mode.times_from_points(result, points, limit)
    mg = result.network[mode]
    if points.crs is None:
        raise DataError("Punkte ohne Koordinatensystem")
    pxy = point_xy(points, result.region.crs)
    n_o = len(result.origin_xy)
    if len(pxy) == 0:
        return np.zeros((0, n_o))
    if mg.method == "straight_line":
        d = np.hypot(pxy[:, None, 0] - result.origin_xy[None, :, 0],
                     pxy[:, None, 1] - result.origin_xy[None, :, 1])
        out = d * mg.detour_factor if mg.unit == "m" else \
            d * mg.detour_factor / mg.metres_per_minute
    else:
        net = mg.network
        assert net is not None and mg.origin_node is not None and mg.origin_offset is not None
        nodes, offs = net.snap(pxy)
        uniq, inv = np.unique(nodes, return_inverse=True)
        lim = limit / mg.metres_per_minute if mg.unit == "m" else limit
        dist = dijkstra(net.graph, directed=True, indices=uniq, limit=lim)
        out = dist[inv][:, mg.origin_node] + offs[:, None] + mg.origin_offset[None, :]
        if mg.unit == "m":
            out = out * mg.metres_per_minute
    if math.isfinite(limit):
        out[out > limit] = np.inf
    return out


# ---- indicators ----------------------------------------------------------------------

def weighted_quantile(t: np.ndarray, w: np.ndarray, q: float) -> float:
    """Smallest time within which at least share ``q`` of the weight arrives."""
    order = np.argsort(t, kind="stable")
    cw = np.cumsum(w[order])
    if cw[-1] <= 0:
        return float("nan")
    k = int(np.searchsorted(cw, q * cw[-1] - 1e-9 * cw[-1], side="left"))
    return float(t[order][min(k, len(t) - 1)])


@dataclass
class _Groups:
    """Origins grouped by district, shared by all pairs (codes, weights, district columns)."""

    codes: np.ndarray  # district index per origin
    weights: np.ndarray  # population per origin, 1.0 where unknown
    districts: gpd.GeoDataFrame
    #: categories with local listings only (see CoverageResult.local_only); kept here so
    #: every caller of _pair_frame (what-if included) classifies them the same way
    local_only: frozenset[str] = frozenset()

    _plain: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return len(self.districts)

    def plain_districts(self) -> pd.DataFrame:
        """The district attributes without geometry (cached: indicator code reads columns)."""
        if self._plain is None:
            self._plain = pd.DataFrame({c: self.districts[c].to_numpy()
                                        for c in self.districts.columns if c != "geometry"})
        return self._plain

    def shares(self, t: np.ndarray, thr: float) -> np.ndarray:
        """Weighted share of each district's origins with ``t <= thr`` (NaN without origins)."""
        total = np.bincount(self.codes, weights=self.weights, minlength=self.n)
        hit = np.bincount(self.codes, weights=self.weights * (t <= thr), minlength=self.n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return hit / total


def _make_groups(districts: gpd.GeoDataFrame, origins: gpd.GeoDataFrame,
                 pop: np.ndarray) -> _Groups:
    """Origins grouped by district, weighted by ``pop`` (residents of the group).

    A district whose origins carry no residents at all (unknown population) counts each
    origin once; inside a known district an origin with 0 residents (a home in no populated
    census cell) weighs nothing.
    """
    codes = pd.Index(districts["name"]).get_indexer(origins["district"]).astype(np.int64)
    p = np.where(np.isfinite(pop) & (pop > 0), pop, 0.0)
    total = np.bincount(codes, weights=p, minlength=len(districts))
    return _Groups(codes=codes, weights=np.where(total[codes] > 0, p, 1.0),
                   districts=districts)


#: Resident groups an indicator can be asked for: all, 65+ (GP, pharmacy, care),
#: under 18 (school, Kita). Values are origin columns with the group's residents.
GROUPS: dict[str, str] = {"all": "population", "65plus": "pop_65plus",
                          "under18": "pop_under18"}


def for_group(result: CoverageResult, group: str) -> CoverageResult:
    """Indicators weighted by one resident group, without a new shortest-path run.

    ``population`` and ``residents_within`` then count that group only (e.g. residents
    65+). Origins without age weights (no census grid) cannot answer: an error says so.
    """
    if group not in GROUPS:
        raise DorfkarteError(f"Unbekannte Gruppe {group!r}; erlaubt: {', '.join(GROUPS)}")
    col = GROUPS[group]
    if col not in result.origins:
        raise DataError("Altersgruppen brauchen ein Einwohnergitter mit Altersanteilen "
                        "(Regionsdatei [population])")
    pop = result.origins[col].to_numpy(dtype=float)
    d = result.districts.copy()
    codes = pd.Index(d["name"]).get_indexer(result.origins["district"]).astype(np.int64)
    sums = np.bincount(codes, weights=np.nan_to_num(pop), minlength=len(d))
    base = d["population"].to_numpy(dtype=float)
    d["population"] = np.where(np.isfinite(base), sums, np.nan)
    g = _make_groups(d, result.origins, pop)
    if result._groups is not None:
        g.local_only = result._groups.local_only
    ind = _indicators(g, result.region, result.times, result.nearest, result.destinations,
                      result.methods, result.thresholds)
    return replace(result, indicators=ind, _groups=g, group=group)


def _quantiles(t: np.ndarray, g: _Groups, qs: Sequence[float]) -> tuple[list[np.ndarray],
                                                                        np.ndarray]:
    """Weighted quantiles and maximum per district in one sort (see weighted_quantile)."""
    order = np.lexsort((t, g.codes))
    ts, ws, cs = t[order], g.weights[order], g.codes[order]
    starts = np.searchsorted(cs, np.arange(g.n), side="left")
    ends = np.searchsorted(cs, np.arange(g.n), side="right")
    cw = np.cumsum(ws)
    before = np.where(starts > 0, cw[np.maximum(starts - 1, 0)], 0.0)
    total = np.where(ends > starts, cw[np.maximum(ends - 1, 0)] - before, 0.0)
    empty = ends == starts
    out = []
    for q in qs:
        target = before + q * total - 1e-9 * np.maximum(total, 1e-300)
        k = np.searchsorted(cw, target, side="left")
        k = np.clip(k, starts, np.maximum(ends - 1, starts))
        out.append(np.where(empty, np.nan, ts[np.minimum(k, len(ts) - 1)]))
    mx = np.where(empty, np.nan, ts[np.maximum(ends - 1, 0)])
    return out, mx


def _pair_frame(g: _Groups, region: Region, key: Pair, t: np.ndarray, j: np.ndarray,
                dest: gpd.GeoDataFrame, method: str, thr: float) -> dict[str, np.ndarray]:
    """The indicator rows of one category x mode, all districts at once."""
    cat, mode = key
    d = g.districts
    n = g.n
    pop = d["population"].to_numpy(dtype=float)
    counts = np.bincount(g.codes, minlength=n)
    cols: dict[str, Any] = {
        "district": d["name"].to_numpy(), "municipality": d["municipality"].astype(str),
        "kind": d["kind"].astype(str), "category": cat,
        "category_label": region.category(cat).label, "mode": mode, "population": pop,
        "n_origins": counts, "unit": "m" if mode == TRANSIT else "min", "threshold": thr,
        "method": method, "weighted": np.isfinite(pop) & (pop > 0),
        "data_edge": (d["data_edge"].to_numpy(dtype=bool) if "data_edge" in d
                      else np.zeros(n, dtype=bool)),
    }
    nan = np.full(n, np.nan)
    if len(dest) == 0:
        cols.update(median=nan, p90=nan, max=nan, share_within=nan, residents_within=nan,
                    gap_class=NO_DATA, nearest_name="", nearest_source="",
                    nearest_weight=nan, unreachable_share=nan)
    else:
        (med, p90), mx = _quantiles(t, g, (0.5, 0.9))
        share = g.shares(t, thr)
        total = np.bincount(g.codes, weights=g.weights, minlength=n)
        unreach = np.bincount(g.codes, weights=g.weights * ~np.isfinite(t), minlength=n)
        k = len(dest)
        reach = j >= 0
        votes = np.bincount(g.codes[reach] * k + j[reach], weights=g.weights[reach],
                            minlength=n * k).reshape(n, k)
        best = np.argmax(votes, axis=1)  # ties: lowest index, deterministic
        has = votes.max(axis=1) > 0
        names = dest["name"].astype(str).to_numpy()
        sources = dest["source"].astype(str).to_numpy()
        weights = dest["weight"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            unreach_share = unreach / total
        classes = [region.gap_classes.classify(float(x)) if c else NO_DATA
                   for x, c in zip(share, counts > 0, strict=True)]
        cols.update(
            median=med, p90=p90, max=mx, share_within=share,
            residents_within=np.where(np.isfinite(pop), share * pop, np.nan),
            gap_class=classes,
            nearest_name=np.where(has, names[best], ""),
            nearest_source=np.where(has, sources[best], ""),
            nearest_weight=np.where(has, weights[best], np.nan),
            unreachable_share=unreach_share,
        )
        if cat in g.local_only:
            # Listings are a lower bound: a unit they serve is served; any other unit may
            # have an unlisted service that OSM was never asked about -> unknown, no gap.
            unknown = np.array([c not in (GapClass.OK, NO_DATA) for c in classes], dtype=bool)
            cols["gap_class"] = [LOCAL_ONLY if u else c
                                 for u, c in zip(unknown, classes, strict=True)]
            for c in LOCAL_UNKNOWN_COLUMNS:
                cols[c] = np.where(unknown, np.nan, np.asarray(cols[c], dtype=float))
    return {c: (np.asarray(v) if np.ndim(v) else np.full(n, v, dtype=object))
            for c, v in cols.items()}


def _indicators(g: _Groups, region: Region, times: dict[Pair, np.ndarray],
                nearest: dict[Pair, np.ndarray], dests: dict[str, gpd.GeoDataFrame],
                methods: dict[Pair, str], thresholds: dict[Pair, float]) -> pd.DataFrame:
    frames = [_pair_frame(g, region, key, times[key], nearest[key], dests[key[0]],
                          methods[key], thresholds[key]) for key in times]
    if not frames:
        return pd.DataFrame(columns=INDICATOR_COLUMNS)
    cols = {c: np.concatenate([f[c] for f in frames]) for c in INDICATOR_COLUMNS}
    df = pd.DataFrame(cols, columns=INDICATOR_COLUMNS)
    for c in ("population", "median", "p90", "max", "threshold", "share_within",
              "residents_within", "nearest_weight", "unreachable_share"):
        df[c] = df[c].astype(float)
    df["n_origins"] = df["n_origins"].astype(np.int64)
    df["weighted"] = df["weighted"].astype(bool)
    df["data_edge"] = df["data_edge"].astype(bool)
    for c in ("district", "municipality", "kind", "category", "category_label", "mode",
              "unit", "gap_class", "nearest_name", "nearest_source", "method"):
        df[c] = df[c].astype(str)
    return df


# ---- distances for the profile ----------------------------------------------------------

def origin_distances(result: CoverageResult, category: str, mode: str) -> np.ndarray:
    """Straight-line metres from every origin to the service it reaches first in ``mode``.

    The same origins and the same service as ``result.times[(category, mode)]``, so a
    distance shown beside a time is measured between the same two places (not from a
    unit's centroid to whatever point is geometrically closest). NaN where no service is
    reached (or the category has no data).
    """
    key = (category, mode)
    if key not in result.nearest:
        raise DorfkarteError(f"Keine Ergebnisse für Kategorie/Modus {key!r}")
    j = result.nearest[key]
    out = np.full(len(j), np.nan)
    dest = result.destinations.get(category)
    if dest is None or not len(dest):
        return out
    dxy = point_xy(dest, result.region.crs)
    ok = j >= 0
    d = dxy[j[ok]] - result.origin_xy[ok]
    out[ok] = np.hypot(d[:, 0], d[:, 1])
    return out


def unit_distances(result: CoverageResult, category: str, mode: str) -> pd.DataFrame:
    """Per unit: the service most residents reach first and how far away it is.

    Columns ``district, nearest_name, nearest_source, km`` (straight line): ``nearest_*``
    is the indicator table's provider (the one reached first by the largest weighted share
    of the unit's origins); ``km`` is the residents-weighted median of the distance from
    each of those origins to that provider. NaN km where none of them reaches it.
    """
    if result._groups is None:
        raise DorfkarteError("Ergebnis ohne Ortsteil-Zuordnung")
    g = result._groups
    key = (category, mode)
    ind = result.indicators
    rows = ind[(ind["category"] == category) & (ind["mode"] == mode)]
    by_name = rows.set_index("district")
    j = result.nearest[key]
    dest = result.destinations.get(category)
    names = dest["name"].astype(str).to_numpy() if dest is not None and len(dest) else \
        np.array([], dtype=object)
    dist = origin_distances(result, category, mode)
    out = []
    for code, name in enumerate(g.districts["name"].astype(str)):
        near = str(by_name["nearest_name"].get(name, "")) if name in by_name.index else ""
        src = str(by_name["nearest_source"].get(name, "")) if name in by_name.index else ""
        mine = (g.codes == code) & (j >= 0)
        if near and mine.any():
            mine &= names[np.maximum(j, 0)] == near
        km = (weighted_quantile(dist[mine], g.weights[mine], 0.5) / 1000.0
              if near and mine.any() else math.nan)
        out.append({"district": name, "nearest_name": near, "nearest_source": src, "km": km})
    return pd.DataFrame(out, columns=["district", "nearest_name", "nearest_source", "km"])


# ---- entry point ---------------------------------------------------------------------

def threshold_value(th: Threshold, mode: str, region: Region) -> float:
    """The threshold in the pair's unit (metres for transit, else minutes).

    A region file may give a walk threshold in metres or a transit one in minutes; they are
    converted at walking speed (transit) or the mode's speed.
    """
    if mode == TRANSIT:
        if th.metres is not None:
            return float(th.metres)
        return float(th.minutes or 0.0) * region.modes.walk_kmh * 1000.0 / 60.0
    if th.minutes is not None:
        return float(th.minutes)
    speed = straight_line_kmh(mode, region)
    return float(th.metres or 0.0) / (speed * 1000.0 / 60.0)


def _check_modes(modes: Iterable[str] | None) -> list[str]:
    out = list(MODES if modes is None else modes)
    for m in out:
        if m not in MODES and m != Mode.PT:  # pt only on request (needs a timetable)
            raise UnknownModeError(f"Unbekannter Modus {m!r}; erlaubt: {', '.join(MODES)}")
    return out


def data_edge_units(snapshot: Snapshot, districts: gpd.GeoDataFrame | None,
                    region: Region) -> frozenset[str]:
    """Units within ``buffer_m`` of the part of region + buffer the extract does not cover.

    Services up to ``buffer_m`` beyond the border count, so for these units the nearest
    service may lie where the file has no data: their gaps may come from the data's edge,
    not from the services (``data_gap`` layer, written by the import). Empty without it.
    """
    gap = snapshot.get(DATA_GAP)
    if gap is None or len(gap) == 0 or districts is None or len(districts) == 0:
        return frozenset()
    area = gap.to_crs(region.crs).union_all()
    units = districts.to_crs(region.crs)
    hit = (units.distance(area) < region.buffer_m).to_numpy()
    return frozenset(districts.loc[hit, "name"].astype(str))


def _data_edge_note(districts: gpd.GeoDataFrame, units: frozenset[str]) -> list[str]:
    """The analysis note naming the units at the data's edge (districts layer order)."""
    if not units:
        return []
    names = ", ".join(n for n in districts["name"].astype(str) if n in units)
    return [f"Am Datenrand (der OSM-Auszug deckt Region und Puffer nicht ganz ab): {names}; "
            "Lücken dort können vom Ausschnitt kommen, nicht vom Angebot."]


def data_edge_notes(snapshot: Snapshot, districts: gpd.GeoDataFrame,
                    region: Region) -> list[str]:
    """The note of :func:`data_edge_units` (``[]`` when no unit is at the data's edge)."""
    return _data_edge_note(districts, data_edge_units(snapshot, districts, region))


def analyse(snapshot: Snapshot, region: Region, *, categories: Iterable[str] | None = None,
            modes: Iterable[str] | None = None,
            extra_destinations: gpd.GeoDataFrame | None = None,
            pt_options: Any = None) -> CoverageResult:
    """Travel times and indicators for every district x category x mode.

    ``transit`` (ÖPNV-Nähe, metres to the nearest served stop) is computed for categories
    whose source is ``transit``; network modes for every category. ``extra_destinations``
    (columns name, category, [source, ref, weight], geometry) adds service points such as
    local listings. Mode ``pt`` (only when asked for) takes ``pt_options``
    (``dorfkarte.pt.PTOptions``: timetable, day, window; default the embedded feed).
    """
    cats = list(region.categories) if categories is None else list(categories)
    for c in cats:
        region.category(c)  # raises UnknownCategoryError
    mode_list = _check_modes(modes)
    if extra_destinations is not None:
        extra_destinations = _validate_extra(extra_destinations)
    districts = districts_of(snapshot)
    origins, oxy, notes = build_origins(snapshot, region, districts)
    # once, as data: the column data_edge of every indicator row and the note
    edge = data_edge_units(snapshot, districts, region)
    districts["data_edge"] = districts["name"].astype(str).isin(edge).to_numpy()
    notes.extend(_data_edge_note(districts, edge))
    groups = _make_groups(districts, origins, origins["population"].to_numpy(dtype=float))

    graphs = {m: _mode_graph(snapshot, region, m, oxy) for m in mode_list}
    dests = {c: destinations_for(snapshot, region, c, extra_destinations) for c in cats}
    # not searched in OSM: whatever points there are (listings, planned sites) are a lower
    # bound, so units they do not serve are unknown (a what-if adding a site keeps this)
    groups.local_only = frozenset(
        c for c in cats if region.category(c).source == Source.OSM and not snapshot.searched_osm(c))
    times: dict[Pair, np.ndarray] = {}
    nearest: dict[Pair, np.ndarray] = {}
    methods: dict[Pair, str] = {}
    thresholds: dict[Pair, float] = {}
    n_o = len(oxy)
    for c in cats:
        cat = region.category(c)
        dxy = _xy(dests[c], region.crs)
        for m in mode_list:
            if (m == TRANSIT and cat.source != Source.TRANSIT) or m == Mode.PT:
                continue  # pt: all categories at once below
            if not cat.measured_in(m):
                continue  # a central place is measured only where the plan sets a threshold
            key = (c, m)
            mg = graphs[m]
            th = cat.thresholds[m]
            thresholds[key] = threshold_value(th, m, region)
            methods[key] = mg.method
            if len(dxy) == 0:
                times[key] = np.full(n_o, np.nan)
                nearest[key] = np.full(n_o, -1, dtype=np.int64)
                continue
            if (m == TRANSIT and (c, Mode.WALK) in times and mg.method == "network"
                    and graphs[Mode.WALK].network is mg.network):
                # same search as the walk run; only the unit differs
                times[key] = times[(c, Mode.WALK)] * mg.metres_per_minute
                nearest[key] = nearest[(c, Mode.WALK)]
                continue
            times[key], nearest[key] = nearest_service(mg, oxy, dxy)

    pt_analysis = None
    if Mode.PT in mode_list:
        from dorfkarte import pt as pt_mode

        pt_analysis = pt_mode.add_pairs(snapshot, region, cats, dests, oxy, graphs[Mode.PT],
                                        times, nearest, methods, thresholds, notes, pt_options)
        graphs[Mode.PT].pt = pt_analysis
    empty = [region.category(c).label for c in cats if len(dests[c]) == 0]
    if empty:
        notes.append("Keine Einrichtungen im Datenstand für " + ", ".join(empty)
                     + ": als „keine Daten“ ausgewiesen, nicht als Lücke.")
    local = [region.category(c).label for c in cats if c in groups.local_only and len(dests[c])]
    if local:
        notes.append("Nur lokale Angebote, OSM fehlt für " + ", ".join(local)
                     + ": Ortsteile ohne erreichbares Angebot sind „unbekannt – nur lokale "
                     "Angebote erfasst“, keine Lücke.")
    straight = [m for m in mode_list if graphs[m].method == "straight_line"]
    if straight:
        factor = f"{region.modes.detour_factor:g}".replace(".", ",")
        notes.append(
            "Kein Straßennetz für " + ", ".join(MODE_LABELS[m] for m in straight)
            + f": Luftlinie × {factor} (ÖPNV-Nähe: reine Luftlinie), Näherung."
        )
    ind = _indicators(groups, region, times, nearest, dests, methods, thresholds)
    if pt_analysis is not None:
        ind = pt_mode.indicator_columns(ind, groups, pt_analysis,  # type: ignore[assignment]
                                        weighted_quantile)
    if any(region.category(c).source == "places" for c in cats):
        from dorfkarte import central

        ind = central.source_column(ind, dests)
    return CoverageResult(
        region=region, districts=districts, origins=origins, origin_xy=oxy,
        destinations=dests, times=times, nearest=nearest, methods=methods,
        thresholds=thresholds, network=graphs, indicators=ind, categories=cats,
        modes=mode_list, notes=notes, _groups=groups, pt=pt_analysis,
    )


__all__ = [
    "GAP_CLASSES", "GROUPS", "INDICATOR_COLUMNS", "LOCAL_ONLY", "NETWORK_MODES", "NO_DATA",
    "CoverageResult", "ModeGraph", "analyse", "data_edge_notes", "data_edge_units",
    "destinations_for", "for_group",
    "nearest_service", "origin_distances", "threshold_value", "times_from_points",
    "travel_matrix", "unit_distances", "weighted_quantile",
]
