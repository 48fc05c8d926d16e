"""``python -m dorfkarte.bench``: full-region analysis time against a per-origin baseline.

Builds a synthetic, region-sized test world (it is *not* the real region: a perturbed
street grid of about 30,000 walk nodes over 40 x 30 km with 29 villages, 15,000 homes
clustered around them, service points near the villages, a coarser car network with road
classes and maxspeed tags), runs :func:`dorfkarte.coverage.analyse` on it cold (graphs
built inside the timing), and measures in the same run the straightforward alternative:
one single-source shortest-path search per origin and mode, on a sample of origins,
extrapolated to all origins. The baseline's answers are checked against the engine's.

The last line is machine-readable (``summary_line``); other modules may add figures via
``dorfkarte.scenario.bench_figures(result, snapshot, region) -> dict[str, float]``.
"""

from __future__ import annotations

import argparse
import importlib
import resource
import sys
import time
import tracemalloc
from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra

from dorfkarte import network
from dorfkarte.coverage import CoverageResult, analyse
from dorfkarte.region import TRANSIT, Region, load_region
from dorfkarte.settings import default_region_path
from dorfkarte.snapshot import Snapshot

CRS = "EPSG:25833"
X0, Y0 = 290000.0, 5770000.0  # south-west corner, near the Hoher Fläming
WIDTH, HEIGHT = 40000.0, 30000.0
N_VILLAGES = 29
#: service points per category in the synthetic world (roughly a rural Mittelbereich)
DEST_COUNTS = {"lebensmittel": 25, "hausarzt": 10, "zahnarzt": 6, "apotheke": 5,
               "grundschule": 8, "kita": 15, "bank": 8, "post": 6, "treffpunkt": 30,
               "pflege": 5, "verwaltung": 2}
N_STOPS = 150
FIRST_FIGURES = ("full_analysis_s", "speedup_vs_baseline", "peak_mb")


def summary_line(figures: Mapping[str, float]) -> str:
    """``key=value`` pairs, the three required figures first, then any others in order."""
    keys = [k for k in FIRST_FIGURES if k in figures]
    keys += [k for k in figures if k not in FIRST_FIGURES]
    return " ".join(f"{k}={float(figures[k]):.3f}" for k in keys)


def _gdf(data: dict, geoms: np.ndarray) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(data, geometry=geoms, crs=CRS)


