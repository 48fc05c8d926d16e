"""The folium map: units, labels, legend, attribution, local-only assets, escaping."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from dorfkarte import assets, maps
from dorfkarte.coverage import analyse
from dorfkarte.region import Region
from dorfkarte.snapshot import AMENITIES, DISTRICTS, LANDUSE, ROADS, Snapshot
from dorfkarte.workspace import open_snapshot

EVIL = '<img src=x onerror=alert(1)></script><script>alert("x")</script>'


@pytest.fixture(scope="module")
def embedded(region: Region, tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    return open_snapshot(region, tmp_path_factory.mktemp("empty"))


@pytest.fixture(scope="module")
def embedded_result(embedded: Snapshot, region: Region):
    return analyse(embedded, region)


def render(m) -> str:
    """The page with JSON unicode escapes decoded: what the browser ends up showing."""
    html = m.get_root().render()
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g.group(1), 16)), html)


def unit_names(snap: Snapshot) -> list[str]:
    return [str(n) for n in snap.get(DISTRICTS)["name"]]


def geojson_layers(html: str) -> list[dict]:
    """Every GeoJSON FeatureCollection embedded in the page."""
    out = []
    for m in re.finditer(r"_add\((\{\"features\".*?|\{\"type\": \"FeatureCollection\".*?)\);\n",
                         html):
        out.append(json.loads(m.group(1)))
    return out


def unit_layer(layers: list[dict]) -> dict:
    return next(fc for fc in layers if fc["features"] and "fill" in fc["features"][0]["properties"])


def test_all_units_labelled_with_legend_and_attribution(embedded: Snapshot, region: Region):
    html = render(maps.build_map(embedded, region, None, category="lebensmittel"))
    names = unit_names(embedded)
    assert len(names) == 29
    label_layer = [fc for fc in geojson_layers(html)
                   if fc["features"] and "kind" in fc["features"][0]["properties"]]
    assert sorted(f["properties"]["name"] for f in label_layer[0]["features"]) == sorted(names)
    assert 'class="dk-label' in html or "dk-label" in html
    assert '"dk-legend"' in html
    assert "© OpenStreetMap-Mitwirkende, ODbL" in html
    assert "Haltestellen: VBB Verkehrsverbund Berlin-Brandenburg GmbH, CC BY 4.0" in html
    # the Voronoi areas are said to be approximations, in the legend and on hover
    assert "Näherungen" in html and "Fläche genähert" in html
    assert "Noch keine Erreichbarkeitsanalyse" in html


def test_only_local_scripts_and_no_marker_images(embedded: Snapshot, region: Region):
    html = render(maps.build_map(embedded, region, None, basemap="own"))
    refs = re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="([^"]+)"', html)
    assert refs, "Leaflet must be referenced"
    assert all(r.startswith(assets.URL_PREFIX + "/") for r in refs), refs
    for r in refs:
        assert (assets.STATIC_DIR / r[len(assets.URL_PREFIX) + 1:]).is_file(), r
    assert "tile.openstreetmap.org" not in html
    assert "marker-icon.png" not in html and "AwesomeMarkers" not in html
    assert "font-awesome" not in html.lower() and "fontawesome" not in html.lower()


def test_offline_never_uses_tiles(embedded: Snapshot, region: Region):
    online = render(maps.build_map(embedded, region, None, basemap="osm"))
    offline = render(maps.build_map(embedded, region, None, basemap="osm", offline=True))
    assert "tile.openstreetmap.org" in online
    assert "tile.openstreetmap.org" not in offline
    assert '"dk-base"' in offline  # own base map pane below the tile pane


def test_choropleth_follows_gap_classes_and_thresholds(embedded: Snapshot, region: Region,
                                                       embedded_result):
    res = embedded_result
    table = maps.indicator_table(res, "haltestelle", "walk")
    assert len(table) == 29
    m = maps.build_map(embedded, region, res, category="haltestelle", mode="walk",
                       indicator="gap_class")
    layers = geojson_layers(render(m))
    units = unit_layer(layers)
    fill = {f["properties"]["name"]: f["properties"]["fill"] for f in units["features"]}
    gap_by_unit = dict(zip(table["district"], table["gap_class"], strict=True))
    for name, gap in gap_by_unit.items():
        assert fill[name] == maps.GAP_COLOURS.get(gap, maps.NO_DATA_COLOUR), name
    # a 1-minute threshold leaves nearly everyone beyond it: more gaps, all hatched
    strict = res.with_thresholds({("haltestelle", "walk"): 1.0})
    strict_table = maps.indicator_table(strict, "haltestelle", "walk")
    n_gaps = int((strict_table["gap_class"] == "gap").sum())
    assert n_gaps > int((table["gap_class"] == "gap").sum())
    layers = geojson_layers(render(maps.build_map(embedded, region, strict,
                                                  category="haltestelle", mode="walk")))
    hatched = [fc for fc in layers if fc["features"]
               and set(fc["features"][0]["properties"]) == {"name"}
               and len(fc["features"]) == n_gaps]
    assert hatched, "gap units must get the hatch layer"


def test_no_data_category_is_grey_not_red(embedded: Snapshot, region: Region, embedded_result):
    # no OSM snapshot: no groceries known -> "keine Daten", never coloured as a gap
    m = maps.build_map(embedded, region, embedded_result, category="lebensmittel", mode="walk")
    layers = geojson_layers(render(m))
    units = unit_layer(layers)
    assert {f["properties"]["fill"] for f in units["features"]} == {maps.NO_DATA_COLOUR}


def test_untrusted_names_are_escaped(embedded: Snapshot, region: Region):
    snap = Snapshot(region_id=embedded.region_id, layers=dict(embedded.layers),
                    info=dict(embedded.info))
    d = embedded.get(DISTRICTS).copy()
    d.loc[0, "name"] = EVIL
    snap.layers[DISTRICTS] = d
    centre = d.geometry.iloc[1].representative_point()
    snap.add(AMENITIES, gpd.GeoDataFrame(
        {"osm_id": [1], "name": [EVIL], "category": ["lebensmittel"], "source": ["osm"]},
        geometry=[centre], crs="EPSG:4326"), source="test")
    listing = gpd.GeoDataFrame({"name": [EVIL], "category": ["lebensmittel"],
                                "source": ["listing"], "example": [True]},
                               geometry=[shapely.Point(centre.x + 0.01, centre.y)],
                               crs="EPSG:4326")
    m = maps.build_map(snap, region, None, category="lebensmittel", extra_points=listing,
                       highlight=EVIL, title=EVIL)
    raw = m.get_root().render()
    # nothing breaks out of a <script> block or lands as markup in the page
    assert "<img src=x" not in raw
    assert "</script><script>alert" not in raw
    html = render(m)
    assert "dk-src-listing" in html  # the listing is drawn, told apart from OSM
    assert "Beispieldaten, kein echter Eintrag" in html  # example data is labelled
    # everything shown as HTML (tooltips, popups, labels, legend, title) is escaped text
    shown = [v for fc in geojson_layers(html) for f in fc["features"]
             for k, v in f["properties"].items() if k in ("tip", "popup")]
    assert any("&lt;img src=x onerror=alert(1)&gt;" in v for v in shown)
    assert not any("<img" in v for v in shown)
    assert '<span data-unit=\\"&lt;img src=x' in html  # the DivIcon label (in JSON)
    assert "<h3>&lt;img src=x" in html  # the title box


def test_extra_points_and_own_base_from_snapshot(embedded: Snapshot, region: Region):
    snap = Snapshot(region_id=embedded.region_id, layers=dict(embedded.layers),
                    info=dict(embedded.info))
    d = embedded.get(DISTRICTS)
    c = d.geometry.iloc[0].representative_point()
    snap.add(LANDUSE, gpd.GeoDataFrame({"class": ["forest"]}, geometry=[c.buffer(0.01)],
                                       crs="EPSG:4326"), source="test")
    snap.add(ROADS, gpd.GeoDataFrame({"highway": ["secondary"], "name": ["Teststraße XY"]},
                                     geometry=[shapely.LineString([(c.x, c.y),
                                                                   (c.x + .02, c.y)])],
                                     crs="EPSG:4326"), source="test")
    html = render(maps.build_map(snap, region, None, basemap="own"))
    assert html.count('"pane": "dk-base"') >= 2  # areas + forest
    assert "#b7d7a8" in html  # forest colour
    # roads: the coordinates are in the page once, drawn as casing and fill from them
    coord = f"[{round(c.x + .02, 5)},{round(c.y, 5)}]"
    assert html.count(coord) == 1
    assert html.count('L.geoJSON(data, Object.assign({style: style(') == 2
    assert '"k":"secondary"' in html and "Teststraße XY" not in html  # class only


def test_bad_arguments(embedded: Snapshot, region: Region):
    from dorfkarte.errors import UnknownCategoryError

    with pytest.raises(UnknownCategoryError):
        maps.build_map(embedded, region, None, category="gibtsnicht")
    with pytest.raises(ValueError):
        maps.build_map(embedded, region, None, indicator="x")
    with pytest.raises(ValueError):
        maps.build_map(embedded, region, None, basemap="google")


def test_formatting_and_scales():
    assert maps.fmt_value(7.25, "min") == "7,2 min" or maps.fmt_value(7.25, "min") == "7,3 min"
    assert maps.fmt_value(np.inf, "min") == "nicht erreichbar"
    assert maps.fmt_value(1234.0, "m") == "1.230 m"  # German thousands: dorfkarte.fmt
    assert maps.fmt_share(0.5) == "50 %"
    scale = maps.legend_scale("median", 15.0, "min")
    assert scale[1][1] == "7,5 min–15 min" and len(scale) == 6
    assert [c for c, _ in maps.legend_scale("gap_class", None, "min")] == [
        maps.GAP_COLOURS["ok"], maps.GAP_COLOURS["tight"], maps.GAP_COLOURS["gap"]]


def test_vendored_assets_are_complete():
    assert assets.missing_assets() == []
    for a in assets.vendored_assets():
        assert a.url.startswith(assets.URL_PREFIX) and a.path.is_file()
        assert (a.path.parent / "LICENSE").is_file()
    css = next(a for a in assets.vendored_assets() if a.kind == "css")
    text = assets.inline_text(css)
    assert "url(images/" not in text and "data:image/png;base64," in text
    assert "<svg" in assets.icon_svg("shopping-cart")  # Font Awesome 4 alias
    assert assets.icon_svg("no-such-icon") == assets.icon_svg("circle")
    assert assets.icon_svg("../../etc/passwd") == assets.icon_svg("circle")
    assert (assets.ICON_DIR.parents[1] / "LICENSE.txt").is_file()
    # the app serves the package's static folder as <app dir>/static
    root_static = Path(__file__).resolve().parents[1] / "static"
    assert (root_static / "vendor" / f"leaflet-{assets.LEAFLET_VERSION}" / "leaflet.js").is_file()


def test_map_on_synthetic_osm_snapshot(region: Region, tmp_path: Path):
    from osmfixtures import build_test_snapshot

    from dorfkarte.snapshot import read_snapshot

    snap_path = build_test_snapshot(tmp_path)
    snap = open_snapshot(region, tmp_path)
    assert read_snapshot(snap_path).has_osm
    res = analyse(snap, region)
    html = render(maps.build_map(snap, region, res, category="lebensmittel", mode="walk",
                                 point_categories=["lebensmittel", "hausarzt"]))
    for name in unit_names(snap):
        assert json.dumps(name)[1:-1] in html or name in html
    assert "dk-c-lebensmittel dk-src-osm" in html
    assert "Lebensmittel (" in html  # layer control entry with count


def test_planned_stop_is_drawn_once(embedded: Snapshot, region: Region, embedded_result):
    """Extra points of a transit category (a scenario's new stop) are on the map, once,
    also when the what-if result already holds the stop."""
    from dorfkarte.scenario import WhatIf

    d = embedded.get(DISTRICTS)
    c = d.geometry.iloc[3].representative_point()
    name = "Geplante Haltestelle Test"
    pts = gpd.GeoDataFrame({"name": [name], "category": ["haltestelle"],
                            "source": ["scenario"]}, geometry=[c], crs="EPSG:4326")
    html = render(maps.build_map(embedded, region, embedded_result, category="haltestelle",
                                 extra_points=pts))
    assert html.count(f"<b>{name}</b>") == 1
    assert "dk-c-haltestelle dk-src-scenario" in html
    wi = WhatIf(embedded_result)
    wi.add("haltestelle", lat=c.y, lon=c.x, name=name)
    html = render(maps.build_map(embedded, region, wi.result, category="haltestelle",
                                 extra_points=pts))
    assert html.count(f"<b>{name}</b>") == 1
    # without extra points the what-if's new stop is drawn from the result
    html = render(maps.build_map(embedded, region, wi.result, category="haltestelle"))
    assert html.count(f"<b>{name}</b>") == 1
    assert "dk-c-haltestelle dk-src-scenario" in html


def test_labels_at_village_centres_and_metric_scale(embedded: Snapshot, region: Region):
    from dorfkarte.districts import read_centres

    d = embedded.get(DISTRICTS)
    pts = maps.label_points(d, region)
    centres = read_centres(region).set_index("name")
    for name, pt in zip(d["name"], pts, strict=True):
        assert pt.x == pytest.approx(centres.at[name, "lon"])
        assert pt.y == pytest.approx(centres.at[name, "lat"])
    html = render(maps.build_map(embedded, region, None))
    assert "imperial: false" in html and '"imperial"' not in html
    assert "dk-label dk-kernort" in html and "dk-z-lo" in html
    # Kernorte come last (drawn over the village names around them)
    labels = next(fc for fc in geojson_layers(html)
                  if fc["features"] and "kind" in fc["features"][0]["properties"])
    kinds = [f["properties"]["kind"] for f in labels["features"]]
    assert len(kinds) == 29 and kinds[-2:] == ["kernort", "kernort"]


def test_labels_fall_back_to_points_inside_the_area(embedded: Snapshot, region: Region):
    d = embedded.get(DISTRICTS).copy()
    d["name"] = [f"X{i}" for i in range(len(d))]  # no centre known under these names
    pts = maps.label_points(d, region)
    assert all(g.covers(p) for g, p in zip(d.geometry, pts, strict=True))


def _fit_bounds(html: str) -> list[list[float]]:
    """The ``fitBounds`` call of the rendered map, as [[south, west], [north, east]]."""
    m = re.search(r"fitBounds\(\s*(\[\[.*?\]\])", html, re.S)
    assert m, "no fitBounds in the page"
    return json.loads(m.group(1))


def test_view_without_districts_comes_from_the_region(region: Region, tmp_path: Path):
    """No districts layer: the view is the region's own (centres, else stops, else
    Germany), never a fixed Hoher-Fläming box. SYNTHETIC places, not real data."""
    from dataclasses import replace

    from dorfkarte.snapshot import STOPS

    empty = Snapshot(region_id=region.id)
    # 1 the centres file of the region: a made-up region around lon 13.4, lat 48.6
    centres = tmp_path / "centres.csv"
    centres.write_text("name,lat,lon\nTestort A,48.55,13.40\nTestort B,48.65,13.50\n",
                       encoding="utf-8")
    far = replace(region, districts=replace(region.districts, centres_file=centres,
                                            centre_stops_file=None))
    assert maps.fallback_bounds(empty, far) == pytest.approx((13.40, 48.55, 13.50, 48.65))
    (s, w), (n, e) = _fit_bounds(render(maps.build_map(empty, far, None)))
    assert (s, w, n, e) == pytest.approx((48.55, 13.40, 48.65, 13.50))
    # the shipped region without districts: its own centres, i.e. Hoher Fläming
    from dorfkarte.districts import read_centres

    c = read_centres(region)
    got = maps.fallback_bounds(empty, region)
    assert got == pytest.approx((c["lon"].min(), c["lat"].min(), c["lon"].max(),
                                 c["lat"].max()))
    # 2 no centres file: the stops layer (one stop: a small view around it)
    no_centres = replace(region, districts=replace(region.districts, centres_file=None))
    stops = Snapshot(region_id=region.id)
    stops.add(STOPS, gpd.GeoDataFrame({"stop_id": ["x"], "name": ["Teststop"],
                                       "weight": [1.0]},
                                      geometry=[shapely.Point(14.98, 51.15)],
                                      crs="EPSG:4326"), source="test")
    minx, miny, maxx, maxy = maps.fallback_bounds(stops, no_centres)
    assert minx < 14.98 < maxx and miny < 51.15 < maxy and maxx - minx < 0.2
    # 3 nothing known: a neutral Germany-wide view
    assert maps.fallback_bounds(empty, no_centres) == maps.GERMANY_BOUNDS
    (s, w), (n, e) = _fit_bounds(render(maps.build_map(empty, no_centres, None)))
    assert (w, s, e, n) == pytest.approx(maps.GERMANY_BOUNDS)
