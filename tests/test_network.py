"""Street graphs: maxspeed parsing, car speeds, CSR construction, snapping, caching."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from dorfkarte import network
from dorfkarte.network import build_network, edge_speeds_kmh, parse_maxspeed
from dorfkarte.region import Region
from dorfkarte.snapshot import Snapshot

X0, Y0 = 300000.0, 5780000.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("50", 50.0),
        (50, 50.0),
        ("50 km/h", 50.0),
        ("30 mph", 30 * 1.609344),
        ("DE:urban", 50.0),
        ("DE:rural", 80.0),
        ("DE:zone30", 30.0),
        ("DE:zone:30", 30.0),
        ("DE:living_street", 7.0),
        ("walk", 7.0),
        ("30;50", 40.0),
        ("['30', '50']", 40.0),
        (["70", "DE:rural"], 75.0),
        ("none", math.nan),
        ("signals", math.nan),
        (None, math.nan),
        (math.nan, math.nan),
        ("", math.nan),
    ],
)
def test_parse_maxspeed(value, expected) -> None:
    got = parse_maxspeed(value, urban_kmh=50.0, rural_kmh=80.0)
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected)


def test_drive_speeds_fall_back_to_road_class(region: Region) -> None:
    edges = pd.DataFrame({
        "highway": ["primary", "residential", "['tertiary', 'unclassified']", "track",
                    "motorway"],
        "maxspeed": ["100", None, "DE:rural", None, "none"],
    })
    got = edge_speeds_kmh(edges, "drive", region)
    table = region.modes.highway_kmh
    assert list(got) == pytest.approx([100.0, table["residential"], region.modes.rural_kmh,
                                       table["road"], table["motorway"]])
    assert list(edge_speeds_kmh(edges, "walk", region)) == [region.modes.walk_kmh] * 5
    # osmnx frames in memory carry Python lists (unhashable) for merged ways
    listy = pd.DataFrame({"highway": [["residential", "tertiary"], "residential"],
                          "maxspeed": [["30", "50"], None]})
    assert list(edge_speeds_kmh(listy, "drive", region)) == pytest.approx(
        [40.0, table["residential"]])


def _layers(edges: list[dict]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    nodes = gpd.GeoDataFrame({"osmid": [10, 20, 30]},
                             geometry=[Point(X0, Y0), Point(X0 + 450, Y0),
                                       Point(X0 + 900, Y0)], crs="EPSG:25833")
    geoms = [LineString([(X0, Y0), (X0 + 1, Y0)])] * len(edges)
    return nodes, gpd.GeoDataFrame(edges, geometry=geoms, crs="EPSG:25833")


def test_build_walk_network_reverse_min_parallel(region: Region) -> None:
    nodes, edges = _layers([
        {"u": 10, "v": 20, "key": 0, "length": 450.0, "highway": "footway"},
        {"u": 10, "v": 20, "key": 1, "length": 900.0, "highway": "path"},  # parallel, longer
        {"u": 20, "v": 30, "key": 0, "length": np.nan, "highway": "footway"},  # from geometry
        {"u": 30, "v": 99, "key": 0, "length": 5.0, "highway": "footway"},  # unknown node
    ])
    net = build_network(nodes, edges, "walk", region)
    assert net is not None and not net.directed
    g = net.graph.toarray()
    # 450 m at 4.5 km/h = 6 min, both directions, the shorter parallel edge wins
    assert g[1, 0] == pytest.approx(6.0) and g[0, 1] == pytest.approx(6.0)
    assert g[2, 1] == pytest.approx(6.0)  # length from node positions
    assert net.graph.nnz == 4
    node, minutes = net.snap(np.array([[X0 + 900, Y0 + 75], [X0 + 10, Y0]]))
    assert list(node) == [2, 0]
    assert minutes == pytest.approx([1.0, 10 / 75])


def test_build_drive_network_oneway_reverse_direction(region: Region) -> None:
    nodes, edges = _layers([
        {"u": 10, "v": 20, "key": 0, "length": 500.0, "highway": "residential",
         "maxspeed": "30", "oneway": "yes"},
        {"u": 30, "v": 20, "key": 0, "length": 500.0, "highway": "residential",
         "maxspeed": "30", "oneway": "-1"},
    ])
    net = build_network(nodes, edges, "drive", region)
    assert net is not None and net.directed
    g = net.graph.toarray()
    # reverse graph: entry [v, u] holds street u -> v (1 min at 30 km/h over 500 m)
    assert g[1, 0] == pytest.approx(1.0) and g[0, 1] == 0
    assert g[2, 1] == pytest.approx(1.0) and g[1, 2] == 0  # "-1": 20 -> 30
    assert net.snap_kmh == region.modes.highway_kmh["service"]


def test_network_cache(region: Region) -> None:
    nodes, edges = _layers([{"u": 10, "v": 20, "key": 0, "length": 450.0,
                             "highway": "footway"}])
    snap = Snapshot(region_id=region.id)
    snap.add("nodes_walk", nodes, source="t")
    snap.add("edges_walk", edges, source="t")
    a = network.network_for(snap, "walk", region)
    assert a is network.network_for(snap, "walk", region)
    network.clear_cache()
    assert network.network_for(snap, "walk", region) is not a
    assert network.network_for(snap, "bike", region) is None
    assert network.available_modes(snap) == ["walk"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, 1), (False, 0), ("yes", 1), ("no", 0), ("True", 1), (1, 1), (0, 0), ("-1", -1),
     (None, 0), (math.nan, 0), (np.bool_(True), 1)],
)
def test_oneway_values(value, expected) -> None:
    assert network._truthy_oneway(value) == expected
