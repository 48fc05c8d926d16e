"""Ortsteil profile: travel times per category, nearest providers, what is missing.

The selected unit is ``st.session_state["selected_unit"]`` (set by a map click, the select
box here, or a test); without a selection the worst-served unit of the current view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import streamlit as st

from dorfkarte import fmt, views
from dorfkarte.enums import GapClass
from dorfkarte.i18n import category_label, gap_label, mode_label, source_label, t
from dorfkarte.region import TRANSIT
from dorfkarte.snapshot import DISTRICTS
from dorfkarte.ui.context import UIContext
from dorfkarte.ui.state import KEY_PROFILE_CHART, SELECTED, UNIT_CHANGED
from dorfkarte.views import worst_unit
from dorfkarte.workspace import when_key

if TYPE_CHECKING:
    import altair as alt

__all__ = ["ProfileParts", "data_edge_note", "ensure_selection", "missing_lines",
           "nearest_providers", "profile_chart", "profile_table", "render_profile",
           "render_providers", "worst_unit"]

GAP_CHART_COLOURS = {GapClass.GAP: "#d73027", GapClass.TIGHT: "#fdae61", GapClass.OK: "#1a9850",
                     GapClass.NO_DATA: "#bdbdbd"}


def _unit(ctx: UIContext, name: str, prof: views.UnitProfile | None) -> views.UnitProfile:
    return prof if prof is not None else views.unit_profile(ctx.result, ctx.region, name,
                                                            ctx.mode)


def profile_table(ctx: UIContext, name: str,
                  prof: views.UnitProfile | None = None) -> pd.DataFrame:
    """One row per category for the chosen mode, German (or English) column names."""
    lang, region = ctx.lang, ctx.region
    rows = _unit(ctx, name, prof).rows
    out = pd.DataFrame({
        t("col_category", lang): [category_label(region.categories[c], lang)
                                  for c in rows["category"]],
        t("col_median", lang): [fmt.value(v, u, lang) for v, u in zip(rows["median"],
                                                                      rows["unit"], strict=True)],
        t("col_p90", lang): [fmt.value(v, u, lang) for v, u in zip(rows["p90"], rows["unit"],
                                                                   strict=True)],
        t("col_threshold", lang): [fmt.threshold(v, u, lang) for v, u in zip(
            rows["threshold"], rows["unit"], strict=True)],
        t("col_share", lang): [fmt.share(v, lang) for v in rows["share_within"]],
        t("col_class", lang): [gap_label(str(g), lang) for g in rows["gap_class"]],
        t("col_nearest", lang): [str(n) if isinstance(n, str) else "" for n in
                                 rows["nearest_name"]],
        t("col_nearest_source", lang): [source_label(s, lang) for s in rows["nearest_source"]],
        t("col_method", lang): [t(f"method_{m}", lang) if m in ("network", "straight_line")
                                else str(m) for m in rows["method"]],
    })
    return out


def chart_spec(ctx: UIContext, name: str,
               prof: views.UnitProfile | None = None) -> dict[str, Any] | None:
    """Median travel time per category as bars (gap class colours), threshold as ticks.

    A plain Vega-Lite spec (built in ~1 ms; going through Altair and ``to_dict`` took
    ~0.13 s of every slider rerun). :func:`profile_chart` wraps it in Altair, which the
    tests use to validate it against the Vega-Lite schema.
    """
    lang, region = ctx.lang, ctx.region
    rows = _unit(ctx, name, prof).rows
    rows = rows[rows["gap_class"] != GapClass.NO_DATA]
    if rows.empty:
        return None
    unit = "m" if ctx.mode == TRANSIT else "min"
    finite = rows["median"].replace([np.inf], np.nan)
    cap = float(np.nanmax([finite.max(skipna=True) if finite.notna().any() else 0,
                           rows["threshold"].max()]) * 1.25) or 1.0
    med = rows["median"].to_numpy(dtype=float)
    shown = np.where(np.isinf(med), cap, med)
    values = [
        {"Kategorie": category_label(region.categories[c], lang),
         "Median": float(m) if np.isfinite(m) else None,
         "Schwelle": float(thr) if np.isfinite(thr) else None,
         "Klasse": gap_label(str(g), lang), "Text": fmt.value(v, unit, lang),
         "Anteil": fmt.share(sh, lang)}
        for c, m, thr, g, v, sh in zip(rows["category"], shown,
                                       rows["threshold"].to_numpy(dtype=float),
                                       rows["gap_class"], med, rows["share_within"],
                                       strict=True)]
    y = {"field": "Kategorie", "type": "nominal", "sort": None, "title": None,
         "axis": {"labelOverlap": False}}
    bars = {"mark": {"type": "bar"}, "encoding": {
        "x": {"field": "Median", "type": "quantitative",
              "title": f"{t('col_median', lang)} ({unit})", "scale": {"domain": [0, cap]}},
        "y": y,
        "color": {"field": "Klasse", "type": "nominal", "title": t("col_class", lang),
                  "scale": {"domain": [gap_label(g, lang) for g in GAP_CHART_COLOURS],
                            "range": list(GAP_CHART_COLOURS.values())}},
        "tooltip": [{"field": "Kategorie", "type": "nominal"},
                    {"field": "Text", "type": "nominal", "title": t("col_median", lang)},
                    {"field": "Anteil", "type": "nominal", "title": t("col_share", lang)},
                    {"field": "Klasse", "type": "nominal", "title": t("col_class", lang)}],
    }}
    ticks = {"mark": {"type": "tick", "color": "#111", "thickness": 2, "size": 22},
             "encoding": {"x": {"field": "Schwelle", "type": "quantitative"}, "y": y,
                          "tooltip": [{"field": "Schwelle", "type": "quantitative",
                                       "title": t("col_threshold", lang)}]}}
    return {"data": {"values": values}, "layer": [bars, ticks],
            "height": max(120, 30 * len(values))}


def profile_chart(ctx: UIContext, name: str) -> alt.LayerChart | None:
    """:func:`chart_spec` as an Altair chart (``to_dict()`` validates the spec).

    Altair (~0.4 s to import) is imported here: the chart is drawn only when its expander
    is open, and the first visitor waits for the page's imports.
    """
    import altair as alt

    spec = chart_spec(ctx, name)
    return None if spec is None else alt.LayerChart.from_dict(spec)


def nearest_providers(ctx: UIContext, name: str) -> pd.DataFrame:
    """:func:`dorfkarte.views.nearest_providers`, labelled for the page."""
    lang, region = ctx.lang, ctx.region
    near = views.nearest_providers(ctx.result, region, ctx.snapshot.get(DISTRICTS), name,
                                   ctx.mode)
    return pd.DataFrame({
        t("col_category", lang): [category_label(region.categories[c], lang)
                                  for c in near["category"]],
        t("nearest", lang): [n or fmt.DASH for n in near["nearest_name"]],
        t("km_straight", lang): [fmt.number(k, 1, lang) for k in near["km"]],
        t("col_nearest_source", lang): [source_label(s, lang) for s in near["source"]],
        t("reached_first", lang, mode=mode_label(ctx.mode, lang)):
            [f or fmt.DASH for f in near["first_reached"]],
    })


def missing_lines(ctx: UIContext, name: str,
                  prof: views.UnitProfile | None = None) -> list[str]:
    """'Hausarzt: Lücke Fuß (12 % ≤ 15 min), knapp Rad (…), ok Auto (…)' per category that is
    a gap or tight in the chosen mode (:attr:`dorfkarte.views.UnitProfile.missing`)."""
    lang, region = ctx.lang, ctx.region
    lines = []
    for cid, rows in _unit(ctx, name, prof).missing:
        parts = [f"{gap_label(str(x['gap_class']), lang)} {mode_label(str(x['mode']), lang)} "
                 f"({fmt.share(x['share_within'], lang)} ≤ "
                 f"{fmt.threshold(x['threshold'], str(x['unit']), lang)})"
                 for x in rows.to_dict("records")]
        lines.append(f"**{category_label(region.categories[cid], lang)}**: " + ", ".join(parts))
    return lines


def data_edge_note(ctx: UIContext, name: str,
                   prof: views.UnitProfile | None = None) -> str | None:
    """The warning for a unit at the data's edge (:attr:`views.UnitProfile.data_edge`), else
    None: its gaps may come from the extract's cut, not from the services."""
    if not _unit(ctx, name, prof).data_edge:
        return None
    # no unit name in it: st.warning renders markdown, and names come from data files
    return t("profile_data_edge", ctx.lang)


