"""GTFS timetables: read and check a feed, cut it to the region, store it, load it back.

The feed is read with partridge (``load_raw_feed``: every field as text, so a broken value can
be reported with its file, line and column before anything is converted; partridge's own
``read_service_ids_by_date`` applies ``calendar.txt`` and ``calendar_dates.txt``). Times stay
GTFS service-day seconds (``24:30:00`` = 88,200 s: half past midnight after the service day).

The stored feed is a GTFS zip of its own (the region's trips, their stop times and stops) with
a ``dorfkarte_feed.json`` naming source, licence and the feed's validity (``feed_info.txt``,
never the file date); it is written to a temp file and renamed, so a failed import leaves the
previous feed as it was.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import threading
import warnings
import zipfile
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from dorfkarte.atomic import atomic_path
from dorfkarte.errors import DataError
from dorfkarte.settings import embedded_data_dir

EMBEDDED_FEED = "vbb_gtfs_2021_hoher_flaeming.zip"
META_NAME = "dorfkarte_feed.json"
GTFS_DIRNAME = "gtfs"

REQUIRED: dict[str, tuple[str, ...]] = {
    "stops.txt": ("stop_id", "stop_name", "stop_lat", "stop_lon"),
    "routes.txt": ("route_id",),
    "trips.txt": ("route_id", "service_id", "trip_id"),
    "stop_times.txt": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
}
CALENDAR_COLS = ("service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                 "saturday", "sunday", "start_date", "end_date")
CALENDAR_DATES_COLS = ("service_id", "date", "exception_type")
_TIME = re.compile(r"^\s*(\d{1,3}):(\d{2}):(\d{2})\s*$")


class FeedError(DataError):
    """A GTFS feed that cannot be used; the message names file, line and column."""


@dataclass(frozen=True)
class FeedInfo:
    """Where a timetable comes from and for which days it is valid."""

    label: str  # e.g. "Fahrplan 2021"
    source: str
    licence: str
    attribution: str
    valid_from: str  # ISO date from feed_info.txt (or the calendar span), "" = unknown
    valid_to: str
    version: str = ""
    outdated: bool = False
    imported_at: str = ""
    note: str = ""

    def caption(self, lang: str = "de") -> str:
        """Short label for maps and exports, e.g. ``Fahrplan 2021 – veraltet``."""
        if not self.outdated:
            return self.label
        return f"{self.label} – " + ("veraltet" if lang == "de" else "out of date")


@dataclass
class Timetable:
    """A GTFS feed in arrays: stops, trips and stop times (seconds of the service day)."""

    info: FeedInfo
    stops: pd.DataFrame  # stop_id, stop_name, lat, lon, location_type, parent_station
    trips: pd.DataFrame  # trip_id, route_id, service_id, route (short name), route_type
    st_trip: np.ndarray  # int32 trip index per stop time, grouped by trip, in sequence
    st_stop: np.ndarray  # int32 stop index
    st_arr: np.ndarray  # int32 seconds
    st_dep: np.ndarray  # int32 seconds
    services: dict[dt.date, frozenset[str]] = field(default_factory=dict)
    #: :meth:`default_day`, found once (the app asks on every rerun; ~0.09 s each)
    _default_day: dt.date | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def n_stops(self) -> int:
        return len(self.stops)

    def stop_index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.stops["stop_id"])}

    def days(self) -> list[dt.date]:
        return sorted(self.services)

    def active_trips(self, day: dt.date) -> np.ndarray:
        """Boolean per trip: does it run on ``day``?"""
        ids = self.services.get(day, frozenset())
        return self.trips["service_id"].isin(ids).to_numpy()

    def default_day(self) -> dt.date:
        """The Tuesday of the feed's validity with the most trips (earliest on ties).

        A Tuesday is the planners' usual weekday; taking the busiest one avoids a school
        holiday with thinned-out school buses.
        """
        if self._default_day is not None:
            return self._default_day
        counts = self.trips.groupby("service_id").size()
        best: tuple[int, dt.date] | None = None
        for day, ids in self.services.items():
            if day.weekday() != 1:
                continue
            n = int(counts.reindex(list(ids)).fillna(0).sum())
            if best is None or n > best[0] or (n == best[0] and day < best[1]):
                best = (n, day)
        if best is None:
            raise FeedError("Fahrplan: kein Dienstag mit Fahrten im Gültigkeitszeitraum")
        self._default_day = best[1]
        return best[1]

    def check_day(self, day: dt.date) -> None:
        """Raise :class:`FeedError` if no trip runs on ``day`` (names the calendar files)."""
        if not self.active_trips(day).any():
            span = f"{self.info.valid_from} bis {self.info.valid_to}" if self.info.valid_from \
                else "unbekannt"
            raise FeedError(f"calendar.txt/calendar_dates.txt: am {day.isoformat()} fährt "
                            f"keine Fahrt (Fahrplan gültig {span})")


# ---- reading ---------------------------------------------------------------------------

def _line(idx: int) -> int:
    return int(idx) + 2  # header is line 1


def _need_columns(df: pd.DataFrame, name: str, cols: tuple[str, ...]) -> None:
    for c in cols:
        if c not in df.columns:
            raise FeedError(f"{name}: Spalte '{c}' fehlt")


def _empty_value(df: pd.DataFrame, name: str, cols: tuple[str, ...]) -> None:
    for c in cols:
        bad = df[c].isna() | (df[c].astype(str).str.strip() == "")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise FeedError(f"{name}, Zeile {_line(i)}, Spalte '{c}': leer")


def parse_times(values: pd.Series, name: str, col: str) -> np.ndarray:
    """GTFS ``H:MM:SS`` (hours may exceed 24) to seconds; a bad value names its line."""
    s = values.fillna("").astype(str).str.strip()
    parts = s.str.split(":", n=2, expand=True)
    if parts.shape[1] < 3:
        parts = parts.reindex(columns=range(3))
    h, mi, se = (pd.to_numeric(parts[k], errors="coerce").to_numpy(dtype=float)
                 for k in range(3))
    shape_ok = s.str.fullmatch(r"\d{1,3}:\d\d:\d\d").to_numpy(dtype=bool)
    with np.errstate(invalid="ignore"):
        ok = shape_ok & (mi < 60) & (se < 60) & (h < 48)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise FeedError(f"{name}, Zeile {_line(i)}, Spalte '{col}': {s.iloc[i]!r} ist keine "
                        "Uhrzeit HH:MM:SS (Minuten/Sekunden 00-59)")
    return (h * 3600 + mi * 60 + se).astype(np.int32)


def _parse_date(text: str, where: str) -> dt.date:
    try:
        return dt.datetime.strptime(str(text).strip(), "%Y%m%d").date()
    except ValueError:
        raise FeedError(f"{where}: {text!r} ist kein Datum JJJJMMTT") from None


def _check_calendar(feed: object) -> None:
    cal = feed.calendar  # type: ignore[attr-defined]
    cd = feed.calendar_dates  # type: ignore[attr-defined]
    if cal.empty and cd.empty:
        raise FeedError("calendar.txt und calendar_dates.txt fehlen oder sind leer: "
                        "an keinem Tag fährt eine Fahrt")
    if not cal.empty:
        _need_columns(cal, "calendar.txt", CALENDAR_COLS)
        for c in CALENDAR_COLS[1:8]:
            bad = ~cal[c].astype(str).str.strip().isin(["0", "1"])
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise FeedError(f"calendar.txt, Zeile {_line(i)}, Spalte '{c}': "
                                f"{cal[c].iloc[i]!r} (erlaubt: 0 oder 1)")
        for c in ("start_date", "end_date"):
            for i, v in enumerate(cal[c]):
                _parse_date(v, f"calendar.txt, Zeile {_line(i)}, Spalte '{c}'")
    if not cd.empty:
        _need_columns(cd, "calendar_dates.txt", CALENDAR_DATES_COLS)
        bad = ~cd["exception_type"].astype(str).str.strip().isin(["1", "2"])
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise FeedError(f"calendar_dates.txt, Zeile {_line(i)}, Spalte 'exception_type': "
                            f"{cd['exception_type'].iloc[i]!r} (erlaubt: 1 oder 2)")
        dates = pd.to_datetime(cd["date"].astype(str).str.strip(), format="%Y%m%d",
                               errors="coerce")
        if dates.isna().any():
            i = int(np.flatnonzero(dates.isna().to_numpy())[0])
            raise FeedError(f"calendar_dates.txt, Zeile {_line(i)}, Spalte 'date': "
                            f"{cd['date'].iloc[i]!r} ist kein Datum JJJJMMTT")


DAY_COLUMNS = CALENDAR_COLS[1:8]


def service_days(feed: object) -> dict[dt.date, frozenset[str]]:
    """Service ids per date from ``calendar.txt`` and ``calendar_dates.txt``.

    The same rule as partridge's ``read_service_ids_by_date`` (weekday ranges, then
    additions, then removals), vectorised: partridge walks the rows one by one, which takes
    seconds on a real feed's calendar_dates. ``tests/test_gtfs.py`` checks both agree.
    """
    cal = feed.calendar  # type: ignore[attr-defined]
    cd = feed.calendar_dates  # type: ignore[attr-defined]
    frames = []
    if not cal.empty:
        start = pd.to_datetime(cal["start_date"].str.strip(), format="%Y%m%d")
        end = pd.to_datetime(cal["end_date"].str.strip(), format="%Y%m%d")
        for k in range(len(cal)):
            days = pd.date_range(start.iloc[k], end.iloc[k], freq="D")
            on = np.array([cal[DAY_COLUMNS[w]].iloc[k].strip() == "1" for w in range(7)])
            days = days[on[days.day_of_week]]
            frames.append(pd.DataFrame({"service_id": cal["service_id"].iloc[k],
                                        "date": days, "add": True}))
    if not cd.empty:
        frames.append(pd.DataFrame({
            "service_id": cd["service_id"].to_numpy(),
            "date": pd.to_datetime(cd["date"].str.strip(), format="%Y%m%d"),
            "add": cd["exception_type"].str.strip().to_numpy() == "1",
        }))
    if not frames:
        return {}
    allrows = pd.concat(frames, ignore_index=True)
    removed = allrows[~allrows["add"]][["service_id", "date"]]
    added = allrows[allrows["add"]][["service_id", "date"]].drop_duplicates()
    if len(removed):
        key = pd.MultiIndex.from_frame(removed)
        added = added[~pd.MultiIndex.from_frame(added).isin(key)]
    out: dict[dt.date, frozenset[str]] = {}
    for day, grp in added.groupby("date"):
        out[pd.Timestamp(day).date()] = frozenset(grp["service_id"].astype(str))
    return out


def _feed_info(feed: object, services: dict[dt.date, frozenset[str]],
               meta: dict | None, path: Path) -> FeedInfo:
    if meta:
        return FeedInfo(**{k: v for k, v in meta.items() if k in FeedInfo.__dataclass_fields__})
    fi = feed.feed_info  # type: ignore[attr-defined]
    valid_from = valid_to = version = publisher = ""
    if not fi.empty:
        row = fi.iloc[0]
        if str(row.get("feed_start_date", "") or "").strip():
            valid_from = _parse_date(row["feed_start_date"],
                                     "feed_info.txt, Zeile 2, Spalte 'feed_start_date'"
                                     ).isoformat()
        if str(row.get("feed_end_date", "") or "").strip():
            valid_to = _parse_date(row["feed_end_date"],
                                   "feed_info.txt, Zeile 2, Spalte 'feed_end_date'").isoformat()
        version = str(row.get("feed_version", "") or "")
        publisher = str(row.get("feed_publisher_name", "") or "")
    note = ""
    if not valid_from and services:
        # no feed_info validity: the calendar's span is the next best stated fact
        valid_from, valid_to = min(services).isoformat(), max(services).isoformat()
        note = "Gültigkeit aus dem Kalender (feed_info.txt ohne Zeitraum)"
    year = valid_from[:4] if valid_from else ""
    agency = feed.agency  # type: ignore[attr-defined]
    name = publisher or (str(agency["agency_name"].iloc[0]) if "agency_name" in agency
                         and len(agency) else path.name)
    return FeedInfo(label=f"Fahrplan {year}".strip(), source=name, licence="", attribution="",
                    valid_from=valid_from, valid_to=valid_to, version=version, note=note)


def zip_members(path: str | Path) -> set[str]:
    """File names in a GTFS zip, refused when it is no zip or lacks a required file
    (the import form checks this before the long read)."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            names = {Path(n).name for n in zf.namelist()}
    except zipfile.BadZipFile:
        raise FeedError(f"{path.name}: keine ZIP-Datei (GTFS wird als .zip erwartet)") \
            from None
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        raise FeedError(f"{path.name}: Datei '{missing[0]}' fehlt im GTFS-Feed")
    return names


