"""The map panel: the cached folium map in streamlit-folium, clicks -> selected Ortsteil.

Only ``last_clicked`` (where the map was clicked) comes back from the browser, not every pan
and zoom (streamlit-folium's ``last_object_clicked`` misses clicks on GeoJSON polygons; unit
popups are off in the app because an opening popup swallows the map click). The choropleth
and the selected Ortsteil are dynamic feature groups: a slider or a click does not reload
the map. The click lands in ``st.session_state[SELECTED]`` (the unit under it, for the
profile) and, as ``(lat, lng)``, in ``st.session_state[MAP_CLICK_KEY]`` (where the listings
form and the scenario panel place a new point); tests set these keys directly.
"""

from __future__ import annotations

import warnings
from typing import Any

import folium
import geopandas as gpd
import shapely
import streamlit as st
from streamlit_folium import st_folium

from dorfkarte import maps
from dorfkarte.i18n import t
from dorfkarte.snapshot import DISTRICTS
from dorfkarte.ui.context import UIContext

SELECTED = "selected_unit"
#: Last clicked map position ``(lat, lng)``, read by the listings and scenario panels
#: (same key as ``dorfkarte.ui.listings.MAP_CLICK_KEY``).
MAP_CLICK_KEY = "dk_map_click"
_LAST_CLICK = "_dk_last_click"
MAP_KEY = "dk_map"
CLICK_KEY = "last_clicked"
MAP_HEIGHT = 640


def unit_at(districts: gpd.GeoDataFrame | None, lat: float, lng: float) -> str | None:
    """Name of the unit containing the point (nearest one within ~200 m on a border gap)."""
    if districts is None or districts.empty:
        return None
    if districts.crs is not None and districts.crs.to_epsg() != 4326:
        districts = districts.to_crs("EPSG:4326")
    pt = shapely.Point(lng, lat)
    hit = districts[districts.geometry.covers(pt)]
    if len(hit):
        return str(hit["name"].iloc[0])
    with warnings.catch_warnings():  # degrees are fine for "a few hundred metres off"
        warnings.simplefilter("ignore", UserWarning)
        d = districts.geometry.distance(pt)
    i = int(d.to_numpy().argmin())
    return str(districts["name"].iloc[i]) if float(d.iloc[i]) < 0.003 else None


def handle_click(ctx: UIContext, returned: dict[str, Any] | None) -> bool:
    """Store a new map click: its position for placing points, its unit as the selection.

    True if the selected unit changed (the page reruns to show its profile); the position
    is kept either way for the listings and scenario tabs, which read it when opened.
    """
    click = (returned or {}).get(CLICK_KEY)
    if not click or click == st.session_state.get(_LAST_CLICK):
        return False
    st.session_state[_LAST_CLICK] = click
    try:
        lat, lng = float(click["lat"]), float(click["lng"])
    except (KeyError, TypeError, ValueError):
        return False
    st.session_state[MAP_CLICK_KEY] = (lat, lng)
    name = unit_at(ctx.snapshot.get(DISTRICTS), lat, lng)
    if name is None or name == st.session_state.get(SELECTED):
        return False
    st.session_state[SELECTED] = name
    return True


def highlight_group(ctx: UIContext, name: str | None) -> folium.FeatureGroup | None:
    districts = ctx.snapshot.get(DISTRICTS)
    if not name or districts is None:
        return None
    sel = districts[districts["name"].astype(str) == str(name)]
    if sel.empty:
        return None
    fg = folium.FeatureGroup(name=t("layer_highlight", ctx.lang))
    folium.GeoJson(
        maps.feature_collection(sel.to_crs("EPSG:4326"), [{"name": str(name)}]),
        style_function=lambda f: {"fill": False, "color": "#0d47a1", "weight": 5, "opacity": 1},
        interactive=False,
    ).add_to(fg)
    return fg


def render_map(ctx: UIContext, fmap: folium.Map, indicator: folium.FeatureGroup | None = None,
               height: int = MAP_HEIGHT) -> None:
    """Show the map (fresh copies, see ``data.get_map``); a click selects an Ortsteil.

    ``indicator`` (the choropleth) and the selected unit's outline are dynamic layers:
    changing them does not reload the map.
    """
    groups = [g for g in (indicator, highlight_group(ctx, st.session_state.get(SELECTED)))
              if g is not None]
    returned = st_folium(
        fmap, key=MAP_KEY, height=height, use_container_width=True,
        returned_objects=[CLICK_KEY], feature_group_to_add=groups or None,
    )
    st.caption(t("click_hint", ctx.lang))
    if handle_click(ctx, returned):
        st.rerun()
