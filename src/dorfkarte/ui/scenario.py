"""Scenario panel: what if a service opens, closes or changes its schedule; where best.

The panel keeps the session's changes in ``st.session_state`` and a
:class:`dorfkarte.scenario.WhatIf` per coverage result, so every click is one incremental
update (not a new analysis). The map helps by writing its last click to
``st.session_state["dk_map_click"] = (lat, lon)``; tests set that key directly. The
current scenario result is left in ``st.session_state["dk_scenario_result"]`` (and
``ctx.scenario_result``) for the map to show. Data (what-if engine, candidate sites) comes
from the context's :class:`~dorfkarte.workspace.Workspace`.
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from dorfkarte import fmt, maps, sheets
from dorfkarte.enums import SiteStatus
from dorfkarte.errors import DorfkarteError
from dorfkarte.i18n import category_label, gap_label, has_key, mode_label, t
from dorfkarte.safe import md_escape
from dorfkarte.scenario import (
    CANDIDATE_KINDS,
    TOTAL_ROW,
    Change,
    Scenario,
    ScenarioStore,
    WhatIf,
    compare,
    dest_ref,
    effect_text,
    mobile_stops,
    mode_effect,
    origin_changes,
    route_travel_note,
    scenario_geojson,
    suggest,
    unit_changes,
)
from dorfkarte.ui import data
from dorfkarte.ui.context import UIContext
from dorfkarte.ui.state import MAP_CLICK as MAP_CLICK_KEY
from dorfkarte.ui.state import SCN_CHANGES as CHANGES_KEY
from dorfkarte.ui.state import SCN_ENGINE as ENGINE_KEY
from dorfkarte.ui.state import SCN_MESSAGE as MSG_KEY
from dorfkarte.ui.state import SCN_NAME as NAME_KEY
from dorfkarte.ui.state import SCN_RESULT as RESULT_KEY
from dorfkarte.ui.state import SCN_ROUTE as ROUTE_KEY
from dorfkarte.ui.state import SCN_SUGGESTION as SUGGEST_KEY

SCN_CATEGORY = "dk_scn_category"
#: a loaded scenario's view, applied at the start of the next run (restore_pending)
SCN_PENDING = "_dk_scn_pending"


def _fmt(v: float, lang: str = "de") -> str:
    return fmt.integer(v, lang)


# ---- state ----------------------------------------------------------------------------------

def _changes() -> list[Change]:
    return st.session_state.setdefault(CHANGES_KEY, [])


def engine(ctx: UIContext) -> WhatIf:
    """The session's what-if engine for the current result (rebuilt, changes re-applied,
    when the result changes, e.g. after a threshold slider move)."""
    held = st.session_state.get(ENGINE_KEY)
    if held is not None and held[0] is ctx.result:
        return held[1]
    wi = ctx.ws.what_if(ctx.result, when=ctx.view.listings_when)
    kept = []
    for ch in _changes():
        try:
            wi.apply(ch)
            kept.append(ch)
        except DorfkarteError as exc:
            st.warning(t("scn_change_skipped", ctx.lang) + md_escape(exc))
    st.session_state[CHANGES_KEY] = kept
    st.session_state[ENGINE_KEY] = (ctx.result, wi)
    return wi


def _apply(ctx: UIContext, wi: WhatIf, change: Change) -> None:
    try:
        eff = wi.apply(change)
    except DorfkarteError as exc:
        st.session_state[MSG_KEY] = ("error", t("error", ctx.lang, msg=exc))
        return
    st.session_state[CHANGES_KEY] = list(wi.changes)
    msg = t("scn_applied_in_ms", ctx.lang, ms=eff.ms)
    if eff.note:
        msg += " " + eff.note
    # one figure per mode: the same residents are counted on foot and by bike, never summed
    st.session_state[MSG_KEY] = ("success", msg + t(
        "scn_effect_by_mode", ctx.lang, figures=effect_text(eff, ctx.lang)))


def candidates(ctx: UIContext) -> gpd.GeoDataFrame:
    """Candidate sites (stops, centres, anchors, homes), remembered by the workspace."""
    return ctx.ws.candidates()


_WARM: dict[str, Any] = {}


def prewarm_solver() -> None:
    """Import spopt (5-10 s: it pulls in matplotlib, sklearn, libpysal) in the background
    once per process, so the first exact suggestion answers in about a second."""
    if _WARM:
        return
    import threading

    def _load() -> None:
        try:
            import spopt.locate  # noqa: F401
        except Exception as exc:  # shown when a suggestion is asked for, not here
            _WARM["error"] = exc

    th = threading.Thread(target=_load, name="dorfkarte-spopt-import", daemon=True)
    _WARM["thread"] = th
    th.start()


# ---- panel ----------------------------------------------------------------------------------

def render_scenario_panel(ctx: UIContext) -> None:
    """What-if, before/after, save/load/export, suggestions and mobile stops."""
    st.subheader(t("scn_scenarios_what_if", ctx.lang))
    if ctx.result is None:
        st.info(t("scn_scenarios_need_the_coverage", ctx.lang))
        return
    res = ctx.result
    cats = [c for c in ctx.region.categories if c in res.destinations]
    if not cats:
        st.info(t("scn_no_category_computed", ctx.lang))
        return
    labels = {c: category_label(ctx.region.categories[c], ctx.lang) for c in cats}
    if st.session_state.get(SCN_CATEGORY) not in cats:  # default via state: no warning
        st.session_state[SCN_CATEGORY] = ctx.category if ctx.category in cats else cats[0]
    cat = st.selectbox(t("scn_category", ctx.lang), cats,
                       format_func=lambda c: labels[c], key=SCN_CATEGORY)
    modes = [m for (c, m) in res.times if c == cat]
    mode = ctx.mode if ctx.mode in modes else modes[0]
    wi = engine(ctx)
    prewarm_solver()

    _render_edit(ctx, wi, cat)
    msg = st.session_state.pop(MSG_KEY, None)
    if msg:
        (st.success if msg[0] == "success" else st.error)(md_escape(msg[1]))
    _render_changes(ctx, wi, mode)
    _render_before_after(ctx, wi, cat, mode)
    _render_save_load(ctx, wi, cat, mode)
    with st.expander(t("scn_where_best_suggest_new", ctx.lang), expanded=False):
        _render_suggest(ctx, wi, cat, mode, modes)
    with st.expander(t("scn_mobile_service_stops_by", ctx.lang), expanded=False):
        _render_route(ctx, wi, cat, modes)
    st.session_state[RESULT_KEY] = wi.result
    ctx.scenario_result = wi.result


def _render_edit(ctx: UIContext, wi: WhatIf, cat: str) -> None:
    kinds = {"add": t("scn_new_site", ctx.lang),
             "remove": t("scn_service_closes", ctx.lang),
             "schedule": t("scn_change_schedule_mobile", ctx.lang)}
    what = st.radio(t("scn_change", ctx.lang), list(kinds), format_func=kinds.get,
                    horizontal=True, key="dk_scn_what")
    if what == "add":
        _render_add(ctx, wi, cat)
    elif what == "remove":
        _render_remove(ctx, wi, cat)
    else:
        _render_schedule(ctx, wi, cat)


def _render_add(ctx: UIContext, wi: WhatIf, cat: str) -> None:
    sources = {"map": t("scn_map_click", ctx.lang),
               "stop": t("scn_bus_stop", ctx.lang),
               "centre": t("scn_village_centre", ctx.lang),
               "anchor": t("scn_anchor_place", ctx.lang),
               "coords": t("scn_coordinates", ctx.lang)}
    src = st.radio(t("scn_where", ctx.lang), list(sources), format_func=sources.get,
                   horizontal=True, key="dk_scn_add_src")
    lat = lon = None
    name = ""
    if src == "map":
        click = st.session_state.get(MAP_CLICK_KEY)
        if click:
            lat, lon = float(click[0]), float(click[1])
            st.caption(t("scn_map_point", ctx.lang, lat=lat, lon=lon))
        else:
            st.info(t("scn_click_on_the_scenario", ctx.lang))
    elif src == "coords":
        from dorfkarte.listings.validate import parse_coordinates

        c1, c2 = st.columns(2)
        # text fields: a decimal comma (52,1386) is read like the listings import does
        lat_s = c1.text_input(t("scn_latitude", ctx.lang), key="dk_scn_lat",
                              placeholder="52,1386")
        lon_s = c2.text_input(t("scn_longitude", ctx.lang), key="dk_scn_lon",
                              placeholder="12,5843")
        try:
            pos = parse_coordinates(lat_s, lon_s)
        except DorfkarteError as exc:
            st.error(str(exc))
            pos = None
        if pos is not None:
            lat, lon = pos
    else:
        cands = candidates(ctx)
        pick = cands[cands["kind"] == src].reset_index(drop=True)
        if pick.empty:
            st.info(t("scn_no_places_of_this", ctx.lang))
        else:
            i = st.selectbox(sources[src], range(len(pick)),
                             format_func=lambda k: str(pick["name"].iloc[k]),
                             key=f"dk_scn_pick_{src}")
            g = pick.geometry.iloc[int(i)]
            lat, lon, name = float(g.y), float(g.x), str(pick["name"].iloc[int(i)])
    label = st.text_input(t("scn_name_of_the_new", ctx.lang),
                          value="", placeholder=name or t("scn_e_g_village_shop", ctx.lang),
                          key="dk_scn_add_name")
    if st.button(t("scn_add", ctx.lang), disabled=lat is None, key="dk_scn_add_btn"):
        label = label.strip() or (t("scn_new_named", ctx.lang, name=name) if name else "")
        _apply(ctx, wi, Change("add", cat, name=label, lat=lat, lon=lon,
                               kind=src if src != "coords" else "user"))
        st.rerun()


def _render_remove(ctx: UIContext, wi: WhatIf, cat: str) -> None:
    d = wi.destinations(cat)
    live = np.flatnonzero((d["status"] != SiteStatus.CLOSED).to_numpy())
    if len(live) == 0:
        st.info(t("scn_no_service_of_this", ctx.lang))
        return
    k = st.selectbox(t("scn_which_service", ctx.lang), live,
                     format_func=lambda i: f"{d['name'].iloc[i] or t('scn_unnamed', ctx.lang)}"
                     f" · {_source_label(d['source'].iloc[i], ctx.lang)} · "
                     f"{dest_ref(d, int(i))}", key="dk_scn_rm_pick")
    if st.button(t("scn_close_scenario", ctx.lang), key="dk_scn_rm_btn"):
        _apply(ctx, wi, Change("remove", cat, ref=dest_ref(d, int(k)),
                               name=str(d["name"].iloc[int(k)])))
        st.rerun()


def _source_label(source: object, lang: str) -> str:
    """Where a destination comes from, in words (OSM, local listing, scenario, ...)."""
    key = f"source_{source}"
    return t(key, lang) if has_key(key) else str(source)


def _render_schedule(ctx: UIContext, wi: WhatIf, cat: str) -> None:
    lst = wi.listings
    if lst is None or len(lst) == 0:
        st.info(t("scn_no_local_listings_stored", ctx.lang))
        return
    mob = lst[(lst["kind"].astype(str) == "mobile")
              & lst["category"].astype(str).str.split(",").map(
                  lambda cs: cat in [c.strip() for c in cs])]
    if mob.empty:
        st.info(t("scn_no_mobile_listings_of", ctx.lang))
        return
    ids = mob["id"].astype(str).tolist()
    always = t("scn_always", ctx.lang)
    pick = st.selectbox(t("scn_mobile_service", ctx.lang), ids,
                        format_func=lambda i: f"{mob.loc[mob['id'] == i, 'name'].iloc[0]} "
                        f"({mob.loc[mob['id'] == i, 'opening_hours'].iloc[0] or always})",
                        key="dk_scn_sched_pick")
    new = st.text_input(t("scn_new_schedule_opening_hours", ctx.lang),
                        key="dk_scn_sched_text")
    st.caption(t("scn_affects_coverage_at_the", ctx.lang))
    if st.button(t("scn_apply_schedule", ctx.lang), key="dk_scn_sched_btn"):
        _apply(ctx, wi, Change("schedule", cat, ref=str(pick), opening_hours=new))
        st.rerun()


def _render_changes(ctx: UIContext, wi: WhatIf, mode: str) -> None:
    """The changes made so far: figures for the panel's mode (named), and per mode."""
    if not wi.changes:
        st.caption(t("scn_no_change_in_the", ctx.lang))
        return
    mlabel = mode_label(mode, ctx.lang)
    rows = []
    for i, (ch, eff) in enumerate(zip(wi.changes, wi.effects, strict=True)):
        what = {"add": t("scn_new_2", ctx.lang), "remove": t("scn_closes_2", ctx.lang),
                "schedule": t("scn_schedule", ctx.lang)}[ch.action]
        here = mode_effect(eff, mode)  # None: the category has no result for this mode
        rows.append({"Nr": i + 1, t("scn_change_2", ctx.lang): what,
                     t("scn_category_2", ctx.lang):
                     category_label(ctx.region.categories[ch.category], ctx.lang)
                     if ch.category in ctx.region.categories else ch.category,
                     t("scn_site_2", ctx.lang): ch.name or ch.ref,
                     t("scn_newly_covered_mode", ctx.lang, mode=mlabel):
                     None if here is None else round(here.gained),
                     t("scn_losing_mode", ctx.lang, mode=mlabel):
                     None if here is None else round(here.lost),
                     t("scn_by_mode", ctx.lang): effect_text(eff, ctx.lang),
                     "ms": round(eff.ms, 1)})
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    c1, c2 = st.columns(2)
    if c1.button(t("scn_undo_last_change", ctx.lang),
                 key="dk_scn_undo"):
        wi.undo()
        st.session_state[CHANGES_KEY] = list(wi.changes)
        st.rerun()
    if c2.button(t("scn_discard_all_changes", ctx.lang), key="dk_scn_reset"):
        wi.reset()
        st.session_state[CHANGES_KEY] = []
        st.rerun()


