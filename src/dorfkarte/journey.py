"""One journey by timetable: from a stop, an Ortsteil or a point to another, on one day.

The earliest arrival departing at or after the given time (forward connection scan), then
the latest departure that still arrives then (the same scan on the time-reversed
connections), so the journey shown does not leave earlier than it needs to.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

import numpy as np

from dorfkarte.errors import DorfkarteError
from dorfkarte.gtfs import Timetable
from dorfkarte.i18n import t
from dorfkarte.network import transform_xy
from dorfkarte.pt import fmt_hhmm, prepare, settings
from dorfkarte.region import Region
from dorfkarte.router import Leg, earliest_arrival, itinerary

_WEEKDAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
_LATLON = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


class PlaceError(DorfkarteError, LookupError):
    """A FROM/TO that matches no stop, Ortsteil or coordinate (or several stops)."""


@dataclass
class Place:
    """Where a journey starts or ends: a set of stops (walk 0) or a point."""

    label: str
    stops: dict[int, float]  # stop index -> walk seconds
    xy: np.ndarray | None = None  # metric point (None for a stop by name)


@dataclass
class Journey:
    depart: float
    arrive: float
    legs: list[Leg]

    @property
    def minutes(self) -> int:
        return int(round((self.arrive - self.depart) / 60.0))

    @property
    def transfers(self) -> int:
        return max(0, sum(1 for leg in self.legs if leg.kind == "ride") - 1)


class Planner:
    """A feed prepared for one day (connections, footpaths); reuse it for many journeys."""

    def __init__(self, tt: Timetable, region: Region, day: dt.date) -> None:
        tt.check_day(day)
        self.tt = tt
        self.region = region
        self.day = day
        self.settings = settings(region)
        self.model = prepare(tt, region, day, self.settings)
        self.rev = self.model.conn.reversed()
        self.cap_s = self.settings.access_max_m / self.model.walker.walk_mps

    def near(self, xy: np.ndarray) -> dict[int, float]:
        """Stops within the access cap of a point (straight line x detour)."""
        i, j, t = self.model.walker.pairs(xy.reshape(1, 2), self.model.stop_xy, self.cap_s)
        return {int(s): float(w) for s, w in zip(j, t, strict=True)}

    def walk_s(self, a: Place, b: Place) -> float:
        if a.xy is None or b.xy is None:
            pa = a.xy if a.xy is not None else self.model.stop_xy[next(iter(a.stops))]
            pb = b.xy if b.xy is not None else self.model.stop_xy[next(iter(b.stops))]
        else:
            pa, pb = a.xy, b.xy
        w = self.model.walker
        d = float(np.hypot(*(pa - pb)))
        return d * w.detour / w.walk_mps

    def plan(self, a: Place, b: Place, t0: float) -> Journey | None:
        """Earliest arrival leaving ``a`` at or after ``t0``; None if none this day."""
        conn, fp = self.model.conn, self.model.fp
        direct = self.walk_s(a, b)
        scan = earliest_arrival(conn, fp, a.stops, t0, targets=b.stops)
        best, best_s = math.inf, -1
        for s, e in b.stops.items():
            if scan.alight[s] >= 0 and scan.arrival[s] + e < best:
                best, best_s = scan.arrival[s] + e, s
        walk_ok = direct <= self.cap_s  # a walk alone: only as far as to a stop
        if walk_ok and t0 + direct <= best:
            return Journey(t0, t0 + direct, [Leg("walk", -1, -1, t0, t0 + direct)])
        if best_s < 0:
            return None
        # latest departure that still arrives at `best`
        back = earliest_arrival(self.rev, fp, b.stops, -best, t_max=-t0, targets=a.stops)
        latest = max((-back.arrival[s] - w for s, w in a.stops.items()
                      if math.isfinite(back.arrival[s])), default=t0)
        latest = max(latest, t0)
        scan = earliest_arrival(conn, fp, a.stops, latest, targets=b.stops)
        best2, s2 = math.inf, -1
        for s, e in b.stops.items():
            if scan.alight[s] >= 0 and scan.arrival[s] + e < best2:
                best2, s2 = scan.arrival[s] + e, s
        if s2 < 0 or best2 > best + 1e-6:  # cannot happen (monotone); keep the first
            latest, best2, s2 = t0, best, best_s
            scan = earliest_arrival(conn, fp, a.stops, t0, targets=b.stops)
        legs = itinerary(conn, fp, scan, s2, a.stops, latest)
        egress = b.stops[s2]
        if egress > 0:
            legs.append(Leg("walk", s2, -1, scan.arrival[s2], scan.arrival[s2] + egress))
        depart = legs[0].depart if legs else latest
        return Journey(depart, best2, legs)


def place_at(planner: Planner, label: str, lon: float, lat: float) -> Place:
    """A point (WGS84) as journey end: the stops within the access walk."""
    xy = transform_xy(np.array([lon]), np.array([lat]), "EPSG:4326", planner.region.crs)[0]
    return Place(label, planner.near(xy), xy)


def unit_place(planner: Planner, name: str, area_lonlat: object) -> Place:
    """An analysis unit as journey end: its centre from the centres file, else a point of
    its area (OSM units need not be in the centres file)."""
    from dorfkarte.districts import read_centres

    try:
        c = read_centres(planner.region)
        row = c[c["name"].astype(str) == name]
    except DorfkarteError:
        row = None
    if row is not None and len(row):
        return place_at(planner, name, float(row["lon"].iloc[0]), float(row["lat"].iloc[0]))
    p = area_lonlat.representative_point()  # type: ignore[attr-defined]
    return place_at(planner, name, float(p.x), float(p.y))


def resolve_place(text: str, tt: Timetable, region: Region, planner: Planner) -> Place:
    """``lat,lon``, a stop name (exact, then unique part), or an Ortsteil of the region."""
    m = _LATLON.match(text)
    names = tt.stops["stop_name"].astype(str)
    if m:
        lat, lon = float(m.group(1)), float(m.group(2))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise PlaceError(f"{text!r}: keine Koordinate lat,lon")
        xy = transform_xy(np.array([lon]), np.array([lat]), "EPSG:4326", region.crs)[0]
        return Place(f"{lat:.5f},{lon:.5f}", planner.near(xy), xy)
    low = names.str.casefold()
    key = text.strip().casefold()
    hit = np.flatnonzero((low == key).to_numpy())
    if len(hit):
        return Place(str(names.iloc[hit[0]]), {int(i): 0.0 for i in hit})
    from dorfkarte.districts import norm_name, read_centres

    try:
        centres = read_centres(region)
    except DorfkarteError:
        centres = None
    if centres is not None:
        k = norm_name(text)
        rows = centres[centres["name"].map(norm_name) == k] if k else centres.iloc[0:0]
        if len(rows):
            r = rows.iloc[0]
            xy = transform_xy(np.array([r["lon"]]), np.array([r["lat"]]), "EPSG:4326",
                              region.crs)[0]
            return Place(f"{r['name']} (Ortsmitte)", planner.near(xy), xy)
    part = sorted(set(names[low.str.contains(re.escape(key), regex=True)]))
    if len(part) == 1:
        hit = np.flatnonzero((names == part[0]).to_numpy())
        return Place(part[0], {int(i): 0.0 for i in hit})
    if len(part) > 1:
        shown = ", ".join(part[:5]) + (" …" if len(part) > 5 else "")
        raise PlaceError(f"{text!r} passt auf mehrere Haltestellen: {shown}")
    raise PlaceError(f"{text!r}: keine Haltestelle, kein Ortsteil und keine Koordinate lat,lon")


def _clock(sec: float, day: dt.date) -> str:
    extra = int(sec // 86400)
    return fmt_hhmm(sec) + (f" (+{extra} Tag)" if extra > 0 else "")


def describe(j: Journey | None, planner: Planner, a: Place, b: Place) -> list[str]:
    """The itinerary as text lines (German), headed by the timetable's label and date."""
    tt = planner.tt
    head = (f"{tt.info.caption()} ({tt.info.source}; {tt.info.licence or 'Lizenz unbekannt'})"
            f" – {_WEEKDAYS[planner.day.weekday()]} {planner.day.strftime('%d.%m.%Y')}: "
            f"{a.label} → {b.label}")
    out = [head]
    if j is None:
        out.append("Keine Verbindung an diesem Tag ab der gewünschten Zeit.")
        return out
    stops = tt.stops["stop_name"].astype(str).to_numpy()
    trips = tt.trips
    for leg in j.legs:
        frm = stops[leg.from_stop] if leg.from_stop >= 0 else a.label
        to = stops[leg.to_stop] if leg.to_stop >= 0 else b.label
        if leg.kind == "walk":
            mins = max(1, int(round((leg.arrive - leg.depart) / 60)))
            out.append(f"{_clock(leg.depart, planner.day)}  zu Fuß {frm} → {to} ({mins} min)")
        else:
            rt = trips["route_type"].iloc[leg.trip]
            kind = "Zug" if rt == 2 else "Bus" if rt == 3 else "Linie"
            out.append(f"{_clock(leg.depart, planner.day)}  ab {frm}  {kind} "
                       f"{trips['route'].iloc[leg.trip]}")
            out.append(f"{_clock(leg.arrive, planner.day)}  an {to}")
    return out


