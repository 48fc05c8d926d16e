"""``dorfkarte suggest`` and ``dorfkarte scenario``: where best, and what if.

``suggest --category X --k 5 [--mode walk] [--method exact|greedy|pmedian]`` prints the k
best new sites (coverage gained per added site, greedy's gap to the optimum).
``scenario list|show|apply|delete|export|route`` work on the scenarios saved beside the
listing store (``<data_dir>/scenarios.json``); ``scenario add`` / ``scenario remove`` add
a change to a (new) named scenario.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from dorfkarte.atomic import write_text_atomic
from dorfkarte.commands import subparser
from dorfkarte.coverage import CoverageResult
from dorfkarte.errors import DataError
from dorfkarte.region import MODES
from dorfkarte.safe import frame_safe
from dorfkarte.scenario import (
    METHODS,
    Change,
    Scenario,
    ScenarioError,
    ScenarioStore,
    WhatIf,
    compare,
    mobile_stops,
    route_travel_note,
    scenario_geojson,
    suggest,
)
from dorfkarte.snapshot import Snapshot

KINDS = ("stop", "centre", "anchor")


def register(sub: argparse._SubParsersAction) -> None:
    p = subparser(sub, "suggest",
                  "Schlägt die k besten neuen Standorte einer Kategorie vor (MCLP/p-Median).")
    p.add_argument("--category", required=True, metavar="ID", help="Kategorie, z. B. hausarzt")
    p.add_argument("--k", type=int, default=5, help="Zahl neuer Standorte (Standard 5)")
    p.add_argument("--mode", default="walk", choices=MODES, help="Verkehrsmittel (Standard walk)")
    p.add_argument("--method", default="exact", choices=METHODS,
                   help="exact (MCLP, optimal), greedy (schnell) oder pmedian (Gesamtweg)")
    p.add_argument("--candidates", default=",".join(KINDS),
                   help="Kandidaten: stop,centre,anchor (Standard: alle)")
    p.add_argument("--scenario", metavar="NAME", help="auf ein gespeichertes Szenario aufsetzen")
    p.add_argument("--time-limit", type=float, default=30.0,
                   help="Sekunden für den exakten Löser (Standard 30)")
    p.add_argument("--csv", type=Path, help="Vorschläge zusätzlich als CSV speichern")
    p.add_argument("--save-as", metavar="NAME",
                   help="Vorschläge als Szenario mit diesem Namen speichern")
    p.add_argument("--ohne-angebote", dest="listings", action="store_false",
                   help="lokale Angebote nicht einbeziehen")
    p.set_defaults(func=run_suggest)

    s = subparser(sub, "scenario", "Was-wäre-wenn-Szenarien: anlegen, zeigen, anwenden.")
    s.add_argument("--ohne-angebote", dest="listings", action="store_false",
                   help="lokale Angebote nicht einbeziehen")
    ss = s.add_subparsers(dest="scenario_cmd", metavar="AKTION")
    ss.add_parser("list", help="gespeicherte Szenarien")
    sh = ss.add_parser("show", help="Änderungen eines Szenarios")
    sh.add_argument("name")
    ap = ss.add_parser("apply", help="Vorher/Nachher je Ortsteil berechnen")
    ap.add_argument("name")
    ap.add_argument("--mode", default=None, choices=MODES, help="nur dieses Verkehrsmittel")
    ap.add_argument("--csv", type=Path, help="Vorher/Nachher-Tabelle als CSV speichern")
    de = ss.add_parser("delete", help="Szenario löschen")
    de.add_argument("name")
    ex = ss.add_parser("export", help="Szenario als GeoJSON (Änderungen) exportieren")
    ex.add_argument("name")
    ex.add_argument("--out", type=Path, required=True, help="Zieldatei (.geojson)")
    ad = ss.add_parser("add", help="neuen Standort zu einem Szenario hinzufügen")
    ad.add_argument("name")
    ad.add_argument("--category", required=True)
    ad.add_argument("--lat", type=float, required=True)
    ad.add_argument("--lon", type=float, required=True)
    ad.add_argument("--label", default="", help="Name des neuen Standorts")
    rm = ss.add_parser("remove", help="bestehende Einrichtung im Szenario schließen")
    rm.add_argument("name")
    rm.add_argument("--category", required=True)
    rm.add_argument("--ref", required=True, help="Kennung (OSM-ID, Angebots-ID oder #Nummer)")
    ro = ss.add_parser("route", help="Halte für ein mobiles Angebot nach Einwohnern je Minute")
    ro.add_argument("--category", required=True)
    ro.add_argument("--budget", type=float, required=True, help="Minuten pro Woche")
    ro.add_argument("--stop-minutes", type=float, default=30.0, help="Haltedauer (Standard 30)")
    ro.add_argument("--mode", default="walk", choices=MODES,
                    help="wie die Einwohner zum Halt kommen (Standard walk); die Fahrzeit "
                    "zwischen den Halten zählt immer (Straßennetz, sonst Luftlinie × Umweg)")
    s.set_defaults(func=run_scenario)


def _result(ctx: Any, args: argparse.Namespace, categories: list[str] | None = None,
            modes: list[str] | None = None) -> tuple[CoverageResult, Snapshot]:
    ws = ctx.workspace
    for c in categories or []:
        ws.region.category(c)
    return ws.result(categories=categories, modes=modes,
                     listings=getattr(args, "listings", True)), ws.snapshot


def _fmt(v: float) -> str:
    return f"{v:,.0f}".replace(",", ".")




def run_suggest(args: argparse.Namespace, ctx: Any) -> int:
    if args.k < 1:
        raise DataError(f"--k muss mindestens 1 sein, nicht {args.k}")
    include = [c.strip() for c in str(args.candidates).split(",") if c.strip()]
    bad = [c for c in include if c not in KINDS]
    if bad:
        raise DataError(f"--candidates: {bad[0]!r} unbekannt; erlaubt: {', '.join(KINDS)}")
    modes = [args.mode] if args.mode != "transit" else ["walk", "transit"]
    result, snap = _result(ctx, args, [args.category], modes)
    state = result
    if args.scenario:
        wi = WhatIf(result)
        wi.apply_all(ScenarioStore(ctx.data_dir).get(args.scenario).changes)
        state = wi.result
    cands = ctx.workspace.candidates(include)
    sg = suggest(state, args.category, args.mode, args.k, method=args.method,
                 candidates=cands, time_limit=args.time_limit)
    cat = ctx.region.category(args.category)
    unit = "m" if args.mode == "transit" else "min"
    print(f"{cat.label} · {args.mode}: Schwelle {sg.threshold:g} {unit}; "
          f"{_fmt(sg.uncovered_before)} von {_fmt(sg.demand_total)} {sg.demand} bisher "
          f"außerhalb; {len(cands)} Kandidaten")
    sol = sg.solution
    how = {"exact": "exakt (MCLP)", "greedy": "schrittweise (Greedy)",
           "pmedian": "p-Median"}[args.method]
    proof = "optimal" if sol.optimal else "ohne Optimalitätsnachweis"
    print(f"Methode: {how}, {proof}" + (f", Löser {sol.solver}" if sol.solver else "")
          + f", {sg.seconds:.2f} s")
    gain_col = "time_saved" if args.method == "pmedian" else "gain"
    print(f"{'Nr':>3}  {'Standort':<32} {'Art':<12} {'neu versorgt':>13} {'kumuliert':>10}"
          + ("  Minuten×EW gespart" if args.method == "pmedian" else ""))
    from dorfkarte.scenario import CANDIDATE_KINDS

    newly = sg.sites["cumulative"].diff().fillna(sg.sites["cumulative"])
    for (_, r), gained in zip(sg.sites.iterrows(), newly, strict=True):
        line = (f"{int(r['rank']):>3}  {str(r['name'])[:32]:<32} "
                f"{CANDIDATE_KINDS.get(str(r['kind']), str(r['kind'])):<12} "
                f"{_fmt(gained):>13} {_fmt(r['cumulative']):>10}")
        if args.method == "pmedian":
            line += f"  {_fmt(r[gain_col]):>18}"
        print(line)
    if sg.greedy is not None and sg.greedy.gap is not None:
        print(f"Greedy zum Vergleich: {_fmt(sg.greedy.objective)} "
              f"(Abstand zum Optimum {100 * sg.greedy.gap:.1f} %)")
    for n in sg.notes:
        print(f"Hinweis: {n}")
    if args.csv:
        write_text_atomic(args.csv, frame_safe(sg.sites).to_csv(index=False, float_format="%.4f",
                                               lineterminator="\n"))
        print(f"CSV: {args.csv}")
    if args.save_as:
        sc = ScenarioStore(ctx.data_dir).save(Scenario(
            name=args.save_as, changes=sg.changes(),
            note=f"Vorschlag {how}, k={args.k}, {cat.label}, {args.mode}"))
        print(f"Als Szenario gespeichert: {sc.name}")
    return 0


def _pct(v: float) -> str:
    return "" if v != v else f"{100 * v:5.1f} %"


def run_scenario(args: argparse.Namespace, ctx: Any) -> int:
    store = ScenarioStore(ctx.data_dir)
    cmd = getattr(args, "scenario_cmd", None)
    if cmd in (None, "list"):
        items = store.list()
        if not items:
            print(f"Keine Szenarien gespeichert ({store.path}).")
        for sc in items:
            print(f"{sc.name}: {len(sc.changes)} Änderungen, zuletzt {sc.updated}"
                  + (" [Beispiel]" if sc.example else ""))
        return 0
    if cmd == "show":
        sc = store.get(args.name)
        print(json.dumps(sc.to_dict(), ensure_ascii=False, indent=1))
        return 0
    if cmd == "delete":
        if not store.delete(args.name):
            raise ScenarioError(f"Szenario {args.name!r} nicht gefunden")
        print(f"Gelöscht: {args.name}")
        return 0
    if cmd in ("add", "remove"):
        ctx.region.category(args.category)
        try:
            sc = store.get(args.name)
        except ScenarioError:
            sc = Scenario(name=args.name)
        if cmd == "add":
            ch = Change.from_dict({"action": "add", "category": args.category,
                                   "lat": args.lat, "lon": args.lon, "name": args.label,
                                   "kind": "user"}, "--lat/--lon")
        else:
            ch = Change("remove", args.category, ref=args.ref)
        sc.changes.append(ch)
        store.save(sc)
        print(f"Szenario {sc.name!r}: {len(sc.changes)} Änderungen")
        return 0
    if cmd == "export":
        sc = store.get(args.name)
        result = None
        if any(c.action == "remove" for c in sc.changes):
            result, _ = _result(ctx, args, sorted({c.category for c in sc.changes}), ["walk"])
        write_text_atomic(args.out, json.dumps(scenario_geojson(sc, result), ensure_ascii=False,
                                          indent=1))
        print(f"GeoJSON: {args.out}")
        return 0
    if cmd == "apply":
        sc = store.get(args.name)
        cats = sorted({c.category for c in sc.changes})
        if not cats:
            print("Szenario ohne Änderungen.")
            return 0
        modes = None if args.mode is None else [args.mode]
        result, _ = _result(ctx, args, cats, modes)
        wi = ctx.workspace.what_if(result)
        for eff in wi.apply_all(sc.changes):
            if eff.note:
                print(f"Hinweis: {eff.note}")
        frames = [compare(result, wi.result, c, args.mode) for c in cats]
        import pandas as pd

        table = pd.concat(frames, ignore_index=True)
        for (c, m), part in table.groupby(["category", "mode"], sort=False):
            print(f"\n{ctx.region.category(c).label} · {m}")
            print(f"{'Ortsteil':<28} {'vorher':>8} {'nachher':>8} {'neu versorgt':>13} "
                  f"{'verlieren':>10}")
            changed = part[(part["newly_covered"] > 0) | (part["losing_coverage"] > 0)
                           | (part["district"] == "Gesamt")]
            for _, r in changed.iterrows():
                print(f"{str(r['district'])[:28]:<28} {_pct(r['share_before']):>8} "
                      f"{_pct(r['share_after']):>8} {_fmt(r['newly_covered']):>13} "
                      f"{_fmt(r['losing_coverage']):>10}")
        if args.csv:
            write_text_atomic(args.csv, frame_safe(table).to_csv(index=False, float_format="%.4f",
                                                lineterminator="\n"))
            print(f"CSV: {args.csv}")
        return 0
    if cmd == "route":
        # the drive between stops comes from the snapshot's car network (no car analysis)
        modes = ["walk", "transit"] if args.mode == "transit" else [args.mode]
        result, snap = _result(ctx, args, [args.category], modes)
        cands = ctx.workspace.candidates()
        df = mobile_stops(result, args.category, cands, budget_min=args.budget,
                          stop_min=args.stop_minutes, mode=args.mode, snapshot=snap)
        print(f"Mobiles Angebot {ctx.region.category(args.category).label}: Budget "
              f"{args.budget:g} min/Woche, Halt {args.stop_minutes:g} min")
        if df.empty:
            print("Kein Halt erreicht zusätzliche Einwohner innerhalb des Budgets.")
        for _, r in df.iterrows():
            drive = ("" if r["travel_method"] == "none" else
                     f", davon Fahrt {r['travel_min']:.1f} min"
                     + (" Luftlinie" if r["travel_method"] == "straight_line" else ""))
            print(f"{int(r['rank']):>3}  {str(r['name'])[:32]:<32} +{_fmt(r['newly_covered']):>6}"
                  f" EW  {r['minutes']:5.1f} min{drive}  ({r['per_minute']:.1f} EW/min)")
        if len(df):
            print(f"Summe: {_fmt(df['newly_covered'].sum())} Einwohner neu erreicht, "
                  f"{df['minutes_used'].iloc[-1]:.0f} von {args.budget:g} min")
            print(route_travel_note(df))
        return 0
    raise DataError(f"Unbekannte Aktion {cmd!r}")
