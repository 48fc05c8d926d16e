"""Base-map generalisation for exports: bounded vertices, drawn classes only, same sources.

All geometries here are SYNTHETIC, made by the test.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from dorfkarte.basemap import generalise
from dorfkarte.region import Region
from dorfkarte.snapshot import Snapshot

SYNTH = "SYNTHETISCH (tests/test_export_basemap.py)"


def dense_snapshot(seed: int = 1) -> Snapshot:
    rng = np.random.default_rng(seed)
    snap = Snapshot(region_id="hoher-flaeming")
    roads = []
    for _ in range(300):
        start = rng.uniform([12.4, 52.05], [12.7, 52.25])
        heading = rng.uniform(0, 6.3) + np.cumsum(rng.normal(0, 0.03, 120))
        xy = start + np.cumsum(np.c_[np.cos(heading) / 6800, np.sin(heading) / 11100], axis=0)
        roads.append(LineString(xy))  # a vertex every ~10 m
    hw = rng.choice(["residential", "secondary", "track", "footway"], len(roads))
    snap.add("roads", gpd.GeoDataFrame({"highway": hw}, geometry=roads, crs="EPSG:4326"),
             source=SYNTH, licence="test")
    polys = []
    for _ in range(200):
        c = rng.uniform([12.4, 52.05], [12.7, 52.25])
        a = np.linspace(0, 2 * np.pi, 400, endpoint=False)
        r = rng.uniform(100, 600) * (1 + 0.2 * np.sin(3 * a))
        polys.append(Polygon(np.c_[c[0] + r * np.cos(a) / 68000, c[1] + r * np.sin(a) / 111000]))
    cls = rng.choice(["forest", "farmland", "quarry"], len(polys))
    snap.add("landuse", gpd.GeoDataFrame({"class": cls}, geometry=polys, crs="EPSG:4326"),
             source=SYNTH)
    snap.add("water", gpd.GeoDataFrame(
        {"class": ["stream", "stream"]},
        geometry=[LineString([(12.45, 52.1), (12.46, 52.1)]),  # 700 m
                  LineString([(12.5, 52.1), (12.5001, 52.1)])],  # 7 m: dropped
        crs="EPSG:4326"), source=SYNTH)
    return snap


def n_vertices(gdf: gpd.GeoDataFrame) -> int:
    return int(shapely.get_num_coordinates(gdf.geometry.to_numpy()).sum())


def test_generalise_bounds_vertices_and_keeps_drawn_classes(region: Region) -> None:
    snap = dense_snapshot()
    g = generalise(snap, region, max_vertices=1_000)
    assert g.vertices_before > 50_000
    assert g.vertices_after <= 1_000
    assert g.tolerance_m > 12  # had to coarsen to meet the budget
    roads = g.snapshot.get("roads")
    assert set(roads["highway"]) == {"residential", "secondary"}  # track/footway not drawn
    assert len(roads) == 2 and (roads.geom_type == "MultiLineString").all()
    land = g.snapshot.get("landuse")
    assert set(land["class"]) == {"forest", "farmland"}
    assert str(land.crs) == "EPSG:4326" and land.is_valid.all()
    # Coordinates rounded to 4 decimals: the JSON stays short.
    xy = shapely.get_coordinates(land.geometry.to_numpy())
    assert np.allclose(xy, np.round(xy, 4))
    water = g.snapshot.get("water")
    assert len(water) == 1 and n_vertices(water) == 2
    # Provenance kept, with a note; the original snapshot is untouched.
    assert g.snapshot.info["roads"].source == SYNTH and g.snapshot.info["roads"].licence == "test"
    assert "vereinfacht" in g.snapshot.info["roads"].note
    assert len(snap.get("roads")) == 300 and snap.info["roads"].note == ""


def test_generalise_keeps_area_shape(region: Region) -> None:
    snap = dense_snapshot(seed=2)
    g = generalise(snap, region)  # default budget
    before = snap.get("landuse")
    before = before[before["class"] == "forest"].to_crs(region.crs).union_all()
    after = g.snapshot.get("landuse")
    after = after[after["class"] == "forest"].to_crs(region.crs).union_all()
    # Same forest within a few per cent (union of overlaps, simplification, dropped slivers).
    assert abs(after.area - before.area) / before.area < 0.05
    assert after.symmetric_difference(before).area / before.area < 0.08


def test_generalise_without_base_layers_is_a_no_op(region: Region) -> None:
    snap = Snapshot(region_id="x")
    g = generalise(snap, region)
    assert g.vertices_before == 0 and g.snapshot.layers == {}


def test_light_base_reduces_only_heavy_snapshots_and_once(region: Region) -> None:
    """The app's own base map: a dense snapshot is reduced (once per snapshot), a light one
    is used as it is."""
    from dorfkarte.basemap import MAX_VERTICES, light_base

    snap = dense_snapshot(seed=3)
    assert n_vertices(snap.get("roads")) + n_vertices(snap.get("landuse")) > MAX_VERTICES
    light = light_base(snap, region)
    assert light is not snap
    total = sum(n_vertices(light.get(n)) for n in ("roads", "landuse", "water"))
    assert total <= MAX_VERTICES
    assert light_base(snap, region) is light  # cached by the layers' identity
    assert light_base(light, region) is light  # already within the budget: untouched
    assert len(snap.get("roads")) == 300  # the source snapshot is not changed