def summary_line(j: Journey | None) -> str:
    """``journey depart=HH:MM arrive=HH:MM minutes=<int> transfers=<int>`` or ``journey none``."""
    if j is None:
        return "journey none"
    return (f"journey depart={fmt_hhmm(j.depart)} arrive={fmt_hhmm(j.arrive)} "
            f"minutes={j.minutes} transfers={j.transfers}")


def next_connections(planner: Planner, a: Place, b: Place, t0: float,
                     n: int = 3) -> list[Journey]:
    """Up to ``n`` successive journeys leaving at or after ``t0`` (each a minute later)."""
    out: list[Journey] = []
    t = t0
    while len(out) < n:
        j = planner.plan(a, b, t)
        if j is None:
            break
        out.append(j)
        if all(leg.kind == "walk" for leg in j.legs):
            break  # on foot: any time, no timetable
        t = j.depart + 60.0
    return out


def connection_rows(j: Journey, planner: Planner, lang: str = "de") -> dict[str, object]:
    """One journey as a table row: depart, arrive, minutes, transfers, lines."""
    trips = planner.tt.trips
    lines = [str(trips["route"].iloc[leg.trip]) for leg in j.legs if leg.kind == "ride"]
    return {"depart": fmt_hhmm(j.depart), "arrive": fmt_hhmm(j.arrive), "minutes": j.minutes,
            "transfers": j.transfers,
            "lines": " → ".join(lines) or t("pt_on_foot", lang)}


