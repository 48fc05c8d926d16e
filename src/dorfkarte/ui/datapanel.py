"""The "Daten" panel: what data the region has, what is missing, and getting it in.

Every import runs the library function the CLI runs (:data:`dorfkarte.imports.IMPORTERS`:
one form per entry), in a background :class:`dorfkarte.jobs.Job` so the page stays usable;
a fragment polls the job's progress. The stored data is replaced only when an import is
complete (the library writes temp file + rename), so a cancel or an error leaves it as it
was; the last import of each kind can be undone. File names, messages and values from
files are shown as plain text (``st.text``/``st.code``/tables), never as Markdown/HTML.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import streamlit as st

from dorfkarte.errors import DorfkarteError
from dorfkarte.i18n import t
from dorfkarte.imports import (
    IMPORTERS,
    SHARED_TARGETS,
    Importer,
    NothingToUndo,
    data_status,
    district_columns,
    last_import,
    run_import,
    undo_import,
)
from dorfkarte.jobs import JOBS, Job
from dorfkarte.listings.smart_village import import_smart_village
from dorfkarte.ui.context import UIContext

_PREFIX = "dk_data_"
_SEEN = "_dk_data_seen_jobs"
_MSG = "_dk_data_messages"
#: How often (s) the running job's progress is redrawn.
POLL_S = 0.5


def _key(ctx: UIContext, kind: str) -> str:
    """Job key: one job per data folder, region and target (fetch and extract share one)."""
    return f"{Path(ctx.data_dir).resolve()}|{ctx.region.id}|{SHARED_TARGETS.get(kind, kind)}"


def _plain(text: object) -> str:
    """Text for st.markdown-based widgets (error/success): Markdown/HTML characters escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-!|<>~$])", r"\\\1", " ".join(str(text).split()))


def render_data_panel(ctx: UIContext) -> None:
    """Layers, what is missing, and one import form per importer."""
    lang = ctx.lang
    st.subheader(t("data_title", lang))
    for _kind, level, text in st.session_state.pop(_MSG, []):
        getattr(st, level)(_plain(text))
    st.markdown(f"**{t('data_layers', lang)}**")
    try:
        layers, missing = data_status(ctx.snapshot, ctx.region, ctx.data_dir, lang)
    except DorfkarteError as exc:
        st.error(_plain(exc))
        layers, missing = None, []
    if layers is not None:
        st.dataframe(layers, hide_index=True, width="stretch")
    st.markdown(f"**{t('data_missing', lang)}**")
    if missing:
        for line in missing:
            st.warning(_plain(line))
    else:
        st.success(t("data_nothing_missing", lang))
    st.markdown(f"**{t('data_import', lang)}** · {t('data_usable', lang)}")
    for kind, imp in IMPORTERS.items():
        with st.expander(imp.text(lang), expanded=_job(ctx, kind) is not None):
            render_importer(ctx, imp)
    with st.expander(t("sva_title", lang)):
        render_smart_village_form(ctx)


# -- one importer -------------------------------------------------------------------------

def _job(ctx: UIContext, kind: str) -> Job | None:
    job = JOBS.get(_key(ctx, kind))
    return job if job is not None and job.kind == kind else None


def render_importer(ctx: UIContext, imp: Importer) -> None:
    """Form, progress of a running job, last import and undo for one kind."""
    lang, kind = ctx.lang, imp.kind
    st.caption(t("data_adds", lang, adds=imp.adds[1] if lang == "en" else imp.adds[0]))
    st.caption(t("data_cli", lang, cli=imp.cli))
    shared = JOBS.get(_key(ctx, kind))
    busy = shared is not None and shared.alive
    if _job(ctx, kind) is not None:
        _progress_fragment(ctx, kind)
    elif busy:
        st.info(t("data_busy", lang))
    if not busy:
        _form(ctx, imp)
    rec = last_import(kind, ctx.region, ctx.data_dir)
    if rec is not None:
        mark = f" {t('data_last_undone', lang)}" if rec.undone else ""
        st.text(t("data_last", lang, what=rec.what, at=rec.at) + mark)
        if not rec.undone and st.button(t("data_undo", lang), key=f"{_PREFIX}undo_{kind}",
                                        disabled=busy):
            undo(ctx, kind)


def undo(ctx: UIContext, kind: str) -> None:
    try:
        rec = undo_import(kind, ctx.region, ctx.data_dir)
    except (NothingToUndo, DorfkarteError) as exc:
        _say(kind, "error", str(exc))
    else:
        _say(kind, "success", t("data_undone", ctx.lang, what=rec.what))
        _data_changed()
    st.rerun()


