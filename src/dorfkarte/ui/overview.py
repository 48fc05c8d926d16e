"""Overview: all 29 units ranked by coverage, worst gaps first; downloadable as CSV."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dorfkarte import fmt
from dorfkarte.coverage import CoverageResult
from dorfkarte.enums import GapClass
from dorfkarte.i18n import category_label, gap_label, mode_label, source_label, t
from dorfkarte.region import ALL_MODES, Region
from dorfkarte.sheets import YES_NO
from dorfkarte.ui.context import UIContext
from dorfkarte.ui.sidebar import choose_thresholds
from dorfkarte.views import gap_matrix as matrix_rows
from dorfkarte.views import ranking

__all__ = ["gap_matrix", "ranking", "ranking_display", "render_overview", "to_csv"]


def _yes_no(flags: object, lang: str, n: int) -> list[str]:
    """ja/nein (yes/no) per row of a bool column; "nein" where the column is missing."""
    yes, no = YES_NO.get(lang, YES_NO["de"])
    if flags is None:
        return [no] * n
    return [yes if f is True or f == 1 else no for f in flags]  # type: ignore[attr-defined]


def ranking_display(df: pd.DataFrame, lang: str, *, for_csv: bool = False) -> pd.DataFrame:
    """The ranking (:func:`dorfkarte.views.ranking`) with labelled columns.

    On screen, numbers are text in the language's format (:mod:`dorfkarte.fmt`: 1.234,
    12 min, "nicht erreichbar"); the share stays numeric for its progress bar. For CSV
    (``for_csv``) every number stays numeric, so a spreadsheet can compute with it.
    """
    kind = df["kind"].map(lambda k: t("kind_kernort", lang) if k == "kernort"
                          else t("kind_ortsteil", lang))
    if for_csv:
        pop = df["population"].round(0).astype("Int64")
        outside = df["residents_outside"].round(0).astype("Int64")
        median, p90, thr = df["median"].round(1), df["p90"].round(1), df["threshold"]
    else:
        # unknown is not zero (and not a dash that reads as "none"): "unbekannt"
        def people(v: object) -> str:
            return t("unknown", lang) if v is None or v != v else fmt.integer(v, lang)

        pop = df["population"].map(people)
        outside = df["residents_outside"].map(people)
        median = [fmt.value(v, u, lang) for v, u in zip(df["median"], df["unit"], strict=True)]
        p90 = [fmt.value(v, u, lang) for v, u in zip(df["p90"], df["unit"], strict=True)]
        thr = [fmt.threshold(v, u, lang) for v, u in zip(df["threshold"], df["unit"],
                                                         strict=True)]
    return pd.DataFrame({
        t("col_rank", lang): df["rank"],
        t("col_district", lang): df["district"],
        t("col_municipality", lang): df["municipality"],
        t("col_kind", lang): kind,
        t("col_population", lang): pop,
        t("col_share", lang): (100 * df["share_within"]).round(1),
        t("col_residents_outside", lang): outside,
        t("col_median", lang): median,
        t("col_p90", lang): p90,
        t("col_threshold", lang): thr,
        t("col_unit", lang): df["unit"],
        t("col_class", lang): df["gap_class"].map(lambda g: gap_label(str(g), lang)),
        t("col_nearest", lang): df["nearest_name"],
        t("col_nearest_source", lang): [source_label(s, lang) for s in df["nearest_source"]],
        t("col_method", lang): df["method"].map(
            lambda m: t(f"method_{m}", lang) if m in ("network", "straight_line") else m),
        # the extract does not cover the unit's surroundings: its gap may come from the cut
        t("col_data_edge", lang): _yes_no(df.get("data_edge"), lang, len(df)),
    })


def gap_matrix(result: CoverageResult, region: Region, mode: str, lang: str,
               *, for_csv: bool = False) -> pd.DataFrame:
    """:func:`dorfkarte.views.gap_matrix` with labelled columns and gap labels."""
    m = matrix_rows(result, region, mode)
    cats = [c for c in region.categories if c in m.columns]
    out = pd.DataFrame({
        t("col_district", lang): m["district"],
        t("col_municipality", lang): m["municipality"],
        t("col_population", lang): (m["population"].round(0).astype("Int64") if for_csv else
                                    m["population"].map(lambda v: fmt.integer(v, lang))),
        t("col_gaps", lang): m["gaps"],
        t("col_knapp", lang): m["tight"],
        t("col_data_edge", lang): _yes_no(m["data_edge"], lang, len(m)),
    })
    for c in cats:
        out[category_label(region.categories[c], lang)] = m[c].map(
            lambda g: gap_label(str(g), lang) if isinstance(g, str) else "")
    return out


def to_csv(df: pd.DataFrame, lang: str) -> bytes:
    """CSV that opens correctly in the spreadsheet programs of the language's users.

    German Excel expects ``;`` and a decimal comma; a BOM makes it read UTF-8 umlauts.
    """
    from dorfkarte.sheets import csv_bytes

    return csv_bytes(df, lang)


def _style_gap(value: object) -> str:
    colours = {gap_label(GapClass.GAP, lang): "#f4a5a5" for lang in ("de", "en")}
    colours |= {gap_label(GapClass.TIGHT, lang): "#fde2b0" for lang in ("de", "en")}
    colours |= {gap_label(GapClass.OK, lang): "#c9e8c9" for lang in ("de", "en")}
    c = colours.get(str(value))
    return f"background-color: {c}" if c else ""


def render_overview(ctx: UIContext) -> None:
    lang, result, region = ctx.lang, ctx.result, ctx.region
    if result is None or ctx.category is None:
        st.info(t("legend_no_result", lang))
        return
    # the same sliders as above the map (one tab is drawn per run): a change here reruns
    # the page, and the ranking follows
    choose_thresholds(region, ctx.base_result, ctx.category, ctx.mode, lang)
    cat_label = category_label(region.categories[ctx.category], lang)
    df = ranking(result, ctx.category, ctx.mode)
    st.subheader(t("overview_ranking", lang, category=cat_label,
                   mode=mode_label(ctx.mode, lang)))
    st.caption(t("overview_ranking_help", lang, n=len(df)))
    shown = ranking_display(df, lang)
    st.dataframe(
        shown, hide_index=True, width="stretch",
        column_config={
            t("col_share", lang): st.column_config.ProgressColumn(
                t("col_share", lang), min_value=0, max_value=100, format="%.0f %%"),
        },
    )
    st.download_button(
        t("download_csv", lang), to_csv(ranking_display(df, lang, for_csv=True), lang),
        file_name=f"rangliste_{ctx.category}_{ctx.mode}.csv", mime="text/csv",
        key="dk_dl_ranking",
    )
    st.subheader(t("overview_matrix", lang, mode=mode_label(ctx.mode, lang)))
    modes_here = [m for m in ALL_MODES if (result.indicators["mode"] == m).any()]
    if ctx.mode not in modes_here:
        return
    mat = gap_matrix(result, region, ctx.mode, lang)
    cat_cols = [category_label(region.categories[c], lang) for c in region.categories
                if category_label(region.categories[c], lang) in mat.columns]
    st.dataframe(mat.style.map(_style_gap, subset=cat_cols), hide_index=True, width="stretch")
    st.download_button(
        t("download_csv", lang),
        to_csv(gap_matrix(result, region, ctx.mode, lang, for_csv=True), lang),
        file_name=f"luecken_{ctx.mode}.csv", mime="text/csv", key="dk_dl_matrix",
    )
