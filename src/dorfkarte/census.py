"""Census grid (Zensus 2022): read and check cells, split their residents over units and homes.

The statistical office publishes residents per grid cell (1 km or 100 m, INSPIRE grid in
ETRS89-LAEA, EPSG:3035) with shares of people 65+ and under 18. A cell rarely matches an
Ortsteil: where it straddles units its residents are split by area share; where a snapshot
knows the residential buildings, each building gets its cell's residents in proportion to
its weight (count or floor area: dasymetric mapping, as GOAT does with Zensus data). Both
splits keep every cell's total exactly, so sums over units add up to the census.

Secret values (``-9``, ``-1``: "not published") are never read as 0 %: such a cell takes the
resident-weighted share of its municipality and is flagged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dorfkarte.errors import DataError
from dorfkarte.region import PopulationGrid

#: INSPIRE grid ids as Destatis writes them: CRS3035RES1000mN3210000E4478000 (lower-left corner).
GRID_ID = re.compile(r"^CRS(\d{4,5})RES(\d+)mN(\d+)E(\d+)$")
#: Cells whose centre lies further than this from the region are an error (wrong file/CRS).
MAX_OUTSIDE_M = 25_000.0
CELL_COLUMNS = ["cell_id", "row", "residents", "share_65plus", "share_under18",
                "secret_65plus", "secret_under18"]
#: Column of the official Zensus 2022 downloads -> cell size in metres.
OFFICIAL_ID_COLUMNS = {"GITTER_ID_100m": 100.0, "GITTER_ID_1km": 1000.0,
                       "GITTER_ID_10km": 10000.0}


class GridError(DataError):
    """A census grid file that cannot be used (one line: file, row, column)."""


@dataclass
class Split:
    """Residents of cell parts: one row per (cell, unit) piece, with its geometry."""

    cell: np.ndarray  # index into the cells frame
    unit: np.ndarray  # index into the units frame
    residents: np.ndarray
    geometry: np.ndarray  # shapely geometries (metric CRS of the units)


def _csv(path: Path, sep: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep=sep, dtype=str, encoding="utf-8-sig",
                           keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise GridError(f"Gitterdatei nicht gefunden: {path}") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise GridError(f"Gitterdatei {path} ist kein lesbares CSV: {exc}") from None


def _line(raw: pd.Series, i: int) -> int:
    """The file line of positional row ``i`` (header = line 1)."""
    return int(raw.index[i]) + 2


def _numbers(raw: pd.Series, path: Path, col: str, allow_empty: bool) -> np.ndarray:
    """German or English decimals; empty -> NaN where allowed; else one-line error."""
    txt = raw.astype(str).str.strip().str.replace(",", ".", regex=False)
    txt = txt.replace({"–": "", "-": "", "—": ""}) if allow_empty else txt
    vals = pd.to_numeric(txt.where(txt != "", None), errors="coerce")
    bad = vals.isna() & ((txt != "") | (not allow_empty))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise GridError(f"Gitterdatei {path}, Zeile {_line(raw, i)}, Spalte '{col}': "
                        f"{raw.iloc[i]!r} ist keine Zahl")
    return vals.to_numpy(dtype=float)


def read_grid(settings: PopulationGrid, path: str | Path | None = None,
              df: pd.DataFrame | None = None, first_row: int = 2) -> gpd.GeoDataFrame:
    """Cells as square polygons (EPSG:3035 for grid ids, else ``settings.crs``).

    Columns :data:`CELL_COLUMNS`: ``row`` is the file's line number (for messages),
    shares are percent with NaN where the office kept the value secret. ``df`` (text
    columns) and ``first_row`` let :func:`read_official` check a national file chunk by
    chunk.
    """
    path = Path(path or settings.file or "")
    if df is None:
        df = _csv(path, settings.separator)
    df = df.reset_index(drop=True)
    df.index = df.index + (first_row - 2)  # messages name the file's own line
    need = [settings.residents_column]
    need += [settings.id_column] if settings.id_column else [settings.x_column,
                                                              settings.y_column]
    need += [c for c in (settings.share_65plus_column, settings.share_under18_column) if c]
    for col in need:
        if col not in df.columns:
            have = ", ".join(df.columns[:8])
            raise GridError(f"Gitterdatei {path}, Zeile 1, Spalte '{col}' fehlt "
                            f"(vorhanden: {have})")
    if df.empty:
        raise GridError(f"Gitterdatei {path}: keine Gitterzellen")
    residents = _numbers(df[settings.residents_column], path, settings.residents_column, False)
    neg = residents < 0
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        raise GridError(f"Gitterdatei {path}, Zeile {_line(df, i)}, Spalte "
                        f"'{settings.residents_column}': negative Einwohnerzahl "
                        f"{residents[i]:g} (geheim gehaltene Zahl?)")
    if settings.id_column:
        crs, size, x0, y0 = _parse_ids(df[settings.id_column], path, settings.id_column)
        ids = df[settings.id_column].astype(str).str.strip().to_numpy()
    else:
        crs = settings.crs
        _check_metric(crs, path)
        cx = _numbers(df[settings.x_column], path, settings.x_column, False)
        cy = _numbers(df[settings.y_column], path, settings.y_column, False)
        size = np.full(len(df), float(settings.cell_m))
        x0, y0 = cx - size / 2, cy - size / 2
        ids = np.array([f"{crs}:{a:.0f}:{b:.0f}" for a, b in zip(cx, cy, strict=True)])
    shares = {}
    for key, col in (("65plus", settings.share_65plus_column),
                     ("under18", settings.share_under18_column)):
        if not col:
            shares[key] = (np.full(len(df), np.nan), np.ones(len(df), dtype=bool))
            continue
        v = _numbers(df[col], path, col, True)
        secret = np.isin(v, settings.secret_values) | np.isnan(v)
        out_of_range = ~secret & ((v < 0) | (v > 100))
        if out_of_range.any():
            i = int(np.flatnonzero(out_of_range)[0])
            raise GridError(f"Gitterdatei {path}, Zeile {_line(df, i)}, Spalte '{col}': Anteil "
                            f"{v[i]:g} liegt nicht zwischen 0 und 100 %")
        shares[key] = (np.where(secret, np.nan, v), secret)
    geoms = shapely.box(x0, y0, x0 + size, y0 + size)
    return gpd.GeoDataFrame({
        "cell_id": ids,
        "row": df.index.to_numpy(dtype=np.int64) + 2,
        "residents": residents,
        "share_65plus": shares["65plus"][0],
        "share_under18": shares["under18"][0],
        "secret_65plus": shares["65plus"][1],
        "secret_under18": shares["under18"][1],
    }, geometry=geoms, crs=crs)


def _check_metric(crs: str, path: Path) -> None:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        c = CRS.from_user_input(crs)
    except CRSError:
        raise GridError(f"Gitterdatei {path}: Koordinatensystem {crs!r} ist unbekannt") from None
    if not c.is_projected or {a.unit_name for a in c.axis_info} != {"metre"}:
        raise GridError(f"Gitterdatei {path}: Koordinatensystem {crs!r} ist nicht metrisch "
                        "(Gitterzellen brauchen Meter, z. B. EPSG:3035)")


def _parse_ids(col: pd.Series, path: Path, name: str
               ) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    txt = col.astype(str).str.strip()
    parts = txt.str.extract(GRID_ID)
    bad = parts[0].isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise GridError(f"Gitterdatei {path}, Zeile {_line(txt, i)}, Spalte '{name}': "
                        f"{txt.iloc[i]!r} ist keine Gitterzellen-Kennung "
                        "(erwartet CRS3035RES1000mN…E…)")
    epsg = parts[0].unique()
    if len(epsg) != 1:
        i = int(np.flatnonzero((parts[0] != epsg[0]).to_numpy())[0])
        raise GridError(f"Gitterdatei {path}, Zeile {_line(txt, i)}, Spalte '{name}': "
                        f"Koordinatensystem EPSG:{parts[0].iloc[i]} statt EPSG:{epsg[0]}")
    crs = f"EPSG:{epsg[0]}"
    _check_metric(crs, path)
    size = parts[1].astype(float).to_numpy()
    y0 = parts[2].astype(float).to_numpy()
    x0 = parts[3].astype(float).to_numpy()
    return crs, size, x0, y0


def check_extent(cells: gpd.GeoDataFrame, area: shapely.Geometry, area_crs: str,
                 path: str | Path, column: str, max_m: float = MAX_OUTSIDE_M) -> None:
    """Error for the first cell far outside ``area`` (a wrong file or mixed-up x/y)."""
    c = cells.to_crs(area_crs).geometry.centroid
    far = c.distance(area).to_numpy() > max_m
    if far.any():
        i = int(np.flatnonzero(far)[0])
        raise GridError(f"Gitterdatei {path}, Zeile {int(cells['row'].iloc[i])}, Spalte "
                        f"'{column}': Zelle {cells['cell_id'].iloc[i]} liegt mehr als "
                        f"{max_m / 1000:.0f} km außerhalb der Region")


def split_by_area(cells: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> Split:
    """Cut cells by units; each piece gets the cell's residents by its share of the area.

    Both frames in the same metric CRS. Where the units cover a cell completely, its pieces
    sum to the cell total (shares of the covered area, so slivers of float error in the
    cut do not lose anyone); a piece outside every unit is not moved inside (those
    residents live elsewhere).
    """
    if cells.crs != units.crs:
        cells = cells.to_crs(units.crs)
    cg = cells.geometry.to_numpy()
    ug = units.geometry.to_numpy()
    tree = shapely.STRtree(ug)
    ci, ui = tree.query(cg, predicate="intersects")
    pieces = shapely.intersection(cg[ci], ug[ui])
    area = shapely.area(pieces)
    keep = area > 0
    ci, ui, pieces, area = ci[keep], ui[keep], pieces[keep], area[keep]
    cell_area = shapely.area(cg)
    covered = np.bincount(ci, weights=area, minlength=len(cg))
    full = covered >= cell_area * (1 - 1e-6)
    denom = np.where(full, covered, cell_area)[ci]
    res = cells["residents"].to_numpy(dtype=float)
    r = res[ci] * area / denom
    return Split(ci, ui, r, pieces)


def split_by_buildings(cell_of_home: np.ndarray, weights: np.ndarray,
                       cell_residents: np.ndarray) -> np.ndarray:
    """Residents per home: its cell's residents in proportion to its weight (count/area).

    ``cell_of_home`` is the index of each home's cell (-1: in no populated cell, gets 0).
    Homes of one cell add up to the cell total (up to float rounding, ~1e-12 persons).
    """
    cell_of_home = np.asarray(cell_of_home, dtype=np.int64)
    w = np.where(np.isfinite(weights) & (weights > 0), weights, 0.0).astype(float)
    inside = cell_of_home >= 0
    w_in = np.where(inside, w, 0.0)
    n = len(cell_residents)
    total_w = np.bincount(cell_of_home[inside], weights=w_in[inside], minlength=n)
    # a cell whose homes all have weight 0: count them equally
    zero = inside & (total_w[np.maximum(cell_of_home, 0)] <= 0)
    w_in = np.where(zero, 1.0, w_in)
    total_w = np.bincount(cell_of_home[inside], weights=w_in[inside], minlength=n)
    out = np.zeros(len(cell_of_home))
    cidx = cell_of_home[inside]
    out[inside] = cell_residents[cidx] * w_in[inside] / total_w[cidx]
    return out


def municipality_shares(cells: gpd.GeoDataFrame, munis: gpd.GeoDataFrame,
                        name_col: str = "name") -> dict[str, dict[str, float]]:
    """Resident-weighted 65+ / under-18 share (percent) per municipality, published cells only.

    Used for cells whose own share is secret: the municipality's share, never 0 %.
    """
    split = split_by_area(cells, munis)
    out: dict[str, dict[str, float]] = {}
    for k, name in enumerate(munis[name_col].astype(str)):
        sel = split.unit == k
        entry = {}
        for key in ("65plus", "under18"):
            s = cells[f"share_{key}"].to_numpy(dtype=float)[split.cell[sel]]
            r = split.residents[sel]
            ok = np.isfinite(s)
            entry[key] = float(np.sum(s[ok] * r[ok]) / np.sum(r[ok])) if r[ok].sum() > 0 \
                else float("nan")
        out[name] = entry
    # a municipality without any published cell: the region's share
    allr = cells["residents"].to_numpy(dtype=float)
    for key in ("65plus", "under18"):
        s = cells[f"share_{key}"].to_numpy(dtype=float)
        ok = np.isfinite(s)
        region_share = float(np.sum(s[ok] * allr[ok]) / np.sum(allr[ok])) if ok.any() \
            else float("nan")
        for entry in out.values():
            if not np.isfinite(entry[key]):
                entry[key] = region_share
    return out


def totals_by_unit(split: Split, n_units: int) -> np.ndarray:
    """Census residents per unit (sum of its cell pieces)."""
    return np.bincount(split.unit, weights=split.residents, minlength=n_units)


def grid_layer(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Cells with residents per km² (for the light "Einwohner je km²" map layer)."""
    out = cells.copy()
    area_km2 = out.geometry.area.to_numpy() / 1e6
    out["density"] = out["residents"].to_numpy(dtype=float) / np.maximum(area_km2, 1e-9)
    return out


