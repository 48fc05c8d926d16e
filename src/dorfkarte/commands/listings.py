"""``dorfkarte listings ...``: check, import, list and undo local service listings."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

from dorfkarte.commands import subparser
from dorfkarte.errors import DataError
from dorfkarte.listings import (
    ListingStore,
    available,
    check_file,
    describe_when,
    import_report,
    next_weekday_time,
    write_template,
)
from dorfkarte.listings.schedule import When
from dorfkarte.listings.template import example_rows

_DAYS = {"mo": 0, "di": 1, "tu": 1, "mi": 2, "we": 2, "do": 3, "th": 3, "fr": 4, "sa": 5,
         "so": 6, "su": 6}


def register(sub: argparse._SubParsersAction) -> None:
    p = subparser(sub, "listings", "Lokale Angebote (Angebotsliste): prüfen, importieren, "
                                   "anzeigen, rückgängig machen.")
    p.set_defaults(func=lambda args, ctx: (p.print_help(), 1)[1])
    acts = p.add_subparsers(dest="listings_command", metavar="AKTION")

    v = subparser(acts, "validate", "Prüft eine Angebotsdatei (CSV, XLSX, GeoJSON), ohne zu "
                                    "speichern.")
    v.add_argument("file", type=Path, metavar="DATEI")
    v.set_defaults(func=run_validate)

    i = subparser(acts, "import", "Prüft und speichert eine Angebotsdatei; bei Fehlern wird "
                                  "nichts gespeichert.")
    i.add_argument("file", type=Path, metavar="DATEI")
    i.add_argument("--valid-only", action="store_true",
                   help="nur die fehlerfreien Zeilen speichern, fehlerhafte überspringen")
    i.add_argument("--user", help="Name für das Änderungsprotokoll (Standard: Anmeldename)")
    i.set_defaults(func=run_import)

    sv = subparser(acts, "import-smart-village",
                   "Übernimmt Orte und wiederkehrende Termine aus der Smart Village App (GraphQL "
                   "des App-Servers oder eine gespeicherte Antwort); Kategorien laut "
                   "[smart_village.categories] der Regionsdatei.")
    src = sv.add_mutually_exclusive_group(required=True)
    src.add_argument("--url", metavar="GRAPHQL_URL",
                     help="GraphQL-Adresse des App-Servers, z. B. https://…/graphql")
    src.add_argument("--file", type=Path, metavar="ANTWORT.json",
                     help="gespeicherte Antwort des Servers (JSON) statt einer Abfrage")
    sv.add_argument("--token", help="Zugangsschlüssel (OAuth-Token) des App-Servers, falls nötig")
    sv.add_argument("--source-url", metavar="URL",
                    help="bei --file: Server, von dem die Antwort stammt (für die Quelle)")
    sv.add_argument("--save", type=Path, metavar="ANTWORT.json",
                    help="bei --url: die Antwort zusätzlich speichern (für spätere Importe)")
    sv.add_argument("--timeout", type=float, default=30.0,
                    help="Zeitlimit der Abfrage in Sekunden (Standard 30)")
    sv.add_argument("--retries", type=int, default=2,
                    help="Wiederholungen bei Zeitüberschreitung, 429, 5xx (Standard 2)")
    sv.add_argument("--user", help="Name für das Änderungsprotokoll (Standard: Anmeldename)")
    sv.set_defaults(func=run_import_smart_village)

    t = subparser(acts, "template", "Schreibt eine Vorlage (.csv für Excel oder .xlsx).")
    t.add_argument("out", type=Path, metavar="DATEI")
    t.add_argument("--examples", action="store_true",
                   help="alle Beispielzeilen statt nur einer (als Beispiel markiert)")
    t.set_defaults(func=run_template)

    ls = subparser(acts, "list", "Zeigt die gespeicherten Angebote.")
    ls.add_argument("--when", metavar="ZEIT",
                    help="nur verfügbare: 'weekly' (mind. einmal pro Woche), "
                         "'2026-12-01 10:30' oder 'Di 10:30' (nächster Dienstag)")
    ls.set_defaults(func=run_list)

    u = subparser(acts, "undo", "Macht die letzte Änderung an der Angebotsliste rückgängig.")
    u.add_argument("--user", help="Name für das Änderungsprotokoll")
    u.set_defaults(func=run_undo)

    h = subparser(acts, "history", "Zeigt das Änderungsprotokoll.")
    h.add_argument("-n", type=int, default=20, help="wie viele Einträge (Standard 20)")
    h.set_defaults(func=run_history)


def _print_report(report) -> None:
    for issue in report.issues:
        print(str(issue), file=sys.stderr if issue.severity == "error" else sys.stdout)
    print(report.summary())


def run_validate(args: argparse.Namespace, ctx) -> int:
    report = check_file(args.file, ctx.region, ctx.data_dir)
    _print_report(report)
    if report.errors:
        print(f"Fehler: {len(report.bad_rows) or len(report.errors)} fehlerhafte Zeile(n) in "
              f"{args.file.name}", file=sys.stderr)
        return 2
    print("Datei ist in Ordnung.")
    return 0


def run_import(args: argparse.Namespace, ctx) -> int:
    store = ListingStore(ctx.data_dir)
    report = check_file(args.file, ctx.region, ctx.data_dir, store=store)
    _print_report(report)
    if report.errors and not args.valid_only:
        print("Fehler: nichts importiert (Datei korrigieren oder --valid-only verwenden); "
              "gespeicherte Angebote unverändert.", file=sys.stderr)
        return 2
    summary = import_report(report, store, valid_only=args.valid_only, user=args.user)
    if summary is None:
        print("Fehler: keine gültige Zeile, nichts importiert.", file=sys.stderr)
        return 2
    print(summary.message())
    if report.errors:
        print(f"{len(report.bad_rows)} fehlerhafte Zeile(n) übersprungen.")
    print(f"Speicher: {store.path}")
    return 0


def run_import_smart_village(args: argparse.Namespace, ctx) -> int:
    from dorfkarte.listings import smart_village as sva

    if args.file is not None:
        data, recorded = sva.read_answer(args.file)
        url = args.source_url or recorded
        source = sva.source_name(url) if url else f"{sva.SOURCE_PREFIX} (Datei {args.file.name})"
    else:
        data = sva.fetch_answer(args.url, args.token, timeout_s=args.timeout,
                                retries=args.retries)
        source = sva.source_name(args.url)
        if args.save is not None:
            sva.save_answer(data, args.url, args.save)
            print(f"Antwort gespeichert: {args.save}")
    store = ListingStore(ctx.data_dir)
    checked = sva.check_answer(data, ctx.region, ctx.data_dir, source=source, store=store)
    for line in checked.lines():
        print(line, file=sys.stdout if line.startswith("Hinweis") else sys.stderr)
    print(checked.summary())
    summary = sva.import_answer(checked, store, user=args.user)
    print(summary.message())
    ended = checked.ended(summary)
    if ended:
        print(f"{len(ended)} nicht mehr in der App: als beendet markiert (gültig bis gestern): "
              f"{', '.join(ended[:10])}{' …' if len(ended) > 10 else ''}")
    print(f"Speicher: {store.path}")
    return 0


def run_template(args: argparse.Namespace, ctx) -> int:
    rows = example_rows(ctx.region, ctx.data_dir) if args.examples else None
    path = write_template(args.out, ctx.region, rows=rows, data_dir=ctx.data_dir)
    print(f"Vorlage geschrieben: {path} (Beispielzeilen als Beispieldaten markiert, "
          f"passend zur Region {ctx.region.id})")
    return 0


def run_list(args: argparse.Namespace, ctx) -> int:
    store = ListingStore(ctx.data_dir)
    gdf = store.read()
    when = parse_when(args.when) if args.when else None
    if when is not None and len(gdf):
        keep = [available(o, when, f, t) for o, f, t in
                zip(gdf["opening_hours"], gdf["valid_from"], gdf["valid_to"], strict=True)]
        gdf = gdf[keep]
    print(f"{len(gdf)} Angebote ({describe_when(when)}) in {store.path}")
    for r in gdf.itertuples(index=False):
        mark = " [Beispiel]" if r.example else ""
        print(f"  {r.id:<20} {r.name[:40]:<40} {r.category:<20} {r.kind:<7} "
              f"{r.opening_hours or 'immer':<20} {r.location_source}{mark}")
    return 0


def run_undo(args: argparse.Namespace, ctx) -> int:
    store = ListingStore(ctx.data_dir)
    summary = store.undo(user=args.user)
    if summary is None:
        print("Nichts rückgängig zu machen.")
        return 1
    print(summary.message())
    return 0


def run_history(args: argparse.Namespace, ctx) -> int:
    log = ListingStore(ctx.data_dir).history().head(max(1, args.n))
    if not len(log):
        print("Noch keine Änderungen.")
        return 0
    for r in log.itertuples(index=False):
        undo = f" (nimmt Vorgang {r.undoes} zurück)" if r.undoes else ""
        print(f"  #{r.batch:<4} {r.at}  {r.user:<12} {r.action:<7} {r.op:<6} {r.listing_id}"
              f"  [{r.fields[:60]}]{undo}")
    return 0


def parse_when(text: str, today: dt.date | None = None) -> When:
    """'weekly', an ISO or German date-time, or 'Di 10:30' (next such weekday)."""
    s = text.strip()
    if s.casefold() in {"weekly", "woche", "wöchentlich", "woechentlich"}:
        return "weekly"
    m = re.match(r"^([A-Za-z]{2})\w*\s+(\d{1,2}):(\d{2})$", s)
    if m and m.group(1).casefold() in _DAYS:
        return next_weekday_time(_DAYS[m.group(1).casefold()],
                                 dt.time(int(m.group(2)), int(m.group(3))), today)
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%d.%m.%Y %H:%M"):
        try:
            return dt.datetime.strptime(s, fmt)
        except ValueError:
            continue
    raise DataError(f"--when {text!r}: erwartet 'weekly', '2026-12-01 10:30', "
                    "'01.12.2026 10:30' oder 'Di 10:30'")
