"""One pure function per question a page or command asks of a coverage result.

The front-ends (Streamlit panels, CLI commands, the demo) choose, ask here and render; every
figure they show comes from one of these functions, so two pages cannot give two answers to
one question (e.g. "which Ortsteil is served worst?"). Results are machine-named
(``district``, ``gap_class``, ...); labels and number formats are the front-end's
(:mod:`dorfkarte.i18n`, :mod:`dorfkarte.fmt`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from dorfkarte.coverage import CoverageResult
from dorfkarte.enums import GapClass, Mode
from dorfkarte.region import MODES, Region

#: Worst first: a gap, then tight, then ok; "no data" is not a gap and comes last.
GAP_RANK: dict[str, int] = {GapClass.GAP: 0, GapClass.TIGHT: 1, GapClass.OK: 2,
                            GapClass.NO_DATA: 3}


def pair_rows(result: CoverageResult, category: str, mode: str) -> pd.DataFrame:
    """The indicator rows of one category x mode (a copy), in the result's unit order."""
    ind = result.indicators
    return ind[(ind["category"] == category) & (ind["mode"] == mode)].copy()


def ranking(result: CoverageResult, category: str, mode: str) -> pd.DataFrame:
    """Every unit for one category and mode, worst-served first; adds ``rank`` and
    ``residents_outside``.

    Order: gap class (Lücke, knapp, ok, keine Daten), share within the threshold
    ascending, more residents beyond the threshold first, then the weaker nearest service
    (stop service weight, where there is one: the weakest link when all are in reach),
    the longer median trip, and the name (stable for ties).
    """
    rows = pair_rows(result, category, mode)
    rows["residents_outside"] = (rows["population"] - rows["residents_within"]).clip(lower=0)
    weight = (rows["nearest_weight"].astype(float) if "nearest_weight" in rows
              else pd.Series(np.nan, index=rows.index))
    rows["_g"] = rows["gap_class"].map(GAP_RANK).fillna(9)
    rows["_s"] = rows["share_within"].astype(float).fillna(np.inf)
    rows["_o"] = -rows["residents_outside"].astype(float).fillna(0)
    rows["_w"] = weight.fillna(np.inf)
    rows["_m"] = -rows["median"].astype(float).fillna(-np.inf)
    rows = rows.sort_values(["_g", "_s", "_o", "_w", "_m", "district"], kind="stable")
    rows.insert(0, "rank", range(1, len(rows) + 1))
    return rows.drop(columns=["_g", "_s", "_o", "_w", "_m"]).reset_index(drop=True)


def worst_unit(result: CoverageResult | None, category: str, mode: str) -> str | None:
    """The worst-served unit of a view: the first of :func:`ranking` that has data.

    None without a result or when the category has no data at all ("keine Daten" is not
    a gap, so no unit is "worst").
    """
    if result is None or (category, mode) not in result.times:
        return None
    rank = ranking(result, category, mode)
    rank = rank[rank["gap_class"] != GapClass.NO_DATA]
    return None if rank.empty else str(rank["district"].iloc[0])


@dataclass(frozen=True)
class HeadlineFigures:
    """The figures above the map for one category x mode."""

    n_units: int
    n_gap: int
    n_tight: int
    n_no_data: int
    residents_outside: float
    n_services: int
    threshold: float | None
    unit: str  # "min" or "m"
    worst: str | None
    #: units with data whose residents are unknown: their residents beyond the threshold
    #: are not in ``residents_outside`` (NaN when that is every unit: unknown, not 0)
    n_unknown_residents: int = 0
    #: units shown as "unbekannt – nur lokale Angebote erfasst" (OSM not searched)
    n_local_only: int = 0
    #: the view's flags ("enthält Beispieldaten", "nur lokale Angebote, OSM fehlt")
    flags: tuple[str, ...] = ()

    @property
    def all_no_data(self) -> bool:
        return self.n_units > 0 and self.n_no_data == self.n_units


def headline_figures(result: CoverageResult, category: str, mode: str,
                     lang: str = "de") -> HeadlineFigures:
    """Units with a gap / tight / no data, residents beyond the threshold, services, the
    threshold and the worst-served unit.

    Unknown is not zero: units whose residents are unknown are counted apart, and with no
    known figure at all ``residents_outside`` is NaN ("unbekannt"), not 0.
    """
    from dorfkarte import provenance

    rank = ranking(result, category, mode)
    dests = result.destinations.get(category)
    thr = result.thresholds.get((category, mode))
    with_data = rank[~rank["gap_class"].isin([GapClass.NO_DATA, GapClass.LOCAL_ONLY])]
    outside = pd.to_numeric(with_data["residents_outside"], errors="coerce")
    unknown = int(outside.isna().sum())
    known_sum = float(outside.sum(skipna=True)) if outside.notna().any() else math.nan
    return HeadlineFigures(
        n_unknown_residents=unknown,
        n_local_only=int((rank["gap_class"] == GapClass.LOCAL_ONLY).sum()),
        flags=tuple(provenance.flags(result, None, category, lang)),
        n_units=len(rank),
        n_gap=int((rank["gap_class"] == GapClass.GAP).sum()),
        n_tight=int((rank["gap_class"] == GapClass.TIGHT).sum()),
        n_no_data=int((rank["gap_class"] == GapClass.NO_DATA).sum()),
        residents_outside=known_sum,
        n_services=0 if dests is None else len(dests),
        threshold=float(thr) if thr is not None else None,
        unit="m" if mode == Mode.TRANSIT else "min",
        # the same answer as worst_unit (first of the ranking with data), one sort only
        worst=None if with_data.empty else str(with_data["district"].iloc[0]),
    )


