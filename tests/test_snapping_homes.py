"""Snapping only to ways a person can step onto; address points follow the home rules.

Hand-computed network (metres in EPSG:25833): a street 1-4-2 along y=0 (node 4 at
(500, -20)), and a second way 1-3-2 through node 3 at (500, 15) that is a tunnel / below
ground / indoor. A pharmacy at (500, 18) is 3 m from node 3 and 38 m from node 4.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from dorfkarte import network
from dorfkarte.sources import osm_layers as L
from dorfkarte.tags import parse_rule

CRS = "EPSG:25833"
X0, Y0 = 330_000.0, 5_780_000.0  # somewhere in the region


def _net(tags: dict[str, str], region, mode: str = "walk") -> network.Network:
    xy = {1: (0, 0), 2: (1000, 0), 3: (500, 15), 4: (500, -20)}
    nodes = gpd.GeoDataFrame({"osmid": list(xy)},
                             geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in xy.values()],
                             crs=CRS)
    rows = [
        {"u": 1, "v": 4, "length": 500.2, "highway": "residential"},
        {"u": 4, "v": 2, "length": 500.2, "highway": "residential"},
        {"u": 1, "v": 3, "length": 500.1, "highway": "footway", **tags},
        {"u": 3, "v": 2, "length": 500.1, "highway": "footway", **tags},
    ]
    edges = pd.DataFrame(rows)
    for c in ("tunnel", "layer", "indoor", "level", "oneway", "maxspeed"):
        if c not in edges:
            edges[c] = None
    net = network.build_network(nodes, edges, mode, region)
    assert net is not None
    return net


PHARMACY = np.array([[X0 + 500, Y0 + 18]])


@pytest.mark.parametrize("tags", [
    {"tunnel": "yes"}, {"tunnel": "yes", "layer": "-1"}, {"layer": "-1"},
    {"indoor": "corridor"}, {"indoor": "yes"}, {"level": "-1"}, {"level": "-1;0"},
    {"tunnel": "yes", "highway": "service", "access": "private"},
])
def test_points_do_not_snap_to_underground_or_indoor_ways(region, tags):
    net = _net(tags, region)
    node, minutes = net.snap(PHARMACY)
    assert net.node_ids[node[0]] == 4  # the street node, 38 m away
    assert minutes[0] == pytest.approx(38.0 / (region.modes.walk_kmh * 1000 / 60))


@pytest.mark.parametrize("tags", [{}, {"tunnel": "building_passage"}, {"layer": "1"},
                                  {"tunnel": "no"}, {"indoor": "no"}, {"level": "0"}])
def test_street_level_ways_are_snapped_to(region, tags):
    net = _net(tags, region)
    node, _ = net.snap(PHARMACY)
    assert net.node_ids[node[0]] == 3  # 3 m away, reachable from the street


def test_drive_keeps_both_rules(region):
    net = _net({"tunnel": "yes"}, region, mode="drive")
    node, _ = net.snap(PHARMACY)
    assert net.node_ids[node[0]] == 4


def _feats(points: list[dict[str, str]]) -> tuple[gpd.GeoDataFrame, list[dict[str, str]]]:
    geoms = [shapely.Point(12.59 + i * 0.0005, 52.13) for i in range(len(points))]
    gdf = gpd.GeoDataFrame({"osm_id": [f"node/{i}" for i in range(len(points))]},
                           geometry=geoms, crs="EPSG:4326")
    return gdf, points


ADDR = {"addr:street": "Teststraße", "addr:housenumber": "1"}
POINTS = [
    {**ADDR},                                          # a plain address: residents
    {**ADDR, "shop": "bakery", "name": "Bäckerei"},    # businesses are not homes
    {**ADDR, "office": "lawyer"},
    {**ADDR, "tourism": "hotel"},
    {**ADDR, "amenity": "bank"},
    {**ADDR, "railway": "subway_entrance"},
    {**ADDR, "craft": "carpenter"},
    {**ADDR, "tourism": "guest_house"},
]


def test_business_address_points_are_not_homes(region):
    feats, tags = _feats(POINTS)
    clip = shapely.box(12.0, 52.0, 13.0, 52.5)
    homes = L.homes_layer(feats, tags, region, clip)
    assert list(homes["osm_id"]) == ["node/0"]
    assert list(homes["kind"]) == ["address"]


def test_home_rules_can_admit_address_points(region):
    rules = (*region.home_rules, parse_rule("tourism=guest_house"))
    reg = dataclasses.replace(region, home_rules=rules)
    feats, tags = _feats(POINTS)
    homes = L.homes_layer(feats, tags, reg, shapely.box(12.0, 52.0, 13.0, 52.5))
    assert sorted(homes["osm_id"]) == ["node/0", "node/7"]
