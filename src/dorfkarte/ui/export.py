"""Export panel: the current map as one HTML file (offline) or PNG, the table as CSV/XLSX,
the layers as GeoPackage for QGIS.

Files are made only when a button is clicked (Streamlit calls the ``data`` callable then),
so the panel costs nothing on reruns; the callables get plain values, never session state.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import streamlit as st

from dorfkarte.ui.context import UIContext

_T: dict[str, tuple[str, str]] = {
    "head": ("Export", "Export"),
    "intro": ("Die Dateien zeigen die aktuelle Auswahl: {cat}, {mode}. Sie werden beim Klick "
              "erstellt (einige Sekunden).",
              "Files show the current selection: {cat}, {mode}. They are made when you click "
              "(a few seconds)."),
    "map": ("Karte", "Map"),
    "html_offline": ("HTML-Karte (offline, eine Datei)", "HTML map (offline, one file)"),
    "html_offline_help": ("Öffnet ohne Internet: Kartenbibliothek und Grundkarte sind in der "
                          "Datei. Zum Verschicken per E-Mail oder für den USB-Stick.",
                          "Opens without internet: map library and base map are inside the "
                          "file. For e-mail or a USB stick."),
    "html_online": ("HTML-Karte mit OSM-Kacheln", "HTML map with OSM tiles"),
    "html_online_help": ("Wie offline, aber mit OpenStreetMap-Kacheln als Hintergrund "
                         "(braucht Internet beim Öffnen).",
                         "Like offline, with OpenStreetMap tiles as background (needs "
                         "internet when opened)."),
    "png": ("Bild (PNG) für Folien", "Image (PNG) for slides"),
    "png_missing": ("PNG-Export braucht Chromium (Debian-Paket 'chromium').",
                    "PNG export needs Chromium (Debian package 'chromium')."),
    "tables": ("Tabellen und Layer", "Tables and layers"),
    "csv": ("Abdeckung als CSV", "Coverage as CSV"),
    "xlsx": ("Abdeckung als Excel (XLSX)", "Coverage as Excel (XLSX)"),
    "gpkg": ("Layer als GeoPackage (QGIS)", "Layers as GeoPackage (QGIS)"),
    "no_result": ("Tabellen brauchen eine Erreichbarkeitsanalyse; sie ist noch nicht "
                  "berechnet.", "Tables need an accessibility analysis; none yet."),
    "cli": ("Auf der Kommandozeile: `dorfkarte export-html karte.html --offline`, "
            "`dorfkarte export-report ordner/`, `dorfkarte export-png karte.png`.",
            "Command line: `dorfkarte export-html map.html --offline`, "
            "`dorfkarte export-report folder/`, `dorfkarte export-png map.png`."),
}


def tr(key: str, lang: str = "de", **fmt: object) -> str:
    de, en = _T[key]
    text = en if lang == "en" else de
    return text.format(**fmt) if fmt else text


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "karte"


def export_settings(ctx: UIContext) -> dict[str, Any]:
    """What the files show: the panel's context plus listings/scenario points if any."""
    from dorfkarte.export import default_category

    if "extra_points" in ctx.extra:  # the app's listings (filtered by its time choice)
        extra = ctx.extra["extra_points"]
    else:
        from dorfkarte.commands.export import listing_destinations

        try:
            extra = listing_destinations(ctx.region, ctx.data_dir)
        except Exception:  # a broken store must not hide the export panel
            extra = None
    return {
        "category": ctx.category or default_category(ctx.region, ctx.result),
        "mode": ctx.mode,
        "lang": ctx.lang,
        "extra_points": extra,
        # The unit selected on the map / in the profile (ui.mapview.SELECTED).
        "highlight": ctx.extra.get("highlight") or st.session_state.get("selected_unit"),
        "indicator": ctx.extra.get("indicator", "share_within"),
        "point_categories": ctx.extra.get("point_categories"),
    }


