"""OSM XML -> snapshot layers: the step shared by ``import_osm`` and the Overpass fetch.

Lives apart from :mod:`dorfkarte.sources.osm` (local extracts) and
:mod:`dorfkarte.sources.overpass` (download) so that both use it without importing each
other.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import shapely

from dorfkarte.districts import read_centres
from dorfkarte.region import NETWORK_MODES, Region
from dorfkarte.snapshot import (
    AMENITIES,
    BOUNDARIES,
    DATA_GAP,
    HOMES,
    LANDUSE,
    MUNICIPALITIES,
    ROADS,
    WATER,
    Snapshot,
    edges_layer,
    nodes_layer,
)
from dorfkarte.sources import osm_layers as L

log = logging.getLogger("dorfkarte.sources.osm")

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
        # which categories were searched: a later-added category is "not searched", no gap
        cats = tuple(c.id for c in region.osm_categories()) if name == AMENITIES else None
        snap.add(name, gdf, source=source, licence=LICENCE, fetched_at=fetched_at,
                 note=full_note, data_date=data_date, categories=cats)

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


# Layer DATA_GAP (defined in dorfkarte.snapshot, so maps and coverage need not import the
# import): the part of the region plus buffer that the extract does not cover.
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
