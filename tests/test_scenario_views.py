"""Issue 14 item 6: scenario figures per mode, the scenario map's colours, the mobile route's
drive between stops, one source value for scenario points.

Plain functions on hand-made inputs and the synthetic world of ``test_scenario.py`` (made
there, not real data); expected figures are computed by hand in each test.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scenario_world import CAT, CRS, SRC, STEP, X0, Y0, world

from dorfkarte import maps
from dorfkarte.coverage import analyse
from dorfkarte.enums import GapClass, SiteStatus, Source
from dorfkarte.i18n import gap_label, t
from dorfkarte.region import Region
from dorfkarte.scenario import (
    SCENARIO_SOURCE,
    TOTAL_ROW,
    Change,
    ChangeEffect,
    WhatIf,
    compare,
    effect_by_mode,
    effect_text,
    mobile_stops,
    mode_effect,
    origin_changes,
    route_travel_note,
    stop_travel,
    unit_changes,
)
from dorfkarte.snapshot import Snapshot

# ---- 1. never summed across modes -------------------------------------------------------------


def _effect(gained: dict[str, float], lost: dict[str, float]) -> ChangeEffect:
    return ChangeEffect(Change("add", CAT, lat=52.0, lon=12.5), 1.0, gained, lost)


def test_effect_figures_stay_per_mode() -> None:
    eff = _effect({"walk": 120.0, "bike": 300.0}, {"walk": 0.0, "bike": 5.0})
    assert [(e.mode, e.gained, e.lost) for e in effect_by_mode(eff)] == [
        ("walk", 120.0, 0.0), ("bike", 300.0, 5.0)]
    assert effect_text(eff, "de") == "Fuß +120 / −0 · Rad +300 / −5"
    assert effect_text(eff, "en") == "Walk +120 / −0 · Bike +300 / −5"
    assert "420" not in effect_text(eff)  # the sum over modes is never shown
    here = mode_effect(eff, "bike")
    assert here is not None and (here.gained, here.lost) == (300.0, 5.0)
    assert mode_effect(eff, "drive") is None  # not computed: unknown, not 0


def test_effect_text_of_a_real_change(region: Region) -> None:
    """A new shop east: every mode gets its own figure, each the residents crossing that
    mode's threshold (walk and bike count partly the same people)."""
    snap = world()
    res = analyse(snap, region, categories=[CAT], modes=["walk", "bike"])
    closed = WhatIf(res)
    closed.remove(CAT, "shop1")
    wi = WhatIf(closed.result)
    pt = gpd.GeoSeries([shapely.Point(X0 + 12 * STEP, Y0 + 8 * STEP)], crs=CRS).to_crs(4326)
    eff = wi.add(CAT, pt.iloc[0].y, pt.iloc[0].x, name="Laden Ost (geplant)")
    per = {e.mode: e.gained for e in effect_by_mode(eff)}
    assert set(per) == {"walk", "bike"} and per["walk"] > 0
    # each mode's figure is what compare() counts for that mode alone (its total row)
    for m in ("walk", "bike"):
        diff = compare(wi.base, wi.result, CAT, m)
        total = diff[diff["district"] == TOTAL_ROW]
        assert len(total) == 1
        assert total["newly_covered"].iloc[0] == pytest.approx(per[m])
    text = effect_text(eff)
    assert text.startswith("Fuß +") and " · Rad +" in text


# ---- 2. the scenario map colours gain and loss as its legend and caption say ------------------


def _diff(rows: list[tuple[str, float, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"district": d, "mode": "walk", "newly_covered": g,
                          "losing_coverage": lo, "share_before": sb, "share_after": sa}
                         for d, g, lo, sb, sa in rows])


