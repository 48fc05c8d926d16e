"""Coverage engine on tiny synthetic networks whose answers are known by hand.

Test region: walk 6 km/h (100 m/min), bike 12 km/h (200 m/min), car snapping at the
``service`` speed 6 km/h (100 m/min), residential streets 30 km/h (500 m/min). Coordinates
are metres in EPSG:25833 around (300000, 5780000).
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from linefixtures import CRS, X0, Y0, line_snapshot
from linefixtures import gdf as _gdf
from linefixtures import indicator_row as _row
from shapely.geometry import LineString, Point, box

from dorfkarte import cli
from dorfkarte.commands.analyse import write_csv
from dorfkarte.coverage import (
    INDICATOR_COLUMNS,
    NO_DATA,
    analyse,
    times_from_points,
    weighted_quantile,
)
from dorfkarte.errors import DataError, DorfkarteError
from dorfkarte.region import Region
from dorfkarte.snapshot import Snapshot, snapshot_path, write_snapshot


def test_line_exact_times_with_snapping(test_region: Region) -> None:
    res = analyse(line_snapshot(), test_region)
    o = res.origins
    assert list(o["district"]) == ["Ahaus", "Ahaus", "Beheim"]
    assert list(o["kind"]) == ["building"] * 3
    walk = res.times[("laden", "walk")]
    # home 1: 30 m snap + 1000 m street + 20 m snap of the shop, at 100 m/min
    assert walk[0] == pytest.approx(10.5)
    assert walk[1] == pytest.approx(5.2)
    bike = res.times[("laden", "bike")]
    assert bike[0] == pytest.approx((30 + 1000 + 20) / 200)
    drive = res.times[("laden", "drive")]
    # street at 30 km/h (500 m/min), snapping at the service speed (100 m/min)
    assert drive[0] == pytest.approx(0.3 + 2.0 + 0.2)
    assert list(res.nearest[("laden", "walk")][:2]) == [0, 0]
    assert res.methods[("laden", "walk")] == "network"


def test_disconnected_origin_is_unreachable(test_region: Region) -> None:
    res = analyse(line_snapshot(), test_region)
    assert math.isinf(res.times[("laden", "walk")][2])
    assert res.nearest[("laden", "walk")][2] == -1
    row = _row(res, "Beheim", "laden", "walk")
    assert row["unreachable_share"] == 1.0
    assert row["share_within"] == 0.0
    assert row["gap_class"] == "gap"
    assert math.isinf(row["median"]) and math.isinf(row["max"])
    assert row["nearest_name"] == ""
    assert not row["weighted"]  # Beheim's population is unknown


def test_provider_outside_region_counts_and_thresholds(test_region: Region) -> None:
    res = analyse(line_snapshot(), test_region)
    row = _row(res, "Ahaus", "laden", "walk")
    # the shop lies outside every district, still the nearest provider
    assert row["nearest_name"] == "Laden Ost"
    assert row["nearest_source"] == "osm"
    assert row["threshold"] == 10
    assert row["share_within"] == pytest.approx(0.5)  # 5.2 min yes, 10.5 min no
    assert row["residents_within"] == pytest.approx(50.0)
    assert row["gap_class"] == "tight"
    assert row["median"] == pytest.approx(5.2)
    assert row["p90"] == pytest.approx(10.5)
    assert row["max"] == pytest.approx(10.5)
    assert row["unreachable_share"] == 0.0
    assert row["method"] == "network" and row["unit"] == "min"
    # sliders: no new search, new share and class
    looser = res.with_thresholds({("laden", "walk"): 11})
    r2 = _row(looser, "Ahaus", "laden", "walk")
    assert r2["share_within"] == 1.0 and r2["gap_class"] == "ok" and r2["threshold"] == 11
    stricter = res.with_thresholds({("laden", "walk"): 5})
    assert _row(stricter, "Ahaus", "laden", "walk")["gap_class"] == "gap"
    # the original is unchanged
    assert _row(res, "Ahaus", "laden", "walk")["threshold"] == 10
    with pytest.raises(DorfkarteError):
        res.with_thresholds({("laden", "walk"): -1})


def test_category_without_data_is_not_a_gap(test_region: Region) -> None:
    res = analyse(line_snapshot(), test_region)
    assert np.isnan(res.times[("arzt", "walk")]).all()
    row = _row(res, "Ahaus", "arzt", "walk")
    assert row["gap_class"] == NO_DATA
    assert np.isnan(row["share_within"]) and np.isnan(row["median"])
    assert any("Arzt" in n and "keine Daten" in n for n in res.notes)


def test_transit_served_stops_in_metres(test_region: Region) -> None:
    res = analyse(line_snapshot(), test_region)
    assert ("laden", "transit") not in res.times  # transit only for transit categories
    m = res.times[("bus", "transit")]
    # home 1: 30 m snap + 300 m street to the served stop; the nearer stop has weight 2 < 10
    assert m[0] == pytest.approx(330.0)
    assert m[1] == pytest.approx(200.0)
    row = _row(res, "Ahaus", "bus", "transit")
    assert row["unit"] == "m" and row["threshold"] == 500
    assert row["nearest_name"] == "Ahaus, Dorf" and row["nearest_weight"] == 40.0
    assert row["nearest_source"] == "transit"
    assert row["share_within"] == 1.0


def test_straight_line_without_network(test_region: Region) -> None:
    res = analyse(line_snapshot(with_network=False), test_region)
    d0 = math.hypot(1000, 10)  # home (0,30) to shop (1000,20)
    assert res.times[("laden", "walk")][0] == pytest.approx(d0 * 1.5 / 100)
    # car without network: urban speed 60 km/h = 1000 m/min
    assert res.times[("laden", "drive")][0] == pytest.approx(d0 * 1.5 / 1000)
    # transit: pure straight line in metres (BBSR rule), served stop only
    assert res.times[("bus", "transit")][0] == pytest.approx(math.hypot(300, 30))
    assert set(res.methods.values()) == {"straight_line"}
    assert _row(res, "Ahaus", "laden", "walk")["method"] == "straight_line"


def test_grid_network_and_what_if(test_region: Region) -> None:
    """3 x 3 street grid, 100 m blocks; shop at the south-west corner."""
    snap = Snapshot(region_id="testland")
    ids = {(i, j): 10 * i + j + 1 for i in range(3) for j in range(3)}
    nodes = _gdf([{"osmid": v} for v in ids.values()],
                 [Point(X0 + 100 * i, Y0 + 100 * j) for (i, j) in ids])
    rows, geoms = [], []
    for (i, j), n in ids.items():
        for di, dj in ((1, 0), (0, 1)):
            if (i + di, j + dj) in ids:
                rows.append({"u": n, "v": ids[(i + di, j + dj)], "key": 0, "length": 100.0,
                             "highway": "residential", "maxspeed": None, "oneway": False})
                geoms.append(LineString([(X0 + 100 * i, Y0 + 100 * j),
                                         (X0 + 100 * (i + di), Y0 + 100 * (j + dj))]))
    snap.add("nodes_walk", nodes, source="test")
    snap.add("edges_walk", _gdf(rows, geoms), source="test")
    snap.add("districts", _gdf([{"name": "Ahaus", "population": 90.0, "approx": False}],
                               [box(X0 - 50, Y0 - 50, X0 + 250, Y0 + 250)]), source="test")
    snap.add("homes", _gdf([{"kind": "address"}] * 3,
                           [Point(X0 + 200, Y0 + 200), Point(X0 + 100, Y0 + 200),
                            Point(X0, Y0 + 100)]), source="test")
    snap.add("amenities", _gdf([{"osm_id": "a", "name": "SW", "category": "laden"}],
                               [Point(X0, Y0)]), source="test")
    res = analyse(snap, test_region, categories=["laden"], modes=["walk"])
    assert list(res.times[("laden", "walk")]) == pytest.approx([4.0, 3.0, 1.0])
    assert list(res.origins["population"]) == pytest.approx([30.0, 30.0, 30.0])
    assert res.origins["kind"].tolist() == ["address"] * 3
    # what-if: a new shop at the north-east corner
    new = gpd.GeoDataFrame(geometry=[Point(X0 + 200, Y0 + 200)], crs=CRS)
    t_new = times_from_points(res, "walk", new)
    assert t_new.shape == (1, 3)
    assert list(t_new[0]) == pytest.approx([0.0, 1.0, 3.0])
    # extra destinations (local listings) plug in the same way
    extra = gpd.GeoDataFrame({"name": ["Hofladen"], "category": ["laden"],
                              "source": ["listing"], "ref": ["L1"], "example": [True]},
                             geometry=[Point(X0 + 200, Y0 + 200)], crs=CRS).to_crs(4326)
    res2 = analyse(snap, test_region, categories=["laden"], modes=["walk"],
                   extra_destinations=extra)
    assert list(res2.times[("laden", "walk")]) == pytest.approx([0.0, 1.0, 1.0])
    assert list(res2.destinations["laden"]["source"]) == ["osm", "listing"]
    assert bool(res2.destinations["laden"]["example"].iloc[1])  # extra columns kept
    assert list(res2.nearest[("laden", "walk")]) == [1, 1, 0]


def test_directed_drive_network(test_region: Region) -> None:
    """0 -> 1 is one-way: node 0 can be left, not reached, so points snap to {1, 2}."""
    snap = Snapshot(region_id="testland")
    snap.add("nodes_drive", _gdf([{"osmid": i} for i in range(3)],
                                 [Point(X0 + 500 * i, Y0) for i in range(3)]), source="t")
    snap.add("edges_drive", _gdf(
        [{"u": 0, "v": 1, "key": 0, "length": 500.0, "highway": "primary", "maxspeed": "30",
          "oneway": True},
         {"u": 1, "v": 2, "key": 0, "length": 500.0, "highway": "residential",
          "maxspeed": None, "oneway": False}],
        [LineString([(X0, Y0), (X0 + 500, Y0)]), LineString([(X0 + 500, Y0), (X0 + 1000, Y0)])]),
        source="t")
    snap.add("districts", _gdf([{"name": "Ahaus", "population": 2.0, "approx": False}],
                               [box(X0 - 50, Y0 - 50, X0 + 1050, Y0 + 50)]), source="t")
    snap.add("homes", _gdf([{"kind": "building"}] * 2, [Point(X0, Y0), Point(X0 + 1000, Y0)]),
             source="t")
    snap.add("amenities", _gdf([{"name": "A", "category": "laden"}, {"name": "B",
                                                                      "category": "arzt"}],
                               [Point(X0 + 1000, Y0), Point(X0, Y0)]), source="t")
    res = analyse(snap, test_region, modes=["drive"], categories=["laden", "arzt"])
    # home at node 0 snaps to node 1 (500 m at the 6 km/h access speed = 5 min), then
    # 500 m residential at 30 km/h = 1 min to the shop at node 2
    assert res.times[("laden", "drive")][0] == pytest.approx(6.0)
    assert res.times[("laden", "drive")][1] == pytest.approx(0.0, abs=1e-9)
    # the doctor at node 0 also snaps to node 1: 5 min access + 1 min from node 2
    assert res.times[("arzt", "drive")][1] == pytest.approx(6.0)
    net = res.network["drive"].network
    g = net.graph.toarray()
    assert g[1, 0] == pytest.approx(1.0) and g[0, 1] == 0  # one-way kept in the graph
    # a what-if point at node 0 snaps to node 1 as well (5 min access on its side too)
    far = gpd.GeoDataFrame(geometry=[Point(X0, Y0)], crs=CRS)
    assert times_from_points(res, "drive", far)[0] == pytest.approx([5.0 + 5.0, 1.0 + 5.0])


def test_fallback_origins_grid_and_centre(test_region: Region) -> None:
    snap = Snapshot(region_id="testland")
    centre = gpd.GeoSeries([Point(13.2, 52.16)], crs=4326).to_crs(CRS).iloc[0]
    snap.add("districts", _gdf(
        [{"name": "Ahaus", "population": 100.0, "approx": True},
         {"name": "Beheim", "population": 40.0, "approx": False}],
        [centre.buffer(2000), box(X0, Y0, X0 + 300, Y0 + 200)]), source="test")
    res = analyse(snap, test_region, modes=["walk"], categories=["bus"])
    o = res.origins
    a = o[o["district"] == "Ahaus"]
    assert list(a["kind"]) == ["centre"] and a["population"].iloc[0] == 100.0
    ax, ay = res.origin_xy[a.index[0]]
    assert (ax, ay) == pytest.approx((centre.x, centre.y), abs=0.01)
    b = o[o["district"] == "Beheim"]
    assert set(b["kind"]) == {"grid"} and len(b) == 6  # 3 x 2 cells of 100 m
    assert b["population"].sum() == pytest.approx(40.0)
    assert any("Ortsmittelpunkt" in n for n in res.notes)
    assert any("Raster" in n for n in res.notes)


def test_weighted_quantile() -> None:
    t = np.array([1.0, 2.0, 3.0, np.inf])
    assert weighted_quantile(t, np.ones(4), 0.5) == 2.0
    assert weighted_quantile(t, np.array([1, 1, 1, 7.0]), 0.5) == np.inf
    assert weighted_quantile(t, np.array([5, 1, 1, 1.0]), 0.5) == 1.0


def test_bad_extra_destinations(test_region: Region) -> None:
    bad = gpd.GeoDataFrame({"name": ["x"]}, geometry=[Point(0, 0)], crs=CRS)
    with pytest.raises(DataError, match="category"):
        analyse(line_snapshot(), test_region, extra_destinations=bad)
    with pytest.raises(DorfkarteError, match="Modus"):
        analyse(line_snapshot(), test_region, modes=["fly"])


def test_csv_deterministic_and_cli(test_region: Region, tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_snapshot(line_snapshot(), snapshot_path(data, "testland"))
    outs = []
    for k in range(2):
        out = tmp_path / f"out{k}"
        rc = cli.main(["--region", str(test_region.path), "--data-dir", str(data),
                       "analyse", "--out", str(out)])
        assert rc == 0
        outs.append(out)
    a = (outs[0] / "coverage.csv").read_bytes()
    assert a == (outs[1] / "coverage.csv").read_bytes()
    df = pd.read_csv(outs[0] / "coverage.csv")
    assert list(df.columns) == INDICATOR_COLUMNS
    assert len(df) == 2 * (2 * 3 + 1 * 4)  # districts x (osm cats x 3 + bus x 4)
    row = df[(df["district"] == "Ahaus") & (df["category"] == "laden") & (df["mode"] == "walk")]
    assert row["share_within"].iloc[0] == pytest.approx(0.5)
    layers = {r[0] for r in pyogrio.list_layers(outs[0] / "coverage.gpkg")}
    assert layers == {"coverage", "districts", "origins"}
    origins = pyogrio.read_dataframe(outs[0] / "coverage.gpkg", layer="origins")
    assert origins["t__laden__walk"].iloc[0] == pytest.approx(10.5)
    assert list(origins["nearest__laden__walk"]) == ["Laden Ost", "Laden Ost", ""]
    assert not list(outs[0].glob(".*tmp*"))
    # the round trip through the GeoPackage gives the same file as the in-memory snapshot
    res = analyse(line_snapshot(), test_region)
    assert write_csv(res, tmp_path / "mem.csv").read_bytes() == a


def test_cli_unknown_category_is_one_line(test_region: Region, tmp_path: Path, capsys) -> None:
    rc = cli.main(["--region", str(test_region.path), "--data-dir", str(tmp_path),
                   "analyse", "--out", str(tmp_path / "o"), "--category", "kino"])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("Fehler: Unbekannte Kategorie 'kino'") and err.count("\n") == 1


def test_embedded_default_data(region: Region) -> None:
    """No OSM: stops only; every OSM category is 'keine Daten', stops by straight line."""
    from dorfkarte.settings import default_data_dir
    from dorfkarte.workspace import open_snapshot

    snap = open_snapshot(region, default_data_dir())  # temp dir: embedded layers only
    res = analyse(snap, region)
    ind = res.indicators
    # origins: the populated pieces of the census cells, several per unit, every unit has some
    assert len(res.districts) == 29 and len(res.origins) > 29
    assert set(res.origins["kind"]) == {"census"}
    assert set(res.origins["district"]) == set(res.districts["name"])
    osm = ind[ind["category"].map(lambda c: region.category(c).source == "osm")]
    assert (osm["gap_class"] == NO_DATA).all()
    # central places are listed in the region file: known without OSM (dorfkarte.central)
    places = ind[ind["category"].map(lambda c: region.category(c).source == "places")]
    assert len(places) and (places["gap_class"] != NO_DATA).all()
    stops = ind[ind["category"] == "haltestelle"]
    assert (stops["method"] == "straight_line").all()
    assert set(stops["mode"]) == {"walk", "bike", "drive", "transit"}
    assert stops["median"].notna().all()
    assert set(stops["gap_class"]) <= {"ok", "tight", "gap"}


def test_osm_fixture_snapshot_end_to_end(region: Region, tmp_path: Path) -> None:
    """The synthetic OSM extract, imported for real: networks, amenities, homes."""
    osmfixtures = pytest.importorskip("osmfixtures")
    from dorfkarte.workspace import open_snapshot

    data = tmp_path / "data"
    osmfixtures.build_test_snapshot(data)
    res = analyse(open_snapshot(region, data), region)
    for mode in ("walk", "bike", "drive"):
        assert res.methods[("lebensmittel", mode)] == "network"
    # the supermarket just across the border is a destination, the eye doctor no GP
    assert "Grenzmarkt" in set(res.destinations["lebensmittel"]["name"])
    assert "Augenpraxis Test" not in set(res.destinations["hausarzt"]["name"])
    homes = res.origins["kind"].isin(["building", "address"]).to_numpy()
    assert homes.sum() > 0
    walk = res.times[("lebensmittel", "walk")][homes]
    assert np.isfinite(walk).all() and (walk > 0).all()
    # by car never slower than on foot from a home in a village grid
    drive = res.times[("lebensmittel", "drive")][homes]
    assert (drive <= walk + 1e-9).mean() > 0.9
    ind = res.indicators
    assert set(ind["gap_class"]) <= {"ok", "tight", "gap", NO_DATA}
    assert (ind.loc[ind["category"] == "lebensmittel", "gap_class"] != NO_DATA).all()
    outs = []
    for k in range(2):
        out = tmp_path / f"o{k}"
        assert cli.main(["--data-dir", str(data), "analyse", "--out", str(out)]) == 0
        outs.append((out / "coverage.csv").read_bytes())
    assert outs[0] == outs[1]


def test_threshold_units(test_region: Region) -> None:
    from dorfkarte.coverage import threshold_value
    from dorfkarte.region import Threshold

    assert threshold_value(Threshold(metres=800), "transit", test_region) == 800
    assert threshold_value(Threshold(minutes=5), "transit", test_region) == pytest.approx(500)
    assert threshold_value(Threshold(metres=1000), "walk", test_region) == pytest.approx(10)
    assert threshold_value(Threshold(minutes=7), "drive", test_region) == 7


def test_zero_population_district_counts_unweighted(test_region: Region) -> None:
    snap = line_snapshot()
    d = snap.layers["districts"].copy()
    d.loc[d["name"] == "Ahaus", "population"] = 0.0
    snap.add("districts", d, source="test")
    row = _row(analyse(snap, test_region, modes=["walk"]), "Ahaus", "laden", "walk")
    assert row["share_within"] == pytest.approx(0.5) and row["gap_class"] == "tight"
    assert not row["weighted"]
