"""Benchmark figures of mode ``pt`` for ``python -m dorfkarte.bench``.

The PT analysis of the whole (synthetic) region: every origin x every category with service
points, one 2-hour departure window (07:00-09:00, every minute), on the embedded VBB feed of
2021 (its stops lie in the synthetic world's area, which overlaps the real region). Timed from
a loaded feed: connections, footpaths, access walks over the walk network, profile scan and
per-origin statistics. Baseline in the same run: per sampled origin, one earliest-arrival scan
(the same rules) per departure minute, extrapolated to all origins; its medians are compared
with the engine's. Also one ``journey`` after loading.
"""

from __future__ import annotations

import math
import time

import numpy as np

from dorfkarte import pt
from dorfkarte.network import point_xy
from dorfkarte.router import earliest_arrival


def _baseline_medians(model: pt.PTModel, origin_xy: np.ndarray, dest_xy: list[np.ndarray],
                      q: pt.PTQuery, st: pt.PTSettings) -> np.ndarray:
    """Median door-to-door minutes per origin x category, one scan per departure minute."""
    cap = st.access_max_m / model.walker.walk_mps
    max_s = st.max_minutes * 60.0
    eg = np.full((len(model.stop_xy), len(dest_xy)), np.inf)
    for c, d in enumerate(dest_xy):
        eg[:, c] = model.walker.nearest(model.stop_xy, d, cap)[0]
    out = np.full((len(origin_xy), len(dest_xy)), np.inf)
    taus = np.arange(q.start_s, q.end_s + 1, 60.0)
    for i in range(len(origin_xy)):
        po, ps, pw = model.walker.pairs(origin_xy[i: i + 1], model.stop_xy, cap)
        access: dict[int, float] = {}
        for s, w in zip(ps, pw, strict=True):
            w = math.ceil(w / 60.0) * 60.0  # as the engine: walks on the minute grid
            access[int(s)] = min(access.get(int(s), math.inf), w)
        direct = np.array([model.walker.nearest(origin_xy[i: i + 1], d, max_s)[0][0]
                           for d in dest_xy])
        times = np.full((len(taus), len(dest_xy)), np.inf)
        for k, tau in enumerate(taus):
            arr = earliest_arrival(model.conn, model.fp, access, tau).arrival
            best = np.min(arr[:, None] + eg, axis=0) - tau
            best[best > max_s] = np.inf
            times[k] = np.minimum(best, direct)
        kk = (len(taus) - 1) // 2
        out[i] = np.partition(times, kk, axis=0)[kk] / 60.0
    return out


def bench_figures(result: object, snapshot: object, region: object,
                  sample: int = 2, seed: int = 3) -> dict[str, float]:
    """``pt_analysis_s``, ``pt_speedup_vs_baseline``, ``pt_baseline_s``, ``journey_s``."""
    from dorfkarte import journey
    from dorfkarte.network import network_for

    reg = result.region  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    tt = pt.timetable_for(reg)
    load_s = time.perf_counter() - t0
    st = pt.settings(reg)
    q = pt.default_query(tt, st)
    oxy = result.origin_xy  # type: ignore[attr-defined]
    dests = {c: point_xy(d, reg.crs) for c, d in result.destinations.items()  # type: ignore
             if len(d)}
    names = list(dests)
    walk_net = network_for(snapshot, "walk", reg)  # type: ignore[arg-type]
    t0, c0 = time.perf_counter(), time.process_time()
    model = pt.prepare(tt, reg, q.day, st, walk_net)
    res = pt.analyse_pt(model, oxy, [dests[c] for c in names], q, st, daily=False)
    pt_s = time.perf_counter() - t0
    pt_cpu = time.process_time() - c0
    n_o = len(oxy)
    reach = np.mean([np.isfinite(r.median).mean() for r in res])
    print(f"Bus & Bahn (Fahrplan 2021 – veraltet, {q.label}): {n_o} Ausgangspunkte x "
          f"{len(names)} Kategorien, {len(model.conn)} Fahrtabschnitte, Fußwege "
          f"{'Wegenetz' if model.walker.net is not None else 'Luftlinie'}: {pt_s:.3f} s "
          f"(CPU-Zeit {pt_cpu:.3f} s) "
          f"(Fahrplan laden {load_s:.2f} s, nicht enthalten); im Median erreichbar "
          f"{100 * reach:.0f} % der Paare")
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(n_o, size=min(sample, n_o), replace=False))
    t0, c0 = time.perf_counter(), time.process_time()
    base = _baseline_medians(model, oxy[pick], [dests[c] for c in names], q, st)
    base_s = time.perf_counter() - t0
    base_cpu = time.process_time() - c0
    per_origin = base_s / max(len(pick), 1)
    base_total = per_origin * n_o
    eng = np.column_stack([r.median[pick] for r in res])
    both = np.isfinite(eng) & np.isfinite(base)
    worst = float(np.max(np.abs(eng[both] - base[both]))) if both.any() else 0.0
    same_inf = bool(np.array_equal(np.isinf(eng), np.isinf(base)))
    print(f"Baseline Bus & Bahn (je Ausgangspunkt und Abfahrtsminute eine "
          f"Earliest-Arrival-Suche): {len(pick)} Ausgangspunkte in {base_s:.2f} s = "
          f"{per_origin:.2f} s je Ausgangspunkt, hochgerechnet auf {n_o}: {base_total:.0f} s; "
          f"größte Abweichung der Mediane {worst:.2e} min, unerreichbar gleich: {same_inf}")
    planner = journey.Planner(tt, reg, q.day)
    a = journey.resolve_place("Lütte, Dorf", tt, reg, planner)
    b = journey.resolve_place("Bad Belzig, Bahnhof", tt, reg, planner)
    t0 = time.perf_counter()
    j = planner.plan(a, b, 6 * 3600)
    journey_s = time.perf_counter() - t0
    print(f"Eine Verbindung (journey Lütte, Dorf -> Bad Belzig, Bahnhof ab 06:00, nach dem "
          f"Laden): {journey_s * 1000:.1f} ms; {journey.summary_line(j)}")
    return {"pt_analysis_s": pt_s, "pt_speedup_vs_baseline": base_total / pt_s,
            "pt_baseline_s": base_total, "pt_analysis_cpu_s": pt_cpu,
            "pt_speedup_cpu": base_cpu / max(len(pick), 1) * n_o / max(pt_cpu, 1e-9),
            "journey_s": journey_s}


__all__ = ["bench_figures"]
