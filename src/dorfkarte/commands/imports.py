"""``dorfkarte import-districts FILE`` and ``dorfkarte imports [--undo KIND]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from dorfkarte.commands import subparser


def register(sub: argparse._SubParsersAction) -> None:
    p = subparser(sub, "import-districts",
                  "Übernimmt Ortsteilgrenzen aus einer Datei (GeoJSON, GeoPackage oder gezipptes "
                  "Shapefile); sie ersetzen OSM-Grenzen und Näherung.")
    p.add_argument("file", type=Path, metavar="DATEI")
    p.add_argument("--name-column", required=True, metavar="SPALTE",
                   help="Spalte mit dem Ortsteilnamen")
    p.add_argument("--population-column", metavar="SPALTE",
                   help="Spalte mit der Einwohnerzahl (sonst aus der Ortsmittelpunkte-Datei)")
    p.add_argument("--municipality-column", metavar="SPALTE", help="Spalte mit der Gemeinde")
    p.add_argument("--source", default="", help="Quelle (z. B. 'Stadt Bad Belzig, GIS 2026')")
    p.add_argument("--licence", default="", help="Lizenz der Datei")
    p.set_defaults(func=run_districts)

    u = subparser(sub, "imports", "Zeigt die letzten Datenimporte; --undo ART nimmt den letzten "
                                  "Import dieser Art zurück.")
    u.add_argument("--undo", metavar="ART", help="osm, districts, … (siehe Liste)")
    u.set_defaults(func=run_imports)


def run_districts(args: argparse.Namespace, ctx) -> int:
    from dorfkarte.imports import run_import

    rec = run_import("districts", args.file, ctx.region, ctx.data_dir,
                     name_column=args.name_column, population_column=args.population_column,
                     municipality_column=args.municipality_column, source=args.source,
                     licence=args.licence)
    print(rec.what)
    print(f"Ortsteilgrenzen gespeichert: {rec.result}")
    return 0


def run_imports(args: argparse.Namespace, ctx) -> int:
    from dorfkarte.imports import IMPORTERS, NothingToUndo, read_log, undo_import

    if args.undo:
        if args.undo not in IMPORTERS:
            print(f"Fehler: unbekannte Art {args.undo!r}; bekannt: {', '.join(IMPORTERS)}")
            return 2
        try:
            rec = undo_import(args.undo, ctx.region, ctx.data_dir)
        except NothingToUndo as exc:
            print(str(exc))
            return 1
        print(f"Rückgängig gemacht: {rec.what} (vom {rec.at})")
        return 0
    log = read_log(ctx.region, ctx.data_dir)
    if not log:
        print("Noch keine Importe.")
    for kind, rec in log.items():
        state = " [rückgängig gemacht]" if rec.undone else ""
        print(f"  {kind:<10} {rec.at}  {rec.what}{state}")
    return 0