def synthetic_snapshot(region: Region, n_nodes: int = 30000, n_homes: int = 15000,
                       seed: int = 1) -> Snapshot:
    """A synthetic region-sized snapshot (labelled as such in every layer's source)."""
    rng = np.random.default_rng(seed)
    # smaller runs shrink the area, keeping the street spacing (~200 m) realistic
    scale = min(1.0, np.sqrt(n_nodes / 30000))
    width, height = WIDTH * scale, HEIGHT * scale
    ny = max(2, int(round(np.sqrt(n_nodes * HEIGHT / WIDTH))))
    nx = max(2, int(round(n_nodes / ny)))
    dx, dy = width / (nx - 1), height / (ny - 1)
    ii, jj = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()
    x = X0 + ii * dx + rng.uniform(-0.2, 0.2, ii.size) * dx
    y = Y0 + jj * dy + rng.uniform(-0.2, 0.2, jj.size) * dy
    nid = ii * ny + jj + 1
    src = "synthetisch (Benchmark, keine echten Daten)"

    def grid_edges(step: int, drop: float) -> tuple[np.ndarray, np.ndarray]:
        on = (ii % step == 0) & (jj % step == 0)
        idx = np.flatnonzero(on)
        right = idx[(ii[idx] + step) < nx]
        up = idx[(jj[idx] + step) < ny]
        u = np.concatenate([right, up])
        v = np.concatenate([right + step * ny, up + step])
        keep = rng.random(u.size) >= drop
        return u[keep], v[keep]

    def layers(u: np.ndarray, v: np.ndarray, mode: str, drive: bool) -> None:
        used = np.unique(np.concatenate([u, v]))
        length = np.hypot(x[u] - x[v], y[u] - y[v]) * 1.1
        lines = shapely.linestrings(np.stack([np.column_stack([x[u], y[u]]),
                                              np.column_stack([x[v], y[v]])], axis=1))
        cols: dict = {"u": nid[u], "v": nid[v], "key": 0, "length": length}
        if drive:
            main = (ii[u] % 10 == 0) | (jj[u] % 10 == 0)
            cols["highway"] = np.where(main, "secondary", "residential")
            r = rng.random(u.size)
            cols["maxspeed"] = np.where(main, np.where(r < 0.5, "DE:rural", "70"),
                                        np.where(r < 0.3, "30", None))
            cols["oneway"] = np.where(rng.random(u.size) < 0.02, "yes", "no")
        else:
            cols["highway"] = "footway"
            cols["maxspeed"] = None
            cols["oneway"] = False
        snap.add(f"nodes_{mode}", _gdf({"osmid": nid[used]},
                                       shapely.points(x[used], y[used])), source=src)
        snap.add(f"edges_{mode}", _gdf(cols, lines), source=src)

    snap = Snapshot(region_id=region.id)
    wu, wv = grid_edges(1, 0.1)
    layers(wu, wv, "walk", drive=False)
    layers(wu, wv, "bike", drive=False)
    du, dv = grid_edges(2, 0.05)
    layers(du, dv, "drive", drive=True)

    vx = X0 + rng.uniform(0.05, 0.95, N_VILLAGES) * width
    vy = Y0 + rng.uniform(0.05, 0.95, N_VILLAGES) * height
    size = rng.pareto(1.2, N_VILLAGES) + 1.0
    size[0] *= 20  # one small town
    pop = np.round(size / size.sum() * 16000)
    extent = shapely.box(X0, Y0, X0 + width, Y0 + height)
    cells = list(shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(np.column_stack([vx, vy])), extend_to=extent)))
    polys = []
    for px, py in zip(vx, vy, strict=True):
        cell = next(c for c in cells if c.covers(shapely.Point(px, py)))
        polys.append(shapely.intersection(cell, extent))
    snap.add("districts", _gdf({
        "name": [f"Testdorf {k + 1:02d}" for k in range(N_VILLAGES)],
        "municipality": "Testgemeinde", "kind": "ortsteil", "population": pop,
        "approx": False, "source": src}, np.array(polys, dtype=object)), source=src)

    which = rng.choice(N_VILLAGES, size=n_homes, p=size / size.sum())
    spread = 150 + 80 * np.sqrt(size[which])
    hx = np.clip(vx[which] + rng.normal(0, 1, n_homes) * spread, X0, X0 + width)
    hy = np.clip(vy[which] + rng.normal(0, 1, n_homes) * spread, Y0, Y0 + height)
    snap.add("homes", _gdf({"osm_id": np.arange(n_homes).astype(str), "kind": "building"},
                           shapely.points(hx, hy)), source=src)

    rows, px, py = [], [], []
    for cat, count in DEST_COUNTS.items():
        if cat not in region.categories:
            continue
        at = rng.choice(N_VILLAGES, size=count, p=size / size.sum())
        for k, v in enumerate(at):
            rows.append({"osm_id": f"{cat}-{k}", "name": f"{cat} {k + 1}", "category": cat,
                         "source": "osm"})
            px.append(vx[v] + rng.normal(0, 200))
            py.append(vy[v] + rng.normal(0, 200))
    snap.add("amenities", _gdf(pd.DataFrame(rows).to_dict("list"),
                               shapely.points(px, py)), source=src)
    sv = rng.integers(0, N_VILLAGES, N_STOPS)
    snap.add("stops", _gdf({
        "stop_id": [f"s{k}" for k in range(N_STOPS)],
        "name": [f"Haltestelle {k}" for k in range(N_STOPS)],
        "weight": rng.choice([2.0, 8.0, 20.0, 60.0, 200.0], N_STOPS), "poles": 1},
        shapely.points(vx[sv] + rng.normal(0, 500, N_STOPS),
                       vy[sv] + rng.normal(0, 500, N_STOPS))), source=src)
    return snap


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
        scenario = importlib.import_module("dorfkarte.scenario")
    except ModuleNotFoundError:
        return {}
    fn = getattr(scenario, "bench_figures", None)
    if fn is None:
        return {}
    try:
        return {k: float(v) for k, v in fn(result, snap, region).items()}
    except Exception as exc:  # a broken add-on must not hide the engine's own figures
        print(f"Hinweis: scenario.bench_figures fehlgeschlagen: {exc}", file=sys.stderr)
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
                   help="Kennzahlen von dorfkarte.scenario nicht einbeziehen")
    a = p.parse_args(argv)
    figures = run(a.nodes, a.homes, a.sample, a.seed, a.repeats, not a.no_scenario)
    print(summary_line(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
