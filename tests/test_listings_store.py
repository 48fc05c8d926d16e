"""The listing store (GeoPackage + change log + undo, one writer) and merging with OSM."""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from filelock import FileLock
from shapely.geometry import Point

from dorfkarte.cli import main
from dorfkarte.errors import DataError
from dorfkarte.listings import (
    BOTH_LABEL,
    ListingStore,
    StoreBusyError,
    destinations,
    merge_with_osm,
    name_similarity,
)


def data_dir() -> Path:
    return Path(os.environ["DORFKARTE_DATA"])


def listing(lid: str, name: str = "Laden", category: str = "lebensmittel",
            lat: float = 52.2205, lon: float = 12.5962, **kw) -> dict:
    row = {"id": lid, "name": name, "category": category, "kind": "fixed", "lat": lat,
           "lon": lon, "location_source": "Koordinaten", "example": False}
    row.update(kw)
    return row


def frame(*rows: dict) -> gpd.GeoDataFrame:
    df = pd.DataFrame(rows)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]),
                            crs="EPSG:4326")


def test_store_is_a_geopackage_with_change_log() -> None:
    store = ListingStore(data_dir())
    assert not store.exists() and len(store.read()) == 0 and store.undo() is None
    s = store.upsert(frame(listing("A"), listing("B", "Post", "post")), user="anna")
    assert s.inserted == ["A", "B"] and s.batch == 1
    layers = dict(pyogrio.list_layers(store.path))
    assert layers["listings"] == "Point" and "listings_changes" in layers
    gdf = pyogrio.read_dataframe(store.path, layer="listings")  # what QGIS sees
    assert str(gdf.crs) == "EPSG:4326" and sorted(gdf["id"]) == ["A", "B"]
    log = store.history()
    assert list(log["user"]) == ["anna", "anna"] and set(log["op"]) == {"insert"}
    assert json.loads(log.iloc[0]["new"])["name"] in {"Laden", "Post"}
    assert set(log["old"]) == {""}


def test_update_logs_old_and_new_values_and_undo_restores() -> None:
    store = ListingStore(data_dir())
    store.upsert(frame(listing("A", opening_hours="Tu 10:00-11:00")), user="anna")
    s = store.upsert(frame(listing("A", opening_hours="We 10:00-11:00")), user="ben")
    assert s.updated == ["A"] and s.inserted == []
    row = store.history().iloc[0]
    assert row["user"] == "ben" and row["op"] == "update" and row["fields"] == "opening_hours"
    assert json.loads(row["old"])["opening_hours"] == "Tu 10:00-11:00"
    assert json.loads(row["new"])["opening_hours"] == "We 10:00-11:00"
    last = store.last_batch()
    assert last is not None and last["user"] == "ben" and last["ids"] == ["A"]
    u = store.undo(user="carla")
    assert u is not None and u.updated == ["A"]
    assert store.read().loc[0, "opening_hours"] == "Tu 10:00-11:00"
    assert store.history().iloc[0]["undoes"] == 2
    u2 = store.undo()  # next undo takes back the first import
    assert u2 is not None and u2.deleted == ["A"] and len(store.read()) == 0
    assert store.undo() is None


def test_unchanged_upsert_writes_nothing() -> None:
    store = ListingStore(data_dir())
    store.upsert(frame(listing("A")))
    before = store.path.read_bytes()
    s = store.upsert(frame(listing("A")))
    assert not s.changed and s.batch == 0
    assert store.path.read_bytes() == before


def test_replace_all_deletes_and_undo_brings_back() -> None:
    store = ListingStore(data_dir())
    store.upsert(frame(listing("A"), listing("B", "Post", "post"), listing("C", "Kita", "kita")))
    s = store.replace_all(frame(listing("A", "Laden neu"), listing("D", "Bank", "bank")),
                          user="edit")
    assert s.deleted == ["B", "C"] and s.updated == ["A"] and s.inserted == ["D"]
    assert sorted(store.read()["id"]) == ["A", "D"]
    store.undo()
    got = store.read().set_index("id")
    assert sorted(got.index) == ["A", "B", "C"]
    assert got.loc["A", "name"] == "Laden"
    assert got.loc["B", "geometry"].equals(Point(12.5962, 52.2205))


def test_delete_and_cli_undo(capsys) -> None:
    store = ListingStore(data_dir())
    store.upsert(frame(listing("A"), listing("B")))
    assert store.delete(["B", "nope"]).deleted == ["B"]
    assert main(["listings", "undo"]) == 0
    assert sorted(store.read()["id"]) == ["A", "B"]
    assert main(["listings", "history"]) == 0
    out = capsys.readouterr().out
    assert "undo" in out and "delete" in out
    assert main(["listings", "list"]) == 0
    assert "2 Angebote" in capsys.readouterr().out