def diff_display(df: pd.DataFrame, ctx: UIContext) -> pd.DataFrame:
    """The before/after table with German (or English) column names and values (gap
    classes as labels; the total row counts the gaps)."""
    lang = ctx.lang
    total = (df["district"] == TOTAL_ROW).to_numpy()

    def classes(col: str, counts: str) -> list[str]:
        return [t("scn_n_gaps", lang, n=fmt.integer(n, lang)) if tot else gap_label(str(g), lang)
                for g, n, tot in zip(df[col], df[counts], total, strict=True)]

    return pd.DataFrame({
        t("scn_unit", ctx.lang): [t("scn_total", lang) if tot else name
                                  for name, tot in zip(df["district"], total, strict=True)],
        t("scn_residents", ctx.lang): df["population"].round(0),
        t("scn_share_before", ctx.lang): (100 * df["share_before"]).round(1),
        t("scn_share_after", ctx.lang): (100 * df["share_after"]).round(1),
        t("scn_change_pp", ctx.lang): (100 * df["share_change"]).round(1),
        t("scn_newly_covered", ctx.lang): df["newly_covered"].round(0),
        t("scn_losing_coverage", ctx.lang): df["losing_coverage"].round(0),
        t("scn_median_before", ctx.lang): df["median_before"].round(1),
        t("scn_median_after", ctx.lang): df["median_after"].round(1),
        t("scn_class_before", ctx.lang): classes("gap_before", "gaps_before"),
        t("scn_class_after", ctx.lang): classes("gap_after", "gaps_after"),
    })