def gap_counts(result: CoverageResult, mode: str) -> pd.Series:
    """Number of units with a gap per category for ``mode`` (categories with data only)."""
    ind = result.indicators
    sub = ind[(ind["mode"] == mode) & (ind["gap_class"] != GapClass.NO_DATA)]
    return (sub["gap_class"] == GapClass.GAP).groupby(sub["category"], sort=False).sum()


def gap_matrix(result: CoverageResult, region: Region, mode: str) -> pd.DataFrame:
    """Units x categories for one mode: ``district, municipality, population, gaps, tight,
    data_edge`` and one column per category id holding its gap class; most gaps first.

    ``data_edge``: the unit lies at the data's edge (:attr:`CoverageResult.data_edge_units`),
    so its gaps may come from the extract's cut; False where the result does not say.
    """
    ind = result.indicators
    rows = ind[ind["mode"] == mode]
    cats = [c for c in region.categories if c in set(rows["category"])]
    piv = rows.pivot_table(index="district", columns="category", values="gap_class",
                           aggfunc="first").reindex(columns=cats)
    units = rows.drop_duplicates("district").set_index("district")
    out = pd.DataFrame(index=piv.index)
    out["municipality"] = units["municipality"].reindex(piv.index)
    out["population"] = units["population"].reindex(piv.index).astype(float)
    out["gaps"] = (piv == GapClass.GAP).sum(axis=1).astype(int)
    out["tight"] = (piv == GapClass.TIGHT).sum(axis=1).astype(int)
    out["data_edge"] = (units["data_edge"].reindex(piv.index).fillna(False).astype(bool)
                        if "data_edge" in units else False)
    for c in cats:
        out[c] = piv[c]
    out = out.sort_values(["gaps", "tight", "population"], ascending=[False, False, False])
    out.index.name = "district"
    return out.reset_index()


def categories_with_data(result: CoverageResult, mode: str | None = None) -> list[str]:
    """Categories (result order) with at least one service point in the data, optionally
    only those analysed for ``mode``; the others are "keine Daten", not gaps."""
    ind = result.indicators
    sub = ind[ind["gap_class"] != GapClass.NO_DATA]
    if mode is not None:
        sub = sub[sub["mode"] == mode]
    has = set(sub["category"])
    return [c for c in result.categories if c in has]


@dataclass(frozen=True)
class UnitProfile:
    """One unit for one mode: a row per category (region order) and what is missing."""

    name: str
    mode: str
    #: indicator rows of the chosen mode, region category order
    rows: pd.DataFrame
    #: categories that are a gap or tight in the chosen mode, each with its rows in every
    #: analysed mode (walk, bike, drive, transit order)
    missing: list[tuple[str, pd.DataFrame]]
    #: the unit lies at the data's edge: its gaps may come from the extract's cut
    data_edge: bool = False


def unit_profile(result: CoverageResult, region: Region, name: str, mode: str) -> UnitProfile:
    """The profile of one unit: travel times per category, and the gaps across modes."""
    ind = result.indicators
    mine = ind[ind["district"].astype(str) == name]
    order = {c: i for i, c in enumerate(region.categories)}
    mode_order = {m: i for i, m in enumerate(MODES)}
    rows = mine[mine["mode"] == mode]
    rows = rows.assign(_o=rows["category"].map(order)).sort_values("_o", kind="stable")
    missing = []
    for cid, cur in zip(rows["category"], rows["gap_class"], strict=True):
        if cur not in (GapClass.GAP, GapClass.TIGHT):
            continue
        all_modes = mine[mine["category"] == cid]
        all_modes = all_modes.assign(_m=all_modes["mode"].map(mode_order)).sort_values("_m")
        missing.append((str(cid), all_modes.drop(columns="_m").reset_index(drop=True)))
    return UnitProfile(name=name, mode=mode,
                       rows=rows.drop(columns="_o").reset_index(drop=True), missing=missing,
                       data_edge=bool("data_edge" in mine and mine["data_edge"].any()))


def nearest_providers(result: CoverageResult | None, region: Region,
                      districts: gpd.GeoDataFrame | None, name: str, mode: str
                      ) -> pd.DataFrame:
    """Per category (region order): the service most of the unit's residents reach first in
    ``mode`` (``nearest_name``, ``source``) and its straight-line distance ``km`` from the
    same origins the times are computed for (:func:`dorfkarte.coverage.unit_distances`), so
    the km beside a time is measured between the same places. ``first_reached`` repeats the
    name (kept for callers). Empty names / NaN km where unknown; ``districts`` is unused
    (the result knows its units)."""
    from dorfkarte.coverage import unit_distances

    records = []
    for cid in region.categories:
        near_name, near_km, near_src = "", math.nan, ""
        if result is not None and (cid, mode) in result.times:
            u = unit_distances(result, cid, mode)
            hit = u[u["district"] == name]
            if len(hit):
                near_name = str(hit["nearest_name"].iloc[0])
                near_km = float(hit["km"].iloc[0])
                near_src = str(hit["nearest_source"].iloc[0])
        records.append({"category": cid, "nearest_name": near_name, "km": near_km,
                        "source": near_src, "first_reached": near_name})
    return pd.DataFrame(records, columns=["category", "nearest_name", "km", "source",
                                          "first_reached"])


def pair_rows_unit(result: CoverageResult, name: str, mode: str) -> pd.DataFrame:
    """The indicator rows of one unit for one mode (every category)."""
    ind = result.indicators
    return ind[(ind["district"].astype(str) == name) & (ind["mode"] == mode)].copy()
