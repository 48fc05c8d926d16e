"""Mode "Bus & Bahn (Fahrplan)" in the app (AppTest, embedded data only)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dorfkarte.ui.mapview import SELECTED
from dorfkarte.ui.sidebar import KEY_CATEGORY, KEY_MODE
from dorfkarte.ui.state import KEY_PT_DAY, KEY_PT_WINDOW

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_pt_mode_map_profile_and_connections(_isolated_data_dir: Path):
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    captions = " ".join(c.value for c in at.caption)
    assert "Fahrplan 2021 – veraltet: gültig 2021-03-18 bis 2021-12-11" in captions
    assert "Bus & Bahn (Fahrplan)" in at.radio(key=KEY_MODE).options
    at.radio(key=KEY_MODE).set_value("pt")
    at.run()
    at.selectbox(key=KEY_CATEGORY).set_value("mittelzentrum")
    at.session_state[SELECTED] = "Lütte"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    text = " ".join(m.value for m in at.markdown)
    assert "Nächste Verbindungen (Bus & Bahn, Fahrplan 2021 – veraltet" in text
    tables = [d.value for d in at.table if "Linien" in d.value.columns]
    assert len(tables) >= 2  # to Bad Belzig and back
    assert any("581" in " ".join(map(str, t["Linien"])) for t in tables)


def test_timetable_widgets_only_in_pt_mode_and_kept_while_hidden(_isolated_data_dir: Path):
    """Day and window change nothing on foot: shown for mode pt only, their choice kept."""
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.radio(key=KEY_MODE).value != "pt"
    assert not [s for s in at.slider if s.key == KEY_PT_WINDOW]
    assert not [d for d in at.date_input if d.key == KEY_PT_DAY]
    at.radio(key=KEY_MODE).set_value("pt")
    at.run()
    window = next(s for s in at.slider if s.key == KEY_PT_WINDOW)
    window.set_value((dt.time(9, 0), dt.time(10, 0)))
    at.run()
    assert at.session_state[KEY_PT_WINDOW] == (dt.time(9, 0), dt.time(10, 0))
    at.radio(key=KEY_MODE).set_value("walk")
    at.run()
    assert not [s for s in at.slider if s.key == KEY_PT_WINDOW]
    at.radio(key=KEY_MODE).set_value("pt")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert next(s for s in at.slider if s.key == KEY_PT_WINDOW).value == (dt.time(9, 0),
                                                                         dt.time(10, 0))
    captions = " ".join(c.value for c in at.caption)
    assert "09:00)" in captions  # the profile's connections leave in the chosen window
