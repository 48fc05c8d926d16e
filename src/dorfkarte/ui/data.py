"""Cached loading for the app: region, snapshot, listings, analysis, maps.

Streamlit reruns the whole script on every widget change; everything expensive is cached
by file path and modification time, so a slider only re-does the cheap threshold step
(``CoverageResult.with_thresholds``) and the map.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
from pathlib import Path
from typing import Any

import geopandas as gpd
import streamlit as st

from dorfkarte import maps
from dorfkarte.region import Region, load_region
from dorfkarte.settings import default_region_path, embedded_data_dir
from dorfkarte.snapshot import Snapshot, snapshot_path
from dorfkarte.workspace import open_snapshot


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def region_files(data_dir: Path) -> list[Path]:
    """Region files to choose from: the default (``$DORFKARTE_REGION``) first, then the
    data folder's ``regions/`` and the shipped ones."""
    seen: dict[str, Path] = {}
    default = default_region_path()
    if default.is_file():
        seen[default.name] = default.resolve()
    for folder in (Path(data_dir) / "regions", embedded_data_dir() / "regions"):
        if folder.is_dir():
            for p in sorted(folder.glob("*.toml")):
                seen.setdefault(p.name, p.resolve())
    return list(seen.values())


@st.cache_resource(show_spinner=False, max_entries=8)
def _region(path: str, mtime: float) -> Region:
    return load_region(path)


def get_region(path: Path) -> Region:
    return _region(str(path), _mtime(path))


def snapshot_key(region: Region, data_dir: Path) -> tuple[str, str, float]:
    """What identifies the loaded data: region file, data folder, snapshot file time."""
    return (str(region.path), str(data_dir), _mtime(snapshot_path(data_dir, region.id)))


@st.cache_resource(show_spinner="Lade Datenstand …", max_entries=4)
def _snapshot(region_path: str, data_dir: str, snap_mtime: float, region_mtime: float) -> Snapshot:
    return open_snapshot(_region(region_path, region_mtime), data_dir)


def get_snapshot(region: Region, data_dir: Path) -> Snapshot:
    key = snapshot_key(region, data_dir)
    return _snapshot(*key, _mtime(region.path))


# ---- listings (optional: the listings package may be missing in a partial install) ----

WHEN_ALL = "all"
WHEN_WEEKLY = "weekly"
WHEN_AT = "at"


def listings_available() -> bool:
    try:
        import dorfkarte.listings  # noqa: F401
    except ImportError:
        return False
    return True


def listings_stored(data_dir: Path) -> bool:
    """True when the data folder has a listings store (then the "when" choice matters)."""
    path = _store_path(data_dir)
    return path is not None and path.exists()


def _store_path(data_dir: Path) -> Path | None:
    if not listings_available():
        return None
    from dorfkarte.listings.store import ListingStore

    return ListingStore(data_dir).path


@st.cache_resource(show_spinner=False, max_entries=16)
def _listing_points(region_path: str, region_mtime: float, data_dir: str, store_mtime: float,
                    when: Any) -> gpd.GeoDataFrame | None:
    from dorfkarte.listings import destinations
    from dorfkarte.listings.store import ListingStore

    store = ListingStore(data_dir)
    if not store.exists():
        return None
    pts = destinations(store, _region(region_path, region_mtime), when)
    return pts if len(pts) else None


def get_listing_points(region: Region, data_dir: Path, when: Any = None) -> gpd.GeoDataFrame | None:
    """Stored local listings as extra destinations, filtered by ``when`` (None: all)."""
    path = _store_path(data_dir)
    if path is None or not path.exists():
        return None
    return _listing_points(str(region.path), _mtime(region.path), str(data_dir), _mtime(path),
                           when)


def listings_key(data_dir: Path, when: Any) -> tuple[float, str]:
    path = _store_path(data_dir)
    return (_mtime(path) if path is not None else 0.0, str(when))


# ---- analysis ------------------------------------------------------------------------------


def coverage_available() -> bool:
    try:
        import dorfkarte.coverage  # noqa: F401
    except ImportError:
        return False
    return True


@st.cache_resource(show_spinner="Berechne Erreichbarkeit …", max_entries=8)
def _analyse(key: tuple[Any, ...], _snapshot: Snapshot, _region: Region,
             _extra: gpd.GeoDataFrame | None, _pt: Any = None) -> Any:
    from dorfkarte.coverage import analyse

    if _pt is None:
        return analyse(_snapshot, _region, extra_destinations=_extra)
    from dorfkarte.region import MODES, PT

    return analyse(_snapshot, _region, extra_destinations=_extra, modes=[*MODES, PT],
                   pt_options=_pt)


def get_result(region: Region, data_dir: Path, snapshot: Snapshot,
               extra: gpd.GeoDataFrame | None, when: Any, pt_choice: Any = None) -> Any:
    """The full analysis for the loaded data (cached per data and listings state).

    ``pt_choice`` = (day ISO, "HH:MM", "HH:MM") adds mode pt (sidebar.choose_timetable).
    """
    key = (*snapshot_key(region, data_dir), _mtime(region.path), *listings_key(data_dir, when),
           pt_choice)
    opts = None
    if pt_choice is not None:
        from dorfkarte.pt import PTOptions

        opts = PTOptions(timetable=get_timetable(region, data_dir),
                         day=dt.date.fromisoformat(pt_choice[0]), start=pt_choice[1],
                         end=pt_choice[2])
    return _analyse(key, snapshot, region, extra, opts)


