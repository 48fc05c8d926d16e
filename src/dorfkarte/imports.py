"""Data imports as one table: kind -> check, import, what it replaces; last import and undo.

The CLI commands and the app's "Daten" panel run the same library functions; this module
only puts them side by side (:data:`IMPORTERS`), so the panel is one form per entry and a
new importer is one more entry. Around every import it keeps what undo needs: the files
the import replaces are copied first (to a temporary file, kept as ``<name>.prev`` only
when the import succeeded, so a failed or cancelled import never costs the undo of the
previous one), and ``<data_dir>/imports.json`` records the last import of each kind.

It also holds the districts-file import (real Ortsteil boundaries from a town's GIS:
GeoJSON, GeoPackage or a zipped Shapefile, name column chosen by the user), stored as
``<data_dir>/districts/<region>.gpkg`` and preferred by :func:`dorfkarte.workspace.open_snapshot`
over OSM boundaries and approximations.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from dorfkarte.atomic import write_text_atomic
from dorfkarte.errors import DataError, DorfkarteError
from dorfkarte.imported_districts import (  # re-exported: imports.districts_path etc.
    districts_path,
    read_imported_districts,  # noqa: F401
)
from dorfkarte.jobs import Progress, check_cancel, guarded
from dorfkarte.region import Region
from dorfkarte.snapshot import DISTRICTS, now_iso, snapshot_path
from dorfkarte.sources.osm_build import clip_area

LOG_NAME = "imports.json"
PREV_SUFFIX = ".prev"
#: Largest districts file read (bytes): a town's Ortsteile are a few MB at most.
MAX_DISTRICTS_BYTES = 200 * 1024 * 1024
DISTRICT_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".shp")


class NothingToUndo(DorfkarteError, LookupError):  # noqa: N818 - reads as the outcome
    """There is no import of this kind to take back."""


# -- the table of importers ----------------------------------------------------------------

@dataclass(frozen=True)
class Importer:
    """One kind of data import, as the CLI and the app see it.

    ``check(path, region, data_dir, **options) -> str`` raises a :class:`DorfkarteError`
    (one line) for a bad file, else returns a one-line description of what will be
    imported. ``run(path, region, data_dir, *, progress, cancel, **options)`` imports.
    ``targets(region, data_dir)`` are the files it replaces (backed up for undo).
    """

    kind: str
    label: tuple[str, str]  # German, English
    adds: tuple[str, str]  # what the import adds to the analysis
    suffixes: tuple[str, ...]
    check: Callable[..., str]
    run: Callable[..., Any]
    targets: Callable[[Region, Path], list[Path]]
    cli: str
    options: tuple[str, ...] = ()
    #: ``present(region, data_dir) -> bool`` for kinds whose absence is worth a line in
    #: the "what is missing" list (a timetable, a census grid); None: not listed.
    present: Callable[[Region, Path], bool] | None = None

    def text(self, lang: str) -> str:
        return self.label[1] if lang == "en" else self.label[0]


def _osm_targets(region: Region, data_dir: Path) -> list[Path]:
    return [snapshot_path(data_dir, region.id)]


def check_extract(path: str | Path, region: Region | None = None,
                  data_dir: str | Path | None = None) -> str:
    """An OSM extract that pyosmium can open and that holds objects (first block read)."""
    import osmium

    from dorfkarte.sources.extract import check_extract_path

    p = check_extract_path(path)
    try:
        for _ in osmium.FileProcessor(str(p)):
            break
        else:
            raise DataError(f"OSM-Auszug {p.name}: enthält keine OSM-Objekte")
    except DorfkarteError:
        raise
    except Exception as exc:  # pyosmium raises RuntimeError for broken files
        msg = " ".join(str(exc).split())
        raise DataError(f"OSM-Auszug {p.name} ist beschädigt oder nicht lesbar: {msg}") from None
    return f"OSM-Auszug {p.name} ({p.stat().st_size / 1e6:.1f} MB)"


def _run_extract(path: str | Path, region: Region, data_dir: str | Path, *,
                 progress: Progress | None = None, cancel: threading.Event | None = None
                 ) -> Path:
    from dorfkarte.sources.osm import import_osm

    return import_osm(path, region, data_dir, progress=progress, cancel=cancel)


def _district_targets(region: Region, data_dir: Path) -> list[Path]:
    return [districts_path(data_dir, region.id)]


def _ogr_path(path: Path) -> str:
    """What GDAL opens: a zipped Shapefile through ``/vsizip/``."""
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                shps = [n for n in zf.namelist() if n.lower().endswith(".shp")]
        except zipfile.BadZipFile:
            raise DataError(f"Bezirksdatei {path.name}: keine gültige ZIP-Datei") from None
        if not shps:
            raise DataError(f"Bezirksdatei {path.name}: die ZIP-Datei enthält keine .shp-Datei "
                            "(gezippte Shapefiles: .shp, .shx, .dbf, .prj)")
        if len(shps) > 1:
            raise DataError(f"Bezirksdatei {path.name}: mehrere Shapefiles in der ZIP-Datei "
                            f"({', '.join(shps[:3])}); bitte nur eines")
        return f"/vsizip/{path}/{shps[0]}"
    return str(path)


def read_districts_file(path: str | Path) -> gpd.GeoDataFrame:
    """The polygons of a districts file, as they are (:class:`DataError` if unusable)."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"Bezirksdatei nicht gefunden: {p}")
    if p.stat().st_size > MAX_DISTRICTS_BYTES:
        raise DataError(f"Bezirksdatei {p.name}: {p.stat().st_size / 1e6:.0f} MB ist zu groß")
    if not p.name.lower().endswith(DISTRICT_SUFFIXES):
        raise DataError(f"Bezirksdatei {p.name}: unbekanntes Format; erwartet GeoJSON, "
                        "GeoPackage (.gpkg) oder ein gezipptes Shapefile (.zip)")
    try:
        gdf = pyogrio.read_dataframe(_ogr_path(p))
    except DorfkarteError:
        raise
    except Exception as exc:  # GDAL raises several types
        msg = " ".join(str(exc).split())[:160]
        raise DataError(f"Bezirksdatei {p.name} ist nicht lesbar: {msg}") from None
    if not len(gdf):
        raise DataError(f"Bezirksdatei {p.name}: enthält keine Objekte")
    if gdf.crs is None:
        raise DataError(f"Bezirksdatei {p.name}: kein Koordinatensystem angegeben "
                        "(bei Shapefiles fehlt die .prj-Datei)")
    polys = gdf.geom_type.isin(["Polygon", "MultiPolygon"])
    if not polys.all():
        bad = int(np.flatnonzero(~polys.to_numpy())[0]) + 1
        kind = gdf.geom_type.iloc[bad - 1]
        raise DataError(f"Bezirksdatei {p.name}, Objekt {bad}: Geometrie ist {kind}, "
                        "erwartet Flächen (Polygon)")
    return gdf


