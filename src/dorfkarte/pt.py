"""Mode ``pt`` ("Bus & Bahn (Fahrplan)"): door-to-door times by timetable.

For a service day and a departure window, every origin's time to the nearest service of a
category = walk to a stop + waiting + riding + changes + walk to the service, or the pure
walk if that is quicker (a service next door needs no bus). As R5 does, every minute of the
window is a departure; per origin we keep the **best** and the **median** over those
departures, the number of **usable departures per day** (distinct journeys within the
longest journey time), and whether a **round trip** ("Hin und zurück": arrive by a given
hour, be home again within a given number of hours) is possible.

Walks use the walk network when the snapshot has one, else straight line x the region's
detour factor; access and egress walks are capped (``[timetable] access_max_m``). The router
is :mod:`dorfkarte.router` (profile connection scan, all stops and departure minutes in one
pass). Settings come from the region file's ``[timetable]`` table, each with its source.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from dorfkarte.errors import DorfkarteError, RegionError
from dorfkarte.gtfs import Timetable
from dorfkarte.network import Network, transform_xy
from dorfkarte.region import Region, raw_tables
from dorfkarte.router import (
    AccessGroups,
    Connections,
    Footpaths,
    Profile,
    connections_for,
    profile,
    window_arrivals,
)

PT = "pt"
STEP = 60.0
#: first and last departure minute counted for "usable departures per day"
DAY_FROM, DAY_TO = 5 * 3600, 21 * 3600


@dataclass(frozen=True)
class PTSettings:
    """The ``[timetable]`` table of the region file (defaults only where it is silent)."""

    min_transfer_min: float = 2.0
    transfer_walk_m: float = 300.0
    access_max_m: float = 1500.0
    max_minutes: float = 120.0
    window: tuple[str, str] = ("07:00", "09:00")
    roundtrip_arrive_by: str = "10:00"
    roundtrip_hours: float = 4.0
    roundtrip_stay_min: float = 60.0
    sources: dict[str, str] = field(default_factory=dict)
    #: default feed of the region (``timetable.feed``, relative to the region file)
    feed: Path | None = None


def _hhmm(text: str, where: str) -> int:
    try:
        h, m = str(text).split(":")
        h_i, m_i = int(h), int(m)
    except ValueError:
        raise RegionError(f"Regionsdatei: '{where}' = {text!r} ist keine Uhrzeit HH:MM") \
            from None
    if not (0 <= h_i < 30 and 0 <= m_i < 60):
        raise RegionError(f"Regionsdatei: '{where}' = {text!r} ist keine Uhrzeit HH:MM")
    return h_i * 3600 + m_i * 60


def parse_hhmm(text: str) -> int:
    """``"07:30"`` -> seconds of the day; raises :class:`DorfkarteError` on bad input."""
    try:
        return _hhmm(text, "Uhrzeit")
    except RegionError:
        raise DorfkarteError(f"Uhrzeit {text!r}: erwartet HH:MM, z. B. 07:30") from None


def fmt_hhmm(sec: float) -> str:
    """Seconds of the service day -> ``HH:MM`` (after midnight: 00:30, not 24:30)."""
    m = int(round(sec / 60.0))
    return f"{(m // 60) % 24:02d}:{m % 60:02d}"


def settings(region: Region) -> PTSettings:
    """Read ``[timetable]`` from the region file (numbers positive, times HH:MM)."""
    try:
        raw = raw_tables(region.path).get("timetable", {})
    except RegionError:  # unreadable since it was loaded: the defaults
        raw = {}
    out: dict = {}
    for key in ("min_transfer_min", "transfer_walk_m", "access_max_m", "max_minutes",
                "roundtrip_hours", "roundtrip_stay_min"):
        if key in raw:
            v = raw[key]
            if not isinstance(v, int | float) or v < 0 or (key != "roundtrip_stay_min"
                                                            and v == 0):
                raise RegionError(f"Regionsdatei: 'timetable.{key}' muss eine positive Zahl "
                                  f"sein, nicht {v!r}")
            out[key] = float(v)
    if "window" in raw:
        w = raw["window"]
        if not (isinstance(w, list) and len(w) == 2):
            raise RegionError("Regionsdatei: 'timetable.window' braucht [\"HH:MM\", \"HH:MM\"]")
        a, b = (_hhmm(x, "timetable.window") for x in w)
        if b <= a:
            raise RegionError("Regionsdatei: 'timetable.window': Ende vor Beginn")
        out["window"] = (str(w[0]), str(w[1]))
    if "roundtrip_arrive_by" in raw:
        _hhmm(raw["roundtrip_arrive_by"], "timetable.roundtrip_arrive_by")
        out["roundtrip_arrive_by"] = str(raw["roundtrip_arrive_by"])
    out["sources"] = {k[: -len("_source")]: str(v) for k, v in raw.items()
                      if k.endswith("_source")}
    if raw.get("feed"):
        f = Path(str(raw["feed"]))
        out["feed"] = f if f.is_absolute() else (region.path.parent / f).resolve()
    return PTSettings(**out)


def timetable_for(region: Region, data_dir: str | Path | None = None) -> Timetable:
    """The imported feed in ``data_dir``, else the region's default feed (or an error)."""
    from dorfkarte.gtfs import load_timetable

    return load_timetable(region.id, data_dir, settings(region).feed)