def read_feed(path: str | Path, *, info: FeedInfo | None = None) -> Timetable:
    """Read and check a GTFS zip (or folder); raise :class:`FeedError` naming the problem."""
    import partridge as ptg

    path = Path(path)
    if not path.exists():
        raise FeedError(f"GTFS-Datei nicht gefunden: {path}")
    meta = None
    if path.is_file() and META_NAME in zip_members(path):
        with zipfile.ZipFile(path) as zf:
            meta = json.loads(zf.read(META_NAME).decode("utf-8"))
    try:
        feed = ptg.load_raw_feed(str(path))
        with warnings.catch_warnings():
            # partridge 1.1 calls DataFrame.rename(inplace=True), deprecated in pandas 3.1
            warnings.filterwarnings("ignore", message=".*inplace keyword.*")
            tables = {n: feed.get(n) for n in REQUIRED}
            _ = (feed.calendar, feed.calendar_dates, feed.feed_info, feed.agency)
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        raise FeedError(f"{path.name}: GTFS nicht lesbar ({' '.join(str(exc).split())})") \
            from None
    for name, cols in REQUIRED.items():
        if tables[name].empty:
            raise FeedError(f"{name}: Datei fehlt oder ist leer")
        _need_columns(tables[name], name, cols)
    stops_raw, routes, trips_raw, st = (tables[n] for n in REQUIRED)
    _empty_value(stops_raw, "stops.txt", ("stop_id",))
    _empty_value(trips_raw, "trips.txt", ("trip_id", "service_id", "route_id"))
    _empty_value(st, "stop_times.txt", ("trip_id", "stop_id"))
    lat = pd.to_numeric(stops_raw["stop_lat"], errors="coerce")
    lon = pd.to_numeric(stops_raw["stop_lon"], errors="coerce")
    for col, vals, lim in (("stop_lat", lat, 90), ("stop_lon", lon, 180)):
        bad = vals.isna() | (vals.abs() > lim)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise FeedError(f"stops.txt, Zeile {_line(i)}, Spalte '{col}': "
                            f"{stops_raw[col].iloc[i]!r} ist keine Koordinate")
    _check_calendar(feed)

    stop_ids = stops_raw["stop_id"].astype(str)
    stop_pos = pd.Index(stop_ids)
    if not stop_pos.is_unique:
        i = int(np.flatnonzero(stop_pos.duplicated())[0])
        raise FeedError(f"stops.txt, Zeile {_line(i)}, Spalte 'stop_id': "
                        f"{stop_ids.iloc[i]!r} doppelt")
    trip_pos = pd.Index(trips_raw["trip_id"].astype(str))
    if not trip_pos.is_unique:
        i = int(np.flatnonzero(trip_pos.duplicated())[0])
        raise FeedError(f"trips.txt, Zeile {_line(i)}, Spalte 'trip_id': "
                        f"{trip_pos[i]!r} doppelt")
    route_known = trips_raw["route_id"].isin(set(routes["route_id"]))
    if not route_known.all():
        i = int(np.flatnonzero(~route_known.to_numpy())[0])
        raise FeedError(f"trips.txt, Zeile {_line(i)}, Spalte 'route_id': "
                        f"{trips_raw['route_id'].iloc[i]!r} steht nicht in routes.txt")

    s_idx = stop_pos.get_indexer(st["stop_id"].astype(str))
    if (s_idx < 0).any():
        i = int(np.flatnonzero(s_idx < 0)[0])
        raise FeedError(f"stop_times.txt, Zeile {_line(i)}, Spalte 'stop_id': "
                        f"{st['stop_id'].iloc[i]!r} steht nicht in stops.txt")
    t_idx = trip_pos.get_indexer(st["trip_id"].astype(str))
    if (t_idx < 0).any():
        i = int(np.flatnonzero(t_idx < 0)[0])
        raise FeedError(f"stop_times.txt, Zeile {_line(i)}, Spalte 'trip_id': "
                        f"{st['trip_id'].iloc[i]!r} steht nicht in trips.txt")
    # empty times are allowed by GTFS between timepoints; dorfkarte needs every call timed
    arr = parse_times(st["arrival_time"].where(st["arrival_time"].fillna("") != "",
                                               st["departure_time"]),
                      "stop_times.txt", "arrival_time")
    dep = parse_times(st["departure_time"].where(st["departure_time"].fillna("") != "",
                                                 st["arrival_time"]),
                      "stop_times.txt", "departure_time")
    seq = pd.to_numeric(st["stop_sequence"], errors="coerce")
    if seq.isna().any():
        i = int(np.flatnonzero(seq.isna().to_numpy())[0])
        raise FeedError(f"stop_times.txt, Zeile {_line(i)}, Spalte 'stop_sequence': "
                        f"{st['stop_sequence'].iloc[i]!r} ist keine Zahl")
    order = np.lexsort((seq.to_numpy(), t_idx))
    t_o, arr_o, dep_o = t_idx[order], arr[order], dep[order]
    same = t_o[1:] == t_o[:-1]
    back = same & ((arr_o[1:] < dep_o[:-1]) | (dep_o[1:] < arr_o[1:]))
    back = np.concatenate([dep_o[:1] < arr_o[:1], back])
    if back.any():
        i = int(order[int(np.flatnonzero(back)[0]) + (0 if back[0] else 0)])
        raise FeedError(f"stop_times.txt, Zeile {_line(i)}, Spalte 'arrival_time': Zeit "
                        f"läuft rückwärts (Fahrt {st['trip_id'].iloc[i]!r})")

    services = service_days(feed)
    if not services:
        raise FeedError("calendar.txt/calendar_dates.txt: an keinem Tag fährt eine Fahrt "
                        "dieses Fahrplans")
    feed_info = info or _feed_info(feed, services, meta, path)
    rt = routes.set_index("route_id")
    short = rt["route_short_name"] if "route_short_name" in rt else pd.Series(dtype=str)
    long_ = rt["route_long_name"] if "route_long_name" in rt else pd.Series(dtype=str)
    rname = short.reindex(trips_raw["route_id"]).fillna("").to_numpy()
    lname = long_.reindex(trips_raw["route_id"]).fillna("").to_numpy()
    rname = np.where(rname == "", lname, rname)
    rtype = pd.to_numeric(rt["route_type"], errors="coerce").reindex(trips_raw["route_id"]) \
        if "route_type" in rt else pd.Series(np.nan, index=trips_raw["route_id"])
    trips = pd.DataFrame({
        "trip_id": trip_pos.to_numpy(), "route_id": trips_raw["route_id"].to_numpy(),
        "service_id": trips_raw["service_id"].astype(str).to_numpy(),
        "route": rname.astype(str), "route_type": rtype.to_numpy(),
        "headsign": trips_raw["trip_headsign"].fillna("").to_numpy()
        if "trip_headsign" in trips_raw else "",
    })
    stops = pd.DataFrame({
        "stop_id": stop_ids.to_numpy(), "stop_name": stops_raw["stop_name"].fillna("")
        .astype(str).to_numpy(), "lat": lat.to_numpy(float), "lon": lon.to_numpy(float),
        "location_type": pd.to_numeric(stops_raw.get("location_type"), errors="coerce")
        .fillna(0).astype(int).to_numpy() if "location_type" in stops_raw else 0,
        "parent_station": stops_raw["parent_station"].fillna("").astype(str).to_numpy()
        if "parent_station" in stops_raw else "",
    })
    return Timetable(info=feed_info, stops=stops, trips=trips,
                     st_trip=t_o.astype(np.int32), st_stop=s_idx[order].astype(np.int32),
                     st_arr=arr_o, st_dep=dep_o, services=services)


