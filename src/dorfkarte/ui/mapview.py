"""The map panel: the cached folium map in streamlit-folium, clicks -> selected Ortsteil.

Only ``last_clicked`` (where the map was clicked) comes back from the browser, not every pan
and zoom (streamlit-folium's ``last_object_clicked`` misses clicks on GeoJSON polygons; unit
popups are off in the app because an opening popup swallows the map click). The choropleth
and the selected Ortsteil are dynamic feature groups: a slider or a click does not reload
the map. The click lands in ``st.session_state[SELECTED]`` (the unit under it, for the
profile) and, as ``(lat, lng)``, in ``st.session_state[MAP_CLICK_KEY]`` (where the listings
form and the scenario panel place a new point); tests set these keys directly.

Speed: ``st_folium`` renders the whole folium map to HTML/JS on every rerun (~0.5 s for the
region map with its base map), although only the dynamic layers change. :func:`map_parts`
does that rendering once per cached map (exactly as ``st_folium`` does it) and
:func:`render_parts` hands the stored strings to streamlit-folium's component, so a slider
rerun only builds the indicator layer's script. This uses streamlit-folium internals
(``_component_func`` and its string helpers, stable since 0.22); if they are missing,
:func:`render_map` falls back to ``st_folium``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import branca
import folium
import geopandas as gpd
import shapely
import streamlit as st
import streamlit_folium
from streamlit_folium import st_folium

from dorfkarte import maps
from dorfkarte.i18n import t
from dorfkarte.snapshot import DISTRICTS
from dorfkarte.ui.context import UIContext
from dorfkarte.ui.state import LAST_CLICK as _LAST_CLICK
from dorfkarte.ui.state import MAP_CLICK as MAP_CLICK_KEY
from dorfkarte.ui.state import MAP_KEY, SELECTED

__all__ = ["MAP_CLICK_KEY", "SELECTED", "handle_click", "highlight_group", "render_map",
           "unit_at"]

#: The only value streamlit-folium sends back (not every pan and zoom).
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


@dataclass(frozen=True)
class MapParts:
    """A folium map rendered once for streamlit-folium's component."""

    script: str
    header: str
    html: str
    map_id: str
    default: dict[str, Any]
    zoom: Any
    css_links: list[str]
    js_links: list[str]
    hash_key: str


#: streamlit-folium internals used for the cached rendering (None: use ``st_folium``).
_SF = tuple(getattr(streamlit_folium, n, None) for n in (
    "_component_func", "_get_html", "_get_header", "_get_map_string", "get_full_id",
    "generate_js_hash", "_get_feature_group_string"))
FAST_PATH = all(f is not None for f in _SF)


def _links(fmap: folium.Map) -> tuple[list[str], list[str]]:
    """The CSS and JS files the map's elements ask for (as ``st_folium`` collects them)."""
    css: list[str] = []
    js: list[str] = []

    def walk(el: Any) -> Any:
        if isinstance(el, (branca.colormap.ColorMap, folium.elements.JSCSSMixin)):
            yield el
        for child in getattr(el, "_children", {}).values():
            yield from walk(child)

    for el in walk(fmap):
        css.extend(href for _, href in getattr(el, "default_css", []))
        js.extend(src for _, src in getattr(el, "default_js", []))
    return list(dict.fromkeys(css)), list(dict.fromkeys(js))


def map_parts(fmap: folium.Map, key: str = MAP_KEY) -> MapParts:
    """Render ``fmap`` (consumed: it is modified) into the component's strings."""
    _, get_html, get_header, get_map_string, get_full_id, js_hash, _ = _SF
    fmap.get_root().render()
    fmap.render()
    html = get_html(fmap)
    header = get_header(fmap)
    script = get_map_string(fmap)
    default = {CLICK_KEY: None}  # the only value asked back (``returned_objects``)
    css, js = _links(fmap)
    return MapParts(script=script, header=header, html=html, map_id=get_full_id(fmap),
                    default=default, zoom=fmap.options.get("zoom"), css_links=css,
                    js_links=js, hash_key=js_hash(script, key, False))


def group_script(group: folium.FeatureGroup, idx: int) -> str:
    """The script adding ``group`` (consumed) as the component's ``idx``-th dynamic layer."""
    return _SF[6](group, map=folium.Map(tiles=None), idx=idx)


def render_parts(parts: MapParts, scripts: list[str], *, key: str = MAP_KEY,
                 height: int = MAP_HEIGHT) -> dict[str, Any] | None:
    """streamlit-folium's component for pre-rendered parts (see :func:`map_parts`)."""
    component = _SF[0]

    def on_change() -> None:
        st.session_state[key] = st.session_state.get(parts.hash_key, {})

    return component(
        script=parts.script, header=parts.header, html=parts.html, id=parts.map_id,
        key=parts.hash_key, height=height, width=None, returned_objects=[CLICK_KEY],
        default=parts.default, zoom=parts.zoom, center=None,
        feature_group="".join(scripts) or None, return_on_hover=False, layer_control=None,
        pixelated=False, css_links=parts.css_links, js_links=parts.js_links,
        on_change=on_change, wrap_longitude=False,
    )


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


@st.cache_resource(show_spinner=False, max_entries=64)
def _highlight_script(fingerprint: str, snapshot_id: int, name: str | None, lang: str,
                      idx: int, _ctx: UIContext) -> str | None:
    """The selected unit's outline as a dynamic layer's script, built once per unit (a
    slider step keeps the selection: ~15 ms of folium rendering saved per step)."""
    group = highlight_group(_ctx, name)
    return None if group is None else group_script(group, idx)


def render_map(ctx: UIContext, fmap: folium.Map | MapParts,
               indicator: folium.FeatureGroup | str | None = None,
               height: int = MAP_HEIGHT) -> None:
    """Show the map; a click selects an Ortsteil.

    ``fmap``: pre-rendered :class:`MapParts` with ``indicator`` as its script (the fast
    path, ``data.get_map_layers``), or a fresh folium map with a feature group. The
    choropleth and the selected unit's outline are dynamic layers: changing them does not
    reload the map.
    """
    name = st.session_state.get(SELECTED)
    if isinstance(fmap, MapParts):
        scripts = [indicator] if isinstance(indicator, str) else []
        outline = _highlight_script(ctx.ws.fingerprint, id(ctx.snapshot), name, ctx.lang,
                                    len(scripts), ctx)
        if outline is not None:
            scripts.append(outline)
        returned = render_parts(fmap, scripts, height=height)
    else:
        selected = highlight_group(ctx, name)
        groups = [g for g in (indicator, selected) if g is not None]
        returned = st_folium(
            fmap, key=MAP_KEY, height=height, use_container_width=True,
            returned_objects=[CLICK_KEY], feature_group_to_add=groups or None,
        )
    st.caption(t("click_hint", ctx.lang))
    if handle_click(ctx, returned):
        st.rerun()
