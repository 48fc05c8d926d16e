"""What-if engine, suggestions, mobile stops and scenario storage on a tiny synthetic world.

The world (made here, not real data): a 16 x 12 street grid with 200 m spacing in
EPSG:25833, two districts (west/east), homes around two villages, three shops.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scenario_world import CAT, CRS, SRC, STEP, X0, Y0, world
from scenario_world import gdf as _gdf

from dorfkarte import cli, siting
from dorfkarte.coverage import analyse
from dorfkarte.region import Region
from dorfkarte.scenario import (
    Change,
    Scenario,
    ScenarioError,
    ScenarioStore,
    WhatIf,
    candidate_sites,
    candidate_times,
    compare,
    dest_ref,
    mobile_stops,
    origin_changes,
    scenario_geojson,
    suggest,
)
from dorfkarte.snapshot import Snapshot, snapshot_path, write_snapshot


@pytest.fixture()
def base(region: Region) -> tuple[Snapshot, object]:
    snap = world()
    return snap, analyse(snap, region, categories=[CAT, "haltestelle"],
                         modes=["walk", "drive", "transit"])


def _lonlat(snap: Snapshot, k: int) -> tuple[float, float]:
    g = snap.get("amenities").to_crs("EPSG:4326").geometry.iloc[k]
    return float(g.x), float(g.y)


def test_remove_then_undo_restores_exactly(base) -> None:
    _, res = base
    wi = WhatIf(res)
    d = res.destinations[CAT]
    eff = wi.remove(CAT, dest_ref(d, 0))
    assert any(v > 0 for v in eff.lost.values())  # Laden 0 served people on its own
    assert not np.array_equal(wi.result.times[(CAT, "walk")], res.times[(CAT, "walk")])
    assert not wi.result.indicators.equals(res.indicators)
    wi.undo()
    for key in res.times:
        assert np.array_equal(wi.result.times[key], res.times[key], equal_nan=True)
        assert np.array_equal(wi.result.nearest[key], res.nearest[key])
    pd.testing.assert_frame_equal(wi.result.indicators, res.indicators)
    assert wi.changes == []


def test_remove_then_readd_at_same_place_restores_times_exactly(base) -> None:
    snap, res = base
    wi = WhatIf(res)
    for k in range(3):
        wi.remove(CAT, f"shop{k}")
        lon, lat = _lonlat(snap, k)
        wi.add(CAT, lat, lon, name=f"Laden {k} (wieder)")
        for key in [(CAT, "walk"), (CAT, "drive")]:
            assert np.array_equal(wi.result.times[key], res.times[key])
        ind_a = wi.result.indicators.drop(columns=["nearest_name", "nearest_source"])
        ind_b = res.indicators.drop(columns=["nearest_name", "nearest_source"])
        pd.testing.assert_frame_equal(ind_a, ind_b)
    # the base result itself was never modified
    assert len(res.destinations[CAT]) == 3


def test_incremental_equals_full_recompute(base, region: Region) -> None:
    snap, res = base
    kept = {k: v.copy() for k, v in res.times.items()}
    kept_ind = res.indicators.copy()
    wi = WhatIf(res)
    wi.remove(CAT, "shop1")
    new_xy = (X0 + 12 * STEP + 40, Y0 + 8 * STEP - 30)
    pt = gpd.GeoSeries([shapely.Point(*new_xy)], crs=CRS).to_crs("EPSG:4326").iloc[0]
    wi.add(CAT, pt.y, pt.x, name="Dorfladen neu")
    # full analysis of the same situation
    snap2 = world()
    am = snap2.get("amenities")
    snap2.add("amenities", am[am["osm_id"] != "shop1"].reset_index(drop=True), source=SRC)
    extra = gpd.GeoDataFrame({"name": ["Dorfladen neu"], "category": [CAT]},
                             geometry=[pt], crs="EPSG:4326")
    full = analyse(snap2, region, categories=[CAT], modes=["walk", "drive"],
                   extra_destinations=extra)
    for mode in ("walk", "drive"):
        np.testing.assert_allclose(wi.result.times[(CAT, mode)], full.times[(CAT, mode)],
                                   rtol=1e-12, atol=1e-9)
    a = wi.result.indicators
    a = a[a["category"] == CAT].set_index(["mode", "district"]).sort_index()
    b = full.indicators.set_index(["mode", "district"]).sort_index()
    np.testing.assert_allclose(a["share_within"], b.loc[a.index, "share_within"], atol=1e-12)
    assert list(a["gap_class"]) == list(b.loc[a.index, "gap_class"])
    # the base result is never modified
    assert all(np.array_equal(kept[k], res.times[k], equal_nan=True) for k in kept)
    pd.testing.assert_frame_equal(kept_ind, res.indicators)


def test_compare_who_gains_and_loses(base) -> None:
    _, res = base
    wi = WhatIf(res)
    wi.remove(CAT, "shop0")  # Westdorf's shop closes
    diff = compare(res, wi.result, CAT, "walk")
    west = diff[diff["district"] == "Westdorf"].iloc[0]
    total = diff[diff["district"] == "Gesamt"].iloc[0]
    assert west["losing_coverage"] > 0 and west["newly_covered"] == 0
    assert west["share_after"] < west["share_before"]
    assert total["losing_coverage"] == pytest.approx(diff.iloc[:-1]["losing_coverage"].sum())
    # residents crossing the threshold match the indicator change per district
    assert west["residents_before"] - west["residents_after"] == pytest.approx(
        west["losing_coverage"])
    ch = origin_changes(res, wi.result, (CAT, "walk"))
    assert (ch["status"] == -1).all() and len(ch) > 0


def test_add_in_no_data_category(region: Region) -> None:
    snap = world(shops=())
    # OSM was searched (the layer holds a pharmacy) and found no shop: "keine Daten", not
    # "nur lokale Angebote" (that is for categories OSM was never asked about)
    snap.add("amenities", _gdf({"osm_id": ["ph0"], "name": ["Apotheke"],
                                "category": "apotheke", "source": "osm"},
                               [shapely.Point(X0 + 100, Y0 + 100)]), source=SRC)
    res = analyse(snap, region, categories=[CAT], modes=["walk"])
    assert (res.indicators["gap_class"] == "no_data").all()
    wi = WhatIf(res)
    g = gpd.GeoSeries([shapely.Point(X0 + 3 * STEP, Y0 + 3 * STEP)], crs=CRS).to_crs(4326)
    eff = wi.add(CAT, g.iloc[0].y, g.iloc[0].x, name="Erster Laden")
    assert eff.gained["walk"] > 0
    assert np.isfinite(wi.result.times[(CAT, "walk")]).all()
    # OSM was searched: the planned site's reach is a real answer, gaps included
    assert set(wi.result.indicators["gap_class"]) <= {"ok", "tight", "gap"}
    assert "ok" in set(wi.result.indicators["gap_class"])


def test_bad_changes_are_named(base) -> None:
    _, res = base
    wi = WhatIf(res)
    with pytest.raises(ScenarioError, match="nicht \\(mehr\\) vorhanden"):
        wi.remove(CAT, "gibt-es-nicht")
    wi.remove(CAT, "shop2")
    with pytest.raises(ScenarioError, match="schon entfernt"):
        wi.remove(CAT, "shop2")
    with pytest.raises(ScenarioError, match="Feld 'lat'"):
        Change.from_dict({"action": "add", "category": CAT, "lat": "x", "lon": 12})
    with pytest.raises(ScenarioError, match="Feld 'action'"):
        Change.from_dict({"action": "bulldoze", "category": CAT})


def _brute_best(cover: np.ndarray, w: np.ndarray, k: int) -> float:
    return max(float(w[cover[:, list(s)].any(axis=1)].sum())
               for s in itertools.combinations(range(cover.shape[1]), k))


def test_suggest_exact_is_optimal_and_greedy_reports_gap(base, region: Region) -> None:
    snap, res = base
    wi = WhatIf(res)
    wi.remove(CAT, "shop0")
    wi.remove(CAT, "shop1")
    cands = candidate_sites(snap, region, include=("stop", "centre"),
                            districts=res.districts)
    assert set(cands["kind"]) == {"stop", "centre"}
    sg = suggest(wi.result, CAT, "walk", 2, method="exact", candidates=cands)
    assert sg.solution.optimal and sg.greedy is not None
    thr = res.thresholds[(CAT, "walk")]
    demand = siting.uncovered_weights(res._groups.weights, wi.result.times[(CAT, "walk")], thr)
    cover = candidate_times(wi.result, "walk", cands) <= thr
    best = _brute_best(cover, demand, 2)
    assert sg.solution.objective == pytest.approx(best)
    assert sg.greedy.objective <= sg.solution.objective + 1e-9
    assert sg.greedy.gap == pytest.approx(siting.mclp_gap(best, sg.greedy.objective))
    assert list(sg.sites["cumulative"]) == pytest.approx(list(np.cumsum(sg.sites["gain"])))
    # applying the suggestion covers exactly the promised residents
    wi2 = WhatIf(wi.result)
    effects = wi2.apply_all(sg.changes())
    assert sum(e.gained["walk"] for e in effects) == pytest.approx(best)
    pm = suggest(wi.result, CAT, "walk", 2, method="pmedian", candidates=cands)
    assert pm.solution.method == "pmedian" and pm.solution.optimal
    assert pm.greedy.objective >= pm.solution.objective - 1e-6


def test_mobile_stops_respect_budget(base, region: Region) -> None:
    snap, res = base
    wi = WhatIf(res)
    for k in range(3):
        wi.remove(CAT, f"shop{k}")
    cands = candidate_sites(snap, region, include=("stop",))
    df = mobile_stops(wi.result, CAT, cands, budget_min=95, stop_min=30, travel=False)
    assert len(df) == 3  # 3 x 30 min fit into 95
    assert (df["per_minute"].diff().dropna() <= 1e-9).all()
    assert df["minutes_used"].iloc[-1] <= 95
    dft = mobile_stops(wi.result, CAT, cands, budget_min=95, stop_min=30, travel=True)
    assert dft["minutes_used"].iloc[-1] <= 95 and len(dft) <= 3
    assert dft["travel_min"].iloc[0] == 0.0
    with pytest.raises(ScenarioError, match="positiv"):
        mobile_stops(wi.result, CAT, cands, budget_min=0, stop_min=30)


def test_schedule_change_removes_mobile_stop(base, region: Region) -> None:
    import datetime as dt

    snap, res0 = base
    g = gpd.GeoSeries([shapely.Point(X0 + 12 * STEP, Y0 + 8 * STEP)], crs=CRS).to_crs(4326)
    listings = gpd.GeoDataFrame({"id": ["VW-1"], "name": ["Verkaufswagen (Beispiel)"],
                                 "category": [CAT], "kind": ["mobile"],
                                 "opening_hours": ["Tu 10:00-11:00"], "valid_from": [""],
                                 "valid_to": [""]}, geometry=g.to_numpy(), crs="EPSG:4326")
    extra = gpd.GeoDataFrame({"name": ["Verkaufswagen (Beispiel)"], "category": [CAT],
                              "source": ["listing"], "ref": ["VW-1"]},
                             geometry=g.to_numpy(), crs="EPSG:4326")
    res = analyse(snap, region, categories=[CAT], modes=["walk"], extra_destinations=extra)
    tuesday = dt.datetime(2026, 12, 1, 10, 30)
    wi = WhatIf(res, when=tuesday, listings=listings)
    eff = wi.apply(Change("schedule", CAT, ref="VW-1", opening_hours="Th 10:00-11:00"))
    assert "nicht da" in eff.note
    assert not wi.active(CAT)[-1]
    eff2 = wi.apply(Change("schedule", CAT, ref="VW-1", opening_hours="Tu 09:00-12:00"))
    assert "da." in eff2.note and eff2.gained["walk"] == pytest.approx(eff.lost["walk"])
    np.testing.assert_array_equal(wi.result.times[(CAT, "walk")], res.times[(CAT, "walk")])
    with pytest.raises(ScenarioError, match="Zeitplan"):
        wi.apply(Change("schedule", CAT, ref="VW-1", opening_hours="Blah 99"))


def test_store_roundtrip_atomic_and_bad_file(tmp_path: Path, base) -> None:
    _, res = base
    store = ScenarioStore(tmp_path)
    sc = Scenario("Laden Westdorf schließt", [Change("remove", CAT, ref="shop0"),
                                              Change("add", CAT, name="Neu", lat=52.2,
                                                     lon=12.6, kind="map")], note="Test")
    saved = store.save(sc)
    assert saved.created and saved.updated
    again = store.get("Laden Westdorf schließt")
    assert again.changes == sc.changes and again.note == "Test"
    assert store.names() == ["Laden Westdorf schließt"]
    assert not list(tmp_path.glob(".scenarios*"))  # no temp file left beside the store
    gj = scenario_geojson(again, res)
    assert gj["features"][0]["geometry"] is not None  # removed shop located from result
    assert gj["features"][1]["geometry"]["coordinates"] == [12.6, 52.2]
    assert store.delete("Laden Westdorf schließt") and store.names() == []
    (tmp_path / "scenarios.json").write_text(json.dumps(
        {"scenarios": [{"name": "x", "changes": [{"action": "add", "category": CAT}]}]}))
    with pytest.raises(ScenarioError, match="Szenario 1 'x', Änderung 1, Feld 'lat'"):
        store.list()
    (tmp_path / "scenarios.json").write_text("{kaputt")
    with pytest.raises(ScenarioError, match="nicht lesbar"):
        store.names()


def test_cli_suggest_and_scenario(region: Region, tmp_path: Path, capsys) -> None:
    data = tmp_path / "data"
    snap = world()
    for name in ("districts",):
        snap.add(name, snap.get(name), source=SRC)
    write_snapshot(snap, snapshot_path(data, region.id))
    rc = cli.main(["--data-dir", str(data), "suggest", "--category", CAT, "--k", "2",
                   "--method", "greedy", "--candidates", "stop", "--save-as", "Vorschlag"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "Halt" in out and "kumuliert" in out
    assert ScenarioStore(data).get("Vorschlag").changes[0].action == "add"
    rc = cli.main(["--data-dir", str(data), "scenario", "remove", "Vorschlag", "--category",
                   CAT, "--ref", "shop0"])
    assert rc == 0
    csv = tmp_path / "diff.csv"
    rc = cli.main(["--data-dir", str(data), "scenario", "apply", "Vorschlag", "--mode", "walk",
                   "--csv", str(csv)])
    out = capsys.readouterr().out
    assert rc == 0 and "Gesamt" in out
    assert "newly_covered" in csv.read_text().splitlines()[0]
    rc = cli.main(["--data-dir", str(data), "scenario", "route", "--category", CAT,
                   "--budget", "60", "--stop-minutes", "30"])
    assert rc == 0 and "Summe" in capsys.readouterr().out
    rc = cli.main(["--data-dir", str(data), "scenario", "show", "gibt es nicht"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("Fehler: Szenario 'gibt es nicht' nicht gefunden")


def test_bench_figures_smoke(base, region: Region, capsys) -> None:
    from dorfkarte.bench_scenario import bench_figures

    snap, res = base
    fig = bench_figures(res, snap, region, n_ops=3)
    assert {"whatif_ms", "suggest_k5_s", "whatif_baseline_ms", "greedy_gap"} <= set(fig)
    assert all(np.isfinite(fig[k]) and fig[k] >= 0 for k in ("whatif_ms", "suggest_k5_s"))
    assert "Was-wäre-wenn" in capsys.readouterr().out


def _without_network(snap: Snapshot) -> Snapshot:
    for mode in ("walk", "bike", "drive"):
        for name in (f"nodes_{mode}", f"edges_{mode}"):
            snap.layers.pop(name, None)
            snap.info.pop(name, None)
    return snap


def test_straight_line_mode_incremental_and_exact(region: Region) -> None:
    """Without a street network (embedded data only) the same guarantees hold."""
    snap = _without_network(world())
    res = analyse(snap, region, categories=[CAT], modes=["walk", "drive"])
    assert set(res.methods.values()) == {"straight_line"}
    wi = WhatIf(res)
    wi.remove(CAT, "shop0")
    lon, lat = _lonlat(snap, 0)
    wi.add(CAT, lat, lon, name="Laden 0 (wieder)")
    for key in res.times:
        assert np.array_equal(wi.result.times[key], res.times[key])
    wi.undo()
    snap2 = _without_network(world())
    am = snap2.get("amenities")
    snap2.add("amenities", am[am["osm_id"] != "shop0"].reset_index(drop=True), source=SRC)
    full = analyse(snap2, region, categories=[CAT], modes=["walk", "drive"])
    for key in full.times:
        np.testing.assert_allclose(wi.result.times[key], full.times[key], rtol=1e-12)


def test_suggest_drops_sites_that_add_nobody(base, region: Region) -> None:
    """Issue 14 items 4/6: with every home already served, k sites would add nothing."""
    snap, res = base
    thr = res.thresholds[(CAT, "walk")]
    served = res.with_thresholds({(CAT, "walk"): 10 * thr})  # everyone within reach
    cands = candidate_sites(snap, region, include=("stop", "centre"),
                            districts=res.districts)
    sg = suggest(served, CAT, "walk", 3, method="exact", candidates=cands)
    assert sg.sites.empty and sg.dropped == 3
    assert any("3 neue Standorte brächten nichts" in n for n in sg.notes)
    assert sg.demand == "Einwohner"  # both districts have a population
    # unknown population: the figures count homes, not residents
    ind = served.indicators.copy()
    ind["weighted"] = False
    from dataclasses import replace as dc_replace

    from dorfkarte.scenario.suggest import demand_label
    assert demand_label(dc_replace(served, indicators=ind), CAT, "walk") \
        == "Wohnorte (Einwohner unbekannt)"
