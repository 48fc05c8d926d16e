"""The listing store: ``<data_dir>/listings.gpkg`` with a change log, one writer at a time.

A GeoPackage so QGIS opens it directly (layer ``listings``: points; table
``listings_changes``: who changed what when, with old and new values as JSON). Every
change is one *batch* that :meth:`ListingStore.undo` can take back. Writes hold a file
lock and go to a temporary file that replaces the store in one rename, so a crash or a
refused import never leaves a half-written or emptied store.
"""

from __future__ import annotations

import contextlib
import getpass
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from filelock import FileLock, Timeout

from dorfkarte.atomic import atomic_path
from dorfkarte.errors import DataError, DorfkarteError
from dorfkarte.listings.schema import FIELDS, STORE_FIELDS
from dorfkarte.snapshot import now_iso

STORE_NAME = "listings.gpkg"
LAYER = "listings"
LOG_LAYER = "listings_changes"
LOG_COLUMNS = ("change_id", "batch", "at", "user", "action", "listing_id", "op", "fields",
               "old", "new", "undoes")
#: Fields compared to decide whether a row changed (bookkeeping columns excluded).
COMPARED = (*FIELDS, "location_source")
_FLOATS = ("lat", "lon")


class StoreBusyError(DorfkarteError, TimeoutError):
    """Another process is writing the listing store right now."""


class StoreChangedError(DorfkarteError, RuntimeError):
    """The store changed since the caller read it (another user saved in between)."""


@dataclass
class ChangeSummary:
    """What one write did; ``batch`` is 0 when nothing changed (nothing was written)."""

    batch: int
    action: str
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.deleted)

    def message(self) -> str:
        if not self.changed:
            return "Keine Änderung: alles war schon so gespeichert."
        return (f"Gespeichert ({_ACTION_DE.get(self.action, self.action)}): "
                f"{len(self.inserted)} neu, {len(self.updated)} geändert, "
                f"{len(self.deleted)} gelöscht.")


_ACTION_DE = {"import": "Import", "edit": "Bearbeitung", "add": "Neuer Eintrag",
              "delete": "Löschen", "undo": "Rückgängig"}


