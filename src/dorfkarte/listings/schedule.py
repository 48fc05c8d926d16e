"""When a listed service is there: OSM ``opening_hours`` schedules and validity dates.

A mobile service only counts for coverage when it is actually present, so the coverage
engine asks either "at this date and time" or "at least once in every week".
Parsing and evaluation are done by ``opening-hours-py`` (the Rust implementation of the
OSM specification); this module adds German weekday abbreviations, a one-line error
message, and the two availability questions.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache
from typing import Literal

import opening_hours

from dorfkarte.errors import DorfkarteError

#: How ``when`` is given: None = ignore schedules, a datetime, or "weekly".
When = None | dt.datetime | Literal["weekly"]

#: Weeks looked at for "at least once a week" (a schedule must be open in each of them).
WEEKLY_WEEKS = 4

_DE_DAYS = {"Di": "Tu", "Mi": "We", "Do": "Th", "So": "Su"}
_DE_DAY_RE = re.compile(r"\b(Di|Mi|Do|So)\b")
_DE_WORDS = {"Uhr": "", "täglich": "Mo-Su", "geschlossen": "off"}
_DE_WORD_RE = re.compile(r"\s*\b(Uhr|täglich|geschlossen)\b")

WEEKDAYS_DE = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")


class ScheduleError(DorfkarteError, ValueError):
    """The text is not an OSM opening_hours expression; the message is German, one line.

    A :class:`DorfkarteError` (one line in the CLI and app) and, as before, a ``ValueError``.
    """


def normalise_schedule(text: str) -> str:
    """Rewrite German day abbreviations ("Di 10:00-11:00") to OSM ones ("Tu 10:00-11:00")."""
    s = " ".join(str(text).split())
    s = _DE_DAY_RE.sub(lambda m: _DE_DAYS[m.group(1)], s)
    s = _DE_WORD_RE.sub(lambda m: (" " + _DE_WORDS[m.group(1)]) if _DE_WORDS[m.group(1)]
                        else "", s)
    return s.strip()


@lru_cache(maxsize=4096)
def parse_schedule(text: str) -> opening_hours.OpeningHours:
    """Parsed schedule (cached: the same few expressions are evaluated for many rows)."""
    try:
        return opening_hours.OpeningHours(text)
    except (opening_hours.ParserError, SyntaxError, ValueError) as exc:
        m = re.search(r"-->\s*\d+:(\d+)", str(exc))
        pos = f" (Fehler bei Zeichen {m.group(1)})" if m else ""
        raise ScheduleError(
            f"'{text}' ist keine gültige Zeitangabe im OSM-opening_hours-Format{pos}; "
            "Beispiele: 'Tu 10:00-11:00', 'Th[2] 14:00-16:00', 'Mo-Fr 08:00-12:00'"
        ) from None


def check_schedule(text: str) -> str:
    """Normalised schedule text if it parses, else :class:`ScheduleError`."""
    return read_schedule(text)[0]


def read_schedule(text: str) -> tuple[str, str]:
    """Schedule as OSM ``opening_hours`` plus a note when it had to be read leniently.

    First the documented rewriting (German day abbreviations, "Uhr", "täglich"); if that
    does not parse, the forms planners type into spreadsheets ("dienstags 10-11 Uhr",
    "Di + Do 9-12", "2. und 4. Donnerstag 14.00 - 16.00") are rewritten when there is only
    one way to read them, and the note says what was stored. Ambiguous forms ("alle 14
    Tage", "vormittags", "ab 10 Uhr") raise :class:`ScheduleError` with a suggestion.
    """
    shown = " ".join(str(text).split())
    norm = normalise_schedule(text)
    if not norm:
        return "", ""
    try:
        parse_schedule(norm)
        strict_error = ""
    except ScheduleError as exc:
        strict_error = str(exc).replace(f"'{norm}'", f"'{shown}'", 1)
    if not strict_error:
        if norm != shown and not _TIME.search(norm):  # "Di, Do": German, but no time
            raise ScheduleError(
                f"'{shown}': keine Uhrzeit angegeben (OSM-opening_hours-Format braucht Beginn "
                f"und Ende); z. B. '{_example(norm)}'")
        return norm, ""
    lenient, notes = _lenient(shown)
    try:
        parse_schedule(lenient)
    except ScheduleError:
        raise ScheduleError(strict_error + (f" (gelesen als '{lenient}')"
                                            if lenient not in (norm, shown) else "")) from None
    if not _TIME.search(lenient):
        raise ScheduleError(
            f"'{shown}': keine Uhrzeit angegeben (OSM-opening_hours-Format braucht Beginn und "
            f"Ende); z. B. '{_example(lenient)}'")
    if not has_weekday(lenient):
        notes.append("ohne Wochentag: gilt jeden Tag")
    return lenient, "; ".join([f"Zeiten '{shown}' gelesen als '{lenient}'", *notes])


def has_weekday(schedule: str) -> bool:
    """True if the schedule names days, weeks, months or dates (else it means every day)."""
    return bool(_SELECTOR.search(schedule))


_OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY_WORDS: dict[str, str] = {}
for _code, _words in zip(_OSM_DAYS, (
        ("mo", "mon", "montag", "montags"),
        ("di", "die", "dienstag", "dienstags", "tu", "tue"),
        ("mi", "mittwoch", "mittwochs", "we", "wed"),
        ("do", "donnerstag", "donnerstags", "th", "thu"),
        ("fr", "fri", "freitag", "freitags"),
        ("sa", "sat", "samstag", "samstags", "sonnabend", "sonnabends"),
        ("so", "sonntag", "sonntags", "su", "sun")), strict=True):
    for _w in _words:
        _DAY_WORDS[_w] = _code
_DAY_RE = "|".join(sorted(_DAY_WORDS, key=len, reverse=True))
_DAY_WORD = re.compile(rf"(?<![\w\[])({_DAY_RE})\b\.?", re.IGNORECASE)
_CODE = "(?:Mo|Tu|We|Th|Fr|Sa|Su)(?:\\[[-0-9,]+\\])?"
_ORD_WORDS = {"ersten": "1", "erster": "1", "erste": "1", "zweiten": "2", "zweiter": "2",
              "zweite": "2", "dritten": "3", "dritter": "3", "dritte": "3", "vierten": "4",
              "vierter": "4", "vierte": "4", "letzten": "-1", "letzter": "-1", "letzte": "-1"}
_ORD = rf"(?:\d\.|{'|'.join(_ORD_WORDS)})"
_ORDINALS = re.compile(
    rf"(?:\b(?:jeden|jede|jeder|am|an\s+jedem)\s+)?({_ORD}(?:\s*(?:,|und|u\.|\+|&)\s*{_ORD})*)"
    rf"\s*({_DAY_RE})\b\.?(?:\s+(?:im|des)\s+monats?)?", re.IGNORECASE)
_TIME = re.compile(r"\d\d:\d\d")
_SELECTOR = re.compile(r"\b(Mo|Tu|We|Th|Fr|Sa|Su|PH|SH|week|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|"
                       r"Sep|Oct|Nov|Dec|easter)\b|\d{4}")
_RANGE = re.compile(r"(?<![\d:\[])(\d{1,2})(?:[:.](\d\d))?\s*-\s*(\d{1,2})(?:[:.](\d\d))?"
                    r"(?![\d\]])")
_ALONE = re.compile(r"(?<![\d:\[-])(\d{1,2})(?:[:.](\d\d))?(?![\d:\]-]|\.\d)")
#: Free text with more than one reading: (pattern, why, suggestion). The suggestion is
#: filled with the user's own days and times (``{days}``, ``{times}``, ``{start}``,
#: ``{nth}``) read from the rest of the text, so "alle 14 Tage Mi 9-10 Uhr" is answered
#: with "We[1,3] 09:00-10:00", not a canned Tuesday.
_AMBIGUOUS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"14[- ]?tägig|vierzehntägig|zweiwöchentlich|2-wöchentlich|"
                r"alle\s+(?:14\s+tage|zwei\s+wochen|2\s+wochen)|jede\s+(?:zweite|2\.)\s+woche",
                re.IGNORECASE),
     "'alle zwei Wochen' sagt nicht, welche Wochen",
     "'week 01-53/2 {days} {times}' (ungerade Kalenderwochen), 'week 02-52/2 {days} {times}' "
     "(gerade){nth}"),
    (re.compile(r"nach\s+vereinbarung|\bn\.\s?v\.|auf\s+anfrage|nach\s+absprache|"
                r"nach\s+terminvereinbarung", re.IGNORECASE),
     "keine festen Zeiten",
     "Feld leer lassen (zählt dann immer) und 'nach Vereinbarung' in den Hinweis schreiben"),
    (re.compile(r"\b(?:vormittags?|nachmittags?|morgens|abends|mittags|ganztags|ganztägig)\b",
                re.IGNORECASE),
     "Tageszeit ohne Uhrzeit",
     "Uhrzeiten angeben, z. B. '{days} 08:00-12:00'"),
    (re.compile(r"\bab\s+\d", re.IGNORECASE),
     "nur ein Beginn, kein Ende",
     "Beginn und Ende angeben, z. B. '{days} {start}'"),
)


def _own_hint(hint: str, s: str, m: re.Match[str]) -> str:
    """``hint`` filled with the days and times the user wrote around the ambiguous part."""
    rest = (s[:m.start()] + " " + s[m.end():]).strip(" ,;")
    if m.group(0).lower().startswith("ab"):  # "ab 10 Uhr": the start is not a time span
        rest = re.sub(r"\bab\s+\d{1,2}(?:[:.]\d\d)?\s*(?:uhr|h)?(?!\w)", " ", s,
                      flags=re.IGNORECASE).strip(" ,;")
    try:
        read = _lenient(rest)[0] if rest else ""
    except ScheduleError:
        read = ""
    found = re.search(rf"{_CODE}(?:\s*[-,]\s*{_CODE})*", read)
    days = re.sub(r"\s+", "", found.group(0)) if found else "Tu"
    times = ",".join(re.findall(r"\d\d:\d\d-\d\d:\d\d", read)) or "10:00-11:00"
    nth = ""
    if re.fullmatch(r"Mo|Tu|We|Th|Fr|Sa|Su", days):
        name = WEEKDAYS_DE[_OSM_DAYS.index(days)]
        nth = f" oder '{days}[1,3] {times}' (1. und 3. {name} im Monat)"
    sm = re.search(r"\bab\s+(\d{1,2})(?:[:.](\d\d))?", s, re.IGNORECASE)
    h0, m0 = (int(sm.group(1)), int(sm.group(2) or 0)) if sm else (10, 0)
    h0 = min(h0, 22)
    start = f"{h0:02d}:{m0:02d}-{h0 + 2:02d}:{m0:02d}"
    return hint.format(days=days, times=times, nth=nth, start=start)


def _lenient(text: str) -> tuple[str, list[str]]:
    """Spreadsheet German -> OSM syntax where there is one reading; else ScheduleError."""
    notes: list[str] = []
    s = unicodedata.normalize("NFKC", text)
    s = re.sub(r"[\u2010-\u2015\u2212]", "-", s).strip().rstrip(".")
    for pat, why, hint in _AMBIGUOUS:
        found = pat.search(s)
        if found:
            raise ScheduleError(f"'{text}' ist nicht eindeutig ({why}; OSM-opening_hours-Format "
                                f"nötig): {_own_hint(hint, s, found)}")
    week = ""
    m = re.search(r"\b(?:in\s+)?(un)?gerade(?:n)?\s+(?:kalender)?wochen\b|"
                  r"\b(un)?gerade(?:n)?\s+kw\b", s, re.IGNORECASE)
    if m:
        week = "week 01-53/2 " if (m.group(1) or m.group(2)) else "week 02-52/2 "
        s = (s[:m.start()] + " " + s[m.end():]).strip()
    s = re.sub(r"\b(?:jeden\s+tag|täglich|tägl\.?|tgl\.?)(?!\w)", " Mo-Su ", s,
               flags=re.IGNORECASE)
    if re.search(r"\b(?:werktags|wochentags)\b", s, re.IGNORECASE):
        s = re.sub(r"\b(?:werktags|wochentags)\b", " Mo-Fr ", s, flags=re.IGNORECASE)
        notes.append("'werktags' als Mo-Fr gelesen (falls auch samstags: 'Mo-Sa')")
    s = _ORDINALS.sub(lambda mm: _DAY_WORDS[mm.group(2).casefold()] + "[" + ",".join(
        _ORD_WORDS.get(o.casefold().strip(), o.strip().rstrip("."))
        for o in re.split(r"\s*(?:,|und|u\.|\+|&)\s*", mm.group(1))) + "]", s)
    s = _DAY_WORD.sub(lambda mm: _DAY_WORDS[mm.group(1).casefold()], s)
    s = re.sub(r"\b(?:jeden|jede|jeder|immer|am|an|von|geöffnet|um)\b", " ", s,
               flags=re.IGNORECASE)
    s = re.sub(r"\s+bis\s+", "-", s, flags=re.IGNORECASE)
    s = re.sub(r"(\d)\s*(?:uhr|h)\b\.?", r"\1", s, flags=re.IGNORECASE)
    s = re.sub(r"\buhr\b", " ", s, flags=re.IGNORECASE)

    def hhmm(h: str, m: str | None) -> str | None:
        hh, mi = int(h), int(m or 0)
        return f"{hh:02d}:{mi:02d}" if hh <= 24 and mi < 60 and not (hh == 24 and mi) else None

    def rng(mm: re.Match[str]) -> str:
        if s[:mm.start()].rstrip().endswith("week"):
            return mm.group(0)
        a, b = hhmm(mm.group(1), mm.group(2)), hhmm(mm.group(3), mm.group(4))
        return f"{a}-{b}" if a and b else mm.group(0)

    s = _RANGE.sub(rng, s)
    lone = [x for x in _ALONE.finditer(s) if not s[:x.start()].rstrip().endswith("week")]
    if lone:
        t = hhmm(lone[0].group(1), lone[0].group(2))
        if t is None:
            raise ScheduleError(
                f"'{text}' ist keine gültige Zeitangabe im OSM-opening_hours-Format: "
                f"'{lone[0].group(0)}' ist keine Uhrzeit; z. B. '{_example(s)}'")
        raise ScheduleError(
            f"'{text}' ist keine gültige Zeitangabe im OSM-opening_hours-Format: nur eine "
            f"Uhrzeit ({t}), das Ende fehlt; z. B. '{_example(s, t)}'")
    # list separators between days and between time spans
    sep = r"\s*(?:\+|\bund\b|\bu\.|&|/|,)\s*"
    s = re.sub(rf"({_CODE}){sep}(?={_CODE}\b)", r"\1,", s)
    s = re.sub(rf"({_CODE}){sep}(?={_CODE}\b)", r"\1,", s)  # overlapping lists
    s = re.sub(rf"\b({_CODE})\s*-\s*({_CODE})\b", r"\1-\2", s)
    s = re.sub(rf"(\d\d:\d\d){sep}(?=\d\d:\d\d-)", r"\1,", s)
    s = re.sub(r"\s*:\s*(?=\d\d:\d\d)", " ", s)  # "Di: 10:00-11:00"
    s = " ".join(s.replace(" ,", ",").split()).strip(" ,;")
    # "10:00-11:00 Tu" (time first): OSM wants the days first
    m2 = re.fullmatch(rf"((?:\d\d:\d\d-\d\d:\d\d,?)+)\s+({_CODE}(?:[-,]{_CODE})*)", s)
    if m2:
        s = f"{m2.group(2)} {m2.group(1)}"
    # "Di 10-11, Do 14-15": a day after a time starts a new rule
    s = re.sub(r"(?<=\d\d:\d\d)\s*[,;/]?\s*(?=(?:Mo|Tu|We|Th|Fr|Sa|Su)\b)", "; ", s)
    for rule in s.split(";") if _TIME.search(s) else []:  # no time at all: said later
        if rule.strip() and not _TIME.search(rule):
            raise ScheduleError(
                f"'{text}' ist nicht eindeutig (gelesen als '{week + s}', Teil '{rule.strip()}' "
                f"ohne Uhrzeit; OSM-opening_hours-Format nötig): Tage vor die Uhrzeit "
                f"schreiben, z. B. '{_example(s)}'")
    return week + s, notes


def _example(schedule: str, start: str = "10:00") -> str:
    """A filled-in example for an error message, using the days the user wrote."""
    found = re.search(rf"{_CODE}(?:\s*[-,]\s*{_CODE})*", schedule)
    days = re.sub(r"\s+", "", found.group(0)) if found else "Tu"
    h, m = (int(x) for x in start.split(":"))
    return f"{days} {h:02d}:{m:02d}-{min(h + 1, 24):02d}:{m:02d}"


def is_open_at(schedule: str, when: dt.datetime) -> bool:
    """True if the service is there at ``when``; an empty schedule means always."""
    if not schedule:
        return True
    return bool(parse_schedule(schedule).is_open(_naive(when)))


def open_every_week(schedule: str, start: dt.date | dt.datetime | None = None,
                    weeks: int = WEEKLY_WEEKS) -> bool:
    """True if the service is there at least once in each of ``weeks`` calendar weeks.

    "Tu 10:00-11:00" passes; "Th[2] 14:00-16:00" (second Thursday of the month) does not,
    because some weeks have no second Thursday.
    """
    if not schedule:
        return True
    oh = parse_schedule(schedule)
    day = _as_date(start) if start is not None else dt.date.today()
    monday = dt.datetime.combine(day - dt.timedelta(days=day.weekday()), dt.time(0))
    for w in range(weeks):
        a = monday + dt.timedelta(weeks=w)
        b = a + dt.timedelta(weeks=1)
        if not any(state == opening_hours.State.OPEN
                   for _s, _e, state, _c in oh.intervals(a, b)):
            return False
    return True


def valid_on(valid_from: str, valid_to: str, day: dt.date) -> bool:
    """True if ``day`` lies within the (ISO, possibly empty) validity dates."""
    if valid_from and day < dt.date.fromisoformat(valid_from):
        return False
    return not (valid_to and day > dt.date.fromisoformat(valid_to))


def available(schedule: str, when: When, valid_from: str = "", valid_to: str = "",
              today: dt.date | None = None) -> bool:
    """One listing's answer to the coverage question ``when``.

    None: always (schedules ignored); a datetime: open then and valid that day;
    "weekly": valid from ``today`` and open in each of the next :data:`WEEKLY_WEEKS` weeks.
    """
    if when is None:
        return True
    if isinstance(when, dt.datetime):
        return valid_on(valid_from, valid_to, when.date()) and is_open_at(schedule, when)
    if when == "weekly":
        day = today or dt.date.today()
        return valid_on(valid_from, valid_to, day) and open_every_week(schedule, day)
    raise ValueError(f"when muss None, ein datetime oder 'weekly' sein, nicht {when!r}")


def next_weekday_time(weekday: int, time: dt.time, after: dt.date | None = None) -> dt.datetime:
    """The next date (from ``after``, inclusive) falling on ``weekday`` (0 = Monday) at ``time``."""
    day = after or dt.date.today()
    day = day + dt.timedelta(days=(weekday - day.weekday()) % 7)
    return dt.datetime.combine(day, time)


def describe_when(when: When, lang: str = "de") -> str:
    """Short label of a ``when`` for captions and legends."""
    if when is None:
        return "alle Angebote (ohne Zeitbezug)" if lang == "de" else "all listings (any time)"
    if when == "weekly":
        return "mindestens einmal pro Woche" if lang == "de" else "at least once a week"
    if isinstance(when, dt.datetime):
        if lang == "de":
            return f"{WEEKDAYS_DE[when.weekday()]}, {when:%d.%m.%Y %H:%M} Uhr"
        return f"{when:%A, %Y-%m-%d %H:%M}"
    return str(when)


def _naive(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=None) if t.tzinfo is not None else t


def _as_date(d: dt.date | dt.datetime) -> dt.date:
    return d.date() if isinstance(d, dt.datetime) else d
