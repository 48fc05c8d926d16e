"""Analysis units (Ortsteile): from OSM boundaries, a file, or approximated from centres.

Every unit carries ``name, municipality, kind, population, approx, source``. Where the
region's centres file knows a population, it is joined by name so results can be
population-weighted whatever the geometry source.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from dorfkarte.errors import DataError
from dorfkarte.region import Region

COLUMNS = ["name", "municipality", "kind", "population", "approx", "source"]
APPROX_SOURCE = (
    "Näherung: Voronoi-Zellen der Ortsmittelpunkte (ortsteile.csv), kein amtlicher Grenzverlauf"
)


def norm_name(name: str) -> str:
    """Loose key for matching names across sources ("Bad Belzig (Kernstadt)" ~ "Bad Belzig")."""
    s = unicodedata.normalize("NFKC", str(name)).casefold()
    s = re.sub(r"\(.*?\)", "", s)
    return re.sub(r"[^0-9a-zäöüß]+", "", s)


def read_centres(region: Region) -> pd.DataFrame:
    """The centres file (e.g. ``ortsteile.csv``): name, municipality, kind, population, lat, lon."""
    path = region.districts.centres_file
    if path is None:
        raise DataError("Region nennt keine 'districts.centres_file'")
    try:
        df = pd.read_csv(path, encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"Ortsmittelpunkte-Datei nicht gefunden: {path}") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"Ortsmittelpunkte-Datei {path} ist kein lesbares CSV: {exc}") from None
    for col in ("name", "lat", "lon"):
        if col not in df.columns:
            raise DataError(f"Ortsmittelpunkte-Datei {path}: Spalte '{col}' fehlt")
    for col in ("lat", "lon"):
        vals = pd.to_numeric(df[col], errors="coerce")
        if vals.isna().any():
            row = int(np.flatnonzero(vals.isna().to_numpy())[0]) + 2
            raise DataError(f"Ortsmittelpunkte-Datei {path}, Zeile {row}: '{col}' ist keine Zahl")
        df[col] = vals
    for col, default in (("municipality", ""), ("kind", "ortsteil")):
        if col not in df.columns:
            df[col] = default
    df["population"] = pd.to_numeric(df.get("population"), errors="coerce")
    _refuse_duplicates(df["name"], f"Ortsmittelpunkte-Datei {path}", offset=2, what="Zeile")
    return _refine_imprecise_centres(region, df)


def _refuse_duplicates(names: pd.Series, where: str, *, offset: int, what: str) -> None:
    """Two units with one name cannot be told apart in tables, maps and profiles."""
    keys = names.astype(str).str.strip()
    dup = keys.duplicated(keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        first = int(np.flatnonzero((keys == keys.iat[i]).to_numpy())[0])
        raise DataError(f"{where}, {what} {i + offset}: Name {keys.iat[i]!r} doppelt "
                        f"(schon in {what} {first + offset}); Namen der Einheiten müssen "
                        "eindeutig sein")


def _refine_imprecise_centres(region: Region, df: pd.DataFrame) -> pd.DataFrame:
    """Replace centres known only to about 1 km by the mean of the village's own stops.

    An infobox position given in whole arc-minutes can lie beside the village; used as the
    origin of the analysis it makes a well-served village look like a gap. The village's own
    stops ("Medewitz, Dorf", not the neighbouring "Medewitzerhütten") mark where people live.
    """
    path = region.districts.centre_stops_file
    marker = region.districts.imprecise_marker
    if path is None or "coord_source" not in df.columns or not marker:
        return df
    try:
        stops = pd.read_csv(path, encoding="utf-8-sig")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"Haltestellen-Zuordnung {path} ist nicht lesbar: {exc}") from None
    missing = [c for c in ("ortsteil", "stop_name", "lat", "lon") if c not in stops.columns]
    if missing:
        raise DataError(f"Haltestellen-Zuordnung {path}: Spalte '{missing[0]}' fehlt")
    df = df.copy()
    imprecise = df["coord_source"].fillna("").astype(str).str.contains(marker, regex=False)
    for i in df.index[imprecise]:
        name = str(df.at[i, "name"])
        own = stops[stops["ortsteil"] == name]
        stem = norm_name(re.split(r"[/(,]", name)[0])
        own = own[own["stop_name"].map(lambda s, stem=stem: norm_name(str(s).split(",")[0])
                                       == stem)]
        if own.empty:
            continue
        df.at[i, "lat"] = round(float(own["lat"].mean()), 6)
        df.at[i, "lon"] = round(float(own["lon"].mean()), 6)
        df.at[i, "coord_source"] = (
            f"Mittel der eigenen Haltestellen ({' | '.join(sorted(own['stop_name'].unique()))});"
            f" ursprüngliche Angabe: {df.at[i, 'coord_source']}"
        )
    return df


def from_centres(region: Region, municipalities: gpd.GeoDataFrame | None = None,
                 clip_m: float | None = None) -> gpd.GeoDataFrame:
    """Voronoi cells of the centres, clipped to the municipalities (or a hull around the centres).

    Without municipality outlines the hull reaches ``clip_m`` beyond the outer centres,
    by default the region's ``buffer_m`` (the same extent the import uses).
    Marked ``approx=True``: these are not official boundaries.
    """
    if clip_m is None:
        clip_m = region.buffer_m
    df = read_centres(region)
    pts = gpd.GeoSeries(gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326").to_crs(
        region.crs
    )
    if municipalities is not None and len(municipalities):
        extent = shapely.union_all(municipalities.to_crs(region.crs).geometry.to_numpy())
    else:
        extent = shapely.convex_hull(shapely.multipoints(pts.to_numpy())).buffer(clip_m)
    cells = shapely.voronoi_polygons(shapely.multipoints(pts.to_numpy()), extend_to=extent)
    cell_list = list(shapely.get_parts(cells))
    geoms = []
    for p in pts.to_numpy():
        cell = next(c for c in cell_list if c.covers(p))
        geoms.append(shapely.intersection(cell, extent))
    out = gpd.GeoDataFrame(
        {
            "name": df["name"].astype(str),
            "municipality": df["municipality"].astype(str),
            "kind": df["kind"].astype(str),
            "population": df["population"].astype(float),
            "approx": True,
            "source": APPROX_SOURCE,
        },
        geometry=geoms,
        crs=region.crs,
    )
    return out.to_crs("EPSG:4326")


def from_file(region: Region) -> gpd.GeoDataFrame:
    """Districts from a GeoJSON/GeoPackage with the region's name column."""
    path = region.districts.file
    assert path is not None
    try:
        gdf = pyogrio.read_dataframe(path)
    except Exception as exc:
        raise DataError(f"Bezirksdatei {path} ist nicht lesbar: {exc}") from None
    col = region.districts.name_column
    if col not in gdf.columns:
        cols = ", ".join(c for c in gdf.columns if c != "geometry") or "keine"
        raise DataError(f"Bezirksdatei {path}: Namensspalte '{col}' fehlt (vorhanden: {cols})")
    if gdf.crs is None:
        raise DataError(f"Bezirksdatei {path}: kein Koordinatensystem angegeben")
    names = gdf[col]
    if names.isna().any() or (names.astype(str).str.strip() == "").any():
        row = int(np.flatnonzero((names.isna() | (names.astype(str).str.strip() == ""))
                                 .to_numpy())[0]) + 1
        raise DataError(f"Bezirksdatei {path}, Objekt {row}: Namensspalte '{col}' ist leer")
    _refuse_duplicates(names, f"Bezirksdatei {path}", offset=1, what="Objekt")
    mcol, pcol = region.districts.municipality_column, region.districts.population_column
    out = gpd.GeoDataFrame(
        {
            "name": names.astype(str).str.strip(),
            "municipality": gdf[mcol].astype(str) if mcol in gdf else "",
            "kind": gdf["kind"].astype(str) if "kind" in gdf else "ortsteil",
            "population": pd.to_numeric(gdf[pcol], errors="coerce").astype(float)
            if pcol in gdf else np.nan,
            "approx": False,
            "source": region.districts.file_source or f"Datei {Path(path).name}",
        },
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
    ).to_crs("EPSG:4326")
    return _join_population(region, out)