def district_columns(path: str | Path) -> list[str]:
    """Text columns of a districts file (candidates for the name column), best first."""
    gdf = read_districts_file(path)
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    texts = [c for c in cols if gdf[c].dtype == object]
    rank = {"name": 0, "ortsteil": 1, "gemeindeteil": 2, "bezeichnung": 3, "gen": 4}
    return sorted(texts, key=lambda c: (rank.get(str(c).casefold(), 9), cols.index(c))) + \
        [c for c in cols if c not in texts]


def _districts_frame(path: str | Path, region: Region, name_column: str | None,
                     population_column: str | None = None,
                     municipality_column: str | None = None, source: str = ""
                     ) -> gpd.GeoDataFrame:
    from dorfkarte.districts import COLUMNS, _join_population

    p = Path(path)
    gdf = read_districts_file(p)
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    if not name_column:
        raise DataError(f"Bezirksdatei {p.name}: Namensspalte wählen (vorhanden: "
                        f"{', '.join(map(str, cols)) or 'keine'})")
    for what, col in (("Namensspalte", name_column), ("Einwohnerspalte", population_column),
                      ("Gemeindespalte", municipality_column)):
        if col and col not in gdf.columns:
            raise DataError(f"Bezirksdatei {p.name}: {what} '{col}' fehlt (vorhanden: "
                            f"{', '.join(map(str, cols)) or 'keine'})")
    names = gdf[name_column].astype(object).where(gdf[name_column].notna(), "")
    names = names.astype(str).str.strip()
    empty = names == ""
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0]) + 1
        raise DataError(f"Bezirksdatei {p.name}, Objekt {row}: Namensspalte '{name_column}' "
                        "ist leer")
    dup = names.duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0]) + 1
        raise DataError(f"Bezirksdatei {p.name}, Objekt {row}: Name '{names.iloc[row - 1]}' "
                        f"kommt doppelt vor (Namensspalte '{name_column}' richtig gewählt?)")
    geoms = gdf.geometry.make_valid() if hasattr(gdf.geometry, "make_valid") else gdf.geometry
    pop = (pd.to_numeric(gdf[population_column], errors="coerce").astype(float)
           if population_column else np.nan)
    out = gpd.GeoDataFrame({
        "name": names.to_numpy(),
        "municipality": gdf[municipality_column].astype(str).to_numpy()
        if municipality_column else "",
        "kind": "ortsteil",
        "population": pop,
        "approx": False,
        "source": source or f"Datei {p.name} (Namensspalte {name_column})",
    }, geometry=geoms.to_numpy(), crs=gdf.crs).to_crs("EPSG:4326")
    _check_in_region(out, region, p.name)
    return _join_population(region, out)[COLUMNS + ["geometry"]]


