"""``dorfkarte info``: what a snapshot holds (layers, counts, dates, sources)."""

from __future__ import annotations

import argparse

from dorfkarte.commands import subparser
from dorfkarte.snapshot import snapshot_path
from dorfkarte.workspace import open_snapshot


def register(sub: argparse._SubParsersAction) -> None:
    p = subparser(sub, "info", "Zeigt, was der Datenstand der Region enthält.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ctx) -> int:
    region = ctx.region
    snap = open_snapshot(region, ctx.data_dir)
    path = snapshot_path(ctx.data_dir, region.id)
    print(f"Region: {region.name} ({region.id}), {region.unit_label}")
    print(f"Regionsdatei: {region.path}")
    print(f"Datenordner: {ctx.data_dir}")
    print(f"Schnappschuss: {path if path.exists() else 'keiner'}")
    print()
    print(f"{'Layer':<16} {'Anzahl':>8}  {'Stand':<25} Quelle")
    for name, info in snap.info.items():
        src = info.source + (f" ({info.licence})" if info.licence else "")
        if info.embedded:
            src += " [eingebettet]"
        if info.note and info.note != "eingebettete Daten":
            src += f" [{info.note}]"
        print(f"{name:<16} {info.count:>8}  {info.fetched_at:<25} {src}")
    if not snap.has_osm:
        print()
        print(no_osm_hint(region.id))
    return 0


def no_osm_hint(region_id: str) -> str:
    """The German hint shown wherever OSM data is missing (CLI and app)."""
    return (
        "Noch kein OSM-Schnappschuss: Einrichtungen, Wohngebäude und Straßennetze fehlen.\n"
        "  Online:  dorfkarte fetch\n"
        "  Offline: Auszug herunterladen (z. B. brandenburg-latest.osm.pbf von Geofabrik),\n"
        "           dann: dorfkarte import-osm DATEI.osm.pbf\n"
        "Ohne Schnappschuss arbeiten Ortsteile (Näherung) und Haltestellen (VBB) trotzdem."
    )
