"""The whole Streamlit page: sidebar, headline figures, map + profile, overview, status.

``app.py`` calls :func:`main`. Panels of other modules (scenarios, listings, export, demo)
are wired in when they are installed; a panel that is not there yet shows a note, a panel
that fails shows its error in its own tab instead of taking the page down.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from dorfkarte.errors import DorfkarteError
from dorfkarte.i18n import category_label, indicator_label, mode_label, t
from dorfkarte.settings import default_data_dir
from dorfkarte.ui import data, sidebar
from dorfkarte.ui.context import UIContext
from dorfkarte.ui.mapview import SELECTED, render_map
from dorfkarte.ui.overview import ranking, render_overview
from dorfkarte.ui.profile import ensure_selection, render_profile
from dorfkarte.ui.status import render_osm_hint, render_status

#: tab key -> (module, function) of panels written in other modules.
OPTIONAL_PANELS: dict[str, tuple[str, str]] = {
    "scenario": ("dorfkarte.ui.scenario", "render_scenario_panel"),
    "listings": ("dorfkarte.ui.listings", "render_listings_panel"),
    "export": ("dorfkarte.ui.export", "render_export_panel"),
}
DEMO_PANEL = ("dorfkarte.ui.demo", "render_demo")
KEY_DEMO = "dk_demo"
KEY_TAB = "dk_tab"


def load_panel(module: str, func: str) -> Callable[[UIContext], None] | None:
    """The panel function, or None if its module is not installed (yet).

    Errors *inside* an existing module propagate: they are bugs to see, not to hide.
    """
    if importlib.util.find_spec(module) is None:
        return None
    return getattr(importlib.import_module(module), func)


def run_panel(module: str, func: str, ctx: UIContext, what: str) -> None:
    """Render an optional panel; a user-fixable error shows as one line, a bug in full."""
    try:
        panel = load_panel(module, func)
        if panel is None:
            st.info(t("status_panel_missing", ctx.lang, what=what))
            return
        panel(ctx)
    except DorfkarteError as exc:
        st.error(f"Fehler: {exc}")
    except Exception as exc:  # a broken panel must not take the map down; shown in full
        st.error(f"{what}: {type(exc).__name__}: {exc}")
        st.exception(exc)


def keep_widget_state() -> None:
    """Keep sidebar choices when their labels change (language switch).

    Streamlit forgets a keyed widget's value when the widget's label or options change;
    writing the value back through the Session State API makes it the new widget's value.
    """
    keys = [sidebar.KEY_REGION, sidebar.KEY_CATEGORY, sidebar.KEY_MODE, sidebar.KEY_INDICATOR,
            sidebar.KEY_BASEMAP, sidebar.KEY_POINTS, sidebar.KEY_WHEN, sidebar.KEY_WHEN_DAY,
            sidebar.KEY_WHEN_TIME, KEY_DEMO, SELECTED]
    keys += [k for k in st.session_state if isinstance(k, str)
             and k.startswith(sidebar.THR_PREFIX + "::")]
    for k in keys:
        if k in st.session_state:
            st.session_state[k] = st.session_state[k]


def _demo_requested() -> bool:
    q = st.query_params.get("demo")
    return str(q).lower() in {"1", "true", "ja", "yes"}


def initial_sidebar_state() -> str:
    """Folded away for ``?demo=1`` (full-width map for the audience), else open."""
    return "collapsed" if _demo_requested() else "expanded"


def headline(ctx: UIContext) -> None:
    """Figures for the current view: gap units, residents beyond threshold, services."""
    lang, res = ctx.lang, ctx.result
    cat = ctx.region.categories[ctx.category] if ctx.category else None
    if cat is None:
        return
    ind_label = indicator_label(ctx.extra.get("indicator", "share_within"), ctx.mode, lang)
    st.markdown(f"#### {category_label(cat, lang)} · {mode_label(ctx.mode, lang)} — {ind_label}")
    if res is None:
        return
    df = ranking(res, ctx.category, ctx.mode)
    if df.empty:
        return
    n_gap = int((df["gap_class"] == "Lücke").sum())
    n_knapp = int((df["gap_class"] == "knapp").sum())
    n_nodata = int((df["gap_class"] == "keine Daten").sum())
    outside = float(df["residents_outside"].sum(skipna=True))
    dests = res.destinations.get(ctx.category)
    n_dest = 0 if dests is None else len(dests)
    thr = res.thresholds.get((ctx.category, ctx.mode))
    unit = "m" if ctx.mode == "transit" else "min"
    c = st.columns(4)
    c[0].metric("Ortsteile mit Lücke" if lang == "de" else "Units with gap",
                f"{n_gap} / {len(df)}")
    c[1].metric("davon knapp" if lang == "de" else "tight", f"{n_knapp}")
    c[2].metric("Einwohner außerhalb" if lang == "de" else "Residents beyond",
                f"{outside:,.0f}".replace(",", "\u2009"),
                help=f"{t('col_threshold', lang)}: {thr:g} {unit}" if thr else None)
    c[3].metric("Einrichtungen im Datenstand" if lang == "de" else "Services in data",
                f"{n_dest}")
    if n_nodata == len(df):
        st.info(
            f"Für {category_label(cat, lang)} sind im Datenstand keine Einrichtungen: "
            "„keine Daten“, nicht „Lücke“. Mit einem OSM-Schnappschuss erscheinen sie."
            if lang == "de" else
            f"No {category_label(cat, lang)} services in the data: 'no data', not 'gap'."
        )


def main() -> None:
    """The app. Every expensive step is cached in :mod:`dorfkarte.ui.data`."""
    # ``?demo=1``: the talk starts on the full-width map, the sidebar folded away.
    st.set_page_config(page_title="dorfkarte", page_icon="🗺️", layout="wide",
                       initial_sidebar_state=initial_sidebar_state())
    keep_widget_state()
    lang = sidebar.choose_language()
    data_dir = default_data_dir()
    files = data.region_files(data_dir)
    if not files:
        st.error(f"Keine Regionsdatei gefunden (gesucht in {Path(data_dir) / 'regions'}).")
        return
    region_path = sidebar.choose_region(files, lang)
    try:
        region = data.get_region(region_path)
        snapshot = data.get_snapshot(region, data_dir)
    except DorfkarteError as exc:
        st.error(f"Fehler: {exc}")
        return

    when = None
    extra = None
    listing_error = None
    if data.listings_stored(data_dir):
        when = sidebar.choose_listings_when(lang)
        try:
            extra = data.get_listing_points(region, data_dir, when)
        except DorfkarteError as exc:
            listing_error = str(exc)

    result = None
    no_result_reason = None
    pt_choice = sidebar.choose_timetable(region, Path(data_dir), lang)
    if data.coverage_available():
        try:
            result = data.get_result(region, data_dir, snapshot, extra, when, pt_choice)
        except DorfkarteError as exc:
            no_result_reason = str(exc)
    else:
        no_result_reason = "Analysemodul (dorfkarte.coverage) nicht installiert"

    mode, category, indicator = sidebar.choose_view(region, result, lang)
    thresholds = sidebar.choose_thresholds(region, result, category, mode, lang)
    base_key = (*data.snapshot_key(region, data_dir), *data.listings_key(data_dir, when))
    shown = data.apply_thresholds(result, base_key, thresholds) if result is not None else None
    points = sidebar.choose_points(region, category, lang)
    basemap = sidebar.choose_basemap(lang)
    # default through the Session State API only (keep_widget_state writes the key back
    # on every run; a value= as well makes Streamlit warn in the server log)
    if KEY_DEMO not in st.session_state:
        st.session_state[KEY_DEMO] = _demo_requested()
    demo = st.sidebar.toggle(t("demo_mode", lang), key=KEY_DEMO)

    ctx = UIContext(
        region=region, data_dir=Path(data_dir), snapshot=snapshot, lang=lang,
        category=category, mode=mode, result=shown, demo=demo,
        extra={"indicator": indicator, "basemap": basemap, "point_categories": points,
               "thresholds": thresholds, "base_result": result, "extra_points": extra,
               "listings_when": when},
    )

    if demo:
        run_panel(*DEMO_PANEL, ctx, t("demo_mode", lang))
        return

    st.title(t("app_title", lang, region=region.name))
    if not st.get_option("server.enableStaticServing"):
        st.error(
            "Die Karte braucht die statischen Dateien der App (Leaflet): bitte im Projektordner "
            "mit `python3 -m streamlit run app.py` starten (liest `.streamlit/config.toml`) oder "
            "`--server.enableStaticServing true` angeben."
        )
    if not snapshot.has_osm:
        render_osm_hint(ctx, compact=True)
    if listing_error:
        st.error(f"Fehler: {listing_error}")
    if no_result_reason:
        st.warning(t("no_result", lang, reason=no_result_reason))

    tab_names = ["tab_map", "tab_overview", "tab_scenario", "tab_listings", "tab_export",
                 "tab_status"]
    # Lazy tabs: only the open one runs, so a slider answers with the map alone.
    containers = st.tabs([t(n, lang) for n in tab_names], key=KEY_TAB, on_change="rerun")
    tabs = dict(zip(tab_names, containers, strict=True))
    if _is_open(tabs["tab_map"]):
        with tabs["tab_map"]:
            headline(ctx)
            thr_key = tuple(sorted(thresholds.items()))
            fmap, group = data.get_map_layers(
                base_key, thr_key, snapshot, region, shown, extra, category=category, mode=mode,
                indicator=indicator, basemap=basemap, lang=lang, points=points)
            ensure_selection(ctx)
            render_map(ctx, fmap, group)
            st.divider()
            render_profile(ctx)
    if _is_open(tabs["tab_overview"]):
        with tabs["tab_overview"]:
            render_overview(ctx)
    for key, panel in (("tab_scenario", "scenario"), ("tab_listings", "listings"),
                       ("tab_export", "export")):
        if _is_open(tabs[key]):
            with tabs[key]:
                run_panel(*OPTIONAL_PANELS[panel], ctx, t(key, lang))
    if _is_open(tabs["tab_status"]):
        with tabs["tab_status"]:
            render_status(ctx)


def _is_open(tab: object) -> bool:
    """True for the selected tab (or for every tab where Streamlit cannot tell)."""
    return getattr(tab, "open", None) is not False