def _render_before_after(ctx: UIContext, wi: WhatIf, cat: str, mode: str) -> None:
    from dorfkarte.ui.overview import ranking, ranking_display

    st.markdown("##### " + t("scn_before_after", ctx.lang))
    diff = compare(wi.base, wi.result, cat, mode)
    total = diff[diff["district"] == TOTAL_ROW]
    if len(total):
        r = total.iloc[0]
        c = st.columns(4)
        c[0].metric(t("scn_newly_covered_2", ctx.lang),
                    _fmt(r["newly_covered"], ctx.lang))
        c[1].metric(t("scn_losing_coverage_2", ctx.lang),
                    _fmt(r["losing_coverage"], ctx.lang))
        c[2].metric(t("scn_gaps_before", ctx.lang), _fmt(r["gaps_before"], ctx.lang))
        c[3].metric(t("scn_gaps_after", ctx.lang), _fmt(r["gaps_after"], ctx.lang))
    if st.toggle(t("scn_scenario_map", ctx.lang), value=True,
                 key="dk_scn_show_map"):
        _render_map(ctx, wi, cat, mode, diff)
    changed = diff[(diff["newly_covered"] > 0) | (diff["losing_coverage"] > 0)
                   | (diff["share_change"].abs() > 1e-12) | (diff["district"] == TOTAL_ROW)]
    show_all = st.toggle(t("scn_show_all_units", ctx.lang),
                         key="dk_scn_show_all")
    st.dataframe(diff_display(diff if show_all else changed, ctx), hide_index=True)
    st.markdown("##### " + t("scn_indicators_in_the_scenario", ctx.lang))
    st.dataframe(ranking_display(ranking(wi.result, cat, mode), ctx.lang), hide_index=True,
                 key="dk_scn_indicators")
    st.session_state["dk_scn_diff"] = diff


