"""OSM XML (a region-sized extract or an Overpass download) -> snapshot layers.

Both ``import-osm`` and ``fetch`` end here, so an offline import and an online download
of the same data give the same snapshot. osmnx builds the geometries
(``features_from_xml``) and the street graphs (``graph_from_xml``, one filtered file per
mode with osmnx's own network filters); this module classifies and trims them.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely

from dorfkarte import network
from dorfkarte.region import Region
from dorfkarte.sources.extract import local_level
from dorfkarte.tags import TagRule

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
#: Road classes drawn on the offline base map.
BASEMAP_HIGHWAYS = frozenset({
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
    "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
    "residential", "living_street", "pedestrian", "road", "track",
})
NATURAL_LANDUSE = {"wood": "forest", "scrub": "scrub", "heath": "heath",
                   "grassland": "meadow", "wetland": "wetland", "sand": "sand"}
WATERWAY_LINES = frozenset({"river", "stream", "canal", "ditch", "drain"})
#: Tags kept out of the amenities' tag JSON (noise or geometry bookkeeping).
DROP_TAGS = frozenset({"nodes", "members", "ways", "element", "id", "geometry"})
SIMPLIFY_M = 3.0


# --- network filters ---------------------------------------------------------------------

_FILTER_PART = re.compile(r'\["([^"]+)"(?:(!?~)"([^"]*)")?\]')


@cache
def network_predicate(mode: str) -> Callable[[dict[str, str]], bool]:
    """osmnx's Overpass way filter for ``mode`` as a Python predicate on a tag dict.

    Parsing osmnx's own filter string keeps the offline import and the Overpass download
    in step: the same ways make up the walk, bike and drive networks.
    """
    import osmnx as ox  # heavy (sklearn, matplotlib): only for imports

    network_type = {"walk": "walk", "bike": "bike", "drive": "drive"}[mode]
    text = ox._overpass._get_network_filter(network_type)  # noqa: SLF001
    parts: list[tuple[str, str | None, re.Pattern[str] | None]] = []
    for key, op, value in _FILTER_PART.findall(text):
        parts.append((key, op or None, re.compile(value) if op else None))

    def pred(tags: dict[str, str]) -> bool:
        for key, op, rx in parts:
            val = tags.get(key)
            if op is None:
                if val is None:
                    return False
            elif op == "~":
                if val is None or not rx.search(val):  # type: ignore[union-attr]
                    return False
            elif val is not None and rx.search(val):  # type: ignore[union-attr]
                return False
        return True

    return pred


def network_filter(mode: str, region: Region | None) -> Callable[[dict[str, str]], bool]:
    """osmnx's filter for ``mode`` plus the region file's ``include`` / ``exclude`` rules.

    E.g. shared foot/cycle paths (``highway=cycleway`` + ``foot=designated``), which
    osmnx's walk filter drops, join the walk network with
    ``[modes.walk] include = ["highway=cycleway&foot=designated"]``.
    """
    base = network_predicate(mode)
    if region is None:
        return base
    inc = region.modes.include.get(mode, ())
    exc = region.modes.exclude.get(mode, ())
    if not inc and not exc:
        return base

    def pred(tags: dict[str, str]) -> bool:
        if any(r.matches(tags) for r in exc):
            return False
        return base(tags) or any(r.matches(tags) for r in inc)

    return pred


def write_network_xml(src: Path, out: Path, mode: str, region: Region | None = None) -> int:
    """Write the ways of ``mode``'s network (plus their nodes) from ``src`` to ``out``."""
    pred = network_filter(mode, region)
    n = 0
    if out.exists():
        out.unlink()
    with osmium.BackReferenceWriter(str(out), ref_src=str(src), overwrite=True) as writer:
        for w in osmium.FileProcessor(str(src), osmium.osm.WAY).with_filter(
            osmium.filter.KeyFilter("highway")
        ):
            if pred({t.k: t.v for t in w.tags}):
                writer.add_way(w)
                n += 1
    return n


