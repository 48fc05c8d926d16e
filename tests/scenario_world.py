"""A tiny synthetic world for the what-if engine and the scenario panel (made here, not
real data): a 16 x 12 street grid with 200 m spacing in EPSG:25833, two districts
(west/east), homes around two villages, three shops. Plain functions and constants.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from dorfkarte.snapshot import Snapshot

CRS = "EPSG:25833"
X0, Y0 = 300000.0, 5780000.0
NX, NY, STEP = 16, 12, 200.0
SRC = "synthetisch (Test, keine echten Daten)"
CAT = "lebensmittel"


def gdf(data: dict, geoms: list | np.ndarray) -> gpd.GeoDataFrame:
    """Columns with geometries in the world's CRS (metres)."""
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=CRS)


def world(seed: int = 0, shops: tuple[tuple[float, float], ...] = ((2, 2), (13, 9), (7, 6))
          ) -> Snapshot:
    """The grid world; ``seed`` places the homes, ``shops`` are grid cells of the shops."""
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(NX), np.arange(NY), indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()
    x, y = X0 + ii * STEP, Y0 + jj * STEP
    nid = ii * NY + jj + 1
    right = np.flatnonzero(ii + 1 < NX)
    up = np.flatnonzero(jj + 1 < NY)
    u = np.concatenate([right, up])
    v = np.concatenate([right + NY, up + 1])
    snap = Snapshot(region_id="test")
    lines = [shapely.LineString([(x[a], y[a]), (x[b], y[b])]) for a, b in zip(u, v, strict=True)]
    for mode in ("walk", "bike", "drive"):
        snap.add(f"nodes_{mode}", gdf({"osmid": nid}, shapely.points(x, y)), source=SRC)
        snap.add(f"edges_{mode}", gdf({
            "u": nid[u], "v": nid[v], "key": 0, "length": np.full(len(u), STEP),
            "highway": "residential", "maxspeed": "30", "oneway": "no"}, lines), source=SRC)
    w = X0 + NX * STEP / 2
    snap.add("districts", gdf({
        "name": ["Westdorf", "Ostdorf"], "municipality": "Testgemeinde", "kind": "ortsteil",
        "population": [600.0, 400.0], "approx": False, "source": SRC},
        [shapely.box(X0 - 100, Y0 - 100, w, Y0 + NY * STEP),
         shapely.box(w, Y0 - 100, X0 + NX * STEP, Y0 + NY * STEP)]), source=SRC)
    centres = np.array([[X0 + 3 * STEP, Y0 + 3 * STEP], [X0 + 12 * STEP, Y0 + 8 * STEP]])
    hx = np.concatenate([c[0] + rng.normal(0, 350, 60) for c in centres])
    hy = np.concatenate([c[1] + rng.normal(0, 350, 60) for c in centres])
    hx = np.clip(hx, X0, X0 + (NX - 1) * STEP)
    hy = np.clip(hy, Y0, Y0 + (NY - 1) * STEP)
    snap.add("homes", gdf({"osm_id": [str(k) for k in range(len(hx))], "kind": "building"},
                           shapely.points(hx, hy)), source=SRC)
    snap.add("amenities", gdf({
        "osm_id": [f"shop{k}" for k in range(len(shops))],
        "name": [f"Laden {k}" for k in range(len(shops))], "category": CAT,
        "source": "osm"}, [shapely.Point(X0 + a * STEP + 30, Y0 + b * STEP + 20)
                           for a, b in shops]), source=SRC)
    sx = X0 + np.array([1, 4, 8, 11, 14, 3, 12]) * STEP + 15
    sy = Y0 + np.array([1, 4, 6, 8, 10, 9, 2]) * STEP + 10
    snap.add("stops", gdf({"stop_id": [f"s{k}" for k in range(len(sx))],
                            "name": [f"Halt {k}" for k in range(len(sx))],
                            "weight": 50.0, "poles": 1}, shapely.points(sx, sy)), source=SRC)
    return snap