def changes_layer(ctx: UIContext, wi: WhatIf, cat: str, mode: str,
                  diff: pd.DataFrame | None = None) -> Any:
    """Folium layer of the scenario map (``maps.scenario_group``): units coloured by
    residents newly covered / losing coverage in ``mode``, the homes that change, new and
    closed sites, and the legend saying so."""
    key = (cat, mode)
    units = oc = None
    if key in wi.result.times:
        if diff is None:
            diff = compare(wi.base, wi.result, cat, mode)
        units = unit_changes(diff[diff["mode"] == mode])
        oc = origin_changes(wi.base, wi.result, key)
    return maps.scenario_group(wi.result.districts,
                               units if units is not None else pd.DataFrame(),
                               mode=mode, origins=oc, sites=wi.destinations(cat),
                               lang=ctx.lang)


def _render_map(ctx: UIContext, wi: WhatIf, cat: str, mode: str,
                diff: pd.DataFrame | None = None) -> None:
    """The region map with the units coloured by the scenario's effect (gain, loss, both,
    unchanged, unknown) as its legend and caption say; a click on it sets the point for
    "Neuer Standort"."""
    key = (ctx.ws.fingerprint, "scenario", id(ctx.result),
           tuple(repr(c) for c in wi.changes))
    fmap = data.get_map(key, ctx.ws, wi.result, ctx.extra_points, category=cat, mode=mode,
                        indicator=ctx.view.indicator, basemap=ctx.view.basemap,
                        lang=ctx.lang, points=(cat,), snapshot=ctx.snapshot, dynamic=True)
    out = st_folium(fmap, key="dk_scn_map", height=460, use_container_width=True,
                    returned_objects=["last_clicked"],
                    feature_group_to_add=changes_layer(ctx, wi, cat, mode, diff))
    st.caption(t("scn_green_newly_covered_red", ctx.lang, mode=mode_label(mode, ctx.lang)))
    click = (out or {}).get("last_clicked")
    if click and click != st.session_state.get("_dk_scn_last_click"):
        st.session_state["_dk_scn_last_click"] = click
        try:
            st.session_state[MAP_CLICK_KEY] = (float(click["lat"]), float(click["lng"]))
        except (KeyError, TypeError, ValueError):
            return
        st.rerun()


