"""Conference demo mode: a guided story on one full-width map, large type, no network.

Overview -> one category's gaps -> one Ortsteil's profile -> a what-if scenario. The map is
the self-contained offline export (Leaflet inlined, base map from the data) shown in an
iframe, so it works on a laptop without Wi-Fi and without Streamlit's static serving.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from dorfkarte.region import TRANSIT, Region
from dorfkarte.ui.context import UIContext

STEP_KEY = "demo_step"
CACHE_KEY = "demo_cache"
MAP_HEIGHT = 680
NO_DATA = "keine Daten"

_T: dict[str, tuple[str, str]] = {
    "steps": ("Überblick|Lücken|Ortsteil|Was wäre, wenn?",
              "Overview|Gaps|Village|What if?"),
    "back": ("◀ Zurück", "◀ Back"),
    "next": ("Weiter ▶", "Next ▶"),
    "restart": ("Von vorn", "Start over"),
    "step": ("Schritt {i} von {n}", "Step {i} of {n}"),
    "overview_head": ("{n} Ortsteile: wo fehlt Daseinsvorsorge?",
                      "{n} villages: where are basic services missing?"),
    "overview_text": ("{units}. Jede Fläche ist ein Ortsteil; die Farben zeigen im nächsten "
                      "Schritt, wie viele Einwohner eine Einrichtung in zumutbarer Zeit "
                      "erreichen.",
                      "{units}. Each area is a village; the next step colours them by how many "
                      "residents reach a service in acceptable time."),
    "m_units": ("Ortsteile", "Villages"),
    "m_pop": ("Einwohner", "Residents"),
    "m_pop_known": ("Einwohner (bekannte)", "Residents (known)"),
    "pop_missing": ("Ohne veröffentlichte Einwohnerzahl: {names}",
                    "No published population: {names}"),
    "m_gaps": ("Lücken ({mode})", "Gaps ({mode})"),
    "m_services": ("Einrichtungen", "Services"),
    "gaps_head": ("{cat}: {n} von {total} Ortsteilen mit Lücke ({mode}, {thr})",
                  "{cat}: {n} of {total} villages with a gap ({mode}, {thr})"),
    "gaps_none": ("{cat}: keine Lücke ({mode}, {thr})", "{cat}: no gap ({mode}, {thr})"),
    "choose_cat": ("Kategorie", "Category"),
    "worst": ("Am schlechtesten versorgt", "Worst served"),
    "profile_head": ("{name}: {pop} Einwohner, {kind}", "{name}: {pop} residents, {kind}"),
    "choose_unit": ("Ortsteil", "Village"),
    "scenario_head": ("Was wäre, wenn {cat} nach {name} käme?",
                      "What if {cat} came to {name}?"),
    "scenario_text": ("Beispiel-Szenario (kein realer Plan): ein zusätzliches Angebot am "
                      "Ortsmittelpunkt von {name}.",
                      "Example scenario (not a real plan): one extra service at the centre "
                      "of {name}."),
    "scenario_point": ("Beispiel: neues Angebot {cat}", "Example: new service {cat}"),
    "before": ("vorher", "before"),
    "after": ("nachher", "after"),
    "share_in": ("Anteil in {name}", "Share in {name}"),
    "gaps_region": ("Ortsteile mit Lücke", "Villages with a gap"),
    "residents_gain": ("Einwohner zusätzlich versorgt", "Residents newly served"),
    "no_result": ("Die Erreichbarkeit kann nicht berechnet werden: {reason}",
                  "Accessibility cannot be computed: {reason}"),
    "no_data_note": ("Ohne OSM-Schnappschuss haben nur die Haltestellen ({source}) Daten; "
                     "andere Kategorien erscheinen als „keine Daten“, nicht als Lücke.",
                     "Without an OSM snapshot only stops ({source}) have data; other "
                     "categories show as “no data”, not as gaps."),
    "col_cat": ("Kategorie", "Category"),
    "col_median": ("Median", "Median"),
    "col_share": ("Anteil innerhalb", "Share within"),
    "col_class": ("Bewertung", "Rating"),
    "col_nearest": ("Nächstes Angebot", "Nearest"),
    "kernort": ("Kernort", "main place"),
    "ortsteil": ("Ortsteil", "village"),
}

#: Large type for a projector; static CSS, no data in it.
DEMO_CSS = """
<style>
  .block-container { max-width: 100% !important; padding-top: 1rem; padding-left: 1.5rem;
    padding-right: 1.5rem; }
  .block-container p, .block-container li, .block-container label { font-size: 1.35rem; }
  .block-container h1 { font-size: 2.6rem; }
  .block-container h2 { font-size: 2.1rem; }
  .block-container h3 { font-size: 1.7rem; }
  div[data-testid="stMetricValue"] { font-size: 2.6rem; }
  div[data-testid="stMetricLabel"] p { font-size: 1.2rem; }
  .stButton button { font-size: 1.3rem; padding: 0.4rem 1.4rem; }
