"""Report export: coverage table as CSV/XLSX and layers as GeoPackage."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pyogrio
import pytest

from dorfkarte import coverage
from dorfkarte.cli import main
from dorfkarte.region import Region
from dorfkarte.report import ReportError, export_report
from dorfkarte.workspace import open_snapshot


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory, region: Region):
    """Snapshot and coverage result on the shipped data only (no OSM snapshot)."""
    snap = open_snapshot(region, tmp_path_factory.mktemp("empty"))
    return snap, coverage.analyse(snap, region)


def test_report_writes_csv_xlsx_and_gpkg(tmp_path: Path, region: Region, embedded) -> None:
    snap, result = embedded
    rep = export_report(snap, region, result, tmp_path / "bericht", mode="walk")
    table = result.table()

    # German Excel: ';', decimal comma, UTF-8 with BOM, German headers and values
    csv = pd.read_csv(rep.csv, encoding="utf-8-sig", sep=";", decimal=",")
    assert len(csv) == len(table) == rep.rows
    assert list(csv.columns[:6]) == ["Ortsteil", "Gemeinde", "Art", "Kategorie (ID)",
                                     "Kategorie", "Verkehrsmittel"]
    assert set(csv["Ortsteil"]) == set(snap.get("districts")["name"])
    assert rep.csv.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads umlauts
    assert set(csv["Verkehrsmittel"]) <= {"Fuß", "Rad", "Auto", "ÖPNV-Nähe"}
    assert "Beispieldaten" in csv.columns and set(csv["Beispieldaten"]) == {"nein"}
    # numbers come back as numbers with the decimal comma, equal to the analysis
    stops = table[(table["category"] == "haltestelle") & (table["mode"] == "walk")]
    got = csv[(csv["Kategorie (ID)"] == "haltestelle") & (csv["Verkehrsmittel"] == "Fuß")]
    assert got["Anteil erreichbar"].dtype == float
    assert got["Anteil erreichbar"].to_numpy() == pytest.approx(
        stops["share_within"].to_numpy(), abs=1e-9)
    text = rep.csv.read_text(encoding="utf-8-sig")
    for machine in ("straight_line", "nearest_weight", ";listing;", ";walk;", ";network;"):
        assert machine not in text, machine

    wb = openpyxl.load_workbook(rep.xlsx)
    assert wb.sheetnames == ["Abdeckung", "Quellen"]
    ws = wb["Abdeckung"]
    headers = [c.value for c in ws[1]]
    assert headers[:3] == ["Ortsteil", "Gemeinde", "Art"]
    assert ws.max_row == len(table) + 1
    share_col = headers.index("Anteil erreichbar") + 1
    assert ws.cell(row=2, column=share_col).number_format == "0%"
    quellen = [r[0] for r in wb["Quellen"].iter_rows(min_row=2, values_only=True)]
    assert any(q.startswith("Schwelle Lebensmittel") for q in quellen)
    assert any(q == "Layer stops" for q in quellen)

    layers = {name for name, _ in pyogrio.list_layers(rep.gpkg)}
    assert {"ortsteile", "abdeckung", "wohnorte", "haltestellen", "einrichtungen"} <= layers
    ot = pyogrio.read_dataframe(rep.gpkg, layer="ortsteile")
    assert len(ot) == 29
    assert "anteil_haltestelle" in ot.columns and "bewertung_lebensmittel" in ot.columns
    # The stop category has data: walk shares are numbers in [0, 1].
    shares = ot["anteil_haltestelle"].dropna()
    assert len(shares) == 29 and shares.between(0, 1).all()
    assert ot.crs.to_epsg() == 4326
    ab = pyogrio.read_dataframe(rep.gpkg, layer="abdeckung", read_geometry=False)
    assert len(ab) == len(table)
    wo = pyogrio.read_dataframe(rep.gpkg, layer="wohnorte")
    assert "zeit_haltestelle" in wo.columns and len(wo) == len(result.origins)


def test_report_without_result_is_a_clear_error(tmp_path: Path, region: Region,
                                                embedded) -> None:
    snap, _ = embedded
    with pytest.raises(ReportError, match="Analyseergebnis"):
        export_report(snap, region, None, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_report_unknown_mode_keeps_old_files(tmp_path: Path, region: Region, embedded) -> None:
    snap, result = embedded
    walk_only = coverage.analyse(snap, region, modes=["walk"])
    old = tmp_path / "abdeckung.csv"
    old.write_text("alt", encoding="utf-8")
    with pytest.raises(ReportError, match="drive"):
        export_report(snap, region, walk_only, tmp_path, mode="drive")
    assert old.read_text(encoding="utf-8") == "alt"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_cli_export_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    rc = main(["export-report", str(out), "--data-dir", str(tmp_path / "data"),
               "--mode", "drive"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "abdeckung.xlsx" in text and "GeoPackage" in text
    assert (out / "abdeckung.csv").is_file() and (out / "abdeckung.xlsx").is_file()
    assert (out / "dorfkarte_hoher-flaeming.gpkg").is_file()


def test_cli_export_report_bad_mode_is_one_line(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["export-report", str(tmp_path), "--mode", "boat"])
    assert "boat" in capsys.readouterr().err


def test_xlsx_writes_unreachable_as_words(tmp_path: Path, region: Region, embedded) -> None:
    from dorfkarte.report import sources_table, write_xlsx

    snap, result = embedded
    table = result.table().head(3).copy()
    table.loc[0, "median"] = float("inf")
    table.loc[1, "p90"] = float("-inf")
    out = write_xlsx(table, sources_table(snap, region), tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(out)["Abdeckung"]
    headers = [c.value for c in ws[1]]
    assert ws.cell(row=2, column=headers.index("Median") + 1).value == "nicht erreichbar"
    assert ws.cell(row=3, column=headers.index("90. Perzentil") + 1).value == "nicht erreichbar"