def restore_pending() -> None:
    """Apply a loaded scenario's view (category, mode, name) before any widget exists.

    Loading happens below the sidebar's and the panel's widgets, whose state cannot be
    changed once they are drawn in a run; the page calls this first in the next run.
    """
    pending = st.session_state.pop(SCN_PENDING, None)
    if not pending:
        return
    from dorfkarte.ui.state import KEY_MODE

    if pending.get("category"):
        st.session_state[SCN_CATEGORY] = pending["category"]
    if pending.get("mode"):
        st.session_state[KEY_MODE] = pending["mode"]
    st.session_state[NAME_KEY] = pending.get("name", "")


def _render_save_load(ctx: UIContext, wi: WhatIf, cat: str = "", mode: str = "") -> None:
    store = ScenarioStore(ctx.data_dir)
    st.markdown("##### " + t("scn_save_load_export", ctx.lang))
    c1, c2 = st.columns(2)
    name = c1.text_input(t("scn_scenario_name", ctx.lang), key=NAME_KEY)
    if c1.button(t("scn_save", ctx.lang), disabled=not wi.changes, key="dk_scn_save"):
        if not name.strip():
            st.session_state[MSG_KEY] = ("error", t("scn_please_enter_a_name", ctx.lang))
            st.rerun()
        try:
            sc = store.save(Scenario(name=name, changes=list(wi.changes), category=cat,
                                     mode=mode))
            st.session_state[MSG_KEY] = ("success", t("scn_saved_changes", ctx.lang, name=sc.name,
                                                      changes=len(sc.changes)))
        except DorfkarteError as exc:
            st.session_state[MSG_KEY] = ("error", t("error", ctx.lang, msg=exc))
        st.rerun()
    try:
        names = store.names()
    except DorfkarteError as exc:
        c2.error(md_escape(t("error", ctx.lang, msg=exc)))
        names = []
    if names:
        pick = c2.selectbox(t("scn_saved_scenarios", ctx.lang), names,
                            key="dk_scn_load_pick")
        b1, b2 = c2.columns(2)
        if b1.button(t("scn_load", ctx.lang), key="dk_scn_load"):
            sc = store.get(pick)
            wi.reset()
            errors = []
            for ch in sc.changes:
                try:
                    wi.apply(ch)
                except DorfkarteError as exc:
                    errors.append(str(exc))
            st.session_state[CHANGES_KEY] = list(wi.changes)
            # its category, mode and name come back on the next run (restore_pending)
            st.session_state[SCN_PENDING] = {"category": sc.main_category,
                                             "mode": sc.mode, "name": sc.name}
            st.session_state[MSG_KEY] = (
                "error" if errors else "success",
                (t("error", ctx.lang, msg="; ".join(errors)) if errors else
                 t("scn_loaded", ctx.lang, name=sc.name)))
            st.rerun()
        if b2.button(t("scn_delete", ctx.lang), key="dk_scn_delete"):
            store.delete(pick)
            st.rerun()
    else:
        c2.caption(t("scn_no_saved_scenarios_yet", ctx.lang))
    if wi.changes:
        sc = Scenario(name=name.strip() or t("scn_default_name", ctx.lang),
                      changes=list(wi.changes))
        e1, e2, e3 = st.columns(3)
        e1.download_button(t("scn_dl_json", ctx.lang), json.dumps(sc.to_dict(), ensure_ascii=False,
                                                          indent=1),
                           file_name="szenario.json", mime="application/json",
                           key="dk_scn_dl_json")
        e2.download_button(t("scn_dl_geojson", ctx.lang),
                           json.dumps(scenario_geojson(sc, wi.result), ensure_ascii=False),
                           file_name="szenario.geojson", mime="application/geo+json",
                           key="dk_scn_dl_geojson")
        diff = st.session_state.get("dk_scn_diff")
        if diff is not None:
            e3.download_button(t("scn_before_after_csv", ctx.lang),
                               sheets.csv_bytes(sheets.people_table(diff, ctx.lang),
                                                ctx.lang, float_decimals=4),
                               file_name="szenario_vorher_nachher.csv", mime="text/csv",
                               key="dk_scn_dl_csv")


