"""GTFS reading, checking, cutting and storing (dorfkarte.gtfs)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import partridge as ptg
import pytest
import shapely
from gtfs_feeds import lonlat, write_feed

from dorfkarte import gtfs
from dorfkarte.gtfs import FeedError

STOPS = {"A": (0, 0), "B": (2000, 0), "C": (4000, 0), "FAR": (200_000, 0)}
TRIPS = {"t1": [("A", "07:00:00", "07:00:00"), ("B", "07:05:00", "07:06:00"),
                ("C", "07:10:00", "07:10:00")],
         "t2": [("FAR", "08:00:00", "08:00:00"), ("FAR", "08:10:00", "08:10:00")]}


def test_read_feed_times_and_validity(tmp_path):
    tt = gtfs.read_feed(write_feed(tmp_path / "f.zip", STOPS, TRIPS))
    assert tt.n_stops == 4 and len(tt.trips) == 2
    assert tt.st_dep[0] == 7 * 3600 and tt.st_arr[1] == 7 * 3600 + 300
    assert tt.info.valid_from == "2021-01-01" and tt.info.valid_to == "2021-12-31"
    assert tt.info.label == "Fahrplan 2021"
    assert tt.active_trips(dt.date(2021, 6, 15)).all()
    assert not tt.active_trips(dt.date(2021, 6, 16)).any()


def test_calendar_and_calendar_dates_match_partridge(tmp_path):
    cal = [{"service_id": "W", "monday": "1", "tuesday": "1", "wednesday": "1",
            "thursday": "1", "friday": "1", "saturday": "0", "sunday": "0",
            "start_date": "20210601", "end_date": "20210630"}]
    path = tmp_path / "c.zip"
    write_feed(path, STOPS, TRIPS, service={"t1": "W", "t2": "X"}, calendar=cal,
               dates={"W": [], "X": ["20210612"]},
               replace={"calendar_dates.txt": "service_id,date,exception_type\n"
                        "W,20210615,2\nW,20210619,1\nX,20210612,1\n"})
    tt = gtfs.read_feed(path)
    assert tt.services == ptg.read_service_ids_by_date(str(path))
    assert "W" not in tt.services.get(dt.date(2021, 6, 15), frozenset())  # exception 2
    assert "W" in tt.services[dt.date(2021, 6, 19)]  # Saturday added by exception 1
    assert "W" in tt.services[dt.date(2021, 6, 14)]
    assert dt.date(2021, 6, 13) not in tt.services  # Sunday


def test_overnight_times_are_kept(tmp_path):
    trips = {"n": [("A", "23:50:00", "23:50:00"), ("B", "24:30:00", "24:30:00")]}
    tt = gtfs.read_feed(write_feed(tmp_path / "n.zip", STOPS, trips))
    assert tt.st_arr[1] == 24 * 3600 + 30 * 60


@pytest.mark.parametrize("kwargs, message", [
    ({"drop": ("stops.txt",)}, "Datei 'stops.txt' fehlt"),
    ({"replace": {"stop_times.txt": "trip_id,arrival_time,stop_id,stop_sequence\n"
                  "t1,07:00:00,A,0\n"}}, "stop_times.txt: Spalte 'departure_time' fehlt"),
    ({"replace": {"stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,"
                  "stop_sequence\nt1,07:00:00,07:00:00,A,0\nt1,25:61:00,25:61:00,B,1\n"}},
     "stop_times.txt, Zeile 3, Spalte 'arrival_time': '25:61:00'"),
    ({"replace": {"stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,"
                  "stop_sequence\nt1,07:00:00,07:00:00,A,0\nt1,07:05:00,07:05:00,ZZ,1\n"}},
     "stop_times.txt, Zeile 3, Spalte 'stop_id': 'ZZ' steht nicht in stops.txt"),
    ({"drop": ("calendar_dates.txt",), "dates": {}},
     "calendar.txt und calendar_dates.txt fehlen"),
])
def test_bad_feeds_name_file_row_column(tmp_path, kwargs, message):
    path = write_feed(tmp_path / "bad.zip", STOPS, TRIPS, **kwargs)
    with pytest.raises(FeedError) as exc:
        gtfs.read_feed(path)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_no_timetable_is_an_error_not_a_guess(tmp_path):
    with pytest.raises(gtfs.FeedMissingError, match="import-gtfs"):
        gtfs.load_timetable("anderswo", tmp_path, None)


def test_not_a_zip(tmp_path):
    p = tmp_path / "x.zip"
    p.write_text("kein zip")
    with pytest.raises(FeedError, match="keine ZIP-Datei"):
        gtfs.read_feed(p)


def _area(x0, x1):
    (lo0, la0), (lo1, la1) = lonlat(x0, -500), lonlat(x1, 500)
    return shapely.box(lo0, la0, lo1, la1)


def test_import_cuts_to_area_and_stores_atomically(tmp_path):
    src = write_feed(tmp_path / "f.zip", STOPS, TRIPS)
    dest = tmp_path / "data" / "gtfs" / "r.zip"
    tt = gtfs.import_gtfs(src, dest, _area(-100, 2100), source="Test", licence="CC0",
                          day=dt.date(2021, 6, 15))
    assert list(tt.trips["trip_id"]) == ["t1"]  # t2 never touches the area
    assert set(tt.stops["stop_id"]) == {"A", "B", "C"}  # whole trip kept (C is outside)
    back = gtfs.read_feed(dest)
    assert back.info.source == "Test" and back.info.licence == "CC0"
    assert back.info.valid_from == "2021-01-01"  # feed_info, not the file date
    assert back.info.imported_at
    np.testing.assert_array_equal(back.st_dep, tt.st_dep)
    assert back.services == tt.services
    before = dest.read_bytes()
    # a bad feed, and a day without service, leave the stored feed unchanged
    bad = write_feed(tmp_path / "b.zip", STOPS, TRIPS, replace={
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                          "t1,7:00,07:00:00,A,0\n"})
    with pytest.raises(FeedError):
        gtfs.import_gtfs(bad, dest, _area(-100, 2100))
    with pytest.raises(FeedError, match="am 2021-06-16 fährt keine Fahrt"):
        gtfs.import_gtfs(src, dest, _area(-100, 2100), day=dt.date(2021, 6, 16))
    assert dest.read_bytes() == before
    assert sorted(p.name for p in dest.parent.iterdir()) == ["r.zip"]  # no temp files left


def test_embedded_feed_is_labelled_and_complete():
    from dorfkarte import pt
    from dorfkarte.region import load_region
    from dorfkarte.settings import default_region_path

    tt = pt.timetable_for(load_region(default_region_path()))
    assert tt.info.caption() == "Fahrplan 2021 – veraltet"
    assert tt.info.licence == "CC BY 3.0" and tt.info.outdated
    assert len(tt.trips) == 1607 and len(tt.st_trip) == 31007
    assert tt.default_day().weekday() == 1
    day = dt.date(2021, 6, 15)
    assert tt.active_trips(day).sum() > 600


def test_cli_import_then_journey_uses_it_and_bad_import_changes_nothing(tmp_path, capsys):
    from dorfkarte.cli import main
    from dorfkarte.settings import embedded_data_dir

    data = tmp_path / "data"
    src = embedded_data_dir() / gtfs.EMBEDDED_FEED
    rc = main(["import-gtfs", str(src), "--data-dir", str(data), "--source", "VBB (Test)",
               "--licence", "CC BY 3.0", "--date", "2021-06-15"])
    out = capsys.readouterr().out
    assert rc == 0 and "Gültig: 2021-03-18 bis 2021-12-11" in out
    stored = gtfs.stored_feed_path(data, "hoher-flaeming")
    tt = gtfs.read_feed(stored)
    assert tt.info.source == "VBB (Test)" and not tt.info.outdated
    assert 0 < len(tt.trips) <= 1607
    rc = main(["journey", "Lütte, Dorf", "Bad Belzig, Bahnhof", "--date", "2021-06-15",
               "--depart", "06:00", "--data-dir", str(data)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "journey depart=06:19 arrive=06:35 minutes=16 transfers=0"
    assert "VBB (Test)" in lines[0]
    before = stored.read_bytes()
    bad = write_feed(tmp_path / "bad.zip", STOPS, TRIPS, replace={
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                          "t1,07:00:00,07:00:00,A,0\nt1,25:61:00,25:61:00,B,1\n"})
    rc = main(["import-gtfs", str(bad), "--data-dir", str(data)])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1
    assert "stop_times.txt, Zeile 3, Spalte 'arrival_time'" in err
    assert stored.read_bytes() == before


def test_two_sessions_asking_at_once_read_the_feed_once(tmp_path, monkeypatch) -> None:
    """The app's warm-up and its first visitor ask for the timetable at the same moment:
    the feed is read once and both get the same timetable (lru_cache alone does not lock)."""
    import threading
    import time

    feed = tmp_path / "feed.zip"
    feed.write_bytes(b"not read: read_feed is replaced")
    calls: list[str] = []

    def slow_read(path, *, info=None):
        calls.append(str(path))
        time.sleep(0.2)  # both threads are inside load_timetable meanwhile
        return object()

    monkeypatch.setattr(gtfs, "read_feed", slow_read)
    gtfs._cached.cache_clear()
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(
        gtfs.load_timetable("x", tmp_path / "leer", feed))) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    gtfs._cached.cache_clear()
    assert calls == [str(feed)]
    assert len(got) == 2 and got[0] is got[1]
