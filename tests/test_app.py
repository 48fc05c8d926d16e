"""The Streamlit app under streamlit.testing.v1.AppTest (no browser, no network)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dorfkarte.coverage import analyse
from dorfkarte.region import Region
from dorfkarte.ui.page import KEY_TAB
from dorfkarte.ui.sidebar import KEY_CATEGORY, KEY_LANG, KEY_MODE, thr_key
from dorfkarte.workspace import open_snapshot

APP = str(Path(__file__).resolve().parents[1] / "app.py")
GAP_LABEL = "Ortsteile mit Lücke"
SERVICES_LABEL = "Einrichtungen im Datenstand"


def start() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def headline(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("#### "))


def table_with(at: AppTest, column: str):
    return next(d.value for d in [*at.dataframe, *at.table] if column in d.value.columns)


def gap_count(result, category: str, mode: str) -> int:
    ind = result.indicators
    rows = ind[(ind["category"] == category) & (ind["mode"] == mode)]
    return int((rows["gap_class"] == "gap").sum())


def test_starts_on_embedded_data_with_german_hint(region: Region, _isolated_data_dir: Path):
    at = start()
    warnings = " ".join(w.value for w in at.warning)
    assert "Noch kein OSM-Schnappschuss" in warnings
    assert "dorfkarte fetch" in " ".join(c.value for c in at.text)
    assert not at.error
    # with embedded data only the stops have data: that category is chosen by default
    assert at.session_state[KEY_CATEGORY] == "haltestelle"
    result = analyse(open_snapshot(region, _isolated_data_dir), region)
    assert metric(at, GAP_LABEL) == f"{gap_count(result, 'haltestelle', 'walk')} / 29"
    assert metric(at, SERVICES_LABEL) == str(len(result.destinations["haltestelle"]))
    # the ranking (tab "Übersicht") lists all 29 units, worst first
    at.session_state[KEY_TAB] = "Übersicht"
    at.run()
    assert not at.exception
    ranking = table_with(at, "Rang")
    assert len(ranking) == 29
    assert {"Lütte", "Bad Belzig (Kernstadt)", "Wiesenburg (Kernort)"} <= set(ranking["Ortsteil"])
    share = ranking["Anteil innerhalb"].to_numpy()
    assert share[0] == share.min()


def test_switching_mode_and_category_changes_the_indicator(region: Region,
                                                           _isolated_data_dir: Path):
    result = analyse(open_snapshot(region, _isolated_data_dir), region)
    at = start()
    assert headline(at).startswith("#### Bus / Bahn · Fuß")
    at.sidebar.radio(key=KEY_MODE).set_value("transit").run()
    assert not at.exception
    assert headline(at).startswith("#### Bus / Bahn · ÖPNV-Nähe")
    assert metric(at, GAP_LABEL) == f"{gap_count(result, 'haltestelle', 'transit')} / 29"
    at.sidebar.radio(key=KEY_MODE).set_value("walk").run()
    at.sidebar.selectbox(key=KEY_CATEGORY).set_value("lebensmittel").run()
    assert not at.exception
    assert headline(at).startswith("#### Lebensmittel · Fuß")
    # the service points shown follow the category (until chosen by hand)
    assert at.session_state["dk_points"] == ["lebensmittel"]
    # no groceries known without OSM: "keine Daten", not a gap
    assert metric(at, GAP_LABEL) == "0 / 29"
    assert any("keine Daten" in i.value for i in at.info)


def test_threshold_slider_recomputes(region: Region, _isolated_data_dir: Path):
    result = analyse(open_snapshot(region, _isolated_data_dir), region)
    strict = result.with_thresholds({("haltestelle", "walk"): 3.0})
    assert gap_count(strict, "haltestelle", "walk") != gap_count(result, "haltestelle", "walk")
    at = start()
    at.slider(key=thr_key("haltestelle", "walk")).set_value(3.0).run()
    assert not at.exception
    assert metric(at, GAP_LABEL) == f"{gap_count(strict, 'haltestelle', 'walk')} / 29"


def test_selected_unit_shows_its_profile():
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["selected_unit"] = "Lütte"
    at.run()
    assert not at.exception
    assert any(h.value == "Lütte" for h in at.subheader)
    profile = table_with(at, "Median")
    assert "Bus / Bahn" in set(profile["Kategorie"])


def test_english_option():
    at = start()
    at.sidebar.radio(key=KEY_LANG).set_value("en").run()
    assert not at.exception
    assert any(t.value == "dorfkarte: basic services in Bad Belzig und Wiesenburg/Mark"
               for t in at.title)
    warnings = " ".join(w.value for w in at.warning)
    assert "No OSM snapshot yet" in warnings and "Noch kein" not in warnings
    assert "public transport stops (VBB Verkehrsverbund Berlin-Brandenburg GmbH)" in warnings


def test_on_synthetic_osm_snapshot(region: Region, _isolated_data_dir: Path):
    from osmfixtures import build_test_snapshot

    build_test_snapshot(_isolated_data_dir)
    snap = open_snapshot(region, _isolated_data_dir)
    assert snap.has_osm
    result = analyse(snap, region)
    at = start()
    assert not any("Noch kein OSM-Schnappschuss" in w.value for w in at.warning)
    n_units = len(snap.get("districts"))
    at.sidebar.selectbox(key=KEY_CATEGORY).set_value("lebensmittel").run()
    assert headline(at).startswith("#### Lebensmittel · Fuß")
    assert metric(at, SERVICES_LABEL) == str(len(result.destinations["lebensmittel"]))
    assert metric(at, GAP_LABEL) == f"{gap_count(result, 'lebensmittel', 'walk')} / {n_units}"
    at.sidebar.selectbox(key=KEY_CATEGORY).set_value("hausarzt").run()
    at.sidebar.radio(key=KEY_MODE).set_value("drive").run()
    assert not at.exception
    assert headline(at).startswith("#### Hausarzt · Auto")
    assert metric(at, SERVICES_LABEL) == str(len(result.destinations["hausarzt"]))
    assert metric(at, GAP_LABEL) == f"{gap_count(result, 'hausarzt', 'drive')} / {n_units}"


def test_every_tab_renders_without_traceback():
    at = start()
    for label in ("Übersicht", "Szenarien", "Lokale Angebote", "Export", "Datenstand"):
        at.session_state[KEY_TAB] = label
        at.run()
        assert not at.exception, (label, [e.message for e in at.exception])
    # the data status names the attribution lines
    text = " ".join(m.value for m in at.markdown)
    assert "© OpenStreetMap-Mitwirkende, ODbL" in text
    assert "Haltestellen: VBB Verkehrsverbund Berlin-Brandenburg GmbH, CC BY 4.0" in text


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_no_traceback_for_every_category(mode: str, region: Region):
    at = start()
    at.sidebar.radio(key=KEY_MODE).set_value(mode).run()
    # every category the mode offers (central places only where their plan sets a threshold)
    for cid in [c for c in region.categories if region.category(c).measured_in(mode)]:
        at.sidebar.selectbox(key=KEY_CATEGORY).set_value(cid).run()
        assert not at.exception, (cid, [e.message for e in at.exception])


def test_demo_mode_from_query_parameter():
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["demo"] = "1"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["dk_demo"] is True
    # the demo panel replaces the page: its guided story instead of the normal view
    assert not any(t.value.startswith("dorfkarte: ") for t in at.title)
    assert any("Schritt 1" in m.value for m in at.markdown)


def test_another_region_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Nothing of Hoher Fläming is assumed: a synthetic region chosen by $DORFKARTE_REGION."""
    from other_region import CATEGORIES, FILE_DISTRICTS, FOREIGN_LABELS, write_region

    monkeypatch.setenv("DORFKARTE_REGION", str(write_region(tmp_path / "r", FILE_DISTRICTS)))
    at = start()
    assert at.session_state[KEY_CATEGORY] in CATEGORIES
    assert at.sidebar.selectbox(key=KEY_CATEGORY).options == list(CATEGORIES.values())
    assert headline(at).startswith(f"#### {CATEGORIES[at.session_state[KEY_CATEGORY]]} · ")
    assert not any(label in headline(at) for label in FOREIGN_LABELS)
    assert "Noch kein OSM-Schnappschuss" in " ".join(w.value for w in at.warning)
    # the title and the hint name this region and its own sources, not Hoher Fläming / VBB
    region = load_region_from_env()
    assert [t.value for t in at.title] == [f"dorfkarte: Daseinsvorsorge in {region.name}"]
    assert "VBB" not in " ".join(w.value for w in at.warning)


