"""Where things live: data folder and default region, overridable by env and CLI flags."""

from __future__ import annotations

import os
from pathlib import Path

#: Repository root when running from a clone (src layout: src/dorfkarte/settings.py).
REPO_ROOT = Path(__file__).resolve().parents[2]

DATA_ENV = "DORFKARTE_DATA"
REGION_ENV = "DORFKARTE_REGION"
SNAPSHOT_DIRNAME = "snapshots"


def embedded_data_dir() -> Path:
    """The shipped ``data/`` folder of the clone (embedded default data)."""
    return REPO_ROOT / "data"


def default_data_dir() -> Path:
    """``$DORFKARTE_DATA``, else ``./data`` if it exists, else the clone's ``data/``."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    cwd_data = Path.cwd() / "data"
    if (cwd_data / "regions").is_dir():
        return cwd_data
    return embedded_data_dir()


def default_region_path() -> Path:
    """``$DORFKARTE_REGION``, else the shipped Hoher-Fläming region file."""
    env = os.environ.get(REGION_ENV)
    if env:
        return Path(env)
    return embedded_data_dir() / "regions" / "hoher-flaeming.toml"
