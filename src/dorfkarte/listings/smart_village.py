"""Smart Village App as a listing source: points of interest and recurring events.

Many towns in Brandenburg (Bad Belzig among the first) keep their local services in the
open-source Smart Village App. Its main server answers GraphQL
(``smart-village-solutions/smart-village-app-mainserver``, types in
``app/graphql/types/query_types/``): ``pointsOfInterest`` with ``addresses { geoLocation }``,
``openingHours { weekday timeFrom timeTo dateFrom dateTo open }``, and ``eventRecords`` with
``recurring``, ``recurringWeekdays``, ``recurringType``, ``recurringInterval`` and
``dates``. This module queries such a server (or reads a saved answer), turns each entry
into a listing row (categories through ``[smart_village.categories]`` of the region file,
schedules in OSM ``opening_hours`` syntax), checks the rows with the same validator as a
spreadsheet import, and synchronises the store: changed entries updated, new ones added,
entries that vanished from the app marked as ended (``valid_to``), all in one change-log
batch so ``undo`` takes the whole import back.

Recurring events follow the server's ``RecurringDatesForEventService``: ``recurringType``
0 = daily, 1 = weekly, 2 = monthly, 3 = yearly; weekdays are days after the week's Monday
(0 = Monday ... 6 = Sunday, Rails' ``beginning_of_week + n.days``). Where the answer also
carries the generated dates, their weekdays are the truth (a mismatch is reported).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import requests

from dorfkarte.errors import DataError, FetchError
from dorfkarte.listings.reader import RawTable
from dorfkarte.listings.schema import FIELDS, MAX_FILE_BYTES, Issue
from dorfkarte.listings.store import ChangeSummary, ListingStore
from dorfkarte.listings.validate import ValidationContext, ValidationReport, validate
from dorfkarte.region import Region

SOURCE_PREFIX = "Smart Village App"
#: Largest number of explicit dates written into one schedule (irregular events); the
#: server returns upcoming dates only, so this is months ahead for a weekly market.
MAX_DATES = 60
#: Row word in messages: an entry of the app, not a spreadsheet line.
ROW_WORD = "Eintrag"

_ADDRESS = "street zip city addition kind geoLocation { latitude longitude }"
_CONTACT = "firstName lastName phone email"
#: The query sent to the server: only fields of the mainserver's query types.
QUERY = (
    "query DorfkarteListings {\n"
    "  pointsOfInterest {\n"
    "    id name updatedAt active\n"
    "    category { name } categories { name }\n"
    f"    addresses {{ {_ADDRESS} }}\n"
    "    openingHours { weekday timeFrom timeTo dateFrom dateTo open description }\n"
    f"    contact {{ {_CONTACT} }}\n"
    "    webUrls { url }\n"
    "    dataProvider { name }\n"
    "    operatingCompany { name }\n"
    "  }\n"
    "  eventRecords {\n"
    "    id title updatedAt\n"
    "    category { name } categories { name }\n"
    f"    addresses {{ {_ADDRESS} }}\n"
    "    recurring recurringWeekdays recurringType recurringInterval\n"
    "    dates { weekday dateStart dateEnd timeStart timeEnd }\n"
    f"    contacts {{ {_CONTACT} }}\n"
    "    urls { url }\n"
    "    dataProvider { name }\n"
    "    organizer { name }\n"
    "  }\n"
    "}\n"
)

_OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY_NAMES: dict[str, int] = {}
for _i, _words in enumerate((
        ("mo", "mon", "montag", "montags", "monday"),
        ("di", "die", "dienstag", "dienstags", "tu", "tue", "tuesday"),
        ("mi", "mittwoch", "mittwochs", "we", "wed", "wednesday"),
        ("do", "donnerstag", "donnerstags", "th", "thu", "thursday"),
        ("fr", "fri", "freitag", "freitags", "friday"),
        ("sa", "sat", "samstag", "samstags", "sonnabend", "sonnabends", "saturday"),
        ("so", "sonntag", "sonntags", "su", "sun", "sunday"))):
    for _w in _words:
        _DAY_NAMES[_w] = _i
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")
Progress = Callable[[str, int, int], None]


class ScheduleText(DataError):  # noqa: N818 - one-line German reason, caught per entry
    """An app schedule that has no single OSM ``opening_hours`` reading."""


# -- getting the answer -------------------------------------------------------------------

def source_name(url: str) -> str:
    """The ``source`` of every listing from this server: ``"Smart Village App <url>"``."""
    return f"{SOURCE_PREFIX} {url.strip()}"


def is_smart_village(source: object) -> bool:
    return str(source or "").startswith(SOURCE_PREFIX)


def origin_label(source: object, provider: object = "", lang: str = "de") -> str | None:
    """"Smart Village App, Datenanbieter: X" for a listing from the app; None otherwise."""
    from dorfkarte.i18n import t

    if not is_smart_village(source):
        return None
    prov = _s(provider)
    return t("source_sva_provider", lang, provider=prov) if prov else t("source_sva", lang)


def fetch_answer(url: str, token: str | None = None, *, timeout_s: float = 30.0,
                 retries: int = 2, backoff_s: float = 2.0,
                 session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """POST :data:`QUERY` to the server's GraphQL endpoint; the answer's ``data``.

    Timeouts, broken connections, HTTP 429 and 5xx are retried (``retries`` times, pause
    doubling from ``backoff_s``); other HTTP errors, answers that are not JSON and GraphQL
    ``errors`` raise :class:`FetchError` at once, one line naming the server.
    """
    if not re.match(r"^https?://", url.strip(), re.IGNORECASE):
        raise FetchError(f"Smart Village App: '{url}' ist keine http(s)-Adresse")
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               "User-Agent": "dorfkarte (listings import)"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    post = (session or requests).post
    last = ""
    for attempt in range(max(0, retries) + 1):
        if attempt:
            sleep(backoff_s * 2 ** (attempt - 1))
        try:
            resp = post(url.strip(), json={"query": QUERY}, headers=headers, timeout=timeout_s)
        except requests.Timeout:
            last = f"Zeitüberschreitung nach {timeout_s:g} s"
            continue
        except requests.RequestException as exc:
            last = f"Verbindung fehlgeschlagen ({type(exc).__name__})"
            continue
        if resp.status_code == 429 or resp.status_code >= 500:
            last = f"HTTP {resp.status_code} {resp.reason or ''}".strip()
            continue
        if resp.status_code >= 400:
            hint = " (Zugangsschlüssel --token prüfen)" if resp.status_code in (401, 403) else ""
            raise FetchError(f"Smart Village App {url}: HTTP {resp.status_code} "
                             f"{resp.reason or ''}".rstrip() + hint)
        try:
            answer = resp.json()
        except ValueError:
            raise FetchError(f"Smart Village App {url}: Antwort ist kein JSON "
                             f"({_cut(resp.text)})") from None
        return answer_data(answer, f"Smart Village App {url}")
    n = max(0, retries) + 1
    raise FetchError(f"Smart Village App {url}: keine Antwort nach {n} Versuch"
                     f"{'en' if n > 1 else ''}: {last}; gespeicherte Angebote unverändert")


def read_answer(path: str | Path) -> tuple[dict[str, Any], str]:
    """A saved answer (``{"data": ...}`` as the server sends it, or as :func:`save_answer`
    writes it with the server's ``url``): its ``data`` and the url ("" if not recorded)."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DataError(f"Datei nicht gefunden: {path}") from None
    if size > MAX_FILE_BYTES * 5:
        raise DataError(f"{path.name}: {size / 1e6:.0f} MB ist zu groß für eine App-Antwort")
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise DataError(f"{path.name}: keine UTF-8-Textdatei (JSON erwartet)") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path.name}: kein gültiges JSON (Zeile {exc.lineno}, Spalte "
                        f"{exc.colno}: {exc.msg})") from None
    url = str(raw.get("url", "")) if isinstance(raw, dict) else ""
    return answer_data(raw, path.name), url


