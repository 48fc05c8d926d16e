"""Mode "Bus & Bahn (Fahrplan)" in the app (AppTest, embedded data only)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from dorfkarte.ui.mapview import SELECTED
from dorfkarte.ui.sidebar import KEY_CATEGORY, KEY_MODE

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
