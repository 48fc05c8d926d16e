"""The dorfkarte folium map: Ortsteile, choropleth, gaps, service points, stops, legend.

One builder serves the Streamlit app and the HTML export, so both show the same map.
Everything the browser needs comes from this package (Leaflet served by the app, icons
as inline SVG, hatching as an SVG pattern), and a base map drawn from the snapshot sits
below the web tiles: when tiles cannot load (no network), it shows through.

Every string from OSM, listings or uploads is HTML-escaped here before it reaches a
tooltip, popup, label or legend.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import quote

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from dorfkarte import assets, fmt, provenance
from dorfkarte.basemap import light_base
from dorfkarte.coverage import CoverageResult, data_edge_units
from dorfkarte.districts import read_centres
from dorfkarte.enums import GapClass, PopulationSource, SiteStatus, Source
from dorfkarte.errors import DorfkarteError
from dorfkarte.i18n import (
    category_label,
    gap_label,
    indicator_label,
    mode_label,
    osm_attribution,
    t,
)
from dorfkarte.region import TRANSIT, Region
from dorfkarte.safe import html_escape
from dorfkarte.snapshot import (
    AMENITIES,
    CENSUS,
    DATA_GAP,
    DISTRICTS,
    LANDUSE,
    MUNICIPALITIES,
    ROADS,
    ROUTES,
    STOPS,
    WATER,
    Snapshot,
)

INDICATORS: tuple[str, ...] = ("share_within", "median", "p90", "gap_class", "residents_outside")
BASEMAPS: tuple[str, ...] = ("osm", "own", "none")

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_TILES_ATTR = (
    '<a href="https://www.openstreetmap.org/copyright">Kartenkacheln: OpenStreetMap</a>'
)

GAP_COLOURS: dict[str, str] = {GapClass.OK: "#1a9850", GapClass.TIGHT: "#fee08b",
                               GapClass.GAP: "#d73027"}
NO_DATA_COLOUR = "#bdbdbd"
#: "unbekannt – nur lokale Angebote erfasst": neutral like no data, lighter, never red
LOCAL_ONLY_COLOUR = "#dadaeb"
UNREACHABLE_COLOUR = "#7f0000"
_GOOD_TO_BAD = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"]
_RESIDENTS = ["#f7f7f7", "#fddbc7", "#f4a582", "#d6604d", "#b2182b"]
_OUTLINE = {
    GapClass.GAP: {"color": "#a50f15", "weight": 3.5},
    GapClass.TIGHT: {"color": "#d95f0e", "weight": 2.5},
    GapClass.OK: {"color": "#4d4d4d", "weight": 1.2},
}
_BASE_STYLE: dict[str, dict[str, Any]] = {
    "forest": {"fillColor": "#b7d7a8", "color": "#b7d7a8"},
    "wood": {"fillColor": "#b7d7a8", "color": "#b7d7a8"},
    "residential": {"fillColor": "#e0dcd6", "color": "#e0dcd6"},
    "farmland": {"fillColor": "#f3efd8", "color": "#f3efd8"},
    "meadow": {"fillColor": "#dcebc4", "color": "#dcebc4"},
    "grass": {"fillColor": "#dcebc4", "color": "#dcebc4"},
}
_ROAD_CLASSES: dict[str, tuple[str, float]] = {
    "motorway": ("#e8a33d", 3.0), "trunk": ("#e8a33d", 3.0), "primary": ("#f2c14e", 2.6),
    "secondary": ("#f6d776", 2.2), "tertiary": ("#ffffff", 1.8), "unclassified": ("#ffffff", 1.3),
    "residential": ("#ffffff", 1.0), "living_street": ("#ffffff", 1.0),
}

#: The one HTML-escape helper (``dorfkarte.safe``); ``esc`` kept as the short local name.
esc = html_escape


def _css_id(value: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "-", value.lower())


def fmt_number(value: float, decimals: int = 0, lang: str = "de") -> str:
    """See :func:`dorfkarte.fmt.number` (one formatter for app, maps and exports)."""
    return fmt.number(value, decimals, lang)


def fmt_value(value: float | None, unit: str, lang: str = "de") -> str:
    """Travel time (``min``) or distance (``m``) for people: :func:`dorfkarte.fmt.value`."""
    return fmt.value(value, unit, lang)


def fmt_share(value: float | None, lang: str = "de") -> str:
    return fmt.share(value, lang)


# --------------------------------------------------------------------------- indicators


def indicator_table(result: CoverageResult, category: str, mode: str) -> pd.DataFrame:
    """Rows of ``result.indicators`` for one category and mode, plus ``residents_outside``.

    Empty (with the contract's columns) when there is no result for that pair.
    """
    if result is None or getattr(result, "indicators", None) is None:
        return pd.DataFrame(columns=["district", "residents_outside"])
    ind = result.indicators
    rows = ind[(ind["category"] == category) & (ind["mode"] == mode)].copy()
    rows["residents_outside"] = (
        pd.to_numeric(rows["population"], errors="coerce")
        - pd.to_numeric(rows["residents_within"], errors="coerce")
    ).clip(lower=0)
    return rows


def _bin(value: float, edges: Sequence[float], colours: Sequence[str]) -> str:
    for edge, colour in zip(edges, colours, strict=False):
        if value < edge:
            return colour
    return colours[-1]


def colour_for(indicator: str, row: dict[str, Any] | pd.Series | None) -> str:
    """Fill colour of one unit for ``indicator`` (see :func:`legend_scale`)."""
    if row is None:
        return NO_DATA_COLOUR
    if str(row.get("gap_class")) == GapClass.LOCAL_ONLY:
        return LOCAL_ONLY_COLOUR
    if indicator == "gap_class":
        return GAP_COLOURS.get(str(row.get("gap_class")), NO_DATA_COLOUR)
    value = row.get(indicator)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return NO_DATA_COLOUR
    if math.isnan(value):
        return NO_DATA_COLOUR
    if indicator == "share_within":
        return _bin(value, [0.25, 0.5, 0.75, 0.9], _GOOD_TO_BAD[::-1])
    if indicator == "residents_outside":
        return _bin(value, [1, 25, 100, 250], _RESIDENTS)
    if math.isinf(value):
        return UNREACHABLE_COLOUR
    thr = float(row.get("threshold") or 0) or 1.0
    return _bin(value / thr, [0.5, 1.0, 1.5, 2.0], _GOOD_TO_BAD)


def legend_scale(indicator: str, threshold: float | None, unit: str,
                 lang: str = "de") -> list[tuple[str, str]]:
    """``(colour, label)`` pairs explaining the fill colours of ``indicator``."""
    if indicator == "gap_class":
        return [(GAP_COLOURS[g], gap_label(g, lang))
                for g in (GapClass.OK, GapClass.TIGHT, GapClass.GAP)]
    if indicator == "share_within":
        labels = ["< 25 %", "25–50 %", "50–75 %", "75–90 %", "≥ 90 %"]
        return list(zip(_GOOD_TO_BAD[::-1], labels, strict=True))
    if indicator == "residents_outside":
        labels = ["0", "1–24", "25–99", "100–249", "≥ 250"]
        return list(zip(_RESIDENTS, labels, strict=True))
    thr = threshold or 1.0
    edges = [0.5 * thr, thr, 1.5 * thr, 2 * thr]
    f = [fmt_value(e, unit, lang) for e in edges]
    labels = [f"≤ {f[0]}", f"{f[0]}–{f[1]}", f"{f[1]}–{f[2]}", f"{f[2]}–{f[3]}", f"> {f[3]}"]
    out = list(zip(_GOOD_TO_BAD, labels, strict=True))
    out.append((UNREACHABLE_COLOUR, t("unreachable", lang)))
    return out


# --------------------------------------------------------------------------- geometry


def _rounded(geoms: Iterable[Any], simplify: float = 0.0, decimals: int = 5) -> np.ndarray:
    arr = np.asarray(list(geoms), dtype=object)
    if simplify:
        arr = shapely.simplify(arr, simplify, preserve_topology=True)
    return shapely.transform(arr, lambda c: np.round(c, decimals))


def feature_collection(gdf: gpd.GeoDataFrame, props: Sequence[dict[str, Any]],
                       simplify: float = 0.0, decimals: int = 5) -> dict[str, Any]:
    """GeoJSON dict with rounded (and optionally simplified) geometries and given properties."""
    geoms = _rounded(gdf.geometry.to_numpy(), simplify, decimals) if len(gdf) else []
    feats = []
    for i, (geom, prop) in enumerate(zip(geoms, props, strict=True)):
        if geom is None or shapely.is_empty(geom):
            continue
        feats.append({"type": "Feature", "id": str(i), "properties": prop,
                      "geometry": shapely.geometry.mapping(geom)})
    return {"type": "FeatureCollection", "features": feats}


def _municipality_outlines(snapshot: Snapshot, districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    munis = snapshot.get(MUNICIPALITIES)
    if munis is not None and len(munis):
        return munis
    if "municipality" not in districts or districts.empty:
        return districts.iloc[0:0]
    return districts.dissolve(by="municipality", as_index=False)[["municipality", "geometry"]]


# --------------------------------------------------------------------------- JS elements


class _Script(MacroElement):
    """A snippet of JS run after the map and its layers exist (``map`` is the Leaflet map)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(map) { {{ this.code }} })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "DorfkarteScript"
        self.code = code


