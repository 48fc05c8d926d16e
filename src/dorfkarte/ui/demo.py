"""Conference demo mode: a guided story on one full-width map, large type, no network.

Overview -> one category's gaps -> one Ortsteil's profile -> a what-if scenario. The map is
the self-contained offline export (Leaflet inlined, base map from the data) shown in an
iframe, so it works on a laptop without Wi-Fi and without Streamlit's static serving.

The story follows the data, it never invents gaps: where a category has gaps, the worst
Ortsteil gets an example service (placed where it reaches the most residents beyond the
threshold). Where everybody is within reach (the embedded data: every Ortsteil has a stop
within 1,000 m), the gaps step says so and shows how well the nearest stops are served, and
the scenario shows what closing the stop an Ortsteil relies on would cost. Categories
without data stay "keine Daten", with the way to get an OSM snapshot. Every scenario is
labelled as an example, not a plan.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
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
#: Homes tried as sites for the example service of the "add" scenario.
MAX_CANDIDATES = 120
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
    "scenario_text_best": ("Beispiel-Szenario (kein realer Plan): ein zusätzliches Angebot "
                           "in {name}, dort, wo es die meisten bisher nicht versorgten "
                           "Einwohner erreicht.",
                           "Example scenario (not a real plan): one extra service in {name}, "
                           "where it reaches most of the residents not served so far."),
    "scenario_point": ("Beispiel: neues Angebot {cat}", "Example: new service {cat}"),
    "closure_head_stop": ("Was wäre, wenn die Haltestelle „{stop}“ nicht mehr bedient würde?",
                          "What if the stop “{stop}” were no longer served?"),
    "closure_head": ("Was wäre, wenn „{stop}“ ({cat}) schließen würde?",
                     "What if “{stop}” ({cat}) closed?"),
    "closure_text": ("Beispiel-Szenario (kein realer Plan): {name} hat keine Lücke, die sich "
                     "schließen ließe. Stattdessen zeigt die Karte, wer den Zugang verliert, "
                     "wenn das Angebot, auf das sich {name} stützt, wegfällt.",
                     "Example scenario (not a real plan): {name} has no gap to close. "
                     "Instead the map shows who loses access if the service {name} relies "
                     "on went away."),
    "closure_point": ("Beispiel: „{stop}“ entfällt", "Example: “{stop}” closed"),
    "residents_lose": ("Einwohner verlieren den Zugang", "Residents losing access"),
    "next_stop": ("Weg zur nächsten Haltestelle ({name})", "Distance to next stop ({name})"),
    "next_service": ("Zeit zum nächsten Angebot ({name})", "Time to next service ({name})"),
    "next_after": ("Danach am nächsten: {next} ({value} statt {before}).",
                   "Then the nearest is {next} ({value} instead of {before})."),
    "next_none": ("Danach ist kein Angebot dieser Kategorie mehr erreichbar.",
                  "Then no service of this category is reachable."),
    "losers": ("Verlieren den Zugang: {items}", "Losing access: {items}"),
    "losers_none": ("Niemand verliert den Zugang: ein weiteres Angebot liegt in Reichweite.",
                    "Nobody loses access: another service is within reach."),
    "computed": ("Berechnet in {ms:.0f} ms (inkrementell, ohne neue Gesamtanalyse).",
                 "Computed in {ms:.0f} ms (incremental, no new full analysis)."),
    "no_closure": ("{name}: kein Angebot dieser Kategorie erreichbar, also auch nichts zu "
                   "schließen.", "{name}: no service of this category reachable, so none to "
                   "close."),
    "nodata_head": ("{cat}: keine Daten", "{cat}: no data"),
    "nodata_scenario": ("Für {cat} enthält der Datenstand keine Einrichtungen. Ein "
                        "Szenario würde „nirgends ein Angebot“ unterstellen; das wäre eine "
                        "erfundene Aussage. Bitte eine Kategorie mit Daten wählen.",
                        "The data holds no {cat} services. A scenario would assume there are "
                        "none anywhere, which would be an invented claim. Please choose a "
                        "category with data."),
    "all_reach_stop_embedded": ("Mit den eingebetteten Daten hat jeder Ortsteil eine "
                                "Haltestelle in Reichweite (höchstens {thr}).",
                                "With the embedded data every village has a stop within "
                                "reach (at most {thr})."),
    "all_reach_stop": ("Jeder Ortsteil hat eine Haltestelle in Reichweite (höchstens {thr}).",
                       "Every village has a stop within reach (at most {thr})."),
    "some_beyond": ("Kein Ortsteil hat eine Lücke; in {k} Ortsteilen liegen aber einige "
                    "Einwohner über der Schwelle ({mode}, {thr}).",
                    "No village has a gap, but in {k} villages some residents are beyond "
                    "the threshold ({mode}, {thr})."),
    "all_reach": ("Jeder Ortsteil erreicht {cat} innerhalb der Schwelle ({mode}, {thr}).",
                  "Every village reaches {cat} within the threshold ({mode}, {thr})."),
    "service_head": ("Aber wie gut sind die nächsten Haltestellen bedient?",
                     "But how well are the nearest stops served?"),
    "service_caption": ("Bedienung: Ankünfte + Abfahrten im Fahrplan, nach Verkehrsmittel "
                        "gewichtet ({source}); je kleiner, desto seltener hält dort etwas. "
                        "Haltestellen unter {min_w} zählen nicht als bedient ({n} im "
                        "Datenstand).",
                        "Service: arrivals + departures in the timetable, weighted by mode "
                        "({source}); the smaller, the rarer a vehicle stops. Stops below "
                        "{min_w} do not count as served ({n} in the data)."),
    "longest_head": ("Die längsten Wege", "The longest trips"),
    "col_unit": ("Ortsteil", "Village"),
    "col_stop": ("Nächste Haltestelle", "Nearest stop"),
    "col_dist": ("Entfernung", "Distance"),
    "col_service": ("Bedienung", "Service"),
    "nodata_cats": ("Keine Daten für: {cats}. Das ist keine Lücke, sondern fehlt im "
                    "Datenstand.", "No data for: {cats}. This is not a gap but missing data."),
    "nodata_gaps": ("{cat}: keine Daten im Datenstand", "{cat}: no data"),
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
  .block-container table td, .block-container table th { font-size: 1.2rem; }
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
    """ÖPNV-Nähe for transit categories, else the app's mode if the pair exists.

    For stops the story is the BBSR rule (a served stop within 1,000 m), where the stops'
    service weight counts; walking minutes to any pole would hide that.
    """
    modes = [m for (c, m) in result.times if c == cid]
    if TRANSIT in modes:
        return TRANSIT
    if ctx.mode in modes:
        return ctx.mode
    return modes[0] if modes else ctx.mode


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


def has_data(result: Any, cid: str) -> bool:
    """Whether the category has any service point in the data (else all "keine Daten")."""
    ind = result.indicators
    return bool(((ind["category"] == cid) & (ind["gap_class"] != NO_DATA)).any())


def no_data_categories(result: Any) -> list[str]:
    """Categories without any service point in the data (not gaps: missing data)."""
    return [c for c in result.categories if not has_data(result, c)]


def focus_ranking(result: Any, cid: str, mode: str) -> pd.DataFrame:
    """The demo's order of Ortsteile: worst first where anyone is beyond the threshold.

    Where everybody is within reach, the weakest link comes first instead: for stops the
    least served nearest stop (service weight), then the longest distance.
    """
    rank = ranking(result, cid, mode)
    share = rank["share_within"].astype(float)
    if share.isna().all() or (share < 1.0).any():
        return rank
    if "nearest_weight" in rank and rank["nearest_weight"].notna().any():
        r = rank.assign(_w=rank["nearest_weight"].astype(float).fillna(np.inf),
                        _m=rank["median"].astype(float).replace(np.inf, 1e12).fillna(-1.0))
        return r.sort_values(["_w", "_m"], ascending=[True, False], kind="stable").drop(
            columns=["_w", "_m"])
    return rank


def unserved_stops(ctx: UIContext) -> int:
    """Stops in the data that do not count as served (weight below the minimum or none)."""
    from dorfkarte.snapshot import STOPS

    stops = ctx.snapshot.get(STOPS)
    if stops is None or not len(stops) or "weight" not in stops:
        return 0
    w = pd.to_numeric(stops["weight"], errors="coerce")
    return int((w.isna() | (w < ctx.region.transit.min_weight)).sum())


def scenario_kind(result: Any, cid: str, mode: str, name: str) -> str:
    """``add`` where the Ortsteil has residents beyond the threshold (a gap to close),
    ``remove`` where all are within reach (show what a closure would cost), ``nodata``
    where the category has no data at all (any scenario would invent facts)."""
    rows = ranking(result, cid, mode).set_index("district")
    if name not in rows.index or rows.at[name, "gap_class"] == NO_DATA:
        return "nodata"
    share = float(rows.at[name, "share_within"])
    return "add" if not math.isfinite(share) or share < 1.0 else "remove"


def closure_target(result: Any, cid: str, mode: str, name: str) -> int | None:
    """Row in ``result.destinations[cid]`` of the service most of the Ortsteil relies on
    (nearest for the largest share of its residents), None when none is reachable."""
    near = np.asarray(result.nearest[(cid, mode)])
    o = result.origins
    mask = (o["district"].astype(str) == name).to_numpy() & (near >= 0)
    if not mask.any():
        return None
    w = pd.to_numeric(o["population"], errors="coerce").to_numpy(dtype=float)[mask]
    w = np.where(np.isfinite(w) & (w > 0), w, 1.0)
    return int(np.argmax(np.bincount(near[mask], weights=w)))


def centre_of(result: Any, ctx: UIContext, name: str) -> gpd.GeoDataFrame:
    """Where the Ortsteil's example service goes: its village centre (EPSG:4326).

    In order: the ``centre`` origin (approximate areas), the centre from the region's
    centres file when it lies in the area, the home closest to the residents' weighted mean
    position (where the village is, not the middle of its fields), a point on the area.
    """
    o = result.origins
    mine = o[o["district"].astype(str) == name]
    hit = mine[mine["kind"] == "centre"] if "kind" in mine else mine.iloc[0:0]
    d = result.districts
    area = d.loc[d["name"].astype(str) == name]
    geom = hit.geometry.iloc[0] if len(hit) else None
    if geom is None and ctx.region.districts.centres_file is not None and len(area):
        from dorfkarte.districts import read_centres
        from dorfkarte.errors import DorfkarteError

        try:
            c = read_centres(ctx.region)
        except DorfkarteError:
            c = None
        if c is not None:
            row = c[c["name"].astype(str) == name]
            if len(row):
                pt = gpd.GeoSeries(gpd.points_from_xy(row["lon"], row["lat"]),
                                   crs="EPSG:4326").to_crs(area.crs).iloc[0]
                if area.geometry.iloc[0].covers(pt):
                    geom = gpd.GeoSeries([pt], crs=area.crs).to_crs(o.crs).iloc[0]
    if geom is None and len(mine):
        xy = result.origin_xy[(o["district"].astype(str) == name).to_numpy()]
        w = pd.to_numeric(mine["population"], errors="coerce").to_numpy(dtype=float)
        w = np.where(np.isfinite(w) & (w > 0), w, 1.0)
        mean = (xy * w[:, None]).sum(axis=0) / w.sum()
        geom = mine.geometry.iloc[int(np.argmin(((xy - mean) ** 2).sum(axis=1)))]
    if geom is None:
        geom = area.to_crs(o.crs).geometry.representative_point().iloc[0]
    return gpd.GeoDataFrame({"name": [name]}, geometry=[geom], crs=o.crs).to_crs("EPSG:4326")


def best_site(result: Any, cid: str, mode: str, name: str,
              max_candidates: int = MAX_CANDIDATES) -> gpd.GeoDataFrame | None:
    """The Ortsteil's own origin (home) from which a new service would newly reach the most
    of its residents now beyond the threshold (a one-site MCLP over its homes).

    None when no home gains anyone (e.g. homes cut off from the street network): then the
    village centre is used. At most ``max_candidates`` evenly spread homes are tried, with
    bounded searches (``limit`` = threshold), so this stays well under a second.
    """
    from dorfkarte.scenario import candidate_times

    o = result.origins
    mask = (o["district"].astype(str) == name).to_numpy()
    idx = np.flatnonzero(mask)
    if not len(idx) or (cid, mode) not in result.times:
        return None
    thr = float(result.thresholds[(cid, mode)])
    cur = np.asarray(result.times[(cid, mode)], dtype=float)[idx]
    w = np.asarray(result._groups.weights, dtype=float)[idx]
    need = np.where(cur <= thr, 0.0, w)  # NaN/inf: not covered
    if not need.any():
        return None
    pick = idx[np.unique(np.linspace(0, len(idx) - 1, min(len(idx), max_candidates))
                         .round().astype(int))]
    cand = o.iloc[pick][["geometry"]].reset_index(drop=True)
    t = candidate_times(result, mode, cand, limit=thr)[idx]  # unit origins x candidates
    gain = (t <= thr).T.astype(float) @ need
    j = int(np.argmax(gain))
    if gain[j] <= 0:
        return None
    return gpd.GeoDataFrame({"name": [name]}, geometry=[cand.geometry.iloc[j]],
                            crs=o.crs).to_crs("EPSG:4326")


def scenario_points(result: Any, ctx: UIContext, cid: str, name: str,
                    mode: str | None = None) -> gpd.GeoDataFrame:
    """One example service point in the Ortsteil (labelled as example data): where it
    reaches the most residents now beyond the threshold, else at the village centre.
    Column ``placed`` says which (``best`` / ``centre``)."""
    pt = best_site(result, cid, mode, name) if mode is not None else None
    placed = "best" if pt is not None else "centre"
    if pt is None:
        pt = centre_of(result, ctx, name)
    label = tr("scenario_point", ctx.lang, cat=_cat_label(ctx.region, cid, ctx.lang))
    return gpd.GeoDataFrame(
        {"name": [label], "category": [cid], "source": ["scenario"], "ref": ["demo"],
         "example": [True], "placed": [placed]},
        geometry=pt.geometry.to_numpy(), crs="EPSG:4326",
    )


def run_scenario(ctx: UIContext, result: Any, cid: str, mode: str, name: str) -> dict[str, Any]:
    """Before/after for one extra example point, as an incremental what-if (milliseconds).

    :class:`dorfkarte.scenario.WhatIf` changes only the affected category on the shown
    result, so the app's listings and slider thresholds count in both states.
    """
    from dorfkarte.scenario import WhatIf

    t0 = time.perf_counter()
    pts = scenario_points(result, ctx, cid, name, mode)
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
        "placed": str(pts["placed"].iloc[0]),
        "total_ms": (time.perf_counter() - t0) * 1000,
    }


def run_closure(ctx: UIContext, result: Any, cid: str, mode: str, name: str
                ) -> dict[str, Any] | None:
    """Before/after when the service the Ortsteil relies on closes (incremental what-if).

    Only the origins whose nearest service it was are recomputed; ``compare`` gives who
    loses access per Ortsteil. None when the Ortsteil reaches no service at all.
    """
    from dorfkarte.scenario import WhatIf, compare, dest_ref

    t0 = time.perf_counter()
    k = closure_target(result, cid, mode, name)
    if k is None:
        return None
    dest = result.destinations[cid]
    ref = dest_ref(dest, k)
    stop = str(dest["name"].iloc[k])
    wi = WhatIf(result)
    effect = wi.remove(cid, ref)
    after = wi.result
    diff = compare(result, after, cid, mode)
    per = diff[diff["district"] != "Gesamt"].set_index("district")
    total = diff[diff["district"] == "Gesamt"]
    losers = per[per["losing_coverage"] > 0].sort_values("losing_coverage", ascending=False)
    before_row = ranking(result, cid, mode).set_index("district").loc[name]
    after_row = ranking(after, cid, mode).set_index("district").loc[name]
    # for the map: the closed service is gone from the points (and from the stops layer)
    shown = after.destinations[cid][wi.active(cid)]
    display = replace(after, destinations={**after.destinations, cid: shown})
    snap = ctx.snapshot
    ref_col = "stop_id"
    stops = snap.get("stops")
    if ctx.region.category(cid).source == "transit" and stops is not None \
            and ref_col in stops:
        kept = stops[stops[ref_col].astype(str) != str(dest["ref"].iloc[k])]
        snap = replace(snap, layers={**snap.layers, "stops": kept})
    g = dest.geometry.iloc[k]
    pts = gpd.GeoDataFrame(
        {"name": [tr("closure_point", ctx.lang, stop=stop)], "category": [cid],
         "source": ["scenario"], "ref": ["demo"], "example": [True]},
        geometry=[g], crs=dest.crs).to_crs("EPSG:4326")
    weight = dest["weight"].iloc[k] if "weight" in dest else np.nan
    return {
        "stop": stop, "ref": ref, "weight": float(weight) if weight is not None else np.nan,
        "after": after, "display": display, "snapshot": snap, "points": pts,
        "ms": effect.ms,
        "lost": float(total["losing_coverage"].iloc[0]) if len(total) else 0.0,
        "lost_here": float(per.at[name, "losing_coverage"]),
        "losers": [(str(d), float(v)) for d, v in losers["losing_coverage"].items()],
        "median_before": float(before_row["median"]),
        "median_after": float(after_row["median"]),
        "next_after": str(after_row["nearest_name"] or ""),
        "unit": str(after_row["unit"]),
        "gaps_before": int((per["gap_before"] == "Lücke").sum()),
        "gaps_after": int((per["gap_after"] == "Lücke").sum()),
        "share_before": float(before_row["share_within"]),
        "share_after": float(after_row["share_within"]),
        "total_ms": (time.perf_counter() - t0) * 1000,
    }


# --------------------------------------------------------------------------- map


def demo_map_html(ctx: UIContext, result: Any, *, category: str | None, mode: str,
                  highlight: str | None = None, extra_points: Any = None,
                  indicator: str = "share_within", snapshot: Any = None,
                  tag: str = "") -> str:
    """Offline export page for one step, cached per step settings (renders take ~1 s).

    ``snapshot`` replaces the loaded one (a closure scenario without the closed stop);
    ``tag`` names such a variant in the cache key.
    """
    from dorfkarte.export import build_export_html

    snap = snapshot if snapshot is not None else ctx.snapshot
    key = ("map", category, mode, highlight, id(result), extra_points is not None, indicator,
           tag, ctx.lang)
    cache = st.session_state.setdefault(CACHE_KEY, {})
    if key not in cache:
        doc, _, _ = build_export_html(
            snap, ctx.region, result, category=category, mode=mode, offline=True,
            lang=ctx.lang, extra_points=extra_points, highlight=highlight, large=True,
            indicator=indicator,
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


def _fmt_value(v: float, unit: str, lang: str) -> str:
    if v is None or not math.isfinite(v):
        return "–"
    return f"{_fmt_int(v, lang)} {unit}"


def _no_data_note(ctx: UIContext, result: Any) -> None:
    """Categories without data, and (no OSM snapshot) how to get them."""
    lang = ctx.lang
    missing = no_data_categories(result)
    if not missing:
        return
    cats = ", ".join(_cat_label(ctx.region, c, lang) for c in missing)
    st.info(tr("nodata_cats", lang, cats=cats))
    if not ctx.snapshot.has_osm:
        from dorfkarte.commands.info import no_osm_hint

        st.code(no_osm_hint(ctx.region.id, ctx.region, ctx.data_dir, lang=lang),
                language=None)


def _service_table(ctx: UIContext, rank: pd.DataFrame, n: int = 6) -> pd.DataFrame:
    """The Ortsteile whose nearest served stop is served least, with distance and weight."""
    lang = ctx.lang
    w = rank["nearest_weight"].astype(float).fillna(np.inf)
    top = rank.assign(_w=w).sort_values("_w", kind="stable").head(n)
    return pd.DataFrame({
        tr("col_unit", lang): top["district"].astype(str).to_numpy(),
        tr("col_stop", lang): top["nearest_name"].fillna("").astype(str).to_numpy(),
        tr("col_dist", lang): [_fmt_value(float(v), str(u), lang)
                               for v, u in zip(top["median"], top["unit"], strict=True)],
        tr("col_service", lang): [_fmt_int(float(v), lang) for v in top["nearest_weight"]],
    }).set_index(tr("col_unit", lang))


def _gaps(ctx: UIContext, result: Any, cid: str, mode: str) -> None:
    lang = ctx.lang
    rank = focus_ranking(result, cid, mode)
    n_gap = int((rank["gap_class"] == "Lücke").sum())
    cat = _cat_label(ctx.region, cid, lang)
    thr = _threshold_text(result, cid, mode)
    fmt = {"cat": cat, "mode": _mode_label(mode, lang), "thr": thr, "n": n_gap,
           "total": len(rank)}
    indicator = "share_within"
    if not has_data(result, cid):
        st.header(tr("nodata_gaps", lang, cat=cat))
    elif n_gap:
        st.header(tr("gaps_head", lang, **fmt))
        worst = [str(x) for x in rank["district"].head(5)]
        st.write(f"{tr('worst', lang)}: " + ", ".join(worst))
    else:
        # Nothing to colour red: say so plainly, then show what does differ.
        st.header(tr("gaps_none", lang, **fmt))
        transit = ctx.region.category(cid).source == "transit"
        beyond = int((rank["share_within"].astype(float) < 1.0).sum())
        if beyond:
            st.write(tr("some_beyond", lang, k=beyond, **fmt))
        elif transit:
            key = "all_reach_stop" if ctx.snapshot.has_osm else "all_reach_stop_embedded"
            st.write(tr(key, lang, thr=thr))
        else:
            st.write(tr("all_reach", lang, **fmt))
        indicator = "median"
        weights = rank.get("nearest_weight")
        left, right = st.columns([3, 2])
        with right:
            if transit and weights is not None and weights.notna().any():
                st.subheader(tr("service_head", lang))
                st.table(_service_table(ctx, rank))
                source = ctx.region.transit.source.split(",")[0].strip() or "GTFS"
                st.caption(tr("service_caption", lang, source=source,
                              min_w=f"{ctx.region.transit.min_weight:g}",
                              n=unserved_stops(ctx)))
            else:
                st.subheader(tr("longest_head", lang))
                longest = rank.assign(_m=rank["median"].astype(float)).sort_values(
                    "_m", ascending=False).head(6)
                st.table(pd.DataFrame({
                    tr("col_unit", lang): longest["district"].astype(str).to_numpy(),
                    tr("col_median", lang): [
                        _fmt_value(float(v), str(u), lang)
                        for v, u in zip(longest["median"], longest["unit"], strict=True)],
                    tr("col_nearest", lang): longest["nearest_name"].fillna("").astype(
                        str).to_numpy(),
                }).set_index(tr("col_unit", lang)))
        with left:
            show_map(demo_map_html(ctx, result, category=cid, mode=mode, indicator=indicator))
        _no_data_note(ctx, result)
        return
    show_map(demo_map_html(ctx, result, category=cid, mode=mode, indicator=indicator))
    _no_data_note(ctx, result)


def _profile_rows(result: Any, ctx: UIContext, name: str, mode: str) -> pd.DataFrame:
    """The Ortsteil's rows: every category in a network mode, plus ÖPNV-Nähe."""
    ind = result.indicators
    net = mode if mode != TRANSIT else (ctx.mode if ctx.mode != TRANSIT else "walk")
    here = ind["district"] == name
    sub = ind[here & ((ind["mode"] == net) | (ind["mode"] == TRANSIT))]
    if sub.empty:
        sub = ind[here & (ind["mode"] == mode)]
    return sub


