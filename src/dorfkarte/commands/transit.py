"""``dorfkarte import-gtfs FEED.zip`` and ``dorfkarte journey FROM TO --date --depart``."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from dorfkarte.commands import subparser
from dorfkarte.errors import DorfkarteError
from dorfkarte.snapshot import DISTRICTS
from dorfkarte.sources.osm_build import clip_area


def register(sub: argparse._SubParsersAction) -> None:
    p = subparser(sub, "import-gtfs",
                  "Importiert einen GTFS-Fahrplan (ZIP) für die Region (Bus & Bahn nach Fahrplan).")
    p.add_argument("feed", type=Path, help="GTFS-Feed als .zip (z. B. der aktuelle VBB-Feed)")
    p.add_argument("--source", default="", help="Quelle (Standard: feed_info.txt / agency.txt)")
    p.add_argument("--licence", default="", help="Lizenz, z. B. 'CC BY 4.0'")
    p.add_argument("--attribution", default="", help="Namensnennung für Karten und Exporte")
    p.add_argument("--date", default=None, metavar="JJJJ-MM-TT",
                   help="prüft, dass an diesem Tag Fahrten stattfinden")
    p.set_defaults(func=run_import)

    j = subparser(sub, "journey",
                  "Verbindung nach Fahrplan: von FROM nach TO "
                  "(Haltestelle, Ortsteil oder lat,lon).")
    j.add_argument("origin", metavar="FROM")
    j.add_argument("target", metavar="TO")
    j.add_argument("--date", default=None, metavar="JJJJ-MM-TT",
                   help="Fahrtag (Standard: der Dienstag des Fahrplans mit den meisten Fahrten)")
    j.add_argument("--depart", default="07:00", metavar="HH:MM", help="frühester Aufbruch")
    j.set_defaults(func=run_journey)


def parse_date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DorfkarteError(f"Datum {text!r}: erwartet JJJJ-MM-TT, z. B. 2021-06-15") from None


def run_import(args: argparse.Namespace, ctx: object) -> int:
    from dorfkarte import gtfs
    from dorfkarte.workspace import open_snapshot

    region = ctx.region  # type: ignore[attr-defined]
    data_dir = ctx.data_dir  # type: ignore[attr-defined]
    day = parse_date(args.date)
    # the districts plus the buffer, as for an OSM import
    area_ll = clip_area(open_snapshot(region, data_dir).get(DISTRICTS), region)
    dest = gtfs.stored_feed_path(data_dir, region.id)
    tt = gtfs.import_gtfs(args.feed, dest, area_ll, source=args.source, licence=args.licence,
                          attribution=args.attribution, day=day)
    info = tt.info
    print(f"Fahrplan gespeichert: {dest}")
    print(f"  {len(tt.trips)} Fahrten, {len(tt.st_trip)} Halte, {tt.n_stops} Haltestellen "
          f"in der Region (+{region.buffer_m:g} m)")
    print(f"  Gültig: {info.valid_from or 'unbekannt'} bis {info.valid_to or 'unbekannt'}"
          f"; Quelle: {info.source}; Lizenz: {info.licence or 'nicht angegeben'}")
    return 0


def run_journey(args: argparse.Namespace, ctx: object) -> int:
    from dorfkarte import journey, pt

    region = ctx.region  # type: ignore[attr-defined]
    tt = pt.timetable_for(region, ctx.data_dir)  # type: ignore[attr-defined]
    day = parse_date(args.date) or tt.default_day()
    t0 = pt.parse_hhmm(args.depart)
    planner = journey.Planner(tt, region, day)
    a = journey.resolve_place(args.origin, tt, region, planner)
    b = journey.resolve_place(args.target, tt, region, planner)
    j = planner.plan(a, b, t0)
    for line in journey.describe(j, planner, a, b):
        print(line)
    print(journey.summary_line(j))
    return 0