class HtmlControl(MacroElement):
    """A Leaflet control holding ready-made (already escaped) HTML, e.g. the legend."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(map) {
            var ctl = L.control({position: {{ this.position|tojson }}});
            ctl.onAdd = function() {
                var div = L.DomUtil.create('div', {{ this.css_class|tojson }});
                div.id = {{ this.element_id|tojson }};
                div.innerHTML = {{ this.html|tojson }};
                var part = div.querySelector('#dk-legend-ind');
                if (part && window.__dk_legend_ind && !part.innerHTML) {
                    part.innerHTML = window.__dk_legend_ind;
                }
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            ctl.addTo(map);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, element_id: str, css_class: str,
                 position: str = "bottomright") -> None:
        super().__init__()
        self._name = "HtmlControl"
        self.html = html_text
        self.element_id = element_id
        self.css_class = css_class
        self.position = position


#: The highlighted unit and its name clear of the legend (bottom right), measured in the
#: browser: the legend's size depends on language, fonts and the projector CSS. If they
#: overlap, the view is fitted again with the legend's real width kept free on the right;
#: where the map is too narrow for that, the unit itself is moved left of (or above) the
#: legend (nor under the attribution lines). Runs again when the legend changes size.
_CLEAR_LEGEND_JS = """
var dkUnit = L.latLngBounds(%s), dkView = L.latLngBounds(%s), dkName = %s, dkPad = 8;
function dkUnderLegend() {
  var leg = document.getElementById('dk-legend');
  if (!leg || !leg.offsetWidth) { return null; }
  var c = map.getContainer().getBoundingClientRect(), l = leg.getBoundingClientRect();
  var ne = map.latLngToContainerPoint(dkUnit.getNorthEast());
  var sw = map.latLngToContainerPoint(dkUnit.getSouthWest());
  var o = {left: l.left - c.left - dkPad, top: l.top - c.top - dkPad,
           right: l.right - c.left + dkPad, bottom: l.bottom - c.top + dkPad,
           x0: sw.x, x1: ne.x, y0: ne.y, y1: sw.y};
  // the unit's name too, where it is drawn
  map.getContainer().querySelectorAll('.dk-label span[data-unit]').forEach(function(s) {
    if (s.dataset.unit !== dkName || !s.offsetWidth) { return; }
    var r = s.getBoundingClientRect();
    o.x0 = Math.min(o.x0, r.left - c.left); o.x1 = Math.max(o.x1, r.right - c.left);
    o.y0 = Math.min(o.y0, r.top - c.top); o.y1 = Math.max(o.y1, r.bottom - c.top);
  });
  o.free = c.width - o.left;
  // the attribution line(s) along the bottom edge hide a strip too
  var a = map.getContainer().querySelector('.leaflet-control-attribution');
  o.low = a && a.offsetHeight ? c.bottom - a.getBoundingClientRect().top + dkPad : 10;
  o.leg = o.x1 > o.left && o.x0 < o.right && o.y1 > o.top && o.y0 < o.bottom;
  o.hit = o.leg || o.y1 > c.height - o.low;
  return o;
}
function dkClearLegend() {
  var o = dkUnderLegend();
  if (o && o.hit && o.free < map.getSize().x - 120) {
    map.fitBounds(dkView, {paddingTopLeft: [10, 10], paddingBottomRight: [o.free, o.low],
                           animate: false});
    o = dkUnderLegend();
  }
  if (!o || !o.hit) { return; }
  var dx = o.x1 - o.left;
  var dy = Math.max(o.leg ? o.y1 - o.top : 0, o.y1 - (map.getSize().y - o.low));
  if (o.leg && o.x0 - dx >= 10) { map.panBy([dx, 0], {animate: false}); }
  else if (o.y0 - dy >= 10) { map.panBy([0, dy], {animate: false}); }
  else { map.fitBounds(dkUnit, {paddingTopLeft: [10, 10],
                                paddingBottomRight: [Math.max(o.free, 10), o.low],
                                animate: false}); }
}
function dkWhenStill() {  // the map's own fit may still be zooming (animated)
  if (map._animatingZoom) { map.once('zoomend', dkWhenStill); } else { dkClearLegend(); }
}
dkWhenStill();
window.addEventListener('load', dkWhenStill);
var dkLeg = document.getElementById('dk-legend');
if (dkLeg && window.ResizeObserver) { new ResizeObserver(dkWhenStill).observe(dkLeg); }
"""


#: Unit names: zoom classes on the map container (CSS sizes the names, and far out hides
#: the village names) and a small placement pass: in order of rank (Kernorte, then by
#: residents) a name that would overlap one already placed moves just above, below or
#: beside its point. Names stay in the DOM at every zoom (searchable; exported files).
_LABEL_JS = """
var c = map.getContainer();
function dkOverlap(a, b) {
  var w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
  var h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
  return (w > 0 && h > 0) ? w * h : 0;
}
function dkPlaceLabels() {
  var z = map.getZoom();
  c.classList.toggle('dk-z-xlo', z < 9.5);
  c.classList.toggle('dk-z-lo', z < 10.75);
  c.classList.toggle('dk-z-hi', z >= 12);
  var spans = Array.prototype.slice.call(c.querySelectorAll('.dk-label span[data-rank]'));
  spans.forEach(function(s) { s.style.translate = ''; });
  spans.sort(function(a, b) { return (+a.dataset.rank) - (+b.dataset.rank); });
  var placed = [];
  spans.forEach(function(s) {
    var r = s.getBoundingClientRect();
    if (!r.width || getComputedStyle(s).visibility === 'hidden') { return; }
    var h = r.height * 0.85, w = r.width / 2 + 3;
    var moves = [[0, 0], [0, -h], [0, h], [w, 0], [-w, 0], [0, -2 * h], [0, 2 * h]];
    var best = moves[0], bestCost = Infinity, box = r;
    for (var i = 0; i < moves.length; i++) {
      var m = moves[i];
      var b = {left: r.left + m[0], right: r.right + m[0], top: r.top + m[1],
               bottom: r.bottom + m[1]};
      var cost = 0;
      for (var j = 0; j < placed.length; j++) { cost += dkOverlap(b, placed[j]); }
      if (cost < bestCost) { best = m; bestCost = cost; box = b; }
      if (cost === 0) { break; }
    }
    if (best[0] || best[1]) { s.style.translate = best[0] + 'px ' + best[1] + 'px'; }
    placed.push(box);
  });
}
map.on('zoomend resize', dkPlaceLabels);  // resize: an iframe shown after the first draw
setTimeout(dkPlaceLabels, 0);
"""

def _svg_pattern_js(pattern_id: str, size: int, angle: int, body: str) -> str:
    """A script adding one SVG fill pattern (``url(#pattern_id)``) to the page, once."""
    pattern = (f'<pattern id="{pattern_id}" patternUnits="userSpaceOnUse" width="{size}" '
               f'height="{size}" patternTransform="rotate({angle})">{body}</pattern>')
    return f"""
if (!document.getElementById('{pattern_id}')) {{
  var ns = 'http://www.w3.org/2000/svg';
  var svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', '0'); svg.setAttribute('height', '0');
  svg.setAttribute('aria-hidden', 'true');
  svg.style.position = 'absolute';
  svg.innerHTML = '<defs>{pattern}</defs>';
  document.body.appendChild(svg);
}}
"""


#: Red hatching of gaps.
_HATCH_JS = _svg_pattern_js(
    "dk-hatch", 9, 45, '<rect width="9" height="9" fill="none"/><line x1="0" y1="0" x2="0" '
    'y2="9" stroke="#a50f15" stroke-width="2.5" stroke-opacity="0.75"/>')


def _icon_css(region: Region) -> str:
    """One CSS rule per category: coloured badge with its white inline-SVG icon."""
    rules = []
    for cid, cat in region.categories.items():
        svg = assets.icon_svg(cat.icon).replace('fill="currentColor"', 'fill="#ffffff"')
        uri = "data:image/svg+xml," + quote(svg, safe="")
        colour = cat.color if re.fullmatch(r"#[0-9a-fA-F]{3,8}", cat.color) else "#555555"
        rules.append(
            f".dk-c-{_css_id(cid)}{{background-color:{colour};"
            f"background-image:url(\"{uri}\");}}"
        )
    return "\n".join(rules)


_MAP_CSS = """
.leaflet-container{background:#f4f1ea;font:13px/1.35 system-ui,-apple-system,"Segoe UI",
  Roboto,"DejaVu Sans",sans-serif}
.dk-poi{width:22px;height:22px;box-sizing:border-box;border:2px solid #fff;border-radius:50%;
  background-repeat:no-repeat;background-position:center;background-size:60% 60%;
  box-shadow:0 0 0 1px rgba(0,0,0,.45),0 1px 3px rgba(0,0,0,.4)}
.dk-poi.dk-src-listing{border-radius:3px;border:2px dashed #111}
.dk-poi.dk-src-scenario{border-radius:3px;transform:rotate(45deg);border:2px solid #111}
.leaflet-marker-icon.dk-poi-icon{background:none;border:none}
.dk-label{background:none;border:none}
.dk-label span{display:inline-block;transform:translate(-50%,-50%);white-space:nowrap;
  font-weight:600;font-size:11px;color:#262626;pointer-events:none;letter-spacing:.01em;
  text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff,0 0 4px #fff}
.dk-label.dk-kernort span{position:relative;font-size:14px;font-weight:800;color:#000;
  padding-bottom:9px;transform:translate(-50%,calc(-100% + 5px))}
.dk-label.dk-kernort span::after{content:"";position:absolute;left:50%;bottom:1.5px;
  width:7px;height:7px;margin-left:-3.5px;border-radius:50%;background:#000;
  box-shadow:0 0 0 2px #fff}
.dk-z-lo .dk-label.dk-ortsteil span{font-size:10px;font-weight:500}
.dk-z-lo .dk-label.dk-kernort span{font-size:12.5px}
.dk-z-xlo .dk-label.dk-ortsteil span{visibility:hidden}
.dk-z-hi .dk-label.dk-ortsteil span{font-size:13px}
.dk-z-hi .dk-label.dk-kernort span{font-size:16px}
.dk-legend,.dk-title{background:rgba(255,255,255,.93);padding:6px 9px;border-radius:5px;
  box-shadow:0 1px 5px rgba(0,0,0,.35);max-width:270px;color:#1b1b1b}
.dk-legend{max-height:420px;overflow-y:auto}
.leaflet-control-attribution{font-size:11px}
.dk-legend summary{font-weight:700;cursor:pointer}
.dk-legend h4{margin:6px 0 2px;font-size:12px}
.dk-legend .dk-row{display:flex;align-items:center;gap:6px;margin:2px 0;font-size:12px}
.dk-legend .dk-sw{width:16px;height:12px;border:1px solid #555;flex:none}
.dk-legend .dk-poi{width:18px;height:18px;flex:none}
.dk-legend .dk-note{font-size:11px;color:#444;margin-top:4px}
.dk-legend .dk-flag{color:#7a1f00;font-weight:600}
.dk-legend .dk-stop{border-radius:50%;background:#00838f;border:1px solid #004d52;flex:none}
.dk-legend .dk-stop.dk-weak{background:#fff}
.dk-legend .dk-hatch{background:repeating-linear-gradient(45deg,#fff 0 3px,#a50f15 3px 5px);
  border:2px solid #a50f15}
.dk-title h3{margin:0;font-size:15px}.dk-title div{font-size:11px;color:#333}
.dk-tip table td{padding:0}.dk-tip b{font-weight:700}
.dk-pop table{border-collapse:collapse;font-size:12px}
.dk-pop td,.dk-pop th{padding:1px 5px;border-bottom:1px solid #ddd;text-align:left}
.dk-pop .dk-gap{color:#a50f15;font-weight:700}.dk-pop .dk-tight{color:#b35806}
"""


# --------------------------------------------------------------------------- points


def _points_for(category: str, snapshot: Snapshot, result: CoverageResult,
                extra_points: gpd.GeoDataFrame | None,
                added_only: bool = False) -> gpd.GeoDataFrame:
    """Service points of one category: the analysed destinations, else the snapshot's
    amenities; plus extra points (listings, scenario sites) not already among them.

    ``added_only`` (transit categories, whose stops have their own layer): only listings
    and scenario sites, from the extra points and from the result (a what-if's new stop).
    """
    frames = []
    dests = getattr(result, "destinations", None) if result is not None else None
    if added_only:
        d = dests.get(category) if dests is not None else None
        if d is not None and len(d) and "source" in d:
            frames.append(d[d["source"].map(_source_kind) != "osm"])
    elif dests is not None and category in dests and dests[category] is not None:
        frames.append(dests[category])
    else:
        am = snapshot.get(AMENITIES)
        if am is not None and len(am) and "category" in am:
            sel = am[am["category"] == category].copy()
            if "source" not in sel or sel["source"].isna().all():
                sel["source"] = "osm"
            frames.append(sel)
    if extra_points is not None and len(extra_points) and "category" in extra_points:
        frames.append(extra_points[extra_points["category"] == category])
    frames = [f.to_crs("EPSG:4326") for f in frames if f is not None and len(f)]
    if not frames:
        return gpd.GeoDataFrame({"name": [], "source": []}, geometry=[], crs="EPSG:4326")
    pts = pd.concat(frames, ignore_index=True)
    pts = gpd.GeoDataFrame(pts, geometry="geometry", crs="EPSG:4326")
    pts = pts[pts.geometry.notna() & ~pts.geometry.is_empty]
    pts = pts.set_geometry(pts.geometry.representative_point())
    key = (pts["name"].astype(str) + "|" + pts.geometry.x.round(4).astype(str) + "|"
           + pts.geometry.y.round(4).astype(str))
    return pts.loc[~key.duplicated()].reset_index(drop=True)


def _source_kind(source: object) -> str:
    s = str(source or "osm").lower()
    if s.startswith("listing") or s in {"local", "lokal"}:
        return "listing"
    if s.startswith(Source.SCENARIO) or s in {"planned", "new"}:
        return "scenario"
    return "osm"


def listing_origins(pts: gpd.GeoDataFrame, lang: str) -> list[str | None]:
    """Per listing point the source worth naming: the Smart Village App (with the app's
    data provider where it gives one); None for listings from a planner's own file."""
    from dorfkarte.listings.smart_village import origin_label

    srcs = pts["listing_source"].tolist() if "listing_source" in pts else [""] * len(pts)
    provs = pts["provider"].tolist() if "provider" in pts else [""] * len(pts)
    return [origin_label(s, p, lang) for s, p in zip(srcs, provs, strict=True)]


def _poi_html(cid: str, kind: str) -> str:
    return f'<div class="dk-poi dk-c-{_css_id(cid)} dk-src-{kind}"></div>'


def _add_points(fg: folium.FeatureGroup, pts: gpd.GeoDataFrame, cid: str, label: str,
                lang: str) -> None:
    for kind in ("osm", "listing", "scenario"):
        kinds = pts["source"].map(_source_kind) if "source" in pts else pd.Series(
            "osm", index=pts.index)
        sub = pts[kinds == kind]
        if sub.empty:
            continue
        src_txt = esc(t("source_" + kind, lang))
        names = sub["name"].tolist() if "name" in sub else [None] * len(sub)
        examples = (sub["example"].fillna(False).astype(bool).tolist() if "example" in sub
                    else [False] * len(sub))
        origins = (listing_origins(sub, lang) if kind == "listing"
                   else [None] * len(sub))
        props = []
        for name, example, origin in zip(names, examples, origins, strict=True):
            name = name if isinstance(name, str) and name.strip() else f"({label})"
            note = f" · <i>{esc(t('example_data', lang))}</i>" if example else ""
            src = f"{src_txt} ({esc(origin)})" if origin else src_txt
            props.append({"tip": f"<b>{esc(name)}</b><br>{esc(label)} · {src}{note}"})
        icon = folium.DivIcon(html=_poi_html(cid, kind), icon_size=(22, 22),
                              icon_anchor=(11, 11), class_name="dk-poi-icon")
        folium.GeoJson(
            feature_collection(sub, props),
            marker=folium.Marker(icon=icon),
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, class_name="dk-tip"),
        ).add_to(fg)


def _stop_radius(weight: float) -> float:
    if weight is None or math.isnan(weight) or weight <= 0:
        return 3.0
    return round(2.5 + 1.6 * math.log10(1.0 + weight), 1)


# --------------------------------------------------------------------------- indicator


def _districts(snapshot: Snapshot) -> gpd.GeoDataFrame:
    districts = snapshot.get(DISTRICTS)
    if districts is None:
        return gpd.GeoDataFrame({"name": []}, geometry=[], crs="EPSG:4326")
    return districts.to_crs("EPSG:4326").reset_index(drop=True)


def _indicator_info(snapshot: Snapshot, region: Region, result: CoverageResult, category: str,
                    mode: str) -> dict[str, Any]:
    """The indicator rows of one category and mode and what the legend says about them."""
    table = indicator_table(result, category, mode)
    districts = _districts(snapshot)
    has = len(table) > 0
    return {
        "table": table,
        "unit": str(table["unit"].iloc[0]) if has and "unit" in table else (
            "m" if mode == TRANSIT else "min"),
        "threshold": float(table["threshold"].iloc[0]) if has and "threshold" in table
        else _default_threshold(region, category, mode),
        "approx": bool(districts["approx"].any()) if "approx" in districts else False,
        "straight": bool(has and "method" in table
                         and (table["method"] == "straight_line").any()),
        "local_only": category in provenance.local_only(result),
        "example": provenance.uses_example(result, None, [category]),
    }


class _LegendPart(MacroElement):
    """Puts the indicator part into the map legend (now, or when the legend is added)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.__dk_legend_ind = {{ this.html|tojson }};
        (function() {
            var el = document.getElementById('dk-legend-ind');
            if (el) { el.innerHTML = window.__dk_legend_ind; }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str) -> None:
        super().__init__()
        self._name = "LegendPart"
        self.html = html_text


def indicator_group(
    snapshot: Snapshot,
    region: Region,
    result: CoverageResult | None = None,
    *,
    category: str | None = None,
    mode: str = "walk",
    indicator: str = "share_within",
    lang: str = "de",
    popups: bool = True,
) -> folium.FeatureGroup:
    """The choropleth, the hatched gaps and the legend's indicator part as one group.

    :func:`build_map` adds it; the app passes it to streamlit-folium as a dynamic layer
    (``feature_group_to_add``) so the map is not reloaded when only the indicator changes.
    Its layers go into the map's ``dk-units`` pane.
    """
    if indicator not in INDICATORS:
        raise ValueError(f"indicator must be one of {INDICATORS}, not {indicator!r}")
    if category is None:
        category = next(iter(region.categories))
    cat_label = category_label(region.category(category), lang)
    districts = _districts(snapshot)
    info = _indicator_info(snapshot, region, result, category, mode)
    table = info["table"]
    by_name = {str(r["district"]): r for r in table.to_dict("records")} if len(table) else {}
    popup_html = _unit_popups(districts, result, mode, region, lang) if popups else {}
    edge = edge_units(snapshot, region, result, districts)
    unit_props = []
    for d in districts.drop(columns="geometry").to_dict("records"):
        row = by_name.get(str(d["name"]))
        gap = str(row["gap_class"]) if row is not None else ""
        outline = _OUTLINE.get(gap, {"color": "#4d4d4d", "weight": 1.2})
        unit_props.append({
            "name": str(d["name"]),
            "fill": colour_for(indicator, row) if result is not None else "#ffffff",
            "stroke": outline["color"],
            "weight": outline["weight"],
            "dash": "6 4" if bool(d.get("approx", False)) else None,
            "gap": gap,
            "tip": _unit_tip(d, row, indicator, mode, cat_label, lang),
            "popup": popup_html.get(str(d["name"]), ""),
        })
        if str(d["name"]) in edge:
            _flag_data_edge(unit_props[-1], lang)
    group = folium.FeatureGroup(name=esc(t("layer_units", lang)), show=True)
    fill_opacity = 0.55 if result is not None else 0.15
    if len(districts):
        folium.GeoJson(
            feature_collection(districts, unit_props, simplify=0.0001),
            style_function=lambda f: {
                "fillColor": f["properties"]["fill"],
                "fillOpacity": fill_opacity,
                "color": f["properties"]["stroke"],
                "weight": f["properties"]["weight"],
                "dashArray": f["properties"]["dash"],
                "opacity": 0.95,
            },
            highlight_function=lambda f: {"weight": 4, "fillOpacity": 0.7},
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True,
                                          class_name="dk-tip"),
            popup=folium.GeoJsonPopup(fields=["popup"], labels=False, max_width=380,
                                      class_name="dk-pop") if popups else None,
            pane="dk-units",
        ).add_to(group)
    gaps = districts[[p["gap"] == GapClass.GAP for p in unit_props]] if len(districts) \
        else districts
    if len(gaps):
        folium.GeoJson(
            feature_collection(gaps, [{"name": str(n)} for n in gaps["name"]], simplify=0.0001),
            style_function=lambda f: {"fillColor": "url(#dk-hatch)", "fillOpacity": 1,
                                      "stroke": False},
            interactive=False,
            pane="dk-units",
        ).add_to(group)
    _LegendPart(_legend_indicator_html(region, category, mode, indicator, result is not None,
                                       info, lang)).add_to(group)
    return group


#: Scenario map: unit fill (and home dot) per class of ``scenario.unit_changes``.
SCENARIO_COLOURS: dict[str, str] = {"gain": "#2e7d32", "loss": "#c62828", "mixed": "#f9a825",
                                    "unchanged": "#ffffff", "unknown": NO_DATA_COLOUR}
SCENARIO_NEW_SITE = "#0d47a1"
SCENARIO_CLOSED_SITE = "#616161"


def scenario_legend_html(mode: str, lang: str = "de") -> str:
    """The legend part of the scenario map: what each unit colour, dot and ring means."""
    out = [f"<h4>{esc(t('scn_map_legend_title', lang, mode=mode_label(mode, lang)))}</h4>",
           f'<div class="dk-note">{esc(t("scn_map_legend_units", lang))}</div>']
    for change in ("gain", "loss", "mixed", "unchanged", "unknown"):
        out.append(f'<div class="dk-row" data-change="{change}"><span class="dk-sw" '
                   f'style="background:{SCENARIO_COLOURS[change]}"></span>'
                   f"{esc(t('scn_unit_' + change, lang))}</div>")
    out.append(f'<div class="dk-note">{esc(t("scn_map_legend_homes", lang))}</div>')
    out.append(f'<div class="dk-row"><span class="dk-sw" style="border:3px solid '
               f'{SCENARIO_NEW_SITE};background:#fff;border-radius:50%"></span>'
               f"{esc(t('scn_map_site_new', lang))}</div>")
    out.append(f'<div class="dk-row"><span class="dk-sw" style="border:3px solid '
               f'{SCENARIO_CLOSED_SITE};background:#9e9e9e;border-radius:50%"></span>'
               f"{esc(t('scn_map_site_closed', lang))}</div>")
    return "".join(out)


def scenario_group(districts: gpd.GeoDataFrame, units: pd.DataFrame, *, mode: str,
                   origins: gpd.GeoDataFrame | None = None,
                   sites: gpd.GeoDataFrame | None = None, lang: str = "de",
                   max_dots: int = 4000) -> folium.FeatureGroup:
    """The scenario map's layer: units coloured by what the scenario does to them.

    ``units``: ``scenario.unit_changes`` (district, newly_covered, losing_coverage,
    change); a unit missing there is "unknown". ``origins``: ``scenario.origin_changes``
    (``status`` +1 gains / -1 loses) as dots in the same colours; ``sites``: the
    category's destinations with ``status`` (:class:`~dorfkarte.enums.SiteStatus` new /
    closed) as rings. Its legend part
    replaces the map legend's indicator part (the base map is built with
    ``dynamic_indicator=True``), so legend, caption and colours agree.
    """
    fg = folium.FeatureGroup(name=esc(t("scn_scenario_changes", lang)))
    by_name = {str(r["district"]): r for r in units.to_dict("records")} if len(units) else {}
    d = districts.to_crs("EPSG:4326").reset_index(drop=True) if len(districts) else districts
    mlabel = mode_label(mode, lang)
    props = []
    for name in d["name"].astype(str) if len(d) else []:
        row = by_name.get(name)
        change = str(row["change"]) if row is not None else "unknown"
        tip = f"<b>{esc(name)}</b><br>{esc(t('scn_unit_' + change, lang))}"
        if row is not None and change != "unknown":
            tip += "<br>" + esc(t("scn_unit_tip", lang, mode=mlabel,
                                  gained=fmt.integer(row["newly_covered"], lang),
                                  lost=fmt.integer(row["losing_coverage"], lang)))
        props.append({"name": name, "change": change, "fill": SCENARIO_COLOURS[change],
                      "tip": tip})
    if len(d):
        folium.GeoJson(
            feature_collection(d, props, simplify=0.0001),
            style_function=lambda f: {"fillColor": f["properties"]["fill"],
                                      "fillOpacity": 0.5, "color": "#4d4d4d",
                                      "weight": 1.2, "opacity": 0.9},
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True,
                                          class_name="dk-tip"),
            pane="dk-units",
        ).add_to(fg)
    if origins is not None and len(origins):
        oc = origins.to_crs("EPSG:4326")
        if len(oc) > max_dots:  # keep the page light: a sample still shows where
            oc = oc.sample(max_dots, random_state=0)
        for status, change in ((1, "gain"), (-1, "loss")):
            part = oc[oc["status"] == status]
            if len(part):
                folium.GeoJson(
                    json.loads(part[["geometry"]].to_json()),
                    marker=folium.CircleMarker(radius=3, weight=1, color="#ffffff",
                                               fill=True, fill_color=SCENARIO_COLOURS[change],
                                               fill_opacity=0.9),
                    interactive=False).add_to(fg)
    if sites is not None and len(sites):
        s4326 = sites.to_crs("EPSG:4326")
        for i in range(len(s4326)):
            status = str(s4326["status"].iloc[i])
            if status not in (SiteStatus.NEW, SiteStatus.CLOSED):
                continue
            g = s4326.geometry.iloc[i]
            new = status == SiteStatus.NEW
            word = t("scn_new", lang) if new else t("scn_closes", lang)
            folium.CircleMarker(  # around the point's icon (drawn above it), not under it
                location=(float(g.y), float(g.x)), radius=16, weight=4,
                color=SCENARIO_NEW_SITE if new else SCENARIO_CLOSED_SITE, fill=True,
                fill_color="#ffffff" if new else "#9e9e9e", fill_opacity=0.9,
                tooltip=esc(f"{s4326['name'].iloc[i]} ({word})"),
            ).add_to(fg)
    _LegendPart(scenario_legend_html(mode, lang)).add_to(fg)
    return fg


# --------------------------------------------------------------------------- labels


def label_points(districts: gpd.GeoDataFrame, region: Region) -> gpd.GeoSeries:
    """Where each unit's name goes: its village centre, else a point inside its area.

    The centres file holds the real village positions; a Voronoi cell's representative
    point can lie far from the village (and next to a neighbour's label). A centre is used
    only when it lies in (or within ~300 m of) its own unit, so foreign or outdated centres
    cannot misplace a name.
    """
    pts = districts.geometry.representative_point()
    try:
        centres = read_centres(region)
    except DorfkarteError:  # no centres file (OSM or file districts): points in the areas
        return pts
    by_name = {str(r.name): shapely.Point(float(r.lon), float(r.lat))
               for r in centres.itertuples(index=False)}
    out = []
    for name, geom, rp in zip(districts["name"].astype(str), districts.geometry, pts,
                              strict=True):
        c = by_name.get(name)
        ok = c is not None and geom is not None and geom.distance(c) < 0.004
        out.append(c if ok else rp)
    return gpd.GeoSeries(out, index=districts.index, crs=districts.crs)


# --------------------------------------------------------------------------- main


def build_map(
    snapshot: Snapshot,
    region: Region,
    result: CoverageResult | None = None,
    *,
    category: str | None = None,
    mode: str = "walk",
    indicator: str = "share_within",
    basemap: str = "osm",
    offline: bool = False,
    lang: str = "de",
    extra_points: gpd.GeoDataFrame | None = None,
    highlight: str | None = None,
    point_categories: Sequence[str] | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    popups: bool = True,
    dynamic_indicator: bool = False,
) -> folium.Map:
    """The region map for the app and the exports.

    Parameters
    ----------
    snapshot, region
        Data and region (districts, amenities, stops, base map layers).
    result
        A ``CoverageResult`` (see docs/ARCHITECTURE.md) or None: then the units are drawn
        without colours and the legend says no analysis is there yet.
    category, mode, indicator
        What the choropleth shows; ``indicator`` in :data:`INDICATORS`.
    basemap
        ``"osm"`` web tiles over our own base map (which shows through when tiles fail),
        ``"own"`` only our own base map, ``"none"``.
    offline
        Never reference web tiles (``"osm"`` becomes ``"own"``); scripts are always local.
    extra_points
        More service points (``name, category, source, geometry``): local listings
        (``source="listing"``) or planned sites (``"scenario"``), drawn as squares/diamonds.
    highlight
        Name of the unit to outline (the selected Ortsteil).
    point_categories
        Categories whose point layers are switched on (default: ``category``); all others
        are in the layer control, switched off.
    title, subtitle
        Optional box top left (exports: title, date, sources).
    popups
        Unit popups with the short profile (exports); the app shows the profile beside the
        map instead, so a click only selects.
    dynamic_indicator
        Leave the choropleth out: the app adds :func:`indicator_group` as a dynamic layer,
        so a slider or indicator change updates the map without reloading it.
    """
    if indicator not in INDICATORS:
        raise ValueError(f"indicator must be one of {INDICATORS}, not {indicator!r}")
    if basemap not in BASEMAPS:
        raise ValueError(f"basemap must be one of {BASEMAPS}, not {basemap!r}")
    if offline and basemap == "osm":
        basemap = "own"
    cats = region.categories
    if category is not None and category not in cats:
        region.category(category)  # raises UnknownCategoryError with the known ids
    if category is None:
        category = next(iter(cats))
    cat = cats[category]

    districts = _districts(snapshot)
    if len(districts):
        minx, miny, maxx, maxy = districts.total_bounds
    else:
        minx, miny, maxx, maxy = fallback_bounds(snapshot, region)
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=11,
                   tiles=None, control_scale=False, prefer_canvas=False, zoom_snap=0.25,
                   zoom_delta=0.5)
    # Only local scripts: no CDN (jQuery, Bootstrap, Font Awesome are not needed).
    m.default_js = assets.folium_js()
    m.default_css = assets.folium_css()
    m.get_root().header.add_child(
        Element(f"<style>{_MAP_CSS}\n{_icon_css(region)}</style>"), name="dk_css"
    )
    _Script(_HATCH_JS).add_to(m)
    # Metric scale bar only (German readers; folium's default adds miles).
    _Script("L.control.scale({metric: true, imperial: false, maxWidth: 120}).addTo(map);"
            ).add_to(m)

    # Base maps. Our own base map lives in a pane below the tile pane (z 200).
    if basemap in ("osm", "own"):
        folium.map.CustomPane("dk-base", z_index=150, pointer_events=False).add_to(m)
        # a full snapshot's roads and landuse, reduced to what a screen can show
        _add_own_base(m, light_base(snapshot, region), districts, lang)
    if basemap == "osm":
        folium.TileLayer(tiles=OSM_TILES, attr=OSM_TILES_ATTR, name=esc(t("layer_tiles", lang)),
                         max_zoom=19, overlay=False, control=True).add_to(m)

    # Choropleth of the chosen indicator (a pane below the other overlays: stops, points
    # and outlines stay on top and clickable).
    folium.map.CustomPane("dk-units", z_index=350, pointer_events=True).add_to(m)
    info = _indicator_info(snapshot, region, result, category, mode)
    if not dynamic_indicator:
        indicator_group(snapshot, region, result, category=category, mode=mode,
                        indicator=indicator, lang=lang, popups=popups).add_to(m)

    _add_census(m, snapshot, lang)
    _add_routes(m, snapshot, lang)
    has_data_gap = _add_data_gap(m, snapshot, lang)
    edge = edge_units(snapshot, region, result, districts)
    _add_data_edge(m, districts, edge, lang)

    munis = _municipality_outlines(snapshot, districts)
    if len(munis):
        name_col = "name" if "name" in munis else "municipality"
        folium.GeoJson(
            feature_collection(munis, [{"name": str(n)} for n in munis[name_col]],
                               simplify=0.0002),
            name=esc(t("layer_municipalities", lang)),
            style_function=lambda f: {"fill": False, "color": "#222222", "weight": 3,
                                      "opacity": 0.9},
            interactive=False,
        ).add_to(m)

    highlighted = None
    if highlight is not None and len(districts):
        sel = districts[districts["name"].astype(str) == str(highlight)]
        if len(sel):
            highlighted = str(highlight)
            folium.GeoJson(
                feature_collection(sel, [{"name": str(highlight)}]),
                name=esc(t("layer_highlight", lang)),
                style_function=lambda f: {"fill": False, "color": "#0d47a1", "weight": 5,
                                          "opacity": 1},
                interactive=False,
            ).add_to(m)

    # Service points, one layer per category (transit categories: the stops layer).
    shown = set(point_categories) if point_categories is not None else {category}
    counts: dict[str, dict[str, int]] = {}
    show_stops = cat.source == TRANSIT or mode == TRANSIT or any(
        cats[c].source == TRANSIT for c in shown if c in cats)
    for cid, c in cats.items():
        transit = c.source == TRANSIT
        # transit categories: the stops layer below; here only planned stops / listings
        pts = _points_for(cid, snapshot, result, extra_points, added_only=transit)
        if pts.empty:
            continue
        kinds = pts["source"].map(_source_kind) if "source" in pts else pd.Series(["osm"])
        counts[cid] = kinds.value_counts().to_dict()
        label = category_label(c, lang)
        if transit:
            show = cid in shown or show_stops or bool((kinds == "scenario").any())
            name = f"{label}: {t('legend_scenario', lang)} / {t('legend_listing', lang)}"
        else:
            show, name = cid in shown, label
        fg = folium.FeatureGroup(name=esc(f"{name} ({len(pts)})"), show=show)
        _add_points(fg, pts, cid, label, lang)
        fg.add_to(m)

    stops = snapshot.get(STOPS)
    if stops is not None and len(stops):
        _add_stops(m, stops, region, lang, show=show_stops or point_categories is None)

    # Unit names: DivIcon labels at the village centres, always in the DOM.
    if len(districts):
        label_pts = districts.copy()
        label_pts["geometry"] = label_points(districts, region)
        label_fg = folium.FeatureGroup(name=esc(t("layer_labels", lang)), show=True)
        kinds = label_pts["kind"] if "kind" in label_pts else pd.Series("ortsteil",
                                                                        index=label_pts.index)
        pops = (pd.to_numeric(label_pts["population"], errors="coerce").fillna(0)
                if "population" in label_pts else pd.Series(0, index=label_pts.index))
        props = [{"name": str(n), "kind": _css_id(str(k))}
                 for n, k in zip(label_pts["name"], kinds, strict=True)]
        # placement rank: Kernorte first, then by residents
        ranking = sorted(range(len(props)), key=lambda i: (props[i]["kind"] != "kernort",
                                                           -float(pops.iloc[i])))
        for r, i in enumerate(ranking):
            props[i]["rank"] = r
        # Kernorte last: drawn on top of the village names around them.
        order = sorted(range(len(props)), key=lambda i: props[i]["kind"] == "kernort")
        label_pts = label_pts.iloc[order]
        props = [props[i] for i in order]
        fc = feature_collection(label_pts, props)
        folium.GeoJson(
            fc,
            marker=folium.Marker(icon=folium.DivIcon(html="", icon_size=(0, 0),
                                                     class_name="dk-label"),
                                 interactive=False, keyboard=False),
            style_function=lambda f: {
                "html": f'<span data-unit="{esc(f["properties"]["name"])}" '
                        f'data-rank="{int(f["properties"]["rank"])}">'
                        f'{esc(f["properties"]["name"])}</span>',
                "className": f'dk-label dk-{f["properties"]["kind"]}',
            },
        ).add_to(label_fg)
        label_fg.add_to(m)

    # example entries among the drawn points that the result does not hold (the indicator
    # part flags the result's own): said once in the static legend part
    extra_example = (not info["example"] and not dynamic_indicator
                     and provenance.uses_example(None, extra_points, [category]))
    legend = _legend_html(
        region, counts, stops is not None and len(stops) > 0, info["approx"], lang,
        "" if dynamic_indicator else _legend_indicator_html(
            region, category, mode, indicator, result is not None, info, lang),
        example=extra_example, highlight=highlighted, data_gap=has_data_gap,
        data_edge=bool(edge),
    )
    HtmlControl(legend, "dk-legend", "dk-legend", "bottomright").add_to(m)
    if title:
        title = provenance.with_flags(title, result, extra_points, category, lang)
        box = f"<h3>{esc(title)}</h3>" + (f"<div>{esc(subtitle)}</div>" if subtitle else "")
        HtmlControl(box, "dk-title", "dk-title", "topleft").add_to(m)

    attributions = [osm_attribution(lang)]
    if region.transit.attribution:
        attributions.append(region.transit.attribution)
    # embedded official data: say whose it is wherever it is drawn
    for layer, text in ((MUNICIPALITIES, region.outlines.attribution),
                        (CENSUS, region.population.attribution),
                        (ROUTES, region.route_lines_attribution)):
        info_l = snapshot.info.get(layer)
        if text and snapshot.has(layer) and info_l is not None and info_l.embedded:
            attributions.append(text)
    run = getattr(result, "pt", None)  # mode pt: the timetable, labelled as out of date
    if mode == "pt" and run is not None and getattr(run, "timetable", None) is not None:
        info = run.timetable.info
        attributions.append(f"{info.caption(lang)}: {info.attribution or info.source}")
    attr_js = ";".join(f"map.attributionControl.addAttribution({_js_str(esc(a))})"
                       for a in attributions)
    _Script(f"if (map.attributionControl) {{ {attr_js}; }}").add_to(m)

    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    # room on the right for the legend, at the top for the title box and at the bottom for
    # the credits (two to three lines in a narrow map column): no unit starts under them
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding_top_left=(10, 60),
                 padding_bottom_right=(260, 45))
    if highlighted is not None:  # the selected unit is never under the legend
        ux0, uy0, ux1, uy1 = sel.to_crs("EPSG:4326").total_bounds
        _Script(_CLEAR_LEGEND_JS % (json.dumps([[uy0, ux0], [uy1, ux1]]),
                                    json.dumps([[miny, minx], [maxy, maxx]]),
                                    _js_str(highlighted))).add_to(m)
    _Script(_LABEL_JS).add_to(m)
    return m


#: Neutral view when a region gives no position at all: Germany (lon/lat bounds).
GERMANY_BOUNDS: tuple[float, float, float, float] = (5.87, 47.27, 15.04, 55.06)
#: Half-size (degrees) of the view around a single known point.
_MIN_HALF_SPAN = 0.05


def fallback_bounds(snapshot: Snapshot, region: Region) -> tuple[float, float, float, float]:
    """Map view (minx, miny, maxx, maxy in lon/lat) when the snapshot has no districts.

    Taken from the region itself, so another region never opens on Hoher Fläming: the
    village centres of its centres file, else its stops layer, else all of Germany.
    """
    pts: tuple[np.ndarray, np.ndarray] | None = None
    if region.districts.centres_file is not None:
        try:
            c = read_centres(region)
        except DorfkarteError:
            c = None
        if c is not None and len(c):
            pts = (c["lon"].to_numpy(dtype=float), c["lat"].to_numpy(dtype=float))
    if pts is None:
        stops = snapshot.get(STOPS)
        if stops is not None and len(stops):
            g = stops.to_crs("EPSG:4326").geometry
            g = g[g.notna() & ~g.is_empty]
            if len(g):
                c = g.representative_point()
                pts = (c.x.to_numpy(dtype=float), c.y.to_numpy(dtype=float))
    if pts is not None:
        x, y = pts
        ok = np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90)
        if ok.any():
            x, y = x[ok], y[ok]
            cx, cy = (x.min() + x.max()) / 2, (y.min() + y.max()) / 2
            hx = max((x.max() - x.min()) / 2, _MIN_HALF_SPAN)
            hy = max((y.max() - y.min()) / 2, _MIN_HALF_SPAN)
            return (float(cx - hx), float(cy - hy), float(cx + hx), float(cy + hy))
    return GERMANY_BOUNDS


def _js_str(text: str) -> str:
    """A JS string literal that cannot close a ``<script>`` element."""
    return _script_safe(json.dumps(text, ensure_ascii=False))


def _script_safe(js: str) -> str:
    return js.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _dumps(data: Any) -> str:
    """Compact JSON as a JS expression inside a ``<script>`` (no ``</script>`` possible)."""
    return _script_safe(json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def _default_threshold(region: Region, category: str, mode: str) -> float | None:
    try:
        thr = region.threshold(category, mode)
    except KeyError:
        return None
    return thr.metres if mode == TRANSIT else thr.minutes


def _unit_tip(d: dict[str, Any], row: dict[str, Any] | None, indicator: str, mode: str,
              cat_label: str, lang: str) -> str:
    kind = t("kind_kernort", lang) if d.get("kind") == "kernort" else t("kind_ortsteil", lang)
    parts = [f"<b>{esc(d['name'])}</b> ({esc(kind)}, {esc(d.get('municipality', ''))})"]
    pop = d.get("population")
    if pop is not None and not (isinstance(pop, float) and math.isnan(pop)):
        est = (f" ({esc(t('population_census', lang))})"
               if str(d.get("population_source", "")) == PopulationSource.CENSUS else "")
        parts.append(f"{esc(t('population', lang))}: {fmt_number(float(pop), 0, lang)}{est}")
    if row is not None:
        unit = str(row.get("unit", "min"))
        parts.append(f"{esc(cat_label)} · {esc(mode_label(mode, lang))}: "
                     f"{esc(fmt_share(row.get('share_within'), lang))} "
                     f"{esc(t('within', lang))} {esc(fmt_value(row.get('threshold'), unit, lang))}"
                     f", Median {esc(fmt_value(row.get('median'), unit, lang))}")
        parts.append(f"<b>{esc(gap_label(str(row.get('gap_class')), lang))}</b>")
        if indicator == "residents_outside":
            parts.append(f"{esc(t('col_residents_outside', lang))}: "
                         f"{fmt_number(float(row.get('residents_outside') or 0), 0, lang)}")
    if bool(d.get("approx", False)):
        parts.append(f"<i>{esc(t('approx_area', lang))}</i>")
    return "<br>".join(parts)


def _unit_popups(districts: gpd.GeoDataFrame, result: CoverageResult, mode: str, region: Region,
                 lang: str) -> dict[str, str]:
    """Each unit's profile in short (every category for the chosen mode), by unit name."""
    mode_txt = t("profile_popup_head", lang, mode=mode_label(mode, lang))
    heads = {str(n): f"<b>{esc(n)}</b> – {esc(mode_txt)}" for n in districts["name"]}
    if result is None or getattr(result, "indicators", None) is None:
        return heads
    ind = result.indicators
    order = {cid: i for i, cid in enumerate(region.categories)}
    rows = ind[ind["mode"] == mode]
    rows = rows.assign(_o=rows["category"].map(order).fillna(999)).sort_values(
        ["district", "_o"], kind="stable")
    header = (f"<table><tr><th>{esc(t('col_category', lang))}</th>"
              f"<th>{esc(t('col_median', lang))}</th><th>{esc(t('col_share', lang))}</th>"
              f"<th>{esc(t('col_class', lang))}</th></tr>")
    lines: dict[str, list[str]] = {}
    for r in rows.to_dict("records"):
        c = region.categories.get(str(r["category"]))
        label = category_label(c, lang) if c else str(r.get("category_label", r["category"]))
        gap = str(r.get("gap_class"))
        lines.setdefault(str(r["district"]), []).append(
            f"<tr><td>{esc(label)}</td>"
            f"<td>{esc(fmt_value(r.get('median'), str(r.get('unit')), lang))}</td>"
            f"<td>{esc(fmt_share(r.get('share_within'), lang))}</td>"
            f'<td class="dk-{_css_id(gap)}">{esc(gap_label(gap, lang))}</td></tr>'
        )
    return {n: h + (header + "".join(lines[n]) + "</table>" if n in lines else "")
            for n, h in heads.items()}


def _add_own_base(m: folium.Map, snapshot: Snapshot, districts: gpd.GeoDataFrame,
                  lang: str) -> None:
    """Landuse, water, roads from the snapshot (else only the unit areas) in pane dk-base."""
    fg = folium.FeatureGroup(name=esc(t("layer_base", lang)), show=True, overlay=True)
    drawn = False

    def add(gdf: gpd.GeoDataFrame, style: dict[str, Any], simplify: float) -> None:
        nonlocal drawn
        if gdf is None or gdf.empty:
            return
        fc = feature_collection(gdf, [{} for _ in range(len(gdf))], simplify=simplify)
        folium.GeoJson(fc, style_function=_const(style), interactive=False,
                       pane="dk-base", smooth_factor=1.5).add_to(fg)
        drawn = True

    if len(districts):
        add(districts, {"fillColor": "#efece3", "fillOpacity": 1, "color": "#c9c3b4",
                        "weight": 1}, 0.0002)
    land = snapshot.get(LANDUSE)
    if land is not None and len(land) and "class" in land:
        land = land.to_crs("EPSG:4326")
        for cls, style in _BASE_STYLE.items():
            add(land[land["class"] == cls], {**style, "fillOpacity": 1, "weight": 0.5}, 0.0001)
    water = snapshot.get(WATER)
    if water is not None and len(water):
        water = water.to_crs("EPSG:4326")
        poly = water[water.geom_type.isin(["Polygon", "MultiPolygon"])]
        lines = water[~water.geom_type.isin(["Polygon", "MultiPolygon"])]
        add(poly, {"fillColor": "#a6cee3", "fillOpacity": 1, "color": "#7fb2d6",
                   "weight": 0.5}, 0.0001)
        add(lines, {"color": "#7fb2d6", "weight": 1.2, "fill": False}, 0.0001)
    roads = snapshot.get(ROADS)
    if roads is not None and len(roads) and "highway" in roads:
        roads = roads.to_crs("EPSG:4326")
        hw = roads["highway"].astype(str)
        sub = roads[hw.isin(list(_ROAD_CLASSES))]
        if len(sub):
            # minor roads first: major ones are drawn over them
            rank = {c: i for i, c in enumerate(reversed(list(_ROAD_CLASSES)))}
            sub = sub.iloc[np.argsort(sub["highway"].astype(str).map(rank).to_numpy(),
                                      kind="stable")]
            fc = feature_collection(sub, [{"k": str(k)} for k in sub["highway"]],
                                    simplify=0.0001)
            _RoadLayers(fc).add_to(fg)
            drawn = True
    if drawn:
        fg.add_to(m)


class _RoadLayers(MacroElement):
    """Roads as casing + fill: two Leaflet layers drawn from one embedded GeoJSON object.

    Two folium GeoJson layers would ship every road twice (the file's biggest part);
    here the data is in the page once and the styles come from the road class.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(group) {
            var data = {{ this.data_json }};
            var cls = {{ this.classes_json }};
            function style(casing) {
                return function(f) {
                    var c = cls[f.properties.k] || ["#ffffff", 1.0];
                    return casing ? {color: "#9e9e9e", weight: c[1] + 1.2, opacity: 1}
                                  : {color: c[0], weight: c[1], opacity: 1};
                };
            }
            var opts = {pane: "dk-base", interactive: false, smoothFactor: 1.5};
            L.geoJSON(data, Object.assign({style: style(true)}, opts)).addTo(group);
            L.geoJSON(data, Object.assign({style: style(false)}, opts)).addTo(group);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()
        self._name = "RoadLayers"
        self.data_json = _dumps(data)
        self.classes_json = _dumps({k: list(v) for k, v in _ROAD_CLASSES.items()})


#: Residents per km² -> fill opacity of the census layer (light: the units stay readable).
_CENSUS_BINS: tuple[tuple[float, float], ...] = ((25, 0.10), (100, 0.20), (400, 0.32),
                                                  (1000, 0.45), (math.inf, 0.58))


def _add_census(m: folium.Map, snapshot: Snapshot, lang: str) -> None:
    """The census cells as a light, toggleable "Einwohner je km²" layer."""
    cells = snapshot.get(CENSUS)
    if cells is None or not len(cells) or "residents" not in cells:
        return
    cells = cells.to_crs("EPSG:4326")
    dens = (pd.to_numeric(cells["density"], errors="coerce") if "density" in cells
            else pd.Series(np.nan, index=cells.index)).to_numpy(dtype=float)
    props = []
    for d in dens:
        op = next(o for lim, o in _CENSUS_BINS if not d >= lim) if np.isfinite(d) else 0.1
        props.append({"o": op})
    folium.map.CustomPane("dk-census", z_index=356, pointer_events=False).add_to(m)
    fg = folium.FeatureGroup(name=t("layer_census", lang), show=True)
    folium.GeoJson(
        feature_collection(cells, props),
        style_function=lambda f: {"fillColor": "#3f51b5", "fillOpacity": f["properties"]["o"],
                                  "color": "#3f51b5", "weight": 0.3, "opacity": 0.35},
        interactive=False, pane="dk-census",
    ).add_to(fg)
    fg.add_to(m)


def _add_routes(m: folium.Map, snapshot: Snapshot, lang: str) -> None:
    """Bus and rail alignments (GTFS shapes): the real roads before any OSM data."""
    routes = snapshot.get(ROUTES)
    if routes is None or not len(routes):
        return
    routes = routes.to_crs("EPSG:4326")
    lines = routes[routes.geom_type.isin(["LineString", "MultiLineString"])]
    if lines.empty:
        return
    folium.map.CustomPane("dk-routes", z_index=357, pointer_events=False).add_to(m)
    fg = folium.FeatureGroup(name=t("layer_routes", lang), show=True)
    folium.GeoJson(feature_collection(lines, [{} for _ in range(len(lines))]),
                   style_function=_const({"color": "#5e35b1", "weight": 2, "opacity": 0.75}),
                   interactive=False, pane="dk-routes", smooth_factor=1.0).add_to(fg)
    fg.add_to(m)


def _const(style: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda f: style


def _add_stops(m: folium.Map, stops: gpd.GeoDataFrame, region: Region, lang: str,
               show: bool) -> None:
    stops = stops.to_crs("EPSG:4326")
    weights = pd.to_numeric(stops.get("weight"), errors="coerce")
    min_w = region.transit.min_weight
    names = stops["name"] if "name" in stops else pd.Series("", index=stops.index)
    props = []
    for name, w in zip(names, weights, strict=True):
        weak = bool(np.isnan(w) or w < min_w)
        wtxt = t("no_data", lang) if np.isnan(w) else fmt_number(float(w), 0, lang)
        props.append({
            "tip": f"<b>{esc(name)}</b><br>{esc(t('weight', lang))}: {esc(wtxt)}",
            "r": _stop_radius(float(w)),
            "weak": weak,
        })
    fg = folium.FeatureGroup(name=esc(t("layer_stops", lang)), show=show)
    folium.GeoJson(
        feature_collection(stops, props),
        marker=folium.CircleMarker(radius=4),
        style_function=lambda f: {
            "radius": f["properties"]["r"],
            "fill": True,
            "color": "#004d52",
            "weight": 1,
            "fillColor": "#ffffff" if f["properties"]["weak"] else "#00838f",
            "fillOpacity": 0.75,
        },
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, class_name="dk-tip"),
    ).add_to(fg)
    fg.add_to(m)


def _legend_indicator_html(region: Region, category: str, mode: str, indicator: str,
                           has_result: bool, info: dict[str, Any], lang: str) -> str:
    """The legend part that changes with category, mode, indicator and threshold."""
    cat = region.categories[category]
    threshold, unit = info["threshold"], info["unit"]
    out = [f"<h4>{esc(category_label(cat, lang))} · {esc(mode_label(mode, lang))}</h4>"]
    if not has_result:
        out.append(f'<div class="dk-note">{esc(t("legend_no_result", lang))}</div>')
        return "".join(out)
    out.append(f'<div class="dk-note">{esc(indicator_label(indicator, mode, lang))}'
               + (f" ({esc(t('col_threshold', lang))}: {esc(fmt.threshold(threshold, unit, lang))})"
                  if threshold else "") + "</div>")
    for colour, label in legend_scale(indicator, threshold, unit, lang):
        out.append(f'<div class="dk-row"><span class="dk-sw" style="background:{colour}">'
                   f"</span>{esc(label)}</div>")
    out.append(f'<div class="dk-row"><span class="dk-sw" style="background:{NO_DATA_COLOUR}">'
               f"</span>{esc(t('no_data', lang))}</div>")
    if info.get("local_only"):
        out.append(f'<div class="dk-row"><span class="dk-sw" '
                   f'style="background:{LOCAL_ONLY_COLOUR}"></span>'
                   f"{esc(gap_label(GapClass.LOCAL_ONLY, lang))}</div>")
        out.append(f'<div class="dk-note dk-flag">{esc(t("legend_local_only", lang))}</div>')
    if info.get("example"):
        out.append(f'<div class="dk-note dk-flag">{esc(t("legend_example", lang))}</div>')
    out.append(f'<div class="dk-row"><span class="dk-sw dk-hatch"></span>'
               f"{esc(t('legend_gap', lang))}</div>")
    out.append(f'<div class="dk-row"><span class="dk-sw" style="border:2px solid '
               f'{_OUTLINE[GapClass.TIGHT]["color"]};background:#fff"></span>'
               f"{esc(t('legend_knapp', lang))}</div>")
    if info["straight"]:
        out.append(f'<div class="dk-note">{esc(t("legend_straight", lang))}</div>')
    return "".join(out)


def _legend_html(region: Region, counts: dict[str, dict[str, int]], has_stops: bool,
                 approx: bool, lang: str, indicator_part: str, example: bool = False,
                 highlight: str | None = None, data_gap: bool = False,
                 data_edge: bool = False) -> str:
    out = [f"<details open><summary>{esc(t('legend_title', lang))}</summary>",
           f'<div id="dk-legend-ind">{indicator_part}</div>']
    if highlight is not None:
        # the blue outline is explained wherever it is drawn (app, HTML, PNG)
        out.append(f'<div class="dk-row dk-hl"><span class="dk-sw" style="border:3px solid '
                   f'#0d47a1;background:#fff"></span>{esc(t("layer_highlight", lang))}: '
                   f"{esc(highlight)}</div>")
    if counts:
        out.append(f"<h4>{esc(t('legend_points', lang))}</h4>")
        for cid, n in counts.items():
            c = region.categories[cid]
            out.append(f'<div class="dk-row">{_poi_html(cid, "osm")}'
                       f"{esc(category_label(c, lang))} ({sum(n.values())})</div>")
        kinds = {k for n in counts.values() for k in n}
        for kind in ("osm", "listing", "scenario"):
            if kind in kinds:
                out.append(f'<div class="dk-row"><div class="dk-poi dk-src-{kind}" '
                           f'style="background:#777"></div>{esc(t("legend_" + kind, lang))}</div>')
    if has_stops:
        out.append(f"<h4>{esc(t('legend_stops', lang))}</h4>")
        for w in (20, 200, 2000):
            d = 2 * _stop_radius(w)
            out.append(f'<div class="dk-row"><span class="dk-stop" style="width:{d}px;'
                       f'height:{d}px"></span>{fmt_number(w, 0, lang)}</div>')
        weak = t("legend_stop_weak", lang, w=region.transit.min_weight)
        out.append(f'<div class="dk-row"><span class="dk-stop dk-weak" style="width:8px;'
                   f'height:8px"></span>{esc(weak)}</div>')
    if example:
        out.append(f'<div class="dk-note dk-flag">{esc(t("legend_example", lang))}</div>')
    if approx:
        out.append(f'<div class="dk-note">{esc(t("legend_approx", lang))}</div>')
    out.extend(_data_edge_legend_rows(data_gap, data_edge, lang))
    out.append("</details>")
    return "".join(out)


# --------------------------------------------------------------------------- data's edge
# Issue 12: when the extract does not cover the region plus its buffer, the uncovered part
# is drawn (grey hatched) and the units within buffer_m of it are marked, so nobody reads
# a gap there as real: it may come from the cut.

#: Grey hatching of the ``data_gap`` area (no OSM data in the extract).
_NODATA_HATCH_JS = _svg_pattern_js(
    "dk-hatch-nodata", 8, -45, '<rect width="8" height="8" fill="#9e9e9e" fill-opacity="0.25"/>'
    '<line x1="0" y1="0" x2="0" y2="8" stroke="#616161" stroke-width="2" stroke-opacity="0.7"/>')
#: Outline of a unit at the data's edge: dotted (approximate areas are dashed "6 4").
_EDGE_STYLE: dict[str, Any] = {"fill": False, "color": "#616161", "weight": 2.5,
                               "opacity": 0.95, "dashArray": "1 5", "lineCap": "round"}


def edge_units(snapshot: Snapshot, region: Region, result: CoverageResult | None,
               districts: gpd.GeoDataFrame) -> frozenset[str]:
    """Units at the data's edge: the result's own (computed once by ``analyse``), else the
    snapshot's ``data_gap`` layer asked directly (a map without an analysis)."""
    if result is not None and hasattr(result, "data_edge_units"):
        return frozenset(result.data_edge_units)
    return data_edge_units(snapshot, districts, region)


def _flag_data_edge(props: dict[str, Any], lang: str) -> None:
    """Say "am Datenrand" in a unit's tooltip and popup (escaped like every text)."""
    line = f'<i class="dk-edge">{esc(t("data_edge_flag", lang))}</i>'
    props["tip"] = f"{props['tip']}<br>{line}" if props.get("tip") else line
    if props.get("popup"):
        props["popup"] = f"{props['popup']}<div>{line}</div>"


def _add_data_gap(m: folium.Map, snapshot: Snapshot, lang: str) -> bool:
    """The part of region + buffer without data in the extract, as its own layer."""
    gap = snapshot.get(DATA_GAP)
    if gap is None or not len(gap):
        return False
    gap = gap.to_crs("EPSG:4326")
    gap = gap[gap.geom_type.isin(["Polygon", "MultiPolygon"])]
    if gap.empty:
        return False
    _Script(_NODATA_HATCH_JS).add_to(m)
    fg = folium.FeatureGroup(name=esc(t("layer_data_gap", lang)), show=True)
    folium.GeoJson(
        feature_collection(gap, [{} for _ in range(len(gap))], simplify=0.0001),
        style_function=_const({"fillColor": "url(#dk-hatch-nodata)", "fillOpacity": 1,
                               "color": "#616161", "weight": 1, "opacity": 0.8}),
        interactive=False,
    ).add_to(fg)
    fg.add_to(m)
    return True


def _add_data_edge(m: folium.Map, districts: gpd.GeoDataFrame, edge: frozenset[str],
                   lang: str) -> None:
    """Dotted outlines of the units at the data's edge (not clickable: the units are)."""
    if not edge or not len(districts):
        return
    sel = districts[districts["name"].astype(str).isin(edge)]
    if sel.empty:
        return
    fg = folium.FeatureGroup(name=esc(t("layer_data_edge", lang)), show=True)
    folium.GeoJson(
        feature_collection(sel, [{"name": str(n)} for n in sel["name"]], simplify=0.0001),
        style_function=_const(_EDGE_STYLE), interactive=False,
    ).add_to(fg)
    fg.add_to(m)


def _data_edge_legend_rows(has_gap: bool, has_edge: bool, lang: str) -> list[str]:
    """Legend lines for the ``data_gap`` area and for the units marked at its edge."""
    rows = []
    if has_gap:
        rows.append('<div class="dk-row dk-data-gap"><span class="dk-sw" style="background:'
                    'repeating-linear-gradient(-45deg,#e0e0e0 0 3px,#616161 3px 5px)"></span>'
                    f'{esc(t("legend_data_gap", lang))}</div>')
    if has_edge:
        rows.append('<div class="dk-row dk-data-edge"><span class="dk-sw" style="border:2px '
                    'dotted #616161;background:#fff"></span>'
                    f'{esc(t("legend_data_edge", lang))}</div>')
    return rows
