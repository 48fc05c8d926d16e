"""Mode ``pt`` (dorfkarte.pt) and central places (dorfkarte.central)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from gtfs_feeds import lonlat, write_feed

from dorfkarte import central, gtfs, pt
from dorfkarte.coverage import analyse
from dorfkarte.enums import Mode
from dorfkarte.network import transform_xy
from dorfkarte.region import load_region
from dorfkarte.settings import default_region_path
from dorfkarte.workspace import open_snapshot

DAY = dt.date(2021, 6, 15)


@pytest.fixture(scope="module")
def region():
    return load_region(default_region_path())


def _xy(region, x_m, y_m=0.0):
    lon, lat = lonlat(x_m, y_m)
    return transform_xy(np.array([lon]), np.array([lat]), "EPSG:4326", region.crs)


def _model(tmp_path, region, trips, st):
    stops = {"A": (0, 0), "B": (8000, 0)}
    tt = gtfs.read_feed(write_feed(tmp_path / "f.zip", stops, trips))
    return tt, pt.prepare(tt, region, DAY, st)


def test_door_to_door_best_median_departures(tmp_path, region):
    """Buses A -> B every 30 min from 07:00; home 100 m from A, service 100 m from B."""
    trips = {}
    for k in range(6):  # 07:00 ... 09:30
        h, m = 7 + k // 2, 30 * (k % 2)
        trips[f"t{k}"] = [("A", f"{h:02d}:{m:02d}:00", f"{h:02d}:{m:02d}:00"),
                          ("B", f"{h:02d}:{m + 20:02d}:00", f"{h:02d}:{m + 20:02d}:00")]
    st = pt.PTSettings(roundtrip_arrive_by="10:00", roundtrip_hours=4, roundtrip_stay_min=60)
    tt, model = _model(tmp_path, region, trips, st)
    home = _xy(region, 0, 100)
    service = _xy(region, 8000, 100)
    q = pt.PTQuery(DAY, 7 * 3600, 9 * 3600)
    (r,) = pt.analyse_pt(model, home, [service], q, st)
    mps = region.modes.walk_kmh / 3.6
    idx = tt.stop_index()

    def walk(p, s):  # seconds, straight line x detour
        return float(np.hypot(*(p[0] - model.stop_xy[idx[s]]))) * region.modes.detour_factor / mps

    # best: leave so as to catch a bus exactly: walk + 20 min ride + walk, the walk to the
    # stop rounded up to whole minutes (departures are on the minute grid)
    walk_to = np.ceil(walk(home, "A") / 60) * 60
    want = (walk_to + 20 * 60 + walk(service, "B")) / 60
    assert r.best[0] == pytest.approx(want, abs=1e-3)  # arrivals stored as float32 seconds
    # median over the 121 departure minutes 07:00..09:00: the wait is 0..29 min, median ~15
    assert want + 13 <= r.median[0] <= want + 16
    assert r.departures[0] == 6  # six buses in the day
    assert r.roundtrip[0] == 0.0  # no bus back B -> A at all
    assert not r.walk_only[0]


def test_walk_only_and_no_service(tmp_path, region):
    trips = {"t": [("A", "07:00:00", "07:00:00"), ("B", "07:20:00", "07:20:00")]}
    st = pt.PTSettings()
    tt, model = _model(tmp_path, region, trips, st)
    q = pt.PTQuery(DAY, 7 * 3600, 9 * 3600)
    home = np.vstack([_xy(region, 0, 100), _xy(region, 30000, 0)])
    near = _xy(region, 0, 300)  # 200 m from home 0: walk-only
    (r,) = pt.analyse_pt(model, home, [near], q, st)
    walk = float(np.hypot(*(home[0] - near[0]))) * region.modes.detour_factor \
        / (region.modes.walk_kmh / 3.6) / 60
    assert r.best[0] == pytest.approx(walk) and r.median[0] == pytest.approx(walk)
    assert r.walk_only[0] and np.isnan(r.departures[0])
    assert np.isinf(r.best[1]) and np.isinf(r.median[1])  # 30 km away, no stop near


def test_roundtrip(tmp_path, region):
    trips = {"out": [("A", "08:00:00", "08:00:00"), ("B", "08:20:00", "08:20:00")],
             "back": [("B", "09:40:00", "09:40:00"), ("A", "10:00:00", "10:00:00")]}
    home = _xy(region, 0, 50)
    service = _xy(region, 8000, 50)
    q = pt.PTQuery(DAY, 7 * 3600, 9 * 3600)
    for stay, want in ((60, 1.0), (90, 0.0)):
        st = pt.PTSettings(roundtrip_arrive_by="09:00", roundtrip_hours=3,
                           roundtrip_stay_min=stay)
        tt, model = _model(tmp_path, region, trips, st)
        (r,) = pt.analyse_pt(model, home, [service], q, st)
        assert r.roundtrip[0] == want, stay


def test_settings_from_region_file(region):
    st = pt.settings(region)
    assert st.access_max_m == 1500 and st.min_transfer_min == 2
    assert st.window == ("07:00", "09:00")
    assert "r5py" in st.sources["max_minutes"]


def test_central_places_have_their_plan(region):
    df = central.places(region, "mittelzentrum")
    assert list(df["name"]) == ["Bad Belzig"]
    assert all("LEP HR" in s for s in df["designation_source"])
    assert region.threshold("mittelzentrum", "pt").minutes == 45
    assert region.threshold("mittelzentrum", "drive").minutes == 30
    assert region.threshold("zentralort", "pt").minutes == 30
    assert region.threshold("zentralort", "drive").minutes == 20
    assert "RIN 2008" in region.threshold("zentralort", "pt").source


def test_pt_mode_on_embedded_data_alone(tmp_path, region):
    """A fresh clone: no OSM snapshot; the central-place test by timetable and by car."""
    snap = open_snapshot(region, tmp_path)
    res = analyse(snap, region, categories=["zentralort", "mittelzentrum", "hausarzt"],
                  modes=["drive", Mode.PT])
    t = res.table()
    assert {"pt_best_median", "pt_departures_per_day", "roundtrip_share", "timetable",
            "central_place_source"} <= set(t.columns)
    row = t[(t["district"] == "Lütte") & (t["category"] == "mittelzentrum")
            & (t["mode"] == Mode.PT)].iloc[0]
    assert row["nearest_name"] == "Bad Belzig" and row["threshold"] == 45
    assert row["timetable"].startswith("Fahrplan 2021 – veraltet")
    assert 0 < row["pt_best_median"] <= row["median"] < 120
    assert "LEP HR" in row["central_place_source"]
    kern = t[(t["district"] == "Bad Belzig (Kernstadt)") & (t["mode"] == Mode.PT)
             & (t["category"] == "zentralort")].iloc[0]
    assert kern["median"] <= kern["threshold"]  # most of the town walks or rides in time
    doc = t[(t["category"] == "hausarzt") & (t["mode"] == Mode.PT)]
    assert (doc["gap_class"] == "no_data").all()  # no GP in the embedded data
    assert res.pt.query.day.weekday() == 1
    assert any("Fahrplan 2021 – veraltet" in n for n in res.notes)
    # thresholds slider works for pt like for other modes
    res2 = res.with_thresholds({("mittelzentrum", Mode.PT): 120})
    r2 = res2.indicators
    assert (r2[(r2["category"] == "mittelzentrum") & (r2["mode"] == Mode.PT)]
            ["share_within"] >= 0).all()


def test_times_from_points_for_what_if(tmp_path, region):
    snap = open_snapshot(region, tmp_path)
    res = analyse(snap, region, categories=["mittelzentrum"], modes=[Mode.PT],
                  pt_options=pt.PTOptions(daily=False))
    import geopandas as gpd
    from shapely.geometry import Point

    dest = res.destinations["mittelzentrum"]
    pts = gpd.GeoDataFrame({"name": ["x"]}, geometry=[dest.geometry.iloc[0]], crs=dest.crs)
    from dorfkarte.coverage import times_from_points

    t = times_from_points(res, Mode.PT, pts)
    np.testing.assert_allclose(t[0], res.times[("mittelzentrum", Mode.PT)])
    del Point


def test_what_if_add_and_remove_work_for_pt(tmp_path, region):
    """Scenarios: a new service point changes pt times by timetable, removal restores them."""
    from dorfkarte.scenario import WhatIf

    snap = open_snapshot(region, tmp_path)
    res = analyse(snap, region, categories=["mittelzentrum"], modes=[Mode.PT],
                  pt_options=pt.PTOptions(daily=False))
    key = ("mittelzentrum", Mode.PT)
    before = res.times[key].copy()
    w = WhatIf(res)
    # a second "central place" at Wiesenburg's station (illustrative, not a designation)
    w.add("mittelzentrum", 52.1186, 12.4611, name="Test (Szenario)")
    after = w.result.times[key]
    kern = list(res.origins["district"]).index("Wiesenburg (Kernort)")
    assert after[kern] < before[kern]
    assert np.all(after <= before + 1e-9)


def test_export_sources_box_names_the_timetable_for_mode_pt(tmp_path, region):
    """A slide of a pt map says which (out-of-date) timetable and day its times are from."""
    from dorfkarte.export import build_export_html

    snap = open_snapshot(region, tmp_path)
    res = analyse(snap, region, categories=["mittelzentrum"], modes=["drive", Mode.PT],
                  pt_options=pt.PTOptions(daily=False))
    info = res.pt.timetable.info
    doc, _, _ = build_export_html(snap, region, res, category="mittelzentrum", mode=Mode.PT,
                                  offline=True, slide=True)
    box = doc[doc.index('id="dk-export-sources"'):]
    box = box[:box.index("</details>")]
    assert "Fahrplan 2021 – veraltet" in box
    assert f"Stichtag {res.pt.query.day.isoformat()}" in box
    assert info.licence and info.licence in box
    assert f"{info.valid_from} – {info.valid_to}" in box
    doc_drive, _, _ = build_export_html(snap, region, res, category="mittelzentrum",
                                        mode="drive", offline=True, slide=True)
    box = doc_drive[doc_drive.index('id="dk-export-sources"'):]
    assert "Fahrplan 2021" not in box[:box.index("</details>")]  # not a timetable map