def read_official(path: str | Path, bbox: tuple[float, float, float, float] | None = None,
                  chunk_rows: int = 500_000) -> tuple[gpd.GeoDataFrame, PopulationGrid]:
    """An official Zensus 2022 CSV (``;``-separated, ``GITTER_ID_100m``/``_1km``, Einwohner).

    The national file has millions of rows: it is read in chunks, every chunk checked, and
    only cells intersecting ``bbox`` (EPSG:3035 metres) are kept.
    """
    path = Path(path)
    sep, cols, id_col = official_header(path)
    settings = PopulationGrid(
        file=path, id_column=id_col, residents_column="Einwohner", separator=sep,
        share_65plus_column=next((c for c in cols if c.startswith("Anteil_ab65")
                                  or c.startswith("Anteil_ueber_65")), ""),
        share_under18_column=next((c for c in cols if c.startswith("Anteil_unter18")
                                   or c.startswith("Anteil_unter_18")), ""),
        source=f"Statistisches Bundesamt (Destatis), Zensus 2022, {path.name}",
        licence="dl-de/by-2-0",
        attribution="Einwohner: Statistisches Bundesamt (Destatis), Zensus 2022, dl-de/by-2-0",
        data_date="2022-05-15",
    )
    frames = []
    first = 2
    try:
        reader = pd.read_csv(path, sep=sep, dtype=str, encoding="utf-8-sig",
                             keep_default_na=False, chunksize=chunk_rows,
                             skipinitialspace=True)
        for chunk in reader:
            cells = read_grid(settings, path, df=chunk, first_row=first)
            first += len(chunk)
            if bbox is not None:
                cells = cells.cx[bbox[0]:bbox[2], bbox[1]:bbox[3]]
            frames.append(cells)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise GridError(f"Gitterdatei {path} ist kein lesbares CSV: {exc}") from None
    if not frames:
        raise GridError(f"Gitterdatei {path}: keine Gitterzellen")
    out = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=frames[0].crs), settings


