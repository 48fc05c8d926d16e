"""The offline HTML export in a real browser (Debian chromium), with the network cut off.

Opens the file from disk, checks the map and all 29 units, opens every popup and tooltip
(so injected markup would run), and fails on any script error or JS dialog.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dorfkarte.cli import main
from dorfkarte.png import CHROMIUM, CHROMIUM_ARGS, screenshot_html

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no /usr/bin/chromium"),
]

REPO = Path(__file__).resolve().parents[1]
SHOT = REPO / "artifacts" / "screenshots" / "export_offline.png"

#: Fire click (popup) and mouseover (tooltip) on every feature layer; collect what shows.
OPEN_ALL_JS = """
() => {
  const maps = Object.keys(window).filter(k => k.startsWith('map_'))
    .map(k => window[k]).filter(v => v instanceof L.Map);
  const texts = [];
  let layers = 0;
  for (const map of maps) {
    map.eachLayer(l => {
      if (!l.feature) return;
      layers += 1;
      const c = l.getBounds ? l.getBounds().getCenter() : l.getLatLng();
      l.fire('mouseover', {latlng: c}, true);
      document.querySelectorAll('.leaflet-tooltip').forEach(t => texts.push(t.innerText));
      l.fire('mouseout', {latlng: c}, true);
      l.fire('click', {latlng: c}, true);
      document.querySelectorAll('.leaflet-popup-content').forEach(p => texts.push(p.innerText));
      map.closePopup();
    });
  }
  return {maps: maps.length, layers: layers, texts: texts,
          injected: document.querySelectorAll('img[src="x"]').length};
}
"""


@pytest.fixture(scope="module")
def offline_file(tmp_path_factory: pytest.TempPathFactory, region) -> Path:
    from evildata import make_evil_data_dir

    d = make_evil_data_dir(tmp_path_factory.mktemp("evil"), region)
    out = tmp_path_factory.mktemp("html") / "karte offline.html"
    assert main(["export-html", str(out), "--offline", "--category", "lebensmittel",
                 "--data-dir", str(d)]) == 0
    return out


def test_offline_export_in_chromium(offline_file: Path, region) -> None:
    from evildata import EVIL, EVIL_LISTING, district_names
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    dialogs: list[str] = []
    blocked: list[str] = []

    def on_route(route) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                     headless=True)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.route("**/*", on_route)
            page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
            page.on("console", lambda msg: errors.append(f"console: {msg.text}")
                    if msg.type == "error" else None)

            def on_dialog(dialog) -> None:
                dialogs.append(f"{dialog.type}: {dialog.message}")
                dialog.dismiss()

            page.on("dialog", on_dialog)
            page.goto(offline_file.as_uri(), wait_until="load")
            page.wait_for_selector(".leaflet-container", timeout=10_000)
            page.wait_for_selector("[data-unit]", timeout=10_000)
            shown = set(page.eval_on_selector_all(
                "[data-unit]", "els => els.map(e => e.textContent)"))
            missing = [n for n in district_names(region) if n not in shown]
            assert missing == [], f"units not on the map: {missing}"
            assert len(district_names(region)) == 29
            assert page.locator("#dk-legend").is_visible()
            assert page.locator("#dk-export-title h1").inner_text().startswith("Lebensmittel")
            # Sources open in the picture: it names the synthetic test data it shows.
            page.locator("#dk-export-sources summary").click()
            assert "SYNTHETISCHE TESTDATEN" in page.locator("#dk-export-sources").inner_text()
            SHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOT))

            got = page.evaluate(OPEN_ALL_JS)
            assert got["maps"] == 1 and got["layers"] > 29
            texts = "\n".join(got["texts"])
            # Hostile names show as text in tooltips and popups and never become markup.
            assert EVIL in texts and EVIL_LISTING in texts
            assert got["injected"] == 0
            # A unit popup carries the Ortsteil profile (all categories for the mode).
            profiles = [x for x in got["texts"] if "Erreichbarkeit (Fuß)" in x]
            assert len(profiles) >= 29
            for cat in region.categories.values():
                if cat.source == "osm":
                    assert cat.label in profiles[0]
            page.wait_for_timeout(200)
        finally:
            browser.close()
    assert dialogs == [], dialogs
    assert errors == [], errors
    assert blocked == [], f"page tried to load from the network: {blocked[:5]}"


def test_scenario_export_with_transit_point_runs_clean(tmp_path: Path, region) -> None:
    """Extra points of a transit category (a planned stop) are drawn without script errors."""
    import geopandas as gpd
    from playwright.sync_api import sync_playwright
    from shapely.geometry import Point

    from dorfkarte import coverage
    from dorfkarte.export import export_html
    from dorfkarte.workspace import open_snapshot

    snap = open_snapshot(region, tmp_path / "d")
    extra = gpd.GeoDataFrame(
        {"name": ["Beispiel: neue Haltestelle <b>X</b>"], "category": ["haltestelle"],
         "source": ["scenario"]}, geometry=[Point(12.48, 52.06)], crs="EPSG:4326")
    result = coverage.analyse(snap, region, categories=["haltestelle"], modes=["walk"],
                              extra_destinations=extra)
    out = export_html(snap, region, tmp_path / "szenario.html", result,
                      category="haltestelle", offline=True, extra_points=extra,
                      highlight="Medewitz").path
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                     headless=True)
        try:
            page = browser.new_page()
            page.route("**/*", lambda r: r.continue_()
                       if r.request.url.startswith(("file:", "data:")) else r.abort())
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("dialog", lambda d: (errors.append("dialog"), d.dismiss()))
            page.goto(out.as_uri(), wait_until="load")
            page.wait_for_selector(".dk-src-scenario", timeout=10_000)
            got = page.evaluate(OPEN_ALL_JS)
            page.wait_for_timeout(200)
        finally:
            browser.close()
    assert errors == []
    assert "Beispiel: neue Haltestelle <b>X</b>" in "\n".join(got["texts"])


def test_png_export_renders_offline(tmp_path: Path, offline_file: Path) -> None:
    out = screenshot_html(offline_file, tmp_path / "karte.png", width=800, height=500)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    import struct

    w, h = struct.unpack(">II", data[16:24])
    assert (w, h) == (800, 500)
    assert [p.name for p in tmp_path.iterdir()] == ["karte.png"]


def test_cli_export_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "folie.png"
    rc = main(["export-png", str(out), "--width", "640", "--height", "400",
               "--data-dir", str(tmp_path / "d")])
    assert rc == 0, capsys.readouterr().err
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert "640x400" in capsys.readouterr().out