def save_answer(data: dict[str, Any], url: str, path: str | Path) -> Path:
    """Keep an answer for a later offline import (with the server's url and the time)."""
    from dorfkarte.atomic import write_text_atomic

    doc = {"url": url, "fetched_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
           "data": data}
    return write_text_atomic(Path(path), json.dumps(doc, ensure_ascii=False, indent=1))


def answer_data(answer: object, where: str) -> dict[str, Any]:
    """``data`` of a GraphQL answer; GraphQL ``errors`` become one-line :class:`FetchError`."""
    if not isinstance(answer, dict):
        raise DataError(f"{where}: Antwort ist kein JSON-Objekt")
    errors = answer.get("errors")
    if errors:
        first = errors[0] if isinstance(errors, list) and errors else errors
        msg = first.get("message", first) if isinstance(first, dict) else first
        more = f" (und {len(errors) - 1} weitere)" if isinstance(errors, list) and \
            len(errors) > 1 else ""
        raise FetchError(f"{where}: GraphQL-Fehler: {_cut(msg)}{more}")
    data = answer.get("data", answer)
    if not isinstance(data, dict) or not any(
            k in data for k in ("pointsOfInterest", "eventRecords")):
        raise DataError(f"{where}: Antwort enthält weder 'pointsOfInterest' noch "
                        "'eventRecords' (GraphQL-Antwort des Smart-Village-Servers erwartet)")
    for k in ("pointsOfInterest", "eventRecords"):
        if data.get(k) is not None and not isinstance(data[k], list):
            raise DataError(f"{where}: '{k}' ist keine Liste")
    return data


