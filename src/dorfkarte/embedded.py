"""Region + data folder -> one Snapshot, with the embedded data filling what OSM lacks.

Without an OSM snapshot the app and CLI still work on what ships in ``data/``: approximate
Ortsteil areas from the centres file and the VBB stops. This sits below the listings and
the :class:`dorfkarte.workspace.Workspace` (which re-exports :func:`open_snapshot`), so the
listings validator can read the same snapshot without an import cycle.
"""

from __future__ import annotations

from pathlib import Path

from dorfkarte import districts as districts_mod
from dorfkarte import regiondata
from dorfkarte.imported_districts import read_imported_districts
from dorfkarte.region import Region
from dorfkarte.snapshot import (
    BOUNDARIES,
    DISTRICTS,
    MUNICIPALITIES,
    STOPS,
    Snapshot,
    read_snapshot,
    snapshot_path,
)
from dorfkarte.sources import transit


def open_snapshot(region: Region, data_dir: str | Path) -> Snapshot:
    """Load the region's snapshot from ``data_dir`` (if any) and add embedded layers."""
    path = snapshot_path(data_dir, region.id)
    snap = read_snapshot(path) if path.exists() else Snapshot(region_id=region.id)
    snap.region_id = region.id
    regiondata.add_layers(snap, region, data_dir)  # outlines, census grid, route lines
    if not snap.has(STOPS) and region.transit.stops_file is not None:
        stops = transit.read_stops(region.transit.stops_file)
        snap.add(
            STOPS,
            transit.service_points(stops, region.crs),
            source=region.transit.source or str(region.transit.stops_file.name),
            licence=region.transit.licence,
            # The file's date on disk is the clone's, not the data's: only a stated date counts.
            fetched_at=region.transit.data_date,
            note="eingebettete Daten",
            embedded=True,
        )
    imported = read_imported_districts(data_dir, region.id)
    if imported is not None:  # a districts file imported by the user wins (dorfkarte.imports)
        gdf, info = imported
        snap.add(DISTRICTS, gdf, source=info["source"], licence=info["licence"],
                 fetched_at=info["fetched_at"], note="importierte Bezirksdatei")
    if not snap.has(DISTRICTS):
        d = districts_mod.resolve(region, snap.get(BOUNDARIES), snap.get(MUNICIPALITIES))
        approx = bool(d["approx"].any())
        licence, fetched_at = "", ""
        if approx:
            pass  # own approximation: no third-party licence, no data date
        elif region.districts.source == "file" and region.districts.file is not None:
            licence, fetched_at = region.districts.licence, _mtime(region.districts.file)
        else:
            licence = "ODbL (OpenStreetMap-Mitwirkende)"
            fetched_at = snap.info[BOUNDARIES].fetched_at if snap.has(BOUNDARIES) else ""
        snap.add(
            DISTRICTS,
            d,
            source=str(d["source"].iloc[0]),
            licence=licence,
            fetched_at=fetched_at,
            note="Näherung" if approx else "",
            embedded=True,
        )
    regiondata.apply_census(snap, region)  # residents for every unit
    return snap


def _mtime(path: Path) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0).isoformat()
