"""The Streamlit app in a real browser: cold start, slider and category response (s).

Debian Chromium driven by Playwright, every request to anything but 127.0.0.1 blocked (as at
a conference without Wi-Fi), the app on the embedded data (an empty temp data folder).

Figures, all measured in this run:

* ``server ready``: ``streamlit run`` until its health check answers.
* ``cold``: first page view after the server start, from navigation to the sidebar, the
  map frame, Leaflet and the 29 unit labels (``labels``: what the user waits for).
* ``warm page view``: later page views (each a new browser context, nothing cached in the
  browser; server caches filled), median of ``--repeat``: what a visitor waits for once the
  server has warmed up (e.g. the laptop started before the talk).
* ``slider``: threshold slider one step (arrow key) until the map legend shows the new value.
* ``category``: another category chosen in the sidebar until the map legend names it.

Response times are taken in the browser's own clock: from the key event to the first
animation frame in which the map frame shows the change (a MutationObserver, no polling
from Python).

Baseline, in the same run: a trivial Streamlit page (one slider, one text) started and
driven the same way. Its cold view and rerun round trip (slider until the text changes) are
the floor that Streamlit and the browser set on this machine at this moment; the app's
figures are also printed as ratios of it. Timings are printed, never asserted (the machine
is shared).

Last line (machine-readable): ``app_first_map_s=<s> slider_s=<s> category_s=<s>
baseline_rerun_s=<s>``.

Run: ``python benchmarks/bench_app.py [--repeat 5] [--settle 0] [--app app.py]``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
IFRAME = 'iframe[title="streamlit_folium.st_folium"]'

BASELINE_APP = '''"""Baseline for bench_app.py: the smallest page, one slider and one text."""
import streamlit as st

v = st.slider("Wert", 1, 60, 30, key="v")
st.markdown(f"Wert ist {v}")
'''

#: Resolves with the browser's clock at the first animation frame in which ``sel`` shows
#: ``text`` (a MutationObserver, no polling from Python).
WAIT_JS = """([sel, text, ms]) => new Promise((resolve, reject) => {
  const ok = () => { const el = document.querySelector(sel);
                     return el !== null && el.innerText.includes(text); };
  const done = () => requestAnimationFrame(() => resolve(Date.now()));
  if (ok()) { done(); return; }
  const obs = new MutationObserver(() => { if (ok()) { obs.disconnect(); done(); } });
  obs.observe(document.documentElement, {subtree: true, childList: true,
                                         characterData: true});
  setTimeout(() => { obs.disconnect(); reject(new Error("timeout")); }, ms);
})"""
#: Records when the user acted (key or click), in the browser's clock.
INPUT_JS = """() => {
  window.__bench_t0 = null;
  if (window.__bench_listening) { return; }
  window.__bench_listening = true;
  for (const ev of ["keydown", "click"]) {
    document.addEventListener(ev, () => { window.__bench_t0 = Date.now(); }, true);
  }
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def streamlit_server(script: Path, cwd: Path, env: dict[str, str]) -> Iterator[tuple[str, float]]:
    """``streamlit run script`` on a free local port; yields (url, seconds until healthy)."""
    port = _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false", "--server.enableStaticServing", "true",
           "--server.fileWatcherType", "none"]
    with tempfile.TemporaryDirectory() as logdir:
        log_path = Path(logdir) / "streamlit.log"
        with log_path.open("wb") as log:
            t0 = time.monotonic()
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            try:
                url = f"http://127.0.0.1:{port}"
                _wait_healthy(url, proc, t0 + 120, log_path)
                yield url, time.monotonic() - t0
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)


def _wait_healthy(url: str, proc: subprocess.Popen, end: float, log: Path) -> None:
    while True:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            if time.monotonic() > end:
                raise TimeoutError("streamlit did not become healthy") from None
            time.sleep(0.1)


def _only_local(route: Any) -> None:
    url = route.request.url
    if url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")):
        route.continue_()
    else:
        route.abort()


