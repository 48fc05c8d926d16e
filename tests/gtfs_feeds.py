"""Hand-made GTFS feeds for the timetable tests (written by the tests, never downloaded)."""

from __future__ import annotations

import zipfile
from pathlib import Path

#: Stops on a line west -> east near Bad Belzig (metres apart given in the comments).
BASE_LAT, BASE_LON = 52.14, 12.59
DEG_LON_M = 68_500.0  # metres per degree of longitude at 52.1° N (approx.)
DEG_LAT_M = 111_200.0


def lonlat(x_m: float, y_m: float = 0.0) -> tuple[float, float]:
    """A position ``x_m`` metres east and ``y_m`` north of the base point."""
    return BASE_LON + x_m / DEG_LON_M, BASE_LAT + y_m / DEG_LAT_M


def write_feed(path: Path, stops: dict[str, tuple[float, float]],
               trips: dict[str, list[tuple[str, str, str]]], *,
               service: dict[str, str] | None = None,
               dates: dict[str, list[str]] | None = None,
               calendar: list[dict[str, str]] | None = None,
               feed_info: tuple[str, str] | None = ("20210101", "20211231"),
               drop: tuple[str, ...] = (), replace: dict[str, str] | None = None) -> Path:
    """Write a GTFS zip. ``stops``: id -> (x_m, y_m); ``trips``: id -> [(stop, arr, dep)].

    ``service`` maps trip -> service id (default "S"); ``dates`` service -> [YYYYMMDD]
    (calendar_dates, exception 1); ``calendar`` rows for calendar.txt; ``drop`` leaves files
    out; ``replace`` gives a file's whole text.
    """
    service = service or {t: "S" for t in trips}
    if dates is None and calendar is None:
        dates = {"S": ["20210615"]}
    files: dict[str, str] = {}
    files["agency.txt"] = "agency_id,agency_name,agency_url,agency_timezone\n" \
                          "T,Testverkehr,https://example.invalid,Europe/Berlin\n"
    lines = ["stop_id,stop_name,stop_lat,stop_lon"]
    for sid, (x, y) in stops.items():
        lon, lat = lonlat(x, y)
        lines.append(f"{sid},Stop {sid},{lat:.6f},{lon:.6f}")
    files["stops.txt"] = "\n".join(lines) + "\n"
    files["routes.txt"] = "route_id,agency_id,route_short_name,route_type\nR,T,100,3\n"
    files["trips.txt"] = "route_id,service_id,trip_id\n" + "".join(
        f"R,{service[t]},{t}\n" for t in trips)
    st = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"]
    for t, calls in trips.items():
        for k, (s, a, d) in enumerate(calls):
            st.append(f"{t},{a},{d},{s},{k}")
    files["stop_times.txt"] = "\n".join(st) + "\n"
    if dates:
        files["calendar_dates.txt"] = "service_id,date,exception_type\n" + "".join(
            f"{sv},{d},1\n" for sv, ds in dates.items() for d in ds)
    if calendar:
        cols = ["service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                "saturday", "sunday", "start_date", "end_date"]
        files["calendar.txt"] = ",".join(cols) + "\n" + "".join(
            ",".join(row[c] for c in cols) + "\n" for row in calendar)
    if feed_info:
        files["feed_info.txt"] = ("feed_publisher_name,feed_publisher_url,feed_lang,"
                                  "feed_start_date,feed_end_date\n"
                                  f"Testverkehr,https://example.invalid,de,{feed_info[0]},"
                                  f"{feed_info[1]}\n")
    for name, text in (replace or {}).items():
        files[name] = text
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            if name not in drop:
                zf.writestr(name, text)
    return path
