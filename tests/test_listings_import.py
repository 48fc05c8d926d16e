"""Listing files as planners write them, and a corpus of broken ones, through the CLI.

Every file here is written by the test (synthetic rows at real VBB stops / Ortsteile so
that they validate against the shipped region). For each broken file the CLI must name
row and field, exit non-zero and leave the store byte-for-byte unchanged.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from pathlib import Path

import pytest
from openpyxl import Workbook

from dorfkarte.cli import main
from dorfkarte.errors import DataError
from dorfkarte.listings import (
    FIELDS,
    ListingStore,
    check_file,
    read_listing_bytes,
    read_listing_file,
)
from dorfkarte.listings.schema import MAX_FILE_BYTES

HEADER = ["id", "name", "category", "kind", "lat", "lon", "stop", "ortsteil", "anchor",
          "opening_hours", "valid_from", "valid_to", "note"]

CLEAN = [
    ["T-VW", "Verkaufswagen Müller", "lebensmittel", "mobil", "", "", "Lütte, Dorf", "", "",
     "Di 10:00-11:00", "", "", "Testdaten"],
    ["T-AO", "Dorfgemeinschaftshaus Test", "treffpunkt", "Ankerort", "", "", "", "Reetz", "",
     "Mo-Fr 09:00-17:00", "", "", "Testdaten"],
    ["T-GP", "Sprechstunde Dr. Test", "Hausarzt", "mobile", "", "", "", "", "T-AO",
     "Th[2] 14:00-16:00", "01.01.2026", "31.12.2026", "Testdaten"],
    ["T-PO", "Post- und Bankschalter", "post, bank", "fest", "52,2205", "12,5962", "", "", "",
     "Mo-Fr 08:00-12:00", "2026-01-01", "", "Testdaten"],
]


def data_dir() -> Path:
    return Path(os.environ["DORFKARTE_DATA"])


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER,
              encoding: str = "cp1252") -> Path:
    """As German Excel saves 'CSV (Trennzeichen-getrennt)': ';', decimal comma, CRLF."""
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=";", lineterminator="\r\n").writerows([header, *rows])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def store_state() -> tuple[bytes | None, list[str]]:
    """The store's bytes and the data folder's file names (no temp files may be left)."""
    p = data_dir() / "listings.gpkg"
    return (p.read_bytes() if p.exists() else None,
            sorted(n for n in os.listdir(data_dir()) if not n.endswith(".lock")))


@pytest.fixture
def filled_store(tmp_path: Path) -> ListingStore:
    f = write_csv(tmp_path / "clean.csv", CLEAN)
    assert main(["listings", "import", str(f), "--user", "test"]) == 0
    store = ListingStore(data_dir())
    assert len(store.read()) == 4
    return store


# -- clean files ----------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig"])
def test_clean_german_excel_csv(tmp_path: Path, region, encoding: str, capsys) -> None:
    f = write_csv(tmp_path / "angebote.csv", CLEAN, encoding=encoding)
    assert main(["listings", "validate", str(f)]) == 0
    assert main(["listings", "import", str(f), "--user", "Planerin"]) == 0
    out = capsys.readouterr().out
    assert "4 neu" in out
    gdf = ListingStore(data_dir()).read().set_index("id")
    assert gdf.loc["T-VW", "name"] == "Verkaufswagen Müller"  # umlaut survived cp1252
    assert gdf.loc["T-VW", "kind"] == "mobile"
    assert gdf.loc["T-VW", "opening_hours"] == "Tu 10:00-11:00"
    assert gdf.loc["T-VW", "location_source"] == "Haltestelle Lütte, Dorf"
    assert gdf.loc["T-VW", "lat"] == pytest.approx(52.2007, abs=1e-3)
    assert gdf.loc["T-GP", "category"] == "hausarzt"  # label -> id
    assert gdf.loc["T-GP", "location_source"] == "Ankerort T-AO"
    assert gdf.loc["T-GP", "lat"] == gdf.loc["T-AO", "lat"]
    assert gdf.loc["T-GP", "valid_from"] == "2026-01-01"
    assert gdf.loc["T-PO", "category"] == "post,bank"
    assert gdf.loc["T-PO", "lat"] == pytest.approx(52.2205)  # decimal comma
    assert gdf.loc["T-PO", "updated_by"] == "Planerin"
    # importing the same file again changes nothing
    before = store_state()
    assert main(["listings", "import", str(f)]) == 0
    assert "Keine Änderung" in capsys.readouterr().out
    assert store_state() == before


def test_clean_xlsx_with_german_headers_and_excel_cells(tmp_path: Path) -> None:
    import datetime as dt

    wb = Workbook()
    ws = wb.active
    ws.title = "Angebote"
    ws.append(["Kennung", "Name", "Kategorie", "Art", "Breite", "Länge", "Zeiten", "gültig ab",
               "Beispiel"])
    ws.append(["X-1", "Bankbus Test", "Bank / Geldautomat", "mobil", 52.2205, 12.5962,
               "We 09:00-10:00", dt.datetime(2026, 3, 1), "nein"])
    ws.append([None] * 9)  # Excel leaves empty rows behind
    ws.append(["X-2", "Markt Test", "lebensmittel", "mobile", 52.1110, 12.3701,
               "Fr 08:00-12:00", None, True])
    f = tmp_path / "angebote.xlsx"
    wb.save(f)
    assert main(["listings", "import", str(f)]) == 0
    gdf = ListingStore(data_dir()).read().set_index("id")
    assert gdf.loc["X-1", "category"] == "bank"
    assert gdf.loc["X-1", "valid_from"] == "2026-03-01"
    assert gdf.loc["X-1", "lon"] == pytest.approx(12.5962)
    assert bool(gdf.loc["X-2", "example"]) is True


def test_clean_geojson(tmp_path: Path) -> None:
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [12.5962, 52.2205]},
         "properties": {"id": "G-1", "name": "Mobiler Laden", "category": "lebensmittel",
                        "kind": "mobile", "opening_hours": "Sa 09:00-10:00"}},
        {"type": "Feature", "geometry": None,
         "properties": {"id": "G-2", "name": "Treff", "category": "treffpunkt",
                        "stop": "Lütte, Dorf"}},
    ]}
    f = tmp_path / "angebote.geojson"
    f.write_text(json.dumps(fc), encoding="utf-8")
    assert main(["listings", "import", str(f)]) == 0
    gdf = ListingStore(data_dir()).read().set_index("id")
    assert gdf.loc["G-1", "lat"] == pytest.approx(52.2205)
    assert gdf.loc["G-2", "location_source"].startswith("Haltestelle")


def test_shipped_example_and_templates_validate(region) -> None:
    from dorfkarte.settings import embedded_data_dir

    ex = embedded_data_dir() / "examples"
    rep = check_file(ex / "angebote_beispiel.csv", region, data_dir())
    assert rep.ok and len(rep.listings) == rep.n_rows >= 5
    assert rep.listings["example"].all()  # every example row is marked as one
    assert (rep.listings["note"] == "Beispieldaten, keine echten Angebote").all()
    assert all(n.startswith("Beispiel") for n in rep.listings["name"])
    for name in ("angebote_vorlage.csv", "angebote_vorlage.xlsx"):
        rep = check_file(ex / name, region, data_dir())
        assert rep.ok and rep.listings["example"].all()


def test_template_command_roundtrip(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    for name in ("vorlage.csv", "vorlage.xlsx"):
        out = tmp_path / name
        assert main(["listings", "template", str(out), "--examples"]) == 0
        assert main(["listings", "validate", str(out)]) == 0
    wb = load_workbook(tmp_path / "vorlage.xlsx")
    assert wb.sheetnames == ["Angebote", "Erläuterung", "Kategorien"]
    assert [c.value for c in wb["Angebote"][1]] == list(FIELDS)
    assert main(["listings", "template", str(tmp_path / "x.pdf")]) == 2


# -- broken files -----------------------------------------------------------------------------

def _row(**kw: str) -> list[str]:
    base = dict(zip(HEADER, ["B-1", "Test", "lebensmittel", "mobile", "", "", "Lütte, Dorf",
                             "", "", "Tu 10:00-11:00", "", "", ""], strict=True))
    base.update(kw)
    return [base[h] for h in HEADER]


BROKEN_ROWS = {
    "unknown_category": ([_row(category="Bäckerei")], 2, "category", "Bäckerei"),
    "outside_region": ([_row(stop="", lat="48,137", lon="11,575")], 2, "lat", "außerhalb"),
    "swapped_lat_lon": ([_row(stop="", lat="12,6056", lon="52,2008")], 2, "lat", "vertauscht"),
    "bad_schedule": ([_row(opening_hours="Dienstag 10 Uhr")], 2, "opening_hours",
                     "Dienstag 10 Uhr"),
    "duplicate_id": ([_row(), _row(name="Anderer")], 3, "id", "doppelt"),
    "stop_not_found": ([_row(stop="Lüte, Dorf")], 2, "stop", "Lütte, Dorf"),
    "missing_name": ([_row(name="")], 2, "name", "leer"),
    "valid_from_after_to": ([_row(valid_from="2026-06-01", valid_to="2026-01-31")], 2,
                            "valid_to", "vor"),
    "bad_date": ([_row(valid_from="31.02.2026")], 2, "valid_from", "kein Datum"),
    "unknown_ortsteil": ([_row(stop="", ortsteil="Atlantis")], 2, "ortsteil", "Atlantis"),
    "unknown_kind": ([_row(kind="fliegend")], 2, "kind", "fliegend"),
    "missing_anchor": ([_row(stop="", anchor="NIRGENDS")], 2, "anchor", "NIRGENDS"),
    "no_location": ([_row(stop="")], 2, "lat", "kein Ort"),
    "only_lat": ([_row(stop="", lat="52,2")], 2, "lon", "gehören zusammen"),
    "lat_not_number": ([_row(stop="", lat="zweiundfünfzig", lon="12,6")], 2, "lat",
                       "keine Zahl"),
    "script_url": ([_row() + []], 2, "url", "http"),
    "bad_row_after_good": ([_row(id="OK-1"), _row(id="B-2", category="Fleischer")], 3,
                           "category", "Fleischer"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_ROWS))
def test_broken_rows_are_named_and_nothing_is_stored(case: str, tmp_path: Path,
                                                     filled_store: ListingStore,
                                                     capsys) -> None:
    rows, row_no, field, needle = BROKEN_ROWS[case]
    header = HEADER
    if case == "script_url":
        header = [*HEADER, "url"]
        rows = [[*rows[0], "javascript:alert(1)"]]
    f = write_csv(tmp_path / f"{case}.csv", rows, header=header)
    before = store_state()
    capsys.readouterr()
    assert main(["listings", "validate", str(f)]) == 2
    err = capsys.readouterr().err
    assert f"Zeile {row_no}, Feld '{field}'" in err
    assert needle in err
    assert main(["listings", "import", str(f)]) == 2
    err = capsys.readouterr().err
    assert "nichts importiert" in err
    assert store_state() == before


BROKEN_FILES = {
    "empty": b"",
    "only_bom_and_blank_lines": b"\xef\xbb\xbf\r\n\r\n",
    "header_only": b"id;name;category;stop\r\n",
    "binary": bytes(range(256)) * 64,
    "no_known_columns": "Spalte A;Spalte B\r\n1;2\r\n".encode("cp1252"),
    "xls_binary": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
    "truncated_xlsx": b"PK\x03\x04" + b"\x00" * 100,
    "broken_geojson": b'{"type": "FeatureCollection", "features": [',
    "geojson_not_collection": b'{"type": "Point", "coordinates": [12.6, 52.2]}',
    "too_many_cells": "name;category;stop\r\nA;post;Lütte, Dorf;zu;viel\r\n".encode("cp1252"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_FILES))
def test_broken_files_fail_cleanly(case: str, tmp_path: Path, filled_store: ListingStore,
                                   capsys) -> None:
    f = tmp_path / f"{case}.csv"
    f.write_bytes(BROKEN_FILES[case])
    before = store_state()
    capsys.readouterr()
    assert main(["listings", "import", str(f)]) == 2
    err = capsys.readouterr().err
    assert "Fehler:" in err and "Traceback" not in err
    assert store_state() == before


@pytest.mark.timeout(60)
def test_fifty_megabyte_file_is_refused_quickly(tmp_path: Path, filled_store: ListingStore,
                                                capsys) -> None:
    f = tmp_path / "riesig.csv"
    line = ";".join(_row(id="R")).encode("cp1252") + b"\r\n"
    with f.open("wb") as fh:
        fh.write(";".join(HEADER).encode() + b"\r\n")
        block = line * 10_000
        while fh.tell() < 50 * 1024 * 1024:
            fh.write(block)
    assert f.stat().st_size >= 50 * 1024 * 1024
    before = store_state()
    t0 = time.perf_counter()
    assert main(["listings", "import", str(f)]) == 2
    elapsed = time.perf_counter() - t0
    err = capsys.readouterr().err
    assert "MB" in err and "höchstens" in err
    assert store_state() == before
    print(f"50-MB-Datei abgelehnt in {elapsed * 1000:.1f} ms")
    with pytest.raises(DataError, match="höchstens"):
        read_listing_bytes(b"x" * (MAX_FILE_BYTES + 1), "upload.csv")


def test_missing_file_and_directory(tmp_path: Path, capsys) -> None:
    assert main(["listings", "import", str(tmp_path / "gibt-es-nicht.csv")]) == 2
    assert "nicht gefunden" in capsys.readouterr().err
    with pytest.raises(DataError):
        read_listing_file(tmp_path)


def test_html_in_names_is_stored_as_text(tmp_path: Path, region) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    f = write_csv(tmp_path / "html.csv", [_row(id="H-1", name=evil, note="<b>fett</b>")],
                  encoding="utf-8-sig")
    assert main(["listings", "import", str(f)]) == 0
    gdf = ListingStore(data_dir()).read()
    assert gdf.loc[0, "name"] == evil  # verbatim text, nothing interpreted or stripped
    assert gdf.loc[0, "note"] == "<b>fett</b>"
    from dorfkarte.ui.listings import md_escape

    shown = md_escape(evil)
    assert "<script>" not in shown and "<img" not in shown


def test_valid_only_imports_good_rows_and_keeps_the_rest(tmp_path: Path,
                                                         filled_store: ListingStore,
                                                         capsys) -> None:
    rows = [_row(id="N-1"), _row(id="N-2", category="Bäckerei"), _row(id="N-3",
                                                                      opening_hours="Fr 9")]
    rows.append(_row(id="N-4", stop="", ortsteil="Lütte"))
    f = write_csv(tmp_path / "gemischt.csv", rows)
    assert main(["listings", "import", str(f)]) == 2
    assert len(filled_store.read()) == 4
    capsys.readouterr()
    assert main(["listings", "import", str(f), "--valid-only"]) == 0
    out = capsys.readouterr().out
    assert "2 fehlerhafte Zeile(n) übersprungen" in out
    ids = set(filled_store.read()["id"])
    assert ids == {"T-VW", "T-AO", "T-GP", "T-PO", "N-1", "N-4"}
    # only bad rows: nothing to import, still an error
    f2 = write_csv(tmp_path / "nur-fehler.csv", [_row(category="Bäckerei")])
    before = store_state()
    assert main(["listings", "import", str(f2), "--valid-only"]) == 2
    assert store_state() == before


def test_every_error_is_reported_not_only_the_first(tmp_path: Path, region) -> None:
    rows = [_row(id="E-1", category="Bäckerei", opening_hours="immer", valid_from="x"),
            _row(id="E-2", stop="Gibtsnicht"), _row(id="E-1")]
    f = write_csv(tmp_path / "viele.csv", rows)
    rep = check_file(f, region, data_dir())
    got = {(i.row, i.field) for i in rep.errors}
    assert {(2, "category"), (2, "opening_hours"), (2, "valid_from"), (3, "stop"),
            (4, "id")} <= got
    assert rep.bad_rows == {2, 3, 4}
    assert len(rep.listings) == 0


def test_auto_ids_are_stable_and_updates_are_detected(tmp_path: Path, region) -> None:
    rows = [_row(id=""), _row(id="", name="Zweiter")]
    f = write_csv(tmp_path / "ohne-id.csv", rows)
    assert main(["listings", "import", str(f)]) == 0
    ids = sorted(ListingStore(data_dir()).read()["id"])
    assert len(ids) == 2 and all(i.startswith("auto-") for i in ids)
    rep = check_file(f, region, data_dir())
    assert sorted(rep.updates) == ids  # same rows -> same ids -> recognised as stored
    same = write_csv(tmp_path / "doppelt.csv", [_row(id=""), _row(id="")])
    rep = check_file(same, region, data_dir())
    assert [(i.row, i.field) for i in rep.errors] == [(3, "id")]


def test_comma_separated_csv_and_address_with_coordinates(tmp_path: Path, region) -> None:
    text = ('name,category,lat,lon,address\r\n'
            'Laden,lebensmittel,52.2205,12.5962,"Hauptstraße 1, Dippmannsdorf"\r\n'
            'Nur Adresse,post,,,"Hauptstraße 2, Dippmannsdorf"\r\n')
    f = tmp_path / "komma.csv"
    f.write_text(text, encoding="utf-8")
    rep = check_file(f, region, data_dir())
    assert len(rep.listings) == 1
    assert rep.listings.iloc[0]["address"] == "Hauptstraße 1, Dippmannsdorf"
    [err] = rep.errors
    assert (err.row, err.field) == (3, "address") and "nicht verortet" in err.message


def test_address_located_from_osm_addresses_in_snapshot(tmp_path: Path, region) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    from dorfkarte.snapshot import HOMES, Snapshot, snapshot_path, write_snapshot

    homes = gpd.GeoDataFrame(
        {"osm_id": ["n1", "n2", "n3", "n4"], "kind": "address",
         "addr:street": ["Teststraße", "Teststraße", "Teststraße", None],
         "addr:housenumber": ["1", "1", "2", "7"],
         "addr:place": [None, None, None, "Testdorf"],
         "addr:city": ["Lütte", "Reetz", "Lütte", "Lütte"]},
        geometry=[Point(12.6055, 52.2007), Point(12.3700, 52.1110), Point(12.6057, 52.2009),
                  Point(12.6050, 52.2010)], crs="EPSG:4326")
    snap = Snapshot(region_id=region.id)
    snap.add(HOMES, homes, source="synthetisch (Test)")
    write_snapshot(snap, snapshot_path(data_dir(), region.id))
    text = ("name;category;address\r\n"
            "A;post;Teststr. 2\r\n"            # unique
            "B;post;Teststraße 1, Reetz\r\n"   # namesake told apart by the place
            "C;post;Testdorf 7\r\n"            # village address without street
            "D;post;Teststraße 1\r\n"          # ambiguous
            "E;post;Teststraße 99\r\n")        # unknown
    f = tmp_path / "adressen.csv"
    f.write_bytes(text.encode("cp1252"))
    rep = check_file(f, region, data_dir())
    got = rep.listings.set_index("name")
    assert got.loc["A", "lat"] == pytest.approx(52.2009)
    assert got.loc["B", "lon"] == pytest.approx(12.3700)
    assert got.loc["C", "lon"] == pytest.approx(12.6050)
    assert set(got["location_source"]) == {"Adresse (OSM)"}
    errs = {(i.row, i.field): i.message for i in rep.errors}
    assert "mehrdeutig" in errs[(5, "address")]
    assert "nicht im OSM-Schnappschuss" in errs[(6, "address")]


def test_excel_sep_hint_line(tmp_path: Path, region) -> None:
    f = tmp_path / "sep.csv"
    f.write_bytes("sep=;\r\nname;category;stop\r\nA;post;Lütte, Dorf\r\nB;Bäcker;Lütte, Dorf\r\n"
                  .encode("cp1252"))
    rep = check_file(f, region, data_dir())
    assert list(rep.listings["name"]) == ["A"]
    assert [(i.row, i.field) for i in rep.errors] == [(4, "category")]  # file line numbers