def html_maker(ctx: UIContext, settings: dict[str, Any], *, offline: bool,
               slide: bool = False) -> Callable[[], bytes]:
    """A no-argument callable building the export page (for ``st.download_button``)."""
    snapshot, region, result = ctx.snapshot, ctx.region, ctx.result

    def make() -> bytes:
        from dorfkarte.export import build_export_html

        doc, _, _ = build_export_html(snapshot, region, result, offline=offline, slide=slide,
                                      **settings)
        return doc.encode("utf-8")

    return make


def png_maker(ctx: UIContext, settings: dict[str, Any]) -> Callable[[], bytes]:
    make_html = html_maker(ctx, settings, offline=True, slide=True)

    def make() -> bytes:
        from dorfkarte.png import png_bytes

        return png_bytes(make_html().decode("utf-8"))

    return make


def report_maker(ctx: UIContext, mode: str, kind: str) -> Callable[[], bytes]:
    snapshot, region, result, lang = ctx.snapshot, ctx.region, ctx.result, ctx.lang

    def make() -> bytes:
        from dorfkarte.report import report_bytes

        return report_bytes(snapshot, region, result, mode=mode, lang=lang)[kind]

    return make


def render_export_panel(ctx: UIContext) -> None:
    """Download buttons for HTML (offline / with tiles), PNG, CSV, XLSX and GeoPackage."""
    from dorfkarte.i18n import category_label, mode_label
    from dorfkarte.png import chromium_path

    lang = ctx.lang
    settings = export_settings(ctx)
    cat = ctx.region.category(settings["category"])
    st.subheader(tr("head", lang))
    st.caption(tr("intro", lang, cat=category_label(cat, lang),
                  mode=mode_label(settings["mode"], lang)))
    base = f"dorfkarte_{_slug(ctx.region.id)}_{_slug(cat.id)}_{_slug(settings['mode'])}"

    st.markdown(f"**{tr('map', lang)}**")
    c1, c2, c3 = st.columns(3)
    c1.download_button(tr("html_offline", lang), data=html_maker(ctx, settings, offline=True),
                       file_name=f"{base}_offline.html", mime="text/html",
                       help=tr("html_offline_help", lang), on_click="ignore",
                       key="export_html_offline", type="primary")
    c2.download_button(tr("html_online", lang), data=html_maker(ctx, settings, offline=False),
                       file_name=f"{base}.html", mime="text/html",
                       help=tr("html_online_help", lang), on_click="ignore",
                       key="export_html_online")
    has_chromium = chromium_path() is not None
    c3.download_button(tr("png", lang), data=png_maker(ctx, settings),
                       file_name=f"{base}.png", mime="image/png", on_click="ignore",
                       key="export_png", disabled=not has_chromium,
                       help=None if has_chromium else tr("png_missing", lang))

    st.markdown(f"**{tr('tables', lang)}**")
    if ctx.result is None:
        st.info(tr("no_result", lang))
    mode = settings["mode"]
    modes = set(getattr(ctx.result, "modes", []) or [])
    report_mode = mode if mode in modes or not modes else "walk"
    d1, d2, d3 = st.columns(3)
    disabled = ctx.result is None
    d1.download_button(tr("csv", lang), data=report_maker(ctx, report_mode, "csv"),
                       file_name=f"dorfkarte_{_slug(ctx.region.id)}_abdeckung.csv",
                       mime="text/csv", on_click="ignore", key="export_csv",
                       disabled=disabled)
    d2.download_button(
        tr("xlsx", lang), data=report_maker(ctx, report_mode, "xlsx"),
        file_name=f"dorfkarte_{_slug(ctx.region.id)}_abdeckung.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore", key="export_xlsx", disabled=disabled)
    d3.download_button(tr("gpkg", lang), data=report_maker(ctx, report_mode, "gpkg"),
                       file_name=f"dorfkarte_{_slug(ctx.region.id)}_{report_mode}.gpkg",
                       mime="application/geopackage+sqlite3", on_click="ignore",
                       key="export_gpkg", disabled=disabled)
    st.caption(tr("cli", lang))
