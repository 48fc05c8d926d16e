"""Issue 12, "Region versus data": units at the data's edge are marked wherever a planner looks.

The hand-made line region (:mod:`linefixtures`: Ahaus around y=0, Beheim 5 km north) gets a
``data_gap`` layer (what the import writes when the extract does not cover region + buffer)
just north of Beheim. With the default ``buffer_m`` of 3000 m, Beheim (100 m from the gap) is
at the data's edge and Ahaus (over 5 km away) is not.
"""

from __future__ import annotations

import io
from types import SimpleNamespace

import folium
import geopandas as gpd
import pandas as pd
import pytest
from jinja2.utils import htmlsafe_json_dumps
from linefixtures import CRS, X0, Y0, line_snapshot
from shapely.geometry import box

from dorfkarte import cli, maps, report, sheets, views
from dorfkarte.coverage import CoverageResult, analyse, data_edge_units
from dorfkarte.i18n import t
from dorfkarte.region import Region
from dorfkarte.safe import html_escape
from dorfkarte.snapshot import DATA_GAP, Snapshot, snapshot_path, write_snapshot
from dorfkarte.ui import overview, profile

EVIL = '<img src=x onerror="alert(1)">'


def with_gap(snap: Snapshot) -> Snapshot:
    """``snap`` with a data_gap area starting 100 m north of Beheim (y = 5200..6000)."""
    gap = gpd.GeoDataFrame({"share": [0.3]}, geometry=[box(X0 - 500, Y0 + 5200, X0 + 800,
                                                           Y0 + 6000)], crs=CRS)
    snap.add(DATA_GAP, gap, source="test", note="Teil der Region (+ Puffer) ohne Daten")
    return snap


@pytest.fixture()
def edge_result(test_region: Region) -> tuple[Snapshot, CoverageResult]:
    snap = with_gap(line_snapshot())
    return snap, analyse(snap, test_region)


def _flags(result: CoverageResult) -> dict[str, set[bool]]:
    ind = result.indicators
    return {str(n): set(g["data_edge"]) for n, g in ind.groupby("district")}


def test_only_units_near_the_gap_are_flagged(edge_result, test_region: Region) -> None:
    snap, res = edge_result
    assert test_region.buffer_m == 3000
    assert res.data_edge_units == frozenset({"Beheim"})
    assert data_edge_units(snap, res.districts, test_region) == frozenset({"Beheim"})
    # every indicator row carries the flag as data, not only the note
    assert _flags(res) == {"Beheim": {True}, "Ahaus": {False}}
    assert res.indicators["data_edge"].dtype == bool
    assert "data_edge" in res.table().columns
    note = [n for n in res.notes if "Datenrand" in n]
    assert len(note) == 1 and "Beheim" in note[0] and "Ahaus" not in note[0]


def test_flag_survives_thresholds_groups_and_what_if_copies(edge_result) -> None:
    _snap, res = edge_result
    moved = res.with_thresholds({("laden", "walk"): 3.0})
    assert _flags(moved) == {"Beheim": {True}, "Ahaus": {False}}
    rows = res.pair_indicators(("laden", "walk"), res.times[("laden", "walk")],
                               res.nearest[("laden", "walk")], res.destinations["laden"])
    assert list(rows["data_edge"]) == [False, True]  # districts layer order: Ahaus, Beheim


def test_without_a_data_gap_nothing_is_flagged(test_region: Region) -> None:
    res = analyse(line_snapshot(), test_region)
    assert res.data_edge_units == frozenset()
    assert "data_edge" in res.indicators and not res.indicators["data_edge"].any()
    assert not any("Datenrand" in n for n in res.notes)


def test_gap_far_away_flags_nobody(test_region: Region) -> None:
    snap = line_snapshot()
    far = gpd.GeoDataFrame({"share": [0.1]}, geometry=[box(X0 + 20000, Y0, X0 + 21000,
                                                           Y0 + 1000)], crs=CRS)
    snap.add(DATA_GAP, far, source="test")
    assert analyse(snap, test_region).data_edge_units == frozenset()


# ---- tables and exports ----------------------------------------------------------------

def test_ranking_and_gap_matrix_carry_the_column(edge_result, test_region: Region) -> None:
    _snap, res = edge_result
    rank = views.ranking(res, "laden", "walk").set_index("district")
    assert rank.loc["Beheim", "data_edge"] and not rank.loc["Ahaus", "data_edge"]
    mat = views.gap_matrix(res, test_region, "walk").set_index("district")
    assert bool(mat.loc["Beheim", "data_edge"]) and not bool(mat.loc["Ahaus", "data_edge"])
    for lang, yes, no in (("de", "ja", "nein"), ("en", "yes", "no")):
        col = t("col_data_edge", lang)
        shown = overview.ranking_display(views.ranking(res, "laden", "walk"), lang)
        by = dict(zip(shown[t("col_district", lang)], shown[col], strict=True))
        assert by == {"Beheim": yes, "Ahaus": no}
        csv = overview.gap_matrix(res, test_region, "walk", lang, for_csv=True)
        by = dict(zip(csv[t("col_district", lang)], csv[col], strict=True))
        assert by == {"Beheim": yes, "Ahaus": no}


