"""Smart Village App as a listing source: recorded answers and a failing server on 127.0.0.1.

``fixtures/smart_village_answer.json`` is a synthetic answer (invented test entries, names
marked "Testdaten") built field by field from the mainserver's GraphQL query types
(``point_of_interest_type.rb``, ``opening_hour_type.rb``, ``event_record_type.rb``,
``date_type.rb``, ``address_type.rb``, ``geo_location_type.rb``), at Ortsteil centres of the
shipped region so that it validates.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import osmfixtures
import pytest
from fakeservers import ANSWER, FIXTURE, MAPPING, FakeServer

from dorfkarte.cli import main
from dorfkarte.errors import DataError, FetchError, RegionError
from dorfkarte.listings import ListingStore, destinations
from dorfkarte.listings import smart_village as sva
from dorfkarte.region import load_region
from dorfkarte.settings import default_region_path

URL = "https://app.example.org/graphql"
TODAY = dt.date(2026, 12, 1)


@pytest.fixture
def sv_region(region):
    return dataclasses.replace(region, smart_village_categories=MAPPING)


@pytest.fixture
def region_file(tmp_path: Path) -> Path:
    """The shipped region plus a [smart_village.categories] table (paths made absolute)."""
    src = default_region_path()
    text = src.read_text(encoding="utf-8").replace('"../', f'"{src.parent.parent}/')
    text += "\n[smart_village.categories]\n" + "".join(
        f'"{k}" = "{v}"\n' for k, v in MAPPING.items())
    path = tmp_path / "region.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _import(data: dict, region, data_dir: Path, today: dt.date = TODAY):
    store = ListingStore(data_dir)
    checked = sva.check_answer(data, region, data_dir, source=sva.source_name(URL), store=store)
    return checked, sva.import_answer(checked, store, today=today)


def test_recorded_answer_becomes_listings_with_schedules(sv_region, tmp_path):
    data_dir = tmp_path / "d"
    checked, summary = _import(ANSWER["data"], sv_region, data_dir)
    stored = ListingStore(data_dir).read().set_index("id")
    assert sorted(summary.inserted) == ["sva-event-201", "sva-event-202", "sva-event-203",
                                        "sva-poi-101"]
    # weekly recurring event (weekday 1 = Tuesday after the week's Monday) -> OSM schedule
    van = stored.loc["sva-event-201"]
    assert van["opening_hours"] == "Tu 10:00-11:00"
    assert (van["valid_from"], van["valid_to"]) == ("2026-01-06", "2027-06-29")
    assert van["category"] == "lebensmittel" and van["source"] == f"Smart Village App {URL}"
    assert van["provider"] == "Testanbieter Handel"
    # every second Thursday: odd ISO weeks, as the dates in the answer (weeks 49, 51) say
    assert stored.loc["sva-event-202", "opening_hours"] == "week 01-53/2 Th 14:00-16:00"
    assert stored.loc["sva-event-203", "opening_hours"] == \
        "2026 Dec 10,2027 Jan 14 14:00-16:00"
    gp = stored.loc["sva-poi-101"]
    assert gp["opening_hours"] == "Mo 08:00-12:00,14:00-18:00; Tu,Th,Fr 08:00-12:00"
    assert gp["provider"] == "Testanbieter Gesundheit"
    assert gp["contact"] == "033841 0000, praxis@example.org"
    assert gp["url"] == "https://example.org/praxis"
    assert abs(gp["lat"] - 52.14222) < 1e-9 and abs(gp["lon"] - 12.59556) < 1e-9
    # reported, not stored: outside the region, address not locatable, unmapped category
    lines = checked.lines()
    assert any("Ort 104" in x and "außerhalb der Region" in x for x in lines)
    assert any("Ort 102" in x and "nicht verortet" in x for x in lines)
    assert any("Wandern (1)" in x for x in lines)
    assert "sva-poi-104" not in stored.index and "sva-poi-103" not in stored.index
    # weekly ones count for "weekly" coverage; the fortnightly and one-off do not
    weekly = destinations(ListingStore(data_dir), sv_region, "weekly", today=TODAY)
    assert set(weekly["ref"]) == {"sva-event-201", "sva-poi-101"}


def test_address_only_entry_is_located_from_the_snapshot(sv_region, tmp_path):
    data_dir = tmp_path / "d"
    osmfixtures.build_test_snapshot(data_dir)
    checked, summary = _import(ANSWER["data"], sv_region, data_dir)
    row = ListingStore(data_dir).read().set_index("id").loc["sva-poi-102"]
    assert row["location_source"] == "Adresse (OSM)"
    assert abs(row["lon"] - 12.55) < 1e-6 and abs(row["lat"] - 52.145) < 1e-6
    assert row["provider"] == "Testhof GbR" and row["opening_hours"] == "Sa 09:00-12:00"


def test_reimport_updates_adds_and_ends_in_one_batch_and_undo_restores(sv_region, tmp_path):
    data_dir = tmp_path / "d"
    _import(ANSWER["data"], sv_region, data_dir)
    store = ListingStore(data_dir)
    before = store.read()
    changed = copy.deepcopy(ANSWER["data"])
    pois = changed["pointsOfInterest"]
    pois[0]["openingHours"][0]["timeTo"] = "13:00"  # Monday morning longer
    events = changed["eventRecords"]
    events[0]["recurringWeekdays"] = [1, 3]  # van now also on Thursdays
    for d in events[0]["dates"][1:]:
        d["weekday"] = ""
    events[0]["dates"].append({"weekday": "", "dateStart": "2026-12-03",
                               "dateEnd": "2026-12-03", "timeStart": "10:00",
                               "timeEnd": "11:00"})
    del events[1]  # fortnightly consultation gone from the app
    events.append({**copy.deepcopy(events[-1]), "id": "204", "title": "Spielenachmittag (Test)"})
    checked, summary = _import(changed, sv_region, data_dir)

    assert summary.inserted == ["sva-event-204"]
    assert sorted(summary.updated) == ["sva-event-201", "sva-event-202", "sva-poi-101"]
    assert checked.ended(summary) == ["sva-event-202"]
    after = store.read().set_index("id")
    assert after.loc["sva-poi-101", "opening_hours"].startswith("Mo 08:00-13:00,14:00-18:00")
    assert after.loc["sva-event-201", "opening_hours"] == "Tu,Th 10:00-11:00"
    ended = after.loc["sva-event-202"]
    assert ended["valid_to"] == "2026-11-30" and "nicht mehr in der Smart Village App" in \
        ended["note"]
    log = store.history()
    assert log.loc[log["batch"] == summary.batch, "listing_id"].nunique() == 4
    assert log["batch"].max() == summary.batch == 2  # one batch for the whole re-import

    # the same answer again changes nothing (the ended entry stays ended)
    _, again = _import(changed, sv_region, data_dir)
    assert not again.changed

    undone = store.undo()
    assert undone is not None and undone.batch and sorted(undone.deleted) == ["sva-event-204"]
    restored = store.read()
    cols = [c for c in before.columns if c not in ("updated_at", "updated_by", "geometry")]
    assert restored[cols].equals(before[cols])


def test_entry_of_another_source_is_not_overwritten(sv_region, tmp_path):
    data_dir = tmp_path / "d"
    _import(ANSWER["data"], sv_region, data_dir)
    store = ListingStore(data_dir)
    other = sva.check_answer(ANSWER["data"], sv_region, data_dir,
                             source=sva.source_name("https://other.example/graphql"))
    assert not len(other.listings)
    assert any("gehört schon zu einem Eintrag" in x for x in other.lines())
    summary = sva.import_answer(other, store, today=TODAY)
    assert not summary.changed


@pytest.mark.parametrize("hours, expected", [
    ([{"weekday": "Montag - Freitag", "timeFrom": "08:00", "timeTo": "12:00"},
      {"weekday": "Montag", "timeFrom": "14:00", "timeTo": "18:00"}],
     "Mo 08:00-12:00,14:00-18:00; Tu-Fr 08:00-12:00"),
    ([{"weekday": "Mo-Fr", "timeFrom": "09:00", "timeTo": "12:00"},
      {"weekday": "", "open": False, "dateFrom": "2026-12-24", "dateTo": "2026-12-31"}],
     "Mo-Fr 09:00-12:00; 2026 Dec 24-2026 Dec 31 off"),
    ([{"weekday": "Dienstag", "timeFrom": "10:00:00", "timeTo": "00:00"}], "Tu 10:00-24:00"),
    ([{"weekday": "Saturday", "timeFrom": "9:00", "timeTo": "12:00"},
      {"weekday": "Mittwoch", "open": False}], "Sa 09:00-12:00"),
])
def test_opening_hours_to_osm(hours, expected):
    import opening_hours

    sched, *_ = sva.poi_schedule(hours)
    assert sched == expected
    opening_hours.OpeningHours(sched)


def test_unreadable_weekday_refuses_the_entry(sv_region, tmp_path):
    data = copy.deepcopy(ANSWER["data"])
    data["pointsOfInterest"][0]["openingHours"] = [
        {"weekday": "nach Vereinbarung", "timeFrom": "08:00", "timeTo": "12:00"}]
    checked = sva.check_answer(data, sv_region, tmp_path / "d", source="Smart Village App x")
    assert "sva-poi-101" not in set(checked.listings["id"])
    assert any("Ort 101" in x and "Wochentag 'nach Vereinbarung' nicht lesbar" in x
               for x in checked.lines())


def test_weekdays_from_dates_win_over_pattern():
    ev = {"recurring": True, "recurringType": 1, "recurringInterval": 1,
          "recurringWeekdays": [0],
          "dates": [{"dateStart": "2026-12-01", "dateEnd": "2026-12-01", "timeStart": "10:00",
                     "timeEnd": "11:00"}]}  # 2026-12-01 is a Tuesday
    sched, _, _, notes = sva.event_schedule(ev)
    assert sched == "Tu 10:00-11:00" and "die Termine gelten" in notes[0]
    daily = {**ev, "recurringType": 0}
    assert sva.event_schedule(daily)[0] == "Mo-Su 10:00-11:00"


def test_region_file_mapping(region_file, tmp_path):
    region = load_region(region_file)
    assert region.smart_village_categories["Ärzte"] == "hausarzt"
    bad = tmp_path / "bad.toml"
    bad.write_text(region_file.read_text(encoding="utf-8") + '"Zoo" = "tiergarten"\n',
                   encoding="utf-8")
    with pytest.raises(RegionError, match="smart_village.categories.Zoo"):
        load_region(bad)


def test_no_mapping_is_one_clear_error(region, tmp_path):
    with pytest.raises(DataError, match=r"\[smart_village.categories\] fehlt"):
        sva.check_answer(ANSWER["data"], region, tmp_path, source="x")


def test_cli_import_from_file_and_undo(region_file, tmp_path, capsys):
    data_dir = tmp_path / "d"
    code = main(["listings", "import-smart-village", "--region", str(region_file),
                 "--data-dir", str(data_dir), "--file", str(FIXTURE), "--source-url", URL])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "4 neu" in out.out and "außerhalb der Region" in out.err
    assert set(ListingStore(data_dir).read()["source"]) == {f"Smart Village App {URL}"}
    assert main(["listings", "undo", "--region", str(region_file), "--data-dir",
                 str(data_dir)]) == 0
    assert not len(ListingStore(data_dir).read())


@pytest.mark.parametrize("content, message", [
    (b"{not json", "kein gültiges JSON"),
    (b'{"data": {"newsItems": []}}', "weder 'pointsOfInterest'"),
    (b'{"errors": [{"message": "Field \'x\' doesn\'t exist"}], "data": null}',
     "GraphQL-Fehler: Field 'x' doesn't exist"),
])
def test_cli_broken_answer_file_is_one_line_and_store_unchanged(region_file, tmp_path, capsys,
                                                                content, message):
    data_dir = tmp_path / "d"
    _ = main(["listings", "import-smart-village", "--region", str(region_file), "--data-dir",
              str(data_dir), "--file", str(FIXTURE), "--source-url", URL])
    before = (data_dir / "listings.gpkg").read_bytes()
    capsys.readouterr()
    bad = tmp_path / "answer.json"
    bad.write_bytes(content)
    code = main(["listings", "import-smart-village", "--region", str(region_file),
                 "--data-dir", str(data_dir), "--file", str(bad)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert (data_dir / "listings.gpkg").read_bytes() == before


# -- a server on 127.0.0.1 --------------------------------------------------------------------

@pytest.fixture
def server() -> Iterator[FakeServer]:
    srv = FakeServer()
    yield srv
    srv.close()


def test_query_asks_for_the_mainserver_fields(server):
    data = sva.fetch_answer(server.url, "secret", retries=0)
    assert len(data["pointsOfInterest"]) == 4
    headers, body = server.requests[0]
    assert headers["Authorization"] == "Bearer secret"
    q = body["query"]
    for fld in ("pointsOfInterest", "eventRecords", "geoLocation { latitude longitude }",
                "openingHours { weekday timeFrom timeTo dateFrom dateTo open",
                "recurring recurringWeekdays recurringType recurringInterval",
                "dates { weekday dateStart dateEnd timeStart timeEnd }", "webUrls", "updatedAt",
                "dataProvider { name }"):
        assert fld in q


def test_server_errors_are_retried_then_answered(server):
    server.script = [(503, b"busy", 0.0), (200, b"{truncated", 0.0)]
    pauses: list[float] = []
    with pytest.raises(FetchError, match="Antwort ist kein JSON"):
        sva.fetch_answer(server.url, retries=2, backoff_s=0.01, sleep=pauses.append)
    assert pauses == [0.01] and len(server.requests) == 2
    server.script = [(502, b"bad gateway", 0.0)]
    assert "eventRecords" in sva.fetch_answer(server.url, retries=1, sleep=lambda s: None)


def test_timeout_and_http_errors_are_one_line(server):
    server.script = [(200, b"{}", 1.0)] * 2
    with pytest.raises(FetchError, match=r"keine Antwort nach 2 Versuchen: Zeitüberschreitung"):
        sva.fetch_answer(server.url, timeout_s=0.2, retries=1, sleep=lambda s: None)
    server.script = [(401, b"unauthorized", 0.0)]
    with pytest.raises(FetchError, match=r"HTTP 401 Unauthorized \(Zugangsschlüssel"):
        sva.fetch_answer(server.url, retries=3, sleep=lambda s: None)
    server.script = [(200, json.dumps({"errors": [{"message": "Not authorized"},
                                                  {"message": "x"}]}).encode(), 0.0)]
    with pytest.raises(FetchError, match=r"GraphQL-Fehler: Not authorized \(und 1 weitere\)"):
        sva.fetch_answer(server.url, retries=0)


def test_cli_url_import_saves_answer_and_failure_leaves_store(server, region_file, tmp_path,
                                                              capsys):
    data_dir = tmp_path / "d"
    saved = tmp_path / "saved.json"
    code = main(["listings", "import-smart-village", "--region", str(region_file), "--data-dir",
                 str(data_dir), "--url", server.url, "--save", str(saved)])
    assert code == 0, capsys.readouterr().err
    assert json.loads(saved.read_text(encoding="utf-8"))["url"] == server.url
    before = (data_dir / "listings.gpkg").read_bytes()
    capsys.readouterr()
    server.script = [(500, b"oops", 0.0)] * 3
    code = main(["listings", "import-smart-village", "--region", str(region_file), "--data-dir",
                 str(data_dir), "--url", server.url, "--retries", "0"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "HTTP 500" in err[0] and "Traceback" not in err[0]
    assert (data_dir / "listings.gpkg").read_bytes() == before
    # a saved answer re-imports under the same source: nothing changes
    code = main(["listings", "import-smart-village", "--region", str(region_file), "--data-dir",
                 str(data_dir), "--file", str(saved)])
    assert code == 0 and "Keine Änderung" in capsys.readouterr().out


def test_export_and_map_name_the_app_and_its_data_provider(sv_region, tmp_path):
    from dorfkarte.export import build_export_html
    from dorfkarte.workspace import open_snapshot

    data = copy.deepcopy(ANSWER["data"])
    data["eventRecords"][0]["dataProvider"]["name"] = "Händler <b>Test</b>"
    data_dir = tmp_path / "d"
    _import(data, sv_region, data_dir)
    extra = destinations(ListingStore(data_dir), sv_region)
    assert set(extra["listing_source"]) == {f"Smart Village App {URL}"}
    doc, _, _ = build_export_html(open_snapshot(sv_region, data_dir), sv_region, None,
                                  category="lebensmittel", extra_points=extra)
    assert f"Smart Village App {URL} (Datenanbieter: Händler &lt;b&gt;Test&lt;/b&gt;" in doc
    assert "<b>Test</b>" not in doc
    # the listing layer's tooltip names the app and the provider, escaped
    # (JSON in the page: non-ASCII and "&" as \\u escapes)
    assert ("lokaler Eintrag (Smart Village App, Datenanbieter: H\\u00e4ndler "
            "\\u0026lt;b\\u0026gt;Test") in doc
