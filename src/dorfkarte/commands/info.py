"""``dorfkarte info``: what a snapshot holds (layers, counts, dates, sources)."""

from __future__ import annotations

import argparse

from dorfkarte.commands import subparser
from dorfkarte.region import Region
from dorfkarte.snapshot import AMENITIES, Snapshot
from dorfkarte.workspace import Workspace, no_osm_hint, transit_source_label

__all__ = ["category_counts", "no_osm_hint", "register", "run", "transit_source_label"]


def register(sub: argparse._SubParsersAction) -> None:
    p = subparser(sub, "info", "Zeigt, was der Datenstand der Region enthält.")
    p.add_argument("--category", metavar="ID", default=None,
                   help="listet die Einrichtungen dieser Kategorie (z. B. hausarzt)")
    p.set_defaults(func=run)


def category_counts(snap: Snapshot, region: Region) -> list[tuple[str, str, int]]:
    """(id, label, number of OSM service points) for every OSM category of the region."""
    am = snap.get(AMENITIES)
    out = []
    for cat in region.osm_categories():
        n = 0
        if am is not None and len(am):
            n = int(am["category"].fillna("").str.split(";").map(lambda c, i=cat.id: i in c).sum())
        out.append((cat.id, cat.label, n))
    return out


def run(args: argparse.Namespace, ctx) -> int:
    ws: Workspace = ctx.workspace
    region = ws.region
    if args.category is not None:
        region.category(args.category)  # unknown id -> one-line error naming the known ones
    snap = ws.snapshot
    path = ws.snapshot_path
    if args.category is not None:
        return _list_category(ws, args.category)
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
    if snap.has(AMENITIES):
        print()
        print("Einrichtungen je Kategorie (OSM):")
        for cid, label, n in category_counts(snap, region):
            print(f"  {label:<22} {n:>6}   ({cid})")
    if not snap.has_osm:
        print()
        print(ws.no_osm_hint())
    return 0


def _list_category(ws: Workspace, cid: str) -> int:
    snap, region = ws.snapshot, ws.region
    cat = region.category(cid)
    am = snap.get(AMENITIES)
    if am is None or not len(am):
        print(f"{cat.label}: keine Einrichtungen im Datenstand.")
        print(ws.no_osm_hint())
        return 0
    rows = am[am["category"].fillna("").str.split(";").map(lambda c: cid in c)]
    print(f"{cat.label} ({cid}): {len(rows)} Einrichtungen")
    for r in rows.itertuples():
        name = r.name or "(ohne Namen)"
        print(f"  {name:<40} {r.geometry.y:9.5f} {r.geometry.x:9.5f}  {r.osm_id}")
    return 0