# -- entries -> listing rows ----------------------------------------------------------------

@dataclass
class Entry:
    """One app entry as a listing row (text cells) plus where it came from."""

    app_kind: str  # "poi" | "event"
    app_id: str
    name: str
    row: dict[str, str]
    app_categories: list[str]
    label: str = ""  # "Ort 101 'Praxis …'": named in every message about the entry


@dataclass
class SmartVillageImport:
    """Outcome of checking an answer: the validator's report plus the app's view of it."""

    source: str
    report: ValidationReport
    entries: list[Entry]
    unmapped: dict[str, int] = field(default_factory=dict)  # app category -> entries
    skipped: list[str] = field(default_factory=list)  # ids of entries without a category
    present_ids: set[str] = field(default_factory=set)  # every entry id in the answer

    @property
    def listings(self):
        return self.report.listings

    def ended(self, summary: ChangeSummary) -> list[str]:
        """Ids the import marked as ended (updated, but not in the answer's valid rows)."""
        valid = set(self.report.listings["id"]) if len(self.report.listings) else set()
        return [i for i in summary.updated if i not in valid]

    def lines(self) -> list[str]:
        """Every problem and note, one line each (CLI output, app table)."""
        out = [str(i) for i in self.report.issues]
        if self.unmapped:
            cats = ", ".join(f"{_cut(k, 40)} ({n})" for k, n in
                             sorted(self.unmapped.items(), key=lambda kv: (-kv[1], kv[0]))[:12])
            out.append(f"Hinweis: {len(self.skipped)} Einträge ohne zugeordnete Kategorie "
                       f"übersprungen ([smart_village.categories] der Regionsdatei): {cats}")
        return out

    def summary(self) -> str:
        r = self.report
        n_poi = sum(e.app_kind == "poi" for e in self.entries)
        return (f"{self.source}: {n_poi} Orte und {len(self.entries) - n_poi} Termine mit "
                f"zugeordneter Kategorie, {len(r.listings)} gültig, {len(r.bad_rows)} "
                f"nicht übernommen, {len(self.skipped)} ohne Kategorie übersprungen")


def category_map(region: Region) -> dict[str, str]:
    """App category name (case-insensitive) -> region category id."""
    return {k.strip().casefold(): v for k, v in region.smart_village_categories.items()}