</style>
"""


def tr(key: str, lang: str = "de", **fmt: object) -> str:
    de, en = _T[key]
    text = en if lang == "en" else de
    return text.format(**fmt) if fmt else text


def _fmt_int(v: float, lang: str) -> str:
    if v is None or not math.isfinite(v):
        return "–"
    s = f"{v:,.0f}"
    return s.replace(",", ".") if lang != "en" else s


def _fmt_share(v: float) -> str:
    return "–" if v is None or not math.isfinite(v) else f"{v:.0%}"


def _cat_label(region: Region, cid: str, lang: str) -> str:
    c = region.category(cid)
    return c.label_en if lang == "en" else c.label


def _mode_label(mode: str, lang: str) -> str:
    from dorfkarte.i18n import mode_label

    return mode_label(mode, lang)


def _threshold_text(result: Any, cid: str, mode: str) -> str:
    val = result.thresholds.get((cid, mode))
    if val is None:
        return ""
    return f"{val:g} m" if mode == TRANSIT else f"{val:g} min"


# --------------------------------------------------------------------------- choices


def demo_result(ctx: UIContext) -> Any:
    """The coverage result: the app's, else computed once on the loaded data and cached."""
    if ctx.result is not None:
        return ctx.result
    cache = st.session_state.setdefault(CACHE_KEY, {})
    if "result" not in cache:
        from dorfkarte import coverage

        with st.spinner("Erreichbarkeit wird berechnet …" if ctx.lang != "en"
                        else "Computing accessibility …"):
            cache["result"] = coverage.analyse(ctx.snapshot, ctx.region)
    return cache["result"]


def demo_mode(result: Any, ctx: UIContext, cid: str) -> str:
    """The app's mode if the pair exists; transit categories default to ÖPNV-Nähe."""
    modes = [m for (c, m) in result.times if c == cid]
    if ctx.mode in modes:
        return ctx.mode
    return TRANSIT if TRANSIT in modes else (modes[0] if modes else ctx.mode)


def gap_counts(result: Any, mode: str) -> pd.Series:
    """Number of Ortsteile with a gap per category for ``mode`` (categories with data only)."""
    ind = result.indicators
    sub = ind[(ind["mode"] == mode) & (ind["gap_class"] != NO_DATA)]
    return (sub["gap_class"] == "Lücke").groupby(sub["category"], sort=False).sum()


def pick_category(result: Any, ctx: UIContext) -> str:
    """The app's category if it has data, else the one with most gaps (the story's point)."""
    ind = result.indicators
    has_data = set(ind.loc[ind["gap_class"] != NO_DATA, "category"])
    if ctx.category in has_data:
        return ctx.category
    best, best_n = None, -1
    for cid in result.categories:
        if cid not in has_data:
            continue
        counts = gap_counts(result, demo_mode(result, ctx, cid))
        n = int(counts.get(cid, 0))
        if n > best_n:
            best, best_n = cid, n
    return best or (ctx.category or result.categories[0])


