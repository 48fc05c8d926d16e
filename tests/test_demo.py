"""Demo mode: the guided sequence runs on the embedded data alone, offline maps only."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dorfkarte.export import external_refs


def demo_script() -> None:
    """Runs inside AppTest: the demo panel on the shipped data (no OSM snapshot)."""
    import os
    from pathlib import Path

    import streamlit as st

    from dorfkarte.region import load_region
    from dorfkarte.settings import default_region_path
    from dorfkarte.ui.context import UIContext
    from dorfkarte.ui.demo import render_demo
    from dorfkarte.workspace import open_snapshot

    region = load_region(default_region_path())
    data_dir = Path(os.environ["DORFKARTE_DATA"])
    snap = open_snapshot(region, data_dir)
    st.set_page_config(layout="wide")
    render_demo(UIContext(region=region, data_dir=data_dir, snapshot=snap,
                          lang=st.session_state.get("test_lang", "de")))


def iframe_docs(at: AppTest) -> list[str]:
    """The srcdoc of every components.html iframe on the page."""
    return [el.proto.srcdoc for el in at.get("iframe")]


def headers(at: AppTest) -> list[str]:
    return [h.value for h in at.header]


def click_next(at: AppTest) -> None:
    at.button(key="demo_next").click().run(timeout=120)
    assert not at.exception, at.exception


@pytest.mark.timeout(300)
def test_demo_sequence_offline() -> None:
    at = AppTest.from_function(demo_script, default_timeout=120)
    at.run()
    assert not at.exception, at.exception

    # 1 Overview: 29 units, figures, one offline map.
    assert headers(at)[0] == "29 Ortsteile: wo fehlt Daseinsvorsorge?"
    labels = [m.label for m in at.metric]
    assert labels[0] == "Ortsteile" and at.metric[0].value == "29"
    docs = iframe_docs(at)
    assert len(docs) == 1 and "leaflet-container" in docs[0] or "L.map(" in docs[0]
    assert external_refs(docs[0]) == []
    assert "tile.openstreetmap.org" not in docs[0]
    assert any("keine Daten" in c.value for c in at.caption)  # embedded-data note

    # 2 Gaps of the category with data (stops only on embedded data).
    click_next(at)
    assert "Bus / Bahn" in headers(at)[0]
    assert any(t.value.startswith("Am schlechtesten versorgt") for t in at.markdown)
    docs = iframe_docs(at)
    assert len(docs) == 1 and external_refs(docs[0]) == []

    # 3 One Ortsteil's profile: the worst one by default, highlighted, with its table.
    click_next(at)
    unit = at.selectbox(key="demo_unit").value
    assert headers(at)[0].startswith(f"{unit}:")
    table = at.table[0].value
    assert "Bus / Bahn" in list(table.index)
    assert list(table.columns) == ["Median", "Anteil innerhalb", "Bewertung", "Nächstes Angebot"]
    assert len(iframe_docs(at)) == 1

    # 4 Scenario: an example service at that unit's centre; the gap closes there.
    click_next(at)
    assert headers(at)[0] == f"Was wäre, wenn Bus / Bahn nach {unit} käme?"
    assert any("Beispiel-Szenario" in t.value for t in at.markdown)
    share = at.metric[0]
    assert share.value == "100%"
    gaps = at.metric[1]
    # a new service never adds gaps (on the shipped data there may be none to close)
    assert int(gaps.value) >= 0 and gaps.delta is not None and int(str(gaps.delta)) <= 0
    doc = iframe_docs(at)[0]
    assert "Beispiel: neues Angebot Bus / Bahn" in doc.replace("\\u0026", "&") or \
        "Szenario" in doc
    assert external_refs(doc) == []

    # Back to the start.
    at.button(key="demo_restart").click().run(timeout=120)
    assert headers(at)[0] == "29 Ortsteile: wo fehlt Daseinsvorsorge?"


def test_demo_english() -> None:
    at = AppTest.from_function(demo_script, default_timeout=120)
    at.session_state["test_lang"] = "en"
    at.run()
    assert not at.exception, at.exception
    assert headers(at)[0].startswith("29 villages")
    assert at.button(key="demo_next").label == "Next ▶"


def test_scenario_keeps_the_apps_threshold(tmp_path, region) -> None:
    """Before and after are compared at the same (slider) threshold."""
    from dorfkarte import coverage
    from dorfkarte.ui.context import UIContext
    from dorfkarte.ui.demo import ranking, run_scenario
    from dorfkarte.workspace import open_snapshot

    snap = open_snapshot(region, tmp_path)
    base = coverage.analyse(snap, region, categories=["haltestelle"], modes=["walk"])
    strict = base.with_thresholds({("haltestelle", "walk"): 1.0})  # 1 minute
    ctx = UIContext(region=region, data_dir=tmp_path, snapshot=snap, result=strict)
    worst = str(ranking(strict, "haltestelle", "walk")["district"].iloc[0])
    sc = run_scenario(ctx, strict, "haltestelle", "walk", worst)
    assert sc["after"].thresholds[("haltestelle", "walk")] == 1.0
    assert sc["share_after"] == 1.0  # the new stop is at the origin: 0 min
    assert sc["gaps_after"] == sc["gaps_before"] - 1
    assert list(sc["points"]["source"]) == ["scenario"]


def test_scenario_is_an_incremental_what_if(tmp_path, region) -> None:
    """The demo's scenario step changes the shown result incrementally (no new analysis):
    other categories stay as they were, the new point is in the after-state."""
    from dorfkarte import coverage
    from dorfkarte.ui.context import UIContext
    from dorfkarte.ui.demo import run_scenario
    from dorfkarte.workspace import open_snapshot

    snap = open_snapshot(region, tmp_path)
    base = coverage.analyse(snap, region, categories=["haltestelle", "lebensmittel"],
                            modes=["walk"])
    strict = base.with_thresholds({("haltestelle", "walk"): 1.0})
    ctx = UIContext(region=region, data_dir=tmp_path, snapshot=snap, result=strict)
    n_before = len(strict.destinations["haltestelle"])
    sc = run_scenario(ctx, strict, "haltestelle", "walk", "Lütte")
    after = sc["after"]
    assert len(after.destinations["haltestelle"]) == n_before + 1
    assert len(strict.destinations["haltestelle"]) == n_before  # the shown result is kept
    assert after.times[("lebensmittel", "walk")] is strict.times[("lebensmittel", "walk")]
    assert "ms" in sc  # the what-if reports its own time
