"""The Ortsteil profile under the map: cached per view, yet current after every slider move."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import dorfkarte.ui.profile as profile
from dorfkarte.coverage import analyse
from dorfkarte.i18n import gap_label
from dorfkarte.region import Region
from dorfkarte.ui.sidebar import thr_key
from dorfkarte.workspace import open_snapshot

APP = str(Path(__file__).resolve().parents[1] / "app.py")
CATEGORY, MODE, LABEL = "haltestelle", "walk", "Bus / Bahn"


def _flipping_unit(region: Region, data_dir: Path) -> tuple[str, float, str, float, str]:
    """A unit whose bus-stop class changes with a stricter walking threshold (from the data)."""
    result = analyse(open_snapshot(region, data_dir), region)
    default = float(result.thresholds[(CATEGORY, MODE)])
    ind = result.indicators
    for strict in (3.0, 5.0, 2.0, 8.0):
        changed = result.with_thresholds({(CATEGORY, MODE): strict}).indicators
        before = ind[(ind["category"] == CATEGORY) & (ind["mode"] == MODE)].set_index("district")
        after = changed[(changed["category"] == CATEGORY)
                        & (changed["mode"] == MODE)].set_index("district")
        for name in before.index:
            old, new = str(before.loc[name, "gap_class"]), str(after.loc[name, "gap_class"])
            if old != new:
                return str(name), default, old, strict, new
    pytest.fail("no threshold flips any unit's bus-stop class in the shipped data")


def _profile_row(at: AppTest) -> dict[str, str]:
    table = next(d.value for d in at.table if "Klasse" in d.value.columns
                 and "Median" in d.value.columns)
    rows = table[table["Kategorie"] == LABEL]
    assert len(rows) == 1, table
    return {str(k): str(v) for k, v in rows.iloc[0].items()}


def _start(name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["selected_unit"] = name
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_slider_change_updates_the_profile_class(region: Region, _isolated_data_dir: Path):
    name, default, old, strict, new = _flipping_unit(region, _isolated_data_dir)
    at = _start(name)
    assert any(h.value == name for h in at.subheader)
    assert _profile_row(at)["Klasse"] == gap_label(old)

    at.slider(key=thr_key(CATEGORY, MODE)).set_value(strict).run()
    assert not at.exception, [e.message for e in at.exception]
    row = _profile_row(at)
    assert row["Klasse"] == gap_label(new)
    assert row["Schwelle"].startswith(f"{strict:g}")

    # Back to the default: served from the cache, and still the right (old) class.
    at.slider(key=thr_key(CATEGORY, MODE)).set_value(default).run()
    assert not at.exception
    assert _profile_row(at)["Klasse"] == gap_label(old)


def test_profile_is_built_once_per_view(region: Region, _isolated_data_dir: Path,
                                        monkeypatch: pytest.MonkeyPatch):
    name, default, _old, strict, _new = _flipping_unit(region, _isolated_data_dir)
    calls: list[str] = []
    real = profile.profile_table

    def counting(ctx: object, unit: str, prof: object = None):  # noqa: ANN202 - mirrors it
        calls.append(unit)
        return real(ctx, unit, prof)  # type: ignore[arg-type]

    monkeypatch.setattr(profile, "profile_table", counting)
    st.cache_data.clear()
    profile._profile_parts.clear()  # a resource cache (the parts are only read)
    at = _start(name)
    assert calls == [name]
    at.run()  # a rerun without any change (e.g. a map pan) reuses the profile
    assert calls == [name]
    at.slider(key=thr_key(CATEGORY, MODE)).set_value(strict).run()
    assert calls == [name, name]  # a new threshold builds it anew
    at.slider(key=thr_key(CATEGORY, MODE)).set_value(default).run()
    assert calls == [name, name]  # back to a view already seen: cached
    assert not at.exception


@pytest.mark.parametrize("lang", ["de", "en"])
def test_chart_spec_is_valid_vega_lite_for_every_mode(region: Region, _isolated_data_dir: Path,
                                                      lang: str):
    """The app skips Altair's schema check for speed, so it is done here."""
    from dorfkarte.region import MODES
    from dorfkarte.snapshot import DISTRICTS
    from dorfkarte.ui.context import UIContext

    snapshot = open_snapshot(region, _isolated_data_dir)
    result = analyse(snapshot, region).with_thresholds({(CATEGORY, MODE): 3.0})
    names = [str(n) for n in snapshot.get(DISTRICTS)["name"]]
    charts = 0
    for mode in MODES:
        ctx = UIContext(region=region, data_dir=_isolated_data_dir, snapshot=snapshot,
                        lang=lang, mode=mode, result=result)
        for name in names[:3]:
            chart = profile.profile_chart(ctx, name)
            if chart is None:
                continue
            spec = chart.to_dict()  # validates against the Vega-Lite schema
            assert spec == chart.to_dict(validate=False)
            charts += 1
    assert charts > 0


def test_source_columns_show_words_not_machine_values() -> None:
    """'transit' or 'places' in a table a planner reads is a machine value."""
    from dorfkarte.enums import Source
    from dorfkarte.i18n import has_key, source_label

    for s in Source:
        assert has_key(f"source_{s.value}"), s  # a wording in both languages
        assert source_label(s, "de") != s.value or s == Source.OSM
    assert source_label("transit", "de") == "ÖPNV"
    assert source_label(float("nan")) == "" and source_label(None) == ""
    assert source_label("Smart Village App (Bad Belzig)") == "Smart Village App (Bad Belzig)"
