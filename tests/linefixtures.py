"""Tiny synthetic line networks whose answers are known by hand (shared by coverage tests).

Test region: walk 6 km/h (100 m/min), bike 12 km/h (200 m/min), car snapping at the
``service`` speed 6 km/h (100 m/min), residential streets 30 km/h (500 m/min). Coordinates
are metres in EPSG:25833 around (300000, 5780000). Plain functions; the ``test_region``
fixture (``conftest.py``) writes the region with :func:`write_line_region`.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, Point, box

from dorfkarte.region import Region, load_region
from dorfkarte.snapshot import Snapshot

X0, Y0 = 300000.0, 5780000.0
CRS = "EPSG:25833"

REGION_TOML = """
[region]
id = "testland"
name = "Testland"
crs = "EPSG:25833"
grid_m = 100

[[municipalities]]
name = "Testgemeinde"

[districts]
source = "centres"
centres_file = "centres.csv"

[transit]
min_weight = 10

[modes.walk]
speed_kmh = 6
[modes.bike]
speed_kmh = 12
[modes.drive]
urban_kmh = 60
rural_kmh = 90
[modes.drive.highway_kmh]
residential = 30
service = 6
[modes.straight_line]
detour_factor = 1.5

[gap_classes]
ok_share = 0.9
knapp_share = 0.5

[defaults.thresholds.walk]
minutes = 10
[defaults.thresholds.bike]
minutes = 10
[defaults.thresholds.drive]
minutes = 10
[defaults.thresholds.transit]
metres = 500

[categories.laden]
label = "Laden"
osm = ["shop=supermarket"]

[categories.arzt]
label = "Arzt"
osm = ["amenity=doctors"]

[categories.bus]
label = "Bus"
source = "transit"
osm = []
"""

CENTRES_CSV = """name,municipality,kind,population,lat,lon
Ahaus,Testgemeinde,ortsteil,100,52.16,13.2
Beheim,Testgemeinde,ortsteil,,52.2,13.2
"""


def write_line_region(folder: Path) -> Region:
    """The test region (``REGION_TOML`` with its ``CENTRES_CSV``) written to ``folder``."""
    (folder / "centres.csv").write_text(CENTRES_CSV, encoding="utf-8")
    p = folder / "testland.toml"
    p.write_text(REGION_TOML, encoding="utf-8")
    return load_region(p)


def gdf(rows: list[dict], geoms: list) -> gpd.GeoDataFrame:
    """Rows with geometries in the test CRS (metres)."""
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)


def line_network(snap: Snapshot, mode: str, xs: list[float], y: float, id0: int,
                 **edge_cols) -> None:
    """A straight street along ``xs`` at height ``y`` added to (or joined to) ``mode``'s net."""
    nodes = gdf([{"osmid": id0 + i} for i in range(len(xs))],
                [Point(X0 + x, Y0 + y) for x in xs])
    edges = gdf(
        [{"u": id0 + i, "v": id0 + i + 1, "key": 0, "length": xs[i + 1] - xs[i],
          "highway": "residential", "maxspeed": None, "oneway": False, **edge_cols}
         for i in range(len(xs) - 1)],
        [LineString([(X0 + xs[i], Y0 + y), (X0 + xs[i + 1], Y0 + y)])
         for i in range(len(xs) - 1)],
    )
    if f"nodes_{mode}" in snap.layers:
        nodes = pd.concat([snap.layers[f"nodes_{mode}"].to_crs(CRS), nodes], ignore_index=True)
        edges = pd.concat([snap.layers[f"edges_{mode}"].to_crs(CRS), edges], ignore_index=True)
    snap.add(f"nodes_{mode}", gpd.GeoDataFrame(nodes, crs=CRS), source="test")
    snap.add(f"edges_{mode}", gpd.GeoDataFrame(edges, crs=CRS), source="test")


def line_snapshot(with_network: bool = True) -> Snapshot:
    """District Ahaus: a 1 km street (x 0..1000); Beheim: a separate 100 m street at y=5000.

    Ahaus's polygon ends at x=600, so the shop at x=1000 lies outside the region.
    """
    snap = Snapshot(region_id="testland")
    snap.add("districts", gdf(
        [{"name": "Ahaus", "municipality": "Testgemeinde", "kind": "ortsteil",
          "population": 100.0, "approx": False, "source": "test"},
         {"name": "Beheim", "municipality": "Testgemeinde", "kind": "ortsteil",
          "population": np.nan, "approx": False, "source": "test"}],
        [box(X0 - 50, Y0 - 100, X0 + 600, Y0 + 100),
         box(X0 - 50, Y0 + 4900, X0 + 200, Y0 + 5100)]), source="test")
    snap.add("homes", gdf(
        [{"osm_id": "w1", "kind": "building"}, {"osm_id": "w2", "kind": "building"},
         {"osm_id": "w3", "kind": "building"}],
        [Point(X0, Y0 + 30), Point(X0 + 500, Y0), Point(X0 + 50, Y0 + 5000)]), source="test")
    snap.add("amenities", gdf(
        [{"osm_id": "n1", "name": "Laden Ost", "category": "laden", "source": "osm"}],
        [Point(X0 + 1000, Y0 + 20)]), source="test")
    snap.add("stops", gdf(
        [{"stop_id": "s1", "name": "Ahaus, Dorf", "weight": 40.0, "poles": 1},
         {"stop_id": "s2", "name": "Ahaus, Feld", "weight": 2.0, "poles": 1}],
        [Point(X0 + 300, Y0), Point(X0 + 10, Y0 + 30)]), source="test")
    if with_network:
        xs = [float(x) for x in range(0, 1001, 100)]
        for mode in ("walk", "bike", "drive"):
            line_network(snap, mode, xs, 0.0, 1)
            line_network(snap, mode, [0.0, 100.0], 5000.0, 100)
    return snap


def indicator_row(result, district: str, cat: str, mode: str) -> pd.Series:
    """The one indicator row of a district x category x mode (fails when not exactly one)."""
    t = result.indicators
    sel = t[(t["district"] == district) & (t["category"] == cat) & (t["mode"] == mode)]
    assert len(sel) == 1
    return sel.iloc[0]
