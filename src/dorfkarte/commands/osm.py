"""``dorfkarte fetch`` (Overpass) and ``dorfkarte import-osm FILE`` (local extract)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tqdm import tqdm

from dorfkarte.commands import subparser


def register(sub: argparse._SubParsersAction) -> None:
    p = subparser(sub, "fetch",
                  "Lädt die OSM-Daten der Region über Overpass (osmnx) und schreibt den "
                  "Schnappschuss.")
    p.add_argument("--overpass-url", default=None,
                   help="Overpass-Server (Standard: osmnx-Einstellung, overpass-api.de)")
    p.add_argument("--timeout", type=float, default=None,
                   help="Zeitlimit je Abfrage in Sekunden (Standard: osmnx-Einstellung, 180)")
    p.add_argument("--retries", type=int, default=4,
                   help="Wiederholungen je Abfrage bei Zeitüberschreitung, 429, 5xx (Standard 4)")
    p.add_argument("--backoff", type=float, default=5.0,
                   help="erste Wartezeit vor einer Wiederholung in s, verdoppelt sich (Standard 5)")
    p.add_argument("--no-cache", action="store_true",
                   help="gespeicherte Overpass-Antworten nicht verwenden")
    p.set_defaults(func=run_fetch)

    p = subparser(sub, "import-osm",
                  "Baut den Schnappschuss offline aus einem OSM-Auszug (.osm, .osm.bz2, .osm.pbf).")
    p.add_argument("file", type=Path, metavar="DATEI",
                   help="OSM-Auszug, z. B. brandenburg-latest.osm.pbf von download.geofabrik.de")
    p.set_defaults(func=run_import)


class _Bar:
    """tqdm bar over the named steps of an import or fetch."""

    def __init__(self, desc: str) -> None:
        self.bar: tqdm | None = None
        self.desc = desc

    def __call__(self, label: str, i: int, n: int) -> None:
        if self.bar is None:
            self.bar = tqdm(total=n, desc=self.desc, unit="Schritt", leave=True)
        self.bar.set_postfix_str(label)
        self.bar.n = i
        self.bar.refresh()

    def close(self, ok: bool) -> None:
        if self.bar is not None:
            if ok:
                self.bar.n = self.bar.total
                self.bar.set_postfix_str("fertig")
            else:
                self.bar.leave = False  # the error line says what happened
            self.bar.close()


class _Hints(logging.Handler):
    """Collects the import summary's warnings (``dorfkarte.sources`` logs them)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def __enter__(self) -> _Hints:
        logging.getLogger("dorfkarte.sources").addHandler(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        logging.getLogger("dorfkarte.sources").removeHandler(self)


def _summary(path: Path, hints: list[str] | None = None) -> None:
    from dorfkarte.snapshot import read_snapshot

    snap = read_snapshot(path)
    print(f"Schnappschuss geschrieben: {path}")
    for name, info in snap.info.items():
        print(f"  {name:<16} {info.count:>8}")
    for line in dict.fromkeys(hints or []):  # incomplete ways, missing networks, data edge
        print(f"Hinweis: {line}")


def run_import(args: argparse.Namespace, ctx) -> int:
    from dorfkarte.imports import run_import

    bar = _Bar("import-osm")
    ok = False
    with _Hints() as hints:
        try:  # same path as the app: backup kept for 'dorfkarte imports --undo osm'
            path = Path(run_import("osm", args.file, ctx.region, ctx.data_dir,
                                   progress=bar).result)
            ok = True
        finally:
            bar.close(ok)
    _summary(path, hints.lines)
    return 0


def run_fetch(args: argparse.Namespace, ctx) -> int:
    from dorfkarte.imports import run_import

    bar = _Bar("fetch")
    ok = False
    with _Hints() as hints:
        try:
            path = Path(run_import(
                "fetch", None, ctx.region, ctx.data_dir, overpass_url=args.overpass_url,
                timeout_s=args.timeout, retries=args.retries, backoff_s=max(0.0, args.backoff),
                use_cache=not args.no_cache, progress=bar,
            ).result)
            ok = True
        finally:
            bar.close(ok)
    _summary(path, hints.lines)
    return 0
