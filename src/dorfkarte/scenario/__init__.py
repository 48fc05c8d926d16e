"""What-if scenarios and "where best" suggestions on top of a coverage result.

Split by reason to change:

- :mod:`~dorfkarte.scenario.changes`: :class:`Change`, :class:`Scenario`,
  :class:`ScenarioStore` (``<data_dir>/scenarios.json``), :func:`scenario_geojson`;
- :mod:`~dorfkarte.scenario.whatif`: :class:`WhatIf` (incremental add/remove/undo on the
  public shortest-path API of :mod:`dorfkarte.coverage`), :func:`compare`,
  :func:`origin_changes`;
- :mod:`~dorfkarte.scenario.suggest`: :func:`candidate_sites`, :func:`suggest` (MCLP,
  p-median via :mod:`dorfkarte.siting`), :func:`mobile_stops` (drive between stops:
  :func:`stop_travel`);
- :mod:`~dorfkarte.scenario.summary`: figures per mode (:func:`effect_by_mode`,
  :func:`effect_text`, never summed over modes) and :func:`unit_changes` for the scenario map.

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
    TRAVEL_METHODS,
    Suggestion,
    candidate_sites,
    candidate_times,
    mobile_stops,
    stop_travel,
    suggest,
)
from dorfkarte.scenario.summary import (
    UNIT_CHANGES,
    ModeEffect,
    effect_by_mode,
    effect_text,
    mode_effect,
    route_travel_note,
    unit_changes,
)
from dorfkarte.scenario.whatif import (
    DIFF_COLUMNS,
    DYNAMIC_COLUMNS,
    SCENARIO_SOURCE,
    TOTAL_ROW,
    ChangeEffect,
    WhatIf,
    compare,
    origin_changes,
)

__all__ = [
    "ACTIONS", "CANDIDATE_KINDS", "DIFF_COLUMNS", "DYNAMIC_COLUMNS", "METHODS", "SCENARIO_FILE",
    "SCENARIO_SOURCE", "TOTAL_ROW", "TRAVEL_METHODS", "UNIT_CHANGES", "Change", "ChangeEffect",
    "ModeEffect", "Scenario", "ScenarioError", "ScenarioStore", "Suggestion", "WhatIf",
    "candidate_sites", "candidate_times", "compare", "dest_ref", "effect_by_mode",
    "effect_text", "mode_effect", "mobile_stops", "origin_changes", "route_travel_note",
    "scenario_geojson", "stop_travel", "suggest", "unit_changes",
]
