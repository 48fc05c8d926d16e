"""Vendored web assets (Leaflet, icons) so maps work with no network at all.

The app serves them itself (Streamlit static serving of ``<app dir>/static``, which is a
link to this package's ``static/`` folder) under :data:`URL_PREFIX`; an HTML export can
replace each ``<script src>`` / ``<link href>`` that points there with the file's content
(:func:`vendored_assets` lists them, :func:`inline_text` gives the content, with CSS
``url(...)`` images turned into data URIs).
"""

from __future__ import annotations

import base64
import mimetypes
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

#: The package's static folder (shipped as package data).
STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Where Streamlit serves ``<app dir>/static`` (``server.enableStaticServing``).
URL_PREFIX = "/app/static"

LEAFLET_VERSION = "1.9.4"
FONTAWESOME_VERSION = "7.3.1"
LEAFLET_DIR = STATIC_DIR / "vendor" / f"leaflet-{LEAFLET_VERSION}"
ICON_DIR = STATIC_DIR / "vendor" / f"fontawesome-free-{FONTAWESOME_VERSION}" / "svgs" / "solid"

#: Font Awesome 4/5 names used in region files -> the vendored Font Awesome 7 file name.
ICON_ALIASES: dict[str, str] = {
    "shopping-cart": "cart-shopping",
    "user-md": "user-doctor",
    "medkit": "kit-medical",
    "eur": "euro-sign",
    "euro": "euro-sign",
    "heartbeat": "heart-pulse",
    "university": "building-columns",
    "institution": "building-columns",
    "map-marker": "location-dot",
    "coffee": "mug-hot",
    "cutlery": "utensils",
}


@dataclass(frozen=True)
class Asset:
    """One vendored file a map page loads: ``kind`` is ``"js"`` or ``"css"``."""

    name: str
    kind: str
    path: Path
    url: str
    licence: str
    version: str


def _url(path: Path) -> str:
    return f"{URL_PREFIX}/{path.relative_to(STATIC_DIR).as_posix()}"


def vendored_assets() -> list[Asset]:
    """Scripts and stylesheets every dorfkarte map needs, in load order."""
    js = LEAFLET_DIR / "leaflet.js"
    css = LEAFLET_DIR / "leaflet.css"
    lic = "BSD-2-Clause (Leaflet, LICENSE beside the file)"
    return [
        Asset("leaflet", "js", js, _url(js), lic, LEAFLET_VERSION),
        Asset("leaflet_css", "css", css, _url(css), lic, LEAFLET_VERSION),
    ]


def folium_js() -> list[tuple[str, str]]:
    """``(name, url)`` pairs for ``folium.Map.default_js`` (only Leaflet, served locally)."""
    return [(a.name, a.url) for a in vendored_assets() if a.kind == "js"]


def folium_css() -> list[tuple[str, str]]:
    """``(name, url)`` pairs for ``folium.Map.default_css``."""
    return [(a.name, a.url) for a in vendored_assets() if a.kind == "css"]


def third_party() -> list[dict[str, str]]:
    """What is vendored, with version and licence, for THIRD_PARTY / SOURCES notes."""
    return [
        {"name": "Leaflet", "version": LEAFLET_VERSION, "source": "npm leaflet",
         "licence": "BSD-2-Clause", "path": str(LEAFLET_DIR.relative_to(STATIC_DIR))},
        {"name": "Font Awesome Free (SVG icons)", "version": FONTAWESOME_VERSION,
         "source": "npm @fortawesome/fontawesome-free", "licence": "CC BY 4.0 (icons)",
         "path": str(ICON_DIR.relative_to(STATIC_DIR))},
    ]


_CSS_URL = re.compile(r"url\((['\"]?)(?!data:|#|https?:)([^)'\"]+)\1\)")


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def inline_text(asset: Asset) -> str:
    """The asset's text for inlining; relative CSS images become data URIs (missing: dropped)."""
    text = asset.path.read_text(encoding="utf-8")
    if asset.kind != "css":
        return text

    def repl(m: re.Match[str]) -> str:
        target = (asset.path.parent / m.group(2)).resolve()
        if target.is_file():
            return f"url({_data_uri(target)})"
        return "none"

    return _CSS_URL.sub(repl, text)


@cache
def icon_svg(name: str) -> str:
    """Inline SVG markup of a vendored icon (by Font Awesome name; unknown -> circle).

    Inline SVG needs no icon font and no network, and inlines into exported HTML as is.
    """
    fname = ICON_ALIASES.get(name, name)
    path = ICON_DIR / f"{fname}.svg"
    if not re.fullmatch(r"[a-z0-9-]+", fname) or not path.is_file():
        path = ICON_DIR / "circle.svg"
    svg = path.read_text(encoding="utf-8")
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.DOTALL)
    return svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1).strip()


def missing_assets() -> list[Path]:
    """Vendored files that are not on disk (a broken install); empty when all is well."""
    return [a.path for a in vendored_assets() if not a.path.is_file()]
