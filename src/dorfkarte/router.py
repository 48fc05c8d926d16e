"""Timetable routing: the connection scan algorithm (CSA) over one service day.

Two queries, both over the day's *connections* (one vehicle hop: stop -> next stop):

* :func:`earliest_arrival` - one origin, one departure time: scan connections by departure
  time, board a trip where one can stand at its stop in time, keep the earliest arrival at
  every stop. Used by ``dorfkarte journey`` (itinerary reconstructed from the scan).
* :func:`profile` - every stop at once, every departure minute of a window, towards a *set*
  of targets (per category: walk time from each stop to the category's nearest service).
  Connections are scanned once in *decreasing* departure time ("profile CSA"); each stop
  keeps an array over departure minutes x categories of the earliest arrival at a service,
  so the whole region is one pass whose inner work is numpy (minimum over a slice).
  Departure times are on a minute grid (as in R5); arrival times are exact seconds.

Rules shared by both (and by the brute-force reference in the tests): staying seated on a
trip costs nothing; changing vehicles needs the region's minimum transfer time, after a
short walk between stops (one hop of the footpath list) if the stops differ; the first
boarding needs no transfer time. Connections of trips started the day before
(times >= 24:00) count on the next day, shifted by 24 h.

r5py (R5), the reference for this kind of analysis, needs a Java engine that cannot be
installed here; no maintained Python package implements a vectorised many-to-many profile
CSA, hence this module, tested against a brute-force search in ``tests/test_router.py``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from dorfkarte.gtfs import Timetable

DAY = 86400


@dataclass
class Connections:
    """One day's vehicle hops, sorted by departure (ties: in trip order)."""

    dep_stop: np.ndarray
    arr_stop: np.ndarray
    dep: np.ndarray  # seconds of the service day
    arr: np.ndarray
    trip: np.ndarray  # trip index into Timetable.trips
    st_index: np.ndarray  # index of the departure stop time (for itineraries)
    n_stops: int

    def __len__(self) -> int:
        return len(self.dep)

    def lists(self) -> tuple[list, list, list, list, list]:
        """dep_stop, arr_stop, dep, arr, trip as Python lists (the scans loop over them)."""
        cached = self.__dict__.get("_lists")
        if cached is None:
            cached = (self.dep_stop.tolist(), self.arr_stop.tolist(), self.dep.tolist(),
                      self.arr.tolist(), self.trip.tolist())
            self.__dict__["_lists"] = cached
        return cached

    def reversed(self) -> Connections:
        """The same hops backwards in time (for "latest departure to arrive by")."""
        order = np.lexsort((-np.arange(len(self.dep)), -self.arr))
        return Connections(self.arr_stop[order], self.dep_stop[order], -self.arr[order],
                           -self.dep[order], self.trip[order], self.st_index[order],
                           self.n_stops)


def connections_for(tt: Timetable, day: dt.date) -> Connections:
    """The connections of ``day``: its trips, plus the part after midnight of yesterday's."""
    parts = []
    same_next = np.concatenate([tt.st_trip[1:] == tt.st_trip[:-1], [False]])
    k = np.flatnonzero(same_next)
    for active, shift in ((tt.active_trips(day), 0),
                          (tt.active_trips(day - dt.timedelta(days=1)), DAY)):
        kk = k[active[tt.st_trip[k]]]
        dep = tt.st_dep[kk].astype(np.int64) - shift
        arr = tt.st_arr[kk + 1].astype(np.int64) - shift
        if shift:
            keep = dep >= 0
            kk, dep, arr = kk[keep], dep[keep], arr[keep]
        parts.append((tt.st_stop[kk], tt.st_stop[kk + 1], dep, arr, tt.st_trip[kk], kk))
    cols = [np.concatenate([p[i] for p in parts]) for i in range(6)]
    order = np.lexsort((cols[5], cols[2]))
    dep_stop, arr_stop, dep, arr, trip, sti = (c[order] for c in cols)
    return Connections(dep_stop.astype(np.int64), arr_stop.astype(np.int64), dep, arr,
                       trip.astype(np.int64), sti.astype(np.int64), tt.n_stops)