@dataclass(frozen=True)
class RoundTrip:
    """The next connections from a unit to one of its centres and back (table rows)."""

    target: str
    there: list[dict[str, object]]
    back: list[dict[str, object]]


def round_trips(planner: Planner, name: str, area_lonlat: object, there_from: float,
                back_from: float, *, n_targets: int = 2,
                lang: str = "de") -> list[RoundTrip]:
    """Next connections to the unit's Kernort / central places (:func:`centre_places`) and
    back: what the profile shows, one search per direction and target."""
    try:
        targets = centre_places(planner.region, name)
    except DorfkarteError:
        return []
    if not targets:
        return []
    home = unit_place(planner, name, area_lonlat)
    out = []
    for target in targets[:n_targets]:
        try:
            there = resolve_place(target, planner.tt, planner.region, planner)
        except DorfkarteError:
            continue
        out.append(RoundTrip(
            target,
            [connection_rows(j, planner, lang)
             for j in next_connections(planner, home, there, there_from)],
            [connection_rows(j, planner, lang)
             for j in next_connections(planner, there, home, back_from)]))
    return out


def centre_places(region: Region, unit: str) -> list[str]:
    """Where an Ortsteil's people go: its municipality's Kernort and the central places."""
    from dorfkarte import central
    from dorfkarte.districts import norm_name, read_centres

    centres = read_centres(region)
    row = centres[centres["name"].astype(str) == unit]
    out: list[str] = []
    if len(row):
        muni = str(row["municipality"].iloc[0])
        kern = centres[(centres["municipality"].astype(str) == muni)
                       & (centres["kind"].astype(str) == "kernort")]
        out += [str(x) for x in kern["name"]]
    for cid, cat in region.categories.items():
        if cat.source == central.PLACES:
            for _, p in central.places(region, cid).iterrows():
                name = next((str(c) for c in centres["name"]
                             if norm_name(c) == norm_name(p["name"])), None)
                if name is not None:
                    out.append(name)
    return [x for k, x in enumerate(out) if x not in out[:k] and x != unit]


__all__ = ["Journey", "Place", "PlaceError", "Planner", "RoundTrip", "centre_places",
           "connection_rows", "describe", "next_connections", "place_at", "resolve_place",
           "round_trips", "summary_line", "unit_place"]