def _click_script(lat: float, lng: float) -> None:
    """Runs inside AppTest: one map click through the map panel's handler."""
    import streamlit as st

    from dorfkarte.region import load_region
    from dorfkarte.settings import default_data_dir, default_region_path
    from dorfkarte.ui.context import UIContext
    from dorfkarte.ui.mapview import handle_click
    from dorfkarte.workspace import open_snapshot

    region = load_region(default_region_path())
    snap = open_snapshot(region, default_data_dir())
    ctx = UIContext(region=region, data_dir=default_data_dir(), snapshot=snap)
    st.session_state["changed"] = handle_click(
        ctx, {"last_clicked": {"lat": lat, "lng": lng}})


def test_map_click_selects_unit_and_sets_the_point_for_new_entries(region: Region,
                                                                    _isolated_data_dir: Path):
    from dorfkarte.snapshot import DISTRICTS
    from dorfkarte.ui import listings
    from dorfkarte.ui.mapview import MAP_CLICK_KEY, SELECTED

    assert MAP_CLICK_KEY == listings.MAP_CLICK_KEY
    d = open_snapshot(region, _isolated_data_dir).get(DISTRICTS).to_crs("EPSG:4326")
    pt = d.loc[d["name"] == "Lütte"].geometry.representative_point().iloc[0]
    at = AppTest.from_function(_click_script, args=(pt.y, pt.x), default_timeout=60).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["changed"] is True
    assert at.session_state[SELECTED] == "Lütte"
    assert at.session_state[MAP_CLICK_KEY] == pytest.approx((pt.y, pt.x))
    # a click far outside every unit still gives the point (no unit selected)
    at = AppTest.from_function(_click_script, args=(40.0, 10.0), default_timeout=60).run()
    assert at.session_state["changed"] is False  # no unit there: selection unchanged
    assert at.session_state[MAP_CLICK_KEY] == (40.0, 10.0)
    assert SELECTED not in at.session_state


