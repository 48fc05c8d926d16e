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
from dorfkarte.workspace import Workspace


@dataclass
class Context:
    """What every command gets: the region and the data folder it reads and writes.

    Commands open data through :attr:`workspace` (one loading path for CLI and app).
    """

    region_path: Path
    data_dir: Path
    _region: Region | None = None
    _workspace: Workspace | None = None

    @property
    def region(self) -> Region:
        if self._region is None:
            self._region = load_region(self.region_path)
            for w in self._region.warnings:  # unknown keys: loaded, but said
                print(f"Warnung: {w}", file=sys.stderr)
        return self._region

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = Workspace(self.region, self.data_dir)
        return self._workspace


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


def _category_ids(args: argparse.Namespace, ctx: Context) -> None:
    """``--category Hausarzt`` (a label) becomes the id every command expects."""
    value = getattr(args, "category", None)
    if value is None:
        return
    region = ctx.region
    if isinstance(value, list):
        args.category = [region.category_id(v) for v in value]
    else:
        args.category = region.category_id(value)


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
        _check_data_dir(ctx.data_dir)
        _category_ids(args, ctx)
        code = int(args.func(args, ctx) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at exit
        return code
    except DorfkarteError as exc:
        msg = " ".join(str(exc).split())
        print(f"Fehler: {msg}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # ``dorfkarte info | head``: the reader left. Python would print a traceback now
        # and again at exit (flushing stdout); point stdout at /dev/null instead.
        _silence_stdout()
        print("Fehler: Ausgabe abgebrochen (der lesende Befehl hat die Pipe geschlossen)",
              file=sys.stderr)
        return 2
    except OSError as exc:
        # disk full, read-only folder, no permission: the environment, not a bug
        where = f" {exc.filename}" if exc.filename else ""
        print(f"Fehler: Kann nicht lesen/schreiben{where}: {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Abgebrochen.", file=sys.stderr)
        return 130


def _check_data_dir(path: Path) -> None:
    """``--data-dir`` must be a folder (or not exist yet)."""
    if path.exists() and not path.is_dir():
        raise DorfkarteError(f"Datenordner {path} ist eine Datei, kein Ordner "
                             "(--data-dir / $DORFKARTE_DATA prüfen)")


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


__all__ = ["Context", "add_common", "build_parser", "main", "subcommand_parsers"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