def official_header(path: str | Path) -> tuple[str, list[str], str]:
    """Separator, columns and grid-id column of an official census CSV (its first line).

    The import form checks this before starting the long read (:func:`read_official`).
    """
    path = Path(path)
    if path.is_dir():
        raise GridError(f"Gitterdatei nicht gefunden: {path}")
    head = _csv_head(path)
    sep = ";" if head.count(";") >= head.count(",") else ","
    cols = [c.strip().strip('"').lstrip("\ufeff") for c in head.split(sep)]
    id_col = next((c for c in cols if c in OFFICIAL_ID_COLUMNS), "")
    if not id_col:
        raise GridError(f"Gitterdatei {path}, Zeile 1: keine Spalte GITTER_ID_100m / "
                        "GITTER_ID_1km (amtliche Zensus-2022-Gitterdatei erwartet)")
    return sep, cols, id_col


def _csv_head(path: Path) -> str:
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            return fh.readline().strip()
    except FileNotFoundError:
        raise GridError(f"Gitterdatei nicht gefunden: {path}") from None
    except OSError as exc:
        raise GridError(f"Gitterdatei {path} ist nicht lesbar: {exc}") from None


@dataclass
class Pieces:
    """Where the census puts people: one row per origin-to-be, in the units' metric CRS.

    ``kind`` is the home's kind (``building``/``address``) for homes that took their
    cell's residents, ``census`` for a cell piece without any known home.
    """

    unit: np.ndarray
    xy: np.ndarray  # (n, 2)
    residents: np.ndarray
    cell: np.ndarray
    kind: np.ndarray
    by_buildings: bool

    def totals(self, n_units: int) -> np.ndarray:
        return np.bincount(self.unit, weights=self.residents, minlength=n_units)


