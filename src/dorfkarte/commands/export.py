"""``dorfkarte export-html | export-report | export-png``: maps and tables to hand on.

All three read the region, snapshot and listings store chosen by ``--region`` /
``--data-dir`` and run the coverage analysis on them, so the files show what the app shows.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd

from dorfkarte.commands import subparser
from dorfkarte.coverage import CoverageResult
from dorfkarte.export import export_html
from dorfkarte.png import screenshot_html
from dorfkarte.region import ALL_MODES, MODES, PT, Region
from dorfkarte.report import export_report
from dorfkarte.snapshot import Snapshot


def register(sub: argparse._SubParsersAction) -> None:
    p = subparser(sub, "export-html",
                  "Karte als eine HTML-Datei (mit --offline ganz ohne Internet nutzbar).")
    p.add_argument("out", type=Path, metavar="OUT.html", help="Zieldatei")
    _map_options(p)
    p.add_argument("--offline", action="store_true",
                   help="keine Web-Kacheln, keine CDN-Dateien: Grundkarte aus dem Datenstand")
    p.set_defaults(func=run_html)

    p = subparser(sub, "export-report",
                  "Abdeckungstabelle (CSV, XLSX) und Layer als GeoPackage für QGIS.")
    p.add_argument("outdir", type=Path, metavar="OUTDIR", help="Zielordner")
    p.add_argument("--mode", default="walk", choices=ALL_MODES,
                   help="Verkehrsmittel für die Ortsteil-Spalten im GeoPackage (Standard: walk)")
    p.add_argument("--lang", default="de", choices=("de", "en"),
                   help="Sprache der Tabellen (de: Excel-CSV mit ';' und Dezimalkomma)")
    p.set_defaults(func=run_report)

    p = subparser(sub, "export-png", "Bild der Karte (PNG) für Folien, ohne Internet gerendert.")
    p.add_argument("out", type=Path, metavar="OUT.png", help="Zieldatei")
    _map_options(p)
    p.add_argument("--width", type=int, default=1600, help="Breite in Pixeln (Standard 1600)")
    p.add_argument("--height", type=int, default=1000, help="Höhe in Pixeln (Standard 1000)")
    p.set_defaults(func=run_png)


def _map_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--category", default=None,
                   help="Kategorie-ID (z. B. lebensmittel); ohne: Übersicht aller Kategorien")
    p.add_argument("--mode", default="walk", choices=ALL_MODES,
                   help="Verkehrsmittel (Standard: walk; pt = Bus & Bahn nach Fahrplan)")
    p.add_argument("--lang", default="de", choices=("de", "en"), help="Sprache (Standard: de)")
    p.add_argument("--highlight", default=None, metavar="ORTSTEIL",
                   help="einen Ortsteil hervorheben")


def load(ctx: Any, categories: list[str] | None = None, mode: str | None = None
         ) -> tuple[Region, Snapshot, gpd.GeoDataFrame | None, CoverageResult]:
    """Region, snapshot, listings and the coverage result for an export (``ctx.workspace``);
    with mode pt when it is the one exported (imported timetable, else the region's)."""
    ws = ctx.workspace
    if mode == PT:
        result = ws.result(categories=categories, modes=[*MODES, PT], pt=(None, None, None))
    else:
        result = ws.result(categories=categories)
    return ws.region, ws.snapshot, ws.listing_points(), result


def run_html(args: argparse.Namespace, ctx: Any) -> int:
    region = ctx.region
    if args.category is not None:
        region.category(args.category)
    region, snap, extra, result = load(ctx, mode=args.mode)
    info = export_html(snap, region, args.out, result, category=args.category, mode=args.mode,
                       offline=args.offline, lang=args.lang, extra_points=extra,
                       highlight=args.highlight)
    kind = "offline" if info.offline else "mit Web-Kacheln"
    print(f"HTML-Karte ({kind}) geschrieben: {info.path} ({info.size_mb:.2f} MB)")
    return 0


def run_report(args: argparse.Namespace, ctx: Any) -> int:
    region, snap, _extra, result = load(ctx, mode=args.mode)
    rep = export_report(snap, region, result, args.outdir, mode=args.mode,
                        lang=getattr(args, "lang", "de"))
    print(f"Abdeckungstabelle: {rep.csv} und {rep.xlsx} ({rep.rows} Zeilen)")
    print(f"GeoPackage für QGIS: {rep.gpkg} (Layer: {', '.join(rep.layers)})")
    return 0


def run_png(args: argparse.Namespace, ctx: Any) -> int:
    region = ctx.region
    if args.category is not None:
        region.category(args.category)
    region, snap, extra, result = load(ctx, mode=args.mode)
    with tempfile.TemporaryDirectory(prefix="dorfkarte-png-") as tmp:
        page = Path(tmp) / "karte.html"
        export_html(snap, region, page, result, category=args.category, mode=args.mode,
                    offline=True, lang=args.lang, extra_points=extra, highlight=args.highlight,
                    slide=True)
        out = screenshot_html(page, args.out, width=args.width, height=args.height)
    print(f"Kartenbild geschrieben: {out} ({args.width}x{args.height})")
    return 0