def has_timetable(region: Region, data_dir: str | Path | None = None) -> bool:
    """Whether mode ``pt`` can be computed (a feed is imported or named)."""
    from dorfkarte.gtfs import stored_feed_path

    if data_dir is not None and stored_feed_path(data_dir, region.id).exists():
        return True
    f = settings(region).feed
    return f is not None and f.exists()


@dataclass(frozen=True)
class PTQuery:
    """Service day and departure window (seconds of the day)."""

    day: dt.date
    start_s: int
    end_s: int

    @property
    def label(self) -> str:
        return f"{self.day.isoformat()} {fmt_hhmm(self.start_s)}-{fmt_hhmm(self.end_s)}"


def default_query(tt: Timetable, st: PTSettings, day: dt.date | None = None,
                  start: str | None = None, end: str | None = None) -> PTQuery:
    """Default: the feed's busiest Tuesday, the region's window (07:00-09:00)."""
    d = day or tt.default_day()
    tt.check_day(d)
    a = parse_hhmm(start or st.window[0])
    b = parse_hhmm(end or st.window[1])
    if b <= a:
        raise DorfkarteError(f"Zeitfenster {fmt_hhmm(a)}-{fmt_hhmm(b)}: Ende vor Beginn")
    return PTQuery(d, a, b)


# ---- walking --------------------------------------------------------------------------

