"""OSM XML -> snapshot layers: the step shared by ``import_osm`` and the Overpass fetch.

Lives apart from :mod:`dorfkarte.sources.osm` (local extracts) and
:mod:`dorfkarte.sources.overpass` (download) so that both use it without importing each
other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import shapely

from dorfkarte.districts import read_centres
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
                   nsteps: int = 0) -> Snapshot:
    """All OSM layers from one region-sized OSM XML file."""
    nsteps = nsteps or step0 + 5
    snap = Snapshot(region_id=region.id)

    def add(name: str, gdf: gpd.GeoDataFrame | None, layer_note: str = "") -> None:
        if gdf is None or len(gdf) == 0:
            log.info("layer %s is empty", name)
            return
        full_note = "; ".join(x for x in (note, layer_note) if x)
        # which categories were searched: a later-added category is "not searched", no gap
        cats = tuple(c.id for c in region.osm_categories()) if name == AMENITIES else None
        snap.add(name, gdf, source=source, licence=LICENCE, fetched_at=fetched_at,
                 note=full_note, categories=cats)

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
