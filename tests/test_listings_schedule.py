"""Schedules of listed services: OSM opening_hours, weekly mode, validity, destinations."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pytest

from dorfkarte.listings import (
    ScheduleError,
    available,
    check_schedule,
    describe_when,
    destinations,
    is_open_at,
    next_weekday_time,
    open_every_week,
)

TUE = dt.datetime(2026, 12, 1, 10, 30)  # a Tuesday
WED = dt.datetime(2026, 12, 2, 10, 30)
SECOND_THU = dt.datetime(2026, 12, 10, 15, 0)
FIRST_THU = dt.datetime(2026, 12, 3, 15, 0)


def test_tuesday_slot_counts_on_tuesday_only() -> None:
    assert TUE.weekday() == 1 and WED.weekday() == 2
    assert is_open_at("Tu 10:00-11:00", TUE)
    assert not is_open_at("Tu 10:00-11:00", WED)
    assert not is_open_at("Tu 10:00-11:00", TUE.replace(hour=11, minute=30))
    assert not is_open_at("Tu 10:00-11:00", TUE.replace(hour=9, minute=59))


def test_nth_weekday_of_month() -> None:
    assert SECOND_THU.weekday() == 3
    assert is_open_at("Th[2] 14:00-16:00", SECOND_THU)
    assert not is_open_at("Th[2] 14:00-16:00", FIRST_THU)
    assert not is_open_at("Th[2] 14:00-16:00", SECOND_THU.replace(hour=16, minute=30))


@pytest.mark.parametrize(
    ("schedule", "weekly"),
    [
        ("Tu 10:00-11:00", True),
        ("Mo-Fr 08:00-12:00", True),
        ("Th[2] 14:00-16:00", False),  # some weeks have no second Thursday
        ("We[1,3] 14:00-16:00", False),
        ("", True),  # no schedule: always there
    ],
)
def test_at_least_once_a_week(schedule: str, weekly: bool) -> None:
    assert open_every_week(schedule, dt.date(2026, 12, 1)) is weekly
    assert available(schedule, "weekly", today=dt.date(2026, 12, 1)) is weekly


def test_german_day_names_are_rewritten() -> None:
    assert check_schedule("Di 10:00-11:00") == "Tu 10:00-11:00"
    assert check_schedule("Mo,Mi,Fr 08:00-12:00 Uhr") == "Mo,We,Fr 08:00-12:00"
    assert check_schedule("Do[2] 14:00-16:00") == "Th[2] 14:00-16:00"
    assert check_schedule("") == ""


@pytest.mark.parametrize("bad", ["Dienstag 10 Uhr", "Tu 10", "25:00-26:00", "Tu 10:00-11:00;;x"])
def test_unparseable_schedule_names_the_text(bad: str) -> None:
    with pytest.raises(ScheduleError) as err:
        check_schedule(bad)
    msg = str(err.value)
    assert bad in msg and "opening_hours" in msg and "\n" not in msg


def test_validity_dates_limit_availability() -> None:
    assert available("Tu 10:00-11:00", TUE, "2026-01-01", "2026-12-31")
    assert not available("Tu 10:00-11:00", TUE, "2027-01-01", "")
    assert not available("Tu 10:00-11:00", TUE, "", "2026-11-30")
    assert not available("", "weekly", "", "2026-11-30", today=dt.date(2026, 12, 1))
    assert available("Tu 10:00-11:00", None, "", "2020-01-01")  # None: no time filter


def test_next_weekday_time_and_labels() -> None:
    t = next_weekday_time(1, dt.time(10, 30), dt.date(2026, 12, 2))
    assert t == dt.datetime(2026, 12, 8, 10, 30)
    assert next_weekday_time(1, dt.time(10, 30), dt.date(2026, 12, 1)) == TUE
    assert describe_when(TUE) == "Dienstag, 01.12.2026 10:30 Uhr"
    assert "Woche" in describe_when("weekly")


def _listings() -> gpd.GeoDataFrame:
    rows = [
        {"id": "VW", "name": "Verkaufswagen", "category": "lebensmittel", "kind": "mobile",
         "opening_hours": "Tu 10:00-11:00", "valid_from": "", "valid_to": "", "example": False},
        {"id": "AO", "name": "Ankerort", "category": "post,bank,treffpunkt", "kind": "anchor",
         "opening_hours": "", "valid_from": "", "valid_to": "", "example": True},
        {"id": "GP", "name": "Sprechstunde", "category": "hausarzt", "kind": "mobile",
         "opening_hours": "Th[2] 14:00-16:00", "valid_from": "", "valid_to": "",
         "example": False},
        {"id": "OLD", "name": "Alter Markt", "category": "lebensmittel", "kind": "mobile",
         "opening_hours": "Tu 10:00-11:00", "valid_from": "", "valid_to": "2025-12-31",
         "example": False},
    ]
    return gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy([12.6] * 4, [52.2] * 4),
                            crs="EPSG:4326")


def test_destinations_follow_the_time(region) -> None:
    gdf = _listings()
    every = destinations(gdf, region, None)
    assert sorted(every["ref"]) == ["AO", "AO", "AO", "GP", "OLD", "VW"]
    assert list(every.columns[:6]) == ["name", "category", "source", "ref", "kind", "example"]
    assert set(every["source"]) == {"listing"} and str(every.crs) == "EPSG:4326"
    tue = destinations(gdf, region, TUE)
    assert sorted(set(tue["ref"])) == ["AO", "VW"]  # OLD expired, GP not on Tuesday
    wed = destinations(gdf, region, WED)
    assert "VW" not in set(wed["ref"])
    thu = destinations(gdf, region, SECOND_THU)
    assert "GP" in set(thu["ref"])
    weekly = destinations(gdf, region, "weekly", today=dt.date(2026, 12, 1))
    assert sorted(set(weekly["ref"])) == ["AO", "VW"]


def test_anchor_place_gives_one_row_per_category(region) -> None:
    d = destinations(_listings(), region, None)
    anchor = d[d["ref"] == "AO"]
    assert sorted(anchor["category"]) == ["bank", "post", "treffpunkt"]
    assert anchor["example"].all()
    assert not d[d["ref"] == "VW"]["example"].any()


def test_destinations_empty_has_contract_columns(region) -> None:
    d = destinations(_listings().iloc[0:0], region, "weekly")
    assert len(d) == 0
    for col in ("name", "category", "source", "ref", "kind", "example", "geometry"):
        assert col in d.columns


def test_cli_when_parsing() -> None:
    from dorfkarte.commands.listings import parse_when
    from dorfkarte.errors import DataError

    assert parse_when("weekly") == "weekly" and parse_when("wöchentlich") == "weekly"
    assert parse_when("2026-12-01 10:30") == TUE
    assert parse_when("01.12.2026 10:30") == TUE
    assert parse_when("Di 10:30", today=dt.date(2026, 11, 27)) == TUE
    assert parse_when("Tu 10:30", today=dt.date(2026, 12, 1)) == TUE
    with pytest.raises(DataError, match="--when"):
        parse_when("irgendwann")


@pytest.mark.parametrize(("text", "proposals"), [
    ("alle 14 Tage Mi 9-10 Uhr", ["We[1,3] 09:00-10:00", "week 01-53/2 We 09:00-10:00",
                                  "week 02-52/2 We 09:00-10:00"]),
    ("14-tägig Di + Do 10-11", ["week 01-53/2 Tu,Th 10:00-11:00"]),
    ("vormittags Fr", ["Fr 08:00-12:00"]),
    ("Do ab 9.30", ["Th 09:30-11:30"]),
])
def test_ambiguous_hint_proposes_the_users_own_day_and_time(text: str,
                                                             proposals: list[str]) -> None:
    from dorfkarte.listings import read_schedule

    with pytest.raises(ScheduleError) as err:
        read_schedule(text)
    msg = str(err.value)
    for p in proposals:
        assert f"'{p}'" in msg, msg
        assert read_schedule(p)[0] == p  # every proposal is itself a valid schedule
    if "Tu" not in proposals[0]:
        assert "Tu 10:00-11:00" not in msg  # no canned Tuesday


def test_form_coordinates_accept_decimal_comma() -> None:
    from dorfkarte.errors import DataError
    from dorfkarte.listings.validate import parse_coordinates

    assert parse_coordinates("52,1386", "12,5843") == (52.1386, 12.5843)
    assert parse_coordinates(" 52.1386 ", "12.5843") == (52.1386, 12.5843)
    assert parse_coordinates("", "") is None
    with pytest.raises(DataError, match="Länge fehlt"):
        parse_coordinates("52,1", "")
    with pytest.raises(DataError, match="Breite 'x' ist keine Zahl"):
        parse_coordinates("x", "12,5")
    with pytest.raises(DataError, match="keine gültige Koordinate"):
        parse_coordinates("152,1", "12,5")