def entries_from_answer(data: dict[str, Any], region: Region, source: str
                        ) -> tuple[list[Entry], list[Issue], dict[str, int], list[str],
                                   set[str]]:
    """Listing rows of every entry whose category the region maps; issues per entry."""
    cmap = category_map(region)
    if not cmap:
        raise DataError(
            f"Regionsdatei {region.path.name}: Tabelle [smart_village.categories] fehlt oder "
            "ist leer; sie ordnet die Kategorien der App den Kategorien der Region zu, "
            "z. B. \"Ärzte\" = \"hausarzt\"")
    entries: list[Entry] = []
    issues: list[Issue] = []
    unmapped: dict[str, int] = {}
    skipped: list[str] = []
    present: set[str] = set()
    items = [("poi", x) for x in data.get("pointsOfInterest") or []] + \
            [("event", x) for x in data.get("eventRecords") or []]
    for kind, item in items:
        if not isinstance(item, dict):
            continue
        app_id = _s(item.get("id"))
        name = _s(item.get("name") if kind == "poi" else item.get("title"))
        lid = listing_id(kind, app_id)
        if app_id:
            present.add(lid)
        cats = _category_names(item)
        mapped = []
        for c in cats:
            cid = cmap.get(c.casefold())
            if cid and cid not in mapped:
                mapped.append(cid)
        if not mapped:
            for c in cats or ["(ohne Kategorie)"]:
                unmapped[c] = unmapped.get(c, 0) + 1
            skipped.append(lid)
            continue
        rno = len(entries) + 1
        what = f"{'Ort' if kind == 'poi' else 'Termin'} {app_id or '?'} '{_cut(name, 40)}'"
        if not app_id:
            issues.append(Issue(rno, "id", f"{what}: ohne Kennung in der App", "error",
                                ROW_WORD))
        if kind == "poi" and item.get("active") is False:
            issues.append(Issue(rno, "", f"{what}: in der App als inaktiv markiert; "
                                "nicht übernommen", "error", ROW_WORD))
        row = {f: "" for f in FIELDS}
        row.update(id=lid, name=name, category=",".join(mapped), kind="fixed",
                   source=source)
        _place(item, row)
        row["provider"] = _provider(item)
        row["contact"] = _contact(item, kind)
        row["url"] = _url(item, kind)
        stamp = _s(item.get("updatedAt"))
        row["note"] = f"{what}; Stand in der App: {stamp}" if stamp else what
        try:
            if kind == "poi":
                sched, vfrom, vto, notes = poi_schedule(item.get("openingHours") or [])
            else:
                sched, vfrom, vto, notes = event_schedule(item)
            row.update(opening_hours=sched, valid_from=vfrom, valid_to=vto)
            issues.extend(Issue(rno, "opening_hours", f"{what}: {n}", "warning", ROW_WORD)
                          for n in notes)
        except ScheduleText as exc:
            issues.append(Issue(rno, "opening_hours", f"{what}: {exc}", "error", ROW_WORD))
        entries.append(Entry(kind, app_id, name, row, cats, what))
    return entries, issues, unmapped, skipped, present


def listing_id(kind: str, app_id: str) -> str:
    """Listing id of an app entry: the app's own id, marked by type (ids are per table)."""
    return f"sva-{kind}-{app_id}"


def check_answer(data: dict[str, Any], region: Region, data_dir: str | Path, *,
                 source: str, store: ListingStore | None = None) -> SmartVillageImport:
    """Rows of the answer validated like an import: located, inside the region, schedules."""
    store = store or ListingStore(data_dir)
    entries, issues, unmapped, skipped, present = entries_from_answer(data, region, source)
    existing = store.read()
    frame = pd.DataFrame([e.row for e in entries], columns=list(FIELDS))
    # an id already used by another source (a spreadsheet, another app) is not overwritten
    if len(existing) and len(frame):
        other = dict(zip(existing["id"], existing["source"], strict=True))
        for i, lid in enumerate(frame["id"]):
            if lid in other and other[lid] != source:
                issues.append(Issue(i + 1, "id", f"Kennung '{lid}' gehört schon zu einem Eintrag "
                                    f"aus '{_cut(other[lid], 50)}'; nicht überschrieben",
                                    "error", ROW_WORD))
    table = RawTable(frame=frame.fillna(""), rows=list(range(1, len(entries) + 1)),
                     row_word=ROW_WORD, source=source, fmt="smart-village",
                     columns=list(FIELDS))
    ctx = ValidationContext.from_region(region, data_dir, existing=existing)
    report = validate(table, ctx)
    blocked = {i.row for i in issues if i.severity == "error"}
    if blocked and len(report.listings):
        ids = {entries[r - 1].row["id"] for r in blocked}
        report.listings = report.listings[~report.listings["id"].isin(ids)].reset_index(
            drop=True)
        report.updates = [u for u in report.updates if u not in ids]
    named = []
    for i in report.issues:  # the validator's messages get the app entry's name
        if i.row is not None and 0 < i.row <= len(entries) and \
                not i.message.startswith(entries[i.row - 1].label):
            i = Issue(i.row, i.field, f"{entries[i.row - 1].label}: {i.message}", i.severity,
                      i.row_word)
        named.append(i)
    report.issues = sorted([*issues, *named],
                           key=lambda x: (x.row is not None, x.row or 0))
    return SmartVillageImport(source, report, entries, unmapped, skipped, present)