def test_map_click_reaches_the_new_listing_form():
    """The listings panel's 'new entry' form shows the place clicked on the map."""
    at = start()
    at.session_state["dk_map_click"] = (52.1401, 12.5952)
    at.session_state[KEY_TAB] = "Lokale Angebote"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("52.14010, 12.59520" in i.value for i in at.info)


def _sidebar_state_script() -> None:
    import streamlit as st

    from dorfkarte.ui.page import initial_sidebar_state

    st.session_state["sidebar"] = initial_sidebar_state()


def test_demo_query_parameter_folds_the_sidebar_away():
    at = AppTest.from_function(_sidebar_state_script)
    at.query_params["demo"] = "1"
    at.run()
    assert at.session_state["sidebar"] == "collapsed"
    at = AppTest.from_function(_sidebar_state_script).run()
    assert at.session_state["sidebar"] == "expanded"


def load_region_from_env() -> Region:
    import os

    from dorfkarte.region import load_region

    return load_region(os.environ["DORFKARTE_REGION"])


def test_data_status_counts_units_in_the_page_language():
    """The status tab counts the units from the data ("27 Ortsteile + 2 Kernorte"), not the
    region file's German label, and follows the language switch."""
    at = start()
    at.session_state[KEY_TAB] = "Datenstand"
    at.run()
    assert "27 Ortsteile + 2 Kernorte" in " ".join(m.value for m in at.markdown)
    at.sidebar.radio(key=KEY_LANG).set_value("en").run()
    at.session_state[KEY_TAB] = "Data status"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    text = " ".join(m.value for m in at.markdown)
    assert "27 villages + 2 main places" in text and "Ortsteile" not in text