# ---- region cut and storage -------------------------------------------------------------

def cut_to_area(tt: Timetable, keep_stop: np.ndarray) -> Timetable:
    """Keep the trips that call at a stop in ``keep_stop`` (bool per stop), whole.

    Whole trips, so a bus that leaves the area and comes back keeps its times; stops are
    those the kept trips call at, plus their parent stations.
    """
    hit = keep_stop[tt.st_stop]
    trips_keep = np.zeros(len(tt.trips), dtype=bool)
    trips_keep[tt.st_trip[hit]] = True
    st_keep = trips_keep[tt.st_trip]
    stop_used = np.zeros(tt.n_stops, dtype=bool)
    stop_used[tt.st_stop[st_keep]] = True
    parents = set(tt.stops["parent_station"][stop_used]) - {""}
    stop_used |= tt.stops["stop_id"].isin(parents).to_numpy()
    new_stop = np.cumsum(stop_used) - 1
    new_trip = np.cumsum(trips_keep) - 1
    trips = tt.trips[trips_keep].reset_index(drop=True)
    ids = set(trips["service_id"])
    services = {d: frozenset(s & ids) for d, s in tt.services.items() if s & ids}
    return Timetable(info=tt.info, stops=tt.stops[stop_used].reset_index(drop=True),
                     trips=trips, st_trip=new_trip[tt.st_trip[st_keep]].astype(np.int32),
                     st_stop=new_stop[tt.st_stop[st_keep]].astype(np.int32),
                     st_arr=tt.st_arr[st_keep], st_dep=tt.st_dep[st_keep], services=services)