def first_unit(units_m: gpd.GeoDataFrame, xy: np.ndarray) -> np.ndarray:
    """Index of the first unit each point lies in (-1: none); a shared border: the first."""
    tree = shapely.STRtree(units_m.geometry.to_numpy())
    pi, di = tree.query(shapely.points(xy), predicate="intersects")
    out = np.full(len(xy), -1, dtype=np.int64)
    order = np.lexsort((-di, pi))  # last write wins: the smallest unit index
    out[pi[order]] = di[order]
    return out


def place(cells_m: gpd.GeoDataFrame, units_m: gpd.GeoDataFrame,
          home_xy: np.ndarray | None = None, home_kind: np.ndarray | None = None,
          home_weight: np.ndarray | None = None) -> Pieces:
    """Residents of every cell placed on homes (dasymetric) or on the cell's pieces.

    ``cells_m`` and ``units_m`` in the same metric CRS. A cell with homes in some unit gives
    all its residents to those homes (weights: floor area or 1 each); a cell without homes
    keeps them on its pieces (area shares), at a point on each piece.
    """
    n_cells = len(cells_m)
    res = cells_m["residents"].to_numpy(dtype=float)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    with_homes = np.zeros(n_cells, dtype=bool)
    if home_xy is not None and len(home_xy):
        unit = first_unit(units_m, home_xy)
        ok = unit >= 0
        hxy, unit = home_xy[ok], unit[ok]
        kinds = (np.asarray(home_kind)[ok] if home_kind is not None
                 else np.full(len(hxy), "building"))
        w = (np.asarray(home_weight, dtype=float)[ok] if home_weight is not None
             else np.ones(len(hxy)))
        tree = shapely.STRtree(cells_m.geometry.to_numpy())
        pi, ci = tree.query(shapely.points(hxy), predicate="intersects")
        cell = np.full(len(hxy), -1, dtype=np.int64)
        order = np.lexsort((-ci, pi))
        cell[pi[order]] = ci[order]
        r = split_by_buildings(cell, w, res)
        with_homes[cell[cell >= 0]] = True
        parts.append((unit, hxy, r, cell, kinds.astype(object)))
    split = split_by_area(cells_m, units_m)
    keep = ~with_homes[split.cell] & (split.residents > 0)
    if keep.any():
        geoms = split.geometry[keep]
        pts = shapely.point_on_surface(geoms)
        xy = shapely.get_coordinates(pts)
        parts.append((split.unit[keep], xy, split.residents[keep], split.cell[keep],
                      np.full(int(keep.sum()), "census", dtype=object)))
    if not parts:
        return Pieces(np.zeros(0, dtype=np.int64), np.zeros((0, 2)), np.zeros(0),
                      np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object), False)
    return Pieces(
        unit=np.concatenate([p[0] for p in parts]).astype(np.int64),
        xy=np.vstack([p[1] for p in parts]),
        residents=np.concatenate([p[2] for p in parts]),
        cell=np.concatenate([p[3] for p in parts]).astype(np.int64),
        kind=np.concatenate([p[4] for p in parts]),
        by_buildings=bool(with_homes.any()),
    )


def age_weights(cells: gpd.GeoDataFrame, cell: np.ndarray, residents: np.ndarray,
                municipality: np.ndarray, muni_shares: dict[str, dict[str, float]]
                ) -> dict[str, np.ndarray]:
    """Residents 65+ / under 18 per piece; secret cell shares take the municipality's.

    Returns ``pop_65plus``, ``pop_under18`` and the flags ``age_imputed_65plus`` /
    ``age_imputed_under18`` (True: the municipality's share stands in for a secret value).
    """
    out: dict[str, np.ndarray] = {}
    for key in ("65plus", "under18"):
        share = np.full(len(cell), np.nan)
        have = cell >= 0
        share[have] = cells[f"share_{key}"].to_numpy(dtype=float)[cell[have]]
        imputed = ~np.isfinite(share)
        fill = np.array([muni_shares.get(str(m), {}).get(key, np.nan) for m in municipality],
                        dtype=float)
        share = np.where(imputed, fill, share)
        out[f"pop_{key}"] = residents * share / 100.0
        out[f"age_imputed_{key}"] = imputed
    return out
