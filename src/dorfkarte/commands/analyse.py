"""``dorfkarte analyse --out DIR``: coverage.csv and coverage.gpkg for the whole region.

The CSV is byte-identical for the same snapshot (sorted rows, fixed float format), so runs
can be diffed and checked into a council's records; both files are written to a temp file
and renamed, so an interrupted run never leaves half a file behind.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from dorfkarte.atomic import atomic_path
from dorfkarte.commands import subparser
from dorfkarte.coverage import CoverageResult
from dorfkarte.enums import GapClass
from dorfkarte.errors import DataError
from dorfkarte.i18n import gap_label
from dorfkarte.region import ALL_MODES, MODES, PT
from dorfkarte.safe import frame_safe
from dorfkarte.snapshot import MUNICIPALITIES

CSV_NAME = "coverage.csv"
PEOPLE_CSV_NAME = "abdeckung.csv"  # same table for people (German Excel)
GPKG_NAME = "coverage.gpkg"
FLOAT_FORMAT = "%.4f"


def register(sub: argparse._SubParsersAction) -> None:
    p = subparser(sub, "analyse",
                  "Berechnet Erreichbarkeit je Ortsteil, Kategorie und Verkehrsmittel.")
    p.add_argument("--out", type=Path, required=True, help="Zielordner für coverage.csv/.gpkg")
    p.add_argument("--category", action="append", default=None, metavar="ID",
                   help="nur diese Kategorie (mehrfach möglich); Standard: alle")
    p.add_argument("--mode", action="append", default=None, choices=ALL_MODES,
                   help="nur dieses Verkehrsmittel (mehrfach möglich); Standard: alle "
                        "(pt = Bus & Bahn nach Fahrplan, wenn ein Fahrplan vorliegt)")
    p.add_argument("--date", default=None, metavar="JJJJ-MM-TT",
                   help="Fahrtag für pt (Standard: Dienstag des Fahrplans mit den meisten Fahrten)")
    p.add_argument("--window", default=None, metavar="HH:MM-HH:MM",
                   help="Abfahrtsfenster für pt (Standard aus der Regionsdatei, 07:00-09:00)")
    p.add_argument("--ohne-angebote", dest="listings", action="store_false",
                   help="lokale Angebote (dorfkarte listings) nicht einbeziehen")
    p.set_defaults(func=run)


def coverage_table(result: CoverageResult) -> pd.DataFrame:
    """Indicator rows in a stable order: district, category, mode (all by name)."""
    t = result.table()
    mode_rank = {m: i for i, m in enumerate(ALL_MODES)}
    t["_m"] = t["mode"].map(mode_rank)
    t = t.sort_values(["district", "category", "_m"], kind="stable").drop(columns="_m")
    return t.reset_index(drop=True)


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    with atomic_path(path, create=False) as tmp:  # GDAL creates the file itself
        write(tmp)


def write_csv(result: CoverageResult, path: Path) -> Path:
    """Deterministic CSV of the indicators (machine column names, see ARCHITECTURE.md)."""
    table = coverage_table(result)

    def _write(tmp: Path) -> None:
        frame_safe(table).to_csv(tmp, index=False, float_format=FLOAT_FORMAT, na_rep="",
                     lineterminator="\n", encoding="utf-8")

    _atomic(path, _write)
    return path


def write_people_csv(result: CoverageResult, path: Path, lang: str = "de") -> Path:
    """The same rows as ``coverage.csv`` for people: German Excel format, words not codes."""
    from dorfkarte import provenance, sheets

    people = sheets.people_table(coverage_table(result), lang,
                                 example_categories=provenance.example_categories(result))
    return sheets.write_csv(people, path, lang)


def _key(cat: str, mode: str) -> str:
    return f"{cat}__{mode}"


def write_gpkg(result: CoverageResult, path: Path,
               municipalities: gpd.GeoDataFrame | None = None) -> Path:
    """Districts with indicators (long and wide), origins with their times and residents
    (age weights where a census grid is there), and the municipality outlines used."""
    d = result.districts
    geom = dict(zip(d["name"], d.geometry, strict=True))
    table = coverage_table(result)
    long = gpd.GeoDataFrame(table, geometry=[geom[n] for n in table["district"]],
                            crs=d.crs)
    cols = ["name", "municipality", "kind", "population", "approx"] + [
        c for c in ("population_source", "census_population") if c in d]
    wide = gpd.GeoDataFrame(d[cols], geometry=d.geometry.to_numpy(), crs=d.crs)
    ind = result.indicators
    for key in result.times:
        sel = ind[(ind["category"] == key[0]) & (ind["mode"] == key[1])].set_index("district")
        wide["share__" + _key(*key)] = wide["name"].map(sel["share_within"]).astype(float)
        wide["gap__" + _key(*key)] = wide["name"].map(sel["gap_class"]).astype(str)
    origins = result.origins.copy()
    for key, t in result.times.items():
        origins["t__" + _key(*key)] = np.asarray(t, dtype=float)
        names = np.append(result.destinations[key[0]]["name"].astype(str).to_numpy(), "")
        origins["nearest__" + _key(*key)] = names[result.nearest[key]]  # -1 -> ""

    def _write(tmp: Path) -> None:
        pyogrio.write_dataframe(long, tmp, layer="coverage", driver="GPKG")
        pyogrio.write_dataframe(wide, tmp, layer="districts", driver="GPKG", append=True)
        pyogrio.write_dataframe(origins, tmp, layer="origins", driver="GPKG", append=True)
        if municipalities is not None and len(municipalities):
            pyogrio.write_dataframe(municipalities, tmp, layer="municipalities",
                                    driver="GPKG", append=True)

    _atomic(path, _write)
    return path


def _municipalities(snap) -> gpd.GeoDataFrame | None:
    """The outlines the analysis used, with the layer's source (VG250 file or OSM)."""
    m = snap.get(MUNICIPALITIES)
    if m is None or not len(m):
        return None
    keep = [c for c in ("name", "ags", "admin_level") if c in m]
    out = gpd.GeoDataFrame(m[keep].copy(), geometry=m.geometry.to_numpy(), crs=m.crs)
    if "ags" in out:
        out["ags"] = out["ags"].astype(str)
    out["source"] = snap.info[MUNICIPALITIES].source
    out["licence"] = snap.info[MUNICIPALITIES].licence
    return out


