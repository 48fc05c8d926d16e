"""What every page panel gets: the open workspace and the current, typed selection."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from dorfkarte.coverage import CoverageResult
from dorfkarte.errors import DorfkarteError
from dorfkarte.listings.schedule import When
from dorfkarte.region import Region
from dorfkarte.snapshot import Snapshot
from dorfkarte.workspace import Workspace


@dataclass
class ViewChoice:
    """What the sidebar chose besides category and mode (typed, not a dict).

    A new selector (population group, timetable day/time, ...) adds one field here with a
    default, so panels and tests that do not know it keep working.
    """

    indicator: str = "share_within"
    basemap: str = "osm"
    point_categories: tuple[str, ...] = ()
    #: slider values ``{(category, mode): value}``
    thresholds: dict[tuple[str, str], float] = field(default_factory=dict)
    #: which listings count (``dorfkarte.listings.When``)
    listings_when: When = None
    #: a unit to outline in exports (default: the selected one)
    highlight: str | None = None


@dataclass
class UIContext:
    """Passed to each ``render_*`` panel function by ``dorfkarte.ui.page``.

    ``result`` is the shown coverage result (slider thresholds applied), or None while it
    cannot be computed; ``base_result`` the analysis before the sliders. ``workspace`` is
    the open data (built from ``region``/``data_dir``/``snapshot`` when not given).
    """

    region: Region
    data_dir: Path
    snapshot: Snapshot
    lang: str = "de"  # "de" or "en"
    category: str | None = None
    mode: str = "walk"
    result: CoverageResult | None = None
    demo: bool = False
    view: ViewChoice = field(default_factory=ViewChoice)
    base_result: CoverageResult | None = None
    workspace: Workspace | None = None
    #: set by the scenario panel: the what-if result, for the map
    scenario_result: CoverageResult | None = None

    def __post_init__(self) -> None:
        if self.workspace is None:
            self.workspace = Workspace(self.region, self.data_dir, snapshot=self.snapshot)

    @property
    def ws(self) -> Workspace:
        assert self.workspace is not None
        return self.workspace

    @property
    def extra_points(self) -> gpd.GeoDataFrame | None:
        """Local listings counted in this view (None: none, or an unreadable store)."""
        try:
            return self.ws.listing_points(self.view.listings_when)
        except DorfkarteError:
            return None
