"""Conference demo mode: renders the guided story of :mod:`dorfkarte.story`.

Overview -> one category's gaps -> one Ortsteil's profile -> a what-if scenario, on one
full-width map in large type. What the story says (which Ortsteil, which scenario, every
figure) is computed in :mod:`dorfkarte.story` and :mod:`dorfkarte.views`; this module only
lays it out. The map is the self-contained offline export (Leaflet inlined, base map from
the data) in an iframe, so it works on a laptop without Wi-Fi and without Streamlit's static
serving.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from dorfkarte import fmt, provenance, story
from dorfkarte.coverage import CoverageResult
from dorfkarte.export import build_export_html
from dorfkarte.i18n import category_label, join_list, mode_label, t
from dorfkarte.region import TRANSIT
from dorfkarte.ui.context import UIContext
from dorfkarte.ui.state import DEMO_CACHE as CACHE_KEY
from dorfkarte.ui.state import DEMO_STEP as STEP_KEY

__all__ = ["CACHE_KEY", "STEP_KEY", "demo_map_html", "render_demo", "run_closure",
           "run_scenario"]

MAP_HEIGHT = 680

#: Large type for a projector; static CSS, no data in it.
DEMO_CSS = """
<style>
  /* below Streamlit's header (3.75rem): the back/next buttons stay whole and clickable
     with the sidebar folded */
  .block-container { max-width: 100% !important; padding-top: 4.5rem; padding-left: 1.5rem;
    padding-right: 1.5rem; }
  /* button labels never cut off (sidebar open: narrower columns) */
  .stButton button { white-space: nowrap; min-width: max-content; }
  .stButton button p { white-space: nowrap; }
  .block-container p, .block-container li, .block-container label { font-size: 1.35rem; }
  .block-container h1 { font-size: 2.6rem; }
  .block-container h2 { font-size: 2.1rem; }
  .block-container h3 { font-size: 1.7rem; }
  div[data-testid="stMetricValue"] { font-size: 2.6rem; }
  div[data-testid="stMetricLabel"] p { font-size: 1.2rem; }
  .stButton button { font-size: 1.3rem; padding: 0.4rem 1.4rem; }
  .block-container table td, .block-container table th { font-size: 1.2rem; }
</style>
"""


def _cat(ctx: UIContext, cid: str) -> str:
    return category_label(ctx.region.category(cid), ctx.lang)


def _cached(key: tuple, make):  # noqa: ANN001, ANN202 - a tiny per-session memo
    cache = st.session_state.setdefault(CACHE_KEY, {})
    if key not in cache:
        cache[key] = make()
    return cache[key]


def demo_result(ctx: UIContext) -> CoverageResult:
    """The coverage result: the app's, else the workspace's full analysis."""
    if ctx.result is not None:
        return ctx.result
    with st.spinner(t("computing", ctx.lang)):
        return ctx.ws.result()


def run_scenario(ctx: UIContext, result: CoverageResult, cid: str, mode: str,
                 name: str) -> story.AddScenario:
    """:func:`dorfkarte.story.run_scenario` for this page's region and language."""
    return story.run_scenario(result, ctx.region, cid, mode, name, ctx.lang)


def run_closure(ctx: UIContext, result: CoverageResult, cid: str, mode: str,
                name: str) -> story.Closure | None:
    """:func:`dorfkarte.story.run_closure` on this page's snapshot."""
    return story.run_closure(result, ctx.snapshot, ctx.region, cid, mode, name, ctx.lang)


# --------------------------------------------------------------------------- map


def demo_map_html(ctx: UIContext, spec: story.StepMap) -> str:
    """Offline export page of one step's map, cached per step settings (renders take ~1 s).

    ``spec`` comes with the step (:class:`dorfkarte.story.StepMap`): the map shows the
    result, view and unit the step's text speaks of.
    """
    snap = spec.snapshot if spec.snapshot is not None else ctx.snapshot
    key = ("map", spec.category, spec.mode, spec.highlight, id(spec.result),
           spec.extra_points is not None, spec.indicator, spec.tag, ctx.lang)
    return _cached(key, lambda: build_export_html(
        snap, ctx.region, spec.result, category=spec.category, mode=spec.mode, offline=True,
        lang=ctx.lang, extra_points=spec.extra_points, highlight=spec.highlight, large=True,
        indicator=spec.indicator)[0])


