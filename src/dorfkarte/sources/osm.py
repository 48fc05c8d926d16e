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
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import shapely

from dorfkarte.districts import read_centres
from dorfkarte.errors import DataError, DorfkarteError
from dorfkarte.jobs import guarded
from dorfkarte.region import NETWORK_MODES, Region
from dorfkarte.snapshot import (
    AMENITIES,
    BOUNDARIES,
    HOMES,
    LANDUSE,
    MUNICIPALITIES,
    ROADS,
    WATER,
    Snapshot,
    edges_layer,
    nodes_layer,
    now_iso,
    snapshot_path,
    write_snapshot,
)
from dorfkarte.sources import extract
from dorfkarte.sources import osm_layers as L

if TYPE_CHECKING:
    from dorfkarte.sources.overpass import RetryPolicy

log = logging.getLogger(__name__)

LICENCE = "ODbL 1.0 (© OpenStreetMap-Mitwirkende)"
#: Progress callback: (step label, step index starting at 0, number of steps).
Progress = Callable[[str, int, int], None]

IMPORT_STEPS = ("Gemeinden suchen", "Region ausschneiden", "Objekte einlesen",
                "Fußwegenetz", "Radnetz", "Straßennetz (Auto)", "Schnappschuss schreiben")


def _noop(_label: str, _i: int, _n: int) -> None:
    return None


def clip_area(municipalities: gpd.GeoDataFrame, region: Region) -> shapely.Geometry:
    """Municipalities plus ``region.buffer_m``, in EPSG:4326."""
    proj = municipalities.to_crs(region.crs)
    area = shapely.union_all(proj.geometry.to_numpy()).buffer(region.buffer_m)
    return gpd.GeoSeries([area], crs=region.crs).to_crs(L.WGS84).iloc[0]


def centres_clip(region: Region) -> shapely.Geometry:
    """Fallback area: hull of the district centres plus ``buffer_m`` (no municipality found)."""
    df = read_centres(region)
    pts = gpd.GeoSeries(gpd.points_from_xy(df["lon"], df["lat"]), crs=L.WGS84).to_crs(region.crs)
    hull = shapely.convex_hull(shapely.multipoints(pts.to_numpy())).buffer(region.buffer_m)
    return gpd.GeoSeries([hull], crs=region.crs).to_crs(L.WGS84).iloc[0]


def build_snapshot(xml: Path, region: Region, clip: shapely.Geometry,
                   municipalities: gpd.GeoDataFrame | None, *, source: str, fetched_at: str,
                   note: str, workdir: Path, progress: Progress = _noop, step0: int = 0,
                   nsteps: int = 0) -> Snapshot:
    """All OSM layers from one region-sized OSM XML file."""
    nsteps = nsteps or step0 + 5
    snap = Snapshot(region_id=region.id)

    def add(name: str, gdf: gpd.GeoDataFrame | None, layer_note: str = "") -> None:
        if gdf is None or len(gdf) == 0:
            log.info("layer %s is empty", name)
            return
        full_note = "; ".join(x for x in (note, layer_note) if x)
        snap.add(name, gdf, source=source, licence=LICENCE, fetched_at=fetched_at, note=full_note)

    progress(IMPORT_STEPS[2], step0, nsteps)
    feats = L.read_features(xml)
    tags = L.tag_records(feats)
    boundaries = L.boundaries_layer(feats, tags, clip)
    if municipalities is None or municipalities.empty:
        found = L.municipalities_from_boundaries(boundaries, region) if len(boundaries) else None
        municipalities = found if found is not None and len(found) == len(
            region.municipalities) else None
    add(MUNICIPALITIES, municipalities)
    add(BOUNDARIES, boundaries)
    add(AMENITIES, L.amenities_layer(feats, tags, region, clip, source="osm"),
        "Kategorien nach den Tag-Regeln der Regionsdatei")
    add(HOMES, L.homes_layer(feats, tags, region, clip))
    add(LANDUSE, L.landuse_layer(feats, tags, region, clip), "vereinfacht (3 m)")
    add(WATER, L.water_layer(feats, tags, region, clip), "vereinfacht (3 m)")
    add(ROADS, L.roads_layer(feats, tags, region, clip), "vereinfacht (3 m), Grundkarte")
    del feats, tags
    for i, mode in enumerate(NETWORK_MODES):
        progress(IMPORT_STEPS[3 + i], step0 + 1 + i, nsteps)
        net = L.network_layers(xml, mode, region, clip, workdir)
        if net is None:
            continue
        nodes, edges = net
        add(nodes_layer(mode), nodes)
        add(edges_layer(mode), edges, "Fahrzeit travel_time in s aus speed_kph")
    return snap


def _check_complete(snap: Snapshot, what: str) -> None:
    missing = [n for n in (AMENITIES, "edges_walk", "edges_drive") if not snap.has(n)]
    if len(missing) == 3:
        raise DataError(
            f"{what}: keine Einrichtungen und keine Straßen im Gebiet der Region gefunden "
            "(passt der Auszug zur Region?)"
        )


def _file_date(path: Path) -> str:
    """Data date of an extract: the pbf header's replication timestamp, else the file time."""
    import osmium

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
               progress: Progress | None = None,
               cancel: threading.Event | None = None) -> Path:
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
        progress(IMPORT_STEPS[-1], n - 1, n)  # last chance to cancel before writing
        return write_snapshot(snap, snapshot_path(data_dir, region.id))


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
    from dorfkarte.sources import overpass

    client = overpass.OverpassClient.from_settings(
        data_dir, url=overpass_url, timeout_s=timeout_s, retry=retry, use_cache=use_cache)
    client.cancel = cancel
    return overpass.fetch(region, Path(data_dir), client,
                          progress=guarded(progress, cancel, "Download"))


__all__ = ["DorfkarteError", "build_snapshot", "fetch_snapshot", "import_osm"]