def _form(ctx: UIContext, imp: Importer) -> None:
    lang, kind = ctx.lang, imp.kind
    opts: dict[str, Any] = {}
    path: Path | None = None
    if kind == "fetch":
        import osmnx as ox

        c1, c2, c3 = st.columns([3, 1, 1])
        opts["overpass_url"] = c1.text_input(t("data_overpass_url", lang),
                                             value=ox.settings.overpass_url,
                                             key=f"{_PREFIX}overpass_url")
        opts["timeout_s"] = float(c2.number_input(t("data_timeout", lang), 5, 900,
                                                  int(ox.settings.requests_timeout),
                                                  key=f"{_PREFIX}timeout"))
        opts["retries"] = int(c3.number_input(t("data_retries", lang), 0, 10, 4,
                                              key=f"{_PREFIX}retries"))
        opts["use_cache"] = st.checkbox(t("data_use_cache", lang), value=True,
                                        key=f"{_PREFIX}cache")
        if st.button(t("data_fetch_start", lang), key=f"{_PREFIX}start_{kind}",
                     type="primary"):
            start(ctx, kind, None, **opts)
        return
    how = st.radio(t("data_how", lang), [t("data_from_path", lang), t("data_from_upload", lang)],
                   key=f"{_PREFIX}how_{kind}", horizontal=True)
    if how == t("data_from_path", lang):
        text = st.text_input(t("data_path", lang), key=f"{_PREFIX}path_{kind}",
                             help=t("data_path_help", lang) if kind == "osm" else None)
        path = Path(text.strip()).expanduser() if text.strip() else None
    else:
        up = st.file_uploader(t("data_upload", lang), key=f"{_PREFIX}upload_{kind}",
                              type=[s.lstrip(".") for s in imp.suffixes] or None)
        if up is not None:
            path = save_upload(ctx, up.name, up.getvalue())
    if kind == "districts":
        opts.update(_district_options(ctx, path))
    elif kind == "gtfs":
        c1, c2 = st.columns(2)
        opts["source"] = c1.text_input(t("data_source_field", lang),
                                       key=f"{_PREFIX}gtfs_source").strip()
        opts["licence"] = c2.text_input(t("data_licence_field", lang),
                                        key=f"{_PREFIX}gtfs_licence").strip()
    if st.button(t("data_start", lang), key=f"{_PREFIX}start_{kind}", type="primary"):
        if path is None:
            st.error(t("data_no_file", lang))
            return
        start(ctx, kind, path, **opts)


def _district_options(ctx: UIContext, path: Path | None) -> dict[str, Any]:
    lang = ctx.lang
    cols: list[str] = []
    if path is not None:
        try:
            cols = district_columns(path)
        except DorfkarteError as exc:
            st.error(_plain(exc))
    none = t("data_none", lang)
    c1, c2 = st.columns(2)
    name = c1.selectbox(t("data_name_column", lang), cols or [none],
                        key=f"{_PREFIX}name_column")
    pop = c2.selectbox(t("data_population_column", lang), [none, *cols],
                       key=f"{_PREFIX}population_column")
    c3, c4 = st.columns(2)
    source = c3.text_input(t("data_source_field", lang), key=f"{_PREFIX}districts_source")
    licence = c4.text_input(t("data_licence_field", lang), key=f"{_PREFIX}districts_licence")
    return {"name_column": None if name == none else name,
            "population_column": None if pop == none else pop,
            "source": source.strip(), "licence": licence.strip()}