class ListingStore:
    """Listings of one data folder. Reading is lock-free (the file is replaced atomically)."""

    def __init__(self, data_dir: str | Path, *, lock_timeout: float = 10.0) -> None:
        self.path = Path(data_dir) / STORE_NAME
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.lock_timeout = lock_timeout

    # -- reading ---------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.path.exists()

    def read(self) -> gpd.GeoDataFrame:
        """All stored listings (EPSG:4326), ordered by id; empty frame if there is no store."""
        return self._read()[0]

    def history(self) -> pd.DataFrame:
        """The change log, newest first."""
        log = self._read()[1]
        return log.sort_values("change_id", ascending=False).reset_index(drop=True)

    def last_batch(self) -> dict | None:
        """What :meth:`undo` would take back: batch, action, at, user, count; None if nothing."""
        log = self._read()[1]
        b = _undoable(log)
        if b is None:
            return None
        rows = log[log["batch"] == b]
        first = rows.iloc[0]
        return {"batch": b, "action": str(first["action"]), "at": str(first["at"]),
                "user": str(first["user"]), "count": len(rows),
                "ids": [str(x) for x in rows["listing_id"]]}

    # -- writing ---------------------------------------------------------------------------

    def upsert(self, listings: gpd.GeoDataFrame, user: str | None = None,
               action: str = "import") -> ChangeSummary:
        """Insert new ids, update changed ones; rows not in ``listings`` stay as they are."""
        new = _normalise(listings)
        with self._locked():
            cur, log = self._read()
            changes, _ = _inserts_and_updates(cur, new)
            return self._apply(cur, log, changes, user, action)

    def version(self) -> int:
        """Number of the newest change (0 = none): lets an editor notice concurrent edits."""
        return _latest(self._read()[1])

    def replace_all(self, listings: gpd.GeoDataFrame, user: str | None = None,
                    action: str = "edit", expect_version: int | None = None) -> ChangeSummary:
        """Make the store equal ``listings`` (the app's table editor): ids missing are deleted.

        With ``expect_version`` (from :meth:`version` when the table was loaded) the write is
        refused if someone else changed the store since, instead of silently reverting that.
        """
        new = _normalise(listings)
        with self._locked():
            cur, log = self._read()
            now = _latest(log)
            if expect_version is not None and now != expect_version:
                last = log.loc[log["change_id"] == now].iloc[0]
                raise StoreChangedError(
                    f"Die Angebotsliste wurde inzwischen geändert ({last['action']} von "
                    f"{last['user']} um {last['at']}); Tabelle neu laden und Änderung wiederholen"
                )
            changes, cur_by = _inserts_and_updates(cur, new)
            new_ids = set(new["id"])
            changes += [("delete", i, r, None) for i, r in cur_by.items() if i not in new_ids]
            return self._apply(cur, log, changes, user, action)

    def sync_source(self, listings: gpd.GeoDataFrame, *, source: str, keep: set[str],
                    ended_on: date, ended_note: str, user: str | None = None,
                    action: str = "import") -> ChangeSummary:
        """One batch that mirrors an external source (e.g. the Smart Village App).

        Rows of ``listings`` are inserted or updated; stored rows whose ``source`` equals
        ``source`` and whose id is not in ``keep`` (vanished from the source) are ended:
        ``valid_to`` = ``ended_on`` (unless already ended earlier) and ``ended_note`` added.
        """
        new = _normalise(listings)
        with self._locked():
            cur, log = self._read()
            changes, cur_by = _inserts_and_updates(cur, new)
            incoming = set(new["id"])
            end = ended_on.isoformat()
            for lid, rec in cur_by.items():
                if rec.get("source") != source or lid in keep or lid in incoming:
                    continue
                if rec.get("valid_to") and str(rec["valid_to"]) <= end:
                    continue  # already ended
                ended = dict(rec)
                ended["valid_to"] = end
                if ended.get("valid_from") and str(ended["valid_from"]) > end:
                    ended["valid_from"] = end
                note = str(ended.get("note") or "")
                ended["note"] = f"{note}; {ended_note}" if note else ended_note
                changes.append(("update", lid, rec, ended))
            return self._apply(cur, log, changes, user, action)

    def delete(self, ids: Iterable[str], user: str | None = None) -> ChangeSummary:
        wanted = set(ids)
        with self._locked():
            cur, log = self._read()
            changes = [("delete", r["id"], r, None) for r in _records(cur) if r["id"] in wanted]
            return self._apply(cur, log, changes, user, "delete")

    def undo(self, user: str | None = None) -> ChangeSummary | None:
        """Take back the newest change not yet undone; None if there is nothing to undo."""
        with self._locked():
            cur, log = self._read()
            b = _undoable(log)
            if b is None:
                return None
            rows = log[log["batch"] == b].sort_values("change_id", ascending=False)
            changes = []
            for r in rows.itertuples(index=False):
                old = json.loads(r.old) if r.old else None
                new = json.loads(r.new) if r.new else None
                if r.op == "insert":
                    changes.append(("delete", r.listing_id, new, None))
                elif r.op == "delete":
                    changes.append(("insert", r.listing_id, None, old))
                else:
                    changes.append(("update", r.listing_id, new, old))
            return self._apply(cur, log, changes, user, "undo", undoes=b)

    # -- internals -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.lock_path), timeout=self.lock_timeout)
        try:
            lock.acquire()
        except Timeout:
            raise StoreBusyError(
                f"Angebotsspeicher {self.path} wird gerade von einem anderen Vorgang "
                f"geschrieben (nach {self.lock_timeout:.0f} s aufgegeben); bitte erneut versuchen"
            ) from None
        try:
            yield
        finally:
            lock.release()

    def _read(self) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
        if not self.path.exists():
            return _empty_listings(), _empty_log()
        try:
            cur = pyogrio.read_dataframe(self.path, layer=LAYER)
            log = pyogrio.read_dataframe(self.path, layer=LOG_LAYER, read_geometry=False)
        except Exception as exc:  # GDAL raises several types for broken files
            raise DataError(f"Angebotsspeicher {self.path} ist nicht lesbar: {exc}") from None
        return _normalise(cur), _normalise_log(log)

    def _apply(self, cur: gpd.GeoDataFrame, log: pd.DataFrame, changes: list, user: str | None,
               action: str, undoes: int = 0) -> ChangeSummary:
        batch = int(log["batch"].max()) + 1 if len(log) else 1
        summary = ChangeSummary(batch=batch if changes else 0, action=action)
        if not changes:
            return summary
        who = user or _default_user()
        at = now_iso()
        by_id = {r["id"]: r for r in _records(cur)}
        order = list(by_id)
        next_change = _latest(log) + 1
        entries = []
        for op, lid, old, new in changes:
            if op == "delete":
                by_id.pop(lid, None)
                summary.deleted.append(lid)
            else:
                new = dict(new)
                new["updated_at"], new["updated_by"] = at, who
                if lid not in by_id:
                    order.append(lid)
                by_id[lid] = new
                (summary.inserted if op == "insert" else summary.updated).append(lid)
            changed = ["*"] if old is None or new is None else [
                f for f in COMPARED if _val(old.get(f)) != _val(new.get(f))]
            entries.append({
                "change_id": next_change, "batch": batch, "at": at, "user": who,
                "action": action, "listing_id": lid, "op": op, "fields": ",".join(changed),
                "old": _dumps(old), "new": _dumps(new), "undoes": undoes,
            })
            next_change += 1
        rows = [by_id[i] for i in order if i in by_id]
        out = _from_records(rows)
        new_log = pd.concat([log, pd.DataFrame(entries, columns=list(LOG_COLUMNS))],
                            ignore_index=True) if len(log) else pd.DataFrame(
                                entries, columns=list(LOG_COLUMNS))
        self._write(out, _normalise_log(new_log))
        return summary

    def _write(self, listings: gpd.GeoDataFrame, log: pd.DataFrame) -> None:
        with atomic_path(self.path, create=False) as tmp:  # GDAL creates the file itself
            pyogrio.write_dataframe(listings, tmp, layer=LAYER, driver="GPKG",
                                    geometry_type="Point")
            pyogrio.write_dataframe(log, tmp, layer=LOG_LAYER, driver="GPKG", append=True)


