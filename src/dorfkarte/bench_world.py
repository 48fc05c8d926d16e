"""The benchmarks' synthetic, region-sized test world (not real data) and their last line.

Shared by :mod:`dorfkarte.bench` and :mod:`dorfkarte.bench_scenario` (so neither imports
the other's entry point): a perturbed street grid of about 30,000 walk nodes over
40 x 30 km with 29 villages, 15,000 homes clustered around them, service points near the
villages, a coarser car network with road classes and maxspeed tags.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dorfkarte.region import Region
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