def _profile(ctx: UIContext, result: Any, cid: str, mode: str, name: str) -> None:
    lang = ctx.lang
    d = result.districts.set_index("name")
    row = d.loc[name]
    kind = tr("kernort" if row.get("kind") == "kernort" else "ortsteil", lang)
    pop = pd.to_numeric(pd.Series([row.get("population")]), errors="coerce").iloc[0]
    st.header(tr("profile_head", lang, name=name, pop=_fmt_int(float(pop), lang), kind=kind))
    sub = _profile_rows(result, ctx, name, mode)
    from dorfkarte.i18n import gap_label

    labels = [_cat_label(ctx.region, c, lang) + (f" ({_mode_label(m, lang)})"
                                                 if m == TRANSIT else "")
              for c, m in zip(sub["category"], sub["mode"], strict=True)]
    table = pd.DataFrame({
        tr("col_cat", lang): labels,
        tr("col_median", lang): [_fmt_value(v, str(u), lang)
                                 for v, u in zip(sub["median"].astype(float), sub["unit"],
                                                 strict=True)],
        tr("col_share", lang): [_fmt_share(v) for v in sub["share_within"].astype(float)],
        tr("col_class", lang): [gap_label(g, lang) for g in sub["gap_class"]],
        tr("col_nearest", lang): sub["nearest_name"].fillna("").astype(str).to_numpy(),
    })
    left, right = st.columns([3, 2])
    with left:
        show_map(demo_map_html(ctx, result, category=cid, mode=mode, highlight=name))
    with right:
        st.table(table.set_index(tr("col_cat", lang)))


