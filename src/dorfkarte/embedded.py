"""Region + data folder -> one Snapshot, with the embedded data filling what OSM lacks.

Without an OSM snapshot the app and CLI still work on what ships in ``data/``: approximate
Ortsteil areas from the centres file and the VBB stops. This sits below the listings and
the :class:`dorfkarte.workspace.Workspace` (which re-exports :func:`open_snapshot`), so the
listings validator can read the same snapshot without an import cycle.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio

from dorfkarte import districts as districts_mod
from dorfkarte import regiondata
from dorfkarte.errors import DataError
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


def districts_path(data_dir: str | Path, region_id: str) -> Path:
    """Where an imported districts file is kept for the region."""
    return Path(data_dir) / "districts" / f"{region_id}.gpkg"


def read_imported_districts(data_dir: str | Path, region_id: str
                            ) -> tuple[gpd.GeoDataFrame, dict[str, str]] | None:
    """The imported districts and their provenance (source, licence, date), if any."""
    path = districts_path(data_dir, region_id)
    if not path.exists():
        return None
    try:
        gdf = pyogrio.read_dataframe(path, layer=DISTRICTS)
    except Exception as exc:  # GDAL raises several types
        raise DataError(f"Importierte Bezirksdatei {path} ist nicht lesbar: {exc}") from None
    first = gdf.iloc[0] if len(gdf) else {}
    info = {"source": str(first.get("source", "") or ""),
            "licence": str(first.get("licence", "") or ""),
            "fetched_at": str(first.get("imported_at", "") or "")}
    gdf = gdf.drop(columns=[c for c in ("licence", "imported_at") if c in gdf.columns])
    gdf["approx"] = gdf["approx"].astype(bool)
    return gdf, info


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
