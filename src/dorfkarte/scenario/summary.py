"""What a scenario changed, as figures a page can show without adding up the wrong things.

Residents newly covered on foot and by bike are largely the same people: a sum over modes
counts them twice. :func:`effect_by_mode` / :func:`effect_text` keep one figure per mode,
:func:`mode_effect` picks the chosen mode's. :func:`unit_changes` classes each unit of a
:func:`~dorfkarte.scenario.whatif.compare` table for the scenario map (gain, loss, both,
unchanged, unknown), so map, legend and caption say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dorfkarte import fmt
from dorfkarte.i18n import mode_label, t
from dorfkarte.scenario.whatif import TOTAL_ROW, ChangeEffect

#: Classes of :func:`unit_changes` (machine values; shown via i18n ``scn_unit_<class>``).
UNIT_CHANGES: tuple[str, ...] = ("gain", "loss", "mixed", "unchanged", "unknown")


@dataclass(frozen=True)
class ModeEffect:
    """Residents (origin weights) crossing the threshold of one mode through one change."""

    mode: str
    gained: float
    lost: float


def effect_by_mode(effect: ChangeEffect) -> list[ModeEffect]:
    """One entry per mode the change's category was computed for, in the result's order."""
    modes = list(dict.fromkeys([*effect.gained, *effect.lost]))
    return [ModeEffect(m, float(effect.gained.get(m, 0.0)), float(effect.lost.get(m, 0.0)))
            for m in modes]


def mode_effect(effect: ChangeEffect, mode: str) -> ModeEffect | None:
    """The change's figures for ``mode``; None when the category has no result for it
    (unknown, not zero)."""
    if mode not in effect.gained and mode not in effect.lost:
        return None
    return ModeEffect(mode, float(effect.gained.get(mode, 0.0)),
                      float(effect.lost.get(mode, 0.0)))


def effect_text(effect: ChangeEffect, lang: str = "de") -> str:
    """``"Fuß +120 / −0 · Rad +300 / −0"``: gained / lost per mode, never summed."""
    return " · ".join(
        t("scn_effect_mode_item", lang, mode=mode_label(e.mode, lang),
          gained=fmt.integer(e.gained, lang), lost=fmt.integer(e.lost, lang))
        for e in effect_by_mode(effect))


def unit_changes(diff: pd.DataFrame) -> pd.DataFrame:
    """Per unit of a ``compare`` table (one mode): ``change`` in :data:`UNIT_CHANGES`.

    ``gain``: residents newly covered and none losing; ``loss``: the reverse; ``mixed``:
    both; ``unchanged``: neither; ``unknown``: the unit has no share before or after (no
    origins / no data), so "unchanged" would claim more than is known. The total row is
    left out. Columns: district, mode, newly_covered, losing_coverage, change.
    """
    cols = ["district", "mode", "newly_covered", "losing_coverage", "change"]
    if diff is None or not len(diff):
        return pd.DataFrame(columns=cols)
    modes = diff["mode"].unique()
    if len(modes) > 1:
        raise ValueError(f"unit_changes: one mode at a time, not {list(modes)}")
    d = diff[diff["district"] != TOTAL_ROW]
    gain = d["newly_covered"].to_numpy(dtype=float) > 0
    loss = d["losing_coverage"].to_numpy(dtype=float) > 0
    unknown = (d["share_before"].isna() & d["share_after"].isna()).to_numpy()
    change = np.select([gain & loss, gain, loss, unknown],
                       ["mixed", "gain", "loss", "unknown"], default="unchanged")
    return pd.DataFrame({"district": d["district"].to_numpy(), "mode": d["mode"].to_numpy(),
                         "newly_covered": d["newly_covered"].to_numpy(dtype=float),
                         "losing_coverage": d["losing_coverage"].to_numpy(dtype=float),
                         "change": change}, columns=cols)


def route_travel_note(route: pd.DataFrame, lang: str = "de") -> str:
    """How a :func:`~dorfkarte.scenario.suggest.mobile_stops` route timed its drives, for
    the caption beside it: road network, straight line x detour at the car speed, or both
    (``attrs["travel"]`` and the rows' ``travel_method``)."""
    travel = route.attrs.get("travel", "network")
    if travel == "none":
        return t("scn_route_travel_none", lang)
    detour = fmt.number(route.attrs.get("detour_factor"), 1, lang)
    kmh = fmt.number(route.attrs.get("drive_kmh"), 0, lang)
    if travel == "straight_line":
        return t("scn_route_travel_line", lang, detour=detour, kmh=kmh)
    legs = route["travel_method"].iloc[1:] if "travel_method" in route else pd.Series([])
    line = int((legs == "straight_line").sum())
    if line:
        return t("scn_route_travel_mixed", lang, n=line, detour=detour, kmh=kmh)
    return t("scn_route_travel_network", lang)