def _scenario_add(ctx: UIContext, result: Any, cid: str, mode: str, name: str) -> None:
    lang = ctx.lang
    cat = _cat_label(ctx.region, cid, lang)
    st.header(tr("scenario_head", lang, cat=cat, name=name))
    cache = st.session_state.setdefault(CACHE_KEY, {})
    key = ("scenario", cid, mode, name, id(result))
    if key not in cache:
        with st.spinner("…"):
            cache[key] = run_scenario(ctx, result, cid, mode, name)
    sc = cache[key]
    st.write(tr("scenario_text_best" if sc["placed"] == "best" else "scenario_text", lang,
                name=name))
    c = st.columns(3)
    c[0].metric(tr("share_in", lang, name=name), _fmt_share(sc["share_after"]),
                delta=None if not math.isfinite(sc["share_before"]) else
                f"{(sc['share_after'] - sc['share_before']) * 100:+.0f} %-Pkt. "
                f"({tr('before', lang)} {_fmt_share(sc['share_before'])})")
    c[1].metric(tr("gaps_region", lang), sc["gaps_after"],
                delta=sc["gaps_after"] - sc["gaps_before"], delta_color="inverse")
    c[2].metric(tr("residents_gain", lang), _fmt_int(sc["gain"], lang))
    st.caption(tr("computed", lang, ms=sc["total_ms"]))
    show_map(demo_map_html(ctx, sc["after"], category=cid, mode=mode, highlight=name,
                           extra_points=sc["points"], tag="add"))


