"""``dorfkarte journey`` on the embedded 2021 feed and on a hand-made one."""

from __future__ import annotations

import datetime as dt

import pytest
from gtfs_feeds import write_feed

from dorfkarte import gtfs, journey, pt
from dorfkarte.cli import main
from dorfkarte.region import load_region
from dorfkarte.settings import default_region_path


def test_known_journey_from_the_data_readme(tmp_path, capsys):
    """README: on Tue 2021-06-15 bus 581 leaves Lütte, Dorf 06:19, Bad Belzig, Bahnhof 06:35."""
    rc = main(["journey", "Lütte, Dorf", "Bad Belzig, Bahnhof", "--date", "2021-06-15",
               "--depart", "06:00", "--data-dir", str(tmp_path)])
    out = capsys.readouterr().out.strip().splitlines()
    assert rc == 0
    assert out[-1] == "journey depart=06:19 arrive=06:35 minutes=16 transfers=0"
    assert "Fahrplan 2021 – veraltet" in out[0]
    assert any("581" in line and "Lütte, Dorf" in line for line in out)


def test_no_connection_and_bad_input(tmp_path, capsys):
    rc = main(["journey", "Lütte, Dorf", "Bad Belzig, Bahnhof", "--date", "2021-06-15",
               "--depart", "23:55", "--data-dir", str(tmp_path)])
    assert rc == 0 and capsys.readouterr().out.strip().splitlines()[-1] == "journey none"
    rc = main(["journey", "Nirgendwo", "Lütte, Dorf", "--date", "2021-06-15",
               "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "'Nirgendwo'" in err and len(err.strip().splitlines()) == 1
    rc = main(["journey", "Lütte, Dorf", "Bad Belzig, Bahnhof", "--date", "2024-06-11",
               "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "am 2024-06-11 fährt keine Fahrt" in err
    rc = main(["journey", "Lütte, Dorf", "Bad Belzig, Bahnhof", "--depart", "7 Uhr",
               "--data-dir", str(tmp_path)])
    assert rc == 2 and "HH:MM" in capsys.readouterr().err


def test_ortsteil_and_point_places():
    region = load_region(default_region_path())
    tt = pt.timetable_for(region)
    planner = journey.Planner(tt, region, dt.date(2021, 6, 15))
    a = journey.resolve_place("Lütte", tt, region, planner)  # the Ortsteil's centre
    assert a.xy is not None and a.stops
    b = journey.resolve_place("52.13626,12.59523", tt, region, planner)  # at the station
    j = planner.plan(a, b, 6 * 3600)
    assert j is not None and j.arrive <= 6 * 3600 + 40 * 60
    assert journey.summary_line(j).startswith("journey depart=")


def _planner(tmp_path, trips):
    stops = {"A": (0, 0), "B": (5000, 0), "C": (10000, 0)}
    tt = gtfs.read_feed(write_feed(tmp_path / "f.zip", stops, trips))
    region = load_region(default_region_path())
    return tt, region, journey.Planner(tt, region, dt.date(2021, 6, 15))


def test_latest_departure_for_the_earliest_arrival(tmp_path):
    """A slow early bus and a fast later one arrive together: the later one is shown."""
    tt, region, planner = _planner(tmp_path, {
        "slow": [("A", "07:00:00", "07:00:00"), ("B", "07:40:00", "07:40:00")],
        "fast": [("A", "07:25:00", "07:25:00"), ("B", "07:40:00", "07:40:00")]})
    a = journey.resolve_place("Stop A", tt, region, planner)
    b = journey.resolve_place("Stop B", tt, region, planner)
    j = planner.plan(a, b, 6 * 3600)
    assert journey.summary_line(j) == "journey depart=07:25 arrive=07:40 minutes=15 transfers=0"


def test_transfer_counted(tmp_path):
    tt, region, planner = _planner(tmp_path, {
        "t1": [("A", "07:00:00", "07:00:00"), ("B", "07:10:00", "07:10:00")],
        "t2": [("B", "07:15:00", "07:15:00"), ("C", "07:30:00", "07:30:00")]})
    a = journey.resolve_place("Stop A", tt, region, planner)
    c = journey.resolve_place("Stop C", tt, region, planner)
    j = planner.plan(a, c, 6 * 3600)
    assert journey.summary_line(j) == "journey depart=07:00 arrive=07:30 minutes=30 transfers=1"
    lines = journey.describe(j, planner, a, c)
    assert sum("ab Stop" in x for x in lines) == 2


def test_ambiguous_stop_name(tmp_path):
    tt, region, planner = _planner(tmp_path, {
        "t1": [("A", "07:00:00", "07:00:00"), ("B", "07:10:00", "07:10:00")]})
    with pytest.raises(journey.PlaceError, match="mehrere Haltestellen"):
        journey.resolve_place("Stop", tt, region, planner)
