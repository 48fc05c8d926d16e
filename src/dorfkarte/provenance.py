"""Where a shown figure comes from: example data and listing-only categories.

One place answers "does this view rest on invented (example) entries?" and "is this
category known from local listings only?", so the map, the headline figures, every export
and the demo flag the same things (issue 14: nothing invented reaches a slide unmarked).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from dorfkarte.coverage import CoverageResult
from dorfkarte.i18n import t


def _flagged(frame: Any, category: str | None) -> bool:
    if frame is None or not len(frame) or "example" not in frame:
        return False
    rows = frame
    if category is not None and "category" in frame:
        rows = frame[frame["category"].astype(str) == category]
    if not len(rows):
        return False
    flags = rows["example"].map(lambda v: bool(v) if isinstance(v, bool | int) else
                                str(v).strip().lower() in {"true", "1", "ja", "yes"})
    return bool(flags.any())


def example_categories(result: CoverageResult | None = None, extra_points: Any = None) -> set[str]:
    """Category ids with at least one service point flagged as example data."""
    out: set[str] = set()
    for cid, dest in (getattr(result, "destinations", None) or {}).items():
        if _flagged(dest, None):
            out.add(str(cid))
    if extra_points is not None and len(extra_points) and "category" in extra_points:
        for cid in pd.unique(extra_points["category"].astype(str)):
            if _flagged(extra_points, cid):
                out.add(cid)
    return out


def uses_example(result: CoverageResult | None = None, extra_points: Any = None,
                 categories: Iterable[str] | None = None) -> bool:
    """Whether the shown categories (default: any) contain example data."""
    found = example_categories(result, extra_points)
    if categories is None:
        return bool(found)
    return bool(found & set(categories))


def local_only(result: CoverageResult | None) -> frozenset[str]:
    """Categories known from local listings only (no OSM search), see coverage."""
    return frozenset(getattr(result, "local_only", frozenset()) or frozenset())


def flags(result: CoverageResult | None = None, extra_points: Any = None,
          category: str | None = None, lang: str = "de") -> list[str]:
    """Short warnings for a title or caption: example data, listings only."""
    cats = None if category is None else [category]
    out = []
    if uses_example(result, extra_points, cats):
        out.append(t("flag_example", lang))
    lo = local_only(result)
    if (category is None and lo) or (category is not None and category in lo):
        out.append(t("flag_local_only", lang))
    return out


def with_flags(title: str, result: CoverageResult | None = None, extra_points: Any = None,
               category: str | None = None, lang: str = "de") -> str:
    """``title`` plus its flags in brackets, e.g. "Hausarzt (enthält Beispieldaten)"."""
    f = flags(result, extra_points, category, lang)
    return f"{title} ({'; '.join(f)})" if f else title


__all__ = ["example_categories", "flags", "local_only", "uses_example", "with_flags"]