def _frame_until(page: Any, selector: str, text: str, timeout: float = 60.0) -> float:
    """Browser time (ms) when the map frame first shows ``text`` in ``selector``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for fr in page.frames:
            if "streamlit_folium" not in fr.url:
                continue
            try:
                return float(fr.evaluate(WAIT_JS, [selector, text, 2000]))
            except Exception:  # not yet, or the frame was replaced: look again
                continue
        time.sleep(0.02)
    raise TimeoutError(f"no {selector} with {text!r}")


def _page_until(page: Any, selector: str, text: str, timeout: float = 60.0) -> float:
    """Browser time (ms) when the page itself shows ``text`` in ``selector``."""
    return float(page.evaluate(WAIT_JS, [selector, text, int(timeout * 1000)]))


def _response(page: Any, act: Callable[[], None], until: Callable[[], float]) -> float:
    """Seconds from the user's input event to the awaited change, both in browser time."""
    page.evaluate(INPUT_JS)
    act()
    t1 = until()
    t0 = page.evaluate("() => window.__bench_t0")
    if t0 is None:
        raise RuntimeError("the input event was not seen")
    return (t1 - float(t0)) / 1000.0


def _new_page(browser: Any) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1500})
    context.route("**/*", _only_local)
    return context, context.new_page()


def bench_baseline(browser: Any, repeat: int, env: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "baseline_app.py"
        script.write_text(BASELINE_APP, encoding="utf-8")
        with streamlit_server(script, Path(tmp), env) as (url, ready):
            context, page = _new_page(browser)
            try:
                t0 = time.monotonic()
                page.goto(url)
                page.get_by_text("Wert ist 30").wait_for(timeout=120_000)
                text_cold = time.monotonic() - t0
                slider = page.get_by_role("slider").first
                text_rt = []
                value = 30
                for _ in range(repeat):
                    slider.focus()
                    value -= 1
                    text_rt.append(_response(
                        page, lambda: page.keyboard.press("ArrowLeft"),
                        lambda v=value: _page_until(page, "body", f"Wert ist {v}")))
                    time.sleep(0.3)
            finally:
                context.close()
    return {"server_ready": ready, "cold_text": text_cold, "rerun_text": text_rt}


def _choose_category(page: Any, box: Any, label: str) -> float:
    """Choose ``label`` in the category box; seconds until the map legend names it."""
    for attempt in range(3):  # a dropped keystroke on a busy machine: choose again
        box.click()
        page.keyboard.type(label)
        page.get_by_role("option", name=label, exact=True).wait_for()
        try:
            return _response(page, lambda: page.keyboard.press("Enter"),
                             lambda: _frame_until(page, "#dk-legend-ind h4", label,
                                                  timeout=20.0))
        except TimeoutError:
            print(f"note: category {label!r} not shown, try {attempt + 2}")
            page.keyboard.press("Escape")
    raise TimeoutError(f"category {label!r} never shown")


def bench_app(browser: Any, repeat: int, env: dict[str, str],
              script: Path = REPO / "app.py", settle: float = 0.0) -> dict[str, Any]:
    from dorfkarte.i18n import category_label
    from dorfkarte.region import load_region
    from dorfkarte.settings import default_region_path

    region = load_region(default_region_path())
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**env, "DORFKARTE_DATA": data_dir}
        with streamlit_server(script, REPO, env) as (url, ready):
            out: dict[str, Any] = {"server_ready": ready}
            time.sleep(settle)
            context, page = _new_page(browser)
            try:
                t0 = time.monotonic()
                page.goto(url)
                page.locator('[data-testid="stSidebar"]').wait_for(timeout=120_000)
                out["cold_page"] = time.monotonic() - t0
                page.wait_for_selector(IFRAME, state="attached", timeout=180_000)
                out["cold_frame"] = time.monotonic() - t0
                frame = page.frame_locator(IFRAME)
                frame.locator(".leaflet-container").wait_for(timeout=180_000)
                out["cold_leaflet"] = time.monotonic() - t0
                frame.locator(".dk-label span").first.wait_for(timeout=60_000)
                out["cold_labels"] = time.monotonic() - t0
                out["n_labels"] = frame.locator(".dk-label span").count()

                legend = frame.locator("#dk-legend").inner_text()
                m = re.search(r"Schwelle: (\d+) min", legend)
                if m is None:
                    raise RuntimeError(f"no threshold in the legend: {legend!r}")
                value = int(m.group(1))
                # the threshold slider, not the timetable's departure window
                slider = page.locator('[data-testid="stSlider"]', has_text="Schwelle")
                slider = slider.get_by_role("slider").first
                out["slider"] = []
                for _ in range(repeat):
                    slider.focus()
                    value -= 1
                    out["slider"].append(_response(
                        page, lambda: page.keyboard.press("ArrowLeft"),
                        lambda v=value: _frame_until(page, "#dk-legend",
                                                     f"Schwelle: {v} min")))
                    time.sleep(0.3)

                # two categories of the walk mode, alternating
                cats = [c for c in region.categories if c != "haltestelle"][:2]
                box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]'
                                   ).filter(has_text="Kategorie (Karte)")
                out["category"] = []
                for i in range(repeat):
                    label = category_label(region.categories[cats[i % 2]], "de")
                    out["category"].append(_choose_category(page, box, label))
                    time.sleep(0.3)
            finally:
                context.close()

            out["warm_labels"] = []
            for _ in range(repeat):  # new browser contexts: nothing cached in the browser
                context, page = _new_page(browser)
                try:
                    t0 = time.monotonic()
                    page.goto(url)
                    page.wait_for_selector(IFRAME, state="attached", timeout=180_000)
                    page.frame_locator(IFRAME).locator(".dk-label span").first.wait_for(
                        timeout=60_000)
                    out["warm_labels"].append(time.monotonic() - t0)
                finally:
                    context.close()
    return out


