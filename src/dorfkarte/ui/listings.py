"""Streamlit panel for local service listings: upload, table editing, map placement, undo.

Wiring for ``app.py``:

- ``render_listings_panel(ctx)`` draws the panel.
- The app's map puts a click into ``st.session_state[MAP_CLICK_KEY] = (lat, lon)``
  (``"dk_map_click"``); the panel then offers "Neues Angebot hier" at that point. Tests set
  the key directly, since AppTest cannot click a map.
- ``render_time_selector(ctx)`` returns the coverage question (None, a datetime or
  "weekly") and keeps it in ``st.session_state[WHEN_KEY]``; pass it to
  ``listing_destinations(ctx)`` / :func:`dorfkarte.listings.destinations`.

Everything user-supplied is shown as table cells or escaped text, never as HTML.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import geopandas as gpd
import pandas as pd
import streamlit as st

from dorfkarte.errors import DorfkarteError
from dorfkarte.i18n import category_label, t
from dorfkarte.listings import (
    EXAMPLE_NOTE,
    FIELDS,
    KINDS,
    ListingStore,
    check_file,
    check_table,
    describe_when,
    destinations,
    import_report,
    table_from_frame,
    validate,
)
from dorfkarte.listings.schedule import When
from dorfkarte.listings.schema import COLUMNS, MAX_FILE_BYTES
from dorfkarte.listings.store import action_label, describe_change
from dorfkarte.listings.template import csv_bytes, example_rows, template_rows, xlsx_bytes
from dorfkarte.safe import md_escape
from dorfkarte.timefmt import local_time
from dorfkarte.ui.context import UIContext
from dorfkarte.ui.datapanel import render_smart_village_form
from dorfkarte.ui.state import MAP_CLICK as MAP_CLICK_KEY  # the map's click: (lat, lon)

#: Session key holding the chosen coverage time (None, datetime or "weekly").
WHEN_KEY = "dk_listings_panel_when"
USER_KEY = "dk_listings_user"
_EDITOR_VERSION = "dk_listings_editor_version"
_REPORT_KEY = "dk_listings_upload_report"
_MSG_KEY = "dk_listings_message"
_LAST_CLICK = "_dk_listings_last_click"
_RESET_FORM = "_dk_listings_reset_form"
_LOADED_VERSION = "_dk_listings_loaded_version"
_IMPORTED = "_dk_listings_imported_digest"
_FORM_KEYS = ("dk_new_name", "dk_new_category", "dk_new_kind", "dk_new_lat", "dk_new_lon",
              "dk_new_stop", "dk_new_hours", "dk_new_provider", "dk_new_note", "dk_new_example")


def render_listings_panel(ctx: UIContext) -> None:
    """The whole listings panel: upload, table, new entry at a map click, undo, history."""
    store = ListingStore(ctx.data_dir)
    st.subheader(t("lst_local_service_listings", ctx.lang))
    st.caption(t("lst_services_missing_from_osm", ctx.lang))
    msg = st.session_state.pop(_MSG_KEY, None)
    if msg:
        st.success(md_escape(msg))
    st.text_input(t("lst_your_name_for_the", ctx.lang),
                  key=USER_KEY)
    try:
        current = store.read()
    except DorfkarteError as exc:
        st.error(md_escape(exc))
        return
    n_ex = int(current["example"].sum()) if len(current) else 0
    if n_ex:
        st.warning(t("lst_entries_are_example_data", ctx.lang, n_ex=n_ex,
                     example_note=EXAMPLE_NOTE))
    tabs = st.tabs([t("lst_table", ctx.lang), t("lst_new_entry", ctx.lang),
                    t("lst_upload_file", ctx.lang),
                    t("lst_changes", ctx.lang)])
    with tabs[0]:
        _render_table(ctx, store, current)
    with tabs[1]:
        _render_new_entry(ctx, store)
    with tabs[2]:
        _render_upload(ctx, store)
        with st.expander(t("sva_title", ctx.lang)):
            render_smart_village_form(ctx)
    with tabs[3]:
        _render_history(ctx, store)


# -- table --------------------------------------------------------------------------------

#: Editor column order: what planners check first (name, example flag, category, schedule).
EDITOR_ORDER = ["id", "name", "example", "category", "kind", "opening_hours", "stop",
                "ortsteil", "anchor", "address", "lat", "lon", "valid_from", "valid_to",
                "provider", "contact", "url", "accessibility", "source", "note"]


def editor_frame(listings: gpd.GeoDataFrame) -> pd.DataFrame:
    """Stored listings as the editor shows them: schema columns, coordinates only where the
    place was given as coordinates (others are re-located from stop/Ortsteil/anchor)."""
    df = pd.DataFrame({f: listings.get(f, "") for f in FIELDS})
    if len(df):
        own = listings["location_source"].astype(str) == "Koordinaten"
        df["lat"] = listings["lat"].where(own)
        df["lon"] = listings["lon"].where(own)
    df["lat"] = pd.to_numeric(df["lat"], errors="coerce").astype(float)
    df["lon"] = pd.to_numeric(df["lon"], errors="coerce").astype(float)
    df["example"] = df["example"].astype(bool)
    for f in FIELDS:
        if f not in ("lat", "lon", "example"):
            df[f] = df[f].fillna("").astype(str).astype(object)
    return df.reset_index(drop=True)


def _render_table(ctx: UIContext, store: ListingStore, current: gpd.GeoDataFrame) -> None:
    version = st.session_state.setdefault(_EDITOR_VERSION, 0)
    labels = {c.name: c.label for c in COLUMNS}
    helps = {c.name: c.help for c in COLUMNS}
    cats = ", ".join(ctx.region.categories)
    config = {f: st.column_config.TextColumn(labels[f], help=helps[f]) for f in FIELDS}
    config["category"] = st.column_config.TextColumn(labels["category"],
                                                     help=f"{helps['category']} Erlaubt: {cats}")
    config["kind"] = st.column_config.SelectboxColumn(labels["kind"], options=list(KINDS),
                                                      help=helps["kind"], default="fixed")
    config["lat"] = st.column_config.NumberColumn(labels["lat"], format="%.6f", help=helps["lat"])
    config["lon"] = st.column_config.NumberColumn(labels["lon"], format="%.6f", help=helps["lon"])
    config["example"] = st.column_config.CheckboxColumn(labels["example"], help=helps["example"],
                                                        default=False)
    loaded = st.session_state.setdefault(f"{_LOADED_VERSION}_{version}", store.version())
    edited = st.data_editor(editor_frame(current), num_rows="dynamic", hide_index=True,
                            column_config=config, column_order=EDITOR_ORDER,
                            key=f"dk_listings_editor_{version}")
    if st.button(t("lst_check_and_save_changes", ctx.lang),
                 key="dk_listings_save"):
        save_table(ctx, store, edited, expect_version=loaded)


def save_table(ctx: UIContext, store: ListingStore, edited: pd.DataFrame,
               expect_version: int | None = None) -> bool:
    """Validate the edited table like an import; save it only if every row is fine and
    nobody else changed the store since it was loaded (``expect_version``)."""
    try:
        # the table is the whole store: anchors must be in it, not only in the old store
        vctx = ctx.ws.validation_context()
        report = validate(table_from_frame(edited), vctx)
    except DorfkarteError as exc:
        st.error(md_escape(exc))
        return False
    if report.errors:
        st.error(t("lst_not_saved_errors_in", ctx.lang, errors=len(report.errors)))
        st.dataframe(report.issues_frame(), hide_index=True)
        return False
    try:
        summary = store.replace_all(report.listings, user=_user(), action="edit",
                                    expect_version=expect_version)
    except DorfkarteError as exc:
        st.error(md_escape(exc))
        st.session_state[_EDITOR_VERSION] = st.session_state.get(_EDITOR_VERSION, 0) + 1
        return False
    _done(summary.message())
    return True


# -- new entry at a map click -------------------------------------------------------------

def _render_new_entry(ctx: UIContext, store: ListingStore) -> None:
    click = st.session_state.get(MAP_CLICK_KEY)
    if click:
        st.info(t("lst_place_from_map_click", ctx.lang, lat=float(click[0]),
                  lon=float(click[1])))
    else:
        st.caption(t("lst_click_the_map_to", ctx.lang))
    cat_ids = list(ctx.region.categories)
    if st.session_state.pop(_RESET_FORM, False):
        for k in _FORM_KEYS:
            st.session_state.pop(k, None)
    if click and st.session_state.get(_LAST_CLICK) != tuple(click):
        # a new click moves the form's coordinates (widget state wins over value=)
        st.session_state[_LAST_CLICK] = tuple(click)
        st.session_state["dk_new_lat"] = f"{float(click[0]):.6f}"
        st.session_state["dk_new_lon"] = f"{float(click[1]):.6f}"
    with st.form("dk_listings_new", clear_on_submit=False):
        name = st.text_input("Name", key="dk_new_name")
        cats = st.multiselect(
            t("lst_category", ctx.lang), cat_ids, key="dk_new_category",
            format_func=lambda c: category_label(ctx.region.categories[c], ctx.lang))
        kind = st.selectbox(t("lst_kind", ctx.lang), list(KINDS), key="dk_new_kind")
        c1, c2 = st.columns(2)
        # text, not number fields: "52,1386" (decimal comma) is read like the import does
        lat = c1.text_input(t("lst_latitude", ctx.lang), key="dk_new_lat",
                            placeholder="52,1386")
        lon = c2.text_input(t("lst_longitude", ctx.lang), key="dk_new_lon",
                            placeholder="12,5843")
        stop = st.text_input(t("lst_or_bus_stop", ctx.lang), key="dk_new_stop")
        hours = st.text_input(t("lst_schedule_e_g_tu", ctx.lang), key="dk_new_hours")
        provider = st.text_input(t("lst_provider", ctx.lang), key="dk_new_provider")
        note = st.text_input(t("lst_note", ctx.lang), key="dk_new_note")
        example = st.checkbox(t("lst_example_data_not_a", ctx.lang), key="dk_new_example")
        submitted = st.form_submit_button(t("lst_check_and_save", ctx.lang))
    if submitted:
        row = {f: "" for f in FIELDS}
        row.update(name=name, category=",".join(cats), kind=kind, stop=stop,
                   opening_hours=hours, provider=provider, note=note,
                   example="ja" if example else "nein",
                   lat=(lat or "").strip(), lon=(lon or "").strip())
        add_entry(ctx, store, row)


def add_entry(ctx: UIContext, store: ListingStore, row: dict[str, str]) -> bool:
    """Check one new row like an import and store it; clears the map click on success."""
    try:
        report = check_table(table_from_frame(pd.DataFrame([row])), ctx.region, ctx.data_dir,
                             store, context=ctx.ws.validation_context())
    except DorfkarteError as exc:
        st.error(md_escape(exc))
        return False
    if report.errors:
        st.error(t("lst_not_saved", ctx.lang))
        st.dataframe(report.issues_frame(), hide_index=True)
        return False
    summary = store.upsert(report.listings, user=_user(), action="add")
    st.session_state.pop(MAP_CLICK_KEY, None)
    st.session_state[_RESET_FORM] = True
    _done(summary.message())
    return True


# -- upload -------------------------------------------------------------------------------

def _render_upload(ctx: UIContext, store: ListingStore) -> None:
    c1, c2, c3 = st.columns(3)
    rows = template_rows(ctx.region, ctx.data_dir)  # the region's own categories/places
    c1.download_button(t("lst_template_csv", ctx.lang),
                       csv_bytes(rows), "angebote_vorlage.csv", "text/csv")
    c2.download_button(t("lst_template_xlsx", ctx.lang),
                       xlsx_bytes(rows, ctx.region, ctx.data_dir), "angebote_vorlage.xlsx",
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    if c3.button(t("lst_load_example_data", ctx.lang), key="dk_listings_examples",
                 help=EXAMPLE_NOTE):
        st.session_state.pop(_IMPORTED, None)  # loading them again after an undo is fine
        handle_upload(ctx, store, csv_bytes(example_rows(ctx.region, ctx.data_dir)),
                      "beispiel.csv")
    up = st.file_uploader(t("lst_listing_file_csv_xlsx", ctx.lang),
                          type=["csv", "xlsx", "geojson", "json"], key="dk_listings_upload")
    if up is not None:
        data = up.getvalue()
        handle_upload(ctx, store, data, up.name)
    shown = st.session_state.get(_REPORT_KEY)
    if shown is not None:
        _show_report(ctx, store, *shown)


def handle_upload(ctx: UIContext, store: ListingStore, data: bytes, name: str) -> None:
    """Check an uploaded file once (kept in the session by content hash) for import."""
    digest = hashlib.sha1(data).hexdigest()
    shown = st.session_state.get(_REPORT_KEY)
    if (shown is not None and shown[0] == digest) or st.session_state.get(_IMPORTED) == digest:
        return  # already checked, or already imported (the uploader still holds the file)
    if len(data) > MAX_FILE_BYTES:
        st.error(md_escape(f"{name}: Datei ist {len(data) / 1e6:.1f} MB groß; höchstens "
                           f"{MAX_FILE_BYTES / 1e6:.0f} MB"))
        return
    try:
        report = check_file(data, ctx.region, ctx.data_dir, name=name, store=store,
                            context=ctx.ws.validation_context())
    except DorfkarteError as exc:
        st.session_state.pop(_REPORT_KEY, None)
        st.error(md_escape(exc))
        return
    st.session_state[_REPORT_KEY] = (digest, report)


def _show_report(ctx: UIContext, store: ListingStore, digest: str, report) -> None:
    (st.warning if report.errors else st.info)(md_escape(report.summary()))
    if report.issues:
        st.dataframe(report.issues_frame(), hide_index=True, column_config={
            "Meldung": st.column_config.TextColumn("Meldung", width="large")})
    if len(report.listings):
        st.dataframe(pd.DataFrame(report.listings.drop(columns="geometry")), hide_index=True)
    c1, c2 = st.columns(2)
    if c1.button(t("lst_import", ctx.lang), disabled=bool(report.errors),
                 key="dk_listings_import"):
        _import(ctx, store, report, digest, valid_only=False)
    if report.errors and len(report.listings) and c2.button(
            t("lst_import_only_the_valid", ctx.lang, listings=len(report.listings)),
            key="dk_listings_import_valid"):
        _import(ctx, store, report, digest, valid_only=True)


def _import(ctx: UIContext, store: ListingStore, report, digest: str, *,
            valid_only: bool) -> None:
    try:
        summary = import_report(report, store, valid_only=valid_only, user=_user())
    except DorfkarteError as exc:
        st.error(md_escape(exc))
        return
    st.session_state.pop(_REPORT_KEY, None)
    st.session_state[_IMPORTED] = digest
    if summary is not None:
        _done(summary.message())


# -- history / undo -----------------------------------------------------------------------

def _render_history(ctx: UIContext, store: ListingStore) -> None:
    last = store.last_batch()
    if last is None:
        st.caption(t("lst_nothing_to_undo_yet", ctx.lang))
    else:
        at = local_time(last["at"], ctx.region.timezone)
        st.caption(md_escape(f"Letzte Änderung: {action_label(last['action'])} von "
                             f"{last['user']} am {at} ({last['count']} Einträge)"))
        if st.button(t("lst_undo_last_change", ctx.lang),
                     key="dk_listings_undo"):
            summary = store.undo(user=_user())
            if summary is not None:
                _done(summary.message())
    log = store.history()
    if len(log):
        st.dataframe(history_frame(log, ctx.region.timezone), hide_index=True)


def history_frame(log: pd.DataFrame, timezone: str = "Europe/Berlin") -> pd.DataFrame:
    """The change log as planners read it (German headers, one line per change).

    Times in the region's local time (stored as UTC).
    """
    return pd.DataFrame({
        "Vorgang": log["batch"],
        "Zeit": log["at"].map(lambda a: local_time(a, timezone, seconds=True)),
        "Wer": log["user"],
        "Art": log["action"].map(action_label),
        "Kennung": log["listing_id"],
        "Änderung": [describe_change(o, f, a, b) for o, f, a, b in
                     zip(log["op"], log["fields"], log["old"], log["new"], strict=True)],
        "nimmt zurück": log["undoes"].map(lambda b: f"Vorgang {b}" if b else ""),
    })


# -- time selector for coverage -------------------------------------------------------------

def render_time_selector(ctx: UIContext, key: str = WHEN_KEY) -> When:
    """Day/time selector: which listed services count (all, weekly, or at a moment)."""
    labels = [t("lst_all_listings", ctx.lang),
              t("lst_at_least_once_a", ctx.lang),
              t("lst_at_a_given_time", ctx.lang)]
    choice = st.radio(t("lst_count_local_listings", ctx.lang), labels,
                      index=1, key=f"{key}_mode", horizontal=True)
    when: When
    if choice == labels[0]:
        when = None
    elif choice == labels[1]:
        when = "weekly"
    else:
        c1, c2 = st.columns(2)
        day = c1.date_input(t("lst_day", ctx.lang), value=dt.date.today(), key=f"{key}_day",
                            format="DD.MM.YYYY")
        time = c2.time_input(t("lst_time", ctx.lang), value=dt.time(10, 0),
                             key=f"{key}_time", step=dt.timedelta(minutes=15))
        when = dt.datetime.combine(day, time)
    st.session_state[key] = when
    st.caption(md_escape(describe_when(when, ctx.lang)))
    return when


def listing_destinations(ctx: UIContext, when: When | str = "session") -> gpd.GeoDataFrame:
    """Stored listings as coverage destinations for ``when`` (default: the selector's value)."""
    if when == "session":
        when = st.session_state.get(WHEN_KEY, "weekly")
    return destinations(ListingStore(ctx.data_dir), ctx.region, when)


# -- helpers ------------------------------------------------------------------------------

def _user() -> str:
    name = str(st.session_state.get(USER_KEY) or "").strip()
    return name[:80] or "App"


def _done(message: str) -> None:
    """Show the message after a rerun and make the table reload from the store."""
    st.session_state[_MSG_KEY] = message
    st.session_state[_EDITOR_VERSION] = st.session_state.get(_EDITOR_VERSION, 0) + 1
    st.rerun()