def test_ranking_display_without_flags_says_no(test_region: Region) -> None:
    res = analyse(line_snapshot(), test_region)
    shown = overview.ranking_display(views.ranking(res, "laden", "walk"), "de",
                                     for_csv=True)
    assert set(shown["Am Datenrand"]) == {"nein"}


def test_analyse_out_csvs_have_the_column(test_region: Region, tmp_path) -> None:
    """``dorfkarte analyse --out`` end to end: the stored data_gap layer flags Beheim."""
    data = tmp_path / "data"
    write_snapshot(with_gap(line_snapshot()), snapshot_path(data, "testland"))
    out = tmp_path / "out"
    assert cli.main(["--region", str(test_region.path), "--data-dir", str(data), "analyse",
                     "--out", str(out)]) == 0
    machine = pd.read_csv(out / "coverage.csv")
    got = machine.groupby("district")["data_edge"].agg(set).to_dict()
    assert got == {"Beheim": {True}, "Ahaus": {False}}
    people = pd.read_csv(out / "abdeckung.csv", sep=";", encoding="utf-8-sig")
    got = people.groupby("Ortsteil")["Am Datenrand"].agg(set).to_dict()
    assert got == {"Beheim": {"ja"}, "Ahaus": {"nein"}}


def test_report_csv_and_xlsx_have_the_column(edge_result, test_region: Region,
                                             tmp_path) -> None:
    snap, res = edge_result
    rep = report.export_report(snap, test_region, res, tmp_path / "bericht")
    csv = pd.read_csv(rep.csv, sep=";", encoding="utf-8-sig")
    assert csv.groupby("Ortsteil")["Am Datenrand"].agg(set).to_dict() == {
        "Beheim": {"ja"}, "Ahaus": {"nein"}}
    xlsx = pd.read_excel(rep.xlsx, sheet_name="Abdeckung")
    assert xlsx.groupby("Ortsteil")["Am Datenrand"].agg(set).to_dict() == {
        "Beheim": {"ja"}, "Ahaus": {"nein"}}
    sources = pd.read_excel(rep.xlsx, sheet_name="Quellen")
    line = sources[sources["Was"] == "Am Datenrand"]["Hinweis"]
    assert len(line) == 1 and "Beheim" in line.iloc[0] and "Ahaus" not in line.iloc[0]
    # English headers and words
    en = sheets.people_table(res.table(), "en")
    assert set(en.loc[en["District"] == "Beheim", "At the data's edge"]) == {"yes"}


def test_report_without_gap_column_all_no(test_region: Region, tmp_path) -> None:
    snap = line_snapshot()
    res = analyse(snap, test_region)
    rep = report.export_report(snap, test_region, res, tmp_path / "bericht")
    xlsx = pd.read_excel(rep.xlsx, sheet_name="Abdeckung")
    assert set(xlsx["Am Datenrand"]) == {"nein"}
    sources = pd.read_excel(rep.xlsx, sheet_name="Quellen")
    assert "Am Datenrand" not in set(sources["Was"])


# ---- map ----------------------------------------------------------------------------

def _geojson_props(el: folium.Element) -> list[dict]:
    """Feature properties of every GeoJson below ``el``."""
    out = []
    for child in el._children.values():
        if isinstance(child, folium.GeoJson):
            out.extend(f["properties"] for f in child.data["features"])
        out.extend(_geojson_props(child))
    return out


def _legend(fmap: folium.Map) -> str:
    """The legend control's HTML (the page carries it as a JS string)."""
    return next(c.html for c in fmap._children.values()
                if isinstance(c, maps.HtmlControl) and c.element_id == "dk-legend")


def _in_script(text: str) -> str:
    """``text`` as it appears inside a JSON string in the page (jinja's ``tojson``)."""
    return str(htmlsafe_json_dumps(text))[1:-1]


def _layer_names(fmap: folium.Map) -> list[str]:
    """Names in the layer control (escaped HTML, like every name there)."""
    return [c.layer_name for c in fmap._children.values()
            if isinstance(c, folium.FeatureGroup)]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_map_draws_the_gap_and_marks_the_units(edge_result, test_region: Region,
                                               lang: str) -> None:
    snap, res = edge_result
    fmap = maps.build_map(snap, test_region, res, category="laden", lang=lang)
    names = _layer_names(fmap)
    assert html_escape(t("layer_data_gap", lang)) in names
    assert html_escape(t("layer_data_edge", lang)) in names
    edge_group = next(c for c in fmap._children.values()
                      if isinstance(c, folium.FeatureGroup)
                      and c.layer_name == html_escape(t("layer_data_edge", lang)))
    assert [p["name"] for p in _geojson_props(edge_group)] == ["Beheim"]  # only Beheim
    flag = html_escape(t("data_edge_flag", lang))
    tips = {p["name"]: p["tip"] for p in _geojson_props(fmap) if "tip" in p and "name" in p}
    assert flag in tips["Beheim"] and flag not in tips["Ahaus"]
    pops = {p["name"]: p["popup"] for p in _geojson_props(fmap) if "popup" in p}
    assert flag in pops["Beheim"] and flag not in pops["Ahaus"]
    legend = _legend(fmap)
    assert html_escape(t("legend_data_gap", lang)) in legend
    assert html_escape(t("legend_data_edge", lang)) in legend
    html = fmap.get_root().render()
    assert "dk-hatch-nodata" in html
    assert _in_script(html_escape(t("legend_data_edge", lang))) in html


