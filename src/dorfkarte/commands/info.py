"""``dorfkarte info``: what a snapshot holds (layers, counts, dates, sources)."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from dorfkarte.commands import subparser
from dorfkarte.region import Region
from dorfkarte.settings import default_data_dir, default_region_path
from dorfkarte.snapshot import AMENITIES, STOPS, snapshot_path
from dorfkarte.workspace import open_snapshot


def register(sub: argparse._SubParsersAction) -> None:
    p = subparser(sub, "info", "Zeigt, was der Datenstand der Region enthält.")
    p.add_argument("--category", metavar="ID", default=None,
                   help="listet die Einrichtungen dieser Kategorie (z. B. hausarzt)")
    p.set_defaults(func=run)


def category_counts(snap, region) -> list[tuple[str, str, int]]:
    """(id, label, number of OSM service points) for every OSM category of the region."""
    am = snap.get(AMENITIES)
    out = []
    for cat in region.osm_categories():
        n = 0
        if am is not None and len(am):
            n = int(am["category"].fillna("").str.split(";").map(lambda c, i=cat.id: i in c).sum())
        out.append((cat.id, cat.label, n))
    return out


def listing_counts(region: Region, data_dir: Path) -> dict[str, tuple[int, int]]:
    """Per category: (local listings, of which example data), as the analysis counts them."""
    from dorfkarte.commands.export import listing_destinations

    dest = listing_destinations(region, Path(data_dir))
    out: dict[str, tuple[int, int]] = {}
    if dest is None or not len(dest):
        return out
    ex = dest["example"].fillna(False).astype(bool) if "example" in dest else None
    for cid, part in dest.groupby("category", sort=False):
        n_ex = int(ex.loc[part.index].sum()) if ex is not None else 0
        out[str(cid)] = (len(part), n_ex)
    return out


def served_stops(snap, region: Region) -> tuple[int, int]:
    """(stops in the data, stops the analysis counts: weight >= transit.min_weight)."""
    import pandas as pd

    stops = snap.get(STOPS)
    if stops is None or not len(stops):
        return 0, 0
    w = pd.to_numeric(stops.get("weight"), errors="coerce")
    served = int((w >= region.transit.min_weight).sum()) if region.transit.min_weight > 0 \
        else len(stops)
    return len(stops), served


def run(args: argparse.Namespace, ctx) -> int:
    region = ctx.region
    if args.category is not None:
        region.category(args.category)  # unknown id -> one-line error naming the known ones
    snap = open_snapshot(region, ctx.data_dir)
    path = snapshot_path(ctx.data_dir, region.id)
    if args.category is not None:
        return _list_category(snap, region, args.category, ctx.data_dir)
    print(f"Region: {region.name} ({region.id}), {region.unit_label}")
    print(f"Regionsdatei: {region.path}")
    print(f"Datenordner: {ctx.data_dir}")
    print(f"Schnappschuss: {path if path.exists() else 'keiner'}")
    if path.exists():
        from dorfkarte.export import data_date, import_date

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
    listed = listing_counts(region, ctx.data_dir)
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
        print(no_osm_hint(region.id, region, ctx.data_dir))
    return 0


def _list_category(snap, region, cid: str, data_dir: Path) -> int:
    from dorfkarte.commands.export import listing_destinations

    cat = region.category(cid)
    am = snap.get(AMENITIES)
    dest = listing_destinations(region, Path(data_dir))
    local = dest[dest["category"] == cid] if dest is not None else None
    if (am is None or not len(am)) and (local is None or not len(local)):
        print(f"{cat.label}: keine Einrichtungen im Datenstand.")
        print(no_osm_hint(region.id, region, data_dir))
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


def transit_source_label(region: Region | None, lang: str = "de") -> str:
    """"ÖPNV (VBB Verkehrsverbund ...)": the region's timetable source, not a fixed name."""
    if lang == "en":
        cited = (region.transit.source if region is not None else "").split(",")[0].strip()
        return f"public transport stops ({cited})" if cited else "public transport stops"
    from dorfkarte.listings import source_label  # lazy: the CLI's info needs no listings

    return source_label("transit", region)


def no_osm_hint(region_id: str, region: Region | None = None,
                data_dir: str | Path | None = None, lang: str = "de") -> str:
    """The hint shown wherever OSM data is missing (CLI and app), German or English.

    Given the region (and data folder), the commands carry ``--region`` / ``--data-dir``
    where these are not the defaults, so following the hint fills *this* region's
    snapshot, and the last line says what works without it for this region (naming its
    own transit source). First line: the headline; last line: what works; in between:
    the commands.
    """
    en = lang == "en"
    opts = ""
    if region is not None and region.path != default_region_path().resolve():
        opts += f" --region {shlex.quote(str(region.path))}"
    if data_dir is not None and Path(data_dir).resolve() != default_data_dir().resolve():
        opts += f" --data-dir {shlex.quote(str(data_dir))}"
    if region is None:
        parts = (["districts (approximate)", "public transport stops"] if en
                 else ["Ortsteile (Näherung)", "Haltestellen"])
    else:
        parts = []
        if region.districts.source == "file":
            parts.append("districts (from the district file)" if en
                         else "Ortsteile (aus der Bezirksdatei)")
        elif "centres" in (region.districts.source, region.districts.fallback):
            parts.append("districts (approximate)" if en else "Ortsteile (Näherung)")
        if region.transit.stops_file is not None:
            parts.append(transit_source_label(region, lang))
    works = (" and " if en else " und ").join(parts)
    if en:
        last = (f"Without a snapshot, {works} still work." if works
                else "Without a snapshot no analysis is possible.")
        return (
            "No OSM snapshot yet: services, homes and street networks are missing.\n"
            f"  Online:  dorfkarte fetch{opts}\n"
            "  Offline: download an extract (e.g. brandenburg-latest.osm.pbf from Geofabrik),\n"
            f"           then: dorfkarte import-osm FILE.osm.pbf{opts}\n"
            f"{last}"
        )
    last = (f"Ohne Schnappschuss arbeiten {works} trotzdem." if works
            else "Ohne Schnappschuss ist keine Auswertung möglich.")
    return (
        "Noch kein OSM-Schnappschuss: Einrichtungen, Wohngebäude und Straßennetze fehlen.\n"
        f"  Online:  dorfkarte fetch{opts}\n"
        "  Offline: Auszug herunterladen (z. B. brandenburg-latest.osm.pbf von Geofabrik),\n"
        f"           dann: dorfkarte import-osm DATEI.osm.pbf{opts}\n"
        f"{last}"
    )
