"""Ortsteil profile: travel times per category, nearest providers, what is missing.

The selected unit is ``st.session_state["selected_unit"]`` (set by a map click, the select
box here, or a test); without a selection the worst-served unit of the current view.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from dorfkarte.i18n import category_label, gap_label, mode_label, t
from dorfkarte.maps import fmt_number, fmt_share, fmt_value
from dorfkarte.region import ALL_MODES, TRANSIT
from dorfkarte.snapshot import DISTRICTS
from dorfkarte.ui import data as ui_data
from dorfkarte.ui.context import UIContext
from dorfkarte.ui.mapview import SELECTED

GAP_ORDER = {"Lücke": 0, "knapp": 1, "ok": 2, "keine Daten": 3}
GAP_CHART_COLOURS = {"Lücke": "#d73027", "knapp": "#fdae61", "ok": "#1a9850",
                     "keine Daten": "#bdbdbd"}


def worst_unit(result: Any, category: str, mode: str) -> str | None:
    """The unit with the lowest share within the threshold (ties: more residents first)."""
    if result is None:
        return None
    ind = result.indicators
    rows = ind[(ind["category"] == category) & (ind["mode"] == mode)]
    rows = rows[rows["share_within"].notna()]
    if rows.empty:
        return None
    rows = rows.assign(_pop=rows["population"].fillna(0)).sort_values(
        ["share_within", "_pop"], ascending=[True, False])
    return str(rows["district"].iloc[0])


def unit_rows(result: Any, name: str, mode: str) -> pd.DataFrame:
    ind = result.indicators
    return ind[(ind["district"].astype(str) == name) & (ind["mode"] == mode)].copy()


def profile_table(ctx: UIContext, name: str) -> pd.DataFrame:
    """One row per category for the chosen mode, German (or English) column names."""
    lang, region = ctx.lang, ctx.region
    rows = unit_rows(ctx.result, name, ctx.mode)
    order = {c: i for i, c in enumerate(region.categories)}
    rows = rows.assign(_o=rows["category"].map(order)).sort_values("_o")
    out = pd.DataFrame({
        t("col_category", lang): [category_label(region.categories[c], lang)
                                  for c in rows["category"]],
        t("col_median", lang): [fmt_value(v, u, lang) for v, u in zip(rows["median"],
                                                                      rows["unit"], strict=True)],
        t("col_p90", lang): [fmt_value(v, u, lang) for v, u in zip(rows["p90"], rows["unit"],
                                                                   strict=True)],
        t("col_threshold", lang): [fmt_value(v, u, lang) for v, u in zip(
            rows["threshold"], rows["unit"], strict=True)],
        t("col_share", lang): [fmt_share(v, lang) for v in rows["share_within"]],
        t("col_class", lang): [gap_label(str(g), lang) for g in rows["gap_class"]],
        t("col_nearest", lang): [str(n) if isinstance(n, str) else "" for n in
                                 rows["nearest_name"]],
        t("col_nearest_source", lang): [str(s) if isinstance(s, str) else "" for s in
                                        rows["nearest_source"]],
        t("col_method", lang): [t(f"method_{m}", lang) if m in ("network", "straight_line")
                                else str(m) for m in rows["method"]],
    })
    return out


def profile_chart(ctx: UIContext, name: str) -> alt.Chart | None:
    """Median travel time per category as bars (gap class colours), threshold as ticks."""
    lang, region = ctx.lang, ctx.region
    rows = unit_rows(ctx.result, name, ctx.mode)
    rows = rows[rows["gap_class"] != "keine Daten"]
    if rows.empty:
        return None
    unit = "m" if ctx.mode == TRANSIT else "min"
    finite = rows["median"].replace([np.inf], np.nan)
    cap = float(np.nanmax([finite.max(skipna=True) if finite.notna().any() else 0,
                           rows["threshold"].max()]) * 1.25) or 1.0
    med = rows["median"].to_numpy(dtype=float)
    data = pd.DataFrame({
        "Kategorie": [category_label(region.categories[c], lang) for c in rows["category"]],
        "Median": np.where(np.isinf(med), cap, med),
        "Schwelle": rows["threshold"].to_numpy(dtype=float),
        "Klasse": [gap_label(str(g), lang) for g in rows["gap_class"]],
        "Text": [fmt_value(v, unit, lang) for v in med],
        "Anteil": [fmt_share(v, lang) for v in rows["share_within"]],
    })
    domain = [gap_label(g, lang) for g in GAP_CHART_COLOURS]
    colours = list(GAP_CHART_COLOURS.values())
    y = alt.Y("Kategorie:N", sort=None, title=None, axis=alt.Axis(labelOverlap=False))
    bars = alt.Chart(data).mark_bar().encode(
        x=alt.X("Median:Q", title=f"{t('col_median', lang)} ({unit})",
                scale=alt.Scale(domain=[0, cap])),
        y=y,
        color=alt.Color("Klasse:N", scale=alt.Scale(domain=domain, range=colours),
                        title=t("col_class", lang)),
        tooltip=[alt.Tooltip("Kategorie:N"), alt.Tooltip("Text:N", title=t("col_median", lang)),
                 alt.Tooltip("Anteil:N", title=t("col_share", lang)),
                 alt.Tooltip("Klasse:N", title=t("col_class", lang))],
    )
    ticks = alt.Chart(data).mark_tick(color="#111", thickness=2, size=22).encode(
        x="Schwelle:Q", y=y,
        tooltip=[alt.Tooltip("Schwelle:Q", title=t("col_threshold", lang))],
    )
    return (bars + ticks).properties(height=max(120, 30 * len(data)))


def nearest_providers(ctx: UIContext, name: str) -> pd.DataFrame:
    """Per category: the nearest service to the unit's centre (straight line, km) and the one
    most residents reach first (from the analysis)."""
    lang, region, result = ctx.lang, ctx.region, ctx.result
    districts = ctx.snapshot.get(DISTRICTS)
    sel = districts[districts["name"].astype(str) == name] if districts is not None else None
    rows = unit_rows(result, name, ctx.mode).set_index("category")
    centre = None
    if sel is not None and len(sel):
        centre = sel.to_crs(region.crs).geometry.representative_point().iloc[0]
    records = []
    for cid, cat in region.categories.items():
        dests = result.destinations.get(cid) if result is not None else None
        near_name, near_km, near_src = "", math.nan, ""
        if centre is not None and dests is not None and len(dests):
            d = dests.to_crs(region.crs)
            dist = d.geometry.distance(centre).to_numpy()
            i = int(np.argmin(dist))
            near_name = str(d["name"].iloc[i]) if isinstance(d["name"].iloc[i], str) else ""
            near_km = float(dist[i]) / 1000.0
            near_src = str(d["source"].iloc[i]) if "source" in d else ""
        first = rows.loc[cid, "nearest_name"] if cid in rows.index else ""
        records.append({
            t("col_category", lang): category_label(cat, lang),
            t("nearest", lang): near_name or "–",
            "km (Luftlinie)" if lang == "de" else "km (straight line)":
                fmt_number(near_km, 1, lang) if not math.isnan(near_km) else "–",
            t("col_nearest_source", lang): near_src,
            ("Zuerst erreicht (" + mode_label(ctx.mode, lang) + ")") if lang == "de" else
            ("Reached first (" + mode_label(ctx.mode, lang) + ")"):
                first if isinstance(first, str) and first else "–",
        })
    return pd.DataFrame(records)


def missing_lines(ctx: UIContext, name: str) -> list[str]:
    """'Hausarzt: Lücke Fuß (12 % ≤ 15 min), knapp Rad (…), ok Auto (…)' per category that is
    a gap or tight in the chosen mode."""
    lang, region, result = ctx.lang, ctx.region, ctx.result
    ind = result.indicators
    rows = ind[ind["district"].astype(str) == name]
    # One pass over the unit's rows instead of a filter per category and mode (~30 ms).
    by_key = {(str(r["category"]), str(r["mode"])): r for r in rows.to_dict("records")}
    lines = []
    for cid in region.categories:
        cur = by_key.get((cid, ctx.mode))
        if cur is None or str(cur["gap_class"]) not in ("Lücke", "knapp"):
            continue
        parts = []
        for m in ALL_MODES:
            x = by_key.get((cid, m))
            if x is None:
                continue
            parts.append(f"{gap_label(str(x['gap_class']), lang)} {mode_label(m, lang)} "
                         f"({fmt_share(x['share_within'], lang)} ≤ "
                         f"{fmt_value(x['threshold'], str(x['unit']), lang)})")
        lines.append(f"**{category_label(region.categories[cid], lang)}**: " + ", ".join(parts))
    return lines


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
    name = st.selectbox(t("choose_unit", lang), names, key=SELECTED)
    d = districts[districts["name"].astype(str) == name].iloc[0]
    kind = t("kind_kernort", lang) if d.get("kind") == "kernort" else t("kind_ortsteil", lang)
    pop = d.get("population")
    pop_txt = (fmt_number(float(pop), 0, lang) if pop is not None and not pd.isna(pop)
               else t("no_data", lang))
    st.subheader(f"{name}")
    st.caption(f"{kind}, {d.get('municipality', '')} · {t('population', lang)}: {pop_txt}"
               + (f" · {t('approx_area', lang)}" if bool(d.get("approx", False)) else ""))
    if ctx.result is None:
        return
    parts = _profile_parts(result_identity(ctx), name, ctx.mode, lang, ctx)
    st.markdown(f"**{t('missing', lang)}** ({mode_label(ctx.mode, lang)})")
    if parts.missing:
        st.markdown("\n".join(f"- {line}" for line in parts.missing))
    else:
        st.success(t("nothing_missing", lang, mode=mode_label(ctx.mode, lang)))
    c1, c2 = st.columns([3, 2])
    with c1:
        st.markdown(f"**{t('profile_table', lang)}** ({mode_label(ctx.mode, lang)})")
        st.dataframe(parts.table, hide_index=True, width="stretch",
                     height=_rows_height(len(parts.table)))
    with c2:
        st.markdown(f"**{t('profile_chart', lang)}**")
        if parts.chart_spec is not None:
            st.vega_lite_chart(parts.chart_spec, width="stretch")
        else:
            st.caption(t("no_data", lang))
    st.markdown(f"**{t('nearest_providers', lang)}**")
    st.dataframe(parts.nearest, hide_index=True, width="stretch",
                 height=_rows_height(len(parts.nearest)))
    _connections(ctx, name)


def _connections(ctx: UIContext, name: str) -> None:
    """Next connections by timetable to the Kernort / central place and back."""
    run = getattr(ctx.result, "pt", None)
    if run is None or getattr(run, "timetable", None) is None:
        return
    from dorfkarte import journey, pt
    from dorfkarte.errors import DorfkarteError

    lang = ctx.lang
    q = run.query
    planner = _planner(ctx, run)
    try:
        places = journey.centre_places(ctx.region, name)
    except DorfkarteError:
        places = []
    districts = ctx.snapshot.get(DISTRICTS)
    hit = districts[districts["name"].astype(str) == name]
    if not places or hit.empty:
        return
    home = journey.unit_place(planner, name, hit.to_crs("EPSG:4326").geometry.iloc[0])
    st.markdown("**" + t("pt_next", lang, caption=run.caption,
                         day=q.day.strftime("%d.%m.%Y")) + "**")
    back_from = pt.parse_hhmm(run.settings.roundtrip_arrive_by) + 60 * \
        run.settings.roundtrip_stay_min
    cols = {"depart": t("pt_depart", lang), "arrive": t("pt_arrive", lang),
            "minutes": t("pt_minutes", lang), "transfers": t("pt_transfers", lang),
            "lines": t("pt_lines", lang)}
    for target in places[:2]:
        try:
            there = journey.resolve_place(target, planner.tt, ctx.region, planner)
        except DorfkarteError:
            continue
        c1, c2 = st.columns(2)
        for col, label, a, b, t0 in ((c1, t("pt_to", lang, place=target), home, there,
                                      q.start_s),
                                     (c2, t("pt_back", lang, place=target), there, home,
                                      back_from)):
            with col:
                st.caption(f"{label} ({t('pt_depart', lang).lower()} {pt.fmt_hhmm(t0)})")
                rows = [journey.connection_rows(j, planner)
                        for j in journey.next_connections(planner, a, b, t0)]
                if rows:
                    st.dataframe(pd.DataFrame(rows).rename(columns=cols), hide_index=True,
                                 width="stretch")
                else:
                    st.caption(t("pt_none", lang))


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
    nearest: pd.DataFrame


def result_identity(ctx: UIContext) -> tuple[Any, ...]:
    """A cheap hashable stand-in for ``ctx.result`` (hashing its DataFrames per rerun would
    cost as much as building the profile).

    The keys :mod:`dorfkarte.ui.data` caches the analysis under (data and listings state, region
    file time) plus the slider thresholds determine the shown result; ``id`` of the result
    objects guards against any result not built through those caches.
    """
    when = ctx.extra.get("listings_when")
    try:
        region_mtime = os.stat(ctx.region.path).st_mtime
    except (OSError, TypeError):
        region_mtime = 0.0
    thresholds = ctx.extra.get("thresholds") or {}
    thr = tuple(sorted((str(c), str(m), float(v)) for (c, m), v in thresholds.items()))
    return (*ui_data.snapshot_key(ctx.region, ctx.data_dir),
            *ui_data.listings_key(ctx.data_dir, when), region_mtime, thr,
            id(ctx.result), id(ctx.extra.get("base_result")))


@st.cache_data(show_spinner=False, max_entries=256)
def _profile_parts(identity: tuple[Any, ...], name: str, mode: str, lang: str,
                   _ctx: UIContext) -> ProfileParts:
    """Table, chart spec, gaps and nearest providers of one unit, cached per view.

    Building them (pandas + Altair) took ~0.17 s of every slider rerun under AppTest; the map
    update should have that time. A hit costs ~0.02 s. The category is not part of the key because
    the profile shows every category of the chosen mode.
    """
    chart = profile_chart(_ctx, name)
    return ProfileParts(
        missing=missing_lines(_ctx, name),
        table=profile_table(_ctx, name),
        # Schema validation costs ~15 ms per build; tests/test_profile.py validates the spec.
        chart_spec=chart.to_dict(validate=False) if chart is not None else None,
        nearest=nearest_providers(_ctx, name),
    )


def _rows_height(n: int) -> int:
    """Pixel height showing every row (no inner scrolling for a dozen categories)."""
    return 35 * (n + 1) + 3