def _fmt(sec: np.ndarray) -> list[str]:
    s = np.asarray(sec, dtype=np.int64)
    return [f"{h:02d}:{m:02d}:{x:02d}" for h, m, x in zip(s // 3600, s // 60 % 60, s % 60,
                                                          strict=True)]


def feed_bytes(tt: Timetable) -> bytes:
    """The timetable as a GTFS zip (with ``dorfkarte_feed.json``)."""
    trips = tt.trips
    st = pd.DataFrame({
        "trip_id": trips["trip_id"].to_numpy()[tt.st_trip],
        "arrival_time": _fmt(tt.st_arr), "departure_time": _fmt(tt.st_dep),
        "stop_id": tt.stops["stop_id"].to_numpy()[tt.st_stop],
    })
    st["stop_sequence"] = st.groupby("trip_id", sort=False).cumcount()
    routes = trips.drop_duplicates("route_id")
    rows = [(sid, d.strftime("%Y%m%d"), 1) for d, ids in sorted(tt.services.items())
            for sid in sorted(ids)]
    files = {
        "agency.txt": pd.DataFrame({"agency_id": ["A"], "agency_name": [tt.info.source],
                                    "agency_url": ["https://example.invalid"],
                                    "agency_timezone": ["Europe/Berlin"]}),
        "stops.txt": pd.DataFrame({
            "stop_id": tt.stops["stop_id"], "stop_name": tt.stops["stop_name"],
            "stop_lat": tt.stops["lat"].map(lambda v: f"{v:.6f}"),
            "stop_lon": tt.stops["lon"].map(lambda v: f"{v:.6f}"),
            "location_type": tt.stops["location_type"],
            "parent_station": tt.stops["parent_station"]}),
        "routes.txt": pd.DataFrame({"route_id": routes["route_id"], "agency_id": "A",
                                    "route_short_name": routes["route"],
                                    "route_type": routes["route_type"]}),
        "trips.txt": trips[["route_id", "service_id", "trip_id"]],
        "stop_times.txt": st,
        # the calendar as explicit dates: exactly the service days read from the source
        "calendar_dates.txt": pd.DataFrame(rows, columns=list(CALENDAR_DATES_COLS)),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, df in files.items():
            zf.writestr(name, df.to_csv(index=False, lineterminator="\n"))
        zf.writestr(META_NAME, json.dumps(asdict(tt.info), ensure_ascii=False, indent=1))
    return buf.getvalue()


def stored_feed_path(data_dir: str | Path, region_id: str) -> Path:
    return Path(data_dir) / GTFS_DIRNAME / f"{region_id}.zip"


def store_feed(tt: Timetable, path: str | Path) -> Path:
    """Write atomically (temp file + rename); the previous feed stays on any failure."""
    data = feed_bytes(tt)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def embedded_info() -> FeedInfo:
    """Provenance of the shipped 2021 feed (see data/SOURCES.md)."""
    return FeedInfo(
        label="Fahrplan 2021",
        source="VBB Verkehrsverbund Berlin-Brandenburg GmbH, GTFS 2021 "
               "(via npm vbb-trips 3.13.1, Haltestellen vbb-stations 7.3.2)",
        licence="CC BY 3.0",
        attribution="Fahrplan 2021: VBB Verkehrsverbund Berlin-Brandenburg GmbH, CC BY 3.0 "
                    "(via vbb-trips)",
        valid_from="2021-03-18", valid_to="2021-12-11",
        version="vbb-trips-3.13.1-hoher-flaeming", outdated=True,
        note="eingebettete Daten; veralteter Fahrplan, nur zur Demonstration der Methode",
    )


class FeedMissingError(DataError):
    """No timetable for the region: neither imported nor named in the region file."""


@lru_cache(maxsize=4)
def _cached(path: str, mtime: float, size: int, embedded: bool) -> Timetable:
    return read_feed(path, info=embedded_info() if embedded else None)


#: ``lru_cache`` does not lock: two sessions asking at once (the app's warm-up and its
#: first visitor) would each read the feed, twice the work on a busy machine.
_LOAD_LOCK = threading.Lock()


def load_timetable(region_id: str, data_dir: str | Path | None = None,
                   default: str | Path | None = None) -> Timetable:
    """The region's imported feed from ``data_dir``, else ``default`` (the region file's
    ``[timetable] feed``, e.g. the embedded 2021 feed).

    Cached per file (path, modification time, size): a new import is picked up at once.
    """
    path = stored_feed_path(data_dir, region_id) if data_dir is not None else None
    if path is None or not path.exists():
        if default is None:
            raise FeedMissingError(
                f"Kein Fahrplan für die Region {region_id}: erst 'dorfkarte import-gtfs "
                "FEED.zip' (oder 'timetable.feed' in der Regionsdatei)")
        path = Path(default)
        if not path.exists():
            raise FeedMissingError(f"Fahrplan nicht gefunden: {path}")
    st = path.stat()
    embedded = path.name == EMBEDDED_FEED and path.resolve().parent == embedded_data_dir().resolve()
    with _LOAD_LOCK:
        return _cached(str(path), st.st_mtime, st.st_size, embedded)


def import_gtfs(src: str | Path, dest: str | Path, keep_area_lonlat: object, *,
                source: str = "", licence: str = "", attribution: str = "",
                day: dt.date | None = None) -> Timetable:
    """Read ``src``, keep trips touching ``keep_area_lonlat`` (a shapely geometry, WGS84),
    check ``day`` (if given) has service, and store at ``dest``. Returns the stored feed."""
    import shapely

    tt = read_feed(src)
    pts = shapely.points(tt.stops["lon"].to_numpy(), tt.stops["lat"].to_numpy())
    keep = shapely.contains_xy(keep_area_lonlat, tt.stops["lon"].to_numpy(),
                               tt.stops["lat"].to_numpy())
    del pts
    if not keep.any():
        raise FeedError(f"stops.txt: keine Haltestelle von {Path(src).name} liegt in der "
                        "Region (samt Puffer)")
    cut = cut_to_area(tt, keep)
    if not len(cut.trips):
        raise FeedError(f"stop_times.txt: keine Fahrt von {Path(src).name} hält in der Region")
    info = tt.info
    info = FeedInfo(**{**asdict(info), "source": source or info.source,
                       "licence": licence or info.licence,
                       "attribution": attribution or info.attribution or
                       f"{info.label}: {source or info.source}",
                       "imported_at": dt.datetime.now(dt.UTC).replace(microsecond=0)
                       .isoformat()})
    cut.info = info
    if day is not None:
        cut.check_day(day)
    store_feed(cut, dest)
    return cut


__all__ = ["EMBEDDED_FEED", "FeedError", "FeedMissingError", "FeedInfo", "Timetable", "cut_to_area",
           "embedded_info", "feed_bytes", "import_gtfs", "load_timetable", "parse_times",
           "read_feed", "store_feed", "stored_feed_path"]
