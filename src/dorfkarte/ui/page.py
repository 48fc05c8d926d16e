"""The whole Streamlit page: sidebar, headline figures, map + profile, overview, tabs.

``app.py`` calls :func:`main`. The page chooses (sidebar), asks (the
:class:`~dorfkarte.workspace.Workspace` for data and results, :mod:`dorfkarte.views` for
figures) and renders; a panel that fails shows its error in its own tab instead of taking
the page down.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import streamlit as st

from dorfkarte import fmt, views
from dorfkarte.coverage import CoverageResult
from dorfkarte.enums import Mode
from dorfkarte.errors import DorfkarteError
from dorfkarte.i18n import category_label, indicator_label, mode_label, t
from dorfkarte.listings.schedule import When
from dorfkarte.settings import default_data_dir
from dorfkarte.ui import data, sidebar, state
from dorfkarte.ui.context import UIContext, ViewChoice
from dorfkarte.ui.datapanel import render_data_panel
from dorfkarte.ui.demo import render_demo
from dorfkarte.ui.export import render_export_panel
from dorfkarte.ui.listings import render_listings_panel
from dorfkarte.ui.mapview import render_map
from dorfkarte.ui.overview import render_overview
from dorfkarte.ui.profile import ensure_selection, render_profile, render_providers
from dorfkarte.ui.scenario import render_scenario_panel, restore_pending
from dorfkarte.ui.state import KEY_DEMO, KEY_TAB, UNIT_CHANGED
from dorfkarte.ui.status import render_osm_hint, render_status
from dorfkarte.workspace import Workspace, when_key

__all__ = ["KEY_DEMO", "KEY_TAB", "headline", "initial_sidebar_state", "main", "map_tab",
           "shown_result", "with_thresholds"]


def run_panel(panel: Callable[[UIContext], None], ctx: UIContext, what: str) -> None:
    """Render a panel; a user-fixable error shows as one line, a bug in full."""
    try:
        panel(ctx)
    except DorfkarteError as exc:
        st.error(t("error", ctx.lang, msg=exc))
    except Exception as exc:  # a broken panel must not take the map down; shown in full
        st.error(f"{what}: {type(exc).__name__}: {exc}")
        st.exception(exc)


def keep_widget_state() -> None:
    """Keep sidebar choices when their labels change (language switch).

    Streamlit forgets a keyed widget's value when the widget's label or options change;
    writing the value back through the Session State API makes it the new widget's value.
    """
    keys = list(state.KEPT_WIDGETS)
    keys += [k for k in st.session_state if isinstance(k, str)
             and k.startswith(state.THR_PREFIX + "::")]
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
    """Figures for the current view (:func:`dorfkarte.views.headline_figures`)."""
    lang, res = ctx.lang, ctx.result
    cat = ctx.region.categories[ctx.category] if ctx.category else None
    if cat is None:
        return
    ind_label = indicator_label(ctx.view.indicator, ctx.mode, lang)
    st.markdown(f"#### {category_label(cat, lang)} · {mode_label(ctx.mode, lang)} — {ind_label}")
    if res is None or (ctx.category, ctx.mode) not in res.times:
        return
    fig = views.headline_figures(res, ctx.category, ctx.mode, lang)
    if not fig.n_units:
        return
    if fig.flags:
        st.warning(" · ".join(f[:1].upper() + f[1:] for f in fig.flags))
    c = st.columns(4)
    c[0].metric(t("hl_gap_units", lang), f"{fmt.integer(fig.n_gap, lang)} / "
                                         f"{fmt.integer(fig.n_units, lang)}")
    c[1].metric(t("hl_tight", lang), fmt.integer(fig.n_tight, lang))
    outside = (t("unknown", lang) if fig.residents_outside != fig.residents_outside
               else fmt.integer(fig.residents_outside, lang))
    if fig.n_unknown_residents and fig.residents_outside == fig.residents_outside:
        outside = f"≥ {outside}"
    help_parts = []
    if fig.threshold:
        help_parts.append(f"{t('col_threshold', lang)}: "
                          f"{fmt.threshold(fig.threshold, fig.unit, lang)}")
    if fig.n_unknown_residents:
        help_parts.append(t("hl_unknown_residents", lang, n=fig.n_unknown_residents))
    c[2].metric(t("hl_outside", lang), outside, help=" · ".join(help_parts) or None)
    c[3].metric(t("hl_services", lang), fmt.integer(fig.n_services, lang))
    if fig.worst is not None and (fig.n_gap or fig.n_tight):
        st.caption(t("hl_worst", lang, name=fig.worst))
    if fig.all_no_data:
        st.info(t("hl_all_no_data", lang, cat=category_label(cat, lang)))


def main() -> None:
    """The app. The workspace (cached in :mod:`dorfkarte.ui.data`) answers; this renders."""
    # ``?demo=1``: the talk starts on the full-width map, the sidebar folded away.
    st.set_page_config(page_title="dorfkarte", page_icon="🗺️", layout="wide",
                       initial_sidebar_state=initial_sidebar_state())
    restore_pending()  # a loaded scenario's category/mode/name, before the widgets
    keep_widget_state()
    lang = sidebar.choose_language()
    data_dir = default_data_dir()
    files = data.region_files(data_dir)
    if not files:
        st.error(t("no_region_file", lang, where=Path(data_dir) / "regions"))
        return
    region_path = sidebar.choose_region(files, lang)
    try:
        with st.spinner(t("loading_data", lang)):
            ws = data.get_workspace(region_path, data_dir)
            region, snapshot = ws.region, ws.snapshot
    except DorfkarteError as exc:
        st.error(t("error", lang, msg=exc))
        return

    when = None
    listing_error = None
    if ws.has_listings:
        when = sidebar.choose_listings_when(lang)
        try:
            ws.listing_points(when)
        except DorfkarteError as exc:
            listing_error = str(exc)

    result = None
    no_result_reason = None
    pt_choice = sidebar.choose_timetable(ws, lang)
    try:
        with st.spinner(t("computing", lang)):
            result = ws.result(when=when, listings=listing_error is None, pt=pt_choice)
    except DorfkarteError as exc:
        no_result_reason = str(exc)

    mode, category, indicator = sidebar.choose_view(region, result, lang)
    if mode == Mode.PT and pt_choice is not None:
        sidebar.render_timetable_widgets(ws, lang)
    # the sliders themselves stand above the map (map_tab) and the overview (render_overview)
    thresholds = sidebar.threshold_values(result, mode)
    group = sidebar.choose_group(result, lang)  # the slider step keeps the origins
    shown = (shown_result(ws, when=when, thresholds=thresholds,
                          listings=listing_error is None, pt=pt_choice, group=group)
             if result is not None else None)
    points = sidebar.choose_points(region, category, lang)
    basemap = sidebar.choose_basemap(lang, "osm" if snapshot.has_osm else "own")
    # default through the Session State API only (keep_widget_state writes the key back
    # on every run; a value= as well makes Streamlit warn in the server log)
    if KEY_DEMO not in st.session_state:
        st.session_state[KEY_DEMO] = _demo_requested()
    demo = st.sidebar.toggle(t("demo_mode", lang), key=KEY_DEMO)

    ctx = UIContext(
        region=region, data_dir=Path(data_dir), snapshot=snapshot, lang=lang,
        category=category, mode=mode, result=shown, demo=demo, workspace=ws,
        base_result=result,
        view=ViewChoice(indicator=indicator, basemap=basemap, point_categories=points,
                        thresholds=thresholds, listings_when=when),
    )

    if demo:
        run_panel(render_demo, ctx, t("demo_mode", lang))
        return

    st.title(t("app_title", lang, region=region.name))
    if not st.get_option("server.enableStaticServing"):
        st.error(t("static_serving", lang))
    if not snapshot.has_osm:
        render_osm_hint(ctx, compact=True)
    if listing_error:
        st.error(t("error", lang, msg=listing_error))
    if no_result_reason:
        st.warning(t("no_result", lang, reason=no_result_reason))

    tab_names = ["tab_map", "tab_overview", "tab_scenario", "tab_listings", "tab_export",
                 "tab_data", "tab_status"]
    # Lazy tabs: only the open one runs, so a slider answers with the map alone.
    containers = st.tabs([t(n, lang) for n in tab_names], key=KEY_TAB, on_change="rerun")
    tabs = dict(zip(tab_names, containers, strict=True))
    if _is_open(tabs["tab_map"]):
        with tabs["tab_map"]:
            map_tab(ctx, group, listing_error is None, pt_choice)
            render_providers(ctx)  # threshold-independent: outside the fragment
    panels: dict[str, Callable[[UIContext], None]] = {
        "tab_overview": render_overview, "tab_scenario": render_scenario_panel,
        "tab_listings": render_listings_panel, "tab_export": render_export_panel,
        "tab_data": render_data_panel, "tab_status": render_status,
    }
    for key, panel in panels.items():
        if _is_open(tabs[key]):
            with tabs[key]:
                run_panel(panel, ctx, t(key, lang))


PTChoice = tuple[str | None, str | None, str | None] | None


def shown_result(ws: Workspace, *, when: When, thresholds: dict[tuple[str, str], float],
                 listings: bool, pt: PTChoice, group: str) -> CoverageResult:
    """The result the page shows: the workspace's threshold step (no new analysis), then
    the chosen residents' group (same times, other weights)."""
    shown = ws.result(when=when, thresholds=thresholds, listings=listings, pt=pt)
    return shown.for_group(group) if group != "all" else shown


