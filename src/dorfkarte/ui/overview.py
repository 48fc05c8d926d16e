"""Overview: all 29 units ranked by coverage, worst gaps first; downloadable as CSV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dorfkarte.i18n import category_label, gap_label, mode_label, t
from dorfkarte.region import ALL_MODES
from dorfkarte.ui.context import UIContext

GAP_RANK = {"Lücke": 0, "knapp": 1, "ok": 2, "keine Daten": 3}


def ranking(result: object, category: str, mode: str) -> pd.DataFrame:
    """Machine-named ranking of every unit for one category and mode, worst first.

    Order: gap class (Lücke, knapp, ok, keine Daten), then share within ascending, then more
    residents beyond the threshold first.
    """
    ind = result.indicators  # type: ignore[attr-defined]
    rows = ind[(ind["category"] == category) & (ind["mode"] == mode)].copy()
    rows["residents_outside"] = (rows["population"] - rows["residents_within"]).clip(lower=0)
    rows["_g"] = rows["gap_class"].map(GAP_RANK).fillna(9)
    rows["_s"] = rows["share_within"].fillna(np.inf)
    rows["_o"] = -rows["residents_outside"].fillna(0)
    rows = rows.sort_values(["_g", "_s", "_o", "district"], kind="stable")
    rows.insert(0, "rank", range(1, len(rows) + 1))
    return rows.drop(columns=["_g", "_s", "_o"]).reset_index(drop=True)


def ranking_display(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The ranking with labelled columns (values stay numeric so sorting works)."""
    kind = df["kind"].map(lambda k: t("kind_kernort", lang) if k == "kernort"
                          else t("kind_ortsteil", lang))
    return pd.DataFrame({
        t("col_rank", lang): df["rank"],
        t("col_district", lang): df["district"],
        t("col_municipality", lang): df["municipality"],
        t("col_kind", lang): kind,
        t("col_population", lang): df["population"].round(0).astype("Int64"),
        t("col_share", lang): (100 * df["share_within"]).round(1),
        t("col_residents_outside", lang): df["residents_outside"].round(0).astype("Int64"),
        t("col_median", lang): df["median"].round(1),
        t("col_p90", lang): df["p90"].round(1),
        t("col_threshold", lang): df["threshold"],
        t("col_unit", lang): df["unit"],
        t("col_class", lang): df["gap_class"].map(lambda g: gap_label(str(g), lang)),
        t("col_nearest", lang): df["nearest_name"],
        t("col_nearest_source", lang): df["nearest_source"],
        t("col_method", lang): df["method"].map(
            lambda m: t(f"method_{m}", lang) if m in ("network", "straight_line") else m),
    })


def gap_matrix(result: object, region: object, mode: str, lang: str) -> pd.DataFrame:
    """Units x categories: the gap class per cell, plus counts; most gaps first."""
    ind = result.indicators  # type: ignore[attr-defined]
    rows = ind[ind["mode"] == mode]
    cats = [c for c in region.categories if c in set(rows["category"])]  # type: ignore[attr-defined]
    piv = rows.pivot_table(index="district", columns="category", values="gap_class",
                           aggfunc="first")
    piv = piv.reindex(columns=cats)
    units = rows.drop_duplicates("district").set_index("district")
    out = pd.DataFrame(index=piv.index)
    out[t("col_municipality", lang)] = units["municipality"].reindex(piv.index)
    out[t("col_population", lang)] = units["population"].reindex(piv.index).round(0).astype(
        "Int64")
    out[t("col_gaps", lang)] = (piv == "Lücke").sum(axis=1)
    out[t("col_knapp", lang)] = (piv == "knapp").sum(axis=1)
    for c in cats:
        out[category_label(region.categories[c], lang)] = piv[c].map(  # type: ignore[attr-defined]
            lambda g: gap_label(str(g), lang) if isinstance(g, str) else "")
    out = out.sort_values([t("col_gaps", lang), t("col_knapp", lang), t("col_population", lang)],
                          ascending=[False, False, False])
    out.index.name = t("col_district", lang)
    return out.reset_index()


def to_csv(df: pd.DataFrame, lang: str) -> bytes:
    """CSV that opens correctly in the spreadsheet programs of the language's users.

    German Excel expects ``;`` and a decimal comma; a BOM makes it read UTF-8 umlauts.
    """
    from dorfkarte.sheets import csv_bytes

    return csv_bytes(df, lang)


def _style_gap(value: object) -> str:
    colours = {"Lücke": "#f4a5a5", "gap": "#f4a5a5", "knapp": "#fde2b0", "tight": "#fde2b0",
               "ok": "#c9e8c9"}
    c = colours.get(str(value))
    return f"background-color: {c}" if c else ""


def render_overview(ctx: UIContext) -> None:
    lang, result, region = ctx.lang, ctx.result, ctx.region
    if result is None or ctx.category is None:
        st.info(t("legend_no_result", lang))
        return
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
            t("col_population", lang): st.column_config.NumberColumn(format="%d"),
        },
    )
    st.download_button(
        t("download_csv", lang), to_csv(shown, lang),
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
        t("download_csv", lang), to_csv(mat, lang),
        file_name=f"luecken_{ctx.mode}.csv", mime="text/csv", key="dk_dl_matrix",
    )
