"""dorfkarte.views as plain functions (no Streamlit): one answer per question.

Most tests use a hand-made indicator table (a stand-in result with just the fields the
views read), so each expected order is worked out by hand; the last ones run the real
analysis on the shipped data and check that every front-end names the same worst unit.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from dorfkarte import story, views
from dorfkarte.coverage import analyse
from dorfkarte.region import Region
from dorfkarte.workspace import Workspace

INF = math.inf


def _row(district: str, category: str, mode: str, gap: str, share: float, pop: float,
         within: float, median: float, weight: float = np.nan, **kw: object) -> dict:
    return {"district": district, "municipality": kw.get("municipality", "M"),
            "kind": "ortsteil", "category": category, "category_label": category,
            "mode": mode, "population": pop, "n_origins": 1, "median": median, "p90": median,
            "max": median, "unit": "m" if mode == "transit" else "min", "threshold": 10.0,
            "share_within": share, "residents_within": within, "gap_class": gap,
            "nearest_name": kw.get("nearest", f"near {district}"), "nearest_source": "osm",
            "unreachable_share": 0.0, "method": "network", "nearest_weight": weight}


def fake_result(rows: list[dict], categories: list[str],
                destinations: dict[str, int] | None = None) -> SimpleNamespace:
    ind = pd.DataFrame(rows)
    pairs = {(r["category"], r["mode"]) for r in rows}
    dests = {c: gpd.GeoDataFrame({"name": [f"{c}{i}" for i in range(n)],
                                  "source": ["osm"] * n},
                                 geometry=[shapely.Point(12.5 + i / 100, 52.1)
                                           for i in range(n)], crs="EPSG:4326")
             for c, n in (destinations or {}).items()}
    return SimpleNamespace(indicators=ind, times=dict.fromkeys(pairs, None),
                           thresholds=dict.fromkeys(pairs, 10.0), categories=categories,
                           destinations=dests)


def world() -> SimpleNamespace:
    """Four units for shops on foot; worked out by hand:

    - Ahof: gap, 20 % within, 80 of 100 residents beyond
    - Bdorf: gap, 20 % within, 160 of 200 beyond  -> worse than Ahof (more beyond)
    - Cstadt: tight, 60 %
    - Dfeld: ok, 100 %
    - Eheide: no data (NaN share): never "worst"
    """
    rows = [
        _row("Ahof", "shop", "walk", "gap", 0.2, 100, 20, 25),
        _row("Bdorf", "shop", "walk", "gap", 0.2, 200, 40, 30),
        _row("Cstadt", "shop", "walk", "tight", 0.6, 50, 30, 12),
        _row("Dfeld", "shop", "walk", "ok", 1.0, 80, 80, 4),
        _row("Eheide", "shop", "walk", "no_data", np.nan, 10, np.nan, np.nan),
        _row("Ahof", "gp", "walk", "ok", 1.0, 100, 100, 5),
        _row("Bdorf", "gp", "walk", "gap", 0.0, 200, 0, INF),
        _row("Cstadt", "gp", "walk", "ok", 1.0, 50, 50, 3),
        _row("Dfeld", "gp", "walk", "tight", 0.7, 80, 56, 11),
        _row("Eheide", "gp", "walk", "ok", 1.0, 10, 10, 2),
    ]
    return fake_result(rows, ["shop", "gp"], {"shop": 3, "gp": 2})


def test_ranking_orders_worst_first() -> None:
    rank = views.ranking(world(), "shop", "walk")
    assert list(rank["district"]) == ["Bdorf", "Ahof", "Cstadt", "Dfeld", "Eheide"]
    assert list(rank["rank"]) == [1, 2, 3, 4, 5]
    assert list(rank["residents_outside"].iloc[:4]) == [160, 80, 20, 0]


def test_ranking_ties_all_served_by_weakest_stop_then_longest_trip() -> None:
    rows = [_row("A", "stop", "transit", "ok", 1.0, 10, 10, 300, weight=50),
            _row("B", "stop", "transit", "ok", 1.0, 10, 10, 200, weight=20),
            _row("C", "stop", "transit", "ok", 1.0, 10, 10, 600, weight=20),
            _row("D", "stop", "transit", "ok", 1.0, 10, 10, 900, weight=np.nan)]
    rank = views.ranking(fake_result(rows, ["stop"]), "stop", "transit")
    # weight 20 first (C has the longer trip), then 50, unknown weight last
    assert list(rank["district"]) == ["C", "B", "A", "D"]


def test_worst_unit_skips_no_data_and_none_without_data() -> None:
    assert views.worst_unit(world(), "shop", "walk") == "Bdorf"
    assert views.worst_unit(world(), "gp", "walk") == "Bdorf"
    assert views.worst_unit(None, "shop", "walk") is None
    rows = [_row("A", "x", "walk", "no_data", np.nan, 10, np.nan, np.nan)]
    assert views.worst_unit(fake_result(rows, ["x"]), "x", "walk") is None
    assert views.worst_unit(world(), "shop", "bike") is None  # pair not analysed


def test_headline_figures() -> None:
    fig = views.headline_figures(world(), "shop", "walk")
    assert (fig.n_units, fig.n_gap, fig.n_tight, fig.n_no_data) == (5, 2, 1, 1)
    assert fig.residents_outside == 160 + 80 + 20 + 0  # no-data unit: unknown, not counted
    assert fig.n_services == 3 and fig.threshold == 10.0 and fig.unit == "min"
    assert fig.worst == "Bdorf" and not fig.all_no_data


def test_gap_matrix_counts_per_unit() -> None:
    region = SimpleNamespace(categories={"shop": None, "gp": None})
    m = views.gap_matrix(world(), region, "walk")
    assert list(m.columns) == ["district", "municipality", "population", "gaps", "tight",
                               "data_edge", "shop", "gp"]
    assert not m["data_edge"].any()  # the result names no unit at the data's edge
    assert m["district"].iloc[0] == "Bdorf"  # two gaps
    b = m.set_index("district")
    assert b.loc["Bdorf", "gaps"] == 2 and b.loc["Dfeld", "tight"] == 1
    assert b.loc["Eheide", "shop"] == "no_data" and b.loc["Eheide", "gaps"] == 0


def test_categories_with_data() -> None:
    rows = [_row("A", "x", "walk", "no_data", np.nan, 10, np.nan, np.nan),
            _row("A", "y", "walk", "ok", 1.0, 10, 10, 1)]
    res = fake_result(rows, ["x", "y"])
    assert views.categories_with_data(res) == ["y"]
    assert views.categories_with_data(res, "bike") == []


def test_unit_profile_rows_and_missing() -> None:
    region = SimpleNamespace(categories={"gp": None, "shop": None})  # region order
    rows = [r for r in world().indicators.to_dict("records")]
    rows.append(_row("Bdorf", "shop", "bike", "ok", 1.0, 200, 200, 6))
    prof = views.unit_profile(fake_result(rows, ["shop", "gp"]), region, "Bdorf", "walk")
    assert list(prof.rows["category"]) == ["gp", "shop"]
    assert [c for c, _ in prof.missing] == ["gp", "shop"]
    shop = dict(prof.missing)["shop"]
    assert list(shop["mode"]) == ["walk", "bike"]  # every analysed mode, in mode order


def test_nearest_providers_from_the_same_origins(region: Region, tmp_path: Path) -> None:
    """Issue 14 item 3: the km is measured from the unit's origins to the provider they
    reach first (the one named beside the time), not from a centroid."""
    from dorfkarte.coverage import point_xy

    ws = Workspace(region, tmp_path)
    res = ws.result(categories=["haltestelle"], modes=["walk"])
    districts = ws.snapshot.get("districts")
    name = str(districts["name"].iloc[0])
    near = views.nearest_providers(res, region, districts, name, "walk")
    assert list(near["category"]) == list(region.categories)
    row = near.set_index("category").loc["haltestelle"]
    ind = res.indicators
    first = ind[(ind["district"] == name) & (ind["category"] == "haltestelle")
                & (ind["mode"] == "walk")]["nearest_name"].iloc[0]
    assert row["nearest_name"] == row["first_reached"] == first
    # brute force: the residents-weighted median straight line from the unit's origins
    # that reach the named stop first, to that stop
    from dorfkarte.coverage import weighted_quantile

    dest = res.destinations["haltestelle"]
    j = res.nearest[("haltestelle", "walk")]
    names = dest["name"].astype(str).to_numpy()
    sel = np.flatnonzero((res.origins["district"].to_numpy() == name) & (j >= 0))
    sel = sel[names[j[sel]] == first]
    assert len(sel)
    dxy = point_xy(dest, region.crs)[j[sel]]
    d = np.hypot(*(dxy - res.origin_xy[sel]).T)
    want = weighted_quantile(d, res.origin_weights[sel], 0.5) / 1000
    assert row["km"] == pytest.approx(want)
    assert math.isnan(near.set_index("category").loc["lebensmittel", "km"])  # no data


def test_one_worst_unit_for_headline_overview_profile_and_demo(region: Region,
                                                               tmp_path: Path) -> None:
    """The headline, overview, profile and demo name the same worst-served unit."""
    from dorfkarte.ui.overview import ranking as overview_ranking
    from dorfkarte.ui.profile import worst_unit as profile_worst

    ws = Workspace(region, tmp_path)
    for thresholds in ({}, {("haltestelle", "walk"): 3.0}, {("haltestelle", "transit"): 300.0}):
        res = ws.result(thresholds=thresholds)
        for mode in ("walk", "transit"):
            headline = views.headline_figures(res, "haltestelle", mode).worst
            overview = str(overview_ranking(res, "haltestelle", mode)["district"].iloc[0])
            profile = profile_worst(res, "haltestelle", mode)
            demo = str(story.focus_ranking(res, "haltestelle", mode)["district"].iloc[0])
            assert headline == overview == profile == demo, (thresholds, mode)
    # and the strict threshold really changes who is worst-served somewhere
    strict = ws.result(thresholds={("haltestelle", "walk"): 3.0})
    assert views.headline_figures(strict, "haltestelle", "walk").n_gap > 0


def test_views_match_the_analysis(region: Region, tmp_path: Path) -> None:
    """Headline counts equal the indicator table's (real analysis, embedded data)."""
    res = analyse(Workspace(region, tmp_path).snapshot, region)
    ind = res.indicators
    sub = ind[(ind["category"] == "haltestelle") & (ind["mode"] == "walk")]
    fig = views.headline_figures(res, "haltestelle", "walk")
    assert fig.n_gap == int((sub["gap_class"] == "gap").sum())
    assert fig.n_units == len(sub) == 29
    assert fig.n_services == len(res.destinations["haltestelle"])


