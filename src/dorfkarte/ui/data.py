"""The app's caches: one :class:`~dorfkarte.workspace.Workspace` per region and data folder,
and the built maps keyed by its fingerprint.

Streamlit reruns the whole script on every widget change. The workspace remembers the
snapshot, listings and analyses (and reloads them when its fingerprint changes: a new
snapshot, an edited listing, an edited region file); a slider only re-does the cheap
threshold step (``with_thresholds``) and the indicator layer of the map.
"""

from __future__ import annotations

import copy
from pathlib import Path

import folium
import geopandas as gpd
import streamlit as st

from dorfkarte import maps
from dorfkarte.basemap import generalise
from dorfkarte.coverage import CoverageResult
from dorfkarte.settings import default_region_path, embedded_data_dir
from dorfkarte.snapshot import Snapshot
from dorfkarte.ui import mapview
from dorfkarte.workspace import Workspace


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
def _workspace(region_path: str, data_dir: str) -> Workspace:
    return Workspace(Path(region_path), data_dir)


def get_workspace(region_path: Path, data_dir: Path) -> Workspace:
    """The process-wide workspace of a region file and data folder (shared by sessions)."""
    return _workspace(str(Path(region_path).resolve()), str(data_dir))


# ---- map ---------------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=4)
def _map_snapshot(fingerprint: str, _ws: Workspace) -> Snapshot:
    """The snapshot with its base-map layers generalised (bounded size for the browser)."""
    return generalise(_ws.snapshot, _ws.region).snapshot


@st.cache_resource(show_spinner=False, max_entries=24)
def _map(key: tuple, _ws: Workspace, _snapshot: Snapshot, _result: CoverageResult | None,
         _extra: gpd.GeoDataFrame | None) -> folium.Map:
    (category, mode, indicator, basemap, lang, points, dynamic) = key[-7:]
    snap = _map_snapshot(_ws.fingerprint, _ws) if _snapshot is _ws.snapshot else _snapshot
    return maps.build_map(snap, _ws.region, _result, category=category, mode=mode,
                          indicator=indicator, basemap=basemap, lang=lang, extra_points=_extra,
                          point_categories=list(points), popups=False,
                          dynamic_indicator=dynamic)


def get_map(key: tuple, ws: Workspace, result: CoverageResult | None,
            extra: gpd.GeoDataFrame | None, *, category: str, mode: str, indicator: str,
            basemap: str, lang: str, points: tuple[str, ...],
            snapshot: Snapshot | None = None, dynamic: bool = False) -> folium.Map:
    """A fresh copy of a cached complete map (choropleth included) for other panels.

    ``key`` must start with the workspace's fingerprint and change whenever ``result``
    does. See :func:`get_map_layers` for why a copy. ``dynamic``: without the choropleth
    (the panel adds its own unit layer and legend part, e.g. the scenario map).
    """
    fmap = _map((*key, category, mode, indicator, basemap, lang, points, dynamic), ws,
                snapshot if snapshot is not None else ws.snapshot, result, extra)
    return copy.deepcopy(fmap)


@st.cache_resource(show_spinner=False, max_entries=64)
def _indicator(key: tuple, _ws: Workspace, _result: CoverageResult | None
               ) -> folium.FeatureGroup:
    (category, mode, indicator, lang) = key[-4:]
    return maps.indicator_group(_ws.snapshot, _ws.region, _result, category=category,
                                mode=mode, indicator=indicator, lang=lang, popups=False)


@st.cache_resource(show_spinner=False, max_entries=24)
def _map_parts(key: tuple, _ws: Workspace, _result: CoverageResult | None,
               _extra: gpd.GeoDataFrame | None) -> mapview.MapParts:
    # a copy of the cached map: rendering for the component modifies it
    return mapview.map_parts(copy.deepcopy(_map(key, _ws, _ws.snapshot, _result, _extra)))


@st.cache_resource(show_spinner=False, max_entries=128)
def _indicator_script(key: tuple, _ws: Workspace, _result: CoverageResult | None) -> str:
    return mapview.group_script(copy.deepcopy(_indicator(key, _ws, _result)), 0)


def get_map_layers(key: tuple, thr_key: tuple, ws: Workspace, result: CoverageResult | None,
                   extra: gpd.GeoDataFrame | None, *, category: str, mode: str,
                   indicator: str, basemap: str, lang: str, points: tuple[str, ...]
                   ) -> tuple[folium.Map | mapview.MapParts, folium.FeatureGroup | str]:
    """The cached map and its indicator layer for this view.

    ``key``: the workspace fingerprint and the listings choice (what the analysis depends
    on); ``thr_key``: the slider thresholds (what only the indicator layer depends on).
    The map itself does not depend on thresholds or the indicator: the choropleth comes
    as a dynamic layer, so a slider does not reload the map (nor reset its zoom).

    Fast path (:data:`dorfkarte.ui.mapview.FAST_PATH`): the map pre-rendered once
    (:class:`~dorfkarte.ui.mapview.MapParts`) and the layer's script, both cached, so a
    rerun renders nothing it rendered before. Otherwise fresh copies of the cached folium
    objects for ``st_folium`` (it renames the variables of what it renders, so one object
    must not be rendered twice; a deep copy costs ~10 ms, building ~300 ms).
    """
    # the indicator does not change the map when it comes as a dynamic layer: fixed in key
    map_key = (*key, category, mode, "share_within", basemap, lang, points, True)
    ind_key = (*key, thr_key, category, mode, indicator, lang)
    if mapview.FAST_PATH:
        return (_map_parts(map_key, ws, result, extra),
                _indicator_script(ind_key, ws, result))
    fmap = _map(map_key, ws, ws.snapshot, result, extra)
    return copy.deepcopy(fmap), copy.deepcopy(_indicator(ind_key, ws, result))