def ranking(result: Any, cid: str, mode: str) -> pd.DataFrame:
    """Ortsteile of one category/mode, worst first (lowest share, then longest median)."""
    ind = result.indicators
    sub = ind[(ind["category"] == cid) & (ind["mode"] == mode)].copy()
    sub["_share"] = sub["share_within"].fillna(-1.0)
    sub["_median"] = sub["median"].replace(np.inf, 1e12).fillna(-1.0)
    return sub.sort_values(["_share", "_median"], ascending=[True, False]).drop(
        columns=["_share", "_median"])


def centre_of(result: Any, ctx: UIContext, name: str) -> gpd.GeoDataFrame:
    """The Ortsteil's centre: its ``centre`` origin, else a point on its area (EPSG:4326)."""
    o = result.origins
    hit = o[(o["district"] == name) & (o["kind"] == "centre")] if "kind" in o else o.iloc[0:0]
    if len(hit):
        geom = hit.geometry.iloc[0]
    else:
        d = result.districts
        geom = d.loc[d["name"] == name].geometry.representative_point().iloc[0]
    return gpd.GeoDataFrame({"name": [name]}, geometry=[geom], crs=o.crs).to_crs("EPSG:4326")


def scenario_points(result: Any, ctx: UIContext, cid: str, name: str) -> gpd.GeoDataFrame:
    """One example service point at the Ortsteil's centre (labelled as example data)."""
    pt = centre_of(result, ctx, name)
    label = tr("scenario_point", ctx.lang, cat=_cat_label(ctx.region, cid, ctx.lang))
    return gpd.GeoDataFrame(
        {"name": [label], "category": [cid], "source": ["scenario"], "ref": ["demo"]},
        geometry=pt.geometry.to_numpy(), crs="EPSG:4326",
    )


def run_scenario(ctx: UIContext, result: Any, cid: str, mode: str, name: str) -> dict[str, Any]:
    """Before/after for one extra example point, as an incremental what-if (milliseconds).

    :class:`dorfkarte.scenario.WhatIf` changes only the affected category on the shown
    result, so the app's listings and slider thresholds count in both states.
    """
    from dorfkarte.scenario import WhatIf

    pts = scenario_points(result, ctx, cid, name)
    pt = pts.geometry.iloc[0]
    wi = WhatIf(result)
    effect = wi.add(cid, lat=pt.y, lon=pt.x, name=str(pts["name"].iloc[0]), kind="centre")
    after = wi.result
    before_rows = ranking(result, cid, mode).set_index("district")
    after_rows = ranking(after, cid, mode).set_index("district")

    def served(rows: pd.DataFrame) -> float:
        return float(np.nansum(rows["residents_within"].to_numpy(dtype=float)))

    return {
        "points": pts,
        "after": after,
        "ms": effect.ms,
        "share_before": float(before_rows.at[name, "share_within"]),
        "share_after": float(after_rows.at[name, "share_within"]),
        "gaps_before": int((before_rows["gap_class"] == "Lücke").sum()),
        "gaps_after": int((after_rows["gap_class"] == "Lücke").sum()),
        "gain": served(after_rows) - served(before_rows),
    }


# --------------------------------------------------------------------------- map


def demo_map_html(ctx: UIContext, result: Any, *, category: str | None, mode: str,
                  highlight: str | None = None, extra_points: Any = None) -> str:
    """Offline export page for one step, cached per step settings (renders take ~1 s)."""
    from dorfkarte.export import build_export_html

    key = ("map", category, mode, highlight, id(result), extra_points is not None, ctx.lang)
    cache = st.session_state.setdefault(CACHE_KEY, {})
    if key not in cache:
        doc, _, _ = build_export_html(
            ctx.snapshot, ctx.region, result, category=category, mode=mode, offline=True,
            lang=ctx.lang, extra_points=extra_points, highlight=highlight, large=True,
        )
        cache[key] = doc
    return cache[key]


