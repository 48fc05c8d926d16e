"""Item 1 of issue 14: local listings alone never make a gap.

A category OSM was never searched for (no amenities layer, or a snapshot built before the
category existed) has only listings as service points: units a listing serves are covered,
all others "unbekannt – nur lokale Angebote erfasst" (``GapClass.LOCAL_ONLY``), never a gap.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from linefixtures import CRS, X0, Y0, line_snapshot
from linefixtures import indicator_row as _row
from shapely.geometry import Point

from dorfkarte.coverage import analyse
from dorfkarte.enums import GapClass
from dorfkarte.region import Region
from dorfkarte.snapshot import AMENITIES, Snapshot, read_snapshot, write_snapshot


def _listing(x: float, y: float, category: str = "arzt") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["Praxis mobil"], "category": [category],
                             "source": ["listing"], "example": [False]},
                            geometry=[Point(X0 + x, Y0 + y)], crs=CRS)


def _snap_built_for(categories: tuple[str, ...]) -> Snapshot:
    snap = line_snapshot()
    info = snap.info[AMENITIES]
    snap.add(AMENITIES, snap.layers[AMENITIES], source=info.source, categories=categories)
    return snap


def test_listing_in_unsearched_category_is_no_gap(test_region: Region) -> None:
    # the snapshot was built when the region only had "laden": OSM never looked for "arzt"
    snap = _snap_built_for(("laden",))
    assert not snap.searched_osm("arzt") and snap.searched_osm("laden")
    # the listing sits at Ahaus's west end: both Ahaus homes within 10 min walk
    res = analyse(snap, test_region, extra_destinations=_listing(0.0, 0.0))
    assert res.local_only == frozenset({"arzt"})
    ahaus = _row(res, "Ahaus", "arzt", "walk")
    beheim = _row(res, "Beheim", "arzt", "walk")
    assert ahaus["gap_class"] == GapClass.OK
    assert ahaus["share_within"] == 1.0
    # Beheim's street is disconnected: with OSM data that would be a gap; here it is unknown
    assert beheim["gap_class"] == GapClass.LOCAL_ONLY
    assert math.isnan(beheim["share_within"]) and math.isnan(beheim["median"])
    assert not (res.indicators.query("category == 'arzt'")["gap_class"] == GapClass.GAP).any()
    assert any(n.startswith("Nur lokale Angebote, OSM fehlt für Arzt") for n in res.notes)
    # the searched category keeps real gaps (Beheim cannot reach the shop)
    assert _row(res, "Beheim", "laden", "walk")["gap_class"] == GapClass.GAP


def test_without_amenities_layer_and_threshold_slider(test_region: Region) -> None:
    snap = line_snapshot()
    del snap.layers[AMENITIES], snap.info[AMENITIES]
    # listing in the middle of Ahaus's street: home 2 (x=500) reaches it in 2 min, home 1
    # (x=0, 30 m off the street) in 3.3 min
    res = analyse(snap, test_region, extra_destinations=_listing(300.0, 0.0, "laden"))
    assert res.local_only == frozenset({"laden"})
    assert _row(res, "Ahaus", "laden", "walk")["gap_class"] == GapClass.OK
    assert _row(res, "Beheim", "laden", "walk")["gap_class"] == GapClass.LOCAL_ONLY
    # a strict threshold: only home 2 within 2.5 min -> Ahaus 50 %: unknown, never "knapp"/gap
    strict = res.with_thresholds({("laden", "walk"): 2.5})
    row = _row(strict, "Ahaus", "laden", "walk")
    assert row["gap_class"] == GapClass.LOCAL_ONLY and np.isnan(row["share_within"])
    back = strict.with_thresholds({("laden", "walk"): 10.0})
    assert _row(back, "Ahaus", "laden", "walk")["gap_class"] == GapClass.OK
    assert _row(back, "Ahaus", "laden", "walk")["share_within"] == 1.0
    # categories without any point stay "keine Daten"
    assert _row(res, "Ahaus", "arzt", "walk")["gap_class"] == GapClass.NO_DATA


def test_snapshot_records_searched_categories(tmp_path, test_region: Region) -> None:
    snap = _snap_built_for(("laden", "arzt"))
    back = read_snapshot(write_snapshot(snap, tmp_path / "s.gpkg"))
    assert back.info[AMENITIES].categories == ("laden", "arzt")
    assert back.searched_osm("arzt")
    # a listing in a searched category: the unit it does not serve is a real gap
    res = analyse(back, test_region, extra_destinations=_listing(0.0, 0.0))
    assert _row(res, "Beheim", "arzt", "walk")["gap_class"] == GapClass.GAP
    # older snapshots without the record: every category counts as searched
    legacy = line_snapshot()
    assert legacy.info[AMENITIES].categories is None and legacy.searched_osm("arzt")
    legacy_back = read_snapshot(write_snapshot(legacy, tmp_path / "l.gpkg"))
    assert legacy_back.info[AMENITIES].categories is None


def test_what_if_site_in_unsearched_category_is_no_gap(test_region: Region) -> None:
    from pyproj import Transformer

    from dorfkarte.scenario import WhatIf

    snap = line_snapshot()
    del snap.layers[AMENITIES], snap.info[AMENITIES]
    res = analyse(snap, test_region)
    assert _row(res, "Ahaus", "arzt", "walk")["gap_class"] == GapClass.NO_DATA
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(X0, Y0)
    w = WhatIf(res)
    w.add("arzt", lat, lon, "Geplante Praxis")
    out = w.result
    assert out.local_only == frozenset({"arzt"})
    assert _row(out, "Ahaus", "arzt", "walk")["gap_class"] == GapClass.OK
    # a planned site alone says nothing about Beheim either
    assert _row(out, "Beheim", "arzt", "walk")["gap_class"] == GapClass.LOCAL_ONLY


def test_profile_distance_from_the_same_origins_as_the_times(test_region: Region) -> None:
    """Issue 14 item 3, by hand: Ahaus's homes at (0, 30) and (500, 0); the only shop at
    (1000, 20) is reached first by both. Straight lines: home 1 sqrt(1000² + 10²) =
    1000.05 m, home 2 sqrt(500² + 20²) = 500.40 m; weighted median (50 residents each, the
    smallest distance within which half arrive) = 500.40 m. The unit's centroid (x≈275)
    would say 725 m instead."""
    from dorfkarte.coverage import origin_distances, unit_distances

    res = analyse(line_snapshot(), test_region)
    d = origin_distances(res, "laden", "walk")
    assert d[0] == pytest.approx(math.hypot(1000, 10))
    assert d[1] == pytest.approx(math.hypot(500, 20))
    assert math.isnan(d[2])  # Beheim's home reaches nothing
    u = unit_distances(res, "laden", "walk").set_index("district")
    assert u.loc["Ahaus", "nearest_name"] == "Laden Ost"
    assert u.loc["Ahaus", "km"] == pytest.approx(math.hypot(500, 20) / 1000)
    assert u.loc["Beheim", "nearest_name"] == "" and math.isnan(u.loc["Beheim", "km"])
    # with a listing at home 1's door, home 1 reaches it first: Ahaus's provider is the one
    # most residents reach first (tie -> lowest index: the OSM shop), measured from the
    # origins that reach it (home 2 only)
    res2 = analyse(line_snapshot(), test_region,
                   extra_destinations=_listing(0.0, 30.0, "laden"))
    u2 = unit_distances(res2, "laden", "walk").set_index("district")
    row = _row(res2, "Ahaus", "laden", "walk")
    assert u2.loc["Ahaus", "nearest_name"] == row["nearest_name"]
    assert u2.loc["Ahaus", "km"] == pytest.approx(
        0.0 if row["nearest_name"] == "Praxis mobil" else math.hypot(500, 20) / 1000)