def from_osm(region: Region, boundaries: gpd.GeoDataFrame,
             municipalities: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """Boundaries at the region's admin_level inside the municipalities, plus remainders.

    What of a municipality no Ortsteil polygon covers becomes its main place (Kernort),
    named from the centres file where a ``kind=kernort`` centre lies in it.
    """
    level = region.districts.admin_level
    if boundaries is None or not len(boundaries) or municipalities is None or not len(
        municipalities
    ):
        return None
    b = boundaries.to_crs(region.crs)
    m = municipalities.to_crs(region.crs)
    lvl = pd.to_numeric(b["admin_level"], errors="coerce")
    cand = b[(lvl == level) & b.geom_type.isin(["Polygon", "MultiPolygon"])]
    if cand.empty:
        return None
    rows = []
    for _, muni in m.iterrows():
        inside = cand[cand.representative_point().within(muni.geometry)]
        for _, d in inside.iterrows():
            rows.append(
                {"name": str(d["name"]), "municipality": str(muni["name"]), "kind": "ortsteil",
                 "osm_population": pd.to_numeric(d.get("population"), errors="coerce"),
                 "geometry": d.geometry.intersection(muni.geometry)}
            )
        rest = muni.geometry.difference(shapely.union_all(inside.geometry.to_numpy()))
        if not rest.is_empty and rest.area > 1e5:
            rows.append({"name": str(muni["name"]), "municipality": str(muni["name"]),
                         "kind": "kernort", "geometry": rest})
    if not rows:
        return None
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=region.crs)
    out["population"] = np.nan
    out["approx"] = False
    out["source"] = f"OpenStreetMap, Verwaltungsgrenzen admin_level={level}"
    out = _name_kernorte(region, out)
    out = _join_population(region, out.to_crs("EPSG:4326"))
    # The centres file's figures carry a source and date; OSM's population tag only fills gaps.
    if "osm_population" in out:
        out["population"] = out["population"].fillna(out["osm_population"].astype(float))
    return out[COLUMNS + ["geometry"]]


