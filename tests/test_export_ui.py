"""Export panel of the app: buttons render, and the files they hand out are right."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dorfkarte import coverage
from dorfkarte.export import external_refs
from dorfkarte.region import Region
from dorfkarte.ui.context import UIContext
from dorfkarte.ui.export import html_maker, report_maker
from dorfkarte.workspace import open_snapshot


def panel_script() -> None:
    import os
    from pathlib import Path

    import streamlit as st

    from dorfkarte import coverage
    from dorfkarte.region import load_region
    from dorfkarte.settings import default_region_path
    from dorfkarte.ui.context import UIContext
    from dorfkarte.ui.export import render_export_panel
    from dorfkarte.workspace import open_snapshot

    region = load_region(default_region_path())
    data_dir = Path(os.environ["DORFKARTE_DATA"])
    snap = open_snapshot(region, data_dir)
    with_result = st.session_state.get("with_result", True)
    result = coverage.analyse(snap, region, modes=["walk"]) if with_result else None
    render_export_panel(UIContext(region=region, data_dir=data_dir, snapshot=snap,
                                  category="haltestelle", mode="walk", result=result))


def labels(at: AppTest) -> list[str]:
    return [el.proto.label for el in at.get("download_button")]


def test_panel_shows_all_downloads() -> None:
    at = AppTest.from_function(panel_script, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert labels(at) == [
        "HTML-Karte (offline, eine Datei)", "HTML-Karte mit OSM-Kacheln",
        "Bild (PNG) für Folien", "Abdeckung als CSV", "Abdeckung als Excel (XLSX)",
        "Layer als GeoPackage (QGIS)",
    ]
    assert "Bus / Bahn" in at.caption[0].value


def test_panel_without_result_disables_tables() -> None:
    at = AppTest.from_function(panel_script, default_timeout=120)
    at.session_state["with_result"] = False
    at.run()
    assert not at.exception, at.exception
    buttons = {el.proto.label: el.proto.disabled for el in at.get("download_button")}
    assert buttons["Abdeckung als CSV"] and buttons["Layer als GeoPackage (QGIS)"]
    assert not buttons["HTML-Karte (offline, eine Datei)"]
    assert any("Erreichbarkeitsanalyse" in i.value for i in at.info)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory, region: Region) -> UIContext:
    d = tmp_path_factory.mktemp("d")
    snap = open_snapshot(region, d)
    return UIContext(region=region, data_dir=Path(d), snapshot=snap, category="haltestelle",
                     mode="walk", result=coverage.analyse(snap, region, modes=["walk"]))


def test_download_files(ctx: UIContext) -> None:
    settings = {"category": "haltestelle", "mode": "walk", "lang": "de",
                "extra_points": None, "highlight": "Lütte", "indicator": "share_within",
                "point_categories": None}
    doc = html_maker(ctx, settings, offline=True)().decode("utf-8")
    assert doc.startswith("<!DOCTYPE html>") and external_refs(doc) == []
    assert "Bus / Bahn: Erreichbarkeit (Fuß)" in doc
    online = html_maker(ctx, settings, offline=False)().decode("utf-8")
    assert "tile.openstreetmap.org" in online

    # the app's CSV download opens in German Excel: ';', decimal comma, German headers
    csv = pd.read_csv(io.BytesIO(report_maker(ctx, "walk", "csv")()), encoding="utf-8-sig",
                      sep=";", decimal=",")
    assert len(csv) == len(ctx.result.table())
    assert "Anteil erreichbar" in csv.columns and csv["Anteil erreichbar"].dtype == float
    wb = openpyxl.load_workbook(io.BytesIO(report_maker(ctx, "walk", "xlsx")()))
    assert wb.sheetnames == ["Abdeckung", "Quellen"]
    gpkg = report_maker(ctx, "walk", "gpkg")()
    assert gpkg[:16] == b"SQLite format 3\x00"