def test_unit_changes_classes() -> None:
    diff = _diff([("A", 120, 0, 0.2, 0.5), ("B", 0, 40, 0.9, 0.7), ("C", 10, 5, 0.5, 0.5),
                  ("D", 0, 0, 0.8, 0.8), ("E", 0, 0, np.nan, np.nan),
                  (TOTAL_ROW, 130, 45, 0.6, 0.6)])
    u = unit_changes(diff)
    assert dict(zip(u["district"], u["change"], strict=True)) == {
        "A": "gain", "B": "loss", "C": "mixed", "D": "unchanged", "E": "unknown"}
    with pytest.raises(ValueError, match="one mode"):
        unit_changes(pd.concat([diff, diff.assign(mode="bike")]))


def _styles(group) -> dict[str, dict]:  # noqa: ANN001
    """Fill style per unit name, as Leaflet gets it from the group's unit layer."""
    import folium

    layers = [c for c in group._children.values()
              if isinstance(c, folium.GeoJson) and getattr(c, "style_function", None)
              and any("change" in f["properties"] for f in c.data["features"])]
    assert len(layers) == 1
    return {f["properties"]["name"]: layers[0].style_function(f)
            for f in layers[0].data["features"]}


def test_scenario_map_colours_gain_loss_and_neutral(region: Region) -> None:
    """Westdorf loses its only shop, Ostdorf gets one: red and green; the legend and the
    caption name these colours; homes that change are dots of the same colours."""
    import folium

    snap = world(shops=((2, 2),))  # one shop, in Westdorf
    res = analyse(snap, region, categories=[CAT], modes=["walk"])
    wi = WhatIf(res)
    wi.remove(CAT, "shop0")
    pt = gpd.GeoSeries([shapely.Point(X0 + 12 * STEP, Y0 + 8 * STEP)], crs=CRS).to_crs(4326)
    wi.add(CAT, pt.iloc[0].y, pt.iloc[0].x, name="Laden Ost")
    diff = compare(wi.base, wi.result, CAT, "walk")
    units = unit_changes(diff)
    assert dict(zip(units["district"], units["change"], strict=True)) == {
        "Westdorf": "loss", "Ostdorf": "gain"}
    oc = origin_changes(wi.base, wi.result, (CAT, "walk"))
    group = maps.scenario_group(res.districts, units, mode="walk", origins=oc,
                                sites=wi.destinations(CAT), lang="de")
    styles = _styles(group)
    assert styles["Westdorf"]["fillColor"] == maps.SCENARIO_COLOURS["loss"] == "#c62828"
    assert styles["Ostdorf"]["fillColor"] == maps.SCENARIO_COLOURS["gain"] == "#2e7d32"
    # a unit the scenario does not touch is neutral (white), one without figures unknown
    three = pd.concat([res.districts, res.districts.iloc[[0]].assign(name="Nirgendwo")])
    u2 = pd.concat([units, pd.DataFrame([{"district": "Nirgendwo", "mode": "walk",
                                          "newly_covered": 0.0, "losing_coverage": 0.0,
                                          "change": "unchanged"}])], ignore_index=True)
    assert _styles(maps.scenario_group(three, u2, mode="walk"))["Nirgendwo"]["fillColor"] \
        == maps.SCENARIO_COLOURS["unchanged"] == "#ffffff"
    assert _styles(maps.scenario_group(three, units, mode="walk"))["Nirgendwo"]["fillColor"] \
        == maps.SCENARIO_COLOURS["unknown"]
    # home dots: gaining homes green, losing homes red
    dots = [c for c in group._children.values()
            if isinstance(c, folium.GeoJson) and getattr(c, "marker", None) is not None]
    fills = sorted(d.marker.options["fillColor"] for d in dots)
    assert fills == sorted([maps.SCENARIO_COLOURS["gain"], maps.SCENARIO_COLOURS["loss"]])
    # legend (into the map's legend) and caption say the same colours and words
    m = folium.Map()
    group.add_to(m)
    page = m.get_root().render()
    legend = maps.scenario_legend_html("walk", "de")
    for change in ("gain", "loss", "mixed", "unchanged", "unknown"):
        assert (f'data-change="{change}"><span class="dk-sw" style="background:'
                f'{maps.SCENARIO_COLOURS[change]}"></span>{t("scn_unit_" + change)}') in legend
    assert "Fuß" in legend and "dk-legend-ind" in page
    cap = t("scn_green_newly_covered_red", "de", mode="Fuß")
    for word in ("grün = Einwohner neu versorgt", "rot = verlieren Versorgung",
                 "gelb = beides", "weiß = unverändert", "grau = unbekannt", "(Fuß)"):
        assert word in cap
    en = t("scn_green_newly_covered_red", "en", mode="Walk")
    assert "green = residents newly covered" in en and "red = losing coverage" in en