# -- frame helpers ---------------------------------------------------------------------------

def _default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unbekannt"


def _val(v: object) -> object:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, float):
        return round(v, 7)
    return v


def _dumps(rec: dict | None) -> str:
    if rec is None:
        return ""
    return json.dumps({k: _val(rec.get(k)) for k in STORE_FIELDS}, ensure_ascii=False)


def _differs(old: dict, new: dict) -> bool:
    return any(_val(old.get(f)) != _val(new.get(f)) for f in COMPARED)


def _records(gdf: gpd.GeoDataFrame) -> list[dict]:
    cols = [c for c in STORE_FIELDS if c in gdf.columns]
    return [dict(zip(cols, vals, strict=True))
            for vals in gdf[cols].itertuples(index=False, name=None)]


def _from_records(rows: list[dict]) -> gpd.GeoDataFrame:
    if not rows:
        return _empty_listings()
    df = pd.DataFrame([{k: r.get(k) for k in STORE_FIELDS} for r in rows])
    return _normalise(gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]),
                                       crs="EPSG:4326"))


def _normalise(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fixed columns and types whatever wrote the frame (validator, GDAL, app editor)."""
    gdf = gdf.copy()
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326") if len(gdf) else gdf.set_crs("EPSG:4326",
                                                                   allow_override=True)
    elif str(gdf.crs) != "EPSG:4326":
        gdf = gdf.to_crs("EPSG:4326")
    for c in STORE_FIELDS:
        if c not in gdf.columns:
            gdf[c] = "" if c not in _FLOATS and c != "example" else None
    for c in _FLOATS:
        gdf[c] = pd.to_numeric(gdf[c], errors="coerce").astype(float)
    if len(gdf):  # lat/lon are the truth; geometry follows them
        missing = gdf["lat"].isna() | gdf["lon"].isna()
        gdf.loc[missing, "lat"] = gdf.geometry[missing].y
        gdf.loc[missing, "lon"] = gdf.geometry[missing].x
        gdf = gdf.set_geometry(gpd.points_from_xy(gdf["lon"], gdf["lat"]), crs="EPSG:4326")
    gdf["example"] = gdf["example"].map(lambda v: bool(v) if v == v and v is not None
                                        else False).astype(bool)
    for c in STORE_FIELDS:
        if c not in (*_FLOATS, "example"):
            gdf[c] = _text(gdf[c])
    out = gpd.GeoDataFrame(gdf[list(STORE_FIELDS)], geometry=gdf.geometry, crs="EPSG:4326")
    return out.sort_values("id", kind="stable").reset_index(drop=True)


def _text(col: pd.Series) -> pd.Series:
    """Column as plain text, missing values as "" (GDAL gives None, pandas NaN)."""
    return col.where(col.notna(), "").astype(str).astype(object)


def _empty_listings() -> gpd.GeoDataFrame:
    data = {c: pd.Series(dtype=float if c in _FLOATS else bool if c == "example" else object)
            for c in STORE_FIELDS}
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")


def _empty_log() -> pd.DataFrame:
    return _normalise_log(pd.DataFrame(columns=list(LOG_COLUMNS)))


def _normalise_log(log: pd.DataFrame) -> pd.DataFrame:
    log = pd.DataFrame(log).copy()
    for c in LOG_COLUMNS:
        if c not in log.columns:
            log[c] = None
    for c in ("change_id", "batch", "undoes"):
        log[c] = pd.to_numeric(log[c], errors="coerce").fillna(0).astype("int64")
    for c in LOG_COLUMNS:
        if c not in ("change_id", "batch", "undoes"):
            log[c] = _text(log[c])
    return log[list(LOG_COLUMNS)]


def describe_change(op: str, fields: str, old: str, new: str, limit: int = 160) -> str:
    """One line in German: what a change-log row did ("Zeiten: Tu 10-11 → We 10-11")."""
    o = json.loads(old) if old else {}
    n = json.loads(new) if new else {}
    if op == "insert":
        text = f"neu: {n.get('name', '')}"
    elif op == "delete":
        text = f"gelöscht: {o.get('name', '')}"
    else:
        parts = [f"{f}: {o.get(f, '')} → {n.get(f, '')}" for f in fields.split(",") if f]
        text = "; ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def action_label(action: str) -> str:
    return _ACTION_DE.get(action, action)


def _undoable(log: pd.DataFrame) -> int | None:
    if not len(log):
        return None
    undone = set(log.loc[log["action"] == "undo", "undoes"].astype(int))
    cand = sorted(set(log.loc[log["action"] != "undo", "batch"].astype(int)) - undone)
    return cand[-1] if cand else None


def _latest(log: pd.DataFrame) -> int:
    """Number of the newest change in the log (0 = none)."""
    return int(log["change_id"].max()) if len(log) else 0


def _inserts_and_updates(cur: gpd.GeoDataFrame, new: gpd.GeoDataFrame
                         ) -> tuple[list[tuple[str, str, dict | None, dict | None]], dict]:
    """Changes that bring the rows of ``new`` into ``cur``, and ``cur`` by id."""
    cur_by = {r["id"]: r for r in _records(cur)}
    changes: list[tuple[str, str, dict | None, dict | None]] = []
    for rec in _records(new):
        old = cur_by.get(rec["id"])
        if old is None:
            changes.append(("insert", rec["id"], None, rec))
        elif _differs(old, rec):
            changes.append(("update", rec["id"], old, rec))
    return changes, cur_by
