"""Formula injection: names starting with = + - @ tab CR are text in every spreadsheet output.

OWASP CSV injection rules (``dorfkarte.safe.cell_safe``): a leading apostrophe in CSV; in
XLSX the cell is typed as text, so the visible text is exactly the name.
"""

from __future__ import annotations

import csv
import io

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import load_workbook

from dorfkarte.cli import main
from dorfkarte.coverage import analyse
from dorfkarte.report import export_report
from dorfkarte.safe import cell_safe, frame_safe
from dorfkarte.snapshot import AMENITIES, DISTRICTS, Snapshot, snapshot_path, write_snapshot
from dorfkarte.workspace import open_snapshot

FORMULAS = ['=HYPERLINK("http://x","klick")', "+49 Dorf", "-1+2", "@SUM(A1)",
            "\tTab-Dorf", "\rCR-Dorf"]


@pytest.fixture(scope="module")
def hostile(region, tmp_path_factory):
    base = open_snapshot(region, tmp_path_factory.mktemp("empty"))
    snap = Snapshot(region_id=base.region_id, layers=dict(base.layers), info=dict(base.info))
    d = base.get(DISTRICTS).copy()
    for i, name in enumerate(FORMULAS):
        d.loc[i, "name"] = name
    snap.layers[DISTRICTS] = d
    pts = [d.geometry.iloc[i].representative_point() for i in range(len(FORMULAS))]
    snap.add(AMENITIES, gpd.GeoDataFrame(
        {"osm_id": [f"node/{i}" for i in range(len(FORMULAS))], "name": FORMULAS,
         "category": ["lebensmittel"] * len(FORMULAS), "tags": ["{}"] * len(FORMULAS),
         "source": ["osm"] * len(FORMULAS)},
        geometry=pts, crs="EPSG:4326"), source="=cmd|' /C calc'!A0")
    return snap


def test_cell_safe_rules():
    for f in FORMULAS:
        assert cell_safe(f) == "'" + f
    assert cell_safe("Bad Belzig") == "Bad Belzig"
    assert cell_safe(-3.5) == -3.5  # numbers stay numbers
    assert cell_safe("") == ""
    df = frame_safe(pd.DataFrame({"a": ["=1+1", "x"], "b": [-1.0, 2.0]}))
    assert df["a"].tolist() == ["'=1+1", "x"] and df["b"].tolist() == [-1.0, 2.0]


def test_report_csv_and_xlsx_are_formula_safe(hostile, region, tmp_path):
    result = analyse(hostile, region, categories=["lebensmittel"], modes=["walk"])
    rep = export_report(hostile, region, result, tmp_path / "out")
    text = rep.csv.read_bytes().decode("utf-8-sig")  # bytes: keep a CR inside a cell
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))  # German Excel CSV
    cells = [c for r in rows for c in r]
    for f in FORMULAS:
        assert "'" + f.replace("\r", "\n") in cells, f  # neutralised, text kept
    assert not any(c[:1] in ("=", "+", "-", "@", "\t", "\r") for c in cells
                   if not _number(c.replace(",", ".")))
    wb = load_workbook(rep.xlsx)
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    seen.add(cell.value)
    # XLSX keeps the visible text exactly (a text cell, no apostrophe needed)
    for f in FORMULAS:
        assert f in seen or f.replace("\r", "\n") in seen, f
    assert "=cmd|' /C calc'!A0" in seen  # the layer source on the sources sheet


def _number(text: str) -> bool:
    try:
        float(text.replace(",", "."))  # decimal comma in the people's CSV
    except ValueError:
        return False
    return True


def test_analyse_coverage_csv_is_formula_safe(hostile, region, tmp_path, capsys):
    data = tmp_path / "data"
    write_snapshot(hostile, snapshot_path(data, region.id))
    out = tmp_path / "out"
    rc = main(["analyse", "--out", str(out), "--category", "lebensmittel", "--mode", "walk",
               "--data-dir", str(data), "--ohne-angebote"])
    assert rc == 0, capsys.readouterr().err
    table = pd.read_csv(out / "coverage.csv", keep_default_na=False)
    names = set(table["nearest_name"])  # the OSM names (units come from the region's data)
    for f in FORMULAS:
        assert "'" + f.replace("\r", "\n") in names, (f, names)
    for col in table.columns:
        if table[col].dtype == object:
            assert not any(str(v)[:1] in ("=", "+", "@", "\t", "\r") for v in table[col])
