"""AppTest of the scenario panel: a change made in the session alters the indicator table,
and the scenario can be saved and loaded again.

The panel runs in a tiny script (the synthetic world of ``test_scenario.py``, not real
data) so the test does not depend on the full page; ``test_app_wires_scenario_tab`` checks
that the real app shows the panel.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

TESTS = Path(__file__).resolve().parent


def panel_script(tests_dir: str, data_dir: str) -> None:
    from pathlib import Path

    import streamlit as st
    from scenario_world import world  # tests/ is on sys.path (pytest pythonpath)

    from dorfkarte.coverage import analyse
    from dorfkarte.region import load_region
    from dorfkarte.settings import default_region_path
    from dorfkarte.ui.context import UIContext
    from dorfkarte.ui.scenario import render_scenario_panel

    @st.cache_resource
    def setup():  # noqa: ANN202
        region = load_region(default_region_path())
        snap = world()
        return region, snap, analyse(snap, region, categories=["lebensmittel"],
                                     modes=["walk"])

    region, snap, result = setup()
    ctx = UIContext(region=region, data_dir=Path(data_dir), snapshot=snap,
                    category="lebensmittel", mode="walk", result=result)
    render_scenario_panel(ctx)


def _indicators(at: AppTest) -> pd.DataFrame:
    frames = [d.value for d in at.dataframe]
    # the scenario's indicator table: the ranking right after the before/after table
    # (the app's overview tab shows the same kind of ranking for the base result)
    start = next(i for i, f in enumerate(frames) if "Anteil vorher %" in f.columns)
    ind = [f for f in frames[start:] if "Rang" in f.columns]
    assert ind, [list(f.columns) for f in frames]
    return ind[0].reset_index(drop=True)


def test_add_save_load_scenario(tmp_path: Path) -> None:
    import geopandas as gpd
    import shapely
    from scenario_world import STEP, X0, Y0

    at = AppTest.from_function(panel_script, args=(str(TESTS), str(tmp_path)),
                               default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    before = _indicators(at)
    # a click on the map, east of everything (far from the three shops)
    pt = gpd.GeoSeries([shapely.Point(X0 + 14 * STEP, Y0 + 1 * STEP)],
                       crs="EPSG:25833").to_crs(4326).iloc[0]
    at.session_state["dk_map_click"] = (pt.y, pt.x)
    at.run()
    at.text_input(key="dk_scn_add_name").input("Dorfladen Ost (geplant)")
    at.button(key="dk_scn_add_btn").click()
    at.run()
    assert not at.exception, at.exception
    after = _indicators(at)
    assert not after.equals(before)
    changes = [d.value for d in at.dataframe if "ms" in d.value.columns]
    assert changes and "Dorfladen Ost (geplant)" in changes[0].to_string()
    assert any("Übernommen" in s.value for s in at.success)

    at.text_input(key="dk_scn_name").input("Neuer Laden im Osten")
    at.button(key="dk_scn_save").click()
    at.run()
    assert not at.exception, at.exception
    stored = json.loads((tmp_path / "scenarios.json").read_text(encoding="utf-8"))
    assert stored["scenarios"][0]["name"] == "Neuer Laden im Osten"
    assert stored["scenarios"][0]["changes"][0]["action"] == "add"

    at.button(key="dk_scn_reset").click()
    at.run()
    assert _indicators(at).equals(before)

    at.selectbox(key="dk_scn_load_pick").select("Neuer Laden im Osten")
    at.button(key="dk_scn_load").click()
    at.run()
    assert not at.exception, at.exception
    assert _indicators(at).equals(after)


def test_remove_and_suggest_in_panel(tmp_path: Path) -> None:
    at = AppTest.from_function(panel_script, args=(str(TESTS), str(tmp_path)),
                               default_timeout=180)
    at.run()
    before = _indicators(at)
    at.radio(key="dk_scn_what").set_value("remove")
    at.run()
    at.button(key="dk_scn_rm_btn").click()
    at.run()
    assert not at.exception, at.exception
    assert not _indicators(at).equals(before)
    at.selectbox(key="dk_scn_method").select("greedy")
    at.button(key="dk_scn_suggest").click()
    at.run()
    assert not at.exception, at.exception
    table = [d.value for d in at.dataframe if "kumuliert" in d.value.columns]
    # k = 5, but only sites that add residents are proposed; the rest is said in words
    assert table and 1 <= len(table[0]) <= 5
    assert (table[0]["neu versorgt"] > 0).all()
    if len(table[0]) < 5:
        assert any("brächten nichts" in str(w.value) for w in at.warning)
    assert any(str(c.value).startswith("Fuß · Einwohner") for c in at.caption)
    at.selectbox(key="dk_scn_method").select("pmedian")
    at.number_input(key="dk_scn_k").set_value(2)
    at.button(key="dk_scn_suggest").click()
    at.run()
    assert not at.exception, at.exception
    table = [d.value for d in at.dataframe if "kumuliert" in d.value.columns]
    assert len(table[0]) == 2 and "Minuten × Einwohner gespart" in table[0].columns
    at.button(key="dk_scn_take").click()
    at.run()
    changes = [d.value for d in at.dataframe if "ms" in d.value.columns]
    assert len(changes[0]) == 3  # the closure plus the two suggested sites


@pytest.mark.skipif(not (TESTS.parent / "app.py").exists(), reason="app.py fehlt")
def test_app_wires_scenario_tab() -> None:
    from dorfkarte.ui.page import KEY_TAB

    at = AppTest.from_file(str(TESTS.parent / "app.py"), default_timeout=180)
    at.session_state[KEY_TAB] = "Szenarien"  # tabs are lazy: only the open one renders
    at.run()
    assert not at.exception, at.exception
    assert any("Szenarien" in str(h.value) for h in at.subheader)
    at.selectbox(key="dk_scn_category").select("lebensmittel")
    at.run()
    before = _indicators(at)
    # a planned grocery shop near Bad Belzig's centre (a map click; the shipped data
    # has no shops without an OSM snapshot, so every unit says "keine Daten" before)
    at.session_state["dk_map_click"] = (52.14, 12.59)
    at.run()
    at.button(key="dk_scn_add_btn").click()
    at.run()
    assert not at.exception, at.exception
    assert not _indicators(at).equals(before)


def test_panel_in_english(tmp_path: Path) -> None:
    def script(tests_dir: str, data_dir: str) -> None:
        from pathlib import Path

        from scenario_world import world  # tests/ is on sys.path (pytest pythonpath)

        from dorfkarte.coverage import analyse
        from dorfkarte.region import load_region
        from dorfkarte.settings import default_region_path
        from dorfkarte.ui.context import UIContext
        from dorfkarte.ui.scenario import render_scenario_panel

        region = load_region(default_region_path())
        snap = world()
        res = analyse(snap, region, categories=["lebensmittel"], modes=["walk"])
        render_scenario_panel(UIContext(region=region, data_dir=Path(data_dir), snapshot=snap,
                                        lang="en", category="lebensmittel", mode="walk",
                                        result=res))

    at = AppTest.from_function(script, args=(str(TESTS), str(tmp_path)), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert at.subheader[0].value == "Scenarios: what if …?"
    assert at.button(key="dk_scn_add_btn").label == "Add"


def test_change_layer_escapes_names(region) -> None:
    """Names typed by users or taken from OSM end up in map tooltips: escaped."""
    import folium
    import geopandas as gpd
    import shapely
    from scenario_world import CAT, STEP, X0, Y0, world

    from dorfkarte.coverage import analyse
    from dorfkarte.scenario import WhatIf
    from dorfkarte.ui.context import UIContext
    from dorfkarte.ui.scenario import changes_layer

    snap = world()
    res = analyse(snap, region, categories=[CAT], modes=["walk"])
    wi = WhatIf(res)
    pt = gpd.GeoSeries([shapely.Point(X0 + 14 * STEP, Y0 + STEP)], crs="EPSG:25833").to_crs(4326)
    wi.add(CAT, pt.iloc[0].y, pt.iloc[0].x, name="<img src=x onerror=alert(1)>")
    ctx = UIContext(region=region, data_dir=Path("."), snapshot=snap, result=res)
    m = folium.Map()
    changes_layer(ctx, wi, CAT, "walk").add_to(m)
    page = m.get_root().render()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def _bike_view(data_dir: Path) -> AppTest:
    """:func:`view_script` run once, then switched to mode bike."""
    at = AppTest.from_function(view_script, args=(str(TESTS), str(data_dir)),
                               default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    at.radio(key="dk_mode").set_value("bike")
    at.run()
    return at


def view_script(tests_dir: str, data_dir: str) -> None:
    """The panel with a stand-in sidebar: mode from ``dk_mode``, two categories."""
    import sys
    from pathlib import Path

    import streamlit as st

    sys.path.insert(0, tests_dir)
    from scenario_world import world  # noqa: E402

    from dorfkarte.coverage import analyse
    from dorfkarte.region import load_region
    from dorfkarte.settings import default_region_path
    from dorfkarte.ui.context import UIContext
    from dorfkarte.ui.scenario import render_scenario_panel, restore_pending

    @st.cache_resource
    def setup():  # noqa: ANN202
        region = load_region(default_region_path())
        snap = world()
        return region, snap, analyse(snap, region, categories=["lebensmittel", "post"],
                                     modes=["walk", "bike"])

    restore_pending()  # what the page does first in every run
    region, snap, result = setup()
    mode = st.radio("mode", ["walk", "bike"], key="dk_mode")
    ctx = UIContext(region=region, data_dir=Path(data_dir), snapshot=snap,
                    category="lebensmittel", mode=mode, result=result)
    render_scenario_panel(ctx)


def test_load_restores_category_mode_and_name(tmp_path: Path) -> None:
    """Issue 14 item 6: a loaded scenario switches to its category and mode, restores its
    name, and the store keeps created/updated stamps."""
    import geopandas as gpd
    import shapely
    from scenario_world import STEP, X0, Y0

    at = _bike_view(tmp_path)
    pt = gpd.GeoSeries([shapely.Point(X0 + 14 * STEP, Y0 + 1 * STEP)],
                       crs="EPSG:25833").to_crs(4326).iloc[0]
    at.session_state["dk_map_click"] = (pt.y, pt.x)
    at.run()
    at.button(key="dk_scn_add_btn").click()
    at.run()
    at.text_input(key="dk_scn_name").input("Laden Ost, Rad")
    at.button(key="dk_scn_save").click()
    at.run()
    assert not at.exception, at.exception
    stored = json.loads((tmp_path / "scenarios.json").read_text(encoding="utf-8"))
    sc = stored["scenarios"][0]
    assert (sc["category"], sc["mode"]) == ("lebensmittel", "bike")
    assert sc["created"] and sc["updated"]
    # elsewhere: other category, other mode, no name, changes reset
    at.button(key="dk_scn_reset").click()
    at.run()
    at.selectbox(key="dk_scn_category").select("post")
    at.radio(key="dk_mode").set_value("walk")
    at.text_input(key="dk_scn_name").input("")
    at.run()
    assert at.session_state["dk_scn_category"] == "post"
    at.selectbox(key="dk_scn_load_pick").select("Laden Ost, Rad")
    at.button(key="dk_scn_load").click()
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["dk_scn_category"] == "lebensmittel"
    assert at.session_state["dk_mode"] == "bike"
    assert at.text_input(key="dk_scn_name").value == "Laden Ost, Rad"
    assert at.selectbox(key="dk_scn_category").value == "lebensmittel"
    assert at.radio(key="dk_mode").value == "bike"


def test_panel_shows_figures_per_mode_map_and_route(tmp_path: Path) -> None:
    """Issue 14 item 6: "neu versorgt" per mode (never summed over walk and bike), the
    change table for the sidebar's mode with the mode named, the map caption naming its
    colours and mode, and the mobile route's drive between stops with how it was timed."""
    import geopandas as gpd
    import shapely
    from scenario_world import STEP, X0, Y0

    at = _bike_view(tmp_path)
    # mobile stops (before any change): the world has a car network, the drive is on it
    at.button(key="dk_scn_route_btn").click()
    at.run()
    assert not at.exception, at.exception
    route = [d.value for d in at.dataframe if "Fahrzeit nach" in d.value.columns]
    assert route, [list(d.value.columns) for d in at.dataframe]
    r = route[0]
    assert r["Fahrzeit nach"].iloc[0] == "– (erster Halt)"
    assert len(r) >= 2  # two stops in this world: one drive between them
    assert (r["Fahrzeit min"].iloc[1:] > 0).all()
    assert set(r["Fahrzeit nach"].iloc[1:]) == {"Straßennetz"}
    assert any("auf dem Straßennetz (Auto)" in c for c in (str(c.value) for c in at.caption))
    pt = gpd.GeoSeries([shapely.Point(X0 + 14 * STEP, Y0 + 1 * STEP)],
                       crs="EPSG:25833").to_crs(4326).iloc[0]
    at.session_state["dk_map_click"] = (pt.y, pt.x)
    at.run()
    at.button(key="dk_scn_add_btn").click()
    at.run()
    assert not at.exception, at.exception
    msg = [s.value for s in at.success if "Übernommen" in s.value]
    assert msg and "nicht addierbar" in msg[0] and "alle Verkehrsmittel" not in msg[0]
    assert "Fuß \\+" in msg[0] and "Rad \\+" in msg[0]  # markdown-escaped "+"
    changes = [d.value for d in at.dataframe if "ms" in d.value.columns][0]
    assert {"neu versorgt (Rad)", "verlieren (Rad)"} <= set(changes.columns)
    per_mode = changes["je Verkehrsmittel (+ neu / − verlieren)"].iloc[0]
    assert per_mode.startswith("Fuß +") and " · Rad +" in per_mode
    # the bike figure in its own column is the bike part of the per-mode text
    assert f"Rad +{changes['neu versorgt (Rad)'].iloc[0]:,.0f}".replace(",", ".") in per_mode
    caps = [str(c.value) for c in at.caption]
    assert any(c.startswith("Ortsteile und Wohnorte (Rad): grün = Einwohner neu versorgt")
               for c in caps), caps
