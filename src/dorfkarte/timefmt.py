"""Times for people: stored as UTC (ISO 8601), shown in the region's local time.

The change log of the listings store and the scenario stamps are written in UTC so that
they sort and compare across machines; a planner in Bad Belzig reads "14:05", not the
server's "12:05 UTC".
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def local_time(iso: str | None, timezone: str = "Europe/Berlin", *,
               seconds: bool = False) -> str:
    """``2026-12-01T12:05:00+00:00`` -> ``2026-12-01 13:05`` in ``timezone``.

    A stamp without offset counts as UTC (how the stores write it); text that is no
    time at all is returned unchanged (never an invented time).
    """
    if iso is None or iso != iso or not str(iso).strip():
        return ""
    text = str(iso).strip()
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    local = stamp.astimezone(ZoneInfo(timezone))
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


__all__ = ["local_time"]