@dataclass
class Walker:
    """Walk times in seconds: network (if any) or straight line x detour."""

    walk_mps: float
    detour: float
    net: Network | None = None
    _snaps: dict = field(default_factory=dict, repr=False)

    def _snap(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Snapped nodes and minutes, cached per array (origins, stops are snapped once)."""
        hit = self._snaps.get(id(xy))
        if hit is not None and hit[0] is xy:
            return hit[1], hit[2]
        assert self.net is not None
        node, off = self.net.snap(xy)
        if len(self._snaps) > 32:  # journeys snap one point each: keep the cache small
            self._snaps.clear()
        self._snaps[id(xy)] = (xy, node, off)
        return node, off

    @property
    def method(self) -> str:
        return "network" if self.net is not None else "straight_line"

    def pairs(self, a_xy: np.ndarray, b_xy: np.ndarray, max_s: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(i, j, seconds) for every a_i -> b_j walk within ``max_s``."""
        if len(a_xy) == 0 or len(b_xy) == 0:
            e = np.zeros(0, dtype=np.int64)
            return e, e, np.zeros(0)
        if self.net is None:
            r = max_s * self.walk_mps / self.detour
            lists = cKDTree(b_xy).query_ball_point(a_xy, r)
            i = np.repeat(np.arange(len(a_xy)), [len(x) for x in lists])
            j = np.array([k for x in lists for k in x], dtype=np.int64)
            d = np.hypot(*(a_xy[i] - b_xy[j]).T) if len(i) else np.zeros(0)
            return i.astype(np.int64), j, d * self.detour / self.walk_mps
        net = self.net
        an, aoff = self._snap(a_xy)
        bn, boff = self._snap(b_xy)
        # only b points near some a can matter (straight line is a lower bound)
        near = cKDTree(a_xy).query_ball_point(b_xy, max_s * self.walk_mps)
        cand = np.array([k for k, x in enumerate(near) if x], dtype=np.int64)
        out_i, out_j, out_t = [], [], []
        for lo in range(0, len(cand), 64):
            js = cand[lo: lo + 64]
            dist = dijkstra(net.graph, directed=False, indices=bn[js],
                            limit=max_s / 60.0) * 60.0  # minutes -> s
            t = dist[:, an] + aoff[None, :] * 60.0 + boff[js, None] * 60.0
            jj, ii = np.nonzero(t <= max_s)
            out_i.append(ii)
            out_j.append(js[jj])
            out_t.append(t[jj, ii])
        if not out_i:
            e = np.zeros(0, dtype=np.int64)
            return e, e, np.zeros(0)
        return (np.concatenate(out_i).astype(np.int64), np.concatenate(out_j),
                np.concatenate(out_t))

    def nearest(self, a_xy: np.ndarray, b_xy: np.ndarray, max_s: float = math.inf
                ) -> tuple[np.ndarray, np.ndarray]:
        """Seconds from each a to its nearest b (``inf`` beyond ``max_s``) and its index."""
        return self.nearest_many([(a_xy, max_s)], b_xy)[0]

    def nearest_many(self, targets: list[tuple[np.ndarray, float]], b_xy: np.ndarray
                     ) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`nearest` for several point sets (each with its cap), one search."""
        if len(b_xy) == 0:
            return [(np.full(len(a), np.inf), np.full(len(a), -1, dtype=np.int64))
                    for a, _ in targets]
        found = []
        if self.net is None:
            tree = cKDTree(b_xy)
            for a_xy, _ in targets:
                d, j = tree.query(a_xy, k=1) if len(a_xy) else (np.zeros(0), np.zeros(0))
                found.append((d * self.detour / self.walk_mps, np.asarray(j)))
        else:
            net = self.net
            bn, boff = self._snap(b_xy)
            g = net.with_sources(bn, boff)
            cap = max(m for _, m in targets)
            lim = cap / 60.0 if math.isfinite(cap) else np.inf
            dist, _, src = dijkstra(g, directed=True, indices=net.n_nodes + np.arange(len(bn)),
                                    return_predecessors=True, min_only=True, limit=lim)
            for a_xy, _ in targets:
                an, aoff = self._snap(a_xy)
                s = src[an]
                found.append(((dist[an] + aoff) * 60.0,
                              np.where(s >= net.n_nodes, s - net.n_nodes, -1)))
        out = []
        for (_, max_s), (t, j) in zip(targets, found, strict=True):
            t = np.where(t <= max_s, t, np.inf)
            out.append((t, np.where(np.isfinite(t), j, -1).astype(np.int64)))
        return out


# ---- the analysis ---------------------------------------------------------------------

@dataclass
class PTCategory:
    """Per origin, in minutes (``inf`` = no journey within the longest journey time)."""

    best: np.ndarray
    median: np.ndarray
    departures: np.ndarray  # usable departures per day (NaN if not computed)
    roundtrip: np.ndarray  # 1.0 / 0.0 (NaN if not computed)
    walk_only: np.ndarray  # bool: the walk alone is at least as quick as any bus
    nearest: np.ndarray  # index of the straight-line nearest service (the journey's aim)


@dataclass
class PTAnalysis:
    """Everything the pt mode computed for one query."""

    query: PTQuery
    settings: PTSettings
    caption: str  # e.g. "Fahrplan 2021 – veraltet"
    method: str  # access walks: "network" | "straight_line"
    categories: dict[str, PTCategory]
    notes: list[str] = field(default_factory=list)


@dataclass
class PTModel:
    """A feed prepared for one day: connections, footpaths, stop positions."""

    tt: Timetable
    day: dt.date
    conn: Connections
    fp: Footpaths
    stop_xy: np.ndarray
    walker: Walker


def prepare(tt: Timetable, region: Region, day: dt.date, st: PTSettings,
            walk_net: Network | None = None) -> PTModel:
    """Connections of ``day`` and footpaths between stops (straight line x detour)."""
    xy = transform_xy(tt.stops["lon"].to_numpy(), tt.stops["lat"].to_numpy(), "EPSG:4326",
                      region.crs)
    mps = region.modes.walk_kmh / 3.6
    fp = Footpaths.build(xy, st.transfer_walk_m, mps, region.modes.detour_factor,
                         st.min_transfer_min * 60.0)
    walker = Walker(mps, region.modes.detour_factor, walk_net)
    return PTModel(tt, day, connections_for(tt, day), fp, xy, walker)


def _walks(model: PTModel, origin_xy: np.ndarray, dest_xy: list[np.ndarray], cap_s: float,
           max_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Egress (stops x C, within ``cap_s``) and direct walks (origins x C, ``max_s``)."""
    eg = np.full((len(model.stop_xy), len(dest_xy)), np.inf)
    direct = np.full((len(origin_xy), len(dest_xy)), np.inf)
    for c, dxy in enumerate(dest_xy):
        if len(dxy):
            (e, _), (d, _) = model.walker.nearest_many(
                [(model.stop_xy, cap_s), (origin_xy, max_s)], dxy)
            eg[:, c], direct[:, c] = e, d
    return eg, direct


def _distinct(arr: np.ndarray) -> np.ndarray:
    """Distinct finite values per row of a row-wise non-decreasing array."""
    fin = np.isfinite(arr)
    change = np.concatenate([fin[:, :1], fin[:, 1:] & (arr[:, 1:] != arr[:, :-1])], axis=1)
    return change.sum(axis=1).astype(float)


def _lower_median(x: np.ndarray) -> np.ndarray:
    """Median over axis 1 taking the lower middle value (so min(median, d) = median(min))."""
    k = (x.shape[1] - 1) // 2
    return np.partition(x, k, axis=1)[:, k]


def analyse_pt(model: PTModel, origin_xy: np.ndarray, dest_xy: list[np.ndarray],
               query: PTQuery, st: PTSettings, *, daily: bool = True) -> list[PTCategory]:
    """Door-to-door minutes from every origin to each destination set (see module doc).

    Origins with the same access walks (stops and walk minutes) share one computation; the
    direct walk, which differs per origin, enters afterwards (min and median commute with a
    minimum against a constant). ``daily=False`` skips the whole-day figures (departures per
    day, round trip): the benchmark's "one window" run.
    """
    n_o = len(origin_xy)
    cap = st.access_max_m / model.walker.walk_mps  # seconds
    max_s = st.max_minutes * 60.0
    eg, direct_all = _walks(model, origin_xy, dest_xy, cap, max_s)
    po, ps, pw = model.walker.pairs(origin_xy, model.stop_xy, cap)
    groups = AccessGroups.build(po, ps, pw, n_o, STEP)
    grp = groups.group
    has = grp >= 0
    if daily:
        t0, t_dep_end = min(DAY_FROM, query.start_s), max(DAY_TO, query.end_s)
    else:
        t0, t_dep_end = query.start_s, query.end_s
    t0 -= t0 % 60
    P = profile(model.conn, model.fp, eg, t0, t_dep_end + max_s, STEP)
    n_dep = int((t_dep_end - t0) // STEP) + 1
    tau = t0 + STEP * np.arange(n_dep)
    w0 = int((query.start_s - t0) // STEP)
    w1 = int((query.end_s - t0) // STEP) + 1
    Pr = _reverse_profile(model, eg, st, t0) if daily else None
    out = []
    for c, dxy in enumerate(dest_xy):
        direct = direct_all[:, c]
        nearest = cKDTree(dxy).query(origin_xy, k=1)[1].astype(np.int64) if len(dxy) \
            else np.full(n_o, -1, dtype=np.int64)
        A = window_arrivals(P, c, groups, n_dep)  # groups x minutes
        T = A - tau[None, :]
        T[max_s < T] = np.inf
        win = T[:, w0:w1]
        g_best = win.min(axis=1) if len(win) else np.zeros(0)
        g_med = _lower_median(win) if len(win) else np.zeros(0)
        best_pt = np.where(has, g_best[np.maximum(grp, 0)], np.inf) if len(win) \
            else np.full(n_o, np.inf)
        med_pt = np.where(has, g_med[np.maximum(grp, 0)], np.inf) if len(win) \
            else np.full(n_o, np.inf)
        best = np.minimum(best_pt, direct) / 60.0
        med = np.minimum(med_pt, direct) / 60.0
        walk_only = np.isfinite(direct) & (direct <= best_pt)
        if daily:
            d0, d1 = int((DAY_FROM - t0) // STEP), int((DAY_TO - t0) // STEP) + 1
            g_deps = _distinct(np.where(np.isfinite(T[:, d0:d1]), A[:, d0:d1], np.inf))
            deps = np.where(has, g_deps[np.maximum(grp, 0)] if len(g_deps) else 0.0, 0.0)
            assert Pr is not None
            g_rt = _roundtrip(Pr, c, groups, A, tau, st, t0)
            rt = np.where(has, g_rt[np.maximum(grp, 0)] if len(g_rt) else 0.0, 0.0)
            # on foot both ways (a bus one way and a walk the other is not counted)
            rt = np.maximum(rt, (2 * direct + st.roundtrip_stay_min * 60.0
                                 <= st.roundtrip_hours * 3600.0).astype(float))
            deps = np.where(walk_only, np.nan, deps)  # no bus needed: not counted
        else:
            deps = np.full(n_o, np.nan)
            rt = np.full(n_o, np.nan)
        if not len(dxy):
            best = med = np.full(n_o, np.nan)
        out.append(PTCategory(best=best, median=med, departures=deps, roundtrip=rt,
                              walk_only=walk_only,
                              nearest=np.where(np.isfinite(best), nearest, -1)))
    return out


def _reverse_profile(model: PTModel, eg: np.ndarray, st: PTSettings, t0: float) -> Profile:
    """The profile scan on time-reversed connections (reversed time r = -t).

    Column ``m`` is reversed departure ``-last_home + m*STEP``, i.e. being home by
    ``last_home - m*STEP``; the value is minus the latest departure from a service.
    """
    last_home = _last_home(st)
    return profile(model.conn.reversed(), model.fp, eg, -last_home, -t0, STEP)


def _last_home(st: PTSettings) -> float:
    t = parse_hhmm(st.roundtrip_arrive_by) + st.roundtrip_hours * 3600.0
    return t - t % 60


def _roundtrip(Pr: Profile, c: int, groups: AccessGroups, A: np.ndarray, tau: np.ndarray,
               st: PTSettings, t0: float) -> np.ndarray:
    """1.0 per group where one can leave home, be at the service by ``arrive_by``, stay
    ``roundtrip_stay_min`` and be home within ``roundtrip_hours`` of leaving (by bus)."""
    by = parse_hhmm(st.roundtrip_arrive_by)
    span = st.roundtrip_hours * 3600.0
    stay = st.roundtrip_stay_min * 60.0
    last_home = _last_home(st)
    n_r = int((last_home - t0) // STEP) + 1
    RA = window_arrivals(Pr, c, groups, n_r)  # groups x home-minute: -latest departure
    latest_dep = -RA
    ok_out = np.less_equal(A, by)
    # home by tau_m + span -> reversed column (rounded down to the grid: conservative)
    idx = np.ceil((last_home - (tau + span)) / STEP).astype(np.int64)
    valid = (idx >= 0) & (idx < n_r)
    back = latest_dep[:, np.clip(idx, 0, n_r - 1)]
    feasible = ok_out & valid[None, :] & (back >= A + stay)
    return feasible.any(axis=1).astype(float)


# ---- the coverage hook ------------------------------------------------------------------

@dataclass
class PTOptions:
    """What mode ``pt`` is computed for: feed (default: embedded), day and window."""

    timetable: Timetable | None = None
    day: dt.date | None = None
    start: str | None = None  # "HH:MM"
    end: str | None = None
    daily: bool = True  # departures per day and round trip too


@dataclass
class PTRun(PTAnalysis):
    """:class:`PTAnalysis` plus what a what-if needs to add a service point."""

    model: PTModel | None = None
    origin_xy: np.ndarray | None = None
    timetable: Timetable | None = None


def run_pt(region: Region, origin_xy: np.ndarray, dest_xy: dict[str, np.ndarray],
           options: PTOptions | None = None, walk_net: Network | None = None) -> PTRun:
    """The pt analysis for named destination sets (coverage's categories)."""
    opts = options or PTOptions()
    tt = opts.timetable or timetable_for(region, None)
    st = settings(region)
    q = default_query(tt, st, opts.day, opts.start, opts.end)
    model = prepare(tt, region, q.day, st, walk_net)
    names = [c for c in dest_xy if len(dest_xy[c])]  # no service point: nothing to route
    res = analyse_pt(model, origin_xy, [dest_xy[c] for c in names], q, st, daily=opts.daily)
    cats = dict(zip(names, res, strict=True))
    n_o = len(origin_xy)
    nan = np.full(n_o, np.nan)
    for c in dest_xy:
        if c not in cats:
            cats[c] = PTCategory(nan, nan, nan, nan, np.zeros(n_o, dtype=bool),
                                 np.full(n_o, -1, dtype=np.int64))
    return PTRun(query=q, settings=st, caption=tt.info.caption(), method=model.walker.method,
                 categories={c: cats[c] for c in dest_xy}, model=model,
                 origin_xy=origin_xy, timetable=tt)


def add_pairs(snapshot: object, region: Region, cats: list[str], dests: dict,
              origin_xy: np.ndarray, mg: object, times: dict, nearest: dict, methods: dict,
              thresholds: dict, notes: list[str], options: PTOptions | None) -> PTRun:
    """Fill coverage's dicts for every ``(category, "pt")`` (times = median minutes)."""
    from dorfkarte.network import point_xy

    net = getattr(mg, "network", None)
    dxy = {c: point_xy(dests[c], region.crs) for c in cats}
    run = run_pt(region, origin_xy, dxy, options, net)
    for c in cats:
        key = (c, PT)
        th = region.category(c).thresholds.get(PT)
        if th is None or th.minutes is None:
            raise RegionError(f"Regionsdatei: Schwelle 'categories.{c}.thresholds.pt.minutes' "
                              "(oder defaults.thresholds.pt) fehlt")
        thresholds[key] = float(th.minutes)
        methods[key] = run.method
        r = run.categories[c]
        times[key] = r.median
        nearest[key] = r.nearest
    q = run.query
    notes.append(
        f"Bus & Bahn: {run.caption}, {q.day.strftime('%d.%m.%Y')}, Abfahrt "
        f"{fmt_hhmm(q.start_s)}-{fmt_hhmm(q.end_s)}; Tür-zu-Tür-Zeit als Median über die "
        "Abfahrtsminuten (wie R5), Fußwege "
        + ("im Wegenetz" if run.method == "network" else "Luftlinie × Umwegfaktor")
        + f" bis {run.settings.access_max_m:,.0f} m".replace(",", "."))
    return run


def indicator_columns(ind: object, groups: object, run: PTRun,
                      weighted_quantile: object) -> object:
    """Add :data:`coverage.PT_COLUMNS` to the indicator table (values on ``pt`` rows).

    ``weighted_quantile`` is coverage's (passed in: pt does not import coverage).
    """
    import pandas as pd

    wq = weighted_quantile
    df: pd.DataFrame = ind  # type: ignore[assignment]
    codes, weights = groups.codes, groups.weights  # type: ignore[attr-defined]
    names = list(groups.districts["name"])  # type: ignore[attr-defined]
    for col in ("pt_best_median", "pt_departures_per_day", "roundtrip_share"):
        df[col] = np.nan
    df["timetable"] = ""
    label = f"{run.caption}, {run.query.label}"
    mode = df["mode"].to_numpy()
    cat_col = df["category"].to_numpy()
    dist = df["district"].to_numpy()
    for c, r in run.categories.items():
        rows = np.flatnonzero((mode == PT) & (cat_col == c))
        for i in rows:
            sel = codes == names.index(dist[i])
            if not sel.any() or not np.isfinite(r.best).any() and np.isnan(r.best).all():
                continue
            w = weights[sel]
            df.iat[i, df.columns.get_loc("pt_best_median")] = wq(  # type: ignore[operator]
                r.best[sel], w, 0.5)
            dep = r.departures[sel]
            if np.isfinite(dep).any():
                ok = np.isfinite(dep)
                df.iat[i, df.columns.get_loc("pt_departures_per_day")] = wq(  # type: ignore
                    dep[ok], w[ok], 0.5)
            rt = r.roundtrip[sel]
            if np.isfinite(rt).all():
                df.iat[i, df.columns.get_loc("roundtrip_share")] = float(
                    np.sum(w * rt) / np.sum(w))
        df.loc[rows, "timetable"] = label
    return df


def nearest_service(run: PTRun, origin_xy: np.ndarray, dest_xy: np.ndarray,
                    limit: float = math.inf) -> tuple[np.ndarray, np.ndarray]:
    """Median door-to-door minutes to the nearest of ``dest_xy`` and its (straight-line)
    index, on the run's day and window: what a what-if needs (coverage.nearest_service)."""
    assert run.model is not None
    (r,) = analyse_pt(run.model, origin_xy, [dest_xy], run.query, run.settings, daily=False)
    t = r.median.copy()
    if math.isfinite(limit):
        t[t > limit] = np.inf
    return t, np.where(np.isfinite(t), r.nearest, -1).astype(np.int64)


def times_from_points(result: object, points: object, limit: float = math.inf) -> np.ndarray:
    """Door-to-door minutes (median over the window) from every origin to each new point.

    One profile scan with one target set per point, on the result's day and window.
    """
    from dorfkarte.network import point_xy

    run: PTRun = result.pt  # type: ignore[attr-defined]
    if run is None or run.model is None or run.origin_xy is None:
        raise DorfkarteError("Bus & Bahn wurde für dieses Ergebnis nicht berechnet")
    pxy = point_xy(points, result.region.crs)  # type: ignore[attr-defined]
    n_o = len(run.origin_xy)
    if len(pxy) == 0:
        return np.zeros((0, n_o))
    res = analyse_pt(run.model, run.origin_xy, [pxy[i: i + 1] for i in range(len(pxy))],
                     run.query, run.settings, daily=False)
    out = np.vstack([r.median for r in res])
    if math.isfinite(limit):
        out[out > limit] = np.inf
    return out


__all__ = [
    "PT", "PTAnalysis", "PTCategory", "PTModel", "PTOptions", "PTQuery", "PTRun", "PTSettings",
    "Walker", "add_pairs", "analyse_pt", "default_query", "fmt_hhmm", "has_timetable",
    "indicator_columns", "nearest_service", "parse_hhmm", "prepare", "run_pt", "settings",
    "times_from_points", "timetable_for",
]
