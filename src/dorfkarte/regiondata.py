"""Embedded region layers beside the snapshot: official outlines, census grid, route lines.

Without any OSM snapshot the region is still shown as it is: the municipalities' official
outlines (VG250), residents from the census grid and the real bus and rail alignments. A
snapshot's own layers always win (its boundaries are newer and finer); each layer's source
says where it comes from.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from dorfkarte import census
from dorfkarte import districts as districts_mod
from dorfkarte.errors import DataError
from dorfkarte.network import point_xy
from dorfkarte.region import PopulationGrid, Region
from dorfkarte.snapshot import CENSUS, DISTRICTS, HOMES, MUNICIPALITIES, ROUTES, Snapshot

POPULATION_DIRNAME = "population"


def imported_grid_path(data_dir: str | Path, region_id: str) -> Path:
    """Where ``dorfkarte import-population`` keeps the planner's census grid."""
    return Path(data_dir) / POPULATION_DIRNAME / f"{region_id}.csv"


def grid_settings(region: Region, data_dir: str | Path | None) -> PopulationGrid:
    """The imported grid (data folder) if there is one, else the region file's."""
    if data_dir is not None:
        path = imported_grid_path(data_dir, region.id)
        meta = path.with_suffix(".json")
        if path.exists() and meta.exists():
            try:
                m = json.loads(meta.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise DataError(f"Einwohnergitter {meta} ist nicht lesbar: {exc}") from None
            return replace(PopulationGrid(), file=path, **{
                k: v for k, v in m.items() if k in PopulationGrid.__dataclass_fields__
                and k != "file" and k != "secret_values"})
    return region.population


def read_cells(region: Region, data_dir: str | Path | None,
               area: gpd.GeoDataFrame | None = None) -> tuple[gpd.GeoDataFrame | None,
                                                               PopulationGrid]:
    """Census cells (checked: ids, columns, metric CRS, near the region)."""
    settings = grid_settings(region, data_dir)
    if settings.file is None:
        return None, settings
    cells = census.read_grid(settings)
    if area is not None and len(area):
        col = settings.id_column or settings.x_column
        geom = area.to_crs(region.crs).geometry.union_all()
        census.check_extent(cells, geom, region.crs, settings.file, col)
    return census.grid_layer(cells), settings


def add_layers(snap: Snapshot, region: Region, data_dir: str | Path | None) -> None:
    """Municipality outlines, census cells and route lines where the snapshot lacks them."""
    if not snap.has(MUNICIPALITIES) and region.outlines.file is not None:
        munis = districts_mod.municipalities_from_outlines(region)
        if munis is not None:
            snap.add(MUNICIPALITIES, munis, source=str(munis["source"].iloc[0]),
                     licence=region.outlines.licence, fetched_at=region.outlines.data_date,
                     note="eingebettete Daten (amtliche Grenzen)", embedded=True)
    if not snap.has(CENSUS):
        cells, settings = read_cells(region, data_dir, snap.get(MUNICIPALITIES))
        if cells is not None:
            snap.add(CENSUS, cells, source=settings.source or Path(str(settings.file)).name,
                     licence=settings.licence, fetched_at=settings.data_date,
                     note="eingebettete Daten" if settings.file == region.population.file
                     else "importiert (dorfkarte import-population)", embedded=True)
    if not snap.has(ROUTES) and region.route_lines is not None:
        try:
            routes = pyogrio.read_dataframe(region.route_lines)
        except Exception as exc:
            raise DataError(f"Linienverläufe {region.route_lines} nicht lesbar: {exc}") from None
        if routes.crs is None:
            raise DataError(f"Linienverläufe {region.route_lines}: kein Koordinatensystem")
        snap.add(ROUTES, routes, source=region.route_lines_attribution
                 or region.route_lines.name, licence=region.transit.licence, fetched_at="",
                 note="eingebettete Daten", embedded=True)


def apply_census(snap: Snapshot, region: Region) -> None:
    """Give every district residents (published, else census) and say which in the layer."""
    d, cells = snap.get(DISTRICTS), snap.get(CENSUS)
    if d is None or not len(d) or cells is None or not len(cells):
        return
    homes = snap.get(HOMES)
    hxy = point_xy(homes, region.crs) if homes is not None and len(homes) else None
    kinds = (homes["kind"].astype(str).to_numpy() if hxy is not None and "kind" in homes
             else None)
    out = districts_mod.add_census_population(region, d, cells, hxy, kinds)
    # same layer, same provenance; the column ``population_source`` says which unit is which
    info = snap.info[DISTRICTS]
    snap.layers[DISTRICTS] = out
    info.count = len(out)


def import_population(region: Region, data_dir: str | Path, source: str | Path
                      ) -> tuple[Path, int, float]:
    """Check an official Zensus 2022 grid CSV, cut it to the region, keep it in the data folder.

    Returns the stored path, the number of cells and their residents. Nothing is stored
    when the file has any error, or no cell in the region (temp file, then rename).
    """
    from dorfkarte.atomic import atomic_path, write_text_atomic

    munis = districts_mod.municipalities_from_outlines(region) \
        if region.outlines.file is not None else None
    area = None
    if munis is not None and len(munis):
        area = munis.to_crs("EPSG:3035").geometry.union_all().buffer(region.buffer_m)
    bbox = area.bounds if area is not None else None
    cells, settings = census.read_official(source, bbox=bbox)
    if area is not None:
        cells = cells[cells.intersects(area)]
    if cells.empty:
        raise census.GridError(f"Gitterdatei {source}: keine Gitterzelle in der Region "
                               f"{region.name} (falsche Datei oder anderes Gebiet?)")
    id_col = settings.id_column
    table = {id_col: cells["cell_id"].to_numpy(), "Einwohner": cells["residents"].to_numpy()}
    meta = {"id_column": id_col, "residents_column": "Einwohner", "separator": ",",
            "source": settings.source, "licence": settings.licence,
            "attribution": settings.attribution, "data_date": settings.data_date}
    for key, col in (("65plus", "Anteil_ab65"), ("under18", "Anteil_unter18")):
        if getattr(settings, f"share_{key}_column"):
            table[col] = np.where(cells[f"secret_{key}"], -9.0, cells[f"share_{key}"])
            meta[f"share_{key}_column"] = col
    out = imported_grid_path(data_dir, region.id)
    with atomic_path(out, suffix=".tmp.csv") as tmp:
        pd.DataFrame(table).to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8")
    write_text_atomic(out.with_suffix(".json"), json.dumps(meta, ensure_ascii=False, indent=1))
    return out, len(cells), float(cells["residents"].sum())
