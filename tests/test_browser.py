"""The app in a real browser: Debian chromium + Playwright, every non-local request blocked.

Starts ``streamlit run app.py`` on a free port of 127.0.0.1 with an empty data folder
(embedded data only), waits for the Leaflet map inside the streamlit-folium iframe, checks
that the 29 units and the legend are there, clicks an Ortsteil, moves a threshold slider,
and saves ``artifacts/screenshots/app.png``. Cold start and slider response times are
printed (figures, not asserts: the machine is shared).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from browserkit import CHROMIUM, CHROMIUM_ARGS, IFRAME, REPO

from dorfkarte.workspace import open_snapshot

SCREENSHOT = REPO / "artifacts" / "screenshots" / "app.png"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed"),
    pytest.mark.timeout(420),
]


def _only_local(route) -> None:  # type: ignore[no-untyped-def]
    url = route.request.url
    if url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")):
        route.continue_()
    else:
        route.abort()


def _wait_for_legend(page, text: str, timeout: float) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for fr in page.frames:
            if "streamlit_folium" not in fr.url:
                continue
            try:
                if text in fr.locator("#dk-legend").inner_text(timeout=200):
                    return
            except Exception:  # frame detached or legend not there yet
                continue
        time.sleep(0.05)
    raise TimeoutError(f"no map legend with {text!r}")


def test_map_in_browser_without_network(app_server: tuple[str, float], region) -> None:
    pw = pytest.importorskip("playwright.sync_api")
    url, server_t0 = app_server
    names = sorted(str(n) for n in open_snapshot(region, Path("/nonexistent")).get(
        "districts")["name"])
    assert len(names) == 29
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    with pw.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1500})
            context.route("**/*", _only_local)
            page = context.new_page()
            page_errors: list[str] = []
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            page.on("dialog", lambda d: (page_errors.append("dialog: " + d.message),
                                         d.dismiss()))

            t0 = time.monotonic()
            page.goto(url)
            page.wait_for_selector(IFRAME, state="attached", timeout=180_000)
            frame = page.frame_locator(IFRAME)
            frame.locator(".leaflet-container").wait_for(timeout=180_000)
            frame.locator(".dk-label span").first.wait_for(timeout=60_000)
            cold = time.monotonic() - t0
            server_to_map = time.monotonic() - server_t0

            labels = sorted(frame.locator(".dk-label span").all_inner_texts())
            assert labels == names
            legend = frame.locator("#dk-legend")
            assert legend.count() == 1 and legend.is_visible()
            assert "Legende" in legend.inner_text()
            attribution = frame.locator(".leaflet-control-attribution").inner_text()
            assert "OpenStreetMap-Mitwirkende, ODbL" in attribution
            assert "VBB Verkehrsverbund Berlin-Brandenburg GmbH, CC BY 4.0" in attribution
            # Leaflet came from the app itself (no CDN could have answered)
            assert frame.locator("script[src*='/app/static/vendor/leaflet']").count() >= 1
            assert not page_errors, page_errors

            time.sleep(1.0)  # let the tiles fail and the own base map settle
            page.screenshot(path=str(SCREENSHOT))

            # click an Ortsteil on the map (tall window: no scrolling): its profile is shown
            target = "Reetz"
            assert not page.locator("h3", has_text=re.compile(f"^{target}$")).count()
            box = frame.locator(f'.dk-label span[data-unit="{target}"]').bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.locator("h3", has_text=re.compile(f"^{target}$")).wait_for(timeout=60_000)

            # threshold slider: step down three times; each time wait until the map legend
            # shows the new value (the choropleth is a dynamic layer: no map reload)
            legend_text = frame.locator("#dk-legend").inner_text()
            before = re.search(r"Schwelle: (\d+) min", legend_text)
            assert before is not None
            value = int(before.group(1))
            # the threshold slider, not the timetable's departure window
            slider = page.locator('[data-testid="stSlider"]', has_text="Schwelle")
            slider = slider.get_by_role("slider").first
            timings = []
            for _ in range(3):
                slider.focus()
                t1 = time.monotonic()
                page.keyboard.press("ArrowLeft")
                value -= 1
                _wait_for_legend(page, f"Schwelle: {value} min", timeout=60.0)
                timings.append(time.monotonic() - t1)
                time.sleep(0.5)
            slider_s = sorted(timings)[1]

            # the profile's chart is folded and not drawn until unfolded (Vega is heavy)
            assert page.locator(".vega-embed").count() == 0
            page.get_by_text("Mittlere Reisezeit und Schwelle").click()
            page.locator(".vega-embed").first.wait_for(timeout=60_000)

            # another unit in the profile's box: the map tab's fragment asks for a whole
            # rerun, so the connections drawn below the fragment are the new unit's
            to_wiesenburg = page.get_by_text("Nach Wiesenburg (Kernort) (ab 07:00)")
            assert to_wiesenburg.count() == 1  # Reetz: Wiesenburg and Bad Belzig
            unit_box = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]'
                                    ).filter(has_text="Ortsteil").locator("input")
            unit_box.click()
            page.keyboard.type("Lütte")
            page.get_by_role("option", name="Lütte", exact=True).click()
            page.locator("h3", has_text=re.compile("^Lütte$")).wait_for(timeout=60_000)
            page.get_by_text("Nach Bad Belzig (Kernstadt) (ab 07:00)").wait_for(
                timeout=60_000)
            end = time.monotonic() + 60
            while to_wiesenburg.count() and time.monotonic() < end:
                time.sleep(0.1)
            assert to_wiesenburg.count() == 0  # Lütte: Bad Belzig only
            assert not page_errors, page_errors
        finally:
            browser.close()
    print(f"\nbrowser_cold_start_s={cold:.2f} server_start_to_map_s={server_to_map:.2f} "
          f"slider_response_median_s={slider_s:.2f} "
          f"(all: {', '.join(f'{x:.2f}' for x in timings)})")


def test_static_assets_served(app_server: tuple[str, float]) -> None:
    url, _ = app_server
    from dorfkarte import assets

    for a in assets.vendored_assets():
        with urllib.request.urlopen(url + a.url, timeout=10) as r:
            assert r.status == 200
            body = r.read()
        assert body == a.path.read_bytes()
        ctype = r.headers.get("Content-Type", "")
        assert ("javascript" in ctype) if a.kind == "js" else ("css" in ctype)


def test_screenshot_path_is_ignored_by_git() -> None:
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        pytest.skip("no git checkout")
    rel = SCREENSHOT.relative_to(REPO)
    out = subprocess.run([git, "check-ignore", str(rel)], cwd=REPO, capture_output=True,
                         text=True)
    assert out.returncode == 0, f"{rel} should be gitignored (artifacts/)"
