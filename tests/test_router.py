"""Connection scan router (dorfkarte.router) on hand-made feeds and against brute force."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from gtfs_feeds import write_feed

from dorfkarte import gtfs, router

DAY = dt.date(2021, 6, 15)
MT = 120.0  # minimum transfer, seconds
WALK_MPS = 1.25


def _h(text: str) -> float:
    h, m = text.split(":")[:2]
    return int(h) * 3600 + int(m) * 60


def _setup(tmp_path, stops, trips, **kw):
    tt = gtfs.read_feed(write_feed(tmp_path / "f.zip", stops, trips, **kw))
    xy = np.array([stops[s] for s in tt.stops["stop_id"]], dtype=float)
    fp = router.Footpaths.build(xy, 300.0, WALK_MPS, 1.0, MT)
    idx = tt.stop_index()
    return tt, fp, idx


def _ea(tt, fp, idx, origin, t0, day=DAY):
    conn = router.connections_for(tt, day)
    return router.earliest_arrival(conn, fp, {idx[origin]: 0.0}, _h(t0)), conn


LINE = {"A": (0, 0), "B": (3000, 0), "C": (6000, 0), "D": (9000, 0), "E": (9200, 0)}


def test_direct_trip(tmp_path):
    tt, fp, idx = _setup(tmp_path, LINE, {
        "t1": [("A", "07:00:00", "07:00:00"), ("B", "07:10:00", "07:11:00"),
               ("C", "07:20:00", "07:20:00")]})
    scan, conn = _ea(tt, fp, idx, "A", "06:50")
    assert scan.arrival[idx["C"]] == _h("07:20")
    assert scan.arrival[idx["B"]] == _h("07:10")
    legs = router.itinerary(conn, fp, scan, idx["C"], {idx["A"]: 0.0}, _h("06:50"))
    assert [(leg.kind, leg.depart, leg.arrive) for leg in legs] == [
        ("ride", _h("07:00"), _h("07:20"))]
    late, _ = _ea(tt, fp, idx, "A", "07:01")
    assert math.isinf(late.arrival[idx["C"]])


@pytest.mark.parametrize("dep_b, reached", [("07:12:00", True), ("07:11:00", False)])
def test_transfer_needs_min_transfer_time(tmp_path, dep_b, reached):
    """Arrive at B 07:10, two minutes to change: 07:12 is caught, 07:11 missed by a minute."""
    tt, fp, idx = _setup(tmp_path, LINE, {
        "t1": [("A", "07:00:00", "07:00:00"), ("B", "07:10:00", "07:10:00")],
        "t2": [("B", dep_b, dep_b), ("C", "07:30:00", "07:30:00")],
        "t3": [("B", "08:00:00", "08:00:00"), ("C", "08:20:00", "08:20:00")]})
    scan, conn = _ea(tt, fp, idx, "A", "06:55")
    assert scan.arrival[idx["C"]] == (_h("07:30") if reached else _h("08:20"))
    legs = router.itinerary(conn, fp, scan, idx["C"], {idx["A"]: 0.0}, _h("06:55"))
    assert [leg.kind for leg in legs] == ["ride", "ride"]


def test_staying_seated_needs_no_transfer_time(tmp_path):
    tt, fp, idx = _setup(tmp_path, LINE, {
        "t1": [("A", "07:00:00", "07:00:00"), ("B", "07:10:00", "07:10:00"),
               ("C", "07:11:00", "07:11:00")]})
    scan, _ = _ea(tt, fp, idx, "A", "07:00")
    assert scan.arrival[idx["C"]] == _h("07:11")


def test_overnight_trip_counts_on_both_days(tmp_path):
    trips = {"n": [("A", "23:50:00", "23:50:00"), ("B", "24:30:00", "24:30:00"),
                   ("C", "24:40:00", "24:40:00")]}
    tt, fp, idx = _setup(tmp_path, LINE, trips, dates={"S": ["20210615"]})
    scan, _ = _ea(tt, fp, idx, "A", "23:00")
    assert scan.arrival[idx["C"]] == _h("24:40")
    # the next morning, the same trip's part after midnight is at 00:30
    nxt, _ = _ea(tt, fp, idx, "B", "00:10", day=DAY + dt.timedelta(days=1))
    assert nxt.arrival[idx["C"]] == _h("00:40")


def test_trip_not_running_that_day(tmp_path):
    trips = {"mon": [("A", "07:00:00", "07:00:00"), ("B", "07:10:00", "07:10:00")],
             "tue": [("A", "09:00:00", "09:00:00"), ("B", "09:10:00", "09:10:00")]}
    tt, fp, idx = _setup(tmp_path, LINE, trips, service={"mon": "M", "tue": "T"},
                         dates={"M": ["20210614"], "T": ["20210615"]})
    scan, _ = _ea(tt, fp, idx, "A", "06:00")
    assert scan.arrival[idx["B"]] == _h("09:10")  # the 07:00 runs on Mondays only


def test_stop_reached_only_on_foot(tmp_path):
    """E has no bus; D is 200 m away: arrive at D, walk over, take the bus from E."""
    stops = dict(LINE, F=(12000, 0))
    trips = {"t1": [("A", "07:00:00", "07:00:00"), ("D", "07:20:00", "07:20:00")],
             "t2": [("E", "07:26:00", "07:26:00"), ("F", "07:40:00", "07:40:00")]}
    tt, fp, idx = _setup(tmp_path, stops, trips)
    scan, conn = _ea(tt, fp, idx, "A", "06:59")
    # 200 m at 1.25 m/s = 160 s walk + 120 s transfer: ready at 07:24:40, 07:26 caught
    assert scan.arrival[idx["F"]] == _h("07:40")
    legs = router.itinerary(conn, fp, scan, idx["F"], {idx["A"]: 0.0}, _h("06:59"))
    assert [leg.kind for leg in legs] == ["ride", "walk", "ride"]
    assert legs[1].from_stop == idx["D"] and legs[1].to_stop == idx["E"]


# ---- brute force --------------------------------------------------------------------

def brute_force(tt, fp, day, access, t0):
    """Fixpoint over all trips of the day: board wherever one can stand in time."""
    active = tt.active_trips(day)
    prev = tt.active_trips(day - dt.timedelta(days=1))
    trips = []
    for k in range(len(tt.trips)):
        sel = np.flatnonzero(tt.st_trip == k)
        calls = [(int(tt.st_stop[i]), float(tt.st_arr[i]), float(tt.st_dep[i])) for i in sel]
        if active[k]:
            trips.append(calls)
        if prev[k]:
            trips.append([(s, a - 86400, d - 86400) for s, a, d in calls])
    ready = {s: t0 + w for s, w in access.items()}
    veh: dict[int, float] = {}
    changed = True
    while changed:
        changed = False
        for calls in trips:
            for i, (s, _a, d) in enumerate(calls):
                if d < t0 or ready.get(s, math.inf) > d:
                    continue
                for s2, a2, _d2 in calls[i + 1:]:
                    if a2 < veh.get(s2, math.inf):
                        veh[s2] = a2
                        changed = True
                        for w, sec in [(s2, 0.0), *fp.nbr[s2]]:
                            t = a2 + sec + fp.min_transfer_s
                            if t < ready.get(w, math.inf):
                                ready[w] = t
    out = np.full(tt.n_stops, math.inf)
    for s, t in veh.items():
        out[s] = t
    return out


def random_feed(tmp_path, seed):
    rng = np.random.default_rng(seed)
    n_stops = int(rng.integers(5, 9))
    stops = {f"S{i}": (float(rng.uniform(0, 1500)), float(rng.uniform(0, 600)))
             for i in range(n_stops)}
    trips = {}
    for k in range(int(rng.integers(6, 14))):
        path = rng.choice(n_stops, size=int(rng.integers(2, 5)), replace=False)
        t = int(rng.integers(6 * 60, 9 * 60))
        calls = []
        for s in path:
            dwell = int(rng.integers(0, 2))
            calls.append((f"S{s}", f"{t // 60:02d}:{t % 60:02d}:00",
                          f"{(t + dwell) // 60:02d}:{(t + dwell) % 60:02d}:00"))
            t += dwell + int(rng.integers(1, 12))
        trips[f"T{k}"] = calls
    return stops, trips


@pytest.mark.parametrize("seed", range(25))
def test_earliest_arrival_agrees_with_brute_force(tmp_path, seed):
    stops, trips = random_feed(tmp_path, seed)
    tt, fp, idx = _setup(tmp_path, stops, trips)
    conn = router.connections_for(tt, DAY)
    rng = np.random.default_rng(1000 + seed)
    for _ in range(4):
        o = int(rng.integers(tt.n_stops))
        t0 = float(rng.integers(6 * 60, 9 * 60) * 60)
        access = {o: 0.0}
        got = router.earliest_arrival(conn, fp, access, t0).arrival
        np.testing.assert_array_equal(got, brute_force(tt, fp, DAY, access, t0))


@pytest.mark.parametrize("seed", range(12))
def test_profile_agrees_with_brute_force(tmp_path, seed):
    """Every stop x departure minute x target set: profile scan = one brute force each."""
    stops, trips = random_feed(tmp_path, seed)
    tt, fp, idx = _setup(tmp_path, stops, trips)
    conn = router.connections_for(tt, DAY)
    rng = np.random.default_rng(2000 + seed)
    n_c = 2
    egress = np.full((tt.n_stops, n_c), np.inf)
    for c in range(n_c):
        for s in rng.choice(tt.n_stops, size=2, replace=False):
            egress[s, c] = float(rng.integers(0, 600))
    t0, t1 = 6 * 3600.0, 10 * 3600.0
    prof = router.profile(conn, fp, egress, t0, t1, 60.0)
    P = np.stack([prof.full(c) for c in range(n_c)], axis=2)
    for m in range(0, P.shape[1], 7):
        tau = t0 + 60.0 * m
        for s in range(tt.n_stops):
            veh = brute_force(tt, fp, DAY, {s: 0.0}, tau)
            want = np.min(veh[:, None] + egress, axis=0)
            want[want > t1 + 86400] = np.inf
            # float32 storage: seconds of the day to within 0.01 s
            np.testing.assert_allclose(P[s, m], want, rtol=0, atol=0.01,
                                       err_msg=f"stop {s} minute {m}")


def test_window_arrivals_groups_origins():
    P = np.array([[100.0, 200.0, 300.0, np.inf], [150.0, 160.0, 400.0, 500.0]])
    origin = np.array([0, 0, 1, 2, 4])
    stop = np.array([0, 1, 1, 0, 0])
    walk = np.array([0.0, 61.0, 61.0, 0.0, 10.0])  # 61 s = two grid steps of 60 s
    g = router.AccessGroups.build(origin, stop, walk, 5, 60.0)
    assert g.group[3] == -1  # no stop within reach
    assert g.group[2] != g.group[0] and g.group[2] != g.group[1]
    assert g.n_groups == 4
    prof = router.Profile(P[:, :, None].astype(np.float32), np.arange(2), 0.0, 60.0)
    A = router.window_arrivals(prof, 0, g, 2)
    np.testing.assert_array_equal(A[g.group[0]], [100.0, 200.0])  # min(P0[m], P1[m+2])
    np.testing.assert_array_equal(A[g.group[1]], [400.0, 500.0])
    np.testing.assert_array_equal(A[g.group[2]], [100.0, 200.0])
    np.testing.assert_array_equal(A[g.group[4]], [200.0, 300.0])  # 10 s: next minute
