"""Issue 14, items 1, 2 and 5 end to end on the shipped data: one example listing.

Data folder: no OSM snapshot (embedded Ortsteile and stops only) plus one listing flagged as
example data (a mobile grocery in Schwanebeck). "Lebensmittel" is then known from listings
only: never a gap, and the example flag reaches every export.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from dorfkarte import coverage, provenance
from dorfkarte.cli import main
from dorfkarte.enums import GapClass
from dorfkarte.listings import ListingStore
from dorfkarte.region import Region
from dorfkarte.report import export_report
from dorfkarte.workspace import Workspace, open_snapshot

LOCAL_TEXT = "unbekannt – nur lokale Angebote erfasst"


@pytest.fixture(scope="module")
def example_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("beispiel")
    ListingStore(d).upsert(gpd.GeoDataFrame(
        {"id": ["B1"], "name": ["Rollender Laden (Beispiel)"], "category": ["lebensmittel"],
         "kind": ["mobile"], "lat": [52.1386], "lon": [12.5843], "example": [True]},
        geometry=[Point(12.5843, 52.1386)], crs="EPSG:4326"), user="test")
    return d


@pytest.fixture(scope="module")
def analysed(example_dir: Path, region: Region):
    snap = open_snapshot(region, example_dir)
    extra = Workspace(region, example_dir).listing_points()
    return snap, extra, coverage.analyse(snap, region, extra_destinations=extra)


def test_listing_only_category_has_no_gap(analysed) -> None:
    _snap, _extra, result = analysed
    assert result.local_only == frozenset({"lebensmittel"})
    rows = result.indicators[result.indicators["category"] == "lebensmittel"]
    assert not (rows["gap_class"] == GapClass.GAP).any()
    assert (rows["gap_class"] == GapClass.LOCAL_ONLY).sum() >= 20
    assert provenance.flags(result, category="lebensmittel") == [
        "enthält Beispieldaten", "nur lokale Angebote, OSM fehlt"]
    assert provenance.flags(result, category="haltestelle") == []


def test_report_flags_example_data_everywhere(tmp_path: Path, analysed, region: Region) -> None:
    snap, _extra, result = analysed
    rep = export_report(snap, region, result, tmp_path, mode="walk")
    csv = pd.read_csv(rep.csv, encoding="utf-8-sig", sep=";", decimal=",")
    food = csv[csv["Kategorie (ID)"] == "lebensmittel"]
    assert set(food["Beispieldaten"]) == {"ja"}
    assert set(csv.loc[csv["Kategorie (ID)"] == "haltestelle", "Beispieldaten"]) == {"nein"}
    assert LOCAL_TEXT in set(food["Bewertung"]) and "Lücke" not in set(food["Bewertung"])

    wb = openpyxl.load_workbook(rep.xlsx)
    head = [c.value for c in wb["Abdeckung"][1]]
    assert "Beispieldaten" in head
    assert "nearest_weight" not in head and "Abfahrten nächste Haltestelle" in head
    values = {c for row in wb["Abdeckung"].iter_rows(min_row=2, values_only=True) for c in row}
    assert {"listing", "straight_line", "walk", "network"}.isdisjoint(values)
    quellen = {r[0]: r[4] for r in wb["Quellen"].iter_rows(min_row=2, values_only=True)}
    assert "Lebensmittel" in quellen["Beispieldaten"]
    assert "OSM fehlt" in quellen["Nur lokale Angebote"]

    layers = {n for n, _ in pyogrio.list_layers(rep.gpkg)}
    assert "quellen" in layers
    ab = pyogrio.read_dataframe(rep.gpkg, layer="abdeckung", read_geometry=False)
    assert set(ab.loc[ab["category"] == "lebensmittel", "beispieldaten"]) == {1}
    ein = pyogrio.read_dataframe(rep.gpkg, layer="einrichtungen")
    assert ein.loc[ein["name"] == "Rollender Laden (Beispiel)", "beispieldaten"].tolist() == [1]


def test_html_export_and_cli_say_example(tmp_path: Path, example_dir: Path) -> None:
    out = tmp_path / "karte.html"
    assert main(["export-html", str(out), "--offline", "--category", "lebensmittel",
                 "--data-dir", str(example_dir)]) == 0
    doc = out.read_text(encoding="utf-8")
    assert "<title>Lebensmittel: Erreichbarkeit (Fuß) – Bad Belzig und Wiesenburg/Mark " \
           "(enthält Beispieldaten; nur lokale Angebote, OSM fehlt)</title>" in doc
    # the legend's indicator part travels as JSON (non-ASCII escaped)
    assert json.dumps("Enthält Beispieldaten (keine echten Angebote)")[1:-1] in doc
    assert json.dumps(LOCAL_TEXT)[1:-1] in doc  # legend row of the unknown class
    # the stop map has neither flag
    out2 = tmp_path / "bus.html"
    assert main(["export-html", str(out2), "--offline", "--category", "haltestelle",
                 "--data-dir", str(example_dir)]) == 0
    assert "Beispieldaten)</title>" not in out2.read_text(encoding="utf-8")


def test_analyse_out_writes_machine_and_people_csv(tmp_path: Path, example_dir: Path) -> None:
    out = tmp_path / "out"
    assert main(["analyse", "--out", str(out), "--data-dir", str(example_dir),
                 "--mode", "walk"]) == 0
    machine = pd.read_csv(out / "coverage.csv")
    people = pd.read_csv(out / "abdeckung.csv", encoding="utf-8-sig", sep=";", decimal=",")
    assert len(machine) == len(people)
    assert "share_within" in machine.columns and "Anteil erreichbar" in people.columns
    assert not (out / "coverage.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    merged = machine.assign(p=people["Anteil erreichbar"].to_numpy())
    # the people's table rounds to 4 decimals (a council paper needs no twelve digits)
    assert merged["share_within"].fillna(-1).to_numpy() == pytest.approx(
        merged["p"].fillna(-1).to_numpy(), abs=1e-4)


def test_slide_page_for_png(analysed, region: Region) -> None:
    """Issue 14 item 8: the page a PNG is taken of hides the buttons, shows the whole
    legend (approximation note included), the sources open, the highlight explained."""
    from dorfkarte.export import build_export_html

    snap, extra, result = analysed
    doc, _, _ = build_export_html(snap, region, result, category="lebensmittel",
                                  offline=True, extra_points=extra, highlight="Lütte",
                                  slide=True)
    assert ".leaflet-control-zoom, .leaflet-control-layers { display: none !important; }" in doc
    assert ".dk-legend { max-height: none !important" in doc
    assert '<details open id="dk-export-sources"' in doc
    def has(text: str, page: str) -> bool:  # the legend travels as JSON in a script
        return text in page or json.dumps(text)[1:-1] in page

    assert has("Ausgewählter Ortsteil: Lütte", doc)
    assert has("Ortsteilflächen sind Näherungen", doc)
    assert "L.control.scale" in doc and "Export:" in doc
    plain, _, _ = build_export_html(snap, region, result, category="lebensmittel",
                                    offline=True, extra_points=extra)
    assert "display: none !important" not in plain
    assert not has("Ausgewählter Ortsteil", plain)


def test_demo_gaps_step_on_a_listing_only_category(analysed, region: Region) -> None:
    """The demo never says "keine Lücke" / "jeder Ortsteil erreicht" from listings alone."""
    from dorfkarte import story
    from dorfkarte.i18n import t

    _snap, _extra, result = analysed
    g = story.gaps(result, region, "lebensmittel", "walk")
    assert g.local_only and g.indicator == "gap_class"
    assert g.n_served + g.n_unknown == len(g.ranking) and g.n_unknown > 0
    assert t("demo_local_only_head", "de", cat="Lebensmittel") == \
        "Lebensmittel: nur lokale Angebote, OSM fehlt"
    assert not story.gaps(result, region, "haltestelle", "walk").local_only