def _render_suggest(ctx: UIContext, wi: WhatIf, cat: str, mode: str, modes: list[str]) -> None:
    c1, c2, c3 = st.columns(3)
    k = int(c1.number_input("k", min_value=1, max_value=20, value=5, key="dk_scn_k"))
    methods = {"exact": t("scn_exact_mclp", ctx.lang),
               "greedy": t("scn_fast_greedy", ctx.lang),
               "pmedian": t("scn_shortest_trips_p_median", ctx.lang)}
    method = c2.selectbox(t("scn_method", ctx.lang), list(methods),
                          format_func=methods.get, key="dk_scn_method")
    smode = c3.selectbox(t("scn_mode", ctx.lang), modes,
                         index=modes.index(mode), key="dk_scn_smode")
    kinds = st.multiselect(t("scn_candidates", ctx.lang), ["stop", "centre", "anchor",
                                                                  "map"],
                           default=["stop", "centre", "anchor"],
                           format_func=lambda x: CANDIDATE_KINDS.get(x, x), key="dk_scn_kinds")
    st.caption(t("scn_existing_services_with_the", ctx.lang))
    if st.button(t("scn_suggest", ctx.lang), key="dk_scn_suggest"):
        cands = candidates(ctx)
        cands = cands[cands["kind"].isin(kinds)]
        if "map" in kinds and st.session_state.get(MAP_CLICK_KEY):
            lat, lon = st.session_state[MAP_CLICK_KEY]
            cands = pd.concat([cands, gpd.GeoDataFrame(
                {"name": [t("scn_map_point_2", ctx.lang)], "kind": ["map"],
                 "ref": ["map"]}, geometry=gpd.points_from_xy([lon], [lat]), crs="EPSG:4326")],
                ignore_index=True)
        try:
            with st.spinner(t("scn_computing_the_solver_loads", ctx.lang)):
                sg = suggest(wi.result, cat, smode, k, method=method,
                             candidates=gpd.GeoDataFrame(cands, crs="EPSG:4326"))
            st.session_state[SUGGEST_KEY] = sg
        except DorfkarteError as exc:
            st.error(md_escape(t("error", ctx.lang, msg=exc)))
    sg = st.session_state.get(SUGGEST_KEY)
    if sg is None or sg.category != cat:
        return
    sol = sg.solution
    proof = t("scn_proven_optimal", ctx.lang) if sol.optimal else \
        t("scn_heuristic", ctx.lang)
    # the suggestion's own mode (it may differ from the sidebar's) and what it counts
    st.caption(f"{mode_label(sg.mode, ctx.lang)} · {sg.demand} · "
               f"{methods.get(sg.method, sg.method)} · {proof} · {sg.seconds:.2f} s"
               + (f" · {sol.solver}" if sol.solver else ""))
    sites = sg.sites
    newly = sites["cumulative"].diff().fillna(sites["cumulative"])
    table = pd.DataFrame({
        "Nr": sites["rank"], t("scn_site", ctx.lang): sites["name"],
        t("scn_kind", ctx.lang): sites["kind"].map(lambda x: CANDIDATE_KINDS.get(x, x)),
        t("scn_newly_covered_3", ctx.lang): newly.round(0),
        t("scn_cumulative", ctx.lang): sites["cumulative"].round(0),
        t("scn_share_after_2", ctx.lang): (100 * sites["share_after"]).round(1),
    })
    if "time_saved" in sites:
        table[t("scn_minutes_residents_saved", ctx.lang)] = \
            sites["time_saved"].round(0)
    st.dataframe(table, hide_index=True, key="dk_scn_suggest_table")
    st.bar_chart(pd.DataFrame({t("scn_newly_covered_5", ctx.lang): newly.to_numpy()},
                              index=[f"{r}. {n}" for r, n in zip(sites["rank"], sites["name"],
                                                                  strict=True)]))
    if sg.greedy is not None and sg.greedy.gap is not None:
        st.caption(t("scn_greedy_for_comparison_gap", ctx.lang, gap=100 * sg.greedy.gap))
    for n in sg.notes:
        st.warning(n)
    if st.button(t("scn_add_suggestions_to_scenario", ctx.lang),
                 key="dk_scn_take"):
        for ch in sg.changes():
            _apply(ctx, wi, ch)
        st.session_state.pop(SUGGEST_KEY, None)
        st.rerun()