def import_answer(checked: SmartVillageImport, store: ListingStore, *,
                  user: str | None = None, today: dt.date | None = None) -> ChangeSummary:
    """Synchronise the store with the checked answer, in one change-log batch.

    Valid entries are inserted or updated; stored entries of this source that are no
    longer in the answer (or lost their category mapping) get ``valid_to`` = yesterday
    and a note, so they stop counting but stay visible. Entries refused this time stay
    as they were stored.
    """
    day = today or dt.date.today()
    keep = {e.row["id"] for e in checked.entries} - set(checked.skipped)
    return store.sync_source(checked.report.listings, source=checked.source, keep=keep,
                             ended_on=day - dt.timedelta(days=1),
                             ended_note=f"nicht mehr in der Smart Village App (Import {day})",
                             user=user)


def import_smart_village(region: Region, data_dir: str | Path, *, url: str | None = None,
                         token: str | None = None, file: str | Path | None = None,
                         user: str | None = None, timeout_s: float = 30.0,
                         retries: int = 2, backoff_s: float = 2.0,
                         progress: Progress | None = None,
                         cancel: threading.Event | None = None,
                         today: dt.date | None = None
                         ) -> tuple[SmartVillageImport, ChangeSummary]:
    """Query (``url``) or read (``file``) and import; what the app's job calls.

    ``cancel`` stops before the next step (never during the store write).
    """
    from dorfkarte.jobs import guarded

    done = progress
    progress = guarded(progress, cancel, "Smart-Village-Import")
    if url is None and file is None:
        raise DataError("Smart Village App: Adresse (--url) oder gespeicherte Antwort "
                        "(--file) angeben")
    progress("Antwort holen", 0, 3)
    if file is not None:
        data, recorded = read_answer(file)
        src = source_name(url or recorded) if (url or recorded) else \
            f"{SOURCE_PREFIX} (Datei {Path(file).name})"
    else:
        assert url is not None
        data = fetch_answer(url, token, timeout_s=timeout_s, retries=retries,
                            backoff_s=backoff_s)
        src = source_name(url)
    store = ListingStore(data_dir)
    progress("Einträge prüfen", 1, 3)
    checked = check_answer(data, region, data_dir, source=src, store=store)
    progress("Speichern", 2, 3)
    summary = import_answer(checked, store, user=user, today=today)
    if done is not None:
        done("fertig", 3, 3)  # written: a late cancel no longer applies
    return checked, summary


# -- schedules ------------------------------------------------------------------------------

