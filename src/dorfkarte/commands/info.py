"""``dorfkarte info``: what a snapshot holds (layers, counts, dates, sources)."""

from __future__ import annotations

import argparse

import pandas as pd

from dorfkarte.commands import subparser
from dorfkarte.export import data_date, import_date
from dorfkarte.region import Region
from dorfkarte.snapshot import AMENITIES, STOPS, Snapshot
from dorfkarte.workspace import Workspace, no_osm_hint, transit_source_label

__all__ = ["category_counts", "listing_counts", "no_osm_hint", "register", "run",
           "served_stops", "transit_source_label"]


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


def listing_counts(ws: Workspace) -> dict[str, tuple[int, int]]:
    """Per category: (local listings, of which example data), as the analysis counts them."""
    dest = ws.listing_points()
    out: dict[str, tuple[int, int]] = {}
    if dest is None or not len(dest):
        return out
    ex = dest["example"].fillna(False).astype(bool) if "example" in dest else None
    for cid, part in dest.groupby("category", sort=False):
        n_ex = int(ex.loc[part.index].sum()) if ex is not None else 0
        out[str(cid)] = (len(part), n_ex)
    return out


def served_stops(snap: Snapshot, region: Region) -> tuple[int, int]:
    """(stops in the data, stops the analysis counts: weight >= transit.min_weight)."""
    stops = snap.get(STOPS)
    if stops is None or not len(stops):
        return 0, 0
    w = pd.to_numeric(stops.get("weight"), errors="coerce")
    served = int((w >= region.transit.min_weight).sum()) if region.transit.min_weight > 0 \
        else len(stops)
    return len(stops), served


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
    if path.exists():
        print(f"Datenstand: {data_date(snap) or 'unbekannt'} (Import {import_date(snap)})")
    print()
    print(f"{'Layer':<16} {'Anzahl':>8}  {'Stand':<25} Quelle")
    for name, info in snap.info.items():
        src = info.source + (f" ({info.licence})" if info.licence else "")
        if info.embedded:
            src += " [eingebettet]"
        if info.note and info.note != "eingebettete Daten":
            src += f" [{info.note}]"
        stand = info.data_date or info.fetched_at
        if info.data_date and info.fetched_at:
            src += f" [importiert {info.fetched_at}]"
        print(f"{name:<16} {info.count:>8}  {stand:<25} {src}")
    listed = listing_counts(ws)
    if snap.has(AMENITIES) or listed:
        print()
        print("Einrichtungen je Kategorie (wie in der Analyse gezählt):")
        print(f"  {'Kategorie':<22} {'OSM':>6} {'lokal':>6}")
        for cid, label, n in category_counts(snap, region):
            n_l, n_ex = listed.get(cid, (0, 0))
            osm = str(n) if snap.searched_osm(cid) else "–"
            notes = []
            if n_ex:
                notes.append(f"davon {n_ex} Beispieldaten")
            if n_l and not snap.searched_osm(cid):
                notes.append("nur lokale Angebote, OSM fehlt")
            extra = f"   [{'; '.join(notes)}]" if notes else ""
            print(f"  {label:<22} {osm:>6} {n_l:>6}   ({cid}){extra}")
    n_stops, n_served = served_stops(snap, region)
    if n_stops:
        print()
        msg = f"Haltestellen: {n_stops}"
        if n_served != n_stops:
            msg += (f", davon {n_served} mit mindestens {region.transit.min_weight:g} "
                    "Abfahrten: nur diese zählen in der Analyse (ÖPNV-Nähe)")
        print(msg)
    if not snap.has_osm:
        print()
        print(ws.no_osm_hint())
    return 0


def _list_category(ws: Workspace, cid: str) -> int:
    snap, region = ws.snapshot, ws.region
    cat = region.category(cid)
    am = snap.get(AMENITIES)
    dest = ws.listing_points()
    local = dest[dest["category"] == cid] if dest is not None else None
    if (am is None or not len(am)) and (local is None or not len(local)):
        print(f"{cat.label}: keine Einrichtungen im Datenstand.")
        print(ws.no_osm_hint())
        return 0
    rows = am[am["category"].fillna("").str.split(";").map(lambda c: cid in c)] \
        if am is not None and len(am) else am
    n_osm = len(rows) if rows is not None else 0
    n_loc = len(local) if local is not None else 0
    print(f"{cat.label} ({cid}): {n_osm} Einrichtungen (OSM), {n_loc} lokale Angebote")
    for r in (rows.itertuples() if rows is not None else []):
        name = r.name or "(ohne Namen)"
        print(f"  {name:<40} {r.geometry.y:9.5f} {r.geometry.x:9.5f}  {r.osm_id}")
    for r in (local.itertuples() if local is not None else []):
        name = r.name or "(ohne Namen)"
        flag = "  [Beispieldaten]" if bool(getattr(r, "example", False)) else ""
        print(f"  {name:<40} {r.geometry.y:9.5f} {r.geometry.x:9.5f}  lokal {r.ref}{flag}")
    if not snap.searched_osm(cid) and n_loc:
        print("Hinweis: nur lokale Angebote, OSM fehlt für diese Kategorie.")
    return 0