def _med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="slider/category steps (median)")
    ap.add_argument("--app", type=Path, default=REPO / "app.py",
                    help="app script (a variant to compare; run with the repo as cwd)")
    ap.add_argument("--settle", type=float, default=0.0,
                    help="seconds to wait after the server is ready before the first view")
    ap.add_argument("--no-baseline", action="store_true", help="skip the baseline page")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep
           + os.environ.get("PYTHONPATH", "")}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            base = (bench_baseline(browser, args.repeat, env) if not args.no_baseline
                    else {})
            app = bench_app(browser, args.repeat, env, args.app.resolve(), args.settle)
        finally:
            browser.close()

    nan = float("nan")

    def row(name: str, value: float, ref: float = nan) -> None:
        ratio = f"  ({value / ref:5.1f}x baseline)" if ref == ref and ref else ""
        print(f"{name:<36}{value:7.2f} s{ratio}")

    def allv(xs: list[float]) -> str:
        return ", ".join(f"{x:.2f}" for x in xs)

    floor = _med(base.get("rerun_text", []))
    if base:
        print("baseline (trivial Streamlit page: one slider, one text)")
        row("  server ready", base["server_ready"])
        row("  cold: page text", base["cold_text"])
        row("  rerun round trip (median)", floor)
        print(f"    all: {allv(base['rerun_text'])}")
    print(f"dorfkarte app (embedded data): {args.app}, settle {args.settle:g} s")
    row("  server ready", app["server_ready"], base.get("server_ready", nan))
    row("  cold: sidebar", app["cold_page"], base.get("cold_text", nan))
    row("  cold: map frame", app["cold_frame"])
    row("  cold: Leaflet", app["cold_leaflet"])
    row("  cold: 29 labels (cold start)", app["cold_labels"], base.get("cold_text", nan))
    row("  warm page view: labels (median)", _med(app["warm_labels"]),
        base.get("cold_text", nan))
    row("  slider response (median)", _med(app["slider"]), floor)
    row("  category switch (median)", _med(app["category"]), floor)
    print(f"    labels drawn: {app['n_labels']}; slider: {allv(app['slider'])}; "
          f"category: {allv(app['category'])}; warm views: {allv(app['warm_labels'])}")
    print(summary_line({"app_first_map_s": app["cold_labels"],
                        "slider_s": _med(app["slider"]),
                        "category_s": _med(app["category"]),
                        "baseline_rerun_s": floor}))


def summary_line(figures: dict[str, float]) -> str:
    """The machine-readable last line: ``key=value`` pairs, seconds with 3 decimals.

    ``app_first_map_s``: first page view right after the server answers its health check
    until the map shows its 29 unit labels; ``slider_s`` / ``category_s``: medians of the
    response in the browser; ``baseline_rerun_s``: the trivial page's rerun round trip in
    the same run (nan with ``--no-baseline``).
    """
    return " ".join(f"{k}={v:.3f}" for k, v in figures.items())


if __name__ == "__main__":
    main()