def _name_kernorte(region: Region, out: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if region.districts.centres_file is None:
        return out
    try:
        centres = read_centres(region)
    except DataError:
        return out
    kern = centres[centres["kind"] == "kernort"]
    pts = gpd.GeoSeries(gpd.points_from_xy(kern["lon"], kern["lat"]), crs="EPSG:4326").to_crs(
        region.crs
    )
    for name, pt in zip(kern["name"], pts, strict=True):
        hit = out.index[(out["kind"] == "kernort") & out.geometry.covers(pt)]
        if len(hit):
            out.loc[hit[0], "name"] = str(name)
    return out


def _join_population(region: Region, out: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fill missing population from the centres file, matching names loosely."""
    if region.districts.centres_file is None:
        return out
    try:
        centres = read_centres(region)
    except DataError:
        return out
    exact = dict(zip(centres["name"].map(norm_name), centres["population"], strict=True))
    out = out.copy()
    # float, whatever the file had (a GeoJSON column of whole numbers reads as int32)
    out["population"] = pd.to_numeric(out["population"], errors="coerce").astype(float)
    missing = out["population"].isna()
    if missing.any():
        keys = out.loc[missing, "name"].map(norm_name)
        out.loc[missing, "population"] = keys.map(exact).astype(float)
    return out


def resolve(region: Region, boundaries: gpd.GeoDataFrame | None,
            municipalities: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """The region's districts by its configured source, falling back as configured."""
    src = region.districts.source
    out = None
    if src == "osm":
        out = from_osm(region, boundaries, municipalities)
    elif src == "file":
        out = from_file(region)
    elif src == "centres":
        out = from_centres(region, municipalities)
    if out is None or out.empty:
        if region.districts.fallback == "centres":
            return from_centres(region, municipalities)
        raise DataError(
            f"Keine Ortsteil-Grenzen auf admin_level={region.districts.admin_level} gefunden "
            "und kein Ersatz ('districts.fallback') konfiguriert"
        )
    return out
