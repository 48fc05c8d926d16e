"""Where things live: embedded data, the writable data folder and the default region.

The embedded region data ships inside the package (``dorfkarte/data``, read with
``importlib.resources``), so ``pip install .`` works from any folder. A clone has a ``data``
symlink at its root pointing there. Snapshots, listings and scenarios are written to the data
folder: ``--data-dir`` / ``$DORFKARTE_DATA``, else ``./data`` when the current folder holds a
dorfkarte data folder (a clone), else the user's data folder (``$XDG_DATA_HOME/dorfkarte``).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

DATA_ENV = "DORFKARTE_DATA"
REGION_ENV = "DORFKARTE_REGION"
SNAPSHOT_DIRNAME = "snapshots"
DEFAULT_REGION_FILE = "hoher-flaeming.toml"


def embedded_data_dir() -> Path:
    """The package's own ``data/`` folder (embedded default data; read-only when installed)."""
    return Path(str(resources.files("dorfkarte") / "data"))


def user_data_dir() -> Path:
    """``$XDG_DATA_HOME/dorfkarte`` (default ``~/.local/share/dorfkarte``) for installed use."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dorfkarte"


def default_data_dir() -> Path:
    """``$DORFKARTE_DATA``, else ``./data`` if it is a dorfkarte data folder, else the user's."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    cwd_data = Path.cwd() / "data"
    if (cwd_data / "regions").is_dir():
        return cwd_data
    return user_data_dir()


def default_region_path() -> Path:
    """``$DORFKARTE_REGION``, else the shipped Hoher-Fläming region file."""
    env = os.environ.get(REGION_ENV)
    if env:
        return Path(env)
    return embedded_data_dir() / "regions" / DEFAULT_REGION_FILE