def _in_order(node) -> list:
    """The elements under ``node`` in page order (AppTest keeps the delta paths' order)."""
    out = []
    for child in getattr(node, "children", {}).values():
        out.append(child)
        out.extend(_in_order(child))
    return out


def test_headline_stands_above_the_map_though_it_is_filled_after_it():
    """page.main sends the map first (a slider step's answer) and fills the headline's
    container afterwards; on the page the figures still stand above the map."""
    at = start()
    tab = next(tb for tb in at.tabs if tb.label == "Karte")
    order = [getattr(el, "type", "") for el in _in_order(tab)]
    kinds = [("headline" if getattr(el, "type", "") == "markdown"
              and str(el.value).startswith("#### ") else getattr(el, "type", ""))
             for el in _in_order(tab)]
    assert "component_instance" in order and "metric" in order
    assert kinds.index("headline") < kinds.index("component_instance")
    assert order.index("metric") < order.index("component_instance")


def test_the_repo_config_turns_off_the_full_collection_after_every_run():
    """``streamlit run app.py`` reads ``.streamlit/config.toml``: static serving (Leaflet
    offline) on, and no ``gc.collect(2)`` after each script run (a slider step's time)."""
    import tomllib

    cfg = tomllib.loads((Path(APP).parent / ".streamlit" / "config.toml").read_text("utf-8"))
    assert cfg["server"]["enableStaticServing"] is True
    assert cfg["runner"]["postScriptGC"] is False


def test_threshold_sliders_stand_in_the_map_tab_and_the_overview_follows_them(
        region: Region, _isolated_data_dir: Path):
    """The sliders moved from the sidebar into the map tab (its fragment); the overview
    draws the same sliders and ranks with the value set above the map."""
    result = analyse(open_snapshot(region, _isolated_data_dir), region)
    strict = result.with_thresholds({("haltestelle", "walk"): 3.0})
    key = thr_key("haltestelle", "walk")
    at = start()
    assert not [s for s in at.sidebar.slider if s.key == key]
    tab = next(tb for tb in at.tabs if tb.label == "Karte")
    assert [s for s in _in_order(tab) if getattr(s, "key", None) == key]
    at.slider(key=key).set_value(3.0).run()
    at.session_state[KEY_TAB] = "Übersicht"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.slider(key=key).value == 3.0
    ranking = table_with(at, "Rang")
    assert (ranking["Klasse"] == "Lücke").sum() == gap_count(strict, "haltestelle", "walk")


def test_another_unit_in_the_profile_box_updates_what_is_drawn_below_the_fragment():
    """Nearest providers and connections are drawn by the full run (below the map tab's
    fragment): choosing another unit in the profile's box reruns the page, so they follow."""
    from dorfkarte.ui.state import SELECTED

    def providers_caption(at: AppTest) -> list[str]:
        return [c.value for c in at.caption if "(ab " in c.value]

    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state[SELECTED] = "Lütte"
    at.run()
    before = providers_caption(at)
    at.selectbox(key=SELECTED).set_value("Jeserigerhütten").run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(h.value == "Jeserigerhütten" for h in at.subheader)
    assert before and providers_caption(at) and providers_caption(at) != before


def test_reset_button_puts_every_threshold_back(region: Region, _isolated_data_dir: Path):
    """"Schwellen zurücksetzen" (in the open "Weitere Schwellen" expander, now above the map)
    puts the chosen category's and the other categories' sliders back to the region's."""
    from dorfkarte.ui.state import KEY_MORE_THRESHOLDS

    defaults = analyse(open_snapshot(region, _isolated_data_dir), region).thresholds
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state[KEY_MORE_THRESHOLDS] = True  # the expander open
    at.run()
    at.slider(key=thr_key("lebensmittel", "walk")).set_value(5.0).run()
    at.slider(key=thr_key("haltestelle", "walk")).set_value(3.0).run()
    assert at.slider(key=thr_key("lebensmittel", "walk")).value == 5.0
    next(b for b in at.button if b.key == "dk_thr_reset").click().run()
    assert not at.exception, [e.message for e in at.exception]
    for cid in ("lebensmittel", "haltestelle"):
        assert at.slider(key=thr_key(cid, "walk")).value == defaults[(cid, "walk")]