def show_map(doc: str) -> None:
    """Our own export page (every data string escaped) in an iframe: no server assets."""
    if hasattr(st, "iframe"):
        st.iframe(doc, height=MAP_HEIGHT)
    else:  # Streamlit before st.iframe
        components.html(doc, height=MAP_HEIGHT, scrolling=False)


# --------------------------------------------------------------------------- steps


def _nav(lang: str, step: int, n: int) -> None:
    cols = st.columns([1.6, 1.6, 6.8], gap="small")
    if cols[0].button(t("demo_back", lang), disabled=step == 0, key="demo_back"):
        st.session_state[STEP_KEY] = step - 1
        st.rerun()
    if step < n - 1:
        if cols[1].button(t("demo_next", lang), type="primary", key="demo_next"):
            st.session_state[STEP_KEY] = step + 1
            st.rerun()
    elif cols[1].button(t("demo_restart", lang), key="demo_restart"):
        st.session_state[STEP_KEY] = 0
        st.rerun()
    names = t("demo_steps", lang).split("|")
    cols[2].markdown(
        " → ".join(f"**{s}**" if i == step else s for i, s in enumerate(names))
        + f"  \n{t('demo_step', lang, i=step + 1, n=n)}"
    )


def _overview(ctx: UIContext, result: CoverageResult) -> None:
    lang = ctx.lang
    ov = story.overview(result, ctx.mode)
    st.header(t("demo_overview_head", lang, n=ov.n_units))
    st.write(t("demo_overview_text", lang, units=ov.units_text(lang)))
    c = st.columns(4)
    c[0].metric(t("demo_m_units", lang), fmt.integer(ov.n_units, lang))
    miss = ov.population_missing
    c[1].metric(t("demo_m_pop_known" if miss else "demo_m_pop", lang),
                fmt.integer(ov.population, lang),
                help=t("demo_pop_missing", lang, names=join_list(miss, lang)) if miss else None)
    c[2].metric(t("demo_m_gaps", lang, mode=mode_label(ov.mode, lang)),
                fmt.integer(ov.n_gaps, lang))
    c[3].metric(t("demo_m_services", lang), fmt.integer(ov.n_services, lang))
    if not ctx.snapshot.has_osm:
        cited = ctx.region.transit.source.split(",")[0].strip() or "GTFS"
        st.caption(t("demo_no_data_note", lang, source=cited))
    show_map(demo_map_html(ctx, ov.map))


def _no_data_note(ctx: UIContext, result: CoverageResult) -> None:
    """Categories without data, and (no OSM snapshot) how to get them."""
    missing = story.no_data_categories(result)
    if not missing:
        return
    st.info(t("demo_nodata_cats", ctx.lang,
              cats=join_list([_cat(ctx, c) for c in missing], ctx.lang)))
    if not ctx.snapshot.has_osm:
        st.text(ctx.ws.no_osm_hint(ctx.lang))  # st.code: 1.5 MB highlighter in the browser


def _unit_table(ctx: UIContext, rows: pd.DataFrame, columns: dict[str, list[str]]
                ) -> pd.DataFrame:
    return pd.DataFrame({t("demo_col_unit", ctx.lang): rows["district"].astype(str).to_numpy(),
                         **columns}).set_index(t("demo_col_unit", ctx.lang))


def _values(rows: pd.DataFrame, lang: str) -> list[str]:
    return [fmt.value(v, str(u), lang) for v, u in zip(rows["median"], rows["unit"],
                                                        strict=True)]


