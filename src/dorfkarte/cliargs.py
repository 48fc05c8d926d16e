"""Parser helpers shared by :mod:`dorfkarte.cli` and the command modules.

Kept apart so that commands do not import the CLI entry point (which imports them).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_common(parser: argparse.ArgumentParser) -> None:
    """``--region`` and ``--data-dir``, accepted before or after the command name.

    Idempotent: an option the parser already has is left alone.
    """
    have = parser._option_string_actions
    if "--region" not in have:
        parser.add_argument(
            "--region", type=Path, default=argparse.SUPPRESS,
            help="Regionsdatei (TOML); Standard: data/regions/hoher-flaeming.toml",
        )
    if "--data-dir" not in have:
        parser.add_argument(
            "--data-dir", type=Path, default=argparse.SUPPRESS,
            help="Datenordner für Schnappschuss und Angebote; Standard: data/ oder "
                 "$DORFKARTE_DATA",
        )


def subcommand_parsers(parser: argparse.ArgumentParser
                       ) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every (nested) subcommand parser with its name path, e.g. ``("scenario", "list")``.

    argparse has no public API for this; ``_actions`` / ``choices`` are stable since 3.2.
    """
    out: list[tuple[tuple[str, ...], argparse.ArgumentParser]] = []

    def walk(p: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    out.append(((*path, name), child))
                    walk(child, (*path, name))

    walk(parser, ())
    return out