def with_thresholds(ctx: UIContext, thresholds: dict[tuple[str, str], float], group: str,
                    listings: bool, pt: PTChoice) -> UIContext:
    """``ctx`` with other slider values (:func:`shown_result`); ``ctx`` itself when
    nothing changed."""
    if ctx.base_result is None or thresholds == ctx.view.thresholds:
        return ctx
    shown = shown_result(ctx.ws, when=ctx.view.listings_when, thresholds=thresholds,
                         listings=listings, pt=pt, group=group)
    return replace(ctx, result=shown, view=replace(ctx.view, thresholds=thresholds))


@st.fragment
def map_tab(ctx: UIContext, group: str, listings: bool, pt: PTChoice) -> None:
    """Threshold sliders, headline, map and profile: what a slider changes.

    A fragment: a slider (or the profile's unit box) reruns this tab only, with the
    ``ctx`` of the last full run; the sidebar and the page above it are neither rebuilt
    nor sent to the browser again, which then has the map's update alone to draw. A map
    click, another unit in the profile's box and every sidebar choice rerun the whole page
    (the providers and connections below the fragment belong to the unit).
    """
    if st.session_state.pop(UNIT_CHANGED, False):
        st.rerun()
    thresholds = sidebar.choose_thresholds(ctx.region, ctx.base_result, ctx.category or "",
                                           ctx.mode, ctx.lang)
    ctx = with_thresholds(ctx, thresholds, group, listings, pt)
    # The headline stands above the map but is filled after it: the map is what a slider
    # step answers, so it is sent first (the figures follow a moment later).
    headline_slot = st.container()
    ws, view = ctx.ws, ctx.view
    base_key = (ws.fingerprint, when_key(view.listings_when), listings)
    thr_key = tuple(sorted(view.thresholds.items()))
    fmap, layer = data.get_map_layers(
        base_key, thr_key, ws, ctx.result, ctx.extra_points if listings else None,
        category=ctx.category or "", mode=ctx.mode, indicator=view.indicator,
        basemap=view.basemap, lang=ctx.lang, points=view.point_categories)
    ensure_selection(ctx)
    render_map(ctx, fmap, layer)
    with headline_slot:
        headline(ctx)
    st.divider()
    render_profile(ctx)


def _is_open(tab: object) -> bool:
    """True for the selected tab (or for every tab where Streamlit cannot tell)."""
    return getattr(tab, "open", None) is not False