def _gaps(ctx: UIContext, result: CoverageResult, cid: str, mode: str) -> None:
    lang = ctx.lang
    g = story.gaps(result, ctx.region, cid, mode)
    fmt_args = g.text_args(ctx.region, lang)
    st.header(g.head(ctx.region, lang))
    if not g.has_data:
        pass
    elif g.local_only:
        # listings alone never make a gap (nor "no gap"): say what is known
        st.write(t("demo_local_only_text", lang, k=fmt.integer(g.n_served, lang),
                   u=fmt.integer(g.n_unknown, lang), **fmt_args))
    elif g.n_gap:
        st.write(g.worst_text(lang))
    else:
        # Nothing to colour red: say so plainly, then show what does differ.
        if g.n_beyond:
            st.write(t("demo_some_beyond", lang, k=fmt.integer(g.n_beyond, lang), **fmt_args))
        elif g.transit:
            key = "demo_all_reach_stop" if ctx.snapshot.has_osm else "demo_all_reach_stop_embedded"
            st.write(t(key, lang, thr=fmt_args["thr"]))
        else:
            st.write(t("demo_all_reach", lang, **fmt_args))
        weights = g.ranking.get("nearest_weight")
        left, right = st.columns([3, 2])
        with right:
            if g.transit and weights is not None and weights.notna().any():
                top = g.service_table()
                st.subheader(t("demo_service_head", lang))
                st.table(_unit_table(ctx, top, {
                    t("demo_col_stop", lang): top["nearest_name"].fillna("").astype(str)
                    .to_numpy(),
                    t("demo_col_dist", lang): _values(top, lang),
                    t("demo_col_service", lang): [fmt.integer(v, lang)
                                                  for v in top["nearest_weight"]],
                }))
                source = ctx.region.transit.source.split(",")[0].strip() or "GTFS"
                st.caption(t("demo_service_caption", lang, source=source,
                             min_w=fmt.number(ctx.region.transit.min_weight, 0, lang),
                             n=fmt.integer(story.unserved_stops(ctx.snapshot, ctx.region),
                                           lang)))
            else:
                longest = g.longest()
                st.subheader(t("demo_longest_head", lang))
                st.table(_unit_table(ctx, longest, {
                    t("demo_col_median", lang): _values(longest, lang),
                    t("demo_col_nearest", lang): longest["nearest_name"].fillna("")
                    .astype(str).to_numpy(),
                }))
        with left:
            show_map(demo_map_html(ctx, g.map))
        _no_data_note(ctx, result)
        return
    show_map(demo_map_html(ctx, g.map))
    _no_data_note(ctx, result)


def _profile(ctx: UIContext, result: CoverageResult, cid: str, mode: str, name: str) -> None:
    lang = ctx.lang
    p = story.profile(result, cid, mode, name, ctx.mode)
    st.header(p.head(lang))
    left, right = st.columns([3, 2])
    with left:
        show_map(demo_map_html(ctx, p.map))
    with right:
        st.table(p.table(ctx.region, lang))


def _scenario_add(ctx: UIContext, result: CoverageResult, cid: str, mode: str,
                  name: str) -> None:
    lang = ctx.lang
    st.header(t("demo_scenario_head", lang, cat=_cat(ctx, cid), name=name))
    with st.spinner("…"):
        sc = _cached(("scenario", cid, mode, name, id(result), lang),
                     lambda: run_scenario(ctx, result, cid, mode, name))
    st.write(t("demo_scenario_text_best" if sc.placed == "best" else "demo_scenario_text",
               lang, name=name))
    c = st.columns(3)
    c[0].metric(t("demo_share_in", lang, name=name), fmt.share(sc.share_after, lang),
                delta=None if not math.isfinite(sc.share_before) else
                f"{fmt.points(sc.share_after - sc.share_before, lang)} "
                f"({t('demo_before', lang)} {fmt.share(sc.share_before, lang)})")
    c[1].metric(t("demo_gaps_region", lang), fmt.integer(sc.gaps_after, lang),
                delta=sc.gaps_after - sc.gaps_before, delta_color="inverse")
    c[2].metric(t("demo_residents_gain", lang), fmt.integer(sc.gain, lang))
    st.caption(t("demo_computed", lang, ms=sc.total_ms))
    show_map(demo_map_html(ctx, sc.map))