def show_map(doc: str) -> None:
    """Our own export page (every data string escaped) in an iframe: no server assets."""
    if hasattr(st, "iframe"):
        st.iframe(doc, height=MAP_HEIGHT)
    else:  # Streamlit before st.iframe
        components.html(doc, height=MAP_HEIGHT, scrolling=False)


# --------------------------------------------------------------------------- steps


def _nav(lang: str, step: int, n: int) -> None:
    cols = st.columns([1, 1, 6, 1])
    if cols[0].button(tr("back", lang), disabled=step == 0, key="demo_back"):
        st.session_state[STEP_KEY] = step - 1
        st.rerun()
    if step < n - 1:
        if cols[1].button(tr("next", lang), type="primary", key="demo_next"):
            st.session_state[STEP_KEY] = step + 1
            st.rerun()
    elif cols[1].button(tr("restart", lang), key="demo_restart"):
        st.session_state[STEP_KEY] = 0
        st.rerun()
    names = tr("steps", lang).split("|")
    cols[2].markdown(
        " → ".join(f"**{s}**" if i == step else s for i, s in enumerate(names))
        + f"  \n{tr('step', lang, i=step + 1, n=n)}"
    )


def _overview(ctx: UIContext, result: Any) -> None:
    lang = ctx.lang
    d = result.districts
    pops = pd.to_numeric(d["population"], errors="coerce")
    pop = float(np.nansum(pops))
    missing = [str(n) for n in d.loc[pops.isna(), "name"]]
    st.header(tr("overview_head", lang, n=len(d)))
    st.write(tr("overview_text", lang, units=ctx.region.unit_label))
    mode = ctx.mode if ctx.mode != TRANSIT else "walk"
    gaps = int(gap_counts(result, mode).sum())
    services = sum(len(g) for g in result.destinations.values())
    c = st.columns(4)
    c[0].metric(tr("m_units", lang), len(d))
    c[1].metric(tr("m_pop_known" if missing else "m_pop", lang), _fmt_int(pop, lang),
                help=tr("pop_missing", lang, names=", ".join(missing)) if missing else None)
    c[2].metric(tr("m_gaps", lang, mode=_mode_label(mode, lang)), gaps)
    c[3].metric(tr("m_services", lang), services)
    if not ctx.snapshot.has_osm:
        cited = ctx.region.transit.source.split(",")[0].strip() or "GTFS"
        st.caption(tr("no_data_note", lang, source=cited))
    show_map(demo_map_html(ctx, result, category=None, mode=mode))


def _gaps(ctx: UIContext, result: Any, cid: str, mode: str) -> None:
    lang = ctx.lang
    rank = ranking(result, cid, mode)
    n_gap = int((rank["gap_class"] == "Lücke").sum())
    fmt = {"cat": _cat_label(ctx.region, cid, lang), "mode": _mode_label(mode, lang),
           "thr": _threshold_text(result, cid, mode), "n": n_gap, "total": len(rank)}
    st.header(tr("gaps_head", lang, **fmt) if n_gap else tr("gaps_none", lang, **fmt))
    worst = [str(x) for x in rank["district"].head(5)]
    st.write(f"{tr('worst', lang)}: " + ", ".join(worst))
    show_map(demo_map_html(ctx, result, category=cid, mode=mode))