@dataclass
class Footpaths:
    """Short walks between stops: ``nbr[s]`` = list of ``(other_stop, seconds)``."""

    nbr: list[list[tuple[int, float]]]
    min_transfer_s: float

    @classmethod
    def build(cls, xy: np.ndarray, max_m: float, walk_mps: float, detour: float,
              min_transfer_s: float) -> Footpaths:
        """Stops within ``max_m`` straight line of each other (walk = line x detour)."""
        nbr: list[list[tuple[int, float]]] = [[] for _ in range(len(xy))]
        if len(xy) and max_m > 0:
            tree = cKDTree(xy)
            for a, b in sorted(tree.query_pairs(max_m)):
                w = float(np.hypot(*(xy[a] - xy[b]))) * detour / walk_mps
                nbr[a].append((b, w))
                nbr[b].append((a, w))
        return cls(nbr, float(min_transfer_s))


# ---- one origin, one departure --------------------------------------------------------

@dataclass
class Scan:
    """Result of :func:`earliest_arrival` (``inf`` = not reached)."""

    arrival: np.ndarray  # earliest arrival at each stop by vehicle (access walks excluded)
    board: np.ndarray  # connection index where the trip reaching the stop was boarded, -1
    alight: np.ndarray  # connection index of the hop arriving at the stop, -1 = access
    walk_from: np.ndarray  # stop walked from before boarding at this stop, -1 = none
    ready: np.ndarray  # earliest time one can board at each stop


def earliest_arrival(conn: Connections, fp: Footpaths, access: dict[int, float],
                     t0: float, t_max: float = math.inf,
                     targets: dict[int, float] | None = None) -> Scan:
    """Earliest arrival at every stop leaving at ``t0``; ``access[stop]`` = walk seconds.

    With ``targets`` (stop -> walk seconds to the goal) the scan stops once no connection can
    arrive earlier at the goal (arrivals at other stops are then incomplete).
    """
    n = conn.n_stops
    inf = math.inf
    arrival = [inf] * n
    ready = [inf] * n
    ready_from = [-1] * n  # stop whose vehicle arrival made `ready` (for walk legs)
    board = [-1] * n
    alight = [-1] * n
    for s, w in access.items():
        t = t0 + w
        if t < ready[s]:
            ready[s] = t
    trip_board: dict[int, int] = {}
    ds, as_, dep_l, ar, tr = conn.lists()
    start = int(np.searchsorted(conn.dep, t0, side="left"))
    mt = fp.min_transfer_s
    nbr = fp.nbr
    goal = math.inf
    tg = targets or {}
    for c in range(start, len(dep_l)):
        td = dep_l[c]
        if td > t_max or td >= goal:
            break
        k = tr[c]
        b = trip_board.get(k)
        if b is None:
            u = ds[c]
            if ready[u] > td:
                continue
            trip_board[k] = b = c
        v, ta = as_[c], ar[c]
        if ta < arrival[v]:
            arrival[v] = ta
            board[v] = b
            alight[v] = c
            e = tg.get(v)
            if e is not None and ta + e < goal:
                goal = ta + e
            t = ta + mt
            if t < ready[v]:
                ready[v], ready_from[v] = t, v
            for w, sec in nbr[v]:
                t = ta + sec + mt
                if t < ready[w]:
                    ready[w], ready_from[w] = t, v
    return Scan(np.array(arrival), np.array(board), np.array(alight),
                np.array(ready_from), np.array(ready))


@dataclass
class Leg:
    """One part of an itinerary: ``kind`` = "walk" or "ride"."""

    kind: str
    from_stop: int
    to_stop: int
    depart: float
    arrive: float
    trip: int = -1  # trip index for rides


