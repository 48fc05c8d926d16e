"""Listings as coverage destinations, and merging them with the OSM amenities.

The coverage engine takes listings as ``extra_destinations``: one point per service
category, filtered by *when* the service is there. A listing and an OSM feature of the
same category a few metres apart with a similar name are one place: shown once, with
both sources named, so a shop mapped in OSM and listed by the town is not counted twice.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from dorfkarte.enums import Source
from dorfkarte.listings.schedule import When, available
from dorfkarte.listings.store import ListingStore
from dorfkarte.region import Region

DEST_COLUMNS = ["name", "category", "source", "ref", "kind", "example", "opening_hours",
                "listing_source", "provider", "geometry"]
#: Largest distance (m) between a listing and an OSM feature that can be the same place.
MERGE_DISTANCE_M = 75.0
#: Smallest name similarity (0..1, difflib ratio on simplified names) for the same place.
MERGE_NAME_RATIO = 0.6

#: Source names shown to users. The transit operator differs by region: see
#: :func:`source_label`; "ÖPNV" is the neutral fallback.
SOURCE_LABELS = {Source.OSM: "OSM", Source.LISTING: "Angebotsliste",
                 Source.TRANSIT: "ÖPNV"}
BOTH_LABEL = "OSM + Angebotsliste"


def source_label(source: str, region: Region | None = None) -> str:
    """User-facing name of a destination source; transit names the region's timetable.

    The region file's ``transit.source`` is a full citation ("VBB Verkehrsverbund
    Berlin-Brandenburg GmbH, GTFS (...)"); its first part names the operator.
    """
    if source == Source.TRANSIT:
        cited = (region.transit.source if region is not None else "").split(",")[0].strip()
        return f"ÖPNV ({cited})" if cited else SOURCE_LABELS[Source.TRANSIT]
    return SOURCE_LABELS.get(source, source)


def destinations(store_or_gdf: ListingStore | gpd.GeoDataFrame, region: Region,
                 when: When = None, *, today: dt.date | None = None) -> gpd.GeoDataFrame:
    """Listings available at ``when`` as coverage destinations, one row per category.

    ``when``: None (all listings, schedules ignored), a datetime ("there on Tuesday 10:30")
    or "weekly" ("there at least once in each of the next weeks", from ``today``).
    Columns: name, category, source ("listing"), ref (listing id), kind, example (bool),
    opening_hours, listing_source (the listing's own ``source`` field, e.g. "Smart Village
    App <url>"), provider, geometry (EPSG:4326). Categories the region does not know are dropped.
    """
    gdf = store_or_gdf.read() if hasattr(store_or_gdf, "read") else store_or_gdf
    rows: list[dict] = []
    if gdf is not None and len(gdf):
        g = gdf.to_crs("EPSG:4326") if gdf.crs is not None and str(gdf.crs) != "EPSG:4326" \
            else gdf
        for rec, geom in zip(g.drop(columns="geometry").to_dict("records"), g.geometry,
                             strict=True):
            if geom is None or geom.is_empty:
                continue
            sched = _s(rec.get("opening_hours"))
            if not available(sched, when, _s(rec.get("valid_from")), _s(rec.get("valid_to")),
                             today=today):
                continue
            for cat in [c.strip() for c in _s(rec.get("category")).split(",") if c.strip()]:
                if cat not in region.categories:
                    continue
                rows.append({"name": _s(rec.get("name")), "category": cat,
                             "source": Source.LISTING,
                             "ref": _s(rec.get("id")), "kind": _s(rec.get("kind")) or "fixed",
                             "example": bool(rec.get("example") or False),
                             "opening_hours": sched,
                             "listing_source": _s(rec.get("source")),
                             "provider": _s(rec.get("provider")), "geometry": geom})
    if not rows:
        return gpd.GeoDataFrame({c: pd.Series(dtype=bool if c == "example" else object)
                                 for c in DEST_COLUMNS if c != "geometry"},
                                geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    return gpd.GeoDataFrame(rows, columns=DEST_COLUMNS, geometry="geometry", crs="EPSG:4326")


def merge_with_osm(listing_points: gpd.GeoDataFrame, amenities: gpd.GeoDataFrame | None, *,
                   max_distance_m: float = MERGE_DISTANCE_M,
                   min_ratio: float = MERGE_NAME_RATIO,
                   crs: str | None = None,
                   region: Region | None = None) -> gpd.GeoDataFrame:
    """OSM amenities and listing points as one set of places, each place once.

    A pair (same category, at most ``max_distance_m`` apart, name similarity at least
    ``min_ratio``) becomes one row at the OSM position carrying the listing's name,
    schedule and id; ``sources`` says "OSM + Angebotsliste". Each feature joins at most one
    pair (best score first). Columns: name, category, source, ref, kind, example,
    opening_hours, sources, osm_id, listing_id, osm_name, geometry (EPSG:4326).
    ``crs`` is the metric CRS for distances (the region's if ``region`` is given;
    estimated UTM if None). Rows of ``amenities`` whose ``source`` column says "transit"
    (stops) are named after the region's timetable source, not as OSM.
    """
    if crs is None and region is not None:
        crs = region.crs
    lp = _points(listing_points)
    am = _points(amenities) if amenities is not None else lp.iloc[0:0]
    if crs is None:
        both = pd.concat([lp.geometry, am.geometry])
        crs = str(gpd.GeoSeries(both, crs="EPSG:4326").estimate_utm_crs()) if len(both) \
            else "EPSG:3857"
    pairs = _pairs(lp, am, crs, max_distance_m, min_ratio)
    used_l = {i for i, _, _ in pairs}
    used_a = {j for _, j, _ in pairs}
    out: list[dict] = []
    for j, a in am.iterrows():
        osm_id = _s(a.get("osm_id", a.get("ref", "")))
        src = Source.TRANSIT if _s(a.get("source")) == Source.TRANSIT else Source.OSM
        base = {"name": _s(a.get("name")), "category": _s(a.get("category")), "source": src,
                "ref": osm_id, "kind": "fixed", "example": False, "opening_hours": "",
                "sources": source_label(src, region), "osm_id": osm_id, "listing_id": "",
                "osm_name": _s(a.get("name")), "geometry": a.geometry}
        if j in used_a:
            i = next(i for i, jj, _ in pairs if jj == j)
            lrow = lp.loc[i]
            base.update(name=_s(lrow.get("name")) or base["name"],
                        kind=_s(lrow.get("kind")) or "fixed",
                        example=bool(lrow.get("example") or False),
                        opening_hours=_s(lrow.get("opening_hours")),
                        sources=(BOTH_LABEL if src == Source.OSM else
                                 f"{source_label(src, region)} + {SOURCE_LABELS['listing']}"),
                        listing_id=_s(lrow.get("ref", lrow.get("id", ""))))
        out.append(base)
    for i, lrow in lp.iterrows():
        if i in used_l:
            continue
        out.append({"name": _s(lrow.get("name")), "category": _s(lrow.get("category")),
                    "source": Source.LISTING, "ref": _s(lrow.get("ref", lrow.get("id", ""))),
                    "kind": _s(lrow.get("kind")) or "fixed",
                    "example": bool(lrow.get("example") or False),
                    "opening_hours": _s(lrow.get("opening_hours")),
                    "sources": SOURCE_LABELS[Source.LISTING], "osm_id": "",
                    "listing_id": _s(lrow.get("ref", lrow.get("id", ""))), "osm_name": "",
                    "geometry": lrow.geometry})
    cols = ["name", "category", "source", "ref", "kind", "example", "opening_hours", "sources",
            "osm_id", "listing_id", "osm_name", "geometry"]
    if not out:
        return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in cols[:-1]},
                                geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    return gpd.GeoDataFrame(out, columns=cols, geometry="geometry", crs="EPSG:4326")


def name_similarity(a: str, b: str) -> float:
    """0..1; 1.0 when one simplified name contains the other ("Netto" in "Netto Filiale")."""
    x, y = _simple(a), _simple(b)
    if not x or not y:
        return 0.0
    if x in y or y in x:
        return 1.0
    return difflib.SequenceMatcher(None, x, y).ratio()


# -- helpers ------------------------------------------------------------------------------

def _s(v: object) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return str(v)


def _simple(name: str) -> str:
    s = unicodedata.normalize("NFKC", _s(name)).casefold()
    s = re.sub(r"\(.*?\)", " ", s)
    return " ".join(re.findall(r"[0-9a-zäöüß]+", s))


def _points(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    g = gdf.to_crs("EPSG:4326") if gdf.crs is not None and str(gdf.crs) != "EPSG:4326" else gdf
    g = g[g.geometry.notna() & ~g.geometry.is_empty].copy()
    not_pt = g.geom_type != "Point"
    if not_pt.any():
        g.loc[not_pt, "geometry"] = g.geometry[not_pt].representative_point()
    return g.reset_index(drop=True)


def _pairs(lp: gpd.GeoDataFrame, am: gpd.GeoDataFrame, crs: str, max_d: float,
           min_ratio: float) -> list[tuple[int, int, float]]:
    if not len(lp) or not len(am):
        return []
    lx = lp.geometry.to_crs(crs)
    ax = am.geometry.to_crs(crs)
    tree = cKDTree(np.column_stack([ax.x.to_numpy(), ax.y.to_numpy()]))
    cand: list[tuple[float, int, int]] = []
    lcats = lp["category"].astype(str).to_numpy()
    acats = am["category"].astype(str).to_numpy()
    for i, near in enumerate(tree.query_ball_point(
            np.column_stack([lx.x.to_numpy(), lx.y.to_numpy()]), r=max_d)):
        for j in near:
            if lcats[i] != acats[j]:
                continue
            ratio = name_similarity(_s(lp["name"].iloc[i]), _s(am["name"].iloc[j])
                                    if "name" in am else "")
            if ratio >= min_ratio:
                d = float(lx.iloc[i].distance(ax.iloc[j]))
                cand.append((ratio - d / (10 * max_d), i, j))
    cand.sort(reverse=True)
    used_l: set[int] = set()
    used_a: set[int] = set()
    pairs = []
    for score, i, j in cand:
        if i in used_l or j in used_a:
            continue
        used_l.add(i)
        used_a.add(j)
        pairs.append((i, j, score))
    return pairs
