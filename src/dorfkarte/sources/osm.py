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
import threading
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import osmium
import shapely

from dorfkarte.errors import DataError, DorfkarteError
from dorfkarte.jobs import guarded
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
    build_snapshot,
    centres_clip,
    cleanup_stale,
    clip_area,
    temp_prefix,
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


def _header(path: Path) -> tuple[str, tuple[float, float, float, float] | None]:
    """The extract header's replication timestamp ("" if none) and bounding box."""
    try:
        header = osmium.io.Reader(str(path), osmium.osm.NOTHING).header()
    except Exception:  # noqa: BLE001 - header is optional
        return "", None
    ts = header.get("osmosis_replication_timestamp") or header.get("timestamp") or ""
    box = header.box()
    bbox = None
    if box.valid():
        bbox = (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)
    return ts, bbox


def _file_date(path: Path, data_date: str) -> str:
    """Note on the data date: the header's, else the newest object's (file time only as
    a last hint, marked as such: it is when the file was copied, not the data's date)."""
    if data_date:
        return f"Datenstand {data_date[:10]}"
    mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)
    return f"Datenstand unbekannt (Dateidatum {mtime.date().isoformat()})"


def import_osm(path: str | Path, region: Region, data_dir: str | Path, *,
               progress: Progress | None = None,
               cancel: threading.Event | None = None,
               warnings: list[str] | None = None) -> Path:
    """Build the region's snapshot from a local ``.osm`` / ``.osm.bz2`` / ``.osm.pbf``.

    Municipalities are looked up in the extract by AGS, else by name. If the extract has
    none of them, the hull of the district centres plus the buffer is used instead (said
    in the layers' note); if it has only some, that is an error (wrong name in the region
    file, or an extract cut too small). Returns the snapshot path.

    ``cancel`` (a :class:`threading.Event`, set from another thread) stops the import at
    the next step with :class:`dorfkarte.jobs.Cancelled`; the stored snapshot is untouched.
    """
    progress = guarded(progress, cancel, f"Import von {Path(path).name}")
    n = len(IMPORT_STEPS)
    path = extract.check_extract_path(path)
    data_dir = Path(data_dir)
    cleanup_stale(data_dir)
    progress(IMPORT_STEPS[0], 0, n)
    scan = extract.scan_relations(path, region)
    polys = extract.relation_polygons(
        path, {rid: scan.member_ways[rid] for rid in scan.municipalities.values()})
    rows, missing, cut = [], [], []
    for m in region.municipalities:
        rid = scan.municipalities.get(m.name)
        label = m.name + (f" (AGS {m.ags})" if m.ags else "")
        if rid is None:
            missing.append(label)
            continue
        if rid not in polys:
            cut.append(label)
            continue
        rows.append({"name": m.name, "ags": m.ags or "", "osm_id": f"relation/{rid}",
                     "admin_level": 8, "geometry": polys[rid]})
    note = ""
    if cut:
        raise DataError(
            f"OSM-Auszug {path.name}: Gemeinde {cut[0]} gefunden, aber ihre Grenze ist im "
            "Auszug unvollständig (am Rand abgeschnitten): einen größeren Auszug nehmen"
        )
    if missing and rows:
        raise DataError(
            f"OSM-Auszug {path.name}: Gemeinde {missing[0]} nicht gefunden "
            "(Name/AGS in der Regionsdatei prüfen oder einen Auszug nehmen, der sie enthält)"
        )
    municipalities = None
    if missing:
        clip, note = _fallback_clip(region, path, missing)
        log.info(note)
    else:
        municipalities = gpd.GeoDataFrame(rows, geometry="geometry", crs=L.WGS84)
        clip = clip_area(municipalities, region)
    header_ts, header_box = _header(path)
    if header_box is None and path.stat().st_size <= NODE_BBOX_MAX_BYTES:
        header_box = extract.node_bbox(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=temp_prefix("import"), dir=data_dir) as tmp:
        work = Path(tmp)
        progress(IMPORT_STEPS[1], 1, n)
        box = tuple(clip.bounds)
        small = extract.extract_box(path, work / "region.osm", box, region, scan)  # type: ignore[arg-type]
        try:
            snap = build_snapshot(
                small, region, clip, municipalities,
                source=f"OpenStreetMap, Auszug {path.name}", fetched_at=now_iso(),
                note=note, workdir=work, progress=progress, step0=2, nsteps=n,
                data_date=header_ts, data_box=header_box,
            )
        except DorfkarteError:
            raise
        except Exception as exc:  # osmnx/shapely on data they cannot use
            log.debug("import failed", exc_info=True)
            raise DataError(f"OSM-Auszug {path.name} nicht verwertbar: "
                            f"{type(exc).__name__}: {exc}") from None
        if not any(i.data_date for i in snap.info.values()):
            stamp = _file_date(path, "")
            for info in snap.info.values():
                info.note = "; ".join(x for x in (stamp, info.note) if x)
        _check_complete(snap, f"OSM-Auszug {path.name}")
        progress(IMPORT_STEPS[-1], n - 1, n)  # last chance to cancel before writing
        out = write_snapshot(snap, snapshot_path(data_dir, region.id))
    # the import summary: incomplete ways, missing networks, data edge (also in the notes);
    # logged as warnings, so the CLI and the app can show them (``commands.osm``)
    summary = ([note] if note else []) + snap.warnings
    if warnings is not None:
        warnings.extend(summary)
    for w in summary:
        log.warning(w)
    return out


