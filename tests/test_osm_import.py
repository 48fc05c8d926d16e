"""``import_osm`` on synthetic extracts written by the tests (XML, bz2, pbf)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmfixtures as fx
import pytest
import shapely

from dorfkarte.region import load_region
from dorfkarte.snapshot import Snapshot, read_snapshot
from dorfkarte.sources.osm import import_osm
from dorfkarte.sources.osm_layers import classify, network_predicate
from dorfkarte.workspace import open_snapshot

OSM_LAYERS = {"municipalities", "boundaries", "amenities", "homes", "landuse", "water", "roads",
              "nodes_walk", "edges_walk", "nodes_bike", "edges_bike", "nodes_drive",
              "edges_drive"}


@pytest.fixture(scope="module")
def snapshot_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fx.build_test_snapshot(tmp_path_factory.mktemp("snap"))


@pytest.fixture(scope="module")
def snap(snapshot_file: Path) -> Snapshot:
    return read_snapshot(snapshot_file)


def _highways(edges: gpd.GeoDataFrame) -> set[str]:
    return {h for v in edges["highway"].dropna() for h in str(v).split(";")}


def test_layers_counts_and_provenance(snap, snapshot_file):
    assert set(snap.stored_layers()) == OSM_LAYERS
    assert sorted(snap.layers["municipalities"]["name"]) == ["Bad Belzig", "Wiesenburg/Mark"]
    assert set(snap.layers["municipalities"]["ags"]) == {"12069020", "12069665"}
    assert len(snap.layers["amenities"]) == fx.N_CLASSIFIED_INSIDE
    homes = snap.layers["homes"]
    assert (homes["kind"] == "building").sum() == 40 + 20  # the shed is no home
    assert (homes["kind"] == "address").sum() == 1
    b = snap.layers["boundaries"]
    assert sorted(b.loc[b["admin_level"] == 9, "name"]) == sorted(fx.ORTSTEILE)
    assert (b["admin_level"] >= 7).all()  # no state border
    assert set(snap.layers["landuse"]["class"]) == {"residential", "forest", "farmland"}
    assert set(snap.layers["water"]["class"]) == {"lake", "stream"}
    assert "footway" not in _highways(snap.layers["roads"])
    for name in OSM_LAYERS:
        info = snap.info[name]
        assert info.count == len(snap.layers[name]) > 0
        assert info.source == "OpenStreetMap, Auszug synthetic.osm"
        assert "ODbL" in info.licence and info.fetched_at.startswith("20")
        assert str(snap.layers[name].crs) == "EPSG:4326"
    assert snap.region_id == "hoher-flaeming"


def test_amenities_classified_by_region_rules(snap):
    am = snap.layers["amenities"]
    got = {n: set(c.split(";")) for n, c in zip(am["name"], am["category"], strict=True)}
    for name, cats in fx.EXPECTED_CATEGORIES.items():
        if cats:
            assert got.get(name) == cats, name
        else:
            assert name not in got, name
    # polygon amenities become a point inside their polygon; relation too
    pharm = am[am["name"] == "Test-Apotheke"].geometry.iloc[0]
    assert shapely.box(12.5950, 52.1278, 12.5956, 52.1282).contains(pharm)
    kita = am[am["name"] == "Kita Sonnenschein Test"]
    assert kita["osm_id"].iloc[0].startswith("relation/")
    assert (am.geom_type == "Point").all()
    tags = json.loads(am[am["name"] == "Testmarkt Ost"]["tags"].iloc[0])
    assert tags["opening_hours"] == "Mo-Sa 07:00-20:00" and tags["shop"] == "supermarket"
    assert set(am["source"]) == {"osm"}
    # just across the border (within buffer_m) counts
    assert "Grenzmarkt" in set(am["name"])


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"amenity": "doctors"}, ["hausarzt"]),  # !healthcare:speciality
        ({"amenity": "doctors", "healthcare:speciality": "general"}, ["hausarzt"]),  # &
        ({"amenity": "doctors", "healthcare:speciality": "dermatology"}, []),
        ({"amenity": "doctors", "healthcare:speciality": "general;dermatology"}, ["hausarzt"]),
        ({"amenity": "school"}, ["grundschule"]),  # !isced:level&!school
        ({"amenity": "school", "school": "primary"}, ["grundschule"]),
        ({"amenity": "school", "isced:level": "2"}, []),
        ({"shop": "supermarket", "amenity": "post_partner"}, ["lebensmittel", "post"]),
        ({"amenity": "social_facility", "social_facility:for": "senior"}, ["pflege"]),
        ({"amenity": "social_facility", "social_facility:for": "homeless"}, []),
        ({"amenity": "bench"}, []),
    ],
)
def test_classify_rules(region, tags, expected):
    assert classify(tags, region) == expected


def test_networks_have_travel_times(snap, region):
    edges = {m: snap.layers[f"edges_{m}"] for m in ("walk", "bike", "drive")}
    for mode, e in edges.items():
        assert (e["length"] > 0).all(), mode
        assert np.isfinite(e["travel_time"]).all() and (e["travel_time"] > 0).all()
        np.testing.assert_allclose(e["travel_time"], e["length"] / (e["speed_kph"] / 3.6))
        nodes = snap.layers[f"nodes_{mode}"]
        assert set(e["u"]) | set(e["v"]) <= set(nodes["osmid"])
    assert set(edges["walk"]["speed_kph"]) == {region.modes.walk_kmh}
    assert set(edges["bike"]["speed_kph"]) == {region.modes.bike_kmh}
    # mode filters (osmnx's): footway walk only, cycleway bike only, no tracks/driveways by car
    assert "footway" in _highways(edges["walk"]) and "cycleway" not in _highways(edges["walk"])
    assert "cycleway" in _highways(edges["bike"]) and "footway" not in _highways(edges["bike"])
    hw = _highways(edges["drive"])
    assert {"secondary", "tertiary", "residential"} <= hw
    assert not hw & {"footway", "cycleway", "track", "service"}
    # private footway excluded from walking
    walk_nodes = snap.layers["nodes_walk"].to_crs(region.crs)
    private_end = gpd.GeoSeries([shapely.Point(12.548, 52.134)], crs="EPSG:4326").to_crs(
        region.crs).iloc[0]
    assert walk_nodes.distance(private_end).min() > 1.0
    # car speeds: maxspeed numbers, DE:rural -> region rural speed, else road class
    d = edges["drive"]
    speed = dict(zip(d["maxspeed"].fillna(""), d["speed_kph"], strict=True))
    assert speed["100"] == 100 and speed["50"] == 50 and speed["30"] == 30
    assert speed["DE:rural"] == region.modes.rural_kmh
    sec_plain = d[(d["highway"] == "secondary") & d["maxspeed"].isna()]
    assert len(sec_plain) and set(sec_plain["speed_kph"]) == {region.modes.highway_kmh[
        "secondary"]}
    # the one-way street exists in one direction only, two-way streets in both
    one = d[d["oneway"]]
    assert len(one) > 0
    pairs = set(zip(d["u"], d["v"], strict=True))
    assert all((v, u) not in pairs for u, v in zip(one["u"], one["v"], strict=True))
    two = d[~d["oneway"]]
    assert all((v, u) in pairs for u, v in zip(two["u"], two["v"], strict=True))


def test_network_filter_matches_osmnx_semantics():
    walk, bike, drive = (network_predicate(m) for m in ("walk", "bike", "drive"))
    assert walk({"highway": "footway"}) and not bike({"highway": "footway"})
    assert drive({"highway": "residential"}) and not drive({"highway": "track"})
    assert not drive({"highway": "residential", "motor_vehicle": "no"})
    assert not walk({"highway": "residential", "foot": "no"})
    assert not walk({"highway": "path", "access": "private"})
    assert not drive({"building": "yes"})


def test_districts_at_configured_admin_level(snapshot_file, region):
    snap = open_snapshot(region, snapshot_file.parent.parent)
    d = snap.layers["districts"]
    assert not d["approx"].any()
    ort = d[d["kind"] == "ortsteil"]
    assert sorted(ort["name"]) == sorted(fx.ORTSTEILE)
    assert dict(zip(ort["name"], ort["municipality"], strict=True)) == {
        n: v[0] for n, v in fx.ORTSTEILE.items()}
    assert set(d.loc[d["kind"] == "kernort", "municipality"]) == {"Bad Belzig",
                                                                   "Wiesenburg/Mark"}
    # OSM's population tag fills in where the centres file knows nothing (fictitious names)
    assert (ort["population"] == 120).all()
    assert "admin_level=9" in snap.info["districts"].source


def test_districts_fall_back_to_centres_voronoi(tmp_path, region):
    xml = fx.write_osm_xml(tmp_path / "no-ortsteile.osm", districts=False)
    import_osm(xml, region, tmp_path / "data")
    snap = open_snapshot(region, tmp_path / "data")
    d = snap.layers["districts"]
    assert d["approx"].all() and len(d) == 29
    assert snap.info["districts"].note == "Näherung"
    # clipped to the (synthetic) municipalities found in the extract
    munis = shapely.union_all(snap.layers["municipalities"].to_crs(region.crs).geometry.to_numpy())
    cells = shapely.union_all(d.to_crs(region.crs).geometry.to_numpy())
    assert cells.difference(munis).area < 1.0 and cells.area > 0.99 * munis.area


def test_other_admin_level_from_region_file(tmp_path):
    text = (Path(load_region.__module__ and fx.__file__).parent.parent / "data" / "regions"
            / "hoher-flaeming.toml").read_text(encoding="utf-8")
    data_dir = Path(fx.__file__).parent.parent / "data"
    text = text.replace("admin_level = 9", "admin_level = 10").replace(
        '"../ortsteile.csv"', f'"{data_dir / "ortsteile.csv"}"'
    ).replace('"../vbb_stops_hoher_flaeming.csv"', '""')
    for name in ("vg250_gemeinden_hoher_flaeming.geojson", "zensus2022_1km_hoher_flaeming.csv",
                 "vbb_route_lines_hoher_flaeming.geojson", "ortsteile_stops.csv"):
        text = text.replace(f'"../{name}"', f'"{data_dir / name}"')
    rfile = tmp_path / "region10.toml"
    rfile.write_text(text, encoding="utf-8")
    region10 = load_region(rfile)
    xml = fx.write_osm_xml(tmp_path / "lvl10.osm", district_level=10)
    import_osm(xml, region10, tmp_path / "data")
    d = open_snapshot(region10, tmp_path / "data").layers["districts"]
    assert sorted(d.loc[d["kind"] == "ortsteil", "name"]) == sorted(fx.ORTSTEILE)


@pytest.mark.parametrize("fmt", ["osm.pbf", "osm.bz2"])
def test_pbf_and_bz2_give_the_same_snapshot(tmp_path, region, snap, fmt):
    writer = fx.write_osm_pbf if fmt == "osm.pbf" else fx.write_osm_xml
    src = writer(tmp_path / f"synthetic.{fmt}")
    other = read_snapshot(import_osm(src, region, tmp_path / "data"))
    assert set(other.stored_layers()) == OSM_LAYERS
    for name in OSM_LAYERS:
        assert len(other.layers[name]) == len(snap.layers[name]), name
    assert other.info["amenities"].source == f"OpenStreetMap, Auszug synthetic.{fmt}"


def test_clipped_to_region_plus_buffer(snap, region):
    munis = snap.layers["municipalities"].to_crs(region.crs)
    area = shapely.union_all(munis.geometry.to_numpy()).buffer(region.buffer_m + 1)
    for name in ("amenities", "homes", "roads", "landuse", "water", "nodes_drive"):
        gdf = snap.layers[name].to_crs(region.crs)
        assert gdf.intersects(area).all(), name
    assert "Ferne Apotheke" not in set(snap.layers["amenities"]["name"])


def test_missing_municipalities_fall_back_to_centres_hull(tmp_path, region):
    xml = fx.write_osm_xml(tmp_path / "no-munis.osm", municipalities=False)
    snap = read_snapshot(import_osm(xml, region, tmp_path / "data"))
    assert "municipalities" not in snap.layers
    assert "Hülle der Ortsmittelpunkte" in snap.info["amenities"].note
    assert len(snap.layers["amenities"]) >= fx.N_CLASSIFIED_INSIDE - 1


def test_progress_reports_every_step(tmp_path, region):
    seen: list[tuple[str, int, int]] = []
    xml = fx.write_osm_xml(tmp_path / "p.osm")
    import_osm(xml, region, tmp_path / "data", progress=lambda *a: seen.append(a))
    assert [i for _, i, _ in seen] == list(range(7))
    assert {n for *_, n in seen} == {7}