def test_one_writer_at_a_time() -> None:
    store = ListingStore(data_dir(), lock_timeout=0.2)
    store.upsert(frame(listing("A")))
    before = store.path.read_bytes()
    with FileLock(str(store.lock_path)), pytest.raises(StoreBusyError, match="anderen Vorgang"):
        store.upsert(frame(listing("B")))
    assert store.path.read_bytes() == before
    assert store.upsert(frame(listing("B"))).inserted == ["B"]  # lock released again


def test_failed_write_leaves_store_and_no_temp_files(monkeypatch: pytest.MonkeyPatch) -> None:
    store = ListingStore(data_dir())
    store.upsert(frame(listing("A")))
    before = store.path.read_bytes()
    calls = {"n": 0}
    real = pyogrio.write_dataframe

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # listings written, change log fails
            raise OSError("Datenträger voll")
        return real(*args, **kwargs)

    monkeypatch.setattr(pyogrio, "write_dataframe", flaky)
    with pytest.raises(OSError):
        store.upsert(frame(listing("B")))
    assert store.path.read_bytes() == before
    assert [n for n in os.listdir(data_dir()) if "tmp" in n] == []


def test_broken_store_file_is_reported() -> None:
    store = ListingStore(data_dir())
    data_dir().mkdir(parents=True, exist_ok=True)
    store.path.write_bytes(b"kein geopackage")
    with pytest.raises(DataError, match="nicht lesbar"):
        store.read()


def test_store_to_destinations(region) -> None:
    store = ListingStore(data_dir())
    store.upsert(frame(listing("A", category="post,bank", kind="anchor"),
                       listing("V", "Wagen", kind="mobile", opening_hours="Tu 10:00-11:00")))
    d = destinations(store, region, None)
    assert sorted(zip(d["ref"], d["category"], strict=True)) == [
        ("A", "bank"), ("A", "post"), ("V", "lebensmittel")]


# -- merging with OSM ------------------------------------------------------------------------

def _offset(lat: float, lon: float, north_m: float) -> tuple[float, float]:
    return lat + north_m / 111_320.0, lon


def _amenities(*rows: tuple[str, str, str, float, float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"osm_id": [r[0] for r in rows], "name": [r[1] for r in rows],
         "category": [r[2] for r in rows], "tags": "{}", "source": "osm"},
        geometry=[Point(r[4], r[3]) for r in rows], crs="EPSG:4326")


def _points(*rows: tuple[str, str, str, float, float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": [r[1] for r in rows], "category": [r[2] for r in rows], "source": "listing",
         "ref": [r[0] for r in rows], "kind": "fixed", "example": False,
         "opening_hours": "Mo-Fr 08:00-18:00"},
        geometry=[Point(r[4], r[3]) for r in rows], crs="EPSG:4326")


def test_same_place_is_merged_once_with_both_sources() -> None:
    lat, lon = 52.2205, 12.5962
    lat2, _ = _offset(lat, lon, 30)
    am = _amenities(("node/1", "Netto Marken-Discount", "lebensmittel", lat, lon),
                    ("node/2", "Apotheke am Markt", "apotheke", lat, lon))
    lp = _points(("L1", "Netto", "lebensmittel", lat2, lon))
    out = merge_with_osm(lp, am, crs="EPSG:25833")
    assert len(out) == 2
    merged = out[out["category"] == "lebensmittel"].iloc[0]
    assert merged["sources"] == BOTH_LABEL == "OSM + Angebotsliste"
    assert merged["osm_id"] == "node/1" and merged["listing_id"] == "L1"
    assert merged["opening_hours"] == "Mo-Fr 08:00-18:00"
    assert merged.geometry.equals(Point(lon, lat))  # shown once, at the OSM position
    assert out[out["category"] == "apotheke"].iloc[0]["sources"] == "OSM"


@pytest.mark.parametrize(
    ("north_m", "name", "category"),
    [
        (200, "Netto", "lebensmittel"),  # too far
        (10, "Bäckerei Schulze", "lebensmittel"),  # other name
        (10, "Netto", "post"),  # other category
    ],
)
def test_different_places_stay_apart(north_m: float, name: str, category: str) -> None:
    lat, lon = 52.2205, 12.5962
    am = _amenities(("node/1", "Netto Marken-Discount", "lebensmittel", lat, lon))
    lp = _points(("L1", name, category, *_offset(lat, lon, north_m)))
    out = merge_with_osm(lp, am)
    assert len(out) == 2
    assert sorted(out["sources"]) == ["Angebotsliste", "OSM"]