def test_map_without_analysis_still_marks_from_the_snapshot(edge_result,
                                                            test_region: Region) -> None:
    snap, _res = edge_result
    fmap = maps.build_map(snap, test_region, None, category="laden")
    assert {t("layer_data_gap"), t("layer_data_edge")} <= set(_layer_names(fmap))
    tips = {p["name"]: p["tip"] for p in _geojson_props(fmap) if "tip" in p and "name" in p}
    assert t("data_edge_flag") in tips["Beheim"]


def test_map_without_data_gap_has_no_such_layer(test_region: Region) -> None:
    snap = line_snapshot()
    fmap = maps.build_map(snap, test_region, analyse(snap, test_region), category="laden")
    names = _layer_names(fmap)
    assert t("layer_data_gap") not in names and t("layer_data_edge") not in names
    html = fmap.get_root().render()
    assert "dk-hatch-nodata" not in html
    assert "dk-data-edge" not in _legend(fmap) and "dk-data-gap" not in _legend(fmap)


def test_hostile_unit_name_at_the_edge_is_escaped(test_region: Region) -> None:
    snap = with_gap(line_snapshot())
    d = snap.get("districts").copy()
    d.loc[d["name"] == "Beheim", "name"] = EVIL
    snap.add("districts", d, source="test")
    res = analyse(snap, test_region)
    assert res.data_edge_units == frozenset({EVIL})
    fmap = maps.build_map(snap, test_region, res, category="laden")
    tips = [p["tip"] for p in _geojson_props(fmap) if "tip" in p]
    assert any(html_escape(EVIL) in tip and t("data_edge_flag") in tip for tip in tips)
    assert not any(EVIL in tip for tip in tips)
    assert EVIL not in fmap.get_root().render()


def test_app_map_path_shows_the_layer(edge_result, test_region: Region, tmp_path) -> None:
    """The Streamlit map: ui/data's cached maps (generalised snapshot) and indicator layer."""
    from dorfkarte.ui import data as ui_data
    from dorfkarte.ui import mapview
    from dorfkarte.workspace import Workspace

    snap, res = edge_result
    ws = Workspace(test_region, tmp_path, snapshot=snap)
    key = (ws.fingerprint, "edge-test")
    base, layer = ui_data.get_map_layers(key, (), ws, res, None, category="laden",
                                         mode="walk", indicator="share_within",
                                         basemap="own", lang="de", points=("laden",))
    if isinstance(base, mapview.MapParts):
        text = base.script + base.header + base.html
    else:
        text = base.get_root().render()
    assert "dk-hatch-nodata" in text and _in_script(t("legend_data_edge")) in text
    if isinstance(layer, str):  # the layer's script: the flag's element in the tooltips
        assert "dk-edge" in layer
    else:
        assert any(t("data_edge_flag") in p.get("tip", "") for p in _geojson_props(layer))
    full = ui_data.get_map(key, ws, res, None, category="laden", mode="walk",
                           indicator="share_within", basemap="own", lang="de",
                           points=("laden",))
    assert t("layer_data_gap") in _layer_names(full)


# ---- profile --------------------------------------------------------------------------

def test_profile_says_it_for_the_affected_unit_only(edge_result, test_region: Region) -> None:
    _snap, res = edge_result
    assert views.unit_profile(res, test_region, "Beheim", "walk").data_edge
    assert not views.unit_profile(res, test_region, "Ahaus", "walk").data_edge
    for lang in ("de", "en"):
        ctx = SimpleNamespace(result=res, region=test_region, mode="walk", lang=lang)
        assert profile.data_edge_note(ctx, "Beheim") == t("profile_data_edge", lang)
        assert profile.data_edge_note(ctx, "Ahaus") is None
    assert "Datenrand" in t("profile_data_edge", "de")
    assert "edge" in t("profile_data_edge", "en")


def test_people_csv_bytes_roundtrip(edge_result) -> None:
    """The app's CSV download of the ranking: ja/nein in German Excel format."""
    _snap, res = edge_result
    data = overview.to_csv(overview.ranking_display(views.ranking(res, "laden", "walk"), "de",
                                                    for_csv=True), "de")
    df = pd.read_csv(io.BytesIO(data), sep=";", encoding="utf-8-sig")
    assert dict(zip(df["Ortsteil"], df["Am Datenrand"], strict=True)) == {
        "Beheim": "ja", "Ahaus": "nein"}
