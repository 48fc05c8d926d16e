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

from dorfkarte.export import build_export_html, default_category
from dorfkarte.i18n import category_label, mode_label, t
from dorfkarte.png import chromium_path, png_bytes
from dorfkarte.report import report_bytes
from dorfkarte.ui.context import UIContext
from dorfkarte.ui.state import SELECTED


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "karte"


def export_settings(ctx: UIContext) -> dict[str, Any]:
    """What the files show: the current view, with the listings it counts."""
    extra = ctx.extra_points  # None for an unreadable store: it must not hide the panel
    return {
        "category": ctx.category or default_category(ctx.region, ctx.result),
        "mode": ctx.mode,
        "lang": ctx.lang,
        "extra_points": extra,
        # The unit selected on the map / in the profile (ui.mapview.SELECTED).
        "highlight": ctx.view.highlight or st.session_state.get(SELECTED),
        "indicator": ctx.view.indicator,
        "point_categories": list(ctx.view.point_categories) or None,
    }


def html_maker(ctx: UIContext, settings: dict[str, Any], *, offline: bool,
               slide: bool = False) -> Callable[[], bytes]:
    """A no-argument callable building the export page (for ``st.download_button``)."""
    snapshot, region, result = ctx.snapshot, ctx.region, ctx.result

    def make() -> bytes:
        doc, _, _ = build_export_html(snapshot, region, result, offline=offline, slide=slide,
                                      **settings)
        return doc.encode("utf-8")

    return make


def png_maker(ctx: UIContext, settings: dict[str, Any]) -> Callable[[], bytes]:
    make_html = html_maker(ctx, settings, offline=True, slide=True)

    def make() -> bytes:
        return png_bytes(make_html().decode("utf-8"))

    return make


def report_maker(ctx: UIContext, mode: str, kind: str) -> Callable[[], bytes]:
    snapshot, region, result, lang = ctx.snapshot, ctx.region, ctx.result, ctx.lang

    def make() -> bytes:
        return report_bytes(snapshot, region, result, mode=mode, lang=lang)[kind]

    return make


def render_export_panel(ctx: UIContext) -> None:
    """Download buttons for HTML (offline / with tiles), PNG, CSV, XLSX and GeoPackage."""
    lang = ctx.lang
    settings = export_settings(ctx)
    cat = ctx.region.category(settings["category"])
    st.subheader(t("exp_head", lang))
    st.caption(t("exp_intro", lang, cat=category_label(cat, lang),
                  mode=mode_label(settings["mode"], lang)))
    base = f"dorfkarte_{_slug(ctx.region.id)}_{_slug(cat.id)}_{_slug(settings['mode'])}"

    st.markdown(f"**{t('exp_map', lang)}**")
    c1, c2, c3 = st.columns(3)
    c1.download_button(t("exp_html_offline", lang), data=html_maker(ctx, settings, offline=True),
                       file_name=f"{base}_offline.html", mime="text/html",
                       help=t("exp_html_offline_help", lang), on_click="ignore",
                       key="export_html_offline", type="primary")
    c2.download_button(t("exp_html_online", lang), data=html_maker(ctx, settings, offline=False),
                       file_name=f"{base}.html", mime="text/html",
                       help=t("exp_html_online_help", lang), on_click="ignore",
                       key="export_html_online")
    has_chromium = chromium_path() is not None
    c3.download_button(t("exp_png", lang), data=png_maker(ctx, settings),
                       file_name=f"{base}.png", mime="image/png", on_click="ignore",
                       key="export_png", disabled=not has_chromium,
                       help=None if has_chromium else t("exp_png_missing", lang))

    st.markdown(f"**{t('exp_tables', lang)}**")
    if ctx.result is None:
        st.info(t("exp_no_result", lang))
    mode = settings["mode"]
    modes = set(getattr(ctx.result, "modes", []) or [])
    report_mode = mode if mode in modes or not modes else "walk"
    d1, d2, d3 = st.columns(3)
    disabled = ctx.result is None
    d1.download_button(t("exp_csv", lang), data=report_maker(ctx, report_mode, "csv"),
                       file_name=f"dorfkarte_{_slug(ctx.region.id)}_abdeckung.csv",
                       mime="text/csv", on_click="ignore", key="export_csv",
                       disabled=disabled)
    d2.download_button(
        t("exp_xlsx", lang), data=report_maker(ctx, report_mode, "xlsx"),
        file_name=f"dorfkarte_{_slug(ctx.region.id)}_abdeckung.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore", key="export_xlsx", disabled=disabled)
    d3.download_button(t("exp_gpkg", lang), data=report_maker(ctx, report_mode, "gpkg"),
                       file_name=f"dorfkarte_{_slug(ctx.region.id)}_{report_mode}.gpkg",
                       mime="application/geopackage+sqlite3", on_click="ignore",
                       key="export_gpkg", disabled=disabled)
    st.caption(t("exp_cli", lang))
