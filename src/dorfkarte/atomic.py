"""The one way the library writes a file: temp file beside the target, then one rename.

A failure (bad data, full disk, a killed process) never leaves a half-written or damaged
target: the old file stays byte-identical and the temp file is removed. Every writer of
the library (snapshot, listing store, scenario store, exports, reports, caches, CLI
outputs) goes through :func:`atomic_path` or its two shortcuts.

The temp file gets the permissions a plain ``open(path, "w")`` would give
(``0o666 & ~umask``) before the rename; :func:`tempfile.mkstemp` alone would leave every
written file private (0600), which breaks shared data folders and downloads.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows.

    ``os.umask`` can only be read by setting it, which is racy in a threaded server
    (Streamlit): Linux shows it in ``/proc/self/status`` instead; elsewhere the
    set-and-restore fallback is used.
    """
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every OS / filesystem allows it
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None, *, create: bool = True,
                fsync: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` only on success.

    Parameters
    ----------
    path
        The target; its folder is created if missing.
    suffix
        End of the temp file's name; default ``.tmp`` plus the target's extension (GDAL
        and openpyxl pick the format by it).
    create
        ``True``: the temp file exists (empty) when yielded; ``False``: only its name is
        reserved, for writers that insist on creating the file (GDAL/GeoPackage).
    fsync
        Flush the file (and the folder after the rename) to disk: for stores whose loss
        would cost user work (snapshot, scenarios).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = ".tmp" + path.suffix if suffix is None else suffix
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        if not create:
            tmp.unlink()
        yield tmp
        if fsync:
            with tmp.open("rb+") as fh:
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
        if fsync:
            _fsync_dir(path.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes_atomic(path: str | Path, data: bytes, *, fsync: bool = False) -> Path:
    """Write bytes next to the target, then rename: the old file stays intact on failure."""
    with atomic_path(path, fsync=fsync) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(path: str | Path, text: str, *, encoding: str = "utf-8",
                      fsync: bool = False) -> Path:
    """Write text (UTF-8 unless told) next to the target, then rename it over the target."""
    with atomic_path(path, fsync=fsync) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


__all__ = ["atomic_path", "current_umask", "write_bytes_atomic", "write_text_atomic"]
