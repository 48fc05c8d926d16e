"""Snapshot store: GeoPackage round trip with provenance, atomic writes."""

from __future__ import annotations

import geopandas as gpd
import pyogrio
import pytest
import shapely

from dorfkarte import snapshot as S
from dorfkarte.errors import DataError


def _points(n: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"osm_id": [f"node/{i}" for i in range(n)], "name": ["Ä"] * n},
                            geometry=[shapely.Point(12.5 + i / 100, 52.1) for i in range(n)],
                            crs="EPSG:4326")


def test_round_trip_with_provenance(tmp_path):
    snap = S.Snapshot(region_id="r1")
    snap.add(S.AMENITIES, _points(3), source="OpenStreetMap", licence="ODbL",
             fetched_at="2026-01-02T03:04:05+00:00", note="Test")
    snap.add(S.HOMES, _points(2).to_crs("EPSG:25833"), source="OSM")  # reprojected on add
    snap.add(S.STOPS, _points(1), source="VBB", embedded=True)  # never written
    path = S.write_snapshot(snap, S.snapshot_path(tmp_path, "r1"))
    assert path == tmp_path / "snapshots" / "r1.gpkg"
    assert {row[0] for row in pyogrio.list_layers(path)} == {"amenities", "homes",
                                                             "dorfkarte_layers"}
    back = S.read_snapshot(path)
    assert back.region_id == "r1" and set(back.layers) == {"amenities", "homes"}
    info = back.info["amenities"]
    assert (info.source, info.licence, info.fetched_at, info.count, info.note) == (
        "OpenStreetMap", "ODbL", "2026-01-02T03:04:05+00:00", 3, "Test")
    assert str(back.layers["homes"].crs) == "EPSG:4326"
    assert back.layers["amenities"]["name"].tolist() == ["Ä"] * 3
    assert back.has(S.AMENITIES) and back.has_osm


def test_failed_write_keeps_old_file(tmp_path, monkeypatch):
    path = S.snapshot_path(tmp_path, "r1")
    snap = S.Snapshot(region_id="r1")
    snap.add(S.AMENITIES, _points(2), source="a")
    S.write_snapshot(snap, path)
    before = path.read_bytes()

    calls = {"n": 0}
    real = pyogrio.write_dataframe

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("Platte voll")
        return real(*args, **kwargs)

    monkeypatch.setattr(S.pyogrio, "write_dataframe", failing)
    snap.add(S.HOMES, _points(5), source="b")
    with pytest.raises(OSError, match="Platte voll"):
        S.write_snapshot(snap, path)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_unreadable_snapshot_is_a_data_error(tmp_path):
    bad = tmp_path / "x.gpkg"
    bad.write_bytes(b"not a geopackage")
    with pytest.raises(DataError, match="nicht lesbar"):
        S.read_snapshot(bad)


def test_layer_without_crs_is_refused():
    snap = S.Snapshot(region_id="r")
    with pytest.raises(DataError, match="Koordinatensystem"):
        snap.add("x", gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]), source="s")
