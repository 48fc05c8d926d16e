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
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import shapely

from dorfkarte.districts import read_centres
from dorfkarte.errors import DataError, DorfkarteError
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
                   nsteps: int = 0, data_date: str = "",
                   data_box: tuple[float, float, float, float] | None = None) -> Snapshot:
    """All OSM layers from one region-sized OSM XML file.

    Ways cut at the file's border keep their parts (``osm_repair``); whatever was
    incomplete, a network that could not be built, and a region reaching beyond the data
    (``data_box``: the extract's extent, if known) end up in every layer's note and in
    ``snap.warnings`` (the import summary). ``data_date``: the data's own date; without
    it, the newest object's timestamp in the file.
    """
    from dorfkarte.sources import osm_repair

    nsteps = nsteps or step0 + 5
    snap = Snapshot(region_id=region.id)
    warnings: list[str] = []
    progress(IMPORT_STEPS[2], step0, nsteps)
    fixed = workdir / "complete.osm"
    report = osm_repair.repair(xml, fixed)
    xml = fixed
    if report.incomplete:
        warnings.append(report.sentence())
    data_date = data_date or report.newest
    if data_date and "Datenstand" not in note:
        note = "; ".join(x for x in (f"Datenstand {data_date[:10]}", note) if x)
    beyond = _beyond_data(clip, data_box, region)
    if beyond is not None:
        warnings.append(beyond[1])
    layer_notes: list[str] = []

    def add(name: str, gdf: gpd.GeoDataFrame | None, layer_note: str = "") -> None:
        if gdf is None or len(gdf) == 0:
            log.info("layer %s is empty", name)
            return
        full_note = "; ".join(x for x in (note, *layer_notes, layer_note) if x)
        snap.add(name, gdf, source=source, licence=LICENCE, fetched_at=fetched_at,
                 note=full_note, data_date=data_date)

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
    nets = {}
    for i, mode in enumerate(NETWORK_MODES):
        progress(IMPORT_STEPS[3 + i], step0 + 1 + i, nsteps)
        nets[mode] = L.network_layers(xml, mode, region, clip, workdir, warnings)
    # the summary goes into every layer's note: the OSM layers are one import
    layer_notes.extend(warnings)
    for info in snap.info.values():
        info.note = "; ".join(x for x in (info.note, *warnings) if x)
    for mode, net in nets.items():
        if net is None:
            continue
        nodes, edges = net
        add(nodes_layer(mode), nodes)
        add(edges_layer(mode), edges, "Fahrzeit travel_time in s aus speed_kph")
    if beyond is not None:
        add(DATA_GAP, beyond[0], "Teil der Region (+ Puffer) ohne Daten im Auszug")
    snap.warnings = warnings
    return snap


#: Layer: the part of the region plus buffer that the extract does not cover.
DATA_GAP = "data_gap"
#: Uncovered share of the region's box below which the edge is rounding, not a gap.
GAP_TOLERANCE = 0.02


def _beyond_data(clip: shapely.Geometry, box: tuple[float, float, float, float] | None,
                 region: Region) -> tuple[gpd.GeoDataFrame, str] | None:
    """The part of ``clip`` outside the data's box, when it is more than rounding."""
    if box is None:
        return None
    proj = gpd.GeoSeries([clip, shapely.box(*box)], crs=L.WGS84).to_crs(region.crs)
    gap = proj.iloc[0].difference(proj.iloc[1])
    if gap.is_empty or gap.area <= GAP_TOLERANCE * proj.iloc[0].area:
        return None
    share = gap.area / proj.iloc[0].area
    gdf = gpd.GeoDataFrame({"share": [share]}, geometry=[gap], crs=region.crs).to_crs(L.WGS84)
    return gdf, (f"Der Auszug deckt die Region samt {region.buffer_m:.0f} m Puffer nicht ab "
                 f"({share:.0%} der Fläche ohne Daten): Lücken am Datenrand können vom "
                 "Ausschnitt kommen, nicht vom Angebot")


def _check_complete(snap: Snapshot, what: str) -> None:
    missing = [n for n in (AMENITIES, "edges_walk", "edges_drive") if not snap.has(n)]
    if len(missing) == 3:
        raise DataError(
            f"{what}: keine Einrichtungen und keine Straßen im Gebiet der Region gefunden "
            "(passt der Auszug zur Region?)"
        )


def _header(path: Path) -> tuple[str, tuple[float, float, float, float] | None]:
    """The extract header's replication timestamp ("" if none) and bounding box."""
    import osmium

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
        log.warning(note)
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
        progress(IMPORT_STEPS[-1], n - 1, n)
        out = write_snapshot(snap, snapshot_path(data_dir, region.id))
    for w in snap.warnings:
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


#: Left behind in the data folder by an import or fetch that was killed.
STALE_DIRS = (".import-*", ".fetch-*")
STALE_FILES = (".*.tmp.gpkg", ".*.tmp.gpkg-journal", ".*.tmp.gpkg-wal", ".*.tmp.gpkg-shm")
#: A temp snapshot file (no owner recorded) counts as stale after this long untouched.
STALE_AGE_S = 60.0


def temp_prefix(kind: str) -> str:
    """``.import-<pid>-``: the owner's pid tells a killed run's folder from a live one."""
    return f".{kind}-{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cleanup_stale(data_dir: Path) -> list[Path]:
    """Remove temp folders of killed imports/fetches and orphaned temp snapshot files."""
    import shutil
    import time

    from dorfkarte.settings import SNAPSHOT_DIRNAME

    removed: list[Path] = []
    now = time.time()
    for folder in (data_dir, data_dir / SNAPSHOT_DIRNAME):
        if not folder.is_dir():
            continue
        for pattern in STALE_DIRS:
            for p in folder.glob(pattern):
                parts = p.name.split("-")
                pid = int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else None
                if pid is not None and pid != os.getpid() and _alive(pid):
                    continue
                if pid is None and now - p.lstat().st_mtime < STALE_AGE_S:
                    continue
                try:
                    shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
                    removed.append(p)
                except OSError:
                    continue
        for pattern in STALE_FILES:
            for p in folder.glob(pattern):
                try:
                    if now - p.lstat().st_mtime < STALE_AGE_S:
                        continue
                    p.unlink()
                    removed.append(p)
                except OSError:
                    continue
    if removed:
        log.info("removed %d stale temp files", len(removed))
    return removed


def fetch_snapshot(region: Region, data_dir: str | Path, *, overpass_url: str | None = None,
                   timeout_s: float | None = None, retry: RetryPolicy | None = None,
                   use_cache: bool = True, progress: Progress | None = None) -> Path:
    """Download the region's OSM data from Overpass and write the snapshot.

    ``retry`` is a :class:`dorfkarte.sources.overpass.RetryPolicy` (default: 4 retries,
    5 s doubling backoff). Answers are cached under ``data_dir/cache/overpass`` (a day),
    so a fetch that failed half-way resumes. Raises :class:`FetchError` naming the query
    that failed; the existing snapshot stays untouched.
    """
    from dorfkarte.sources import overpass

    client = overpass.OverpassClient.from_settings(
        data_dir, url=overpass_url, timeout_s=timeout_s, retry=retry, use_cache=use_cache)
    return overpass.fetch(region, Path(data_dir), client, progress=progress or _noop)


__all__ = ["DorfkarteError", "build_snapshot", "fetch_snapshot", "import_osm"]
