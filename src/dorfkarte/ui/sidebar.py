"""Sidebar: what to look at (region, category, mode, indicator, base map), and the
threshold sliders, which the map tab and the overview draw.

Widget values live in ``st.session_state`` under the ``KEY_*`` names of
:mod:`dorfkarte.ui.state`, so tests (AppTest) and the demo can set them, and a rerun keeps
them. Each ``choose_*`` function is one selector returning a plain value; a new selector is
one more function here and one more field of :class:`dorfkarte.ui.context.ViewChoice`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import streamlit as st

from dorfkarte import maps
from dorfkarte.coverage import CoverageResult
from dorfkarte.enums import GapClass
from dorfkarte.i18n import LANG_LABELS, LANGS, category_label, indicator_label, mode_label, t
from dorfkarte.listings import describe_when
from dorfkarte.listings.schedule import When, next_weekday_time
from dorfkarte.region import ALL_MODES, MODES, TRANSIT, Region
from dorfkarte.ui.state import (
    KEY_BASEMAP,
    KEY_CATEGORY,
    KEY_INDICATOR,
    KEY_LANG,
    KEY_MODE,
    KEY_MORE_THRESHOLDS,
    KEY_POINTS,
    KEY_PT_DAY,
    KEY_PT_WINDOW,
    KEY_REGION,
    KEY_WHEN,
    KEY_WHEN_DAY,
    KEY_WHEN_TIME,
    THR_PREFIX,
)
from dorfkarte.ui.state import PREV_CATEGORY as _PREV_CATEGORY

__all__ = ["KEY_BASEMAP", "KEY_CATEGORY", "KEY_INDICATOR", "KEY_LANG", "KEY_MODE",
           "KEY_POINTS", "KEY_REGION", "KEY_WHEN", "KEY_WHEN_DAY", "KEY_WHEN_TIME",
           "THR_PREFIX", "choose_basemap", "choose_group", "choose_language",
           "choose_listings_when", "choose_points", "choose_region", "choose_thresholds",
           "choose_view", "default_category", "thr_key", "threshold_values"]


def thr_key(category: str, mode: str) -> str:
    return f"{THR_PREFIX}::{category}::{mode}"


def choose_language() -> str:
    lang = st.sidebar.radio(
        "Sprache / Language", LANGS, key=KEY_LANG, horizontal=True,
        format_func=lambda x: LANG_LABELS[x],
    )
    return str(lang or "de")


def choose_region(files: list[Path], lang: str) -> Path:
    if not files:
        raise FileNotFoundError("no region file")
    names = [str(p) for p in files]
    if st.session_state.get(KEY_REGION) not in names:
        st.session_state[KEY_REGION] = names[0]
    chosen = st.sidebar.selectbox(t("region", lang), names, key=KEY_REGION,
                                  format_func=lambda p: Path(p).stem,
                                  disabled=len(names) == 1)
    return Path(chosen)


def _pairs(region: Region, result: CoverageResult | None) -> list[tuple[str, str]]:
    if result is not None and getattr(result, "times", None):
        return list(result.times)
    return [(c, m) for c, cat in region.categories.items() for m in MODES
            if m != TRANSIT or cat.source == TRANSIT]


def default_category(region: Region, result: CoverageResult | None, mode: str) -> str:
    """The first category that has data (with embedded data only: the stops)."""
    pairs = [c for c, m in _pairs(region, result) if m == mode]
    if result is not None and getattr(result, "indicators", None) is not None:
        ind = result.indicators
        has = ind[(ind["mode"] == mode) & (ind["gap_class"] != GapClass.NO_DATA)]["category"]
        for c in pairs:
            if c in set(has):
                return c
    return pairs[0] if pairs else next(iter(region.categories))


def choose_view(region: Region, result: CoverageResult | None, lang: str) -> tuple[str, str, str]:
    """Mode, category, indicator (categories offered are those analysed for the mode)."""
    sb = st.sidebar
    pairs = _pairs(region, result)
    modes = [m for m in ALL_MODES if any(pm == m for _, pm in pairs)] or list(MODES)
    if st.session_state.get(KEY_MODE) not in modes:
        st.session_state[KEY_MODE] = modes[0]
    mode = sb.radio(t("mode", lang), modes, key=KEY_MODE, horizontal=True,
                    format_func=lambda m: mode_label(m, lang))
    cats = [c for c in region.categories if (c, mode) in pairs]
    if st.session_state.get(KEY_CATEGORY) not in cats:
        st.session_state[KEY_CATEGORY] = default_category(region, result, mode)
    category = sb.selectbox(t("category", lang), cats, key=KEY_CATEGORY,
                            format_func=lambda c: category_label(region.categories[c], lang))
    _points_follow(str(category))
    if st.session_state.get(KEY_INDICATOR) not in maps.INDICATORS:
        st.session_state[KEY_INDICATOR] = maps.INDICATORS[0]
    indicator = sb.selectbox(t("indicator", lang), maps.INDICATORS, key=KEY_INDICATOR,
                             format_func=lambda i: indicator_label(i, mode, lang))
    return str(mode), str(category), str(indicator)


def choose_timetable(ws: Any, lang: str) -> tuple[str, str, str] | None:
    """Day and departure window of mode pt (None without a timetable); shows its validity.

    The day and window widgets are drawn by :func:`render_timetable_widgets` below the mode
    choice and only for mode pt (in walk mode they would change nothing); their values live
    in the session, so they are read here, before the analysis, and kept while hidden.
    """
    from dorfkarte import pt
    from dorfkarte.errors import DorfkarteError

    region = ws.region
    if not pt.has_timetable(region, ws.data_dir):
        return None
    try:
        tt = ws.timetable()
    except DorfkarteError as exc:
        st.sidebar.error(t("error", lang, msg=exc))
        return None
    info = tt.info
    st.sidebar.caption(t("pt_valid", lang, caption=info.caption(lang),
                         start=info.valid_from or "?", end=info.valid_to or "?",
                         source=info.attribution or info.source))
    default = tt.default_day()
    if KEY_PT_DAY not in st.session_state:
        st.session_state[KEY_PT_DAY] = default
    if KEY_PT_WINDOW not in st.session_state:
        a, b = (pt.parse_hhmm(x) for x in pt.settings(region).window)
        st.session_state[KEY_PT_WINDOW] = (dt.time(a // 3600, a % 3600 // 60),
                                           dt.time(b // 3600, b % 3600 // 60))
    days = tt.days()
    day = st.session_state[KEY_PT_DAY]
    if not isinstance(day, dt.date) or not days[0] <= day <= days[-1]:  # another feed
        day = st.session_state[KEY_PT_DAY] = default
    if not tt.active_trips(day).any():
        day = default  # the widget says so (render_timetable_widgets)
    start, end = st.session_state[KEY_PT_WINDOW]
    if end <= start:
        end = (dt.datetime.combine(day, start) + dt.timedelta(minutes=15)).time()
    return day.isoformat(), start.strftime("%H:%M"), end.strftime("%H:%M")


def render_timetable_widgets(ws: Any, lang: str) -> None:
    """The day and departure-window widgets of mode pt (values: :func:`choose_timetable`)."""
    if KEY_PT_DAY not in st.session_state:
        return  # no timetable
    tt = ws.timetable()
    days = tt.days()
    sb = st.sidebar
    day = sb.date_input(t("pt_day", lang), min_value=days[0], max_value=days[-1],
                        key=KEY_PT_DAY, format="DD.MM.YYYY")
    if not isinstance(day, dt.date) or not tt.active_trips(day).any():
        sb.warning(t("pt_no_service", lang, day=str(day),
                     default=tt.default_day().isoformat()))
    sb.slider(t("pt_window", lang), min_value=dt.time(4, 0), max_value=dt.time(23, 0),
              step=dt.timedelta(minutes=15), key=KEY_PT_WINDOW)


def _points_follow(category: str) -> None:
    """The shown service points follow the category while the user has not chosen others."""
    prev = st.session_state.get(_PREV_CATEGORY)
    if prev is not None and prev != category and st.session_state.get(KEY_POINTS) in (
            [prev], []):
        st.session_state[KEY_POINTS] = [category]
    st.session_state[_PREV_CATEGORY] = category


def _slider_range(unit: str, default: float) -> tuple[float, float, float]:
    if unit == "m":
        return 100.0, max(3000.0, 2 * default), 50.0
    return 1.0, max(60.0, 2 * default), 1.0


def threshold_values(result: CoverageResult | None, mode: str
                     ) -> dict[tuple[str, str], float]:
    """The threshold of every category of ``mode``: the slider's value, else the region's.

    Read from the session before the analysis (no widget): the sliders are drawn where the
    result shows (:func:`choose_thresholds`, above the map and the overview), and while they
    are not drawn their values stay in the session (``page.keep_widget_state``).
    """
    if result is None:
        return {}
    out: dict[tuple[str, str], float] = {}
    for (cid, m), default in result.thresholds.items():
        if m != mode:
            continue
        wkey = thr_key(cid, mode)
        if wkey not in st.session_state:
            st.session_state[wkey] = float(default)
        out[(cid, mode)] = float(st.session_state[wkey])
    return out


def choose_thresholds(region: Region, result: CoverageResult | None, category: str, mode: str,
                      lang: str) -> dict[tuple[str, str], float]:
    """Sliders for the chosen pair and (in an expander) the other categories of the mode.

    Drawn in the current container (the map tab's fragment, the overview), not the sidebar:
    a slider inside the map tab's fragment reruns only that tab.
    """
    out = threshold_values(result, mode)
    if result is None or (category, mode) not in out:
        return out
    defaults = result.thresholds

    def slider(container: Any, cid: str, label: str) -> None:
        unit = "m" if mode == TRANSIT else "min"
        lo, hi, step = _slider_range(unit, float(defaults[(cid, mode)]))
        thr = region.categories[cid].thresholds.get(mode)
        source = thr.source if thr is not None else ""
        val = container.slider(f"{label} ({unit})", min_value=lo, max_value=hi, step=step,
                               key=thr_key(cid, mode), format=f"%d {unit}",
                               help=t("threshold_help", lang, source=source or "–"))
        out[(cid, mode)] = float(val)

    others = [c for c in region.categories if c != category and (c, mode) in defaults]
    main, side = st.columns([3, 2]) if others else (st, None)
    slider(main, category, f"{t('threshold', lang)}: "
           f"{category_label(region.categories[category], lang)}")
    if side is None:
        return out
    # Lazy: the dozen other sliders are drawn only while the expander is open (a rerun on
    # opening); folded, their values come from the session, so every slider rerun has a
    # dozen widgets less to send and draw.
    box = side.expander(t("more_thresholds", lang, mode=mode_label(mode, lang)),
                        key=KEY_MORE_THRESHOLDS, on_change="rerun")
    if box.open is False:
        return out
    with box:
        for cid in others:
            slider(st, cid, category_label(region.categories[cid], lang))
        # a callback (Streamlit's documented way to set widget state): runs before the rerun
        st.button(t("reset_thresholds", lang), key="dk_thr_reset", on_click=_reset_thresholds,
                  args=(dict(defaults),))
    return out


def _reset_thresholds(defaults: dict[tuple[str, str], float]) -> None:
    for (c, m), v in defaults.items():
        st.session_state[thr_key(c, m)] = float(v)


def choose_points(region: Region, category: str, lang: str) -> tuple[str, ...]:
    cats = [c for c, cat in region.categories.items()]
    if KEY_POINTS not in st.session_state:
        st.session_state[KEY_POINTS] = [category]
    chosen = st.sidebar.multiselect(
        t("point_categories", lang), cats, key=KEY_POINTS,
        format_func=lambda c: category_label(region.categories[c], lang),
    )
    return tuple(c for c in cats if c in chosen)


def choose_group(result: Any, lang: str) -> str:
    """Whose residents weigh the indicators (needs census age weights on the origins)."""
    groups = ("all", *(g for g in ("65plus", "under18")
                       if result is not None and f"pop_{g}" in result.origins))
    if len(groups) == 1:
        return "all"
    return str(st.sidebar.radio(t("group", lang), groups,
                                key="dk_group", horizontal=True,
                                format_func=lambda g: t(f"group_{g}", lang)))


def choose_basemap(lang: str, default: str = "osm") -> str:
    """Without an OSM snapshot the default is the own (offline) map: no failing tiles."""
    if st.session_state.get(KEY_BASEMAP) not in maps.BASEMAPS:
        st.session_state[KEY_BASEMAP] = default
    return str(st.sidebar.radio(t("basemap", lang), maps.BASEMAPS, key=KEY_BASEMAP,
                                format_func=lambda b: t(f"basemap_{b}", lang)))


def choose_listings_when(lang: str) -> When:
    """When local listings count (``dorfkarte.listings.When``): all, weekly, or a time."""
    options = ["all", "weekly", "at"]
    labels = {"all": describe_when(None, lang), "weekly": describe_when("weekly", lang),
              "at": t("listings_when_at", lang)}
    if st.session_state.get(KEY_WHEN) not in options:
        st.session_state[KEY_WHEN] = "all"
    choice = st.sidebar.selectbox(t("listings_when", lang), options, key=KEY_WHEN,
                                  format_func=lambda o: labels[o])
    if choice == "weekly":
        return "weekly"
    if choice == "at":
        days = t("weekday_names", lang).split("|")
        c1, c2 = st.sidebar.columns(2)
        day = c1.selectbox(t("day", lang), range(7), key=KEY_WHEN_DAY,
                           format_func=lambda d: days[d])
        if KEY_WHEN_TIME not in st.session_state:  # default via state only: no warning
            st.session_state[KEY_WHEN_TIME] = dt.time(10, 0)
        time = c2.time_input(t("time", lang), key=KEY_WHEN_TIME,
                             step=dt.timedelta(minutes=30))
        return next_weekday_time(int(day), time)
    return None
