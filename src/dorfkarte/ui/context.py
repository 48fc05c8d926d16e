"""What every page panel gets: the loaded region, data and current selections."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dorfkarte.region import Region
from dorfkarte.snapshot import Snapshot


@dataclass
class UIContext:
    """Passed to each ``render_*`` panel function by ``app.py``.

    ``result`` is the current coverage result (``dorfkarte.coverage.CoverageResult``) or
    None while it cannot be computed; ``extra`` carries panel-specific state by name.

    What ``app.py`` (``dorfkarte.ui.page``) puts into ``extra``:

    - ``indicator``: the map's indicator (``dorfkarte.maps.INDICATORS``)
    - ``basemap``: ``"osm"`` / ``"own"`` / ``"none"``
    - ``point_categories``: categories whose service points are switched on
    - ``thresholds``: ``{(category, mode): value}`` from the sliders
    - ``base_result``: the analysis before the slider thresholds (``result`` has them)
    - ``extra_points``: local listings as destinations (GeoDataFrame) or None
    - ``listings_when``: which listings count (``dorfkarte.listings.When``)
    """

    region: Region
    data_dir: Path
    snapshot: Snapshot
    lang: str = "de"  # "de" or "en"
    category: str | None = None
    mode: str = "walk"
    result: Any = None
    demo: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