def test_headline_unknown_residents_are_not_zero(region: Region, tmp_path: Path) -> None:
    """Issue 14 item 4: with every population unknown, residents beyond the threshold are
    unknown (NaN), not 0; with some unknown, they are counted apart."""
    from dataclasses import replace

    ws = Workspace(region, tmp_path)
    res = ws.result(categories=["haltestelle"], modes=["walk"],
                    thresholds={("haltestelle", "walk"): 3.0})
    fig = views.headline_figures(res, "haltestelle", "walk")
    rows = res.indicators[(res.indicators["category"] == "haltestelle")
                          & (res.indicators["mode"] == "walk")]
    assert fig.residents_outside > 0
    # the shipped data lacks a population for some units: they are counted apart
    assert fig.n_unknown_residents == int(rows["population"].isna().sum())
    ind = res.indicators.copy()
    ind["population"] = np.nan
    ind["residents_within"] = np.nan
    unknown = views.headline_figures(replace(res, indicators=ind), "haltestelle", "walk")
    assert math.isnan(unknown.residents_outside)
    assert unknown.n_unknown_residents == unknown.n_units - unknown.n_no_data
    ind2 = res.indicators.copy()
    known = ind2.index[(ind2["category"] == "haltestelle") & ind2["population"].notna()]
    ind2.loc[known[0], ["population", "residents_within"]] = np.nan
    part = views.headline_figures(replace(res, indicators=ind2), "haltestelle", "walk")
    assert part.n_unknown_residents == fig.n_unknown_residents + 1
    assert part.residents_outside == part.residents_outside  # still a (partial) number
