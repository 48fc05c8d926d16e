"""The Streamlit listings panel, driven by AppTest (map clicks arrive via session state)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dorfkarte.listings import ListingStore

pytestmark = pytest.mark.timeout(300)


def _app() -> None:
    import os
    from pathlib import Path

    import streamlit as st

    from dorfkarte.region import load_region
    from dorfkarte.settings import default_region_path
    from dorfkarte.ui.context import UIContext
    from dorfkarte.ui.listings import (
        editor_frame,
        render_listings_panel,
        render_time_selector,
        save_table,
    )
    from dorfkarte.workspace import open_snapshot

    region = load_region(default_region_path())
    data_dir = Path(os.environ["DORFKARTE_DATA"])
    ctx = UIContext(region=region, data_dir=data_dir, snapshot=open_snapshot(region, data_dir))
    upload = st.session_state.pop("test_upload", None)  # AppTest has no file uploader
    if upload is not None:
        from dorfkarte.listings import ListingStore
        from dorfkarte.ui.listings import handle_upload

        handle_upload(ctx, ListingStore(data_dir), *upload)
    render_listings_panel(ctx)
    st.session_state["test_when"] = render_time_selector(ctx)
    # what a user does in st.data_editor, replayed (AppTest cannot type into the grid)
    edit = st.session_state.pop("test_edit", None)
    if edit is not None:
        from dorfkarte.listings import ListingStore

        df = editor_frame(ListingStore(data_dir).read())
        df = edit(df)
        st.session_state["test_saved"] = save_table(ctx, ListingStore(data_dir), df)


def _data_dir() -> Path:
    return Path(os.environ["DORFKARTE_DATA"])


def _run() -> AppTest:
    at = AppTest.from_function(_app, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def _texts(at: AppTest) -> str:
    parts = []
    for kind in ("success", "info", "warning", "error", "caption", "markdown"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def test_example_data_load_import_and_undo() -> None:
    at = _run()
    at.button(key="dk_listings_examples").click().run()
    assert not at.exception
    assert "6 gültig" in _texts(at).replace("\\", "")
    at.button(key="dk_listings_import").click().run()
    assert not at.exception
    store = ListingStore(_data_dir())
    assert len(store.read()) == 6
    text = _texts(at)
    assert "Beispieldaten" in text  # example rows are flagged in the UI
    at.button(key="dk_listings_undo").click().run()
    assert not at.exception
    assert len(store.read()) == 0


def test_new_entry_at_map_click_is_validated_and_stored() -> None:
    at = _run()
    at.session_state["dk_map_click"] = (52.2205, 12.5962)
    at.run()
    assert "52.22050" in _texts(at)
    at.text_input(key="dk_new_name").input('Laden <script>alert(1)</script>')
    at.multiselect(key="dk_new_category").select("lebensmittel")
    at.text_input(key="dk_new_hours").input("Di 10:00-11:00")
    at.text_input(key="dk_listings_user").input("Planerin")
    submit = next(b for b in at.button if b.key and b.key.startswith("FormSubmitter:"))
    submit.click().run()
    assert not at.exception
    gdf = ListingStore(_data_dir()).read()
    assert len(gdf) == 1
    row = gdf.iloc[0]
    assert row["name"] == "Laden <script>alert(1)</script>"
    assert row["opening_hours"] == "Tu 10:00-11:00"
    assert row["lat"] == pytest.approx(52.2205) and row["updated_by"] == "Planerin"
    assert "dk_map_click" not in at.session_state  # click consumed
    # the raw tag never reaches markdown output
    assert "<script>" not in _texts(at)


def test_new_entry_with_decimal_comma_coordinates() -> None:
    """Issue 14 item 9: "52,2205" in the form is read like the import reads it."""
    at = _run()
    at.text_input(key="dk_new_name").input("Laden Komma")
    at.multiselect(key="dk_new_category").select("lebensmittel")
    at.text_input(key="dk_new_lat").input("52,2205")
    at.text_input(key="dk_new_lon").input("12,5962")
    at.text_input(key="dk_new_hours").input("Di 10:00-11:00")
    next(b for b in at.button if b.key and b.key.startswith("FormSubmitter:")).click().run()
    assert not at.exception
    gdf = ListingStore(_data_dir()).read()
    assert len(gdf) == 1
    assert gdf.iloc[0]["lat"] == pytest.approx(52.2205)
    assert gdf.iloc[0]["lon"] == pytest.approx(12.5962)
    assert not at.warning or not any("Session State" in str(w.value) for w in at.warning)


def test_new_entry_with_bad_schedule_is_refused() -> None:
    at = _run()
    at.session_state["dk_map_click"] = (52.2205, 12.5962)
    at.run()
    at.text_input(key="dk_new_name").input("Laden")
    at.multiselect(key="dk_new_category").select("lebensmittel")
    at.text_input(key="dk_new_hours").input("dienstags")
    next(b for b in at.button if b.key and b.key.startswith("FormSubmitter:")).click().run()
    assert not at.exception
    assert any("Nicht gespeichert" in str(e.value) for e in at.error)
    assert not ListingStore(_data_dir()).exists()


def test_table_edit_is_validated_like_an_import() -> None:
    from dorfkarte.listings.template import csv_bytes, example_rows

    f = _data_dir() / "bsp.csv"
    f.write_bytes(csv_bytes(example_rows()))
    from dorfkarte.cli import main

    assert main(["listings", "import", str(f)]) == 0
    store = ListingStore(_data_dir())
    before = store.path.read_bytes()
    at = _run()

    def bad(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[df["id"] == "BSP-BANKBUS", "category"] = "Bäckerei"
        return df

    at.session_state["test_edit"] = bad
    at.run()
    assert not at.exception
    assert at.session_state["test_saved"] is False
    assert store.path.read_bytes() == before  # nothing written

    def good(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[df["id"] == "BSP-BANKBUS", "stop"] = "Lütte, Dorf"
        return df[df["id"] != "BSP-WOCHENMARKT"]

    at.session_state["test_edit"] = good
    at.run()
    assert not at.exception
    got = store.read().set_index("id")
    assert "BSP-WOCHENMARKT" not in got.index
    assert got.loc["BSP-BANKBUS", "location_source"] == "Haltestelle Lütte, Dorf"
    # rows located by stop/anchor/Ortsteil keep their source (not frozen into coordinates)
    assert got.loc["BSP-SPRECHSTUNDE", "location_source"] == "Ankerort BSP-ANKER-LUETTE"
    last = store.history().iloc[0]
    assert last["action"] == "edit"


def test_time_selector_default_is_weekly() -> None:
    at = _run()
    assert at.session_state["test_when"] == "weekly"


def test_upload_with_errors_offers_valid_rows_only() -> None:
    text = ("id;name;category;stop;opening_hours\r\n"
            "U1;Gut;post;Lütte, Dorf;Mo 10:00-11:00\r\n"
            "U2;<b>Schlecht</b>;Bäcker;Lüte, Dorf;Dienstag\r\n")
    at = _run()
    at.session_state["test_upload"] = (text.encode("cp1252"), "gemischt.csv")
    at.run()
    assert not at.exception
    assert at.button(key="dk_listings_import").disabled  # not the whole file
    frames = [d.value for d in at.dataframe]
    issues = next(f for f in frames if "Meldung" in f.columns)
    assert set(issues["Feld"]) == {"category", "stop", "opening_hours"}
    assert set(issues["Zeile"]) == {3}
    assert not ListingStore(_data_dir()).exists()
    at.button(key="dk_listings_import_valid").click().run()
    assert not at.exception
    assert list(ListingStore(_data_dir()).read()["id"]) == ["U1"]
    # the uploader still holds the same file on the next run: it is not offered again
    at.session_state["test_upload"] = (text.encode("cp1252"), "gemischt.csv")
    at.run()
    assert not any("Meldung" in d.value.columns for d in at.dataframe)


def test_unreadable_upload_shows_one_line_error() -> None:
    at = _run()
    at.session_state["test_upload"] = (bytes(range(256)) * 10, "kaputt.csv")
    at.run()
    assert not at.exception
    assert any("Binärdaten" in str(e.value) for e in at.error)


def test_html_from_uploads_is_never_rendered_as_html() -> None:
    """Names, categories, stops and the file name come back only as escaped text or cells."""
    evil = '<img src=x onerror="alert(1)">'
    text = ("id;name;category;stop;opening_hours;Unnamed: 5\r\n"
            f"H1;{evil}[Link](javascript:alert(1));post;Lütte, Dorf;Mo 10:00-11:00;\r\n"
            f"H2;<script>alert(2)</script>;{evil};{evil};<b>Di</b> 10-11;{evil}\r\n")
    at = _run()
    at.session_state["test_upload"] = (text.encode("utf-8-sig"), f"{evil}.csv")
    at.run()
    assert not at.exception
    shown = _texts(at)
    assert "<img" not in shown and "<script" not in shown and "](javascript" not in shown
    assert "&lt;img" in shown  # the file name is shown, as text
    issues = next(d.value for d in at.dataframe if "Meldung" in d.value.columns)
    # the raw text survives verbatim in table cells (st.dataframe renders cells as text)
    assert any(evil in m for m in issues["Meldung"])
    # an unreadable upload's name goes through the same escaping
    at.session_state["test_upload"] = (bytes(range(256)) * 10, f"{evil}.csv")
    at.run()
    assert not at.exception
    assert any("Binärdaten" in str(e.value) for e in at.error)
    assert "<img" not in _texts(at)


def test_panel_source_never_allows_raw_html() -> None:
    import inspect

    import dorfkarte.ui.listings as panel

    src = inspect.getsource(panel)
    assert "unsafe_allow_html" not in src and "st.html" not in src
    assert "st.markdown(" not in src and "st.write(" not in src