#: Without a bounding box in the header, files up to this size are scanned for their
#: nodes' extent (state-sized files from download sites carry a header box).
NODE_BBOX_MAX_BYTES = 50_000_000


def _fallback_clip(region: Region, path: Path, missing: list[str]
                   ) -> tuple[shapely.Geometry, str]:
    """Area when the extract has none of the municipalities: the districts file's
    outline (``districts.source = "file"``), else the hull of the centres, plus buffer."""
    if region.districts.source == "file" and region.districts.file is not None:
        from dorfkarte.districts import from_file

        units = from_file(region)
        return (clip_area(units, region),
                "Gemeindegrenzen fehlen im Auszug: Gebiet = Fläche der Bezirksdatei "
                f"+ {region.buffer_m:.0f} m")
    if region.districts.centres_file is None:
        raise DataError(
            f"OSM-Auszug {path.name}: keine Gemeinde der Region gefunden "
            f"({', '.join(missing)}) und keine Ortsmittelpunkte als Ersatz"
        )
    return (centres_clip(region),
            "Gemeindegrenzen fehlen im Auszug: Gebiet = Hülle der Ortsmittelpunkte "
            f"+ {region.buffer_m:.0f} m")



def fetch_snapshot(region: Region, data_dir: str | Path, *, overpass_url: str | None = None,
                   timeout_s: float | None = None, retry: RetryPolicy | None = None,
                   use_cache: bool = True, progress: Progress | None = None,
                   cancel: threading.Event | None = None) -> Path:
    """Download the region's OSM data from Overpass and write the snapshot.

    ``retry`` is a :class:`dorfkarte.sources.overpass.RetryPolicy` (default: 4 retries,
    5 s doubling backoff). Answers are cached under ``data_dir/cache/overpass`` (a day),
    so a fetch that failed half-way resumes. Raises :class:`FetchError` naming the query
    that failed; the existing snapshot stays untouched. ``cancel`` stops it between queries
    and retry pauses (:class:`dorfkarte.jobs.Cancelled`), never after writing has begun.
    """
    client = overpass.OverpassClient.from_settings(
        data_dir, url=overpass_url, timeout_s=timeout_s, retry=retry, use_cache=use_cache)
    client.cancel = cancel
    return overpass.fetch(region, Path(data_dir), client,
                          progress=guarded(progress, cancel, "Download"))


__all__ = ["IMPORT_STEPS", "LICENCE", "DorfkarteError", "Progress", "build_snapshot",
           "centres_clip", "clip_area", "fetch_snapshot", "import_osm"]
