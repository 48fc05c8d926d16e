"""Snapshot store: one GeoPackage per region holding every layer with source and date.

Written to a temporary file beside the target and renamed, so a failed fetch or import
never leaves a half-written snapshot. QGIS opens the file directly; the layer table
``dorfkarte_layers`` says where each layer comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors

from dorfkarte.atomic import atomic_path
from dorfkarte.errors import DataError
from dorfkarte.settings import SNAPSHOT_DIRNAME

STORAGE_CRS = "EPSG:4326"
META_LAYER = "dorfkarte_layers"

# Layer names shared by sources, analysis and maps.
MUNICIPALITIES = "municipalities"
BOUNDARIES = "boundaries"  # all admin boundaries found (admin_level, name)
DISTRICTS = "districts"  # analysis units: name, municipality, kind, population, approx, source
AMENITIES = "amenities"  # points: osm_id, name, category, source
HOMES = "homes"  # points where people live
STOPS = "stops"  # transit stops: stop_id, name, weight
LANDUSE = "landuse"  # base map polygons: class in forest/residential/farmland/...
WATER = "water"  # base map water polygons and lines
ROADS = "roads"  # base map road lines (simplified): highway
CENSUS = "census"  # census grid cells: cell_id, residents, share_65plus, share_under18, density
ROUTES = "routes"  # transit route alignments (lines) for the offline base map
DATA_GAP = "data_gap"  # share; polygon: the part of region + buffer the extract does not cover


def nodes_layer(mode: str) -> str:
    return f"nodes_{mode}"


def edges_layer(mode: str) -> str:
    return f"edges_{mode}"


OSM_LAYERS = (BOUNDARIES, AMENITIES, HOMES, "nodes_walk", "edges_walk")


@dataclass
class LayerInfo:
    """Provenance of one layer."""

    name: str
    source: str
    licence: str = ""
    fetched_at: str = ""  # ISO 8601 (UTC)
    count: int = 0
    note: str = ""
    embedded: bool = False  # from the shipped data, not from the snapshot file
    #: Date of the data itself (extract's replication timestamp or newest object, Overpass
    #: ``osm_base``), ISO 8601; ``fetched_at`` is when it was imported. "" = unknown.
    data_date: str = ""
    #: Amenities layer: the category ids whose tag rules were applied when it was built
    #: (None: not recorded, older snapshots; every category then counts as searched).
    categories: tuple[str, ...] | None = None


@dataclass
class Snapshot:
    """All layers of a region, in EPSG:4326, with their provenance."""

    region_id: str
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    info: dict[str, LayerInfo] = field(default_factory=dict)
    path: Path | None = None
    #: Import summary warnings (incomplete ways, missing networks, data edge); not stored
    #: as such: they are in the layers' notes.
    warnings: list[str] = field(default_factory=list)

    def get(self, name: str) -> gpd.GeoDataFrame | None:
        return self.layers.get(name)

    def has(self, name: str) -> bool:
        gdf = self.layers.get(name)
        return gdf is not None and len(gdf) > 0

    @property
    def has_osm(self) -> bool:
        """True when OSM amenities or a street network are present."""
        return any(
            self.has(n) and not self.info[n].embedded
            for n in (AMENITIES, "edges_walk", "edges_bike", "edges_drive")
        )

    def searched_osm(self, category: str) -> bool:
        """Whether OSM was searched for ``category``: a stored amenities layer built with it.

        False without an amenities layer (no snapshot) or when the snapshot was built
        before the category was added to the region file: then "no OSM point" says
        nothing about the region, and local listings alone must not make a gap.
        """
        info = self.info.get(AMENITIES)
        if not self.has(AMENITIES) or info is None or info.embedded:
            return False
        return info.categories is None or category in info.categories

    def add(
        self,
        name: str,
        gdf: gpd.GeoDataFrame,
        source: str,
        licence: str = "",
        fetched_at: str | None = None,
        note: str = "",
        embedded: bool = False,
        data_date: str = "",
        categories: tuple[str, ...] | None = None,
    ) -> None:
        if gdf.crs is None:
            raise DataError(f"Layer {name!r} hat kein Koordinatensystem")
        self.layers[name] = gdf.to_crs(STORAGE_CRS) if str(gdf.crs) != STORAGE_CRS else gdf
        self.info[name] = LayerInfo(
            name=name,
            source=source,
            licence=licence,
            fetched_at=now_iso() if fetched_at is None else fetched_at,
            count=len(gdf),
            note=note,
            embedded=embedded,
            data_date=data_date,
            categories=tuple(categories) if categories is not None else None,
        )

    def stored_layers(self) -> list[str]:
        return [n for n, i in self.info.items() if not i.embedded]


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def snapshot_path(data_dir: str | Path, region_id: str) -> Path:
    return Path(data_dir) / SNAPSHOT_DIRNAME / f"{region_id}.gpkg"


def write_snapshot(snap: Snapshot, path: str | Path) -> Path:
    """Write every non-embedded layer to ``path`` atomically (temp file, then rename)."""
    path = Path(path)
    # No fsync per SQLite transaction (3-5x faster for many layers); the file is fsynced
    # once before the rename, which is what makes the write atomic and durable.
    sync_before = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        with atomic_path(path, create=False, fsync=True) as tmp:  # GDAL creates the file
            names = snap.stored_layers()
            for name in names:
                gdf = snap.layers[name]
                pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG",
                                        append=tmp.exists())
            meta = pd.DataFrame(
                [
                    {
                        "layer": i.name,
                        "source": i.source,
                        "licence": i.licence,
                        "fetched_at": i.fetched_at,
                        "count": i.count,
                        "note": i.note,
                        "region_id": snap.region_id,
                        "data_date": i.data_date,
                        "categories": ";".join(i.categories) if i.categories is not None
                        else "",
                    }
                    for i in (snap.info[n] for n in names)
                ],
                columns=["layer", "source", "licence", "fetched_at", "count", "note",
                         "region_id", "data_date", "categories"],
            )
            pyogrio.write_dataframe(meta, tmp, layer=META_LAYER, driver="GPKG",
                                    append=tmp.exists())
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        # GDAL's words for a full disk or a folder it may not write to; the old file stays
        msg = " ".join(str(exc).split())
        raise DataError(f"Schnappschuss {path} kann nicht geschrieben werden: {msg}") from None
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": sync_before})
    snap.path = path
    return path


def read_snapshot(path: str | Path) -> Snapshot:
    """Read a snapshot file written by :func:`write_snapshot`."""
    path = Path(path)
    try:
        listed = {row[0] for row in pyogrio.list_layers(path)}
        meta = pyogrio.read_dataframe(path, layer=META_LAYER, read_geometry=False)
    except Exception as exc:  # GDAL raises several types for broken files
        raise DataError(f"Schnappschuss {path} ist nicht lesbar: {exc}") from None
    region_ids = meta["region_id"].dropna().unique() if "region_id" in meta else []
    snap = Snapshot(region_id=str(region_ids[0]) if len(region_ids) else "", path=path)
    for row in meta.itertuples(index=False):
        if row.layer not in listed:
            continue
        cats = str(getattr(row, "categories", "") or "")
        gdf = pyogrio.read_dataframe(path, layer=row.layer)
        snap.layers[row.layer] = gdf
        snap.info[row.layer] = LayerInfo(
            name=row.layer,
            source=str(row.source),
            licence=str(row.licence or ""),
            fetched_at=str(row.fetched_at or ""),
            count=len(gdf),
            note=str(row.note or ""),
            data_date=str(getattr(row, "data_date", "") or ""),
            categories=tuple(c for c in cats.split(";") if c) if cats else None,
        )
    return snap