def _join(value: Any) -> Any:
    """osmnx merges tags of simplified edges into lists; store them as OSM ``a;b`` text."""
    if isinstance(value, list | tuple | set):
        seen: list[str] = []
        for v in value:
            s = str(v)
            if s not in seen:
                seen.append(s)
        return ";".join(seen)
    return value


#: Way tags kept on network edges besides osmnx's defaults: what tells underground and
#: indoor ways apart (``dorfkarte.network`` does not snap homes and services to those).
LEVEL_TAGS = ("tunnel", "layer", "indoor", "level", "covered")
MODE_WORDS = {"walk": "Fußwegenetz", "bike": "Radnetz", "drive": "Straßennetz (Auto)"}


def network_layers(xml: Path, mode: str, region: Region, clip: shapely.Geometry,
                   workdir: Path, warnings: list[str] | None = None
                   ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None:
    """Nodes and edges of one mode, truncated to ``clip`` (EPSG:4326), with travel times.

    None when the mode has no network in the data; the reason is appended to ``warnings``
    (the import summary), never swallowed.
    """
    import networkx as nx  # with osmnx: only for imports
    import osmnx as ox  # heavy (sklearn, matplotlib): only for imports

    warnings = warnings if warnings is not None else []
    word = MODE_WORDS.get(mode, mode)
    sub = workdir / f"net_{mode}.osm"
    if write_network_xml(xml, sub, mode, region) == 0:
        warnings.append(f"{word}: keine passenden Wege im Auszug (Analyse dort nur Luftlinie)")
        return None
    useful = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = list(dict.fromkeys([*useful, *LEVEL_TAGS]))
    try:
        G = ox.graph_from_xml(sub, bidirectional=mode in ox.settings.bidirectional_network_types,
                              simplify=True, retain_all=False)
        G = ox.truncate.truncate_graph_polygon(G, clip, truncate_by_edge=True)
        G = ox.truncate.largest_component(G, strongly=False)
    except (ox._errors.InsufficientResponseError, ValueError, nx.NetworkXException) as exc:  # noqa: SLF001
        log.debug("network %s failed", mode, exc_info=True)
        warnings.append(f"{word} nicht gebaut: {' '.join(str(exc).split())[:200]} "
                        "(Analyse dort nur Luftlinie)")
        return None
    finally:
        ox.settings.useful_tags_way = useful
    if len(G.edges) == 0:
        warnings.append(f"{word}: keine Wege im Gebiet der Region (Analyse dort nur Luftlinie)")
        return None
    if mode != "drive":
        # walk and bike networks are undirected: store each street once
        G = ox.convert.to_undirected(G)
    nodes, edges = ox.graph_to_gdfs(G)
    nodes = nodes.reset_index()[["osmid", "geometry"]]
    nodes["osmid"] = nodes["osmid"].astype("int64")
    edges = edges.reset_index()
    cols = ["u", "v", "key", "osmid", "length", "highway", "maxspeed", "oneway", "name",
            "ref", "access", "service", *LEVEL_TAGS, "geometry"]
    for c in cols:
        if c not in edges:
            edges[c] = None
    edges = edges[cols].copy()
    for c in ("osmid", "highway", "maxspeed", "name", "ref", "access", "service", *LEVEL_TAGS):
        edges[c] = edges[c].map(_join).astype(object)
        edges.loc[edges[c].isna(), c] = None
        edges[c] = edges[c].map(lambda v: None if v is None else str(v))
    edges["oneway"] = edges["oneway"].fillna(False).astype(bool)
    edges["length"] = edges["length"].astype(float)
    edges["speed_kph"] = _speeds(edges, mode, region)
    edges["travel_time"] = edges["length"] / (edges["speed_kph"] / 3.6)
    edges = gpd.GeoDataFrame(edges, geometry="geometry", crs=WGS84)
    return gpd.GeoDataFrame(nodes, geometry="geometry", crs=WGS84), edges


def _speeds(edges: pd.DataFrame, mode: str, region: Region) -> np.ndarray:
    """km/h per edge with the same rules the analysis uses (``dorfkarte.network``)."""
    return np.asarray(network.edge_speeds_kmh(edges, mode, region), dtype=float)


# --- features ------------------------------------------------------------------------------

def read_features(xml: Path) -> gpd.GeoDataFrame:
    """Every tagged node / way / relation of the extract with its geometry (EPSG:4326)."""
    import osmnx as ox  # heavy (sklearn, matplotlib): only for imports

    try:
        gdf = ox.features_from_xml(xml)
    except ox._errors.InsufficientResponseError:  # noqa: SLF001
        return gpd.GeoDataFrame({"osm_id": []}, geometry=[], crs=WGS84)
    gdf = gdf.reset_index()
    gdf["osm_id"] = gdf["element"].astype(str) + "/" + gdf["id"].astype(str)
    return gdf


def tag_records(gdf: pd.DataFrame) -> list[dict[str, str]]:
    """Per feature: its OSM tags as a plain dict (no NaN, no bookkeeping columns)."""
    cols = [c for c in gdf.columns if c not in DROP_TAGS and c != "osm_id"]
    values = gdf[cols].to_numpy(dtype=object)
    out = []
    for row in values:
        out.append({c: str(v) for c, v in zip(cols, row, strict=True)
                    if v is not None and not (isinstance(v, float) and v != v)})
    return out


def _point_of(geoms: gpd.GeoSeries, crs: str) -> gpd.GeoSeries:
    """Centroid in the metric CRS; a point on the surface where the centroid falls outside."""
    proj = geoms.to_crs(crs)
    cent = proj.centroid
    areal = proj.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    outside = areal & ~proj.contains(cent).to_numpy()
    if outside.any():
        cent[outside] = proj[outside].representative_point()
    return cent.to_crs(WGS84)


def classify(tags: dict[str, str], region: Region) -> list[str]:
    """Category ids whose tag rules match, in region order."""
    return [c.id for c in region.osm_categories() if c.matches(tags)]


def amenities_layer(feats: gpd.GeoDataFrame, tags: list[dict[str, str]], region: Region,
                    clip: shapely.Geometry, source: str) -> gpd.GeoDataFrame:
    """Service points: one row per feature, ``category`` = matching ids joined by ``;``."""
    rows, idx = [], []
    for i, t in enumerate(tags):
        cats = classify(t, region)
        if cats:
            rows.append({"osm_id": feats["osm_id"].iat[i], "name": t.get("name", ""),
                         "category": ";".join(cats),
                         "tags": json.dumps(t, ensure_ascii=False, sort_keys=True),
                         "source": source})
            idx.append(i)
    cols = ["osm_id", "name", "category", "tags", "source"]
    if not rows:
        return gpd.GeoDataFrame(columns=cols, geometry=[], crs=WGS84)
    pts = _point_of(feats.geometry.iloc[idx], region.crs)
    out = gpd.GeoDataFrame(rows, columns=cols, geometry=pts.to_numpy(), crs=WGS84)
    return out[out.intersects(clip)].reset_index(drop=True)


def _matches_any(rules: tuple[TagRule, ...], t: dict[str, str]) -> bool:
    return any(r.matches(t) for r in rules)


#: Address parts kept on homes, so listings given only by address can be located offline.
ADDRESS_KEYS = ("street", "housenumber", "postcode", "place", "city")


def _address_columns(tags: list[dict[str, str]], idx: list[int]) -> dict[str, list[str]]:
    return {f"addr_{k}": [tags[i].get(f"addr:{k}", "") for i in idx] for k in ADDRESS_KEYS}


#: Tags that make an address point a business, station entrance etc., not a home.
NOT_HOME_KEYS = ("shop", "amenity", "office", "tourism", "craft", "healthcare", "leisure",
                 "railway", "public_transport", "entrance", "emergency", "man_made")


def is_home_address(t: dict[str, str], region: Region) -> bool:
    """An address point (no building) that stands for residents.

    It follows ``[homes].rules``: a rule matching it makes it a home (e.g.
    ``"tourism=guest_house"``); otherwise it is a home only when it carries no business
    or facility tag (shop, amenity, office, tourism, ...) and matches no service category.
    """
    if "addr:housenumber" not in t or "building" in t:
        return False
    if _matches_any(region.home_rules, t):
        return True
    if any(k in t for k in NOT_HOME_KEYS):
        return False
    return not classify(t, region)


def homes_layer(feats: gpd.GeoDataFrame, tags: list[dict[str, str]], region: Region,
                clip: shapely.Geometry) -> gpd.GeoDataFrame:
    """Where people live: residential buildings, plus address points outside them."""
    geom_types = feats.geom_type.to_numpy()
    b_idx, a_idx = [], []
    for i, t in enumerate(tags):
        areal = geom_types[i] in ("Polygon", "MultiPolygon")
        if areal and "building" in t and _matches_any(region.home_rules, t):
            b_idx.append(i)
        elif geom_types[i] == "Point" and is_home_address(t, region):
            a_idx.append(i)
    addr = [f"addr_{k}" for k in ADDRESS_KEYS]
    cols = ["osm_id", "kind", "building", *addr, "geometry"]
    parts = []
    if b_idx:
        b = feats.iloc[b_idx]
        parts.append(gpd.GeoDataFrame(
            {"osm_id": b["osm_id"].to_numpy(), "kind": "building",
             "building": [tags[i].get("building", "") for i in b_idx],
             **_address_columns(tags, b_idx)},
            geometry=_point_of(b.geometry, region.crs).to_numpy(), crs=WGS84))
        buildings = b.geometry
    else:
        buildings = gpd.GeoSeries([], crs=WGS84)
    if a_idx:
        a = feats.iloc[a_idx]
        inside = np.zeros(len(a), dtype=bool)
        if len(buildings):
            hit = gpd.sjoin(gpd.GeoDataFrame(geometry=a.geometry.to_numpy(), crs=WGS84),
                            gpd.GeoDataFrame(geometry=buildings.to_numpy(), crs=WGS84),
                            predicate="within", how="inner")
            inside[np.unique(hit.index.to_numpy())] = True
        keep = [i for i, k in zip(a_idx, inside, strict=True) if not k]
        a = a[~inside]
        parts.append(gpd.GeoDataFrame(
            {"osm_id": a["osm_id"].to_numpy(), "kind": "address", "building": "",
             **_address_columns(tags, keep)},
            geometry=a.geometry.to_numpy(), crs=WGS84))
    if not parts:
        return gpd.GeoDataFrame(columns=cols, geometry="geometry", crs=WGS84)
    out = pd.concat(parts, ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)
    return out[out.intersects(clip)].reset_index(drop=True)[cols]


def _simplified(gdf: gpd.GeoDataFrame, region: Region, clip: shapely.Geometry
                ) -> gpd.GeoDataFrame:
    """Clip to the region + buffer and simplify a few metres (base map, small file)."""
    if gdf.empty:
        return gdf
    gdf = gdf[gdf.intersects(clip)].copy()
    if gdf.empty:
        return gdf
    gdf["geometry"] = gdf.geometry.intersection(clip)
    gdf = gdf[~gdf.geometry.is_empty]
    proj = gdf.to_crs(region.crs)
    proj["geometry"] = proj.geometry.simplify(SIMPLIFY_M, preserve_topology=True)
    return proj[~proj.geometry.is_empty].to_crs(WGS84).reset_index(drop=True)


def landuse_layer(feats: gpd.GeoDataFrame, tags: list[dict[str, str]], region: Region,
                  clip: shapely.Geometry) -> gpd.GeoDataFrame:
    """Base map areas: ``class`` from landuse=*, or natural=wood -> forest etc."""
    areal = feats.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    idx, classes = [], []
    for i, t in enumerate(tags):
        if not areal[i]:
            continue
        cls = t.get("landuse") or NATURAL_LANDUSE.get(t.get("natural", ""))
        if cls:
            idx.append(i)
            classes.append(cls)
    gdf = gpd.GeoDataFrame({"osm_id": feats["osm_id"].iloc[idx].to_numpy(), "class": classes},
                           geometry=feats.geometry.iloc[idx].to_numpy(), crs=WGS84)
    return _simplified(gdf, region, clip)


def water_layer(feats: gpd.GeoDataFrame, tags: list[dict[str, str]], region: Region,
                clip: shapely.Geometry) -> gpd.GeoDataFrame:
    """Lakes and ponds (polygons) and rivers, streams, ditches (lines)."""
    gt = feats.geom_type.to_numpy()
    idx, classes, names = [], [], []
    for i, t in enumerate(tags):
        areal = gt[i] in ("Polygon", "MultiPolygon")
        cls = None
        if areal and (t.get("natural") == "water" or t.get("waterway") == "riverbank"
                      or "water" in t):
            cls = t.get("water", "water")
        elif not areal and t.get("waterway") in WATERWAY_LINES:
            cls = t["waterway"]
        if cls:
            idx.append(i)
            classes.append(cls)
            names.append(t.get("name", ""))
    gdf = gpd.GeoDataFrame({"osm_id": feats["osm_id"].iloc[idx].to_numpy(), "class": classes,
                            "name": names},
                           geometry=feats.geometry.iloc[idx].to_numpy(), crs=WGS84)
    return _simplified(gdf, region, clip)


def roads_layer(feats: gpd.GeoDataFrame, tags: list[dict[str, str]], region: Region,
                clip: shapely.Geometry) -> gpd.GeoDataFrame:
    """Road lines for the offline base map (no footpaths or service roads)."""
    gt = feats.geom_type.to_numpy()
    idx = [i for i, t in enumerate(tags)
           if gt[i] in ("LineString", "MultiLineString") and t.get("highway") in BASEMAP_HIGHWAYS]
    gdf = gpd.GeoDataFrame(
        {"highway": [tags[i]["highway"] for i in idx],
         "name": [tags[i].get("name", "") for i in idx],
         "ref": [tags[i].get("ref", "") for i in idx]},
        geometry=feats.geometry.iloc[idx].to_numpy(), crs=WGS84)
    return _simplified(gdf, region, clip)


def boundaries_layer(feats: gpd.GeoDataFrame, tags: list[dict[str, str]],
                     clip: shapely.Geometry) -> gpd.GeoDataFrame:
    """Administrative boundary polygons touching the region (admin_level 7 and above)."""
    gt = feats.geom_type.to_numpy()
    rows, geoms = [], []
    for i, t in enumerate(tags):
        if t.get("boundary") != "administrative" or gt[i] not in ("Polygon", "MultiPolygon"):
            continue
        if not local_level(t):
            continue  # country / state borders
        if not str(feats["osm_id"].iat[i]).startswith("relation/"):
            continue
        rows.append({
            "osm_id": feats["osm_id"].iat[i],
            "name": t.get("name", ""),
            "admin_level": pd.to_numeric(t.get("admin_level"), errors="coerce"),
            "ags": t.get("de:amtlicher_gemeindeschluessel", t.get("ref:ags", "")),
            "population": pd.to_numeric(t.get("population"), errors="coerce"),
        })
        geoms.append(feats.geometry.iat[i])
    cols = ["osm_id", "name", "admin_level", "ags", "population"]
    gdf = gpd.GeoDataFrame(rows, columns=cols, geometry=geoms, crs=WGS84)
    if gdf.empty:
        return gdf
    return gdf[gdf.intersects(clip)].reset_index(drop=True)


def municipalities_from_boundaries(boundaries: gpd.GeoDataFrame, region: Region
                                   ) -> gpd.GeoDataFrame:
    """Pick the region's municipalities: by AGS, else by name (admin_level 8 first)."""
    rows = []
    for m in region.municipalities:
        cand = boundaries[boundaries["ags"] == m.ags] if m.ags else boundaries.iloc[0:0]
        if cand.empty:
            cand = boundaries[boundaries["name"] == m.name]
        if cand.empty:
            continue
        cand = cand.assign(_r=(cand["admin_level"] != 8).astype(int)).sort_values(
            ["_r", "admin_level"])
        best = cand.iloc[0]
        rows.append({"name": m.name, "ags": m.ags or str(best["ags"] or ""),
                     "osm_id": best["osm_id"], "admin_level": best["admin_level"],
                     "geometry": best.geometry})
    return gpd.GeoDataFrame(rows, columns=["name", "ags", "osm_id", "admin_level", "geometry"],
                            geometry="geometry", crs=WGS84)