def weekdays_of(text: str) -> list[int]:
    """Day numbers (0 = Monday) of an app weekday text: "Montag", "Mo-Fr", "Di, Do"."""
    s = " ".join(str(text).replace("–", "-").replace(" bis ", "-").split()).casefold()
    if not s:
        return []
    if s in {"täglich", "taeglich", "daily", "jeden tag", "mo-so", "montag-sonntag"}:
        return list(range(7))
    if s in {"werktags", "wochentags", "weekdays"}:
        return list(range(5))
    days: list[int] = []
    for part in re.split(r"\s*(?:,|;|/|\+|&|\bund\b|\band\b)\s*", s):
        part = part.strip().rstrip(".")
        if not part:
            continue
        m = re.match(r"^([a-zäöü.]+)\s*-\s*([a-zäöü.]+)$", part)
        if m:
            a, b = (_DAY_NAMES.get(x.strip(".")) for x in m.groups())
            if a is None or b is None:
                raise ScheduleText(f"Wochentag '{_cut(text)}' nicht lesbar")
            days.extend((a + k) % 7 for k in range((b - a) % 7 + 1))
            continue
        d = _DAY_NAMES.get(part.strip("."))
        if d is None:
            raise ScheduleText(f"Wochentag '{_cut(text)}' nicht lesbar")
        days.append(d)
    return sorted(set(days))


def _hhmm(value: object, what: str) -> str:
    s = _s(value)
    if not s:
        return ""
    m = _TIME.match(s)
    if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59:
        raise ScheduleText(f"Uhrzeit '{_cut(s)}' ({what}) nicht lesbar")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def _date(value: object, what: str) -> dt.date | None:
    s = _s(value)
    if not s:
        return None
    try:
        return dt.date.fromisoformat(s[:10])
    except ValueError:
        raise ScheduleText(f"Datum '{_cut(s)}' ({what}) nicht lesbar") from None


def _span(t0: str, t1: str) -> str:
    if not t0 and not t1:
        return ""
    if not t0 or not t1:
        raise ScheduleText(f"Zeit ohne {'Beginn' if not t0 else 'Ende'} ({t0 or t1})")
    return f"{t0}-{'24:00' if t1 == '00:00' and t0 != '00:00' else t1}"


def _days_code(days: list[int]) -> str:
    """OSM weekday selector, runs as ranges: [0,1,2,4] -> "Mo-We,Fr"."""
    if len(days) == 7:
        return "Mo-Su"
    out, run = [], [days[0]]
    for d in days[1:]:
        if d == run[-1] + 1:
            run.append(d)
        else:
            out.append(run)
            run = [d]
    out.append(run)
    return ",".join(_OSM_DAYS[r[0]] if len(r) == 1 else
                    f"{_OSM_DAYS[r[0]]}{',' if len(r) == 2 else '-'}{_OSM_DAYS[r[-1]]}"
                    for r in out)


def _osm_date(d: dt.date) -> str:
    return f"{d.year} {_MONTHS[d.month - 1]} {d.day:02d}"