def _region_area(region: Region) -> shapely.Geometry | None:
    """Rough area of the region (hull of the centres + buffer) to catch a wrong file."""
    from dorfkarte.districts import read_centres

    try:
        c = read_centres(region)
    except DataError:
        return None
    pts = gpd.GeoSeries(gpd.points_from_xy(c["lon"], c["lat"]), crs="EPSG:4326")
    hull = shapely.convex_hull(shapely.multipoints(pts.to_crs(region.crs).to_numpy()))
    return hull.buffer(max(region.buffer_m, 3000.0))


def _check_in_region(gdf: gpd.GeoDataFrame, region: Region, name: str) -> None:
    area = _region_area(region)
    if area is None:
        return
    inside = gdf.to_crs(region.crs).intersects(area)
    if not inside.any():
        raise DataError(f"Bezirksdatei {name}: keine Fläche liegt in der Region {region.name} "
                        "(falsche Datei oder falsches Koordinatensystem?)")


def check_districts(path: str | Path, region: Region, data_dir: str | Path | None = None, *,
                    name_column: str | None = None, population_column: str | None = None,
                    municipality_column: str | None = None, source: str = "",
                    licence: str = "") -> str:
    """Check a districts file without storing it; one line saying what it holds."""
    out = _districts_frame(path, region, name_column, population_column, municipality_column,
                           source)
    known = int(out["population"].notna().sum())
    return (f"Bezirksdatei {Path(path).name}: {len(out)} Flächen (Namensspalte "
            f"'{name_column}'), Einwohnerzahl bekannt für {known}")


def import_districts(path: str | Path, region: Region, data_dir: str | Path, *,
                     name_column: str | None = None, population_column: str | None = None,
                     municipality_column: str | None = None, source: str = "",
                     licence: str = "", progress: Progress | None = None,
                     cancel: threading.Event | None = None) -> Path:
    """Store a districts file as the region's analysis units (temp file + rename)."""
    progress = guarded(progress, cancel, "Import der Bezirksdatei")
    progress("Datei prüfen", 0, 2)
    out = _districts_frame(path, region, name_column, population_column, municipality_column,
                           source)
    out["licence"] = licence
    out["imported_at"] = now_iso()
    progress("Speichern", 1, 2)
    target = districts_path(data_dir, region.id)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".tmp.gpkg",
                               dir=target.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        pyogrio.write_dataframe(out, tmp, layer=DISTRICTS, driver="GPKG")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def _check_osm_fetch(path: object, region: Region, data_dir: str | Path | None = None,
                     **_: Any) -> str:
    return f"Download der OSM-Daten für {region.name} über Overpass"


def _run_fetch(path: object, region: Region, data_dir: str | Path, *,
               progress: Progress | None = None, cancel: threading.Event | None = None,
               overpass_url: str | None = None, timeout_s: float | None = None,
               retries: int = 4, backoff_s: float = 5.0, use_cache: bool = True) -> Path:
    from dorfkarte.sources.osm import fetch_snapshot
    from dorfkarte.sources.overpass import RetryPolicy

    return fetch_snapshot(region, data_dir, overpass_url=overpass_url, timeout_s=timeout_s,
                          retry=RetryPolicy(retries=max(0, retries), backoff_s=backoff_s),
                          use_cache=use_cache, progress=progress, cancel=cancel)