def _render_route(ctx: UIContext, wi: WhatIf, cat: str, modes: list[str]) -> None:
    """Stops of a mobile service; the drive between consecutive stops is always counted
    (road network, else straight line x detour at the car speed: the caption says which)."""
    c1, c2 = st.columns(2)
    budget = c1.number_input(t("scn_time_budget_min_week", ctx.lang),
                             min_value=10.0, value=240.0, step=10.0, key="dk_scn_budget")
    stop = c2.number_input(t("scn_stop_duration_min", ctx.lang),
                           min_value=5.0, value=30.0, step=5.0, key="dk_scn_stopmin")
    rmode = "walk" if "walk" in modes else modes[0]
    if st.button(t("scn_suggest_stops", ctx.lang), key="dk_scn_route_btn"):
        try:
            df = mobile_stops(wi.result, cat, candidates(ctx), budget_min=budget,
                              stop_min=stop, mode=rmode, snapshot=ctx.snapshot)
            st.session_state[ROUTE_KEY] = (cat, df)
        except DorfkarteError as exc:
            st.error(md_escape(t("error", ctx.lang, msg=exc)))
    held = st.session_state.get(ROUTE_KEY)
    if held is None or held[0] != cat:
        return
    df = held[1]
    if df.empty:
        st.info(t("scn_no_stop_reaches_additional", ctx.lang))
        return
    how = {m: t(f"scn_travel_{m}", ctx.lang) for m in ("network", "straight_line", "none")}
    st.dataframe(pd.DataFrame({
        "Nr": df["rank"], t("scn_stop", ctx.lang): df["name"],
        t("scn_newly_reached", ctx.lang): df["newly_covered"].round(0),
        t("scn_travel_min", ctx.lang): df["travel_min"].round(1),
        t("scn_travel_how", ctx.lang): df["travel_method"].map(lambda m: how.get(m, m)),
        t("scn_minutes", ctx.lang): df["minutes"].round(1),
        t("scn_residents_per_minute", ctx.lang): df["per_minute"].round(2),
        t("scn_minutes_used", ctx.lang): df["minutes_used"].round(0)}),
        hide_index=True, key="dk_scn_route_table")
    st.caption(f"{mode_label(rmode, ctx.lang)} · " + route_travel_note(df, ctx.lang))