@st.cache_resource(show_spinner="Lade Fahrplan …", max_entries=4)
def _timetable(region_path: str, data_dir: str, key: tuple[Any, ...]) -> Any:
    from dorfkarte.pt import timetable_for

    return timetable_for(load_region(region_path), data_dir)


def get_timetable(region: Region, data_dir: Path) -> Any:
    """The region's timetable (imported, else the embedded one), cached per file state."""
    from dorfkarte.gtfs import stored_feed_path

    stored = stored_feed_path(data_dir, region.id)
    return _timetable(str(region.path), str(data_dir),
                      (_mtime(stored) if stored.exists() else 0.0, _mtime(region.path)))


@st.cache_resource(show_spinner=False, max_entries=64)
def _with_thresholds(key: tuple[Any, ...], changes: tuple[tuple[str, str, float], ...],
                     _result: Any) -> Any:
    return _result.with_thresholds({(c, m): v for c, m, v in changes})


def apply_thresholds(result: Any, base_key: tuple[Any, ...],
                     changes: dict[tuple[str, str], float]) -> Any:
    """``result.with_thresholds`` for the slider values that differ from the defaults."""
    diff = tuple(sorted((c, m, float(v)) for (c, m), v in changes.items()
                        if (c, m) in result.thresholds and float(v) != result.thresholds[(c, m)]))
    if not diff:
        return result
    return _with_thresholds(base_key, diff, result)


# ---- map ---------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=4)
def _map_snapshot(key: tuple[Any, ...], _snapshot: Snapshot, _region: Region) -> Snapshot:
    """The snapshot with its base-map layers generalised (if that module is installed)."""
    if importlib.util.find_spec("dorfkarte.basemap") is None:
        return _snapshot
    from dorfkarte.basemap import generalise

    return generalise(_snapshot, _region).snapshot


@st.cache_resource(show_spinner=False, max_entries=24)
def _map(key: tuple[Any, ...], _snapshot: Snapshot, _region: Region, _result: Any,
         _extra: gpd.GeoDataFrame | None) -> Any:
    (category, mode, indicator, basemap, lang, points, dynamic) = key[-7:]
    snap = _map_snapshot(key[:3], _snapshot, _region)
    return maps.build_map(snap, _region, _result, category=category, mode=mode,
                          indicator=indicator, basemap=basemap, lang=lang, extra_points=_extra,
                          point_categories=list(points), popups=False,
                          dynamic_indicator=dynamic)


def get_map(key: tuple[Any, ...], snapshot: Snapshot, region: Region, result: Any,
            extra: gpd.GeoDataFrame | None, *, category: str, mode: str, indicator: str,
            basemap: str, lang: str, points: tuple[str, ...]) -> Any:
    """A fresh copy of a cached complete map (choropleth included) for other panels.

    ``key`` starts with :func:`snapshot_key` and must change whenever ``result`` does.
    See :func:`get_map_layers` for why a copy.
    """
    fmap = _map((*key, category, mode, indicator, basemap, lang, points, False), snapshot,
                region, result, extra)
    return copy.deepcopy(fmap)


@st.cache_resource(show_spinner=False, max_entries=64)
def _indicator(key: tuple[Any, ...], _snapshot: Snapshot, _region: Region,
               _result: Any) -> Any:
    (category, mode, indicator, lang) = key[-4:]
    return maps.indicator_group(_snapshot, _region, _result, category=category, mode=mode,
                                indicator=indicator, lang=lang, popups=False)


def get_map_layers(key: tuple[Any, ...], thr_key: tuple[Any, ...], snapshot: Snapshot,
                   region: Region, result: Any, extra: gpd.GeoDataFrame | None, *,
                   category: str, mode: str, indicator: str, basemap: str, lang: str,
                   points: tuple[str, ...]) -> tuple[Any, Any]:
    """Fresh copies of the cached map and of its indicator layer for this view.

    The map itself does not depend on thresholds or the indicator: the choropleth comes
    as a dynamic layer, so a slider does not reload the map (nor reset its zoom).
    streamlit-folium renames the variables of what it renders, so one object must not be
    rendered twice; a deep copy of a cached one costs ~10 ms (building ~300 ms) and renders
    to the same script each time, so the component is not reloaded either.
    """
    # the indicator does not change the map when it comes as a dynamic layer: fixed in key
    fmap = _map((*key, category, mode, "share_within", basemap, lang, points, True), snapshot,
                region, result, extra)
    group = _indicator((*key, thr_key, category, mode, indicator, lang), snapshot, region,
                       result)
    return copy.deepcopy(fmap), copy.deepcopy(group)


def today() -> dt.date:
    return dt.datetime.now().date()