def _scenario_remove(ctx: UIContext, result: CoverageResult, cid: str, mode: str,
                     name: str) -> None:
    lang = ctx.lang
    with st.spinner("…"):
        sc = _cached(("closure", cid, mode, name, id(result), lang),
                     lambda: run_closure(ctx, result, cid, mode, name))
    if sc is None:
        st.header(t("demo_scenario_head", lang, cat=_cat(ctx, cid), name=name))
        st.write(t("demo_no_closure", lang, name=name))
        return
    transit = ctx.region.category(cid).source == TRANSIT
    st.header(t("demo_closure_head_stop", lang, stop=sc.stop) if transit
              else t("demo_closure_head", lang, stop=sc.stop, cat=_cat(ctx, cid)))
    st.write(t("demo_closure_text", lang, name=name))
    before, after, unit = sc.median_before, sc.median_after, sc.unit
    c = st.columns(3)
    c[0].metric(t("demo_residents_lose", lang), fmt.integer(sc.lost, lang))
    delta = (f"{fmt.signed(after - before, 0, lang)} {unit}"
             if math.isfinite(before) and math.isfinite(after) else None)
    c[1].metric(t("demo_next_stop" if transit else "demo_next_service", lang, name=name),
                fmt.value(after, unit, lang), delta=delta, delta_color="inverse")
    c[2].metric(t("demo_gaps_region", lang), fmt.integer(sc.gaps_after, lang),
                delta=sc.gaps_after - sc.gaps_before, delta_color="inverse")
    if math.isfinite(after) and sc.next_after:
        st.write(t("demo_next_after", lang, next=sc.next_after,
                   value=fmt.value(after, unit, lang), before=fmt.value(before, unit, lang)))
    elif not math.isfinite(after):
        st.write(t("demo_next_none", lang))
    st.write(sc.losers_text(lang))
    st.caption(t("demo_computed", lang, ms=sc.total_ms))
    show_map(demo_map_html(ctx, sc.map))


def _scenario(ctx: UIContext, result: CoverageResult, cid: str, mode: str, name: str) -> None:
    """Add where the Ortsteil has a gap; else what a closure would cost; never on no data."""
    kind = story.scenario_kind(result, cid, mode, name)
    if kind == "add":
        _scenario_add(ctx, result, cid, mode, name)
    elif kind == "remove":
        _scenario_remove(ctx, result, cid, mode, name)
    else:
        st.header(t("demo_nodata_head", ctx.lang, cat=_cat(ctx, cid)))
        st.write(t("demo_nodata_scenario", ctx.lang, cat=_cat(ctx, cid)))
        _no_data_note(ctx, result)


def render_demo(ctx: UIContext) -> None:
    """The guided demo; the step lives in ``st.session_state['demo_step']``."""
    lang = ctx.lang
    st.markdown(DEMO_CSS, unsafe_allow_html=True)
    try:
        result = demo_result(ctx)
    except Exception as exc:  # a broken snapshot must not end the talk with a traceback
        st.error(t("demo_no_result", lang, reason=" ".join(str(exc).split())))
        return
    n = len(story.STEPS)
    step = min(max(int(st.session_state.get(STEP_KEY, 0)), 0), n - 1)
    _nav(lang, step, n)
    # nothing invented or listing-only reaches the booth unmarked (issue 14, items 1-2)
    flags = provenance.flags(result, None, ctx.category if step else None, lang)
    if flags:
        st.warning(" · ".join(f[:1].upper() + f[1:] for f in flags))

    cid = story.pick_category(result, ctx.category, ctx.mode)
    options = story.category_options(result)
    pick = st.columns(2) if step in (1, 2, 3) else []
    if pick:
        cid = pick[0].selectbox(t("demo_choose_cat", lang), options, index=options.index(cid),
                                format_func=lambda c: _cat(ctx, c), key="demo_category")
    mode = story.demo_mode(result, cid, ctx.mode)
    if step == 0:
        _overview(ctx, result)
    elif step == 1:
        _gaps(ctx, result, cid, mode)
    else:
        names = story.focus_names(result, cid, mode)
        name = pick[1].selectbox(t("demo_choose_unit", lang), names, index=0, key="demo_unit")
        if step == 2:
            _profile(ctx, result, cid, mode, name)
        else:
            _scenario(ctx, result, cid, mode, name)
