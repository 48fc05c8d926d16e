"""What-if scenarios and "where best" suggestions on top of a coverage result.

Split by reason to change:

- :mod:`~dorfkarte.scenario.changes`: :class:`Change`, :class:`Scenario`,
  :class:`ScenarioStore` (``<data_dir>/scenarios.json``), :func:`scenario_geojson`;
- :mod:`~dorfkarte.scenario.whatif`: :class:`WhatIf` (incremental add/remove/undo on the
  public shortest-path API of :mod:`dorfkarte.coverage`), :func:`compare`,
  :func:`origin_changes`;
- :mod:`~dorfkarte.scenario.suggest`: :func:`candidate_sites`, :func:`suggest` (MCLP,
  p-median via :mod:`dorfkarte.siting`), :func:`mobile_stops`.

Everything public is re-exported here: ``from dorfkarte.scenario import WhatIf``.
"""

from __future__ import annotations

from dorfkarte.scenario.changes import (
    ACTIONS,
    SCENARIO_FILE,
    Change,
    Scenario,
    ScenarioError,
    ScenarioStore,
    dest_ref,
    scenario_geojson,
)
from dorfkarte.scenario.suggest import (
    CANDIDATE_KINDS,
    METHODS,
    Suggestion,
    candidate_sites,
    candidate_times,
    mobile_stops,
    suggest,
)
from dorfkarte.scenario.whatif import (
    DIFF_COLUMNS,
    DYNAMIC_COLUMNS,
    SCENARIO_SOURCE,
    ChangeEffect,
    WhatIf,
    compare,
    origin_changes,
)

__all__ = [
    "ACTIONS", "CANDIDATE_KINDS", "DIFF_COLUMNS", "DYNAMIC_COLUMNS", "METHODS", "SCENARIO_FILE",
    "SCENARIO_SOURCE", "Change", "ChangeEffect", "Scenario", "ScenarioError", "ScenarioStore",
    "Suggestion", "WhatIf", "candidate_sites", "candidate_times", "compare", "dest_ref",
    "mobile_stops", "origin_changes", "scenario_geojson", "suggest",
]
