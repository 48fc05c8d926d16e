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

from dorfkarte import census, filememo
from dorfkarte.enums import PopulationSource
from dorfkarte.errors import DataError
from dorfkarte.region import Region

COLUMNS = ["name", "municipality", "kind", "population", "approx", "source",
           "population_source"]
APPROX_SOURCE = (
    "Näherung: Voronoi-Zellen der Ortsmittelpunkte (ortsteile.csv), an den amtlichen "
    "Gemeindegrenzen geschnitten; kein amtlicher Ortsteil-Grenzverlauf"
)
APPROX_SOURCE_HULL = (
    "Näherung: Voronoi-Zellen der Ortsmittelpunkte (ortsteile.csv) in einer Hülle um die "
    "Mittelpunkte (keine Gemeindegrenzen bekannt), kein amtlicher Grenzverlauf"
)


def norm_name(name: str) -> str:
    """Loose key for matching names across sources ("Bad Belzig (Kernstadt)" ~ "Bad Belzig")."""
    s = unicodedata.normalize("NFKC", str(name)).casefold()
    s = re.sub(r"\(.*?\)", "", s)
    return re.sub(r"[^0-9a-zäöüß]+", "", s)


def _centres_key(region: Region) -> tuple[tuple[str, ...], list[Path | None]]:
    d = region.districts
    return ((str(d.imprecise_marker),), [d.centres_file, d.centre_stops_file])


@filememo.by_files(_centres_key)
def read_centres(region: Region) -> pd.DataFrame:
    """The centres file (e.g. ``ortsteile.csv``): name, municipality, kind, population, lat, lon.

    Read once per file version (:mod:`dorfkarte.filememo`); each caller gets its own copy.
    """
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
    pts_arr = pts.to_numpy()
    if municipalities is not None and len(municipalities):
        mm = municipalities.to_crs(region.crs).reset_index(drop=True)
        extent = shapely.union_all(mm.geometry.to_numpy())
        # each centre's own municipality (by AGS, else name, else where it lies)
        home = _centre_municipality(df, pts_arr, mm)
    else:
        mm = None
        extent = shapely.convex_hull(shapely.multipoints(pts_arr)).buffer(clip_m)
        home = np.full(len(df), -1)
    geoms = np.empty(len(df), dtype=object)
    groups = [np.flatnonzero(home == k) for k in np.unique(home)]
    for idx in groups:
        k = home[idx[0]]
        clip = extent if k < 0 or mm is None else mm.geometry.iloc[k]
        geoms[idx] = _voronoi_in(pts_arr[idx], clip)
    out = gpd.GeoDataFrame(
        {
            "name": df["name"].astype(str),
            "municipality": df["municipality"].astype(str),
            "kind": df["kind"].astype(str),
            "population": df["population"].astype(float),
            "population_source": np.where(df["population"].notna(),
                                          PopulationSource.PUBLISHED,
                                          PopulationSource.UNKNOWN),
            "approx": True,
            "source": APPROX_SOURCE if municipalities is not None and len(municipalities)
            else APPROX_SOURCE_HULL,
        },
        geometry=list(geoms),
        crs=region.crs,
    )
    return out.to_crs("EPSG:4326")


def _centre_municipality(df: pd.DataFrame, pts: np.ndarray, mm: gpd.GeoDataFrame) -> np.ndarray:
    """Index of each centre's municipality in ``mm`` (-1 where none fits)."""
    ags_of = {str(a): k for k, a in enumerate(mm["ags"].astype(str))
              if str(a).strip() not in ("", "nan", "None")} if "ags" in mm else {}
    name_of = {norm_name(n): k for k, n in enumerate(mm["name"].astype(str))} \
        if "name" in mm else {}
    out = np.full(len(df), -1)
    for i in range(len(df)):
        a = str(df["ags"].iloc[i]).split(".")[0] if "ags" in df else ""
        k = ags_of[a] if a in ags_of else name_of.get(norm_name(str(df["municipality"].iloc[i])),
                                                      -1)
        if k < 0:
            hit = np.flatnonzero(mm.geometry.covers(shapely.Point(pts[i])).to_numpy())
            k = int(hit[0]) if len(hit) else -1
        out[i] = k
    return out


def _voronoi_in(pts: np.ndarray, clip: shapely.Geometry) -> list[shapely.Geometry]:
    """Voronoi cells of ``pts`` cut to ``clip`` (one municipality's outline)."""
    if len(pts) == 1:
        return [clip]
    cells = list(shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts),
                                                            extend_to=clip)))
    out = []
    for p in pts:
        cell = next(c for c in cells if c.covers(shapely.Point(p)))
        out.append(shapely.intersection(cell, clip))
    return out