def test_scenario_map_tooltips_escape_names(region: Region) -> None:
    import folium

    snap = world()
    res = analyse(snap, region, categories=[CAT], modes=["walk"])
    d = res.districts.copy()
    d.loc[0, "name"] = "<img src=x onerror=alert(1)>"
    units = pd.DataFrame([{"district": d.loc[0, "name"], "mode": "walk", "newly_covered": 3.0,
                           "losing_coverage": 0.0, "change": "gain"}])
    group = maps.scenario_group(d, units, mode="walk")
    layer = next(c for c in group._children.values() if isinstance(c, folium.GeoJson))
    tips = [f["properties"]["tip"] for f in layer.data["features"]]
    # the tooltip is shown as HTML: the name in it is escaped
    assert tips[0].startswith("<b>&lt;img src=x onerror=alert(1)&gt;</b>")
    m = folium.Map()
    group.add_to(m)
    assert "<img src=x" not in m.get_root().render()


# ---- 3. the mobile route: drive between consecutive stops, never 0 min ------------------------


def _three_villages() -> tuple[Snapshot, gpd.GeoDataFrame]:
    """No street network; villages A (30 homes), B (20, 3 km east of A), C (10, 4 km north
    of A); one shop 20 km away that covers nobody. Candidates: the three village centres."""
    rng = np.random.default_rng(1)
    centres = {"A": (X0, Y0), "B": (X0 + 3000, Y0), "C": (X0, Y0 + 4000)}
    counts = {"A": 30, "B": 20, "C": 10}
    hx, hy = [], []
    for k, (cx, cy) in centres.items():
        hx.extend(cx + rng.uniform(-80, 80, counts[k]))
        hy.extend(cy + rng.uniform(-80, 80, counts[k]))
    snap = Snapshot(region_id="test")
    snap.add("districts", gpd.GeoDataFrame({
        "name": ["Dreidorf"], "municipality": "Testgemeinde", "kind": "ortsteil",
        "population": [600.0], "approx": False, "source": SRC},
        geometry=[shapely.box(X0 - 1000, Y0 - 1000, X0 + 25000, Y0 + 5000)], crs=CRS),
        source=SRC)
    snap.add("homes", gpd.GeoDataFrame({"osm_id": [str(i) for i in range(len(hx))],
                                        "kind": "building"},
                                       geometry=shapely.points(hx, hy), crs=CRS), source=SRC)
    snap.add("amenities", gpd.GeoDataFrame({
        "osm_id": ["far"], "name": ["Laden weit weg"], "category": CAT, "source": "osm"},
        geometry=[shapely.Point(X0 + 20000, Y0)], crs=CRS), source=SRC)
    cands = gpd.GeoDataFrame({"name": list(centres), "kind": "centre",
                              "ref": [f"centre:{k}" for k in centres]},
                             geometry=[shapely.Point(*c) for c in centres.values()],
                             crs=CRS).to_crs("EPSG:4326")
    return snap, cands