def poi_schedule(hours: list[dict[str, Any]]) -> tuple[str, str, str, list[str]]:
    """OSM ``opening_hours`` plus validity from a point of interest's ``openingHours``.

    The app keeps one record per weekday and time span; OSM rules for the same day replace
    each other, so the times are first collected per day and days with the same times are
    then written together ("Mo 08:00-12:00,14:00-18:00; Tu,Th,Fr 08:00-12:00").
    ``open: false`` closes a day (with dates: a closure such as holidays, written last).
    Date limits shared by all records become the listing's validity dates, differing ones
    a date range in front of the rule. A weekday text that cannot be read is an error for
    the entry (an invented reading would overstate coverage).
    """
    notes: list[str] = []
    parsed = []
    for h in hours:
        if not isinstance(h, dict):
            continue
        days = weekdays_of(_s(h.get("weekday")))
        t = _span(_hhmm(h.get("timeFrom"), "von"), _hhmm(h.get("timeTo"), "bis"))
        d0, d1 = _date(h.get("dateFrom"), "ab"), _date(h.get("dateTo"), "bis")
        is_open = h.get("open") is not False
        if not days and not t and not d0 and not d1:
            if _s(h.get("description")):
                notes.append(f"Öffnungszeit ohne Tag und Uhrzeit übergangen: "
                             f"'{_cut(h.get('description'))}'")
            continue
        if is_open and not t:
            if days:
                raise ScheduleText(f"Öffnungszeit '{_cut(h.get('weekday'))}' ohne Uhrzeit")
            t = "00:00-24:00"  # open on these dates, no hours given
        parsed.append((d0, d1, days, t, is_open))
    if not parsed:
        return "", "", "", notes
    ranges = {(d0, d1) for d0, d1, _, _, is_open in parsed if is_open}
    shared = len(ranges) <= 1 and all(
        (d0, d1) in ranges or not (d0 or d1) for d0, d1, _, _, _ in parsed)
    vfrom = vto = ""
    if shared and ranges:
        d0, d1 = next(iter(ranges))
        vfrom, vto = (d0.isoformat() if d0 else ""), (d1.isoformat() if d1 else "")
    opened: dict[str, dict[int, list[str]]] = {}
    closures: list[str] = []
    for d0, d1, days, t, is_open in parsed:
        prefix = ""
        if not shared and (d0 or d1):
            a, b = d0 or d1, d1 or d0
            prefix = _osm_date(a) if a == b else f"{_osm_date(a)}-{_osm_date(b)}"
        if is_open:
            per_day = opened.setdefault(prefix, {})
            for d in days or range(7):
                if t not in per_day.setdefault(d, []):
                    per_day[d].append(t)
        elif prefix:
            closures.append(" ".join(x for x in (prefix, _days_code(days) if days else "",
                                                 "off") if x))
        else:
            for d in days:
                opened.setdefault("", {}).setdefault(d, [])
                opened[""][d] = []  # closed that day
    parts = []
    for prefix, per_day in sorted(opened.items(), key=lambda kv: kv[0] != ""):
        by_times: dict[tuple[str, ...], list[int]] = {}
        for d in sorted(per_day):
            if per_day[d]:
                by_times.setdefault(tuple(sorted(per_day[d])), []).append(d)
        for times, days in sorted(by_times.items(), key=lambda kv: kv[1][0]):
            sel = " ".join(x for x in (prefix, _days_code(days)) if x)
            parts.append(f"{sel} {','.join(times)}")
    parts.extend(closures)  # OSM rules override left to right: closures last
    if not parts:
        return "", vfrom, vto, [*notes, "nur geschlossene Tage angegeben"]
    return "; ".join(parts), vfrom, vto, notes


def event_schedule(ev: dict[str, Any]) -> tuple[str, str, str, list[str]]:
    """OSM ``opening_hours`` plus validity from an event record's dates and pattern.

    Weekly recurrence becomes weekdays (every second week: ``week NN-53/2``), daily every
    day; monthly, yearly and irregular events keep their (upcoming) dates one by one.
    """
    notes: list[str] = []
    dates = [d for d in (ev.get("dates") or []) if isinstance(d, dict)]
    spans, single = [], []
    for d in dates:
        a = _date(d.get("dateStart"), "dateStart")
        b = _date(d.get("dateEnd"), "dateEnd") or a
        if a is None:
            continue
        t = _span(_hhmm(d.get("timeStart"), "timeStart"), _hhmm(d.get("timeEnd"), "timeEnd"))
        (spans if b > a else single).append((a, b, t))
    if not spans and not single:
        raise ScheduleText("Termin ohne Datum")
    rtype = ev.get("recurringType")
    interval = int(ev.get("recurringInterval") or 1)
    if ev.get("recurring") and rtype in (0, 1, "0", "1"):
        rtype = int(rtype)
        first = (spans or single)[0]
        times = sorted({t for _, _, t in [*spans, *single] if t})
        if len(times) > 1:
            raise ScheduleText(f"wiederkehrender Termin mit verschiedenen Zeiten "
                               f"({', '.join(times)})")
        t = times[0] if times else ""
        vfrom = min(a for a, _, _ in [*spans, *single]).isoformat()
        vto = max(b for _, b, _ in [*spans, *single]).isoformat()
        if rtype == 0:
            if interval != 1:
                return _explicit_dates(single, notes)
            days = list(range(7))
        else:
            given = sorted({int(w) % 7 for w in (ev.get("recurringWeekdays") or [])
                            if str(w).lstrip("-").isdigit()})
            seen = sorted({a.weekday() for a, _, _ in single})
            if seen and given and seen != given:
                notes.append(f"Wochentage laut Muster {_days_code(given)}, laut Terminen "
                             f"{_days_code(seen)}: die Termine gelten")
            days = seen or given
            if not days:
                days = [first[0].weekday()]
        sched = f"{_days_code(days)} {t}".strip()
        if rtype == 1 and interval > 1:
            start_week = (single or spans)[0][0].isocalendar().week
            if interval == 2:
                w0 = 1 if start_week % 2 else 2
                sched = f"week {w0:02d}-53/2 {sched}"
                notes.append("alle zwei Wochen: als ungerade/gerade Kalenderwochen "
                             "gespeichert (am Jahreswechsel prüfen)")
            else:
                return _explicit_dates(single, notes)
        if not t:
            notes.append("wiederkehrender Termin ohne Uhrzeit: zählt den ganzen Tag")
        return sched, vfrom, vto, notes
    return _explicit_dates(single or [(a, a, t) for a, _, t in spans], notes)