_OSM_ADDS = ("Einrichtungen, Wohngebäude, Straßennetze (Fuß, Rad, Auto), Ortsteilgrenzen, "
             "Grundkarte",
             "services, homes, street networks (walk, bike, car), district boundaries, "
             "base map")

IMPORTERS: dict[str, Importer] = {
    "fetch": Importer(
        kind="fetch", label=("OSM-Schnappschuss (Download über Overpass)",
                             "OSM snapshot (download via Overpass)"),
        adds=_OSM_ADDS, suffixes=(), check=_check_osm_fetch, run=_run_fetch,
        targets=_osm_targets, cli="dorfkarte fetch",
        options=("overpass_url", "timeout_s", "retries", "backoff_s", "use_cache")),
    "osm": Importer(
        kind="osm", label=("OSM-Auszug (.osm.pbf, .osm, .osm.bz2)",
                           "OSM extract (.osm.pbf, .osm, .osm.bz2)"),
        adds=_OSM_ADDS, suffixes=(".pbf", ".osm", ".bz2"), check=check_extract,
        run=_run_extract, targets=_osm_targets, cli="dorfkarte import-osm DATEI"),
    "districts": Importer(
        kind="districts", label=("Ortsteilgrenzen (Bezirksdatei)",
                                 "District boundaries (districts file)"),
        adds=("amtliche Ortsteilflächen statt Näherung", "official district areas instead of "
              "the approximation"),
        suffixes=(".geojson", ".json", ".gpkg", ".zip"), check=check_districts,
        run=import_districts, targets=_district_targets,
        cli="dorfkarte import-districts DATEI --name-column SPALTE",
        options=("name_column", "population_column", "municipality_column", "source",
                 "licence")),
}

def _census_targets(region: Region, data_dir: Path) -> list[Path]:
    from dorfkarte.regiondata import imported_grid_path

    grid = imported_grid_path(data_dir, region.id)
    return [grid, grid.with_suffix(".json")]


def check_census(path: str | Path, region: Region | None = None,
                 data_dir: str | Path | None = None) -> str:
    """The cheap part of the census check, before the job: the file and its header (the
    rows are checked by :func:`dorfkarte.regiondata.import_population`, nothing stored on
    any error). Messages are the census module's."""
    from dorfkarte import census

    p = Path(path)
    census.official_header(p)
    return f"Einwohnergitter {p.name} ({p.stat().st_size / 1e6:.1f} MB)"


def _run_census(path: str | Path, region: Region, data_dir: str | Path, *,
                progress: Progress | None = None, cancel: threading.Event | None = None
                ) -> Path:
    from dorfkarte.regiondata import import_population

    progress = guarded(progress, cancel, "Import des Einwohnergitters")
    progress("Gitterdatei lesen, prüfen und zuschneiden", 0, 1)  # one step: cancel before
    out, _, _ = import_population(region, data_dir, path)
    return out


IMPORTERS["census"] = Importer(
    kind="census", label=("Einwohnergitter (Zensus 2022, CSV)", "Census grid (Zensus 2022, CSV)"),
    adds=("Einwohner je Gitterzelle statt des mitgelieferten 1-km-Gitters (z. B. 100 m)",
          "residents per grid cell instead of the shipped 1 km grid (e.g. 100 m)"),
    suffixes=(".csv",), check=check_census, run=_run_census, targets=_census_targets,
    cli="dorfkarte import-population DATEI")

def _gtfs_targets(region: Region, data_dir: Path) -> list[Path]:
    from dorfkarte.gtfs import stored_feed_path

    return [stored_feed_path(data_dir, region.id)]


def check_gtfs(path: str | Path, region: Region | None = None,
               data_dir: str | Path | None = None, **_: Any) -> str:
    """The cheap part of the feed check, before the job: a zip with the GTFS files that
    :func:`dorfkarte.gtfs.read_feed` needs (it checks the rows, nothing stored on any error;
    a national feed takes too long to read for a form)."""
    from dorfkarte.gtfs import FeedError, zip_members

    p = Path(path)
    if not p.is_file():
        raise FeedError(f"GTFS-Datei nicht gefunden: {p}")
    zip_members(p)
    return f"GTFS-Fahrplan {p.name} ({p.stat().st_size / 1e6:.1f} MB)"