def ensure_selection(ctx: UIContext) -> str | None:
    """Make sure a unit is selected (default: the worst-served one of the current view)."""
    districts = ctx.snapshot.get(DISTRICTS)
    if districts is None or districts.empty:
        return None
    names = [str(n) for n in districts["name"]]
    if st.session_state.get(SELECTED) not in names:
        st.session_state[SELECTED] = (worst_unit(ctx.result, ctx.category or "", ctx.mode)
                                      or names[0])
    return str(st.session_state[SELECTED])


def render_profile(ctx: UIContext) -> None:
    """The profile of the selected unit (select box synced with map clicks)."""
    lang = ctx.lang
    if ensure_selection(ctx) is None:
        return
    districts = ctx.snapshot.get(DISTRICTS)
    names = [str(n) for n in districts["name"]]
    name = st.selectbox(t("choose_unit", lang), names, key=SELECTED, on_change=_unit_changed)
    d = districts[districts["name"].astype(str) == name].iloc[0]
    kind = t("kind_kernort", lang) if d.get("kind") == "kernort" else t("kind_ortsteil", lang)
    pop = d.get("population")
    pop_txt = (fmt.integer(float(pop), lang) if pop is not None and not pd.isna(pop)
               else t("unknown", lang))
    st.subheader(f"{name}")
    st.caption(f"{kind}, {d.get('municipality', '')} · {t('population', lang)}: {pop_txt}"
               + (f" · {t('approx_area', lang)}" if bool(d.get("approx", False)) else ""))
    if ctx.result is None:
        return
    parts = _profile_parts(result_identity(ctx), name, ctx.mode, lang, ctx)
    if parts.data_edge:
        st.warning(parts.data_edge)
    st.markdown(f"**{t('missing', lang)}** ({mode_label(ctx.mode, lang)})")
    if parts.missing:
        st.markdown("\n".join(f"- {line}" for line in parts.missing))
    else:
        st.success(t("nothing_missing", lang, mode=mode_label(ctx.mode, lang)))
    st.markdown(f"**{t('profile_table', lang)}** ({mode_label(ctx.mode, lang)})")
    st.table(parts.table, hide_index=True)
    # The chart repeats the table as bars; folded, it is not drawn (Vega is ~0.8 MB of
    # JavaScript: a second of the conference laptop's page view and of every slider step).
    chart = st.expander(t("profile_chart", lang), key=KEY_PROFILE_CHART, on_change="rerun")
    if chart.open is not False:
        with chart:
            if parts.chart_spec is not None:
                st.vega_lite_chart(parts.chart_spec, width="stretch")
            else:
                st.caption(t("no_data", lang))


