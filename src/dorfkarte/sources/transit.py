"""Transit stops from a GTFS ``stops.txt`` (optionally with a ``weight`` column).

``weight`` is how well served a stop is (arrivals + departures in the timetable, as the
VBB-derived file carries it). Poles of one stop share a name and are merged into one
service point, so a village with two poles counts once with their summed service.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from dorfkarte.errors import DataError

REQUIRED = ("stop_id", "stop_name", "stop_lat", "stop_lon")


def read_stops(path: str | Path) -> gpd.GeoDataFrame:
    """Read GTFS stops; raise :class:`DataError` naming the row or column that is wrong."""
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype={"stop_id": str, "parent_station": str}, encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"Haltestellendatei nicht gefunden: {path}") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"Haltestellendatei {path} ist kein lesbares CSV: {exc}") from None
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise DataError(f"Haltestellendatei {path}: Spalte '{missing[0]}' fehlt")
    for col, lo, hi in (("stop_lat", -90, 90), ("stop_lon", -180, 180)):
        vals = pd.to_numeric(df[col], errors="coerce")
        bad = vals.isna() | (vals < lo) | (vals > hi)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2  # header is line 1
            raise DataError(
                f"Haltestellendatei {path}, Zeile {row}: '{col}' = {df[col].iloc[row - 2]!r} "
                "ist keine gültige Koordinate"
            )
        df[col] = vals
    if "weight" not in df.columns:
        df["weight"] = np.nan
    df["weight"] = pd.to_numeric(df["weight"], errors="coerce")
    if "location_type" not in df.columns:
        df["location_type"] = 0
    df["location_type"] = pd.to_numeric(df["location_type"], errors="coerce").fillna(0).astype(int)
    if "parent_station" not in df.columns:
        df["parent_station"] = None
    return gpd.GeoDataFrame(
        df[["stop_id", "stop_name", "location_type", "parent_station", "weight"]],
        geometry=gpd.points_from_xy(df["stop_lon"], df["stop_lat"]),
        crs="EPSG:4326",
    )


def service_points(stops: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """One point per stop name: mean position of its poles, summed weight.

    Platforms that belong to a station carry no weight of their own (the station has it),
    so summing the non-empty weights of all rows of a name counts each departure once.
    """
    proj = stops.to_crs(crs)
    df = pd.DataFrame(
        {
            "name": proj["stop_name"].to_numpy(),
            "x": proj.geometry.x.to_numpy(),
            "y": proj.geometry.y.to_numpy(),
            "weight": proj["weight"].to_numpy(),
            "stop_id": proj["stop_id"].to_numpy(),
        }
    )
    grouped = df.groupby("name", sort=True).agg(
        x=("x", "mean"),
        y=("y", "mean"),
        weight=("weight", lambda s: float(s.sum(min_count=1)) if s.notna().any() else np.nan),
        stop_id=("stop_id", "first"),
        poles=("stop_id", "size"),
    )
    grouped = grouped.reset_index()
    return gpd.GeoDataFrame(
        grouped[["stop_id", "name", "weight", "poles"]],
        geometry=gpd.points_from_xy(grouped["x"], grouped["y"]),
        crs=crs,
    ).to_crs("EPSG:4326")
