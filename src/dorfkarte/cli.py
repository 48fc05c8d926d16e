"""Command line: ``dorfkarte <command> [--region FILE] [--data-dir DIR] ...``.

Each command lives in :mod:`dorfkarte.commands` and registers itself; this module only
parses the shared options and turns user-fixable problems into one-line errors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dorfkarte.cliargs import add_common, subcommand_parsers
from dorfkarte.commands import register_all
from dorfkarte.errors import DorfkarteError
from dorfkarte.region import Region, load_region
from dorfkarte.settings import default_data_dir, default_region_path


@dataclass
class Context:
    """What every command gets: the region and the data folder it reads and writes."""

    region_path: Path
    data_dir: Path
    _region: Region | None = None

    @property
    def region(self) -> Region:
        if self._region is None:
            self._region = load_region(self.region_path)
        return self._region


def _ensure_common(parser: argparse.ArgumentParser) -> None:
    """Give every subcommand ``--region`` / ``--data-dir``, however its module registered it.

    ``commands.subparser`` adds them already; nested actions made with a plain
    ``add_parser`` (e.g. ``scenario list``) would otherwise reject them after their name.
    """
    for _path, p in subcommand_parsers(parser):
        add_common(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dorfkarte",
        description="Daseinsvorsorge-Karte: Erreichbarkeit von Grundversorgung in Ortsteilen.",
    )
    add_common(parser)
    sub = parser.add_subparsers(dest="command", metavar="BEFEHL")
    register_all(sub)
    _ensure_common(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    ctx = Context(
        region_path=Path(getattr(args, "region", None) or default_region_path()),
        data_dir=Path(getattr(args, "data_dir", None) or default_data_dir()),
    )
    try:
        return int(args.func(args, ctx) or 0)
    except DorfkarteError as exc:
        msg = " ".join(str(exc).split())
        print(f"Fehler: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Abgebrochen.", file=sys.stderr)
        return 130


__all__ = ["Context", "add_common", "build_parser", "main", "subcommand_parsers"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
