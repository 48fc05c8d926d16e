"""``dorfkarte import-population FILE``: an official Zensus 2022 grid for the region.

The official CSVs (``Zensus2022_Bevoelkerungszahl_100m-Gitter.csv`` / ``..._1km-Gitter.csv``,
``;``-separated, ``GITTER_ID_100m`` / ``GITTER_ID_1km``) cover all of Germany; only the
region's cells are kept, in the data folder. Every analysis then uses them instead of the
embedded 1 km grid.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dorfkarte.commands import subparser


def register(sub: argparse._SubParsersAction) -> None:
    p = subparser(sub, "import-population",
                  "Importiert ein amtliches Zensus-2022-Gitter (CSV) für die Region.")
    p.add_argument("file", type=Path, help="Zensus2022_Bevoelkerungszahl_100m-Gitter.csv o. ä.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ctx) -> int:
    from dorfkarte.regiondata import import_population

    path, n, residents = import_population(ctx.region, ctx.data_dir, args.file)
    total = f"{residents:,.0f}".replace(",", ".")
    print(f"{ctx.region.name}: {n} Gitterzellen, {total} Einwohner")
    print(f"Gespeichert: {path}")
    return 0