def _profile(ctx: UIContext, result: Any, cid: str, mode: str, name: str) -> None:
    lang = ctx.lang
    d = result.districts.set_index("name")
    row = d.loc[name]
    kind = tr("kernort" if row.get("kind") == "kernort" else "ortsteil", lang)
    pop = pd.to_numeric(pd.Series([row.get("population")]), errors="coerce").iloc[0]
    st.header(tr("profile_head", lang, name=name, pop=_fmt_int(float(pop), lang), kind=kind))
    ind = result.indicators
    sub = ind[(ind["district"] == name) & (ind["mode"] == mode)]
    if mode == TRANSIT or sub.empty:
        sub = ind[(ind["district"] == name) & (ind["mode"] == demo_mode(result, ctx, cid))
                  & (ind["category"] == cid)]
    from dorfkarte.i18n import gap_label

    table = pd.DataFrame({
        tr("col_cat", lang): [_cat_label(ctx.region, c, lang) for c in sub["category"]],
        tr("col_median", lang): [
            "–" if not math.isfinite(v) else f"{v:.0f} {u}"
            for v, u in zip(sub["median"].astype(float), sub["unit"], strict=True)
        ],
        tr("col_share", lang): [_fmt_share(v) for v in sub["share_within"].astype(float)],
        tr("col_class", lang): [gap_label(g, lang) for g in sub["gap_class"]],
        tr("col_nearest", lang): sub["nearest_name"].fillna("").astype(str).to_numpy(),
    })
    left, right = st.columns([3, 2])
    with left:
        show_map(demo_map_html(ctx, result, category=cid, mode=mode, highlight=name))
    with right:
        st.table(table.set_index(tr("col_cat", lang)))


def _scenario(ctx: UIContext, result: Any, cid: str, mode: str, name: str) -> None:
    lang = ctx.lang
    cat = _cat_label(ctx.region, cid, lang)
    st.header(tr("scenario_head", lang, cat=cat, name=name))
    st.write(tr("scenario_text", lang, name=name))
    cache = st.session_state.setdefault(CACHE_KEY, {})
    key = ("scenario", cid, mode, name, id(result))
    if key not in cache:
        with st.spinner("…"):
            cache[key] = run_scenario(ctx, result, cid, mode, name)
    sc = cache[key]
    c = st.columns(3)
    c[0].metric(tr("share_in", lang, name=name), _fmt_share(sc["share_after"]),
                delta=None if not math.isfinite(sc["share_before"]) else
                f"{(sc['share_after'] - sc['share_before']) * 100:+.0f} %-Pkt. "
                f"({tr('before', lang)} {_fmt_share(sc['share_before'])})")
    c[1].metric(tr("gaps_region", lang), sc["gaps_after"],
                delta=sc["gaps_after"] - sc["gaps_before"], delta_color="inverse")
    c[2].metric(tr("residents_gain", lang), _fmt_int(sc["gain"], lang))
    show_map(demo_map_html(ctx, sc["after"], category=cid, mode=mode, highlight=name,
                           extra_points=sc["points"]))


def render_demo(ctx: UIContext) -> None:
    """The guided demo; the step lives in ``st.session_state['demo_step']``."""
    lang = ctx.lang
    st.markdown(DEMO_CSS, unsafe_allow_html=True)
    try:
        result = demo_result(ctx)
    except Exception as exc:  # a broken snapshot must not end the talk with a traceback
        st.error(tr("no_result", lang, reason=" ".join(str(exc).split())))
        return
    n = 4
    step = int(st.session_state.get(STEP_KEY, 0))
    step = min(max(step, 0), n - 1)
    _nav(lang, step, n)

    cid = pick_category(result, ctx)
    options = [c for c in result.categories
               if (result.indicators["category"] == c).any()]
    pick = st.columns(2) if step in (1, 2, 3) else []
    if pick:
        cid = pick[0].selectbox(tr("choose_cat", lang), options, index=options.index(cid),
                                format_func=lambda c: _cat_label(ctx.region, c, lang),
                                key="demo_category")
    mode = demo_mode(result, ctx, cid)
    rank = ranking(result, cid, mode)
    if step == 0:
        _overview(ctx, result)
    elif step == 1:
        _gaps(ctx, result, cid, mode)
    else:
        names = [str(x) for x in rank["district"]]
        name = pick[1].selectbox(tr("choose_unit", lang), names, index=0, key="demo_unit")
        if step == 2:
            _profile(ctx, result, cid, mode, name)
        else:
            _scenario(ctx, result, cid, mode, name)
