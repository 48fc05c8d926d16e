"""Hostile strings from a region file, OSM and listings reach every HTML surface as text.

Category labels (region file), unit names (OSM boundaries), service names (OSM mappers),
the region's name: all untrusted. Leaflet's layer control inserts layer names as HTML,
GeoJSON tooltips/popups insert their field as HTML, so each must be escaped by the one
helper ``dorfkarte.safe.html_escape``.
"""

from __future__ import annotations

import dataclasses
import json
import re

import geopandas as gpd
import pytest
import shapely

from dorfkarte import maps
from dorfkarte.coverage import analyse
from dorfkarte.export import build_export_html
from dorfkarte.region import Region
from dorfkarte.safe import html_escape
from dorfkarte.snapshot import AMENITIES, DISTRICTS, Snapshot
from dorfkarte.workspace import open_snapshot

EVIL = "<img src=x onerror=alert(1)>"
EVIL_SCRIPT = "</script><script>alert(2)</script>"


def hostile_region(region: Region) -> Region:
    cats = dict(region.categories)
    c = cats["lebensmittel"]
    cats["lebensmittel"] = dataclasses.replace(c, label=EVIL + " Lebensmittel",
                                               label_en=EVIL + " Groceries")
    return dataclasses.replace(region, categories=cats, name=EVIL + " Region")


@pytest.fixture(scope="module")
def hostile(region: Region, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[Snapshot, Region]:
    base = open_snapshot(region, tmp_path_factory.mktemp("empty"))
    snap = Snapshot(region_id=base.region_id, layers=dict(base.layers), info=dict(base.info))
    d = base.get(DISTRICTS).copy()
    d.loc[0, "name"] = EVIL
    d.loc[1, "name"] = EVIL_SCRIPT
    snap.layers[DISTRICTS] = d
    centre = d.geometry.iloc[2].representative_point()
    snap.add(AMENITIES, gpd.GeoDataFrame(
        {"osm_id": ["node/1", "node/2"], "name": [EVIL, EVIL_SCRIPT],
         "category": ["lebensmittel", "lebensmittel"], "tags": ["{}", "{}"],
         "source": ["osm", "osm"]},
        geometry=[centre, shapely.Point(centre.x + 0.01, centre.y)], crs="EPSG:4326"),
        source=EVIL)
    return snap, hostile_region(region)


def _layer_control_names(html: str) -> list[str]:
    """Names of folium's layer control (``overlays`` / ``base_layers`` JS object keys)."""
    m = re.search(r"var layer_control_\w+_layers = \{(.*?)\};\s*let layer_control", html,
                  re.DOTALL)
    assert m, "no layer control in the page"
    return [json.loads(f'"{n}"') for n in re.findall(r'"((?:[^"\\]|\\.)*)"\s*:', m.group(1))]


def _check_page(raw: str) -> None:
    # nothing lands as markup, nothing breaks out of a <script> block
    assert "<img src=x" not in raw
    assert "</script><script>alert(2)" not in raw
    # (raw names may sit in GeoJSON data as JSON with ``<`` as \\u003c: data, not markup)
    decoded = re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g.group(1), 16)), raw)
    # ... and what is shown is escaped text
    assert "&lt;img src=x onerror=alert(1)&gt;" in decoded


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_map_surface_escapes_region_and_osm_strings(hostile, lang):
    snap, region = hostile
    result = analyse(snap, region, categories=["lebensmittel"], modes=["walk"])
    m = maps.build_map(snap, region, result, category="lebensmittel", lang=lang,
                       highlight=EVIL, title=EVIL, subtitle=EVIL)
    raw = m.get_root().render()
    _check_page(raw)
    names = _layer_control_names(raw)
    # the category's layer in the layer control: the label as escaped text
    assert any(n.startswith("&lt;img src=x onerror=alert(1)&gt;") for n in names), names
    assert not any("<" in n for n in names)


def test_offline_export_title_panel_legend_escape(hostile):
    snap, region = hostile
    result = analyse(snap, region, categories=["lebensmittel"], modes=["walk"])
    doc, _inl, _dropped = build_export_html(snap, region, result, category="lebensmittel",
                                            offline=True, highlight=EVIL)
    _check_page(doc)
    title = re.search(r"<title>(.*?)</title>", doc, re.DOTALL).group(1)
    assert html_escape(EVIL) in title and "<img" not in title
    # the legend (built as HTML, in a JS string) names the category as text
    assert "&lt;img src=x onerror=alert(1)&gt; Lebensmittel" in doc


def test_demo_page_escapes(hostile):
    """The demo shows the same export (large) in an iframe: the same page is escaped."""
    snap, region = hostile
    result = analyse(snap, region, categories=["lebensmittel"], modes=["walk"])
    doc, _inl, _dropped = build_export_html(snap, region, result, category="lebensmittel",
                                            offline=True, large=True, lang="en")
    _check_page(doc)


def test_html_escape_helper():
    assert html_escape(EVIL) == "&lt;img src=x onerror=alert(1)&gt;"
    assert html_escape('a"b\'c&') == "a&quot;b&#x27;c&amp;"
    assert html_escape(None) == "" and html_escape(float("nan")) == ""
    assert maps.esc is html_escape  # one helper


def test_app_profile_shows_hostile_unit_name_as_text(tmp_path, monkeypatch):
    """The Streamlit page: a unit name from a districts file reaches the profile only through
    Streamlit's escaping markdown (never a block that allows raw HTML) and reads as text."""
    from pathlib import Path

    from other_region import FILE_DISTRICTS, write_region
    from streamlit.testing.v1 import AppTest

    region_file = write_region(tmp_path / "r", FILE_DISTRICTS)
    gj_path = tmp_path / "r" / "bezirke.geojson"
    gj = json.loads(gj_path.read_text(encoding="utf-8"))
    gj["features"][0]["properties"]["ortsname"] = EVIL
    gj_path.write_text(json.dumps(gj), encoding="utf-8")
    monkeypatch.setenv("DORFKARTE_REGION", str(region_file))
    monkeypatch.setenv("DORFKARTE_DATA", str(tmp_path / "d"))
    app = str(Path(__file__).resolve().parents[1] / "app.py")
    at = AppTest.from_file(app, default_timeout=180)
    at.session_state["selected_unit"] = EVIL
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(h.value == EVIL for h in at.subheader)  # the name, verbatim, as text
    for md in at.markdown:
        if md.proto.allow_html:  # the few HTML blocks (page CSS) never carry data
            assert "<img src=x" not in md.value and "onerror" not in md.value