def _run_gtfs(path: str | Path, region: Region, data_dir: str | Path, *,
              progress: Progress | None = None, cancel: threading.Event | None = None,
              source: str = "", licence: str = "", attribution: str = "") -> Path:
    """As ``dorfkarte import-gtfs``: keep the trips that touch the districts + buffer."""
    from dorfkarte import gtfs
    from dorfkarte.embedded import open_snapshot

    progress = guarded(progress, cancel, "Import des Fahrplans")
    progress("Gebiet der Region", 0, 2)
    area_ll = clip_area(open_snapshot(region, data_dir).get(DISTRICTS), region)
    progress("Fahrplan lesen, prüfen, zuschneiden und speichern", 1, 2)
    dest = gtfs.stored_feed_path(data_dir, region.id)
    gtfs.import_gtfs(path, dest, area_ll, source=source, licence=licence,
                     attribution=attribution)
    return dest


IMPORTERS["gtfs"] = Importer(
    kind="gtfs", label=("Fahrplan (GTFS-Feed, .zip)", "Timetable (GTFS feed, .zip)"),
    adds=("Reisezeiten mit Bus und Bahn nach Fahrplan (Modus ÖPNV nach Fahrplan)",
          "travel times by bus and train from the timetable (public transport mode)"),
    suffixes=(".zip",), check=check_gtfs, run=_run_gtfs, targets=_gtfs_targets,
    cli="dorfkarte import-gtfs FEED.zip", options=("source", "licence"))

#: Importers that share what they replace (undo of one is undo of the other).
SHARED_TARGETS = {"fetch": "osm", "osm": "osm"}


def register(importer: Importer) -> None:
    """Add an importer (e.g. GTFS, census grid) to the table."""
    IMPORTERS[importer.kind] = importer


# -- running with backup, log and undo --------------------------------------------------------

@dataclass
class ImportRecord:
    """The last import of one kind: what, when, by whom, and whether undo is possible."""

    kind: str
    at: str
    what: str
    result: str
    targets: list[str]
    had_previous: list[bool]
    user: str = ""
    undone: bool = False
    options: dict[str, Any] = field(default_factory=dict)


def _log_key(kind: str) -> str:
    return SHARED_TARGETS.get(kind, kind)


def _log_path(data_dir: str | Path, region: Region) -> Path:
    return Path(data_dir) / LOG_NAME.replace(".json", f"-{region.id}.json")


def read_log(region: Region, data_dir: str | Path) -> dict[str, ImportRecord]:
    path = _log_path(data_dir, region)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}  # a broken log only loses the undo offer, never data
    out = {}
    for k, v in raw.items():
        try:
            out[k] = ImportRecord(**v)
        except TypeError:
            continue
    return out


def last_import(kind: str, region: Region, data_dir: str | Path) -> ImportRecord | None:
    return read_log(region, data_dir).get(_log_key(kind))


def _write_log(region: Region, data_dir: str | Path, log: dict[str, ImportRecord]) -> None:
    write_text_atomic(_log_path(data_dir, region),
                      json.dumps({k: asdict(v) for k, v in log.items()}, ensure_ascii=False,
                                 indent=1))


def prev_path(target: Path) -> Path:
    return target.with_name(target.name + PREV_SUFFIX)


def run_import(kind: str, path: str | Path | None, region: Region, data_dir: str | Path, *,
               progress: Progress | None = None, cancel: threading.Event | None = None,
               user: str = "", **options: Any) -> ImportRecord:
    """Check, back up what will be replaced, import, and record it for undo.

    The backup is copied before the import starts and kept as ``<target>.prev`` only when
    the import succeeded; a failed or cancelled import leaves every file as it was.
    """
    imp = IMPORTERS[kind]
    data_dir = Path(data_dir)
    what = imp.check(path, region, data_dir, **options)
    check_cancel(cancel)
    targets = imp.targets(region, data_dir)
    staged: list[Path | None] = []
    try:
        for t in targets:
            if t.exists():
                fd, tmp = tempfile.mkstemp(prefix=f".{t.name}.", suffix=".prev-new",
                                           dir=t.parent)
                os.close(fd)
                shutil.copy2(t, tmp)
                staged.append(Path(tmp))
            else:
                staged.append(None)
        result = imp.run(path, region, data_dir, progress=progress, cancel=cancel, **options)
        for t, tmp in zip(targets, staged, strict=True):
            if tmp is not None:
                os.replace(tmp, prev_path(t))
            elif prev_path(t).exists():
                prev_path(t).unlink()  # nothing before this import: undo removes the file
    finally:
        for tmp in staged:
            if tmp is not None and tmp.exists():
                tmp.unlink()
    rec = ImportRecord(kind=kind, at=now_iso(), what=what, result=str(result),
                       targets=[str(t) for t in targets],
                       had_previous=[tmp is not None for tmp in staged], user=user,
                       options={k: v for k, v in options.items()
                                if isinstance(v, str | int | float | bool) or v is None})
    log = read_log(region, data_dir)
    log[_log_key(kind)] = rec
    _write_log(region, data_dir, log)
    return rec


