"""Edited copies of the shipped region file for tests (the shipped file is never touched)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from dorfkarte.settings import default_region_path

REPO = Path(__file__).resolve().parents[1]
#: The shipped region file itself (not $DORFKARTE_REGION).
SHIPPED_REGION = REPO / "data" / "regions" / "hoher-flaeming.toml"

Edit = Callable[[str], str]


def region_copy(tmp_path: Path, edit: Edit = lambda s: s, name: str = "region.toml") -> Path:
    """The shipped region file with absolute data paths, edited by ``edit``."""
    text = SHIPPED_REGION.read_text(encoding="utf-8")
    # every "../file" (centres, stops, outlines, census grid, route lines) made absolute
    text = re.sub(r'"\.\./([^"]+)"', lambda m: json.dumps(str(REPO / "data" / m.group(1))),
                  text)
    path = tmp_path / name
    path.write_text(edit(text), encoding="utf-8")
    return path


def region_with_copies(tmp_path: Path, edit: Edit) -> Path:
    """The default region file, edited, as ``r/regions/test.toml`` beside copies of the CSV
    files it refers to (relative paths keep working)."""
    shipped = default_region_path()
    src = shipped.parent.parent
    work = tmp_path / "r"
    (work / "regions").mkdir(parents=True, exist_ok=True)
    for f in src.glob("*.csv"):
        shutil.copy(f, work / f.name)
    out = work / "regions" / "test.toml"
    out.write_text(edit(shipped.read_text(encoding="utf-8")), encoding="utf-8")
    return out
