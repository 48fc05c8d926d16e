"""``python -m dorfkarte.bench_scenario``: what-if and suggestion timings on the benchmark world.

Uses the benchmarks' synthetic, region-sized test world (:mod:`dorfkarte.bench_world`: not
real data); :mod:`dorfkarte.bench` adds these figures to its own last line. Measured in
one run, each against the obvious alternative:

- ``whatif_ms``: median of adding / removing one service point (all modes of the
  category, indicators included) with :class:`dorfkarte.scenario.WhatIf`; baseline: a
  fresh :func:`~dorfkarte.coverage.analyse` of that one category with the changed points.
- ``suggest_k5_s``: the k = 5 best new sites for one category (walk, exact MCLP including
  the candidate x origin times, greedy for comparison); spopt's one-off import time is
  reported separately (``spopt_import_s``) because it is paid once per process.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import geopandas as gpd
import numpy as np

from dorfkarte.bench_world import summary_line, synthetic_snapshot
from dorfkarte.coverage import CoverageResult, analyse
from dorfkarte.region import Region, load_region
from dorfkarte.scenario import WhatIf, candidate_sites, dest_ref, suggest
from dorfkarte.settings import default_region_path
from dorfkarte.snapshot import Snapshot

CATEGORY = "lebensmittel"


def bench_figures(result: CoverageResult, snapshot: Snapshot, region: Region, *,
                  category: str = CATEGORY, n_ops: int = 10, seed: int = 7,
                  verbose: bool = True) -> dict[str, float]:
    """``whatif_ms``, ``suggest_k5_s`` and companions, measured on ``result``."""
    rng = np.random.default_rng(seed)
    wi = WhatIf(result)
    dest = result.destinations[category]
    bounds = result.origins.total_bounds  # EPSG:4326
    add_ms, rem_ms = [], []
    cpu0 = time.process_time()
    for i in range(n_ops):
        lon = float(rng.uniform(bounds[0], bounds[2]))
        lat = float(rng.uniform(bounds[1], bounds[3]))
        add_ms.append(wi.add(category, lat, lon, name=f"Test {i}").ms)
        k = int(rng.integers(0, len(dest)))
        if wi.active(category)[k]:
            rem_ms.append(wi.remove(category, dest_ref(dest, k)).ms)
    cpu_ms = (time.process_time() - cpu0) * 1000 / max(1, len(add_ms) + len(rem_ms))
    whatif = float(np.median(add_ms + rem_ms))
    # baseline: the same category re-analysed from scratch with one more point
    modes = sorted({m for (c, m) in result.times if c == category})
    extra = gpd.GeoDataFrame({"name": ["Test"], "category": [category]},
                             geometry=gpd.points_from_xy([bounds[0] / 2 + bounds[2] / 2],
                                                         [bounds[1] / 2 + bounds[3] / 2]),
                             crs="EPSG:4326")
    t0 = time.perf_counter()
    analyse(snapshot, region, categories=[category], modes=modes, extra_destinations=extra)
    base_ms = (time.perf_counter() - t0) * 1000

    t0 = time.perf_counter()
    import spopt.locate  # noqa: F401  (one-off import, measured on its own)

    import_s = time.perf_counter() - t0
    cands = candidate_sites(snapshot, region, include=("stop", "centre"),
                            districts=result.districts)
    t0 = time.perf_counter()
    sg = suggest(result, category, "walk", 5, method="exact", candidates=cands)
    suggest_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    suggest(result, category, "walk", 5, method="greedy", candidates=cands)
    greedy_s = time.perf_counter() - t0
    gap = sg.greedy.gap if sg.greedy is not None and sg.greedy.gap is not None else float("nan")
    if verbose:
        print(f"Was-wäre-wenn ({category}, {len(modes)} Modi, {len(result.origins)} "
              f"Ausgangspunkte): Hinzufügen Median {np.median(add_ms):.1f} ms, Entfernen "
              f"Median {np.median(rem_ms) if rem_ms else float('nan'):.1f} ms (CPU-Zeit im Mittel "
              f"{cpu_ms:.1f} ms); Neuberechnung "
              f"der Kategorie {base_ms:.0f} ms (x{base_ms / whatif:.1f})")
        print(f"Vorschlag k=5 (exaktes MCLP, {len(cands)} Kandidaten, inkl. Fahrzeitmatrix): "
              f"{suggest_s:.2f} s, optimal={sg.solution.optimal}; Greedy allein "
              f"{greedy_s:.2f} s, Abstand zum Optimum {100 * gap:.2f} %; "
              f"spopt-Import (einmalig) {import_s:.1f} s")
    return {"whatif_ms": whatif, "suggest_k5_s": suggest_s,
            "whatif_add_ms": float(np.median(add_ms)),
            "whatif_remove_ms": float(np.median(rem_ms)) if rem_ms else float("nan"),
            "whatif_cpu_ms": cpu_ms, "whatif_baseline_ms": base_ms, "suggest_greedy_s": greedy_s,
            "greedy_gap": gap, "spopt_import_s": import_s}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m dorfkarte.bench_scenario",
                                description=__doc__.split("\n")[0])
    p.add_argument("--nodes", type=int, default=30000)
    p.add_argument("--homes", type=int, default=15000)
    p.add_argument("--ops", type=int, default=10, help="Änderungen je Art (Standard 10)")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    region = load_region(default_region_path())
    snap = synthetic_snapshot(region, a.nodes, a.homes, a.seed)
    print(f"Synthetische Testwelt (keine echten Daten): {len(snap.layers['nodes_walk'])} "
          f"Fuß-Knoten, {a.homes} Wohngebäude")
    result = analyse(snap, region)
    figures = bench_figures(result, snap, region, n_ops=a.ops)
    print(summary_line(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