def _unit_changed() -> None:
    st.session_state[UNIT_CHANGED] = True


def render_providers(ctx: UIContext) -> None:
    """The selected unit's nearest providers and next connections (below the profile).

    They do not depend on the thresholds, so the page draws them outside the map tab's
    fragment: a slider step does not send them again (they were ~0.1 s of its answer).
    """
    name = st.session_state.get(SELECTED)
    districts = ctx.snapshot.get(DISTRICTS)
    if ctx.result is None or name is None or districts is None \
            or str(name) not in set(districts["name"].astype(str)):
        return
    identity = result_identity(ctx)
    st.markdown(f"**{t('nearest_providers', ctx.lang)}**")
    st.table(_nearest(identity[:2] + identity[4:], str(name), ctx.mode, ctx.lang, ctx),
             hide_index=True)
    _connections(ctx, str(name))


def _connections(ctx: UIContext, name: str) -> None:
    """Next connections by timetable to the Kernort / central place and back."""
    run = getattr(ctx.result, "pt", None)
    if run is None or getattr(run, "timetable", None) is None:
        return
    from dorfkarte import pt

    lang = ctx.lang
    q = run.query
    back_from = pt.parse_hhmm(run.settings.roundtrip_arrive_by) + 60 * \
        run.settings.roundtrip_stay_min
    tables = _trip_tables((ctx.ws.fingerprint, id(run.timetable)), name, q.day, q.start_s,
                          back_from, lang, ctx, run)
    if not tables:
        return
    st.markdown("**" + t("pt_next", lang, caption=run.caption,
                         day=q.day.strftime("%d.%m.%Y")) + "**")
    for target, there, back in tables:
        c1, c2 = st.columns(2)
        for col, label, frame, t0 in ((c1, t("pt_to", lang, place=target), there, q.start_s),
                                      (c2, t("pt_back", lang, place=target), back,
                                       back_from)):
            with col:
                st.caption(f"{label} ({t('pt_depart', lang).lower()} {pt.fmt_hhmm(t0)})")
                if frame is not None:
                    st.table(frame, hide_index=True)
                else:
                    st.caption(t("pt_none", lang))


