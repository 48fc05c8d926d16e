"""Data status: which snapshot, from when, from where; attribution; what is approximate."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

from dorfkarte import assets, fmt, story
from dorfkarte.i18n import osm_attribution, t
from dorfkarte.safe import md_escape
from dorfkarte.snapshot import DISTRICTS
from dorfkarte.ui.context import UIContext


def layer_table(ctx: UIContext) -> pd.DataFrame:
    lang = ctx.lang
    rows = []
    for name, info in ctx.snapshot.info.items():
        # the data's own date (extract / Overpass); the import time apart
        if info.data_date:
            stand = info.data_date[:10]
        else:
            stand = info.fetched_at if info.embedded else t("date_unknown", lang)
        rows.append({
            t("col_layer", lang): name,
            t("col_count", lang): fmt.integer(info.count, lang),
            t("col_date", lang): stand,
            t("col_imported", lang): "" if info.embedded else info.fetched_at,
            t("col_source", lang): info.source + (f" [{t('embedded', lang)}]"
                                                  if info.embedded else ""),
            t("col_licence", lang): info.licence,
            t("col_note", lang): info.note,
        })
    return pd.DataFrame(rows)


def attributions(ctx: UIContext) -> list[str]:
    lines = [osm_attribution(ctx.lang)]
    if ctx.region.transit.attribution:
        lines.append(ctx.region.transit.attribution)
    return lines


def render_osm_hint(ctx: UIContext, compact: bool = False) -> None:
    """The hint how to get an OSM snapshot (shown when there is none), in the UI language.

    The text is the CLI's (:meth:`dorfkarte.workspace.Workspace.no_osm_hint`): headline,
    commands, what works without it. ``compact``: headline and what works as a warning, the
    commands folded away (main page).
    """
    hint = ctx.ws.no_osm_hint(ctx.lang)
    first, _, rest = hint.partition("\n")
    commands, _, works = rest.rpartition("\n")
    if not compact:
        st.warning(f"**{first}**\n\n```\n{commands}\n```\n\n{works}")
        return
    st.warning(f"**{first}** {works}")
    with st.expander(t("hint_expander", ctx.lang)):
        st.caption(t("data_hint_tab", ctx.lang, tab=t("tab_data", ctx.lang)))
        # plain preformatted text: st.code would load the syntax highlighter (1.5 MB of
        # JavaScript, ~2.7 s of browser CPU on the conference laptop) for three lines
        st.text(commands)


def example_note(extra: gpd.GeoDataFrame | None, lang: str = "de") -> str | None:
    """'3 lokale Angebote sind als Beispiel markiert' when example listings are shown."""
    if extra is None or not len(extra) or "example" not in extra:
        return None
    n = int(extra["example"].fillna(False).astype(bool).sum())
    if not n:
        return None
    return t("example_listings", lang, n=fmt.integer(n, lang))


def render_status(ctx: UIContext) -> None:
    lang, snap = ctx.lang, ctx.snapshot
    path = ctx.ws.snapshot_path
    st.subheader(t("status_snapshot", lang))
    d = snap.get(DISTRICTS)
    units = ""
    if d is not None and len(d):  # counted from the data, in the page's language
        kern = int((d["kind"].astype(str) == "kernort").sum()) if "kind" in d else 0
        units = ", " + story.units_text(len(d), kern, lang)
    st.markdown(
        f"- {t('region', lang)}: **{md_escape(ctx.region.name)}** "
        f"({md_escape(ctx.region.id)}){units}\n"
        f"- {t('status_file', lang)}: `{path}`"
        + ("" if path.exists() else f" – {t('status_none', lang)}")
    )
    if not snap.has_osm:
        render_osm_hint(ctx)
    if d is not None and "approx" in d and bool(d["approx"].any()):
        st.info(t("status_approx", lang, source=str(d["source"].iloc[0])))
    note = example_note(ctx.extra_points, lang)
    if note:
        st.info(t("status_example", lang, what=note))
    if ctx.result is not None and getattr(ctx.result, "notes", None):
        for n in ctx.result.notes:
            st.caption(n)
    st.markdown(f"**{t('status_layers', lang)}**")
    st.dataframe(layer_table(ctx), hide_index=True, width="stretch")
    st.markdown(f"**{t('status_attribution', lang)}**")
    st.markdown("\n".join(f"- {a}" for a in attributions(ctx)))
    missing = assets.missing_assets()
    if missing:
        st.error(t("status_assets_missing", lang, files=", ".join(str(p) for p in missing)))
    with st.expander(t("software_map", lang)):
        st.dataframe(pd.DataFrame(assets.third_party()), hide_index=True, width="stretch")
