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
from functools import lru_cache
from typing import Literal

import opening_hours

#: How ``when`` is given: None = ignore schedules, a datetime, or "weekly".
When = None | dt.datetime | Literal["weekly"]

#: Weeks looked at for "at least once a week" (a schedule must be open in each of them).
WEEKLY_WEEKS = 4

_DE_DAYS = {"Di": "Tu", "Mi": "We", "Do": "Th", "So": "Su"}
_DE_DAY_RE = re.compile(r"\b(Di|Mi|Do|So)\b")
_DE_WORDS = {"Uhr": "", "täglich": "Mo-Su", "werktags": "Mo-Fr", "geschlossen": "off"}
_DE_WORD_RE = re.compile(r"\s*\b(Uhr|täglich|werktags|geschlossen)\b")

WEEKDAYS_DE = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")


class ScheduleError(ValueError):
    """The text is not an OSM opening_hours expression; the message is German, one line."""


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
    norm = normalise_schedule(text)
    if not norm:
        return ""
    try:
        parse_schedule(norm)
    except ScheduleError as exc:
        raise ScheduleError(str(exc).replace(f"'{norm}'", f"'{' '.join(str(text).split())}'",
                                             1)) from None
    return norm


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
