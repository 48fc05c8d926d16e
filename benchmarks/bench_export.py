"""Offline HTML export: file size (MB) and open time in Debian Chromium (s).

Two inputs, both measured in this run:

* ``embedded``: the shipped data only (29 approximate Ortsteile, VBB stops).
* ``region-sized``: the shipped data plus a SYNTHETIC base map and amenities of roughly the
  size OSM has for the region and its 5 km buffer (thousands of roads, landuse and water
  features with many vertices, about 15k homes). Made up here, not real data; it only
  exercises geometry simplification and the browser's drawing load.

Open time: from navigation to the map with all unit labels drawn, network cut off; the
baseline is an empty Leaflet page (same inlined Leaflet) opened the same way, so the ratio
says how much our content costs on top of Leaflet itself.

Run: ``python benchmarks/bench_export.py [--repeat 3]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString, Point, Polygon

from dorfkarte import coverage
from dorfkarte.export import export_html, write_text_atomic
from dorfkarte.png import CHROMIUM, CHROMIUM_ARGS
from dorfkarte.region import load_region
from dorfkarte.settings import default_region_path
from dorfkarte.snapshot import Snapshot
from dorfkarte.workspace import open_snapshot

SYNTH = "SYNTHETISCH (benchmarks/bench_export.py), keine echten Daten"
BBOX = (12.30, 52.00, 12.80, 52.30)  # region plus buffer, lon/lat


def _walk(rng: np.random.Generator, n: int, step_m: float) -> np.ndarray:
    """A smooth road-like line: OSM-style dense vertices (every ``step_m``) on gentle curves."""
    start = rng.uniform(BBOX[:2], BBOX[2:])
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.04, n))
    d = np.c_[np.cos(heading) / 68_000, np.sin(heading) / 111_000] * step_m
    return start + np.cumsum(d, axis=0)


def _blob(rng: np.random.Generator, r_m: float, step_m: float = 25.0) -> Polygon:
    """A smooth irregular area (forest, field) with a vertex every ``step_m`` of its outline."""
    c = rng.uniform(BBOX[:2], BBOX[2:])
    n = max(12, int(2 * np.pi * r_m / step_m))
    ang = np.linspace(0, 2 * np.pi, n, endpoint=False)
    p = rng.uniform(0, 2 * np.pi, 3)
    r = r_m * (1 + 0.3 * np.sin(3 * ang + p[0]) + 0.15 * np.sin(5 * ang + p[1])
               + 0.05 * np.sin(11 * ang + p[2]))
    return Polygon(np.c_[c[0] + r * np.cos(ang) / 68_000, c[1] + r * np.sin(ang) / 111_000])


def add_synthetic_osm(snap: Snapshot, seed: int = 7) -> Snapshot:
    """Region-sized SYNTHETIC base map, amenities and homes (for size/speed only)."""
    rng = np.random.default_rng(seed)
    classes = ["residential"] * 5 + ["unclassified"] * 3 + ["tertiary"] * 2 + [
        "secondary", "primary", "living_street"]
    roads = [LineString(_walk(rng, int(rng.integers(20, 150)), 15.0)) for _ in range(4000)]
    snap.add("roads", gpd.GeoDataFrame(
        {"highway": rng.choice(classes, len(roads)), "name": [f"Weg {i}" for i in
                                                              range(len(roads))]},
        geometry=roads, crs="EPSG:4326"), source=SYNTH)
    land_cls = ["forest"] * 4 + ["farmland"] * 3 + ["meadow"] * 2 + ["residential"]
    land = [_blob(rng, float(rng.uniform(60, 900))) for _ in range(2500)]
    snap.add("landuse", gpd.GeoDataFrame({"class": rng.choice(land_cls, len(land))},
                                         geometry=land, crs="EPSG:4326"), source=SYNTH)
    water = [LineString(_walk(rng, int(rng.integers(30, 300)), 10.0)) for _ in range(500)]
    water += [_blob(rng, float(rng.uniform(30, 300)), 10.0) for _ in range(100)]
    snap.add("water", gpd.GeoDataFrame({"class": ["stream"] * 500 + ["water"] * 100},
                                       geometry=water, crs="EPSG:4326"), source=SYNTH)
    cats = ["lebensmittel", "hausarzt", "apotheke", "grundschule", "kita", "bank", "post",
            "treffpunkt"]
    pts = [Point(*rng.uniform(BBOX[:2], BBOX[2:])) for _ in range(300)]
    snap.add("amenities", gpd.GeoDataFrame(
        {"osm_id": [f"n{i}" for i in range(300)], "name": [f"Einrichtung {i}" for i in
                                                           range(300)],
         "category": rng.choice(cats, 300), "tags": "{}", "source": "osm"},
        geometry=pts, crs="EPSG:4326"), source=SYNTH)
    homes = gpd.points_from_xy(rng.uniform(BBOX[0], BBOX[2], 15000),
                               rng.uniform(BBOX[1], BBOX[3], 15000))
    snap.add("homes", gpd.GeoDataFrame({"osm_id": np.arange(15000), "kind": "building"},
                                       geometry=homes, crs="EPSG:4326"), source=SYNTH)
    return snap


def open_times(paths: list[Path], repeat: int) -> dict[Path, list[tuple[float, float]]]:
    """Per file: (wall seconds from navigation to the drawn map, renderer main-thread busy
    seconds) with the network cut. The busy time (CDP ``TaskDuration``) hardly changes when
    other processes load the machine; the wall time does."""
    from playwright.sync_api import sync_playwright

    out: dict[Path, list[tuple[float, float]]] = {p: [] for p in paths}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                     headless=True)
        try:
            for _ in range(repeat):
                for p in paths:
                    page = browser.new_page(viewport={"width": 1600, "height": 1000})
                    cdp = page.context.new_cdp_session(page)
                    cdp.send("Performance.enable")
                    page.route("**/*", lambda r: r.continue_()
                               if r.request.url.startswith(("file:", "data:")) else r.abort())
                    t0 = time.perf_counter()
                    page.goto(p.as_uri(), wait_until="load")
                    page.wait_for_selector(".leaflet-container")
                    if "empty" not in p.name:
                        page.wait_for_selector("[data-unit]")
                    # one frame after: the vector layers are painted
                    page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
                    wall = time.perf_counter() - t0
                    metrics = {m["name"]: m["value"]
                               for m in cdp.send("Performance.getMetrics")["metrics"]}
                    out[p].append((wall, float(metrics.get("TaskDuration", float("nan")))))
                    page.close()
        finally:
            browser.close()
    return out


def empty_leaflet_page(path: Path) -> Path:
    import folium

    from dorfkarte import assets
    from dorfkarte.export import render_map_html

    m = folium.Map(location=[52.15, 12.55], zoom_start=11, tiles=None)
    m.default_js = assets.folium_js()
    m.default_css = assets.folium_css()
    doc, _, _ = render_map_html(m, title="leer", lang="de", offline=True)
    return write_text_atomic(path, doc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    region = load_region(default_region_path())
    with tempfile.TemporaryDirectory(prefix="dk-bench-export-") as tmp:
        tmpd = Path(tmp)
        files: dict[str, Path] = {}
        for label, synth in (("embedded", False), ("region-sized", True)):
            snap = open_snapshot(region, tmpd / "empty")
            if synth:
                add_synthetic_osm(snap)
            result = coverage.analyse(snap, region)
            t0 = time.perf_counter()
            info = export_html(snap, region, tmpd / f"{label}.html", result,
                               category="lebensmittel", mode="walk", offline=True)
            t_export = time.perf_counter() - t0
            files[label] = info.path
            print(f"{label:>13}: offline_html_mb={info.size_mb:.2f} "
                  f"export_s={t_export:.2f} (limit 5 MB)")
        files["empty"] = empty_leaflet_page(tmpd / "empty-leaflet.html")
        times = open_times(list(files.values()), args.repeat)

        def med(label: str, k: int) -> float:
            return statistics.median(t[k] for t in times[files[label]])

        print(f"{'empty Leaflet':>13}: open_s={med('empty', 0):.2f} "
              f"busy_s={med('empty', 1):.2f} (baseline)")
        for label in ("embedded", "region-sized"):
            print(f"{label:>13}: open_chromium_s={med(label, 0):.2f} "
                  f"busy_s={med(label, 1):.2f} (medians of {args.repeat}, limit 2 s) "
                  f"ratio_vs_empty_leaflet={med(label, 0) / med('empty', 0):.1f}x")
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} cores (wall times grow with it; busy_s much less)")


if __name__ == "__main__":
    main()