def save_upload(ctx: UIContext, name: str, data: bytes) -> Path:
    """An upload as a file in the data folder's ``.uploads`` (the importers read paths);
    named by content so a rerun does not write it again."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name)[-80:] or "upload"
    digest = hashlib.sha1(data).hexdigest()[:10]
    folder = Path(ctx.data_dir) / ".uploads" / digest  # messages keep the user's file name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / safe
    if not path.exists():
        from dorfkarte.atomic import atomic_path

        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    return path


def start(ctx: UIContext, kind: str, path: Path | None, **opts: Any) -> bool:
    """Check the input now (one-line error in the form), then import in the background."""
    imp = IMPORTERS[kind]
    try:
        imp.check(path, ctx.region, ctx.data_dir, **opts)
    except DorfkarteError as exc:
        st.error(_plain(f"Fehler: {exc}" if ctx.lang != "en" else f"Error: {exc}"))
        _drop_upload(ctx, path)
        return False
    key = _key(ctx, kind)
    cur = JOBS.get(key)
    if cur is not None and cur.alive:
        st.warning(t("data_busy", ctx.lang))
        return False
    job = Job(kind, run_import, kind, path, ctx.region, Path(ctx.data_dir), **opts)
    job.meta["path"] = path
    JOBS.start(key, job)
    st.rerun()
    return True


@st.fragment(run_every=POLL_S)
def _progress_fragment(ctx: UIContext, kind: str) -> None:
    """Redrawn every :data:`POLL_S` seconds on its own; the rest of the page is not rerun."""
    _progress_view(ctx, kind)


def _progress_view(ctx: UIContext, kind: str) -> None:
    """The running job: one bar over its steps, the steps done so far, cancel; on the
    end the outcome, and once, a rerun of the whole app so it uses the new data."""
    lang = ctx.lang
    job = _job(ctx, kind)
    if job is None:
        return
    state = job.state()
    if state.running:
        label = state.label or "…"
        st.progress(state.fraction, text=t("data_running", lang, label=label,
                                             i=state.step + 1, n=max(state.total, 1)))
        for done in state.steps[:-1]:
            st.text(f"✓ {done}")
        if job.cancel_event.is_set():
            st.info(t("data_cancelling", lang))
        elif st.button(t("data_cancel", lang), key=f"{_PREFIX}cancel_{kind}"):
            job.cancel()
            st.info(t("data_cancelling", lang))
        return
    seen = st.session_state.setdefault(_SEEN, set())
    if job.id in seen:
        return
    seen.add(job.id)
    _drop_upload(ctx, job.meta.get("path"))
    if state.status == "done":
        what = getattr(state.result, "what", "") or kind
        _say(kind, "success", t("data_done", lang, what=what))
        _data_changed()
    elif state.status == "cancelled":
        _say(kind, "warning", t("data_cancelled", lang, msg=state.message))
    else:
        _say(kind, "error", t("data_failed", lang, msg=state.message))
    JOBS.forget(_key(ctx, kind))
    st.rerun(scope="app")


def _drop_upload(ctx: UIContext, path: Path | None) -> None:
    """An uploaded copy is not needed once its import ended (a path is never touched)."""
    import shutil

    uploads = (Path(ctx.data_dir) / ".uploads").resolve()
    if path is not None and Path(path).resolve().parent.parent == uploads:
        shutil.rmtree(Path(path).parent, ignore_errors=True)


def _say(kind: str, level: str, text: str) -> None:
    st.session_state.setdefault(_MSG, []).append((kind, level, text))


def _data_changed() -> None:
    """New data on disk: drop the app's cached snapshot, analysis and maps."""
    st.cache_data.clear()
    st.cache_resource.clear()


# -- Smart Village App (also in the listings panel) ------------------------------------------

def render_smart_village_form(ctx: UIContext) -> None:
    """Query the town's Smart Village App (or read a saved answer) into the listings."""
    lang = ctx.lang
    if not ctx.region.smart_village_categories:
        st.info(t("sva_mapping_missing", lang))
    kind = "smart_village"
    key = _key(ctx, kind)
    job = JOBS.get(key)
    if job is not None:
        _sva_progress(ctx, job)
        if job.alive:
            return
    url = st.text_input(t("sva_url", lang), key=f"{_PREFIX}sva_url",
                        placeholder="https://…/graphql")
    token = st.text_input(t("sva_token", lang), key=f"{_PREFIX}sva_token", type="password")
    up = st.file_uploader(t("sva_file", lang), type=["json"], key=f"{_PREFIX}sva_file")
    if st.button(t("sva_start", lang), key=f"{_PREFIX}sva_start", type="primary",
                 disabled=not ctx.region.smart_village_categories):
        file = save_upload(ctx, up.name, up.getvalue()) if up is not None else None
        start_smart_village(ctx, url.strip() or None, token.strip() or None, file)


def start_smart_village(ctx: UIContext, url: str | None, token: str | None,
                        file: Path | None) -> None:
    if url is None and file is None:
        st.error(t("data_no_file", ctx.lang))
        return
    user = str(st.session_state.get("dk_listings_user") or "") or None
    job = Job("smart_village", import_smart_village, ctx.region, Path(ctx.data_dir), url=url,
              token=token, file=file, user=user)
    JOBS.start(_key(ctx, "smart_village"), job)
    st.rerun()


def _sva_progress(ctx: UIContext, job: Job) -> None:
    state = job.state()
    if state.running:
        _sva_running(ctx)
        return
    seen = st.session_state.setdefault(_SEEN, set())
    if state.status == "done":
        checked, summary = state.result
        st.success(_plain(checked.summary()))
        st.text(summary.message())
        lines = checked.lines()
        if lines:
            import pandas as pd

            st.dataframe(pd.DataFrame({"Meldung" if ctx.lang != "en" else "Message": lines}),
                         hide_index=True, width="stretch")
    else:
        st.error(_plain(t("data_failed", ctx.lang, msg=state.message)))
    if job.id not in seen:
        seen.add(job.id)
        if state.status == "done":
            _data_changed()


@st.fragment(run_every=POLL_S)
def _sva_running(ctx: UIContext) -> None:
    job = JOBS.get(_key(ctx, "smart_village"))
    if job is None:
        return
    state = job.state()
    if not state.running:
        st.rerun(scope="app")
    st.progress(state.fraction, text=t("data_running", ctx.lang, label=state.label or "…",
                                         i=state.step + 1, n=max(state.total, 1)))
