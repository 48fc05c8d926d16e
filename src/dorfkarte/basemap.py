"""Base-map layers generalised for a file: few features, few vertices, small JSON.

The map builder draws landuse, water and roads from the snapshot as they are. For an HTML
file that must stay under a few MB and open in a second or two, they are first reduced:
only the classes the map draws, tiny areas and short streams dropped, lines and areas
simplified in metres and gathered into one multi-geometry per class (a few SVG paths
instead of thousands), coordinates rounded to about 10 m. The tolerance grows until the
vertex budget holds, so even a dense snapshot yields a bounded file.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dorfkarte.region import Region
from dorfkarte.snapshot import LANDUSE, ROADS, WATER, LayerInfo, Snapshot

#: Classes the map builder styles (others are not drawn, so not shipped).
LAND_CLASSES = ("forest", "wood", "residential", "farmland", "meadow", "grass")
ROAD_CLASSES = ("motorway", "trunk", "primary", "secondary", "tertiary", "unclassified",
                "residential", "living_street")
#: Vertices of all base-map layers together; ~20 bytes each in GeoJSON (roads are drawn
#: twice, casing and fill), so 30k vertices stay near 1 MB of the 5 MB file budget and
#: keep Chromium's drawing (software rendering on a laptop without GPU) short.
MAX_VERTICES = 30_000
START_TOLERANCE_M = 12.0
MAX_TOLERANCE_M = 400.0
DECIMALS = 4  # ~11 m north-south, ~7 m east-west here: below the simplification tolerance


@dataclass
class Generalised:
    """The reduced snapshot and what was done (for notes and the benchmark)."""

    snapshot: Snapshot
    tolerance_m: float
    vertices_before: int
    vertices_after: int


def _vertices(layers: dict[str, gpd.GeoDataFrame | None]) -> int:
    return int(sum(shapely.get_num_coordinates(g.geometry.to_numpy()).sum()
                   for g in layers.values() if g is not None and len(g)))


def _round(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda c: np.round(c, DECIMALS))


def _merge_by_class(gdf: gpd.GeoDataFrame, column: str, kind: str,
                    tol: float) -> gpd.GeoDataFrame:
    """One (multi-)geometry per class, lightly simplified first so the union stays cheap."""
    rows, geoms = [], []
    for cls, grp in gdf.groupby(column, sort=True):
        # Lines need no topology care (and are 5x faster without); areas must stay valid.
        g = shapely.simplify(grp.geometry.to_numpy(), tol, preserve_topology=kind == "area")
        if kind == "line":
            parts = shapely.get_parts(g)
            merged = shapely.multilinestrings(parts[~shapely.is_empty(parts)])
        else:
            merged = shapely.union_all(g)
        if merged is None or shapely.is_empty(merged):
            continue
        rows.append(cls)
        geoms.append(merged)
    return gpd.GeoDataFrame({column: rows}, geometry=geoms, crs=gdf.crs)


def _landuse(gdf: gpd.GeoDataFrame | None, tol: float, crs: str) -> gpd.GeoDataFrame | None:
    if gdf is None or not len(gdf) or "class" not in gdf:
        return None
    g = gdf[gdf["class"].astype(str).isin(LAND_CLASSES)].to_crs(crs)
    g = g[g.geom_type.isin(["Polygon", "MultiPolygon"])]
    min_area = max(5_000.0, (6 * tol) ** 2)
    area = g.geometry.area
    g = g[(area >= min_area) | ((g["class"] == "residential") & (area >= min_area / 4))]
    return _merge_by_class(g, "class", "area", tol) if len(g) else None


def _water(gdf: gpd.GeoDataFrame | None, tol: float, crs: str) -> gpd.GeoDataFrame | None:
    if gdf is None or not len(gdf):
        return None
    g = gdf.to_crs(crs)
    if "class" not in g:
        g = g.assign(**{"class": "water"})
    poly = g[g.geom_type.isin(["Polygon", "MultiPolygon"])]
    poly = poly[poly.geometry.area >= max(2_000.0, (4 * tol) ** 2)]
    lines = g[g.geom_type.isin(["LineString", "MultiLineString"])]
    lines = lines[lines.geometry.length >= max(200.0, 15 * tol)]
    frames = []
    if len(poly):
        frames.append(_merge_by_class(poly.assign(**{"class": "water"}), "class", "area", tol))
    if len(lines):
        frames.append(_merge_by_class(lines, "class", "line", tol))
    if not frames:
        return None
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                            crs=crs)


def _roads(gdf: gpd.GeoDataFrame | None, tol: float, crs: str) -> gpd.GeoDataFrame | None:
    if gdf is None or not len(gdf) or "highway" not in gdf:
        return None
    g = gdf[gdf["highway"].astype(str).isin(ROAD_CLASSES)].to_crs(crs)
    g = g[g.geom_type.isin(["LineString", "MultiLineString"])]
    return _merge_by_class(g, "highway", "line", tol) if len(g) else None


def _finish(gdf: gpd.GeoDataFrame | None, tol: float) -> gpd.GeoDataFrame | None:
    """Simplify the merged geometries at ``tol`` metres, then degrees rounded."""
    if gdf is None:
        return None
    geoms = gdf.geometry.to_numpy()
    areas = shapely.get_type_id(geoms) >= 3  # (Multi)Polygon
    g = geoms.copy()
    g[areas] = shapely.simplify(geoms[areas], tol, preserve_topology=True)
    g[~areas] = shapely.simplify(geoms[~areas], tol, preserve_topology=False)
    out = gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=g,
                           crs=gdf.crs).to_crs("EPSG:4326")
    out = out.set_geometry(_round(out.geometry.to_numpy()), crs="EPSG:4326")
    return out[~out.geometry.is_empty].reset_index(drop=True)


def generalise(snapshot: Snapshot, region: Region, *, max_vertices: int = MAX_VERTICES,
               tolerance_m: float = START_TOLERANCE_M) -> Generalised:
    """A shallow copy of ``snapshot`` with landuse, water and roads reduced for a file."""
    src = {name: snapshot.get(name) for name in (LANDUSE, WATER, ROADS)}
    before = _vertices(src)
    out = Snapshot(region_id=snapshot.region_id, layers=dict(snapshot.layers),
                   info=dict(snapshot.info), path=snapshot.path)
    if before == 0:
        return Generalised(out, 0.0, 0, 0)
    tol = tolerance_m
    merged = {LANDUSE: _landuse(src[LANDUSE], tol, region.crs),
              WATER: _water(src[WATER], tol, region.crs),
              ROADS: _roads(src[ROADS], tol, region.crs)}
    while True:
        made = {name: _finish(gdf, tol) for name, gdf in merged.items()}
        after = _vertices(made)
        if after <= max_vertices or tol >= MAX_TOLERANCE_M:
            break
        tol *= 2
    for name, gdf in made.items():
        if src[name] is None:
            continue
        old = snapshot.info.get(name)
        note = f"für die Karte vereinfacht (Toleranz {tol:g} m)"
        if gdf is None:
            out.layers.pop(name, None)
            out.info.pop(name, None)
            continue
        out.layers[name] = gdf
        if old is not None:
            out.info[name] = LayerInfo(
                name=old.name, source=old.source, licence=old.licence,
                fetched_at=old.fetched_at, count=len(gdf),
                note=f"{old.note}; {note}" if old.note else note, embedded=old.embedded)
    return Generalised(out, tol, before, after)


#: Last few reductions, by the identity of the source layers (the app builds one map per
#: category/mode/language from the same snapshot: reduce once).
_LIGHT_CACHE: list[tuple[tuple[object, ...], Snapshot]] = []
_LIGHT_CACHE_SIZE = 4


def light_base(snapshot: Snapshot, region: Region, *,
               max_vertices: int = MAX_VERTICES) -> Snapshot:
    """The snapshot with its base-map layers reduced only if they exceed the vertex budget.

    For the app's own base map: a full OSM snapshot has ~10^5-10^6 road vertices, far more
    than a screen-sized map can show, and every one would be sent to the browser and drawn.
    Small (or already generalised) layers are returned untouched, without copying.
    """
    layers = tuple(snapshot.get(name) for name in (LANDUSE, WATER, ROADS))
    if _vertices(dict(zip((LANDUSE, WATER, ROADS), layers, strict=True))) <= max_vertices:
        return snapshot
    for key, out in _LIGHT_CACHE:
        if len(key) == len(layers) and all(a is b for a, b in zip(key, layers, strict=True)):
            return out
    out = generalise(snapshot, region, max_vertices=max_vertices).snapshot
    _LIGHT_CACHE.append((layers, out))
    del _LIGHT_CACHE[:-_LIGHT_CACHE_SIZE]
    return out
