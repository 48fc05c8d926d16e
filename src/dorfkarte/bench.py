"""``python -m dorfkarte.bench``: full-region analysis time against a per-origin baseline.

Builds a synthetic, region-sized test world (it is *not* the real region: a perturbed
street grid of about 30,000 walk nodes over 40 x 30 km with 29 villages, 15,000 homes
clustered around them, service points near the villages, a coarser car network with road
classes and maxspeed tags), runs :func:`dorfkarte.coverage.analyse` on it cold (graphs
built inside the timing), and measures in the same run the straightforward alternative:
one single-source shortest-path search per origin and mode, on a sample of origins,
extrapolated to all origins. The baseline's answers are checked against the engine's.

The test world lives in :mod:`dorfkarte.bench_world`. The last line is machine-readable
(``summary_line``); the what-if and suggestion figures come from
:func:`dorfkarte.bench_scenario.bench_figures` (the library never imports a benchmark).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from collections.abc import Sequence

import numpy as np
from scipy.sparse.csgraph import dijkstra

from dorfkarte import network
from dorfkarte.bench_scenario import bench_figures as scenario_figures
from dorfkarte.bench_world import (
    CRS,
    DEST_COUNTS,
    FIRST_FIGURES,
    HEIGHT,
    N_STOPS,
    N_VILLAGES,
    WIDTH,
    X0,
    Y0,
    summary_line,
    synthetic_snapshot,
)
from dorfkarte.coverage import CoverageResult, analyse
from dorfkarte.region import TRANSIT, Region, load_region
from dorfkarte.settings import default_region_path
from dorfkarte.snapshot import Snapshot


def baseline_sample(result: CoverageResult, sample: np.ndarray) -> tuple[float, float]:
    """Per-origin single-source searches (one per origin and mode) on ``sample``.

    Returns seconds spent and the largest difference to the engine's times (minutes or
    metres), which must be ~0.
    """
    fwd = {}
    dest_snap: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    for m, mg in result.network.items():
        if mg.network is None or m == TRANSIT:
            continue
        fwd[m] = mg.network.graph.T.tocsr()  # streets in their own direction
        for c in result.categories:
            d = result.destinations[c]
            g = d.to_crs(result.region.crs).geometry
            dest_snap[(c, m)] = mg.network.snap(np.column_stack([g.x, g.y]))
    worst = 0.0
    t0 = time.perf_counter()
    for o in sample:
        for m, graph in fwd.items():
            mg = result.network[m]
            dist = dijkstra(graph, directed=True, indices=int(mg.origin_node[o]))
            for c in result.categories:
                nodes, offs = dest_snap[(c, m)]
                if len(nodes) == 0:
                    continue
                best = float(np.min(dist[nodes] + offs) + mg.origin_offset[o])
                for key in ((c, m), (c, TRANSIT)) if m == "walk" else ((c, m),):
                    if key not in result.times:
                        continue
                    scale = result.network[key[1]].metres_per_minute if key[1] == TRANSIT \
                        else 1.0
                    eng = result.times[key][o]
                    if np.isfinite(best) or np.isfinite(eng):
                        worst = max(worst, abs(best * scale - eng))
    return time.perf_counter() - t0, worst


def _scenario_figures(result: CoverageResult, snap: Snapshot,
                      region: Region) -> dict[str, float]:
    try:
        return {k: float(v) for k, v in scenario_figures(result, snap, region).items()}
    except Exception as exc:  # a broken add-on must not hide the engine's own figures
        print(f"Hinweis: bench_scenario.bench_figures fehlgeschlagen: {exc}", file=sys.stderr)
        return {}


def run(n_nodes: int = 30000, n_homes: int = 15000, sample: int = 20, seed: int = 1,
        repeats: int = 3, with_scenario: bool = True) -> dict[str, float]:
    region = load_region(default_region_path())
    t0 = time.perf_counter()
    snap = synthetic_snapshot(region, n_nodes, n_homes, seed)
    build_s = time.perf_counter() - t0
    n_walk = len(snap.layers["nodes_walk"])
    print(f"Synthetische Testwelt (keine echten Daten): {n_walk} Fuß-Knoten, "
          f"{len(snap.layers['edges_walk'])} Fuß-Kanten, "
          f"{len(snap.layers['nodes_drive'])} Auto-Knoten, {n_homes} Wohngebäude, "
          f"{len(region.categories)} Kategorien, aufgebaut in {build_s:.1f} s")

    cold, cpu = [], []
    for _ in range(repeats):
        network.clear_cache()
        t0, c0 = time.perf_counter(), time.process_time()
        result = analyse(snap, region)
        cold.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    t0 = time.perf_counter()
    analyse(snap, region)
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    result.with_thresholds({("lebensmittel", "walk"): 20.0})
    slider = time.perf_counter() - t0
    full = min(cold)
    n_o = len(result.origins)
    n_pairs = len(result.times)
    print(f"Vollanalyse (kalt, Graphen inklusive): {full:.3f} s (bestes von {repeats}: "
          + ", ".join(f"{c:.3f}" for c in cold) + f"; CPU-Zeit {min(cpu):.3f} s); "
          f"mit zwischengespeicherten Graphen "
          f"{warm:.3f} s; {n_o} Ausgangspunkte x {n_pairs} Kategorie/Modus-Paare")
    print(f"Schwellen-Regler (with_thresholds): {slider * 1000:.1f} ms")

    rng = np.random.default_rng(seed + 1)
    pick = np.sort(rng.choice(n_o, size=min(sample, n_o), replace=False))
    base_s, worst = baseline_sample(result, pick)
    per_origin = base_s / len(pick)
    base_total = per_origin * n_o
    speedup = base_total / full
    print(f"Baseline (je Ausgangspunkt eine Dijkstra-Suche je Netzmodus, scipy): "
          f"{len(pick)} Ausgangspunkte in {base_s:.2f} s = {per_origin * 1000:.1f} ms je "
          f"Ausgangspunkt, hochgerechnet auf {n_o}: {base_total:.1f} s; "
          f"größte Abweichung zur Vollanalyse {worst:.2e}")

    network.clear_cache()
    tracemalloc.start()
    analyse(snap, region)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_mb = peak / 2**20
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Speicher: Spitze der Analyse {peak_mb:.1f} MB (tracemalloc), "
          f"Prozess max. RSS {rss_mb:.0f} MB")
    figures = {"full_analysis_s": full, "speedup_vs_baseline": speedup, "peak_mb": peak_mb,
               "baseline_s": base_total, "full_analysis_cpu_s": min(cpu),
               "warm_analysis_s": warm,
               "slider_ms": slider * 1000}
    if with_scenario:
        figures.update(_scenario_figures(result, snap, region))
    figures.update(_pt_figures(result, snap, region))
    return figures


def _pt_figures(result: CoverageResult, snap: Snapshot, region: Region) -> dict[str, float]:
    """Mode pt (dorfkarte.bench_pt): PT analysis of the region vs. a per-origin baseline."""
    try:
        from dorfkarte import bench_pt

        return {k: float(v) for k, v in bench_pt.bench_figures(result, snap, region).items()}
    except Exception as exc:  # a broken add-on must not hide the engine's own figures
        print(f"Hinweis: bench_pt.bench_figures fehlgeschlagen: {exc}", file=sys.stderr)
        return {}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dorfkarte.bench", description=__doc__.split(
        "\n")[0])
    p.add_argument("--nodes", type=int, default=30000, help="Fuß-Knoten (Standard 30000)")
    p.add_argument("--homes", type=int, default=15000, help="Wohngebäude (Standard 15000)")
    p.add_argument("--sample", type=int, default=20,
                   help="Ausgangspunkte für die Baseline-Stichprobe (Standard 20)")
    p.add_argument("--repeats", type=int, default=3, help="Wiederholungen der Vollanalyse")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-scenario", action="store_true",
                   help="Kennzahlen von dorfkarte.bench_scenario nicht einbeziehen")
    a = p.parse_args(argv)
    figures = run(a.nodes, a.homes, a.sample, a.seed, a.repeats, not a.no_scenario)
    print(summary_line(figures))
    return 0


__all__ = [
    "CRS", "DEST_COUNTS", "FIRST_FIGURES", "HEIGHT", "N_STOPS", "N_VILLAGES", "WIDTH", "X0", "Y0",
    "baseline_sample", "main", "run", "summary_line", "synthetic_snapshot",
]


if __name__ == "__main__":
    sys.exit(main())

