"""Central places (Zentrale Orte) as destinations: the RIN 2008 reachability test.

A category with ``source = "places"`` lists its destinations in the region file, each with
the plan that designates it (``[[categories.ID.places]]``: ``name``, ``level``, ``source``,
and either ``centre`` = a name from the centres file or ``lat``/``lon``). Nothing here is
looked up elsewhere: a designation that cannot be sourced is not listed. Works on the
embedded data alone (no OSM snapshot needed).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from dorfkarte.errors import RegionError
from dorfkarte.region import Region, raw_tables

PLACES = "places"


def places(region: Region, category: str) -> pd.DataFrame:
    """The listed places of one category: name, level, source, lat, lon (WGS84)."""
    raw = raw_tables(region.path)
    where = f"categories.{category}.places"
    rows = raw.get("categories", {}).get(category, {}).get("places", [])
    if not isinstance(rows, list):
        raise RegionError(f"Regionsdatei: '{where}' muss eine Liste von Tabellen sein")
    centres = None
    out = []
    for k, row in enumerate(rows):
        w = f"{where}[{k}]"
        if not isinstance(row, dict):
            raise RegionError(f"Regionsdatei: '{w}' muss eine Tabelle sein")
        for key in ("name", "level", "source"):
            if not str(row.get(key, "")).strip():
                raise RegionError(f"Regionsdatei: Schlüssel '{w}.{key}' fehlt (jeder zentrale "
                                  "Ort braucht den Plan, der ihn festlegt)")
        if "centre" in row:
            if centres is None:
                from dorfkarte.districts import read_centres
                centres = read_centres(region)
            hit = centres[centres["name"].astype(str) == str(row["centre"])]
            if hit.empty:
                raise RegionError(f"Regionsdatei: '{w}.centre' = {row['centre']!r} steht nicht "
                                  "in der Ortsteil-Datei (districts.centres_file)")
            lat, lon = float(hit["lat"].iloc[0]), float(hit["lon"].iloc[0])
        else:
            try:
                lat, lon = float(row["lat"]), float(row["lon"])
            except (KeyError, TypeError, ValueError):
                raise RegionError(f"Regionsdatei: '{w}' braucht 'centre' oder 'lat'/'lon'") \
                    from None
        out.append({"name": str(row["name"]), "level": str(row["level"]),
                    "designation_source": str(row["source"]), "lat": lat, "lon": lon})
    return pd.DataFrame(out, columns=["name", "level", "designation_source", "lat", "lon"])


def destinations(region: Region, category: str) -> gpd.GeoDataFrame:
    """Destination rows (coverage's columns) for a ``places`` category."""
    df = places(region, category)
    return gpd.GeoDataFrame({
        "name": df["name"], "category": category, "source": PLACES,
        "ref": df["designation_source"], "weight": float("nan"), "level": df["level"],
    }, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")


def source_column(ind: pd.DataFrame, dests: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Column ``central_place_source``: the plan designating the row's nearest place."""
    out = ind.copy()
    col = np.full(len(out), "", dtype=object)
    cats = out["category"].to_numpy()
    names = out["nearest_name"].astype(str).to_numpy()
    for cat, d in dests.items():
        if not len(d) or not (d["source"] == PLACES).any():
            continue
        ref = dict(zip(d["name"].astype(str), d["ref"].astype(str), strict=True))
        rows = np.flatnonzero(cats == cat)
        col[rows] = [ref.get(n, "") for n in names[rows]]
    out["central_place_source"] = col.astype(str)
    return out


__all__ = ["PLACES", "destinations", "places", "source_column"]