def itinerary(conn: Connections, fp: Footpaths, scan: Scan, target: int,
              access: dict[int, float], t0: float) -> list[Leg]:
    """Legs from the origin to ``target`` (vehicle arrival) read back from a scan."""
    legs: list[Leg] = []
    s = target
    guard = 0
    while scan.alight[s] >= 0 and guard < 1000:
        guard += 1
        a, b = int(scan.alight[s]), int(scan.board[s])
        legs.append(Leg("ride", int(conn.dep_stop[b]), s, float(conn.dep[b]),
                        float(conn.arr[a]), int(conn.trip[b])))
        u = int(conn.dep_stop[b])
        td = float(conn.dep[b])
        # how did we stand at u in time? access walk, or a vehicle arrival at u or nearby
        if u in access and t0 + access[u] <= td:
            s = u
            break
        prev = int(scan.walk_from[u])
        if prev < 0:
            s = u
            break
        if prev != u:
            walk = next(sec for w, sec in fp.nbr[prev] if w == u)
            legs.append(Leg("walk", prev, u, float(scan.arrival[prev]),
                            float(scan.arrival[prev]) + walk))
        s = prev
    if s in access and access[s] > 0:
        first = legs[-1].depart if legs else t0 + access[s]
        legs.append(Leg("walk", -1, s, first - access[s], first - access[s] + access[s]))
    legs.reverse()
    return legs


# ---- all stops, all departure minutes ---------------------------------------------------

@dataclass
class Profile:
    """Result of :func:`profile`: arrivals for the stops the scan touched.

    ``P[row[s], m, c]`` (float32 seconds of the day; ``inf`` = none); ``row[s] = -1`` for a
    stop no connection of the window uses (its arrivals are all ``inf``).
    """

    P: np.ndarray
    row: np.ndarray
    t0: float
    step: float

    @property
    def n_cols(self) -> int:
        return int(self.P.shape[1])

    def full(self, c: int) -> np.ndarray:
        """Set ``c`` for every stop (stops x M), ``inf`` rows for untouched stops."""
        out = np.full((len(self.row), self.n_cols), np.inf, dtype=self.P.dtype)
        hit = self.row >= 0
        out[hit] = self.P[self.row[hit], :, c]
        return out


