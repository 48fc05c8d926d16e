"""Spreadsheets as planners really export them: titles above the header, merged cells,
columns without headings, empty rows, and times written the way people write them.

Every file is written here (synthetic rows at real stops / Ortsteile of the shipped region,
so that they validate). Safe readings are taken with a warning that shows the stored value;
ambiguous ones are errors with a suggestion.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.styles import Font

from dorfkarte.cli import main
from dorfkarte.listings import ListingStore, ScheduleError, check_file, read_schedule


def data_dir() -> Path:
    return Path(os.environ["DORFKARTE_DATA"])


def _csv(path: Path, text: str, encoding: str = "cp1252") -> Path:
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    return path


def _msgs(rep, severity: str) -> dict[tuple[int | None, str], str]:
    items = rep.errors if severity == "error" else rep.warnings
    return {(i.row, i.field): i.message for i in items}


# -- schedules as typed into spreadsheets ----------------------------------------------------

@pytest.mark.parametrize(("typed", "stored"), [
    ("dienstags 10:00-11:00", "Tu 10:00-11:00"),
    ("Dienstag 10-11 Uhr", "Tu 10:00-11:00"),
    ("Di + Do 9-12", "Tu,Th 09:00-12:00"),
    ("Di und Do 9-12 Uhr", "Tu,Th 09:00-12:00"),
    ("Di. 9.30-12 Uhr", "Tu 09:30-12:00"),
    ("Mo bis Fr 8 bis 12 Uhr", "Mo-Fr 08:00-12:00"),
    ("Mo-Fr 8-12 und 14-18 Uhr", "Mo-Fr 08:00-12:00,14:00-18:00"),
    ("Di 10-11, Do 14-15 Uhr", "Tu 10:00-11:00; Th 14:00-15:00"),
    ("10-11 Uhr dienstags", "Tu 10:00-11:00"),
    ("Sonnabend 8–12 Uhr", "Sa 08:00-12:00"),  # en dash as Excel autocorrects it
    ("jeden 2. Donnerstag 14-16 Uhr", "Th[2] 14:00-16:00"),
    ("1. und 3. Mittwoch 9-10", "We[1,3] 09:00-10:00"),
    ("letzter Freitag im Monat 9-10", "Fr[-1] 09:00-10:00"),
    ("dienstags 10-11 Uhr in ungeraden Wochen", "week 01-53/2 Tu 10:00-11:00"),
    ("täglich 7-9 Uhr", "Mo-Su 07:00-09:00"),
    ("werktags 8-12", "Mo-Fr 08:00-12:00"),
    ("10-11 Uhr", "10:00-11:00"),
])
def test_unambiguous_german_schedules_are_normalised_with_a_note(typed: str,
                                                                 stored: str) -> None:
    norm, note = read_schedule(typed)
    assert norm == stored
    assert f"'{typed}' gelesen als '{stored}'" in note
    if typed.startswith("werktags"):
        assert "Mo-Sa" in note  # says how to write it if Saturday was meant
    if typed == "10-11 Uhr":
        assert "jeden Tag" in note


@pytest.mark.parametrize("typed", ["Di 10:00-11:00", "Tu 10:00-11:00", "Th[2] 14:00-16:00",
                                   "Mo,Mi,Fr 08:00-12:00 Uhr", ""])
def test_documented_forms_need_no_note(typed: str) -> None:
    assert read_schedule(typed)[1] == ""


@pytest.mark.parametrize(("typed", "suggestion"), [
    ("Dienstag 10 Uhr", "Tu 10:00-11:00"),          # start only
    ("ab 10 Uhr", "Beginn und Ende"),
    ("dienstags", "keine Uhrzeit angegeben"),       # no time at all
    ("alle 14 Tage Di 10-11", "week 01-53/2"),     # which weeks?
    ("14-tägig dienstags", "Tu[1,3]"),
    ("nach Vereinbarung", "Hinweis"),
    ("vormittags", "Uhrzeiten angeben"),
    ("10-11 Uhr Di, 14-15 Do", "Tage vor die Uhrzeit"),
])
def test_ambiguous_schedules_are_errors_with_a_suggestion(typed: str, suggestion: str) -> None:
    with pytest.raises(ScheduleError) as exc:
        read_schedule(typed)
    msg = str(exc.value)
    assert typed in msg and suggestion in msg and "opening_hours" in msg and "\n" not in msg


def test_schedule_rules_in_rows(tmp_path: Path, region) -> None:
    f = _csv(tmp_path / "zeiten.csv",
             "name;category;kind;stop;opening_hours;valid_from\n"
             "Verkaufswagen;lebensmittel;mobil;Lütte, Dorf;dienstags 10-11 Uhr;\n"
             "Bankbus;bank;mobil;Lütte, Dorf;10-11 Uhr;\n"          # which day?
             "Laden;lebensmittel;fest;Lütte, Dorf;8-12 Uhr;\n"      # daily: plausible
             "Markt;lebensmittel;mobil;Lütte, Dorf;Fr 8-12;10:00\n"  # time in a date column
             "Arzt;hausarzt;mobil;Lütte, Dorf;alle 14 Tage Do 14-16;\n")
    rep = check_file(f, region, data_dir())
    errors, warnings = _msgs(rep, "error"), _msgs(rep, "warning")
    assert "gelesen als 'Tu 10:00-11:00'" in warnings[(2, "opening_hours")]
    assert "ohne Wochentag" in errors[(3, "opening_hours")]
    assert "'Tu 10:00-11:00'" in errors[(3, "opening_hours")]  # suggestion with the times
    assert "gelesen als '08:00-12:00'" in warnings[(4, "opening_hours")]
    assert "jeden Tag" in warnings[(4, "opening_hours")]
    assert "Uhrzeit, kein Datum" in errors[(5, "valid_from")]
    assert "week 01-53/2" in errors[(6, "opening_hours")]
    got = rep.listings.set_index("name")["opening_hours"].to_dict()
    assert got == {"Verkaufswagen": "Tu 10:00-11:00", "Laden": "08:00-12:00"}


# -- the spreadsheet around the rows ---------------------------------------------------------

MESSY_CSV = (
    "Angebotsliste Bad Belzig (Testdaten);;;;;;\n"
    ";;;;;;\n"
    "Name;Kategorie;Art;Haltestelle;Zeiten;Unnamed: 5;Unnamed: 6\n"
    "Verkaufswagen Test;Lebensmittel;mobil;Lütte, Dorf;Di + Do 9-12;;\n"
    "Bankbus Test;Bank / Geldautomat;mobil;Lütte, Dorf;dienstags 10:00-11:00;;nur im Sommer\n"
    "Sprechstunde Test;Hausarzt;mobil;Lütte, Dorf;Dienstag 10 Uhr;;\n"
    ";;;;;;\n"
    ";;;;;;\n"
)


def test_excel_csv_with_title_unnamed_columns_and_empty_rows(tmp_path: Path, region,
                                                             capsys) -> None:
    f = _csv(tmp_path / "export.csv", MESSY_CSV)
    rep = check_file(f, region, data_dir())
    assert rep.n_rows == 3  # trailing ";;;;" lines are no entries
    warnings = [str(i) for i in rep.warnings]
    assert any("Kopfzeile in Zeile 3 erkannt" in w and "Angebotsliste Bad Belzig" in w
               for w in warnings)
    # the empty pandas column is ignored silently; the one holding a value is named
    assert not any("Unnamed: 5" in w for w in warnings)
    [extra] = [w for w in warnings if "Unnamed: 6" in w]
    assert "Spalte G hat keine Überschrift" in extra and "Zeile 5" in extra
    errors = _msgs(rep, "error")
    assert list(errors) == [(6, "opening_hours")]  # spreadsheet line numbers
    assert "das Ende fehlt" in errors[(6, "opening_hours")]
    assert "'Tu 10:00-11:00'" in errors[(6, "opening_hours")]
    got = rep.listings.set_index("name")["opening_hours"].to_dict()
    assert got == {"Verkaufswagen Test": "Tu,Th 09:00-12:00",
                   "Bankbus Test": "Tu 10:00-11:00"}
    # through the CLI: warnings on stdout show the stored value, the error names the row
    capsys.readouterr()
    assert main(["listings", "import", str(f)]) == 2
    out, err = capsys.readouterr()
    assert "Hinweis: Zeile 4, Feld 'opening_hours': Zeiten 'Di + Do 9-12' gelesen als " \
           "'Tu,Th 09:00-12:00'" in out
    assert "Zeile 6, Feld 'opening_hours':" in err
    assert not ListingStore(data_dir()).exists()
    assert main(["listings", "import", str(f), "--valid-only"]) == 0
    assert sorted(ListingStore(data_dir()).read()["name"]) == ["Bankbus Test",
                                                               "Verkaufswagen Test"]


def test_trailing_empty_rows_do_not_count_against_the_row_limit(tmp_path: Path,
                                                                region) -> None:
    text = ("name;category;stop;opening_hours\n"
            "Laden;lebensmittel;Lütte, Dorf;Mo-Fr 08:00-12:00\n" + ";;;\n" * 60_000)
    rep = check_file(_csv(tmp_path / "leerzeilen.csv", text), region, data_dir())
    assert rep.ok and rep.n_rows == 1


def test_excel_sheet_with_merged_title_group_headers_and_merged_cells(tmp_path: Path,
                                                                      region) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Angebote"
    ws.append(["Mobile Angebote 2026 (Testdaten)"])
    ws.merge_cells("A1:F1")
    ws.append(["Angebot", None, None, "Ort", None, None])  # group headings, merged
    ws.merge_cells("A2:C2")
    ws.merge_cells("D2:F2")
    ws.append(["Name", "Kategorie", "Art", "Haltestelle", "Breite", "Länge", "Zeiten",
               "Hinweis"])
    ws.append(["Bezeichnung", "Kategorie", "Typ", None, None, None, "Öffnungszeiten"])
    ws.append(["Wagen A", "lebensmittel", "mobil", "Lütte, Dorf", None, None, "Di 10-11 Uhr",
               "Testnotiz"])
    ws.merge_cells("H5:J5")  # merged across columns: belongs to the first one only
    ws.append(["Wagen B", None, "mobil", "Lütte, Dorf", None, None, "Mi 10-11 Uhr"])
    ws.append(["Wagen C", None, "mobil", "Lütte, Dorf", None, None, "Do 10-11 Uhr"])
    ws.merge_cells("B5:B7")  # one category for three rows, as the sheet shows it
    for r in range(8, 40):  # formatted but empty rows below the table
        ws.cell(row=r, column=1).font = Font(bold=True)
    f = tmp_path / "angebote.xlsx"
    wb.save(f)
    rep = check_file(f, region, data_dir())
    assert rep.ok, [str(i) for i in rep.errors]
    warnings = " | ".join(str(i) for i in rep.warnings)
    assert "Kopfzeile in Zeile 3 erkannt" in warnings and "Mobile Angebote 2026" in warnings
    assert "Zeile 4 wiederholt die Überschriften" in warnings
    assert "verbundene Zellen B5:B7" in warnings and "'lebensmittel'" in warnings
    got = rep.listings.set_index("name")
    assert list(got.index) == ["Wagen A", "Wagen B", "Wagen C"]
    assert set(got["category"]) == {"lebensmittel"}
    assert list(got["note"]) == ["Testnotiz", "", ""]
    assert "Spalte I" not in warnings and "Spalte J" not in warnings
    assert list(got["opening_hours"]) == ["Tu 10:00-11:00", "We 10:00-11:00",
                                          "Th 10:00-11:00"]


# -- every message is one line naming row and field ------------------------------------------

LINE = re.compile(r"^(Zeile \d+, Feld '[a-z_]+': \S.*|Zeile \d+: \S.*|Fehler: \S.*)$")


def test_cli_messages_are_one_line_each_with_row_field_and_reason(tmp_path: Path,
                                                                  capsys) -> None:
    long_stop = "Haltestelle " * 40
    rows = [
        ["E-1", "Test", "Bäckerei", "mobil", "", "", "Lütte, Dorf", "", "Tu 10:00-11:00", ""],
        ["E-2", "Test", "post", "flie\ngend", "", "", "Lütte, Dorf", "", "Tu 10:00-11:00", ""],
        ["E-3", "Test", "post", "fest", "48,1", "11,5", "", "", "", ""],
        ["E-4", "Test", "post", "fest", "12,6056", "52,2008", "", "", "", ""],
        ["E-5", "Test", "post", "fest", "zwei", "12,6", "", "", "", ""],
        ["E-6", "Test", "post", "fest", "", "", long_stop, "", "", ""],
        ["E-7", "Test", "post", "fest", "", "", "", "Atlantis", "", ""],
        ["E-8", "Test", "post", "mobil", "", "", "Lütte, Dorf", "", "alle 14 Tage", ""],
        ["E-9", "Test", "post", "fest", "", "", "Lütte, Dorf", "", "", "31.02.2026"],
        ["E-1", "", "post", "fest", "", "", "Lütte, Dorf", "", "", ""],
        ["E-10", "Test", "post", "fest", "", "", "", "", "", ""],
    ]
    buf = io.StringIO(newline="")
    import csv

    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(["id", "name", "category", "kind", "lat", "lon", "stop", "ortsteil",
                "opening_hours", "valid_from"])
    w.writerows(rows)
    f = tmp_path / "fehler.csv"
    f.write_bytes(buf.getvalue().encode("utf-8-sig"))
    capsys.readouterr()
    assert main(["listings", "validate", str(f)]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().split("\n")
    bad = [ln for ln in lines if not LINE.match(ln)]
    assert bad == []
    fields = {re.match(r"Zeile (\d+), Feld '(\w+)'", ln).groups() for ln in lines
              if ln.startswith("Zeile")}
    # the kind cell holds a line break: it is still row 3 (the CSV record), one message line
    assert {("2", "category"), ("3", "kind"), ("4", "lat"), ("5", "lat"), ("6", "lat"),
            ("7", "stop"), ("8", "ortsteil"), ("9", "opening_hours"), ("10", "valid_from"),
            ("11", "id"), ("11", "name"), ("12", "lat")} <= fields
    assert max(len(ln) for ln in lines) < 400  # a 480-character cell is cut in the message
    assert "…" in next(ln for ln in lines if ln.startswith("Zeile 7,"))
    assert "vertauscht" in next(ln for ln in lines if ln.startswith("Zeile 5,"))
    outside = next(ln for ln in lines if ln.startswith("Zeile 4,"))
    assert "(lat=48,1, lon=11,5;" in outside and re.search(r"\d,\d km vom Gebiet", outside)
    assert "Fehler: 11 fehlerhafte Zeile(n)" in err


def test_day_and_from_to_columns_become_one_schedule(tmp_path: Path, region) -> None:
    """"Tag | von | bis" is how many planners lay out a timetable."""
    import datetime as dt

    wb = Workbook()
    ws = wb.active
    ws.append(["Name", "Kategorie", "Art", "Haltestelle", "Tag", "von", "bis"])
    ws.append(["Wagen", "lebensmittel", "mobil", "Lütte, Dorf", "Dienstag", dt.time(10, 0),
               dt.datetime(1899, 12, 30, 11, 0)])  # Excel time cells, both kinds
    ws.append(["Markt", "lebensmittel", "mobil", "Lütte, Dorf", "Fr", "8 Uhr", "12 Uhr"])
    ws.append(["Bankbus", "bank", "mobil", "Lütte, Dorf", None, dt.datetime(2026, 1, 1),
               dt.datetime(2026, 12, 31)])  # real dates: validity, not times
    ws.append(["Arzt", "hausarzt", "mobil", "Lütte, Dorf", "donnerstags", None, None])
    f = tmp_path / "tag-von-bis.xlsx"
    wb.save(f)
    rep = check_file(f, region, data_dir())
    got = rep.listings.set_index("name")
    assert got.loc["Wagen", "opening_hours"] == "Tu 10:00-11:00"
    assert got.loc["Wagen", "valid_from"] == "" and got.loc["Wagen", "valid_to"] == ""
    assert got.loc["Markt", "opening_hours"] == "Fr 08:00-12:00"
    assert got.loc["Bankbus", "valid_from"] == "2026-01-01"
    assert got.loc["Bankbus", "opening_hours"] == ""
    warnings = " | ".join(str(i) for i in rep.warnings)
    assert "Zeile 2, Feld 'opening_hours': Zeiten aus den Spalten Tag/von/bis gebildet: " \
           "'Dienstag 10:00-11:00'" in warnings
    errors = _msgs(rep, "error")
    assert list(errors) == [(5, "opening_hours")]  # a day without a time
    assert "keine Uhrzeit" in errors[(5, "opening_hours")]


def test_day_column_conflicting_with_a_schedule_is_an_error(tmp_path: Path, region) -> None:
    f = _csv(tmp_path / "doppelt.csv",
             "name;category;kind;stop;Wochentag;von;bis;opening_hours\n"
             "A;post;mobil;Lütte, Dorf;Di;10:00;11:00;Do 14:00-15:00\n"
             "B;post;mobil;Lütte, Dorf;Di;;;Do 10:00-11:00\n"
             "C;post;mobil;Lütte, Dorf;Di;;;10-11 Uhr\n")  # day + time only: one reading
    rep = check_file(f, region, data_dir())
    errors, warnings = _msgs(rep, "error"), _msgs(rep, "warning")
    assert "Zeiten doppelt" in errors[(2, "opening_hours")]
    assert "nennen beide Tage" in errors[(3, "day")]
    assert list(errors) == [(2, "opening_hours"), (3, "day")]
    assert "'Di 10-11 Uhr'" in warnings[(4, "opening_hours")]
    assert list(rep.listings["opening_hours"]) == ["Tu 10:00-11:00"]