def _explicit_dates(single: list[tuple[dt.date, dt.date, str]], notes: list[str]
                    ) -> tuple[str, str, str, list[str]]:
    if not single:
        raise ScheduleText("Termin ohne einzelne Daten")
    single = sorted(set(single))
    if len(single) > MAX_DATES:
        notes.append(f"{len(single)} Termine: die ersten {MAX_DATES} übernommen")
        single = single[:MAX_DATES]
    by_time: dict[str, list[dt.date]] = {}
    for a, _, t in single:
        by_time.setdefault(t, []).append(a)
    parts = [f"{','.join(_osm_date(d) for d in ds)} {t}".strip() for t, ds in by_time.items()]
    vfrom = single[0][0].isoformat()
    vto = single[-1][0].isoformat()
    return "; ".join(parts), vfrom, vto, notes


# -- entry fields ---------------------------------------------------------------------------

def _s(v: object) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return " ".join(str(v).split())


def _cut(v: object, n: int = 60) -> str:
    s = _s(v)
    return s if len(s) <= n else s[: n - 1] + "…"


def _category_names(item: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for c in [item.get("category"), *(item.get("categories") or [])]:
        if isinstance(c, dict) and _s(c.get("name")) and _s(c.get("name")) not in names:
            names.append(_s(c.get("name")))
    return names


def _place(item: dict[str, Any], row: dict[str, str]) -> None:
    """First address with a position; else the first address as text (located by the
    validator from the snapshot's addresses, like any listing)."""
    addrs = [a for a in (item.get("addresses") or []) if isinstance(a, dict)]
    with_pos = [a for a in addrs if isinstance(a.get("geoLocation"), dict)
                and a["geoLocation"].get("latitude") not in (None, "")
                and a["geoLocation"].get("longitude") not in (None, "")]
    chosen = with_pos[0] if with_pos else (addrs[0] if addrs else None)
    if chosen is None:
        return
    street, city = _s(chosen.get("street")), _s(chosen.get("city"))
    row["address"] = ", ".join(x for x in (street, " ".join(
        y for y in (_s(chosen.get("zip")), city) if y)) if x)
    if chosen in with_pos:
        g = chosen["geoLocation"]
        row["lat"], row["lon"] = _s(g.get("latitude")), _s(g.get("longitude"))


def _provider(item: dict[str, Any]) -> str:
    for key in ("dataProvider", "operatingCompany", "organizer"):
        v = item.get(key)
        if isinstance(v, dict) and _s(v.get("name")):
            return _s(v.get("name"))
    return ""


def _contact(item: dict[str, Any], kind: str) -> str:
    cs = [item.get("contact")] if kind == "poi" else list(item.get("contacts") or [])
    parts: list[str] = []
    for c in cs:
        if not isinstance(c, dict):
            continue
        for k in ("phone", "email"):
            if _s(c.get(k)) and _s(c.get(k)) not in parts:
                parts.append(_s(c.get(k)))
    return ", ".join(parts)


def _url(item: dict[str, Any], kind: str) -> str:
    for u in item.get("webUrls" if kind == "poi" else "urls") or []:
        s = _s(u.get("url")) if isinstance(u, dict) else ""
        if re.match(r"^https?://", s, re.IGNORECASE):
            return s
    return ""
