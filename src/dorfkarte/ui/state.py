"""Every ``st.session_state`` key the app's panels share, in one place.

Panels import their keys from here (the sidebar, map, profile and demo re-export the ones
tests and other panels use), so a newcomer sees what lives in the session and two panels
never pick the same name for different things. Keys of a single widget that nothing else
reads stay beside that widget (``key="dk_scn_what"``).
"""

from __future__ import annotations

# ---- sidebar: what the user looks at -----------------------------------------------------
KEY_LANG = "dk_lang"
KEY_REGION = "dk_region"
KEY_CATEGORY = "dk_category"
KEY_MODE = "dk_mode"
KEY_INDICATOR = "dk_indicator"
KEY_BASEMAP = "dk_basemap"
KEY_POINTS = "dk_points"
#: The sidebar expander with the other categories' threshold sliders (drawn only when open).
KEY_MORE_THRESHOLDS = "dk_more_thresholds"
#: Timetable day and departure window (mode pt; kept while another mode is shown).
KEY_PT_DAY = "dk_pt_day"
#: The profile's folded chart (drawn only while unfolded).
KEY_PROFILE_CHART = "dk_profile_chart"
KEY_PT_WINDOW = "dk_pt_window"
KEY_WHEN = "dk_listings_when"
KEY_WHEN_DAY = "dk_listings_day"
KEY_WHEN_TIME = "dk_listings_time"
#: Threshold sliders: ``f"{THR_PREFIX}::{category}::{mode}"`` (``sidebar.thr_key``).
THR_PREFIX = "dk_thr"
PREV_CATEGORY = "_dk_prev_category"

# ---- page ----------------------------------------------------------------------------------
KEY_DEMO = "dk_demo"
KEY_TAB = "dk_tab"

# ---- map: the selected unit and the last click ----------------------------------------------
#: The selected Ortsteil (map click, profile select box, tests).
SELECTED = "selected_unit"
#: Set when the profile's select box chose another unit inside the map tab's fragment: the
#: page reruns whole, so the providers and connections below it follow the unit.
UNIT_CHANGED = "_dk_unit_changed"
#: Last clicked map position ``(lat, lng)``: where the listings form and the scenario panel
#: place a new point.
MAP_CLICK = "dk_map_click"
LAST_CLICK = "_dk_last_click"
MAP_KEY = "dk_map"

# ---- scenario panel ------------------------------------------------------------------------
SCN_CHANGES = "dk_scn_changes"
SCN_ENGINE = "dk_scn_engine"
SCN_NAME = "dk_scn_name"
#: The current scenario result, for the map to show.
SCN_RESULT = "dk_scenario_result"
SCN_SUGGESTION = "dk_scn_suggestion"
SCN_ROUTE = "dk_scn_route"
SCN_MESSAGE = "dk_scn_message"

# ---- listings panel --------------------------------------------------------------------------
LISTINGS_WHEN = "dk_listings_panel_when"
LISTINGS_USER = "dk_listings_user"
LISTINGS_EDITOR_VERSION = "dk_listings_editor_version"
LISTINGS_REPORT = "dk_listings_upload_report"
LISTINGS_MESSAGE = "dk_listings_message"
LISTINGS_LAST_CLICK = "_dk_listings_last_click"
LISTINGS_RESET_FORM = "_dk_listings_reset_form"
LISTINGS_LOADED_VERSION = "_dk_listings_loaded_version"
LISTINGS_IMPORTED = "_dk_listings_imported_digest"

# ---- demo ------------------------------------------------------------------------------------
DEMO_STEP = "demo_step"
DEMO_CACHE = "demo_cache"

#: Sidebar choices written back on every run so a language switch keeps them.
KEPT_WIDGETS = (KEY_REGION, KEY_CATEGORY, KEY_MODE, KEY_INDICATOR, KEY_BASEMAP, KEY_POINTS,
                KEY_WHEN, KEY_WHEN_DAY, KEY_WHEN_TIME, KEY_DEMO, SELECTED, KEY_PT_DAY,
                KEY_PT_WINDOW)
