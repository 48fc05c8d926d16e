"""PNG of a map for slides: headless Debian Chromium screenshots the offline HTML export.

The page is loaded from disk with every non-``file:`` request aborted, so the picture shows
exactly what the offline file shows and the render never waits for a network.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from dorfkarte.atomic import atomic_path
from dorfkarte.errors import DorfkarteError

CHROMIUM = "/usr/bin/chromium"
#: Flags for a quiet headless Chromium on a machine without network (no update/sync calls).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class PngError(DorfkarteError, RuntimeError):
    """The screenshot cannot be taken (no Chromium, page does not load)."""


def chromium_path() -> str | None:
    """Debian's chromium, else one on PATH; None when there is none."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot_html(html_path: str | Path, out: str | Path, *, width: int = 1600,
                    height: int = 1000, scale: float = 1.0, timeout_s: float = 30.0) -> Path:
    """Render ``html_path`` offline and save a PNG of the viewport to ``out`` (atomically)."""
    exe = chromium_path()
    if exe is None:
        raise PngError("PNG-Export braucht Chromium (Debian-Paket 'chromium')")
    try:
        from playwright.sync_api import Error as PWError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise PngError("PNG-Export braucht das Python-Paket 'playwright'") from None
    html_path = Path(html_path).resolve()
    out = Path(out)
    try:
        with atomic_path(out, suffix=".png") as tmp, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport={"width": width, "height": height},
                                        device_scale_factor=scale)
                page.route("**/*", lambda route: route.continue_()
                           if route.request.url.startswith(("file:", "data:"))
                           else route.abort())
                page.goto(html_path.as_uri(), wait_until="load", timeout=timeout_s * 1000)
                page.wait_for_selector(".leaflet-container", timeout=timeout_s * 1000)
                # Let Leaflet finish drawing vector layers after the load event.
                page.wait_for_timeout(300)
                page.screenshot(path=str(tmp))
            finally:
                browser.close()
    except PWError as exc:
        raise PngError(f"Chromium konnte {html_path.name} nicht darstellen: "
                       f"{str(exc).splitlines()[0]}") from None
    return out


def png_bytes(html_doc: str, *, width: int = 1600, height: int = 1000) -> bytes:
    """Screenshot of an (offline) export page given as text, for download buttons."""
    with tempfile.TemporaryDirectory(prefix="dorfkarte-png-") as tmp:
        page = Path(tmp) / "karte.html"
        page.write_text(html_doc, encoding="utf-8")
        return screenshot_html(page, Path(tmp) / "karte.png", width=width,
                               height=height).read_bytes()
