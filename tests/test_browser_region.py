"""First view of a fresh install in a real browser: real outlines, census layer, route lines.

No snapshot (empty data folder): the default base map is the own offline map, so the page
must not even try to load a web tile. Saves ``artifacts/screenshots/first_view.png``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from browserkit import CHROMIUM, CHROMIUM_ARGS, IFRAME, REPO

SCREENSHOT = REPO / "artifacts" / "screenshots" / "first_view.png"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed"),
    pytest.mark.timeout(420),
]


def test_first_view_offline_outlines_census_routes(app_server) -> None:
    pw = pytest.importorskip("playwright.sync_api")
    url, _t0 = app_server
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []

    def only_local(route) -> None:  # type: ignore[no-untyped-def]
        u = route.request.url
        if u.startswith(("http://127.0.0.1", "data:", "blob:", "about:")):
            route.continue_()
        else:
            outside.append(u)
            route.abort()

    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1500})
            context.route("**/*", only_local)
            page = context.new_page()
            page.goto(url)
            page.wait_for_selector(IFRAME, state="attached", timeout=180_000)
            frame = page.frame_locator(IFRAME)
            frame.locator(".leaflet-container").wait_for(timeout=180_000)
            frame.locator(".dk-label span").first.wait_for(timeout=60_000)
            # the offline map is the default without a snapshot
            assert page.get_by_role("radio", name="Eigene Grundkarte (offline)").is_checked()
            # census cells and route lines are drawn in their own panes
            assert frame.locator(".leaflet-dk-census-pane path").count() > 100
            assert frame.locator(".leaflet-dk-routes-pane path").count() >= 1
            layers = frame.locator(".leaflet-control-layers").text_content() or ""
            assert "Einwohner je km²" in layers and "Bus- und Bahnlinien" in layers
            attribution = frame.locator(".leaflet-control-attribution").inner_text()
            assert "GeoBasis-DE / BKG" in attribution and "Zensus 2022" in attribution
            time.sleep(1.0)
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    tiles = [u for u in outside if "tile" in u]
    assert tiles == [], tiles[:3]
    print(f"\nrequests to other hosts (blocked): {len(outside)}")
