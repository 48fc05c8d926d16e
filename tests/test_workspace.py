"""dorfkarte.workspace.Workspace: one open region + data folder, remembered answers, one
fingerprint that changes with the region file, the snapshot and the listings store."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from dorfkarte.listings import check_file, import_report
from dorfkarte.region import Region
from dorfkarte.settings import embedded_data_dir
from dorfkarte.snapshot import DISTRICTS, STOPS, snapshot_path, write_snapshot
from dorfkarte.workspace import Workspace, open_snapshot, when_key


def _import_examples(ws: Workspace) -> None:
    report = check_file(embedded_data_dir() / "examples" / "angebote_beispiel.csv", ws.region,
                        ws.data_dir, context=ws.validation_context())
    assert not report.errors, report.errors
    import_report(report, ws.store)


def test_embedded_data_without_snapshot(region: Region, tmp_path: Path) -> None:
    ws = Workspace(region, tmp_path)
    assert ws.snapshot.has(DISTRICTS) and ws.snapshot.has(STOPS)
    assert not ws.has_listings and ws.listings is None and ws.listing_points() is None
    assert ws.snapshot is ws.snapshot  # opened once
    hint = ws.no_osm_hint("de")
    assert hint.startswith("Noch kein OSM-Schnappschuss") and f"--data-dir {tmp_path}" in hint
    assert ws.no_osm_hint("en").startswith("No OSM snapshot yet")


def test_results_are_remembered_per_key(region: Region, tmp_path: Path) -> None:
    ws = Workspace(region, tmp_path)
    base = ws.result(categories=["haltestelle"])
    assert ws.result(categories=["haltestelle"]) is base
    # unchanged slider values are the base result itself, a changed one a remembered variant
    same = ws.result(categories=["haltestelle"],
                     thresholds={("haltestelle", "walk"): base.thresholds[("haltestelle",
                                                                            "walk")]})
    assert same is base
    strict = ws.result(categories=["haltestelle"], thresholds={("haltestelle", "walk"): 2.0})
    assert strict is not base and strict.thresholds[("haltestelle", "walk")] == 2.0
    assert ws.result(categories=["haltestelle"],
                     thresholds={("haltestelle", "walk"): 2.0}) is strict
    assert ws.result(categories=["haltestelle"], modes=["walk"]) is not base
    assert list(ws.result(categories=["haltestelle"], modes=["walk"]).modes) == ["walk"]


def test_fingerprint_follows_snapshot_listings_and_region_file(region: Region,
                                                                tmp_path: Path) -> None:
    ws = Workspace(region, tmp_path)
    fp0 = ws.fingerprint
    assert ws.fingerprint == fp0  # stable while nothing changes
    res0 = ws.result(categories=["haltestelle"])

    _import_examples(ws)  # a listings store appears
    fp1 = ws.fingerprint
    assert fp1 != fp0
    assert ws.has_listings and len(ws.listings) > 0
    pts = ws.listing_points()
    assert pts is not None and set(pts["source"]) == {"listing"}
    assert ws.listing_points() is pts  # remembered for the same store state
    assert ws.result(categories=["haltestelle"]) is not res0  # listings count now
    assert ws.result(categories=["haltestelle"], listings=False) is not None

    # a snapshot file appears (here: the embedded layers written as one)
    snap = open_snapshot(region, tmp_path)
    write_snapshot(snap, snapshot_path(tmp_path, region.id))
    fp2 = ws.fingerprint
    assert fp2 not in (fp0, fp1)
    assert ws.snapshot is not snap  # reopened from the new file

    # the region file is edited: the workspace reads it again
    copy = tmp_path / "region.toml"
    shutil.copy(region.path, copy)
    ws2 = Workspace(copy, tmp_path)
    fp = ws2.fingerprint
    st = copy.stat()
    os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert ws2.fingerprint != fp


def test_when_key() -> None:
    assert when_key(None) == "all"
    assert when_key("weekly").startswith("weekly:")  # depends on today's date


def test_fixed_snapshot_for_synthetic_worlds(region: Region, tmp_path: Path) -> None:
    snap = open_snapshot(region, tmp_path)
    ws = Workspace(region, tmp_path, snapshot=snap)
    assert ws.snapshot is snap
    assert ws.validation_context().region is region