def test_each_feature_joins_at_most_one_pair() -> None:
    lat, lon = 52.2205, 12.5962
    am = _amenities(("node/1", "Dorfladen", "lebensmittel", lat, lon))
    lp = _points(("L1", "Dorfladen", "lebensmittel", *_offset(lat, lon, 5)),
                 ("L2", "Dorfladen", "lebensmittel", *_offset(lat, lon, 40)))
    out = merge_with_osm(lp, am)
    assert len(out) == 2
    assert out.loc[out["sources"] == BOTH_LABEL, "listing_id"].tolist() == ["L1"]


def test_merge_without_osm_and_name_similarity() -> None:
    lp = _points(("L1", "Wagen", "lebensmittel", 52.2, 12.6))
    out = merge_with_osm(lp, None)
    assert out["sources"].tolist() == ["Angebotsliste"]
    assert name_similarity("Sparkasse Mittelbrandenburg", "Sparkasse") == 1.0
    assert name_similarity("Netto", "") == 0.0
    assert name_similarity("Dorfladen Lütte", "Dorfladen Luette") > 0.8


def test_replace_all_refuses_to_overwrite_a_concurrent_change() -> None:
    from dorfkarte.listings import StoreChangedError

    store = ListingStore(data_dir())
    store.upsert(frame(listing("A")), user="anna")
    loaded = store.version()
    assert loaded == 1
    store.upsert(frame(listing("B")), user="ben")  # someone else saves meanwhile
    before = store.path.read_bytes()
    with pytest.raises(StoreChangedError, match="ben"):
        store.replace_all(frame(listing("A", "Neu")), expect_version=loaded)
    assert store.path.read_bytes() == before
    s = store.replace_all(frame(listing("A", "Neu"), listing("B")),
                          expect_version=store.version())
    assert s.updated == ["A"]


def test_coverage_counts_a_mobile_service_only_when_it_is_there(region) -> None:
    """Contract with the coverage engine: listings go in as ``extra_destinations``."""
    import datetime as dt

    coverage = pytest.importorskip("dorfkarte.coverage")
    from dorfkarte.workspace import open_snapshot

    store = ListingStore(data_dir())
    store.upsert(frame(listing("V", "Wagen", kind="mobile", opening_hours="Tu 10:00-11:00",
                               lat=52.2007, lon=12.6055)))
    snap = open_snapshot(region, data_dir())

    def nearest_source(when) -> str:
        pts = destinations(store, region, when)
        res = coverage.analyse(snap, region, categories=["lebensmittel"], modes=["walk"],
                               extra_destinations=pts if len(pts) else None)
        ind = res.indicators
        return str(ind.loc[ind["district"] == "Lütte", "nearest_source"].iloc[0])

    assert nearest_source(dt.datetime(2026, 12, 1, 10, 30)) == "listing"  # Tuesday
    assert nearest_source(dt.datetime(2026, 12, 2, 10, 30)) != "listing"  # Wednesday


def test_change_log_reads_as_german_lines() -> None:
    from dorfkarte.ui.listings import history_frame

    store = ListingStore(data_dir())
    store.upsert(frame(listing("A", opening_hours="Tu 10:00-11:00")), user="anna")
    store.upsert(frame(listing("A", opening_hours="We 10:00-11:00")), user="ben")
    store.delete(["A"], user="carla")
    store.undo(user="dora")
    h = history_frame(store.history())
    assert list(h["Wer"]) == ["dora", "carla", "ben", "anna"]
    assert list(h["Art"]) == ["Rückgängig", "Löschen", "Import", "Import"]
    assert h.iloc[2]["Änderung"] == "opening_hours: Tu 10:00-11:00 → We 10:00-11:00"
    assert h.iloc[1]["Änderung"] == "gelöscht: Laden"
    assert h.iloc[0]["nimmt zurück"] == "Vorgang 3"


def test_change_log_times_in_local_time() -> None:
    """Stored UTC, shown in the region's time zone (Berlin: UTC+1 in winter, +2 in summer)."""
    from dorfkarte.timefmt import local_time
    from dorfkarte.ui.listings import history_frame

    assert local_time("2026-12-01T12:05:00+00:00") == "2026-12-01 13:05"
    assert local_time("2026-07-01T12:05:00+00:00") == "2026-07-01 14:05"
    assert local_time("2026-07-01T12:05:00") == "2026-07-01 14:05"  # no offset: UTC
    assert local_time("kaputt") == "kaputt" and local_time(None) == ""
    log = pd.DataFrame({"batch": [1], "at": ["2026-12-01T23:30:00+00:00"], "user": ["a"],
                        "action": ["import"], "listing_id": ["A"], "op": ["insert"],
                        "fields": [""], "old": [""], "new": [""], "undoes": [None]})
    h = history_frame(log, "Europe/Berlin")
    assert h.iloc[0]["Zeit"] == "2026-12-02 00:30:00"
    assert "Zeit (UTC)" not in h.columns
