"""Self-contained HTML map export: one file that works from an e-mail or a USB stick.

folium writes ``<script src>`` / ``<link href>`` tags pointing at CDNs and has no working
inline mode, so the map is rendered first and every asset reference is then replaced by the
contents of the vendored file (:mod:`dorfkarte.assets`). With ``offline=True`` nothing in the
file may point at the network: no CDN, no web tiles (the base map is drawn from the snapshot).
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dorfkarte import assets, provenance
from dorfkarte.atomic import write_text_atomic
from dorfkarte.basemap import generalise
from dorfkarte.coverage import CoverageResult
from dorfkarte.enums import GapClass, Mode
from dorfkarte.errors import DorfkarteError
from dorfkarte.i18n import category_label, has_key, mode_label, t
from dorfkarte.maps import build_map
from dorfkarte.region import Region
from dorfkarte.safe import html_escape
from dorfkarte.snapshot import Snapshot


class ExportError(DorfkarteError, RuntimeError):
    """An export cannot be written as asked (missing asset, unwritable target)."""


#: Asset URLs folium adds by default that a map does not need; dropped when not vendored.
OPTIONAL_ASSETS = (
    "bootstrap-glyphicons.css",  # Bootstrap 3 icon font, unused by our maps
    "leaflet.awesome.rotate",  # rotation helper for awesome-markers
)

_SCRIPT_SRC = re.compile(
    r"<script\b(?P<attrs>[^>]*?)\bsrc\s*=\s*(?P<q>[\"'])(?P<url>[^\"']+)(?P=q)(?P<rest>[^>]*)>"
    r"\s*</script\s*>",
    re.IGNORECASE,
)
_LINK_HREF = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"\bhref\s*=\s*([\"'])([^\"']+)\1", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*([\"']?)([^\"')]+)\1\s*\)")
_EXTERNAL_REF = re.compile(
    r"<(?:script|link|img|iframe|source|audio|video|embed)\b[^>]*?\b(?:src|href)\s*=\s*"
    r"[\"']?\s*((?:https?:)?//[^\"'\s>]+)",
    re.IGNORECASE,
)
_CSS_EXTERNAL = re.compile(
    r"(?:@import\s+(?:url\(\s*)?[\"']?|url\(\s*[\"']?)\s*((?:https?:)?//[^\"')\s]+)",
    re.IGNORECASE,
)

Resolver = Callable[[str], Path | None]


@dataclass
class HtmlExport:
    """What :func:`export_html` wrote (shown by the CLI, used by the benchmark)."""

    path: Path
    size_bytes: int
    offline: bool
    inlined: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    @property
    def size_mb(self) -> float:
        return self.size_bytes / 1_000_000


# --------------------------------------------------------------------------- inlining


def external_refs(doc: str) -> list[str]:
    """Network addresses the page would load by itself (scripts, styles, images, CSS urls).

    Plain links (``<a href>``) and attribution text are not loads and are not listed.
    """
    refs = [m.group(1) for m in _EXTERNAL_REF.finditer(doc)]
    for style in re.findall(r"<style\b[^>]*>(.*?)</style\s*>", doc, re.IGNORECASE | re.DOTALL):
        refs += [m.group(1) for m in _CSS_EXTERNAL.finditer(style)]
    return refs


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0]
    if mime is None:
        mime = {".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf",
                ".svg": "image/svg+xml"}.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _prefer_woff2(css: str) -> str:
    """Keep only the woff2 source of each ``@font-face``: every current browser reads it.

    Font Awesome lists woff2 and ttf; inlining both would double the font payload.
    """

    def fix(block: re.Match[str]) -> str:
        body = block.group(0)
        if "woff2" not in body:
            return body
        return re.sub(
            r",\s*url\([^)]*\.(?:ttf|eot|svg|woff)(?:[?#][^)]*)?\)\s*(?:format\([^)]*\))?",
            "",
            body,
        )

    return re.sub(r"@font-face\s*\{[^}]*\}", fix, css)


def inline_css(css: str, base: Path | None, *, offline: bool) -> str:
    """Replace relative ``url(...)`` in a stylesheet by data URIs of the files beside it."""
    css = _prefer_woff2(css)

    def repl(m: re.Match[str]) -> str:
        ref = m.group(2).strip()
        if ref.startswith(("data:", "#")):
            return m.group(0)
        if re.match(r"^(?:https?:)?//", ref):
            return "url()" if offline else m.group(0)
        if base is None:
            return m.group(0)
        target = (base / ref.split("?")[0].split("#")[0]).resolve()
        if target.is_file():
            return f'url("{_data_uri(target)}")'
        return "url()" if offline else m.group(0)

    return _CSS_URL.sub(repl, css)


def _script_text(code: str) -> str:
    """Script contents that cannot end the ``<script>`` element early."""
    return re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE).replace("<!--", "<\\!--")


def _style_text(css: str) -> str:
    return re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)


def _is_web(url: str) -> bool:
    return re.match(r"^(?:https?:)?//", url) is not None


def _is_optional(url: str) -> bool:
    return any(key in url for key in OPTIONAL_ASSETS)


def inline_assets(doc: str, resolve: Resolver, *, offline: bool) -> tuple[str, list[str],
                                                                          list[str]]:
    """Replace ``<script src>`` and stylesheet ``<link href>`` by the vendored files' contents.

    Returns ``(html, inlined, dropped)``. References the resolver cannot map are dropped when
    optional; otherwise they stay as they are online and raise :class:`ExportError` offline.
    """
    inlined: list[str] = []
    dropped: list[str] = []
    missing: list[str] = []

    def script(m: re.Match[str]) -> str:
        url = m.group("url")
        path = resolve(url)
        if path is not None and path.is_file():
            inlined.append(url)
            code = path.read_text(encoding="utf-8")
            return f"<script>{_script_text(code)}\n</script>"
        if _is_optional(url):
            dropped.append(url)
            return ""
        if offline or not _is_web(url):
            missing.append(url)
        return m.group(0)

    def link(m: re.Match[str]) -> str:
        tag = m.group(0)
        if not re.search(r"\brel\s*=\s*[\"']?stylesheet", tag, re.IGNORECASE):
            return tag
        href = _HREF.search(tag)
        if href is None:
            return tag
        url = href.group(2)
        path = resolve(url)
        if path is not None and path.is_file():
            inlined.append(url)
            css = inline_css(path.read_text(encoding="utf-8"), path.parent, offline=offline)
            return f"<style>{_style_text(css)}\n</style>"
        if _is_optional(url):
            dropped.append(url)
            return ""
        if offline or not _is_web(url):
            missing.append(url)
        return tag

    doc = _SCRIPT_SRC.sub(script, doc)
    doc = _LINK_HREF.sub(link, doc)
    if missing:
        raise ExportError(
            "HTML-Export: keine lokale Kopie für " + ", ".join(missing)
            + " (dorfkarte.assets kennt die Datei nicht)"
        )
    return doc, inlined, dropped


def asset_resolver() -> Resolver:
    """Map an asset address (``/app/static/...`` or a CDN URL) to the vendored file.

    Exact matches against :func:`dorfkarte.assets.vendored_assets` first, then by file name
    (folium's CDN default ``.../leaflet.js`` -> the vendored ``leaflet.js``).
    """
    known = assets.vendored_assets()
    by_url = {a.url: a.path for a in known}
    by_name: dict[str, Path] = {}
    for a in known:
        by_name.setdefault(a.path.name, a.path)
    static = assets.STATIC_DIR.resolve()

    def resolve(url: str) -> Path | None:
        clean = url.split("?")[0].split("#")[0]
        if clean in by_url:
            return by_url[clean]
        prefix = assets.URL_PREFIX.rstrip("/") + "/"
        if clean.startswith(prefix):
            cand = (static / clean[len(prefix):]).resolve()
            if cand.is_file() and cand.is_relative_to(static):
                return cand
        return by_name.get(clean.rstrip("/").rsplit("/", 1)[-1])

    return resolve


# --------------------------------------------------------------------------- page shell


def finish_document(doc: str, *, title: str, lang: str, panel: str = "") -> str:
    """Make folium's page valid HTML: scripts inside ``<body>``, a title, a language.

    folium puts the map script after ``</body>``; html5lib (and the spec) call that an error.
    """
    doc = doc.strip()
    m = re.search(r"</body\s*>(?P<tail>.*?)</html\s*>\s*$", doc, re.IGNORECASE | re.DOTALL)
    if m:
        tail = m.group("tail")
        doc = doc[: m.start()] + panel + tail + "\n</body>\n</html>\n"
    else:
        doc = re.sub(r"</body\s*>", lambda _m: panel + "</body>", doc, count=1,
                     flags=re.IGNORECASE)
    doc = re.sub(r"<html\b[^>]*>", f'<html lang="{html_escape(lang)}">', doc, count=1,
                 flags=re.IGNORECASE)
    doc = re.sub(
        r"<head\b[^>]*>",
        lambda _m: f'<head>\n<meta charset="utf-8">\n<title>{html_escape(title)}</title>',
        doc,
        count=1,
        flags=re.IGNORECASE,
    )
    # The charset meta folium writes duplicates ours.
    doc = re.sub(r"\s*<meta http-equiv=\"content-type\"[^>]*>", "", doc, flags=re.IGNORECASE)
    return doc


@dataclass
class Source:
    what: str
    source: str
    licence: str = ""
    date: str = ""


def layer_label(name: str, lang: str = "de") -> str:
    """Snapshot layer name for the sources box (``i18n`` key ``src_<layer>``)."""
    if name.startswith(("nodes_", "edges_")):
        return t("src_network", lang)
    key = f"src_{name}"
    return t(key, lang) if has_key(key) else name


def collect_sources(snapshot: Snapshot, region: Region, category: str | None,
                    mode: str, lang: str = "de") -> list[Source]:
    """Where the map's data comes from: one entry per source, naming all its layers."""
    groups: dict[tuple[str, str], list[Any]] = {}
    for name, info in snapshot.info.items():
        if info.source:
            groups.setdefault((info.source, info.licence), []).append((name, info))
    out: list[Source] = []
    for (source, licence), items in groups.items():
        labels = list(dict.fromkeys(layer_label(n, lang) for n, _ in items))
        dates = [i.fetched_at[:10] for _, i in items if i.fetched_at and not i.embedded]
        out.append(Source(", ".join(labels), source, licence, max(dates) if dates else ""))
    if category is not None and category in region.categories:
        th = region.threshold(category, mode)
        if th.source:
            out.append(Source("threshold", th.source))
    return out


def timetable_sources(result: CoverageResult | None, mode: str,
                      lang: str = "de") -> list[Source]:
    """Mode pt: the timetable the times come from, with its validity (it may be years old)."""
    run = getattr(result, "pt", None)
    if mode != Mode.PT or run is None or getattr(run, "timetable", None) is None:
        return []
    info = run.timetable.info
    valid = (f"{info.valid_from or '?'} – {info.valid_to or '?'}"
             if info.valid_from or info.valid_to else "")
    day = getattr(getattr(run, "query", None), "day", None)
    what = info.caption(lang) + (f" ({t('export_tt_day', lang)} {day.isoformat()})"
                                 if day is not None else "")
    return [Source(what, info.attribution or info.source, info.licence, valid)]


def listing_sources(extra_points: Any, lang: str = "de") -> list[Source]:
    """Sources of the listings shown (e.g. the Smart Village App with its data providers)."""
    if extra_points is None or not len(extra_points) or "listing_source" not in extra_points:
        return []
    out: list[Source] = []
    what = layer_label("listings", lang)
    provs = extra_points.get("provider")
    for src in dict.fromkeys(str(s) for s in extra_points["listing_source"] if str(s)):
        if not src.startswith("Smart Village App"):
            continue
        names = [] if provs is None else sorted(
            {str(p) for p, s in zip(provs, extra_points["listing_source"], strict=True)
             if str(s) == src and str(p)})
        label = t("export_data_providers", lang)
        text = src + (f" ({label}: {', '.join(names[:8])}{' …' if len(names) > 8 else ''})"
                      if names else "")
        out.append(Source(what, text))
    return out


def data_date(snapshot: Snapshot) -> str:
    """Date of the stored data itself (extract timestamp, Overpass ``osm_base``).

    Empty when unknown (the import date is not the data's date: see :func:`import_date`)
    and with embedded data only: embedded layers carry file dates of the installation,
    which are not a data date; their sources are listed one by one in the sources box.
    """
    dates = [i.data_date for i in snapshot.info.values() if i.data_date and not i.embedded]
    return max(dates)[:10] if dates else ""


def import_date(snapshot: Snapshot) -> str:
    """When the stored layers were imported or fetched (ISO date); "" without a snapshot."""
    dates = [i.fetched_at for i in snapshot.info.values() if i.fetched_at and not i.embedded]
    return max(dates)[:10] if dates else ""


def default_category(region: Region, result: CoverageResult) -> str:
    """The category a map without an explicit choice shows: the first one with data.

    Without an OSM snapshot only the stops have data; a map of "Lebensmittel: keine Daten"
    would be a grey map.
    """
    ind = getattr(result, "indicators", None)
    if ind is not None and len(ind) and "gap_class" in ind:
        with_data = set(ind.loc[ind["gap_class"] != GapClass.NO_DATA, "category"])
        for cid in region.categories:
            if cid in with_data:
                return cid
    return next(iter(region.categories))


def map_title(region: Region, category: str | None, mode: str, lang: str = "de") -> str:
    title = t("export_title", lang, region=region.name)
    if category is not None and category in region.categories:
        label = category_label(region.categories[category], lang)
        title = t("export_cat", lang, label=label, mode=mode_label(mode, lang)) + " – " \
            + region.name
    return title


def info_panel(snapshot: Snapshot, region: Region, *, title: str, category: str | None,
               mode: str, offline: bool, lang: str = "de", exported: str | None = None,
               large: bool = False, flags: list[str] | None = None,
               slide: bool = False, extra_points: Any = None,
               result: CoverageResult | None = None) -> str:
    """Title bar and a fold-out sources box; every text from data is escaped.

    ``large`` scales the title, popups and legend up for a projector (demo mode).
    ``flags`` ("enthält Beispieldaten", "nur lokale Angebote, OSM fehlt") are said under the
    title and in the sources box. ``slide`` (PNG): no buttons, the whole legend.
    """
    e = html_escape
    exported = exported or datetime.now(UTC).strftime("%Y-%m-%d")
    stand = data_date(snapshot)
    items = []
    for s in [*collect_sources(snapshot, region, category, mode, lang),
              *timetable_sources(result, mode, lang),
              *listing_sources(extra_points, lang)]:
        what = t("export_threshold", lang) if s.what == "threshold" else s.what
        bits = [f"<b>{e(what)}</b>: {e(s.source)}"]
        if s.licence:
            bits.append(f"({e(s.licence)})")
        if s.date:
            bits.append(f"– {e(s.date)}")
        items.append("<li>" + " ".join(bits) + "</li>")
    notes = []
    dist = snapshot.get("districts")
    if dist is not None and "approx" in dist and bool(dist["approx"].astype(bool).any()):
        notes.append(f"<p>{e(t('export_approx', lang))}</p>")
    if offline:
        notes.append(f"<p>{e(t('export_offline', lang))}</p>")
    for f in flags or []:
        notes.append(f'<p class="dk-flag">{e(f[:1].upper() + f[1:])}.</p>')
    dates = f"{e(t('export_export', lang))}: {e(exported)}"
    imported = import_date(snapshot)
    if imported:
        dates = f"{e(t('export_imported', lang))}: {e(imported)} · " + dates
    shown = stand or (t("export_unknown", lang) if imported else t("export_embedded", lang))
    dates = f"{e(t('export_stand', lang))}: {e(shown)} · " + dates
    flag_line = (f'<div class="dk-flag">{e("; ".join(flags))}</div>' if flags else "")
    return f"""
<div id="dk-export-title" class="dk-panel">
  <h1>{e(title)}</h1>
  {flag_line}
  <div class="dk-dates">{dates}</div>
</div>
<details id="dk-export-sources" class="dk-panel">
  <summary>{e(t('export_sources', lang))}</summary>
  <ul>{''.join(items)}</ul>
  {''.join(notes)}
  <p>{e(t('export_osm', lang))} · {e(t('export_made', lang))}</p>
</details>
<style>
  .dk-panel {{ position: absolute; z-index: 1000; background: rgba(255,255,255,.92);
    font-family: system-ui, sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,.3);
    border-radius: 4px; }}
  #dk-export-title {{ top: 10px; left: 50%; transform: translateX(-50%); padding: 4px 12px;
    text-align: center; max-width: 60%; }}
  #dk-export-title h1 {{ font-size: 17px; margin: 0; }}
  #dk-export-title .dk-dates {{ font-size: 12px; color: #444; }}
  #dk-export-sources {{ bottom: 52px; left: 10px; max-width: 420px; max-height: 45%; overflow: auto;
    font-size: 12px; padding: 4px 8px; }}
  #dk-export-sources summary {{ cursor: pointer; font-weight: bold; }}
  #dk-export-sources ul {{ padding-left: 16px; margin: 4px 0; }}
  #dk-export-sources p {{ margin: 4px 0; }}
  .dk-panel .dk-flag {{ color: #7a1f00; font-weight: 600; font-size: 13px; }}
</style>
{LARGE_CSS if large else ""}{SLIDE_CSS if slide else ""}"""


#: Projector sizes for the demo: title, popups, tooltips, legend and controls.
LARGE_CSS = """
<style>
  #dk-export-title { max-width: 60%; }
  #dk-export-title h1 { font-size: 21px; }
  #dk-export-title .dk-dates { font-size: 13px; }
  #dk-export-sources { font-size: 14px; }
  .leaflet-container { font-size: 16px; }
  .leaflet-popup-content, .leaflet-tooltip { font-size: 16px; }
  .leaflet-control-attribution { font-size: 12px; }
  .leaflet-control, .legend, .dk-legend { font-size: 16px; }
</style>
"""


#: A picture for slides (PNG): buttons do nothing there, the legend is shown whole (no
#: scrolling; "Ortsteilflächen sind Näherungen" is its last line); scale bar, attribution,
#: title and date stay.
SLIDE_CSS = """
<style>
  .leaflet-control-zoom, .leaflet-control-layers { display: none !important; }
  .dk-legend { max-height: none !important; overflow: visible !important; }
  .dk-legend summary { list-style: none; }
  .dk-legend summary::-webkit-details-marker { display: none; }
</style>
"""


# --------------------------------------------------------------------------- export


def render_map_html(fmap: Any, *, title: str, lang: str, offline: bool, panel: str = "",
                    resolve: Resolver | None = None) -> tuple[str, list[str], list[str]]:
    """folium map -> one self-contained page (assets inlined, valid HTML)."""
    doc = fmap.get_root().render()
    doc, inlined, dropped = inline_assets(doc, resolve or asset_resolver(), offline=offline)
    doc = finish_document(doc, title=title, lang=lang, panel=panel)
    if offline:
        refs = external_refs(doc)
        if refs:
            raise ExportError("Offline-Export lädt noch aus dem Netz: " + ", ".join(refs[:5]))
    return doc, inlined, dropped




def build_export_html(snapshot: Snapshot, region: Region, result: CoverageResult | None = None, *,
                      category: str | None = None, mode: str = "walk", offline: bool = False,
                      lang: str = "de", extra_points: Any = None, highlight: str | None = None,
                      indicator: str = "share_within", large: bool = False,
                      point_categories: Any = None, slide: bool = False,
                      resolve: Resolver | None = None) -> tuple[str, list[str], list[str]]:
    """The export page as a string (for the app's download button).

    ``slide``: the page a PNG is taken of (no zoom/layer buttons, whole legend, sources
    box open).
    """
    if category is not None:
        region.category(category)  # unknown id -> one-line error
    else:
        category = default_category(region, result)
    # The file gets a reduced base map: bounded size and drawing time whatever the snapshot.
    snapshot = generalise(snapshot, region).snapshot
    fmap = build_map(
        snapshot, region, result, category=category, mode=mode, indicator=indicator,
        basemap="own" if offline else "osm", offline=offline, lang=lang,
        extra_points=extra_points, highlight=highlight, point_categories=point_categories,
    )
    flags = provenance.flags(result, extra_points, category, lang)
    title = map_title(region, category, mode, lang)
    # the page title (tab, file list) carries the flags; the title bar says them on its
    # own line below the title
    doc_title = f"{title} ({'; '.join(flags)})" if flags else title
    panel = info_panel(snapshot, region, title=title, category=category, mode=mode,
                       offline=offline, lang=lang, large=large, flags=flags, slide=slide,
                       extra_points=extra_points, result=result)
    if slide:
        panel = panel.replace('<details id="dk-export-sources"',
                              '<details open id="dk-export-sources"', 1)
    return render_map_html(fmap, title=doc_title, lang=lang, offline=offline, panel=panel,
                           resolve=resolve)


def export_html(snapshot: Snapshot, region: Region, out: str | Path,
                result: CoverageResult | None = None, *, category: str | None = None,
                mode: str = "walk", offline: bool = False,
                lang: str = "de", extra_points: Any = None, highlight: str | None = None,
                indicator: str = "share_within", slide: bool = False) -> HtmlExport:
    """Write the map as one HTML file; ``offline`` means no network access at all."""
    doc, inlined, dropped = build_export_html(
        snapshot, region, result, category=category, mode=mode, offline=offline, lang=lang,
        extra_points=extra_points, highlight=highlight, indicator=indicator, slide=slide,
    )
    try:
        path = write_text_atomic(out, doc)
    except OSError as exc:
        raise ExportError(f"Kann {out} nicht schreiben: {exc.strerror or exc}") from None
    return HtmlExport(path=path, size_bytes=path.stat().st_size, offline=offline,
                      inlined=inlined, dropped=dropped)