def undo_import(kind: str, region: Region, data_dir: str | Path) -> ImportRecord:
    """Put back what the last import of ``kind`` replaced (or remove what it created)."""
    log = read_log(region, data_dir)
    rec = log.get(_log_key(kind))
    if rec is None or rec.undone:
        raise NothingToUndo("Kein Import dieser Art, der rückgängig gemacht werden kann")
    for t, had in zip(rec.targets, rec.had_previous, strict=True):
        target = Path(t)
        prev = prev_path(target)
        if had:
            if not prev.exists():
                raise DataError(f"Sicherung {prev} fehlt; Rückgängig nicht möglich")
            os.replace(prev, target)  # one rename: the target is whole at every moment
        elif target.exists():
            target.unlink()
    rec.undone = True
    log[_log_key(kind)] = rec
    _write_log(region, data_dir, log)
    return rec


# -- what is there, what is missing -----------------------------------------------------------

def data_status(snapshot: Any, region: Region, data_dir: str | Path, lang: str = "de"
                ) -> tuple[pd.DataFrame, list[str]]:
    """Every layer with source, licence, data date and count, and one line per missing
    source saying what it would add ("Einrichtungen, Wohngebäude, Straßennetze:
    OSM-Schnappschuss fehlt – …")."""
    from dorfkarte.export import layer_label
    from dorfkarte.i18n import t
    from dorfkarte.listings import ListingStore

    rows = []
    for name, info in snapshot.info.items():
        rows.append({
            t("col_layer", lang): f"{layer_label(name, lang)} ({name})",
            t("col_source", lang): info.source + (f" [{t('embedded', lang)}]"
                                                  if info.embedded else ""),
            t("col_licence", lang): info.licence,
            t("col_date", lang): info.fetched_at or ("unbekannt" if lang != "en" else "unknown"),
            t("col_count", lang): int(info.count),
            t("col_note", lang): info.note,
        })
    store = ListingStore(data_dir)
    listings = store.read() if store.exists() else None
    if listings is not None and len(listings):
        for src, grp in listings.groupby(listings["source"].replace("", "–")):
            rows.append({
                t("col_layer", lang): f"{layer_label('listings', lang)} (listings)",
                t("col_source", lang): str(src), t("col_licence", lang): "",
                t("col_date", lang): str(grp["updated_at"].max()),
                t("col_count", lang): len(grp), t("col_note", lang): "",
            })
    missing = []

    def line(what: str, why: str, adds: str) -> None:
        missing.append(t("data_missing_line", lang, what=what, why=why, adds=adds))

    if not snapshot.has_osm:
        line(t("data_osm_what", lang), t("data_osm_why", lang), t("data_osm_adds", lang))
    d = snapshot.get(DISTRICTS)
    if d is not None and "approx" in d and bool(d["approx"].astype(bool).any()):
        line(t("data_districts_what", lang), t("data_districts_why", lang),
             t("data_districts_adds", lang))
    if d is not None and "population" in d:
        unknown = int(pd.to_numeric(d["population"], errors="coerce").isna().sum())
        if unknown:
            line(t("data_population_what", lang),
                 t("data_population_why", lang, n=unknown, total=len(d)),
                 t("data_population_adds", lang))
    if listings is None or not len(listings):
        line(t("data_listings_what", lang), t("data_listings_why", lang),
             t("data_listings_adds", lang))
    for imp in IMPORTERS.values():
        if imp.present is not None and not imp.present(region, Path(data_dir)):
            missing.append(t("data_kind_missing", lang, what=imp.text(lang)) + " – "
                           + (imp.adds[1] if lang == "en" else imp.adds[0]))
    return pd.DataFrame(rows), missing