def test_route_straight_line_times_by_hand(region: Region) -> None:
    """Without any network: metres x 1,3 (detour) at 50 km/h (the region's straight-line
    car speed, its urban speed), from the stop before, not from the nearest chosen one."""
    assert region.modes.detour_factor == 1.3 and region.modes.urban_kmh == 50
    snap, cands = _three_villages()
    res = analyse(snap, region, categories=[CAT], modes=["walk"])
    assert res.network["walk"].method == "straight_line"
    df = mobile_stops(res, CAT, cands, budget_min=200, stop_min=30, snapshot=snap)
    per_min = 50 * 1000 / 60  # 833,33 m per minute
    ab, bc = 3000 * 1.3 / per_min, 5000 * 1.3 / per_min  # 4,68 and 7,80 min
    assert list(df["name"]) == ["A", "B", "C"]
    assert df["travel_min"].tolist() == pytest.approx([0.0, ab, bc], rel=1e-6)
    assert ab == pytest.approx(4.68) and bc == pytest.approx(7.8)
    # C is 4 km from A but 5 km from B: the drive counted is B -> C, the route's order
    assert df["minutes"].tolist() == pytest.approx([30.0, 30 + ab, 30 + bc], rel=1e-6)
    assert df["minutes_used"].iloc[-1] == pytest.approx(90 + ab + bc, rel=1e-6)
    assert df["travel_method"].tolist() == ["none", "straight_line", "straight_line"]
    assert df.attrs["travel"] == "straight_line"
    note = route_travel_note(df, "de")
    assert "Luftlinie × 1,3" in note and "50 km/h" in note
    assert "straight line × 1.3" in route_travel_note(df, "en")
    # a budget that fits A and B but not the drive to C: C is left out
    short = mobile_stops(res, CAT, cands, budget_min=90 + ab + bc - 0.01, stop_min=30)
    assert list(short["name"]) == ["A", "B"]


def _node_point(i: int, j: int) -> shapely.Point:
    return shapely.Point(X0 + i * STEP, Y0 + j * STEP)


def test_route_drive_network_times_by_hand(region: Region) -> None:
    """On the world's street grid (200 m blocks, maxspeed 30): two stops on street
    corners (3, 3) and (12, 8) are 9 + 5 blocks = 2800 m apart, 5,6 min at 30 km/h,
    whether the car network comes with the result or only with the snapshot."""
    snap = world(shops=((0, 11),))  # one shop in a far corner: both villages want a stop
    cands = gpd.GeoDataFrame({"name": ["West", "Ost"], "kind": "centre", "ref": ["w", "o"]},
                             geometry=[_node_point(3, 3), _node_point(12, 8)],
                             crs=CRS).to_crs("EPSG:4326")
    expected = 2800 / (30 * 1000 / 60)
    assert expected == pytest.approx(5.6)
    walk_only = analyse(snap, region, categories=[CAT], modes=["walk"])
    with_car = analyse(snap, region, categories=[CAT], modes=["walk", "drive"])
    for res in (walk_only, with_car):
        df = mobile_stops(res, CAT, cands, budget_min=120, stop_min=30, snapshot=snap)
        assert len(df) == 2
        assert df["travel_min"].tolist() == pytest.approx([0.0, expected], abs=1e-6)
        assert df["travel_method"].tolist() == ["none", "network"]
        assert route_travel_note(df).startswith("Fahrzeit zwischen aufeinanderfolgenden "
                                                "Halten auf dem Straßennetz")
    # the walk-only result without the snapshot knows no car network: straight line
    df = mobile_stops(walk_only, CAT, cands, budget_min=120, stop_min=30)
    line = float(np.hypot(9 * STEP, 5 * STEP)) * 1.3 / (50 * 1000 / 60)
    assert df["travel_min"].iloc[1] == pytest.approx(line, rel=1e-6)
    assert df["travel_method"].iloc[1] == "straight_line"


