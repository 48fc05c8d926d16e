"""OpenStreetMap source: ``import_osm`` (local extract) and ``fetch_snapshot`` (Overpass).

Both build the same snapshot layers for the region's municipalities plus
``region.buffer_m`` (services just across the border count): municipalities, boundaries,
amenities (classified by the region's tag rules), homes, walk/bike/drive networks with
travel times, and a simplified base map (landuse, water, roads). The snapshot file is
written only when everything is there (temp file + rename), so a failed run never
damages the previous one.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import osmium

from dorfkarte.errors import DataError, DorfkarteError
from dorfkarte.region import Region
from dorfkarte.snapshot import (
    AMENITIES,
    Snapshot,
    now_iso,
    snapshot_path,
    write_snapshot,
)
from dorfkarte.sources import extract, overpass
from dorfkarte.sources import osm_layers as L
from dorfkarte.sources.osm_build import (
    IMPORT_STEPS,
    LICENCE,
    Progress,
    _noop,
    build_snapshot,
    centres_clip,
    clip_area,
)
from dorfkarte.sources.overpass import RetryPolicy

log = logging.getLogger(__name__)

def _check_complete(snap: Snapshot, what: str) -> None:
    missing = [n for n in (AMENITIES, "edges_walk", "edges_drive") if not snap.has(n)]
    if len(missing) == 3:
        raise DataError(
            f"{what}: keine Einrichtungen und keine Straßen im Gebiet der Region gefunden "
            "(passt der Auszug zur Region?)"
        )


def _file_date(path: Path) -> str:
    """Data date of an extract: the pbf header's replication timestamp, else the file time."""
    try:
        ts = osmium.io.Reader(str(path), osmium.osm.NOTHING).header().get(
            "osmosis_replication_timestamp")
    except Exception:  # noqa: BLE001 - header is optional
        ts = ""
    if ts:
        return f"Datenstand {ts}"
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)
    return f"Dateidatum {mtime.isoformat()}"


def import_osm(path: str | Path, region: Region, data_dir: str | Path, *,
               progress: Progress | None = None) -> Path:
    """Build the region's snapshot from a local ``.osm`` / ``.osm.bz2`` / ``.osm.pbf``.

    Municipalities are looked up in the extract by AGS, else by name. If the extract has
    none of them, the hull of the district centres plus the buffer is used instead (said
    in the layers' note); if it has only some, that is an error (wrong name in the region
    file, or an extract cut too small). Returns the snapshot path.
    """
    progress = progress or _noop
    n = len(IMPORT_STEPS)
    path = extract.check_extract_path(path)
    progress(IMPORT_STEPS[0], 0, n)
    scan = extract.scan_relations(path, region)
    polys = extract.relation_polygons(
        path, {rid: scan.member_ways[rid] for rid in scan.municipalities.values()})
    rows, missing = [], []
    for m in region.municipalities:
        rid = scan.municipalities.get(m.name)
        if rid is None or rid not in polys:
            missing.append(m.name + (f" (AGS {m.ags})" if m.ags else ""))
            continue
        rows.append({"name": m.name, "ags": m.ags or "", "osm_id": f"relation/{rid}",
                     "admin_level": 8, "geometry": polys[rid]})
    note = ""
    if missing and rows:
        raise DataError(
            f"OSM-Auszug {path.name}: Gemeinde {missing[0]} fehlt oder ist unvollständig "
            "(Name/AGS in der Regionsdatei prüfen oder einen größeren Auszug nehmen)"
        )
    if missing:
        if region.districts.centres_file is None:
            raise DataError(
                f"OSM-Auszug {path.name}: keine Gemeinde der Region gefunden "
                f"({', '.join(missing)}) und keine Ortsmittelpunkte als Ersatz"
            )
        municipalities = None
        clip = centres_clip(region)
        note = ("Gemeindegrenzen fehlen im Auszug: Gebiet = Hülle der Ortsmittelpunkte "
                f"+ {region.buffer_m:.0f} m")
        log.warning(note)
    else:
        municipalities = gpd.GeoDataFrame(rows, geometry="geometry", crs=L.WGS84)
        clip = clip_area(municipalities, region)
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".import-", dir=data_dir) as tmp:
        work = Path(tmp)
        progress(IMPORT_STEPS[1], 1, n)
        box = tuple(clip.bounds)
        small = extract.extract_box(path, work / "region.osm", box, region, scan)  # type: ignore[arg-type]
        try:
            snap = build_snapshot(
                small, region, clip, municipalities,
                source=f"OpenStreetMap, Auszug {path.name}", fetched_at=now_iso(),
                note="; ".join(x for x in (_file_date(path), note) if x),
                workdir=work, progress=progress, step0=2, nsteps=n,
            )
        except DorfkarteError:
            raise
        except Exception as exc:  # osmnx/shapely on data they cannot use
            log.debug("import failed", exc_info=True)
            raise DataError(f"OSM-Auszug {path.name} nicht verwertbar: "
                            f"{type(exc).__name__}: {exc}") from None
        _check_complete(snap, f"OSM-Auszug {path.name}")
        progress(IMPORT_STEPS[-1], n - 1, n)
        return write_snapshot(snap, snapshot_path(data_dir, region.id))


def fetch_snapshot(region: Region, data_dir: str | Path, *, overpass_url: str | None = None,
                   timeout_s: float | None = None, retry: RetryPolicy | None = None,
                   use_cache: bool = True, progress: Progress | None = None) -> Path:
    """Download the region's OSM data from Overpass and write the snapshot.

    ``retry`` is a :class:`dorfkarte.sources.overpass.RetryPolicy` (default: 4 retries,
    5 s doubling backoff). Answers are cached under ``data_dir/cache/overpass`` (a day),
    so a fetch that failed half-way resumes. Raises :class:`FetchError` naming the query
    that failed; the existing snapshot stays untouched.
    """
    client = overpass.OverpassClient.from_settings(
        data_dir, url=overpass_url, timeout_s=timeout_s, retry=retry, use_cache=use_cache)
    return overpass.fetch(region, Path(data_dir), client, progress=progress or _noop)


__all__ = ["IMPORT_STEPS", "LICENCE", "DorfkarteError", "Progress", "build_snapshot",
           "centres_clip", "clip_area", "fetch_snapshot", "import_osm"]