def profile(conn: Connections, fp: Footpaths, egress: np.ndarray, t0: float, t1: float,
            step: float = 60.0) -> Profile:
    """Earliest arrival at a target, per stop x departure minute x target set.

    ``egress`` (stops x C): seconds from each stop to the nearest target of each set (``inf``
    if none within reach). The result holds, per stop ``s``, minute ``m`` and set ``c``, the
    earliest arrival (seconds of the day) at a target of set ``c`` for someone who can board
    at ``s`` from ``t0 + m*step`` on (``M = floor((t1-t0)/step)+1`` minutes). Connections
    departing after ``t1`` are not used: ``t1`` should be the window's end plus the longest
    journey considered. Only stops that connections of the window use get a row.
    """
    n, n_c = egress.shape
    m_cols = int(math.floor((t1 - t0) / step)) + 1
    lo = int(np.searchsorted(conn.dep, t0, side="left"))
    hi = int(np.searchsorted(conn.dep, t1, side="right"))
    used = np.zeros(n, dtype=bool)
    used[conn.dep_stop[lo:hi]] = True
    row = np.where(used, np.cumsum(used) - 1, -1).astype(np.int64)
    P = np.full((int(used.sum()), m_cols, n_c), np.inf, dtype=np.float32)
    eg = egress.astype(np.float64)
    trip_val: dict[int, np.ndarray] = {}
    ds, as_, dep_l, arr_l, tr = conn.lists()
    row_l = row.tolist()
    mt = fp.min_transfer_s
    # footpaths to stops with a row only (others never offer a departure)
    nbr = [[(row_l[w], sec) for w, sec in fp.nbr[v] if row_l[w] >= 0] for v in range(n)]
    for c in range(hi - 1, lo - 1, -1):
        td, ta, v, k = dep_l[c], arr_l[c], as_[c], tr[c]
        val = trip_val.get(k)
        val = ta + eg[v] if val is None else np.minimum(val, ta + eg[v])
        rv = row_l[v]
        if rv >= 0:
            col = math.ceil((ta + mt - t0) / step)
            if col < m_cols:
                val = np.minimum(val, P[rv, col])
        for rw, sec in nbr[v]:
            col = math.ceil((ta + sec + mt - t0) / step)
            if col < m_cols:
                val = np.minimum(val, P[rw, col])
        trip_val[k] = val
        cu = int((td - t0) // step)
        if cu >= 0:
            seg = P[row_l[ds[c]], : min(cu, m_cols - 1) + 1]
            np.minimum(seg, val, out=seg, casting="unsafe")
    return Profile(P, row, t0, step)


@dataclass
class AccessGroups:
    """Origins grouped by their access walks: same (stop, walk minutes) set, same answers.

    ``group`` per origin (-1 = no stop within reach); per group a slice
    ``pair_start[g]:pair_start[g+1]`` of ``stop`` / ``steps`` (grid steps to reach the stop).
    """

    group: np.ndarray
    pair_start: np.ndarray
    stop: np.ndarray
    steps: np.ndarray

    @property
    def n_groups(self) -> int:
        return len(self.pair_start) - 1

    @classmethod
    def build(cls, origin: np.ndarray, stop: np.ndarray, walk_s: np.ndarray, n_origins: int,
              step: float = 60.0) -> AccessGroups:
        steps = np.ceil(np.asarray(walk_s, float) / step).astype(np.int64)
        order = np.lexsort((steps, stop, origin))
        o, s, k = origin[order], stop[order], steps[order]
        # per origin and stop only the shortest walk matters
        first = np.concatenate([[True], (o[1:] != o[:-1]) | (s[1:] != s[:-1])]) if len(o) \
            else np.zeros(0, dtype=bool)
        o, s, k = o[first], s[first], k[first]
        bounds = np.flatnonzero(np.concatenate([[True], o[1:] != o[:-1], [True]])) if len(o) \
            else np.array([0])
        sig: dict[bytes, int] = {}
        group = np.full(n_origins, -1, dtype=np.int64)
        g_stop: list[np.ndarray] = []
        g_steps: list[np.ndarray] = []
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            key = s[a:b].tobytes() + b"|" + k[a:b].tobytes()
            g = sig.get(key)
            if g is None:
                g = sig[key] = len(g_stop)
                g_stop.append(s[a:b])
                g_steps.append(k[a:b])
            group[o[a]] = g
        sizes = np.array([len(x) for x in g_stop], dtype=np.int64)
        start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        def cat(xs: list[np.ndarray]) -> np.ndarray:
            return np.concatenate(xs) if xs else np.zeros(0, dtype=np.int64)

        return cls(group, start, cat(g_stop), cat(g_steps))


def window_arrivals(prof: Profile, c: int, groups: AccessGroups, n_dep: int,
                    chunk: int = 4_000_000) -> np.ndarray:
    """Earliest arrival per access group x departure minute, for target set ``c``.

    Departure minute ``m`` is grid column ``m``; reaching a stop takes ``steps`` grid
    columns (exact when vehicles leave on whole minutes, as in the VBB feed). Processed in
    chunks of about ``chunk`` values.
    """
    n_g = groups.n_groups
    out = np.full((n_g, n_dep), np.inf)
    if n_g == 0:
        return out
    m_cols = prof.n_cols
    # one padded copy of set c; the extra last row stands for stops without a row
    Pp = np.full((prof.P.shape[0] + 1, m_cols + n_dep + 1), np.inf, dtype=prof.P.dtype)
    Pp[:-1, :m_cols] = prof.P[:, :, c]
    rows = np.where(prof.row >= 0, prof.row, prof.P.shape[0])
    ar = np.arange(n_dep)
    per = max(1, chunk // max(n_dep, 1))
    g0 = 0
    starts = groups.pair_start
    while g0 < n_g:
        lo = int(starts[g0])
        g1 = int(np.searchsorted(starts, lo + per, side="right")) - 1
        g1 = min(max(g1, g0 + 1), n_g)
        hi = int(starts[g1])
        cols = np.minimum(groups.steps[lo:hi], m_cols)[:, None] + ar[None, :]
        vals = Pp[rows[groups.stop[lo:hi]][:, None], cols]
        out[g0:g1] = np.minimum.reduceat(vals, starts[g0:g1] - lo, axis=0)
        g0 = g1
    return out


__all__ = ["Connections", "Footpaths", "Leg", "Scan", "connections_for", "earliest_arrival",
           "itinerary", "profile", "window_arrivals", "AccessGroups", "Profile"]