def municipalities_from_outlines(region: Region) -> gpd.GeoDataFrame | None:
    """The region's municipalities from its outline file (e.g. BKG VG250), matched by AGS."""
    o = region.outlines
    if o.file is None:
        return None
    try:
        gdf = pyogrio.read_dataframe(o.file)
    except Exception as exc:
        raise DataError(f"Gemeindegrenzen {o.file} sind nicht lesbar: {exc}") from None
    if o.ags_column not in gdf.columns:
        raise DataError(f"Gemeindegrenzen {o.file}: AGS-Spalte '{o.ags_column}' fehlt")
    if gdf.crs is None:
        raise DataError(f"Gemeindegrenzen {o.file}: kein Koordinatensystem angegeben")
    # AGS as 8 digits whatever the file stored (a number column loses the leading zero)
    ags = gdf[o.ags_column].astype(str).str.strip().str.split(".").str[0].str.zfill(8)
    rows = []
    for mu in region.municipalities:
        if not mu.ags:
            raise DataError(f"Gemeindegrenzen {o.file}: Gemeinde {mu.name!r} hat in der "
                            "Regionsdatei keinen 'ags' (Zuordnung nur über den AGS)")
        hit = gdf[(ags == str(mu.ags).zfill(8)).to_numpy()]
        if hit.empty:
            raise DataError(f"Gemeindegrenzen {o.file}: AGS {mu.ags} ({mu.name}) nicht in "
                            f"Spalte '{o.ags_column}'")
        rows.append({"name": mu.name, "ags": str(mu.ags),
                     "geometry": shapely.union_all(hit.to_crs("EPSG:4326").geometry.to_numpy())})
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    out["osm_id"] = ""
    out["admin_level"] = 8
    out["source"] = o.source or f"Datei {Path(o.file).name}"
    return out


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
        osm = out["population"].isna() & out["osm_population"].notna()
        out["population"] = out["population"].fillna(out["osm_population"].astype(float))
        out.loc[osm, "population_source"] = PopulationSource.OSM
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
    out = out.copy()
    pop = pd.to_numeric(out["population"], errors="coerce")
    out["population_source"] = np.where(pop.notna(), PopulationSource.PUBLISHED,
                                        PopulationSource.UNKNOWN)
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
    out["population_source"] = np.where(out["population"].notna(), PopulationSource.PUBLISHED,
                                        PopulationSource.UNKNOWN)
    return out


def add_census_population(region: Region, d: gpd.GeoDataFrame, cells: gpd.GeoDataFrame,
                          homes_xy: np.ndarray | None = None,
                          home_kind: np.ndarray | None = None) -> gpd.GeoDataFrame:
    """Every unit gets residents: its published figure, else the census estimate.

    Adds ``census_population`` (cells split by area share, or by residential buildings
    when ``homes_xy`` (metric, ``region.crs``) is given) and ``population_source``
    (:class:`~dorfkarte.enums.PopulationSource`).
    """
    out = d.copy()
    dm = out.to_crs(region.crs)
    pieces = census.place(cells.to_crs(region.crs), dm, homes_xy, home_kind)
    est = pieces.totals(len(out))
    pop = pd.to_numeric(out.get("population"), errors="coerce").astype(float)
    src = out["population_source"].astype(str) if "population_source" in out else \
        pd.Series(np.where(pop.notna(), PopulationSource.PUBLISHED, PopulationSource.UNKNOWN),
                  index=out.index)
    fill = pop.isna() | (pop <= 0)
    src = src.where(~fill, PopulationSource.CENSUS)
    pop = pop.where(~fill, est)
    # a unit the census has nobody in stays unknown, never 0 residents by default
    none = fill & ~(est > 0)
    pop = pop.where(~none, np.nan)
    src = src.where(~none, PopulationSource.UNKNOWN)
    out["population"] = pop.to_numpy(dtype=float)
    out["population_source"] = src.astype(str).to_numpy()
    out["census_population"] = est
    out["census_method"] = "buildings" if pieces.by_buildings else "area"
    return out


def population_notes(d: pd.DataFrame, census_total: float | None, max_deviation: float,
                     grid_label: str = "Zensus 2022") -> list[str]:
    """German data-status notes: census estimates used, published vs census, totals."""
    notes: list[str] = []
    if "population_source" not in d:
        return notes
    src = d["population_source"].astype(str)
    pop = pd.to_numeric(d["population"], errors="coerce").astype(float)
    est = pd.to_numeric(d.get("census_population"), errors="coerce").astype(float)
    cen = d.loc[src == PopulationSource.CENSUS, "name"].astype(str).tolist()
    if cen:
        method = str(d["census_method"].iloc[0]) if "census_method" in d else "area"
        how = "nach Wohngebäuden" if method == "buildings" else "nach Flächenanteilen"
        notes.append(f"Einwohner geschätzt aus {grid_label} ({how} verteilt) für "
                     + ", ".join(cen[:6]) + (" …" if len(cen) > 6 else "")
                     + "; sonst veröffentlichte Zahlen (ortsteile.csv).")
    pub = (src == PopulationSource.PUBLISHED) & (est > 0)
    dev = (pop - est).abs() / est
    for i in np.flatnonzero((pub & (dev > max_deviation)).to_numpy()):
        notes.append(f"{d['name'].iloc[i]}: veröffentlicht {_n(pop.iloc[i])} Einwohner, "
                     f"{grid_label} schätzt {_n(est.iloc[i])} (Abweichung "
                     f"{dev.iloc[i] * 100:.0f} %)")
    if census_total is not None and census_total > 0:
        total = float(np.nansum(pop.to_numpy()))
        diff = f"{(total / census_total - 1) * 100:+.1f}".replace(".", ",")
        notes.append(f"Summe der Einheiten {_n(total)} Einwohner; {grid_label} für die "
                     f"Gemeinden {_n(census_total)} ({diff} %).")
    return notes


def _n(x: float) -> str:
    return f"{x:,.0f}".replace(",", ".")


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
