"""CLI commands; each module has ``register(subparsers)``.

A module that is missing or fails to import does not take the others down.
"""

from __future__ import annotations

import argparse
import importlib

from dorfkarte.cliargs import add_common

#: Command modules, in the order they appear in ``--help``.
MODULES = ("info", "osm", "imports", "population", "analyse", "listings", "export",
           "scenario", "transit")


def register_all(sub: argparse._SubParsersAction) -> None:
    for name in MODULES:
        try:
            mod = importlib.import_module(f"dorfkarte.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"dorfkarte.commands.{name}":
                continue
            raise
        mod.register(sub)


def subparser(sub: argparse._SubParsersAction, name: str, help: str) -> argparse.ArgumentParser:
    """A subcommand that also accepts ``--region`` / ``--data-dir`` after its name."""
    p = sub.add_parser(name, help=help, description=help)
    add_common(p)
    return p
