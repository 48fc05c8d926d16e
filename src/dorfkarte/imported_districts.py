"""Where a user-imported districts file lives, and reading it back.

Apart from :mod:`dorfkarte.imports` (the importers, which pull in exports and listings) so
that :mod:`dorfkarte.embedded` and the listing validator can read the imported districts
without an import cycle.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio

from dorfkarte.errors import DataError
from dorfkarte.snapshot import DISTRICTS


def districts_path(data_dir: str | Path, region_id: str) -> Path:
    """Where an imported districts file is kept for the region."""
    return Path(data_dir) / "districts" / f"{region_id}.gpkg"



def read_imported_districts(data_dir: str | Path, region_id: str
                            ) -> tuple[gpd.GeoDataFrame, dict[str, str]] | None:
    """The imported districts and their provenance (source, licence, date), if any."""
    path = districts_path(data_dir, region_id)
    if not path.exists():
        return None
    try:
        gdf = pyogrio.read_dataframe(path, layer=DISTRICTS)
    except Exception as exc:  # GDAL raises several types
        raise DataError(f"Importierte Bezirksdatei {path} ist nicht lesbar: {exc}") from None
    first = gdf.iloc[0] if len(gdf) else {}
    info = {"source": str(first.get("source", "") or ""),
            "licence": str(first.get("licence", "") or ""),
            "fetched_at": str(first.get("imported_at", "") or "")}
    gdf = gdf.drop(columns=[c for c in ("licence", "imported_at") if c in gdf.columns])
    gdf["approx"] = gdf["approx"].astype(bool)
    return gdf, info


__all__ = ["districts_path", "read_imported_districts"]
