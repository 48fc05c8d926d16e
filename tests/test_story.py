"""The demo's story (``dorfkarte.story``) as plain functions: each step's text says what its
own map shows.

For every step the unit named in the text is the one its map highlights and the worst of
that map's view (:mod:`dorfkarte.views`), and the figures in the text are the view's
figures (same result, category, mode and threshold). Two data states: the embedded data (no
gap anywhere: the story closes a stop) and the synthetic OSM snapshot (real gaps: the story
adds an example service).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dorfkarte import coverage, fmt, story, views
from dorfkarte.enums import GapClass, Mode
from dorfkarte.i18n import category_label, join_list, mode_label
from dorfkarte.region import Region
from dorfkarte.workspace import open_snapshot

APP_MODE = "walk"


def _gap_count(rank: pd.DataFrame) -> int:
    return int((rank["gap_class"] == GapClass.GAP).sum())


def _row(result: coverage.CoverageResult, spec: story.StepMap, name: str) -> pd.Series:
    return views.ranking(result, str(spec.category), spec.mode).set_index("district").loc[name]


def _walk(result: coverage.CoverageResult, snap, region: Region, lang: str,
          name: str | None) -> dict:
    """The story as the demo tells it (the app's mode: walking); by default on the first
    of the Ortsteile offered, else on the one the presenter picked."""
    cid = story.pick_category(result, None, APP_MODE)
    mode = story.demo_mode(result, cid, APP_MODE)
    name = name or story.focus_names(result, cid, mode)[0]
    kind = story.scenario_kind(result, cid, mode, name)
    return {
        "cid": cid, "mode": mode, "name": name, "kind": kind,
        "overview": story.overview(result, APP_MODE),
        "gaps": story.gaps(result, region, cid, mode),
        "profile": story.profile(result, cid, mode, name, APP_MODE),
        "scenario": (story.run_scenario(result, region, cid, mode, name, lang) if kind == "add"
                     else story.run_closure(result, snap, region, cid, mode, name, lang)),
    }


def check_story(result: coverage.CoverageResult, snap, region: Region, lang: str,
                name: str | None = None) -> dict:
    s = _walk(result, snap, region, lang, name)
    picked = name is not None
    cid, mode, name = s["cid"], s["mode"], s["name"]

    # 1 overview: gaps over every category with data in the overview's own mode
    ov = s["overview"]
    assert ov.map.result is result and ov.map.mode == ov.mode and ov.map.highlight is None
    expected = sum(_gap_count(views.ranking(result, c, ov.mode))
                   for c in views.categories_with_data(result) if (c, ov.mode) in result.times)
    assert ov.n_gaps == expected
    assert ov.n_units == len(result.districts)
    kinds = result.districts["kind"].astype(str)
    n_k = int((kinds == "kernort").sum())
    assert ov.n_kernorte == n_k
    units = ov.units_text(lang)
    word = {"de": ("Ortsteile", "Kernorte"), "en": ("villages", "main places")}[lang]
    assert units.startswith(f"{ov.n_units - n_k} {word[0]}")
    assert (f"+ {n_k} {word[1]}" in units) == (n_k > 1)

    # 2 one category's gaps: the headline's figures are the map's view
    g = s["gaps"]
    spec = g.map
    assert (spec.category, spec.mode, spec.indicator) == (cid, mode, g.indicator)
    assert spec.result is result and spec.highlight is None
    rank = views.ranking(spec.result, cid, mode)
    assert g.n_gap == _gap_count(rank) and len(g.ranking) == len(rank)
    head = g.head(region, lang)
    assert head.startswith(category_label(region.category(cid), lang))
    assert mode_label(mode, lang) in head
    thr = spec.result.thresholds[(cid, mode)]
    assert fmt.threshold(thr, "m" if mode == Mode.TRANSIT else "min", lang) in head
    if g.n_gap:
        assert f" {fmt.integer(g.n_gap, lang)} " in head
        assert fmt.integer(len(rank), lang) in head
        assert g.worst[0] == views.worst_unit(spec.result, cid, mode)
        assert g.worst_text(lang).endswith(
            join_list([str(x) for x in rank["district"].head(5)], lang))

    # 3 the profile: the unit named is the one highlighted, the worst of the map's view
    p = s["profile"]
    assert p.name == s["name"] == p.map.highlight
    if not picked:  # the default: the worst of the map's view
        assert p.name == views.worst_unit(p.map.result, cid, mode)
    name = p.name
    assert (p.map.category, p.map.mode) == (cid, mode) and p.map.result is result
    d = result.districts.set_index("name")
    pop = pd.to_numeric(pd.Series([d.at[name, "population"]]), errors="coerce").iloc[0]
    assert p.head(lang).startswith(f"{name}: {fmt.integer(pop, lang)} ")
    label = category_label(region.category(cid), lang) + (
        f" ({mode_label(mode, lang)})" if mode == Mode.TRANSIT else "")
    shown = p.table(region, lang).loc[label]
    row = _row(p.map.result, p.map, name)
    share = float(row["share_within"])
    assert shown.iloc[1] == (fmt.share(share, lang) if math.isfinite(share) else fmt.DASH)
    assert shown.iloc[0] == fmt.value(row["median"], str(row["unit"]), lang)

    # 4 the scenario: figures before from the shown result, after from the map's result
    sc = s["scenario"]
    assert sc is not None and sc.map is not None
    assert sc.map.highlight == name and (sc.map.category, sc.map.mode) == (cid, mode)
    assert sc.map.extra_points is sc.points and bool(sc.points["example"].all())
    after = views.ranking(sc.map.result, cid, mode)
    after_row = after.set_index("district").loc[name]
    before_row = _row(result, sc.map, name)
    assert sc.gaps_after == _gap_count(after)
    assert sc.gaps_before == _gap_count(views.ranking(result, cid, mode))
    assert np.isclose(sc.share_before, float(before_row["share_within"]), equal_nan=True)
    assert np.isclose(sc.share_after, float(after_row["share_within"]), equal_nan=True)
    if s["kind"] == "add":
        assert sc.map.result is sc.after
        gain = (np.nansum(after["residents_within"].to_numpy(dtype=float))
                - np.nansum(views.ranking(result, cid, mode)["residents_within"]
                            .to_numpy(dtype=float)))
        assert np.isclose(sc.gain, gain)
    else:
        assert len(sc.map.result.destinations[cid]) == len(result.destinations[cid]) - 1
        assert sc.map.snapshot is sc.snapshot
        assert np.isclose(sc.median_after, float(after_row["median"]), equal_nan=True)
        assert np.isclose(sc.median_before, float(before_row["median"]), equal_nan=True)
        assert sc.next_after == str(after_row["nearest_name"] or "")
        text = sc.losers_text(lang)
        if sc.losers:
            assert sc.losers[0][0] == name  # the unit the step is about loses most
            assert text.endswith(join_list(
                [f"{u} ({fmt.integer(v, lang)})" for u, v in sc.losers], lang))
    return s


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory, region: Region):
    snap = open_snapshot(region, tmp_path_factory.mktemp("embedded"))
    return snap, coverage.analyse(snap, region, categories=["haltestelle", "lebensmittel"])


@pytest.mark.parametrize("lang", ["de", "en"])
def test_story_embedded_text_matches_map(embedded, region: Region, lang: str) -> None:
    snap, result = embedded
    s = check_story(result, snap, region, lang)
    # no gap anywhere with the embedded data, but residents of the worst unit live beyond
    # 1,000 m of a stop: the story brings a stop there
    assert s["cid"] == "haltestelle" and s["mode"] == Mode.TRANSIT
    assert s["kind"] == "add" and s["gaps"].n_gap == 0
    # a unit with everybody in reach: the story shows what closing its stop would cost
    full = [n for n in story.focus_names(result, "haltestelle", Mode.TRANSIT)
            if story.scenario_kind(result, "haltestelle", Mode.TRANSIT, n) == "remove"]
    assert full
    losing = None
    for n in full:
        c = check_story(result, snap, region, lang, name=n)
        assert c["kind"] == "remove"
        if c["scenario"].lost > 0:
            losing = c
            break
    assert losing is not None and losing["scenario"].losers


@pytest.mark.timeout(300)
def test_story_with_gaps_text_matches_map(tmp_path: Path, region: Region) -> None:
    """Synthetic OSM test data (real gaps): the gaps step names the worst units, the
    scenario adds an example service where the profile's unit is."""
    from osmfixtures import build_test_snapshot

    build_test_snapshot(tmp_path)
    snap = open_snapshot(region, tmp_path)
    result = coverage.analyse(snap, region, categories=["lebensmittel", "hausarzt",
                                                        "haltestelle"])
    s = check_story(result, snap, region, "de")
    assert s["gaps"].n_gap > 0 and s["kind"] == "add"
    assert s["name"] in s["gaps"].worst_text("de")


def test_every_unit_choice_highlights_that_unit(embedded, region: Region) -> None:
    """Whichever Ortsteil the presenter picks, the profile's text and map name it."""
    _snap, result = embedded
    names = story.focus_names(result, "haltestelle", Mode.TRANSIT)
    assert sorted(names) == sorted(result.districts["name"].astype(str))
    for name in names:
        p = story.profile(result, "haltestelle", Mode.TRANSIT, name, APP_MODE)
        assert p.map.highlight == name and p.head("en").startswith(f"{name}: ")


def test_unit_kinds_and_lists_follow_the_language() -> None:
    assert join_list(["A", "B", "C"], "de") == "A, B und C"
    assert join_list(["A", "B", "C"], "en") == "A, B and C"
    assert join_list(["A"], "en") == "A" and join_list([], "de") == ""
    ov = story.OverviewStep(n_units=29, population=1.0, population_missing=[], mode="walk",
                            n_gaps=0, n_services=0, map=None, n_kernorte=2)  # type: ignore[arg-type]
    assert ov.units_text("de") == "27 Ortsteile + 2 Kernorte"
    assert ov.units_text("en") == "27 villages + 2 main places"
    one = story.OverviewStep(n_units=2, population=1.0, population_missing=[], mode="walk",
                             n_gaps=0, n_services=0, map=None, n_kernorte=1)  # type: ignore[arg-type]
    assert one.units_text("de") == "1 Ortsteil + 1 Kernort"
    assert one.units_text("en") == "1 village + 1 main place"


def test_village_without_a_published_figure_reads_unknown() -> None:
    """Unknown residents are "unbekannt" in the village step's headline, never "–" or 0."""
    step = story.ProfileStep(name="X", population=float("nan"), kernort=False,
                             rows=pd.DataFrame(), map=None)  # type: ignore[arg-type]
    assert step.head("de") == "X: Einwohnerzahl unbekannt, Ortsteil"
    assert step.head("en").startswith("X: residents unknown")
    known = story.ProfileStep(name="Y", population=1234.0, kernort=True,
                              rows=pd.DataFrame(), map=None)  # type: ignore[arg-type]
    assert known.head("de").startswith("Y: 1.234 Einwohner")