def test_stop_travel_never_zero_and_unconnected_pairs_fall_back(region: Region) -> None:
    """Different stops are never 0 min apart; a pair the car network does not connect is
    timed as straight line x detour (and said so), not left out or 0."""
    snap = world()
    res = analyse(snap, region, categories=[CAT], modes=["walk"])
    stops = snap.get("stops").to_crs("EPSG:4326")
    cands = gpd.GeoDataFrame({"name": stops["name"], "kind": "stop"},
                             geometry=stops.geometry.to_numpy(), crs="EPSG:4326")
    minutes, how = stop_travel(res, cands, snapshot=snap)
    off = ~np.eye(len(cands), dtype=bool)
    assert (minutes[off] > 0).all() and (how[off] == "network").all()
    # cut the car network in two halves (no street across x = column 7.5)
    cut = world()
    e = cut.get("edges_drive")
    n = cut.get("nodes_drive").set_index("osmid")
    col = ((n.geometry.x - X0) / STEP).round()
    west = set(col.index[col <= 7])
    keep = e["u"].isin(west) == e["v"].isin(west)
    cut.add("edges_drive", e[keep.to_numpy()].reset_index(drop=True), source=SRC)
    minutes2, how2 = stop_travel(res, cands, snapshot=cut)
    sx = ((cut.get("stops").geometry.x - X0) / STEP).to_numpy()
    across = (sx[:, None] <= 7.5) != (sx[None, :] <= 7.5)
    assert (how2[across] == "straight_line").all() and (how2[~across & off] == "network").all()
    xy = cut.get("stops").geometry
    d = np.hypot(xy.x.to_numpy()[:, None] - xy.x.to_numpy()[None, :],
                 xy.y.to_numpy()[:, None] - xy.y.to_numpy()[None, :])
    assert minutes2[across] == pytest.approx((d * 1.3 / (50 * 1000 / 60))[across], rel=1e-6)
    assert np.isfinite(minutes2).all() and (minutes2[off] > 0).all()


# ---- 4. one source value for points a scenario adds -------------------------------------------


def test_scenario_points_use_the_enum_source(region: Region) -> None:
    snap = world()
    res = analyse(snap, region, categories=[CAT], modes=["walk"])
    wi = WhatIf(res)
    pt = gpd.GeoSeries([_node_point(14, 1)], crs=CRS).to_crs(4326)
    wi.add(CAT, pt.iloc[0].y, pt.iloc[0].x, name="Neu")
    d = wi.destinations(CAT)
    assert SCENARIO_SOURCE == Source.SCENARIO == "scenario"
    assert d.loc[d["status"] == SiteStatus.NEW, "source"].tolist() == ["scenario"]
    assert maps._source_kind(Source.SCENARIO) == "scenario"


def test_before_after_total_counts_gaps_and_every_value_is_a_label(region: Region) -> None:
    """No machine value ("gap", "Gesamt", "3 Lücken" as text) in the English table."""
    from types import SimpleNamespace

    from dorfkarte.sheets import people_table
    from dorfkarte.ui.scenario import diff_display

    snap = world()
    res = analyse(snap, region, categories=[CAT], modes=["walk"])
    wi = WhatIf(res)
    wi.remove(CAT, "shop0")
    diff = compare(res, wi.result, CAT, "walk")
    units = diff[diff["district"] != TOTAL_ROW]
    total = diff[diff["district"] == TOTAL_ROW].iloc[0]
    assert total["gaps_before"] == int((units["gap_before"] == GapClass.GAP).sum())
    assert total["gaps_after"] == int((units["gap_after"] == GapClass.GAP).sum())
    assert units["gaps_before"].isna().all()
    for lang, word in (("en", "Total"), ("de", "Gesamt")):
        shown = diff_display(diff, SimpleNamespace(lang=lang))
        cls = shown[t("scn_class_after", lang)].tolist()
        assert cls[-1] == t("scn_n_gaps", lang, n=int(total["gaps_after"]))
        assert set(cls[:-1]) <= {gap_label(g, lang) for g in GapClass}
        assert shown[t("scn_unit", lang)].iloc[-1] == word
        sheet = people_table(diff, lang)
        assert word in sheet.iloc[:, 0].tolist()
    assert "Gesamt" not in set(diff_display(diff, SimpleNamespace(lang="en")).astype(str)
                               .stack())
    assert not {"gap", "tight", "no_data"} & set(  # machine values (German UI: labels)
        diff_display(diff, SimpleNamespace(lang="de")).astype(str).stack())
