"""Scenario panel: what if a service opens, closes or changes its schedule; where best.

The panel keeps the session's changes in ``st.session_state`` and a
:class:`dorfkarte.scenario.WhatIf` per coverage result, so every click is one incremental
update (not a new analysis). The map helps by writing its last click to
``st.session_state["dk_map_click"] = (lat, lon)``; tests set that key directly. The
current scenario result is left in ``st.session_state["dk_scenario_result"]`` (and
``ctx.extra["scenario_result"]``) for the map to show.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from dorfkarte import sheets
from dorfkarte.errors import DorfkarteError
from dorfkarte.scenario import (
    CANDIDATE_KINDS,
    Change,
    Scenario,
    ScenarioStore,
    WhatIf,
    candidate_sites,
    compare,
    dest_ref,
    mobile_stops,
    scenario_geojson,
    suggest,
)
from dorfkarte.ui.context import UIContext

MAP_CLICK_KEY = "dk_map_click"
CHANGES_KEY = "dk_scn_changes"
ENGINE_KEY = "dk_scn_engine"
NAME_KEY = "dk_scn_name"
RESULT_KEY = "dk_scenario_result"
SUGGEST_KEY = "dk_scn_suggestion"
ROUTE_KEY = "dk_scn_route"
MSG_KEY = "dk_scn_message"


def _t(ctx: UIContext, de: str, en: str) -> str:
    return en if ctx.lang == "en" else de


def md(text: object) -> str:
    """Untrusted text (names from OSM/uploads) safe inside Streamlit markdown."""
    s = html.escape(str(text), quote=True)
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~>$])", r"\\\1", s)


def _fmt(v: float) -> str:
    return "–" if v != v else f"{v:,.0f}".replace(",", ".")


# ---- state ----------------------------------------------------------------------------------

def _changes() -> list[Change]:
    return st.session_state.setdefault(CHANGES_KEY, [])


def engine(ctx: UIContext) -> WhatIf:
    """The session's what-if engine for the current result (rebuilt, changes re-applied,
    when the result changes, e.g. after a threshold slider move)."""
    held = st.session_state.get(ENGINE_KEY)
    if held is not None and held[0] is ctx.result:
        return held[1]
    wi = WhatIf(ctx.result, when=ctx.extra.get("listings_when"), listings=_listings(ctx))
    kept = []
    for ch in _changes():
        try:
            wi.apply(ch)
            kept.append(ch)
        except DorfkarteError as exc:
            st.warning(_t(ctx, "Änderung übersprungen: ", "Change skipped: ") + md(exc))
    st.session_state[CHANGES_KEY] = kept
    st.session_state[ENGINE_KEY] = (ctx.result, wi)
    return wi


def _listings(ctx: UIContext) -> gpd.GeoDataFrame | None:
    try:
        from dorfkarte.listings.store import ListingStore
    except ImportError:
        return None
    store = ListingStore(ctx.data_dir)
    try:
        return store.read() if store.exists() else None
    except DorfkarteError:
        return None


def _apply(ctx: UIContext, wi: WhatIf, change: Change) -> None:
    try:
        eff = wi.apply(change)
    except DorfkarteError as exc:
        st.session_state[MSG_KEY] = ("error", f"Fehler: {exc}")
        return
    st.session_state[CHANGES_KEY] = list(wi.changes)
    gained = sum(eff.gained.values())
    lost = sum(eff.lost.values())
    msg = _t(ctx, f"Übernommen in {eff.ms:.0f} ms.", f"Applied in {eff.ms:.0f} ms.")
    if eff.note:
        msg += " " + eff.note
    st.session_state[MSG_KEY] = ("success", msg + _t(
        ctx, f" Neu versorgt (alle Verkehrsmittel): {_fmt(gained)}, verlieren: {_fmt(lost)}.",
        f" Newly covered (all modes): {_fmt(gained)}, losing: {_fmt(lost)}."))


@st.cache_resource(show_spinner=False, max_entries=4)
def _candidates(_snapshot: Any, _region: Any, key: tuple[Any, ...]) -> gpd.GeoDataFrame:
    return candidate_sites(_snapshot, _region, data_dir=key[2])


def candidates(ctx: UIContext) -> gpd.GeoDataFrame:
    key = (id(ctx.snapshot), ctx.region.id, str(ctx.data_dir), _listings_mtime(ctx))
    return _candidates(ctx.snapshot, ctx.region, key)


def _listings_mtime(ctx: UIContext) -> float:
    p = ctx.data_dir / "listings.gpkg"
    return p.stat().st_mtime if p.exists() else 0.0


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
    st.subheader(_t(ctx, "Szenarien: Was wäre, wenn …?", "Scenarios: what if …?"))
    if ctx.result is None:
        st.info(_t(ctx, "Ohne Erreichbarkeitsanalyse keine Szenarien.",
                   "Scenarios need the coverage analysis."))
        return
    res = ctx.result
    cats = [c for c in ctx.region.categories if c in res.destinations]
    if not cats:
        st.info(_t(ctx, "Keine Kategorie berechnet.", "No category computed."))
        return
    labels = {c: (ctx.region.categories[c].label_en if ctx.lang == "en"
                  else ctx.region.categories[c].label) for c in cats}
    default = cats.index(ctx.category) if ctx.category in cats else 0
    cat = st.selectbox(_t(ctx, "Kategorie", "Category"), cats, index=default,
                       format_func=lambda c: labels[c], key="dk_scn_category")
    modes = [m for (c, m) in res.times if c == cat]
    mode = ctx.mode if ctx.mode in modes else modes[0]
    wi = engine(ctx)
    prewarm_solver()

    _render_edit(ctx, wi, cat)
    msg = st.session_state.pop(MSG_KEY, None)
    if msg:
        (st.success if msg[0] == "success" else st.error)(md(msg[1]))
    _render_changes(ctx, wi)
    _render_before_after(ctx, wi, cat, mode)
    _render_save_load(ctx, wi)
    with st.expander(_t(ctx, "Wo am besten? Neue Standorte vorschlagen",
                         "Where best? Suggest new sites"), expanded=False):
        _render_suggest(ctx, wi, cat, mode, modes)
    with st.expander(_t(ctx, "Mobiles Angebot: Halte nach Einwohnern je Minute",
                         "Mobile service: stops by residents per minute"), expanded=False):
        _render_route(ctx, wi, cat, modes)
    st.session_state[RESULT_KEY] = wi.result
    ctx.extra["scenario_result"] = wi.result


def _render_edit(ctx: UIContext, wi: WhatIf, cat: str) -> None:
    kinds = {"add": _t(ctx, "Neuer Standort", "New site"),
             "remove": _t(ctx, "Einrichtung schließt", "Service closes"),
             "schedule": _t(ctx, "Zeitplan ändern (mobil)", "Change schedule (mobile)")}
    what = st.radio(_t(ctx, "Änderung", "Change"), list(kinds), format_func=kinds.get,
                    horizontal=True, key="dk_scn_what")
    if what == "add":
        _render_add(ctx, wi, cat)
    elif what == "remove":
        _render_remove(ctx, wi, cat)
    else:
        _render_schedule(ctx, wi, cat)


def _render_add(ctx: UIContext, wi: WhatIf, cat: str) -> None:
    sources = {"map": _t(ctx, "Kartenklick", "Map click"),
               "stop": _t(ctx, "Haltestelle", "Bus stop"),
               "centre": _t(ctx, "Ortsmitte", "Village centre"),
               "anchor": _t(ctx, "Ankerort", "Anchor place"),
               "coords": _t(ctx, "Koordinaten", "Coordinates")}
    src = st.radio(_t(ctx, "Wo?", "Where?"), list(sources), format_func=sources.get,
                   horizontal=True, key="dk_scn_add_src")
    lat = lon = None
    name = ""
    if src == "map":
        click = st.session_state.get(MAP_CLICK_KEY)
        if click:
            lat, lon = float(click[0]), float(click[1])
            st.caption(_t(ctx, f"Kartenpunkt: {lat:.5f}, {lon:.5f}",
                          f"Map point: {lat:.5f}, {lon:.5f}"))
        else:
            st.info(_t(ctx, "Auf die Karte des Szenarios unten (oder im Tab „Karte“) klicken, "
                       "dann hier hinzufügen.",
                       "Click on the scenario map below (or in the 'Map' tab), then add it "
                       "here."))
    elif src == "coords":
        from dorfkarte.listings.validate import parse_coordinates

        c1, c2 = st.columns(2)
        # text fields: a decimal comma (52,1386) is read like the listings import does
        lat_s = c1.text_input(_t(ctx, "Breite", "Latitude"), key="dk_scn_lat",
                              placeholder="52,1386")
        lon_s = c2.text_input(_t(ctx, "Länge", "Longitude"), key="dk_scn_lon",
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
            st.info(_t(ctx, "Keine Orte dieser Art im Datenstand.",
                       "No places of this kind in the data."))
        else:
            i = st.selectbox(sources[src], range(len(pick)),
                             format_func=lambda k: str(pick["name"].iloc[k]),
                             key=f"dk_scn_pick_{src}")
            g = pick.geometry.iloc[int(i)]
            lat, lon, name = float(g.y), float(g.x), str(pick["name"].iloc[int(i)])
    label = st.text_input(_t(ctx, "Name des neuen Standorts", "Name of the new site"),
                          value="", placeholder=name or _t(ctx, "z. B. Dorfladen (geplant)",
                                                           "e.g. village shop (planned)"),
                          key="dk_scn_add_name")
    if st.button(_t(ctx, "Hinzufügen", "Add"), disabled=lat is None, key="dk_scn_add_btn"):
        label = label.strip() or (f"{name} (neu)" if name else "")
        _apply(ctx, wi, Change("add", cat, name=label, lat=lat, lon=lon,
                               kind=src if src != "coords" else "user"))
        st.rerun()


def _render_remove(ctx: UIContext, wi: WhatIf, cat: str) -> None:
    d = wi.destinations(cat)
    live = np.flatnonzero((d["status"] != "entfällt").to_numpy())
    if len(live) == 0:
        st.info(_t(ctx, "Keine Einrichtung dieser Kategorie (mehr) vorhanden.",
                   "No service of this category (left)."))
        return
    k = st.selectbox(_t(ctx, "Welche Einrichtung?", "Which service?"), live,
                     format_func=lambda i: f"{d['name'].iloc[i] or '(ohne Name)'} · "
                     f"{d['source'].iloc[i]} · {dest_ref(d, int(i))}", key="dk_scn_rm_pick")
    if st.button(_t(ctx, "Schließen (Szenario)", "Close (scenario)"), key="dk_scn_rm_btn"):
        _apply(ctx, wi, Change("remove", cat, ref=dest_ref(d, int(k)),
                               name=str(d["name"].iloc[int(k)])))
        st.rerun()


def _render_schedule(ctx: UIContext, wi: WhatIf, cat: str) -> None:
    lst = wi.listings
    if lst is None or len(lst) == 0:
        st.info(_t(ctx, "Keine lokalen Angebote gespeichert (Tab „Angebote“).",
                   "No local listings stored ('Listings' tab)."))
        return
    mob = lst[(lst["kind"].astype(str) == "mobile")
              & lst["category"].astype(str).str.split(",").map(
                  lambda cs: cat in [c.strip() for c in cs])]
    if mob.empty:
        st.info(_t(ctx, "Keine mobilen Angebote dieser Kategorie.",
                   "No mobile listings of this category."))
        return
    ids = mob["id"].astype(str).tolist()
    pick = st.selectbox(_t(ctx, "Mobiles Angebot", "Mobile service"), ids,
                        format_func=lambda i: f"{mob.loc[mob['id'] == i, 'name'].iloc[0]} "
                        f"({mob.loc[mob['id'] == i, 'opening_hours'].iloc[0] or 'immer'})",
                        key="dk_scn_sched_pick")
    new = st.text_input(_t(ctx, "Neuer Zeitplan (opening_hours, z. B. „Tu 10:00-11:00“)",
                           "New schedule (opening_hours, e.g. 'Tu 10:00-11:00')"),
                        key="dk_scn_sched_text")
    st.caption(_t(ctx, "Wirkt auf die Versorgung zur links gewählten Zeit.",
                  "Affects coverage at the time chosen in the sidebar."))
    if st.button(_t(ctx, "Zeitplan übernehmen", "Apply schedule"), key="dk_scn_sched_btn"):
        _apply(ctx, wi, Change("schedule", cat, ref=str(pick), opening_hours=new))
        st.rerun()


def _render_changes(ctx: UIContext, wi: WhatIf) -> None:
    if not wi.changes:
        st.caption(_t(ctx, "Noch keine Änderung im Szenario.", "No change in the scenario yet."))
        return
    rows = []
    for i, (ch, eff) in enumerate(zip(wi.changes, wi.effects, strict=True)):
        what = {"add": _t(ctx, "neu", "new"), "remove": _t(ctx, "schließt", "closes"),
                "schedule": _t(ctx, "Zeitplan", "schedule")}[ch.action]
        rows.append({"Nr": i + 1, _t(ctx, "Änderung", "Change"): what,
                     _t(ctx, "Kategorie", "Category"): ctx.region.categories[ch.category].label
                     if ch.category in ctx.region.categories else ch.category,
                     _t(ctx, "Standort", "Site"): ch.name or ch.ref,
                     _t(ctx, "neu versorgt", "newly covered"): round(sum(eff.gained.values())),
                     _t(ctx, "verlieren", "losing"): round(sum(eff.lost.values())),
                     "ms": round(eff.ms, 1)})
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    c1, c2 = st.columns(2)
    if c1.button(_t(ctx, "Letzte Änderung zurücknehmen", "Undo last change"),
                 key="dk_scn_undo"):
        wi.undo()
        st.session_state[CHANGES_KEY] = list(wi.changes)
        st.rerun()
    if c2.button(_t(ctx, "Alle Änderungen verwerfen", "Discard all changes"), key="dk_scn_reset"):
        wi.reset()
        st.session_state[CHANGES_KEY] = []
        st.rerun()


def diff_display(df: pd.DataFrame, ctx: UIContext) -> pd.DataFrame:
    """The before/after table with German (or English) column names."""
    return pd.DataFrame({
        _t(ctx, "Ortsteil", "Unit"): df["district"],
        _t(ctx, "Einwohner", "Residents"): df["population"].round(0),
        _t(ctx, "Anteil vorher %", "Share before %"): (100 * df["share_before"]).round(1),
        _t(ctx, "Anteil nachher %", "Share after %"): (100 * df["share_after"]).round(1),
        _t(ctx, "Änderung Pp.", "Change pp"): (100 * df["share_change"]).round(1),
        _t(ctx, "neu versorgt", "newly covered"): df["newly_covered"].round(0),
        _t(ctx, "verlieren Versorgung", "losing coverage"): df["losing_coverage"].round(0),
        _t(ctx, "Median vorher", "Median before"): df["median_before"].round(1),
        _t(ctx, "Median nachher", "Median after"): df["median_after"].round(1),
        _t(ctx, "Klasse vorher", "Class before"): df["gap_before"],
        _t(ctx, "Klasse nachher", "Class after"): df["gap_after"],
    })


def _render_before_after(ctx: UIContext, wi: WhatIf, cat: str, mode: str) -> None:
    from dorfkarte.ui.overview import ranking, ranking_display

    st.markdown("##### " + _t(ctx, "Vorher / nachher", "Before / after"))
    diff = compare(wi.base, wi.result, cat, mode)
    total = diff[diff["district"] == "Gesamt"]
    if len(total):
        r = total.iloc[0]
        c = st.columns(4)
        c[0].metric(_t(ctx, "neu versorgt", "newly covered"), _fmt(r["newly_covered"]))
        c[1].metric(_t(ctx, "verlieren Versorgung", "losing coverage"),
                    _fmt(r["losing_coverage"]))
        c[2].metric(_t(ctx, "Lücken vorher", "Gaps before"), str(r["gap_before"]).split()[0])
        c[3].metric(_t(ctx, "Lücken nachher", "Gaps after"), str(r["gap_after"]).split()[0])
    if st.toggle(_t(ctx, "Karte des Szenarios", "Scenario map"), value=True,
                 key="dk_scn_show_map"):
        _render_map(ctx, wi, cat, mode)
    changed = diff[(diff["newly_covered"] > 0) | (diff["losing_coverage"] > 0)
                   | (diff["share_change"].abs() > 1e-12) | (diff["district"] == "Gesamt")]
    show_all = st.toggle(_t(ctx, "alle Ortsteile zeigen", "show all units"),
                         key="dk_scn_show_all")
    st.dataframe(diff_display(diff if show_all else changed, ctx), hide_index=True)
    st.markdown("##### " + _t(ctx, "Indikatoren im Szenario", "Indicators in the scenario"))
    st.dataframe(ranking_display(ranking(wi.result, cat, mode), ctx.lang), hide_index=True,
                 key="dk_scn_indicators")
    st.session_state["dk_scn_diff"] = diff


def changes_layer(ctx: UIContext, wi: WhatIf, cat: str, mode: str) -> Any:
    """Folium layer: residents gaining (green) / losing (red) coverage, new and closed sites."""
    import folium

    from dorfkarte.scenario import origin_changes

    fg = folium.FeatureGroup(name=_t(ctx, "Szenario: Änderungen", "Scenario: changes"))
    key = (cat, mode)
    if key in wi.result.times:
        oc = origin_changes(wi.base, wi.result, key).to_crs("EPSG:4326")
        if len(oc) > 4000:  # keep the page light: a sample still shows where
            oc = oc.sample(4000, random_state=0)
        for status, colour in ((1, "#2e7d32"), (-1, "#c62828")):
            part = oc[oc["status"] == status]
            if len(part):
                folium.GeoJson(
                    json.loads(part[["geometry"]].to_json()),
                    marker=folium.CircleMarker(radius=3, weight=0, fill=True,
                                               fill_color=colour, fill_opacity=0.8),
                    interactive=False).add_to(fg)
    d = wi.destinations(cat)
    for i in range(len(d)):
        status = str(d["status"].iloc[i])
        if status == "bestehend":
            continue
        g = d.geometry.iloc[i]
        word = _t(ctx, "neu", "new") if status == "neu" else _t(ctx, "schließt", "closes")
        folium.CircleMarker(
            location=(float(g.y), float(g.x)), radius=9, weight=3,
            color="#0d47a1" if status == "neu" else "#616161",
            fill=True, fill_color="#ffffff" if status == "neu" else "#9e9e9e", fill_opacity=0.9,
            tooltip=html.escape(f"{d['name'].iloc[i]} ({word})"),
        ).add_to(fg)
    return fg


def _render_map(ctx: UIContext, wi: WhatIf, cat: str, mode: str) -> None:
    """The region map coloured by the scenario's indicators, with the changes on top;
    a click on it sets the point for "Neuer Standort"."""
    try:
        from streamlit_folium import st_folium

        from dorfkarte.ui import data
    except ImportError:
        return
    key = (*data.snapshot_key(ctx.region, ctx.data_dir), "scenario", id(ctx.result),
           tuple(repr(c) for c in wi.changes))
    fmap = data.get_map(key, ctx.snapshot, ctx.region, wi.result, ctx.extra.get("extra_points"),
                        category=cat, mode=mode,
                        indicator=str(ctx.extra.get("indicator", "share_within")),
                        basemap=str(ctx.extra.get("basemap", "osm")), lang=ctx.lang,
                        points=(cat,))
    out = st_folium(fmap, key="dk_scn_map", height=460, use_container_width=True,
                    returned_objects=["last_clicked"],
                    feature_group_to_add=changes_layer(ctx, wi, cat, mode))
    st.caption(_t(ctx, "Grün: neu versorgt · Rot: verliert Versorgung · blauer Ring: neuer "
                       "Standort · grau: schließt. Klick setzt den Punkt für „Neuer Standort“.",
                  "Green: newly covered · red: losing coverage · blue ring: new site · grey: "
                  "closes. A click sets the point for 'New site'."))
    click = (out or {}).get("last_clicked")
    if click and click != st.session_state.get("_dk_scn_last_click"):
        st.session_state["_dk_scn_last_click"] = click
        try:
            st.session_state[MAP_CLICK_KEY] = (float(click["lat"]), float(click["lng"]))
        except (KeyError, TypeError, ValueError):
            return
        st.rerun()


def _render_save_load(ctx: UIContext, wi: WhatIf) -> None:
    store = ScenarioStore(ctx.data_dir)
    st.markdown("##### " + _t(ctx, "Speichern, laden, exportieren",
                              "Save, load, export"))
    c1, c2 = st.columns(2)
    name = c1.text_input(_t(ctx, "Name des Szenarios", "Scenario name"), key=NAME_KEY)
    if c1.button(_t(ctx, "Speichern", "Save"), disabled=not wi.changes, key="dk_scn_save"):
        if not name.strip():
            st.session_state[MSG_KEY] = ("error", _t(ctx, "Bitte einen Namen eingeben.",
                                                     "Please enter a name."))
            st.rerun()
        try:
            sc = store.save(Scenario(name=name, changes=list(wi.changes)))
            st.session_state[MSG_KEY] = ("success", _t(
                ctx, f"Gespeichert: {sc.name} ({len(sc.changes)} Änderungen)",
                f"Saved: {sc.name} ({len(sc.changes)} changes)"))
        except DorfkarteError as exc:
            st.session_state[MSG_KEY] = ("error", f"Fehler: {exc}")
        st.rerun()
    try:
        names = store.names()
    except DorfkarteError as exc:
        c2.error(md(f"Fehler: {exc}"))
        names = []
    if names:
        pick = c2.selectbox(_t(ctx, "Gespeicherte Szenarien", "Saved scenarios"), names,
                            key="dk_scn_load_pick")
        b1, b2 = c2.columns(2)
        if b1.button(_t(ctx, "Laden", "Load"), key="dk_scn_load"):
            sc = store.get(pick)
            wi.reset()
            errors = []
            for ch in sc.changes:
                try:
                    wi.apply(ch)
                except DorfkarteError as exc:
                    errors.append(str(exc))
            st.session_state[CHANGES_KEY] = list(wi.changes)
            st.session_state[MSG_KEY] = (
                "error" if errors else "success",
                (f"Fehler: {'; '.join(errors)}" if errors else
                 _t(ctx, f"Geladen: {sc.name}", f"Loaded: {sc.name}")))
            st.rerun()
        if b2.button(_t(ctx, "Löschen", "Delete"), key="dk_scn_delete"):
            store.delete(pick)
            st.rerun()
    else:
        c2.caption(_t(ctx, "Noch keine gespeicherten Szenarien.", "No saved scenarios yet."))
    if wi.changes:
        sc = Scenario(name=name.strip() or "Szenario", changes=list(wi.changes))
        e1, e2, e3 = st.columns(3)
        e1.download_button("Szenario (JSON)", json.dumps(sc.to_dict(), ensure_ascii=False,
                                                          indent=1),
                           file_name="szenario.json", mime="application/json",
                           key="dk_scn_dl_json")
        e2.download_button("Änderungen (GeoJSON)",
                           json.dumps(scenario_geojson(sc, wi.result), ensure_ascii=False),
                           file_name="szenario.geojson", mime="application/geo+json",
                           key="dk_scn_dl_geojson")
        diff = st.session_state.get("dk_scn_diff")
        if diff is not None:
            e3.download_button(_t(ctx, "Vorher/nachher (CSV)", "Before/after (CSV)"),
                               sheets.csv_bytes(sheets.people_table(diff, ctx.lang),
                                                ctx.lang, float_decimals=4),
                               file_name="szenario_vorher_nachher.csv", mime="text/csv",
                               key="dk_scn_dl_csv")


def _render_suggest(ctx: UIContext, wi: WhatIf, cat: str, mode: str, modes: list[str]) -> None:
    c1, c2, c3 = st.columns(3)
    k = int(c1.number_input("k", min_value=1, max_value=20, value=5, key="dk_scn_k"))
    methods = {"exact": _t(ctx, "exakt (MCLP)", "exact (MCLP)"),
               "greedy": _t(ctx, "schnell (Greedy)", "fast (greedy)"),
               "pmedian": _t(ctx, "kürzeste Wege (p-Median)", "shortest trips (p-median)")}
    method = c2.selectbox(_t(ctx, "Verfahren", "Method"), list(methods),
                          format_func=methods.get, key="dk_scn_method")
    smode = c3.selectbox(_t(ctx, "Verkehrsmittel", "Mode"), modes,
                         index=modes.index(mode), key="dk_scn_smode")
    kinds = st.multiselect(_t(ctx, "Kandidaten", "Candidates"), ["stop", "centre", "anchor",
                                                                  "map"],
                           default=["stop", "centre", "anchor"],
                           format_func=lambda x: CANDIDATE_KINDS.get(x, x), key="dk_scn_kinds")
    st.caption(_t(ctx, "Bestehende Einrichtungen (mit den Änderungen oben) gelten als "
                       "versorgend; gezählt wird, wer bisher außerhalb der Schwelle wohnt.",
                  "Existing services (with the changes above) already cover; only residents "
                  "beyond the threshold count."))
    if st.button(_t(ctx, "Vorschlagen", "Suggest"), key="dk_scn_suggest"):
        cands = candidates(ctx)
        cands = cands[cands["kind"].isin(kinds)]
        if "map" in kinds and st.session_state.get(MAP_CLICK_KEY):
            lat, lon = st.session_state[MAP_CLICK_KEY]
            cands = pd.concat([cands, gpd.GeoDataFrame(
                {"name": [_t(ctx, "Kartenpunkt", "Map point")], "kind": ["map"],
                 "ref": ["map"]}, geometry=gpd.points_from_xy([lon], [lat]), crs="EPSG:4326")],
                ignore_index=True)
        try:
            with st.spinner(_t(ctx, "Rechne (beim ersten Mal lädt der Löser) …",
                               "Computing (the solver loads on first use) …")):
                sg = suggest(wi.result, cat, smode, k, method=method,
                             candidates=gpd.GeoDataFrame(cands, crs="EPSG:4326"))
            st.session_state[SUGGEST_KEY] = sg
        except DorfkarteError as exc:
            st.error(md(f"Fehler: {exc}"))
    sg = st.session_state.get(SUGGEST_KEY)
    if sg is None or sg.category != cat:
        return
    sol = sg.solution
    proof = _t(ctx, "beweisbar optimal", "proven optimal") if sol.optimal else \
        _t(ctx, "Näherung", "heuristic")
    st.caption(f"{methods.get(sg.method, sg.method)} · {proof} · {sg.seconds:.2f} s"
               + (f" · {sol.solver}" if sol.solver else ""))
    sites = sg.sites
    newly = sites["cumulative"].diff().fillna(sites["cumulative"])
    table = pd.DataFrame({
        "Nr": sites["rank"], _t(ctx, "Standort", "Site"): sites["name"],
        _t(ctx, "Art", "Kind"): sites["kind"].map(lambda x: CANDIDATE_KINDS.get(x, x)),
        _t(ctx, "neu versorgt", "newly covered"): newly.round(0),
        _t(ctx, "kumuliert", "cumulative"): sites["cumulative"].round(0),
        _t(ctx, "Anteil danach %", "Share after %"): (100 * sites["share_after"]).round(1),
    })
    if "time_saved" in sites:
        table[_t(ctx, "Minuten × Einwohner gespart", "Minutes × residents saved")] = \
            sites["time_saved"].round(0)
    st.dataframe(table, hide_index=True, key="dk_scn_suggest_table")
    st.bar_chart(pd.DataFrame({_t(ctx, "neu versorgt", "newly covered"): newly.to_numpy()},
                              index=[f"{r}. {n}" for r, n in zip(sites["rank"], sites["name"],
                                                                  strict=True)]))
    if sg.greedy is not None and sg.greedy.gap is not None:
        st.caption(_t(ctx, f"Greedy zum Vergleich: Abstand zum Optimum "
                           f"{100 * sg.greedy.gap:.1f} %",
                      f"Greedy for comparison: gap to optimum {100 * sg.greedy.gap:.1f} %"))
    for n in sg.notes:
        st.warning(n)
    if st.button(_t(ctx, "Vorschläge ins Szenario übernehmen", "Add suggestions to scenario"),
                 key="dk_scn_take"):
        for ch in sg.changes():
            _apply(ctx, wi, ch)
        st.session_state.pop(SUGGEST_KEY, None)
        st.rerun()


def _render_route(ctx: UIContext, wi: WhatIf, cat: str, modes: list[str]) -> None:
    c1, c2, c3 = st.columns(3)
    budget = c1.number_input(_t(ctx, "Zeitbudget (min/Woche)", "Time budget (min/week)"),
                             min_value=10.0, value=240.0, step=10.0, key="dk_scn_budget")
    stop = c2.number_input(_t(ctx, "Haltedauer (min)", "Stop duration (min)"),
                           min_value=5.0, value=30.0, step=5.0, key="dk_scn_stopmin")
    travel = c3.checkbox(_t(ctx, "Fahrzeit zwischen Halten", "Drive time between stops"),
                         value="drive" in modes, key="dk_scn_travel")
    rmode = "walk" if "walk" in modes else modes[0]
    if st.button(_t(ctx, "Halte vorschlagen", "Suggest stops"), key="dk_scn_route_btn"):
        try:
            df = mobile_stops(wi.result, cat, candidates(ctx), budget_min=budget,
                              stop_min=stop, mode=rmode, travel=travel)
            st.session_state[ROUTE_KEY] = (cat, df)
        except DorfkarteError as exc:
            st.error(md(f"Fehler: {exc}"))
    held = st.session_state.get(ROUTE_KEY)
    if held is None or held[0] != cat:
        return
    df = held[1]
    if df.empty:
        st.info(_t(ctx, "Kein Halt erreicht im Budget zusätzliche Einwohner.",
                    "No stop reaches additional residents within the budget."))
        return
    st.dataframe(pd.DataFrame({
        "Nr": df["rank"], _t(ctx, "Halt", "Stop"): df["name"],
        _t(ctx, "neu erreicht", "newly reached"): df["newly_covered"].round(0),
        _t(ctx, "Minuten", "Minutes"): df["minutes"].round(1),
        _t(ctx, "EW je Minute", "Residents per minute"): df["per_minute"].round(2),
        _t(ctx, "Minuten kumuliert", "Minutes used"): df["minutes_used"].round(0)}),
        hide_index=True)
    st.caption(_t(ctx, "Fahrzeit ab dem nächstgelegenen schon gewählten Halt: eine Näherung, "
                       "keine Tourenplanung.",
                  "Drive time from the nearest stop already chosen: an estimate, not a tour "
                  "plan."))