@st.cache_resource(show_spinner=False, max_entries=256)
def _trip_tables(key: tuple[Any, ...], name: str, day: Any, there_from: float,
                 back_from: float, lang: str, _ctx: UIContext, _run: Any
                 ) -> list[tuple[str, pd.DataFrame | None, pd.DataFrame | None]]:
    """The unit's next connections (:func:`dorfkarte.journey.round_trips`) as labelled
    tables (target, there, back; None: no trip), searched and built once per unit, day and
    window (~0.3 s): a rerun draws them without searching or building frames again."""
    from dorfkarte import journey

    districts = _ctx.snapshot.get(DISTRICTS)
    hit = districts[districts["name"].astype(str) == name]
    if hit.empty:
        return []
    trips = journey.round_trips(_planner(_ctx, _run), name,
                                hit.to_crs("EPSG:4326").geometry.iloc[0], there_from,
                                back_from, lang=lang)
    cols = {"depart": t("pt_depart", lang), "arrive": t("pt_arrive", lang),
            "minutes": t("pt_minutes", lang), "transfers": t("pt_transfers", lang),
            "lines": t("pt_lines", lang)}
    return [(trip.target,
             pd.DataFrame(trip.there).rename(columns=cols) if trip.there else None,
             pd.DataFrame(trip.back).rename(columns=cols) if trip.back else None)
            for trip in trips]


@st.cache_resource(show_spinner=False, max_entries=4)
def _planner_cached(key: tuple[Any, ...], _tt: Any, _region: Any) -> Any:
    from dorfkarte import journey

    return journey.Planner(_tt, _region, key[0])


def _planner(ctx: UIContext, run: Any) -> Any:
    return _planner_cached((run.query.day, id(run.timetable), str(ctx.region.path)),
                           run.timetable, ctx.region)


@dataclass(frozen=True)
class ProfileParts:
    """Everything the profile shows below the caption, ready to hand to Streamlit."""

    missing: list[str]
    table: pd.DataFrame
    chart_spec: dict[str, Any] | None
    #: :func:`data_edge_note` (None: not at the data's edge)
    data_edge: str | None = None


def result_identity(ctx: UIContext) -> tuple[Any, ...]:
    """A cheap hashable stand-in for ``ctx.result`` (hashing its DataFrames per rerun would
    cost as much as building the profile): the workspace fingerprint, the listings choice
    and the slider thresholds determine the shown result; ``id`` of the result objects
    guards against any result not built by the workspace.
    """
    thr = tuple(sorted((str(c), str(m), float(v))
                       for (c, m), v in ctx.view.thresholds.items()))
    return (ctx.ws.fingerprint, when_key(ctx.view.listings_when), thr, id(ctx.result),
            id(ctx.base_result))


@st.cache_resource(show_spinner=False, max_entries=256)
def _profile_parts(identity: tuple[Any, ...], name: str, mode: str, lang: str,
                   _ctx: UIContext) -> ProfileParts:
    """Table, chart spec and gaps of one unit, cached per view.

    Building them (pandas + Altair) took ~0.17 s of every slider rerun under AppTest; the map
    update should have that time. A hit costs ~0.02 s. The category is not part of the key because
    the profile shows every category of the chosen mode. ``cache_resource``: the parts are
    only read (a ``cache_data`` hit unpickles them, ~0.02 s per rerun).
    """
    prof = views.unit_profile(_ctx.result, _ctx.region, name, mode)  # once for all parts
    return ProfileParts(
        missing=missing_lines(_ctx, name, prof),
        table=profile_table(_ctx, name, prof),
        # Schema validation costs ~15 ms per build; tests/test_profile.py validates the spec.
        chart_spec=chart_spec(_ctx, name, prof),
        data_edge=data_edge_note(_ctx, name, prof),
    )


@st.cache_resource(show_spinner=False, max_entries=256)
def _nearest(identity: tuple[Any, ...], name: str, mode: str, lang: str,
             _ctx: UIContext) -> pd.DataFrame:
    """The nearest providers do not depend on the thresholds: cached without them."""
    return nearest_providers(_ctx, name)