def _scenario_remove(ctx: UIContext, result: Any, cid: str, mode: str, name: str) -> None:
    lang = ctx.lang
    cat = _cat_label(ctx.region, cid, lang)
    cache = st.session_state.setdefault(CACHE_KEY, {})
    key = ("closure", cid, mode, name, id(result))
    if key not in cache:
        with st.spinner("…"):
            cache[key] = run_closure(ctx, result, cid, mode, name)
    sc = cache[key]
    if sc is None:
        st.header(tr("scenario_head", lang, cat=cat, name=name))
        st.write(tr("no_closure", lang, name=name))
        return
    transit = ctx.region.category(cid).source == "transit"
    st.header(tr("closure_head_stop", lang, stop=sc["stop"]) if transit
              else tr("closure_head", lang, stop=sc["stop"], cat=cat))
    st.write(tr("closure_text", lang, name=name))
    unit = sc["unit"]
    c = st.columns(3)
    c[0].metric(tr("residents_lose", lang), _fmt_int(sc["lost"], lang))
    before, after = sc["median_before"], sc["median_after"]
    delta = (f"{after - before:+,.0f} {unit}".replace(",", "." if lang != "en" else ",")
             if math.isfinite(before) and math.isfinite(after) else None)
    c[1].metric(tr("next_stop" if transit else "next_service", lang, name=name),
                _fmt_value(after, unit, lang), delta=delta, delta_color="inverse")
    c[2].metric(tr("gaps_region", lang), sc["gaps_after"],
                delta=sc["gaps_after"] - sc["gaps_before"], delta_color="inverse")
    if math.isfinite(after) and sc["next_after"]:
        st.write(tr("next_after", lang, next=sc["next_after"],
                    value=_fmt_value(after, unit, lang),
                    before=_fmt_value(before, unit, lang)))
    elif not math.isfinite(after):
        st.write(tr("next_none", lang))
    if sc["losers"]:
        items = ", ".join(f"{d} ({_fmt_int(v, lang)})" for d, v in sc["losers"])
        st.write(tr("losers", lang, items=items))
    else:
        st.write(tr("losers_none", lang))
    st.caption(tr("computed", lang, ms=sc["total_ms"]))
    show_map(demo_map_html(ctx, sc["display"], category=cid, mode=mode, highlight=name,
                           extra_points=sc["points"], snapshot=sc["snapshot"],
                           tag=f"closed:{sc['ref']}"))


def _scenario(ctx: UIContext, result: Any, cid: str, mode: str, name: str) -> None:
    """Add where the Ortsteil has a gap; else what a closure would cost; never on no data."""
    kind = scenario_kind(result, cid, mode, name)
    if kind == "add":
        _scenario_add(ctx, result, cid, mode, name)
    elif kind == "remove":
        _scenario_remove(ctx, result, cid, mode, name)
    else:
        cat = _cat_label(ctx.region, cid, ctx.lang)
        st.header(tr("nodata_head", ctx.lang, cat=cat))
        st.write(tr("nodata_scenario", ctx.lang, cat=cat))
        _no_data_note(ctx, result)


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
    if step == 0:
        _overview(ctx, result)
    elif step == 1:
        _gaps(ctx, result, cid, mode)
    else:
        names = [str(x) for x in focus_ranking(result, cid, mode)["district"]]
        name = pick[1].selectbox(tr("choose_unit", lang), names, index=0, key="demo_unit")
        if step == 2:
            _profile(ctx, result, cid, mode, name)
        else:
            _scenario(ctx, result, cid, mode, name)