def _pt_modes(args: argparse.Namespace, region, data_dir: Path):
    """Modes to compute (default: all, with pt when a timetable exists) and pt's options."""
    from dorfkarte import pt
    from dorfkarte.commands.transit import parse_date

    modes = args.mode
    if modes is None:
        modes = [*MODES, PT] if pt.has_timetable(region, data_dir) else list(MODES)
    if PT not in modes:
        return modes, None
    start = end = None
    window = getattr(args, "window", None)
    if window:
        if "-" not in window:
            raise DataError(f"--window {window!r}: erwartet HH:MM-HH:MM, z. B. 07:00-09:00")
        start, end = window.split("-", 1)
    day = parse_date(getattr(args, "date", None))
    pt.timetable_for(region, data_dir)  # no timetable: one clear error now
    return modes, (day.isoformat() if day else None, start, end)


def run(args: argparse.Namespace, ctx) -> int:
    region = ctx.region
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise DataError(f"--out {out}: ist eine Datei, kein Ordner")
    # local listings count as the app and exports count them, unless --ohne-angebote
    modes, pt_choice = _pt_modes(args, region, Path(ctx.data_dir))
    result = ctx.workspace.result(categories=args.category, modes=modes,
                                  listings=getattr(args, "listings", True), pt=pt_choice)
    csv_path = write_csv(result, out / CSV_NAME)
    people_path = write_people_csv(result, out / PEOPLE_CSV_NAME)
    gpkg_path = write_gpkg(result, out / GPKG_NAME, _municipalities(ctx.workspace.snapshot))
    t = result.indicators
    counts = t["gap_class"].value_counts()
    print(f"{region.name}: {len(result.origins)} Ausgangspunkte, "
          f"{t['district'].nunique()} Ortsteile, {len(t)} Zeilen")
    print("Ergebnis: " + ", ".join(f"{gap_label(k)} {int(counts.get(k, 0))}"
                                   for k in (GapClass.OK, GapClass.TIGHT, GapClass.GAP,
                                             GapClass.NO_DATA)))
    for note in result.notes:
        print(f"Hinweis: {note}")
    print(f"Geschrieben: {csv_path} (für Skripte)")
    print(f"Geschrieben: {people_path} (für Excel: ';', Dezimalkomma)")
    print(f"Geschrieben: {gpkg_path}")
    return 0
