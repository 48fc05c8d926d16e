"""The "Daten" panel, driven by AppTest: imports by path and upload, broken files, a slow
fake Overpass on 127.0.0.1 with progress and cancel, undo of the last import."""

from __future__ import annotations

import json
import os
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import osmfixtures
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from dorfkarte.imports import districts_path, last_import, prev_path
from dorfkarte.jobs import JOBS
from dorfkarte.snapshot import read_snapshot, snapshot_path
from dorfkarte.workspace import open_snapshot

pytestmark = pytest.mark.timeout(600)


def _app() -> None:
    import os
    from pathlib import Path

    import streamlit as st

    from dorfkarte.region import load_region
    from dorfkarte.settings import default_region_path
    from dorfkarte.ui.context import UIContext
    from dorfkarte.ui.datapanel import render_data_panel, save_upload, start
    from dorfkarte.workspace import open_snapshot

    region = load_region(default_region_path())
    data_dir = Path(os.environ["DORFKARTE_DATA"])
    ctx = UIContext(region=region, data_dir=data_dir, snapshot=open_snapshot(region, data_dir),
                    lang=st.session_state.get("test_lang", "de"))
    upload = st.session_state.pop("test_upload", None)  # AppTest has no file uploader
    if upload is not None:
        kind, name, data, opts = upload
        start(ctx, kind, save_upload(ctx, name, data), **opts)
    render_data_panel(ctx)


def _data_dir() -> Path:
    return Path(os.environ["DORFKARTE_DATA"])


def _run(**state) -> AppTest:
    at = AppTest.from_function(_app, default_timeout=120)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def _texts(at: AppTest) -> str:
    parts = []
    for kind in ("success", "info", "warning", "error", "caption", "markdown", "text"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts).replace("\\", "")


def _job(kind: str):
    key = f"{_data_dir().resolve()}|hoher-flaeming|{'osm' if kind in ('osm', 'fetch') else kind}"
    return JOBS.get(key)


def _finish(at: AppTest, kind: str, timeout: float = 300) -> str:
    job = _job(kind)
    if job is None:  # a fast job can end within the same run: the page showed its outcome
        text = _texts(at)
        assert "Fertig" in text or "Fehler" in text or "Abgebrochen" in text, \
            "no job started: " + text
        return text
    state = job.wait(timeout)
    assert not state.running
    at.run()  # the fragment notices the end, reruns the app, which shows the outcome once
    assert not at.exception, at.exception
    return _texts(at)


def test_status_lists_layers_and_what_is_missing() -> None:
    at = _run()
    text = _texts(at)
    assert "Einrichtungen, Wohngebäude, Straßennetze: OSM-Schnappschuss fehlt" in text
    assert "Ortsteilgrenzen: nur genähert" in text
    table = at.dataframe[0].value
    assert any("stops" in str(x) for x in table.iloc[:, 0])
    assert "Quelle" in table.columns and "Lizenz" in table.columns
    en = _run(test_lang="en")
    assert "Services, homes, street networks: OSM snapshot missing" in _texts(en)


def test_extract_by_path_then_undo(tmp_path: Path) -> None:
    pbf = osmfixtures.write_osm_pbf(tmp_path / "region.osm.pbf")
    at = _run()
    at.text_input(key="dk_data_path_osm").input(str(pbf))
    at.button(key="dk_data_start_osm").click().run()
    assert not at.exception, at.exception
    text = _finish(at, "osm")
    assert "Fertig: OSM-Auszug region.osm.pbf" in text, text
    snap = snapshot_path(_data_dir(), "hoher-flaeming")
    assert read_snapshot(snap).has_osm
    assert "OSM-Schnappschuss fehlt" not in text  # the panel now sees the new snapshot
    rec = last_import("osm", _region(), _data_dir())
    assert rec is not None and not rec.undone
    at.button(key="dk_data_undo_osm").click().run()
    assert not at.exception
    assert not snap.exists()  # there was none before
    assert "Rückgängig gemacht" in _texts(at)


def _region():
    from dorfkarte.region import load_region
    from dorfkarte.settings import default_region_path

    return load_region(default_region_path())


def test_extract_upload_replaces_and_undo_restores_previous(tmp_path: Path) -> None:
    data = _data_dir()
    old = osmfixtures.build_test_snapshot(data)
    before = old.read_bytes()
    xml = osmfixtures.write_osm_xml(tmp_path / "neu.osm")
    at = _run(test_upload=("osm", "neu.osm", xml.read_bytes(), {}))
    assert not at.exception, at.exception
    text = _finish(at, "osm")
    assert "Fertig: OSM-Auszug" in text, text
    assert old.read_bytes() != before
    assert prev_path(old).read_bytes() == before
    at.button(key="dk_data_undo_osm").click().run()
    assert old.read_bytes() == before and not prev_path(old).exists()


@pytest.mark.parametrize("kind, name, content, message", [
    ("osm", "kaputt.osm.pbf", b"garbage" * 50, "OSM-Auszug"),
    ("osm", "auszug.txt", b"<osm/>", "unbekanntes Format"),
    ("districts", "ortsteile.geojson", b'{"type": "FeatureCollection", "feat',
     "Bezirksdatei ortsteile.geojson ist nicht lesbar"),
    ("districts", "ortsteile.zip", b"PK\x03\x04 not really", "keine gültige ZIP-Datei"),
])
def test_broken_file_shows_one_line_error_and_changes_nothing(kind, name, content,
                                                              message) -> None:
    data = _data_dir()
    old = osmfixtures.build_test_snapshot(data) if kind == "osm" else None
    before = old.read_bytes() if old else None
    opts = {"name_column": "name"} if kind == "districts" else {}
    at = _run(test_upload=(kind, name, content, opts))
    errors = [str(e.value).replace("\\", "") for e in at.error]
    assert any(message in e for e in errors), errors
    assert all("\n" not in e for e in errors)
    assert _job(kind) is None or not _job(kind).alive
    if old:
        assert old.read_bytes() == before
    assert not districts_path(data, "hoher-flaeming").exists()
    assert last_import(kind, _region(), data) is None


def _districts_geojson(path: Path, name_col: str = "OT_NAME") -> Path:
    """Two squares around real Ortsteil centres (test geometry, not official boundaries)."""
    feats = []
    for name, lon, lat in (("Lütte", 12.60558, 52.2007), ("Reetz", 12.36667, 52.11667)):
        feats.append({"type": "Feature", "properties": {name_col: name, "EW": 100,
                                                         "id": len(feats)},
                      "geometry": shapely.geometry.mapping(shapely.box(lon - 0.02, lat - 0.01,
                                                                       lon + 0.02, lat + 0.01))})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}),
                    encoding="utf-8")
    return path


def test_districts_file_with_chosen_name_column(tmp_path: Path) -> None:
    gj = _districts_geojson(tmp_path / "ortsteile.geojson")
    at = _run()
    at.text_input(key="dk_data_path_districts").input(str(gj)).run()
    assert not at.exception, at.exception
    box = at.selectbox(key="dk_data_name_column")
    assert box.options[0] == "OT_NAME"
    box.select("OT_NAME").run()
    at.selectbox(key="dk_data_population_column").select("EW").run()
    at.text_input(key="dk_data_districts_source").input("Testdatei (keine amtlichen Grenzen)")
    at.button(key="dk_data_start_districts").click().run()
    text = _finish(at, "districts")
    assert "Fertig: Bezirksdatei ortsteile.geojson: 2 Flächen" in text, text
    snap = open_snapshot(_region(), _data_dir())
    d = snap.get("districts")
    assert sorted(d["name"]) == ["Lütte", "Reetz"] and not d["approx"].any()
    assert list(d["population"]) == [100.0, 100.0]
    assert snap.info["districts"].source == "Testdatei (keine amtlichen Grenzen)"
    assert "Ortsteilgrenzen: nur genähert" not in text


def test_zipped_shapefile_and_wrong_name_column(tmp_path: Path) -> None:
    gj = _districts_geojson(tmp_path / "o.geojson", name_col="GEN")
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    gpd.read_file(gj).to_file(shp_dir / "ortsteile.shp")
    zpath = tmp_path / "ortsteile.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in shp_dir.iterdir():
            zf.write(f, f.name)
    # a name column that repeats values is refused in the form with a one-line error
    at = _run(test_upload=("districts", "ortsteile.zip", zpath.read_bytes(),
                           {"name_column": "EW"}))
    errors = [str(e.value).replace("\\", "") for e in at.error]
    assert any("kommt doppelt vor" in e for e in errors), errors
    at = _run(test_upload=("districts", "ortsteile.zip", zpath.read_bytes(),
                           {"name_column": "GEN"}))
    _finish(at, "districts")
    assert sorted(open_snapshot(_region(), _data_dir()).get("districts")["name"]) == \
        ["Lütte", "Reetz"]


def test_slow_overpass_progress_moves_and_cancel_keeps_old_snapshot() -> None:
    from fakeservers import FULL, MUNIS, FakeOverpass

    data = _data_dir()
    old = osmfixtures.build_test_snapshot(data)
    before = old.read_bytes()
    fake = FakeOverpass()
    try:
        slow = json.dumps(FULL).encode()
        fake.script = [(200, json.dumps(MUNIS).encode(), 0.3)] + [(200, slow, 1.0)] * 5
        at = _run()
        at.text_input(key="dk_data_overpass_url").input(fake.url)
        at.checkbox(key="dk_data_cache").uncheck()
        at.button(key="dk_data_start_fetch").click().run()
        assert not at.exception, at.exception
        job = _job("fetch")
        assert job is not None and job.alive
        steps = []
        deadline = time.time() + 60
        while time.time() < deadline and job.state().step < 2:
            time.sleep(0.2)
            at.run()
            steps.append(job.state().step)
        assert job.state().step >= 2 and steps == sorted(steps)  # the bar moved forward
        bars = at.get("progress")
        assert bars and 0 < bars[0].proto.value < 100
        assert "Läuft:" in bars[0].proto.text
        at.button(key="dk_data_cancel_fetch").click().run()
        state = job.wait(30)
        assert state.status == "cancelled", state
        text = _finish(at, "fetch")
        assert "Abgebrochen" in text
    finally:
        fake.close()
    assert old.read_bytes() == before
    assert not prev_path(old).exists()
    assert sorted(p.name for p in old.parent.iterdir()) == [old.name]
    assert not any(p.name.startswith(".fetch-") for p in data.iterdir())
    assert last_import("fetch", _region(), data) is None


def test_data_tab_in_the_app() -> None:
    from dorfkarte.ui.page import KEY_TAB

    app = Path(__file__).resolve().parents[1] / "app.py"
    at = AppTest.from_file(str(app), default_timeout=300)
    at.session_state[KEY_TAB] = "Daten"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert "OSM-Schnappschuss fehlt" in _texts(at)
    assert at.button(key="dk_data_start_fetch") is not None


def test_smart_village_form_imports_from_a_server(tmp_path: Path, monkeypatch) -> None:
    from fakeservers import MAPPING, FakeServer

    from dorfkarte.listings import ListingStore
    from dorfkarte.settings import default_region_path

    src = default_region_path()
    text = src.read_text(encoding="utf-8").replace('"../', f'"{src.parent.parent}/')
    text += "\n[smart_village.categories]\n" + "".join(
        f'"{k}" = "{v}"\n' for k, v in MAPPING.items())
    (tmp_path / "region.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("DORFKARTE_REGION", str(tmp_path / "region.toml"))
    server = FakeServer()
    try:
        at = _run()
        at.text_input(key="dk_data_sva_url").input(server.url)
        at.button(key="dk_data_sva_start").click().run()
        assert not at.exception, at.exception
        job = _job("smart_village")
        assert job is not None
        state = job.wait(120)
        assert state.status == "done", state.message
        at.run()
        assert not at.exception, at.exception
    finally:
        server.close()
    stored = ListingStore(_data_dir()).read()
    assert len(stored) == 4 and set(stored["source"]) == {f"Smart Village App {server.url}"}
    text = _texts(at)
    assert "4 gültig" in text and "Gespeichert (Import): 4 neu" in text


def _official_grid(path: Path) -> Path:
    """The shipped 1 km cells in the layout of the official download (';', GITTER_ID_1km)."""
    import pandas as pd

    from dorfkarte.settings import embedded_data_dir

    df = pd.read_csv(embedded_data_dir() / "zensus2022_1km_hoher_flaeming.csv")
    df[["GITTER_ID_1km", "x_mp_1km", "y_mp_1km", "Einwohner"]].to_csv(path, sep=";",
                                                                        index=False)
    return path


def test_census_grid_by_path_then_undo(tmp_path: Path) -> None:
    from dorfkarte.regiondata import imported_grid_path

    grid = _official_grid(tmp_path / "Zensus2022_Bevoelkerungszahl_1km-Gitter.csv")
    at = _run()
    at.text_input(key="dk_data_path_census").input(str(grid))
    at.button(key="dk_data_start_census").click().run()
    assert not at.exception, at.exception
    text = _finish(at, "census")
    assert "Fertig: Einwohnergitter Zensus2022_Bevoelkerungszahl_1km-Gitter.csv" in text, text
    stored = imported_grid_path(_data_dir(), "hoher-flaeming")
    assert stored.exists() and stored.with_suffix(".json").exists()
    assert "import-population" in open_snapshot(_region(), _data_dir()).info["census"].note
    at.button(key="dk_data_undo_census").click().run()
    assert not stored.exists() and not stored.with_suffix(".json").exists()


def test_broken_census_file_error_in_form(tmp_path: Path) -> None:
    from dorfkarte.regiondata import imported_grid_path

    at = _run(test_upload=("census", "einwohner.csv", b"Gemeinde;Einwohner\nA;1\n", {}))
    errors = [str(e.value).replace("\\", "") for e in at.error]
    assert any("einwohner.csv, Zeile 1: keine Spalte GITTER_ID_100m" in e for e in errors), \
        errors
    assert not imported_grid_path(_data_dir(), "hoher-flaeming").exists()
    # rows are checked by the import itself: a bad cell id fails the job, nothing stored
    bad = _official_grid(tmp_path / "kaputt.csv")
    lines = bad.read_text(encoding="utf-8").splitlines()
    lines[3] = "4478000-3210000" + lines[3][lines[3].index(";"):]
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    at = _run()
    at.text_input(key="dk_data_path_census").input(str(bad))
    at.button(key="dk_data_start_census").click().run()
    text = _finish(at, "census")
    assert "Fehler: Gitterdatei" in text and "kaputt.csv, Zeile 4" in text, text
    assert not imported_grid_path(_data_dir(), "hoher-flaeming").exists()


def test_gtfs_feed_upload_then_broken_feeds(tmp_path: Path) -> None:
    from gtfs_feeds import write_feed

    from dorfkarte import gtfs
    from dorfkarte.settings import embedded_data_dir

    src = embedded_data_dir() / gtfs.EMBEDDED_FEED
    at = _run(test_upload=("gtfs", "vbb.zip", src.read_bytes(),
                           {"source": "VBB (Test)", "licence": "CC BY 3.0"}))
    assert not at.exception, at.exception
    text = _finish(at, "gtfs")
    assert "Fertig: GTFS-Fahrplan vbb.zip" in text, text
    stored = gtfs.stored_feed_path(_data_dir(), "hoher-flaeming")
    assert gtfs.read_feed(stored).info.source == "VBB (Test)"
    before = stored.read_bytes()
    # a feed without stop_times.txt: one line in the form, nothing started
    incomplete = write_feed(tmp_path / "ohne.zip", {"A": (0, 0), "B": (500, 0)},
                            {"t1": [("A", "07:00:00", "07:00:00"),
                                    ("B", "07:05:00", "07:05:00")]}, drop=("stop_times.txt",))
    at = _run(test_upload=("gtfs", "ohne.zip", incomplete.read_bytes(), {}))
    errors = [str(e.value).replace("\\", "") for e in at.error]
    assert any("ohne.zip: Datei 'stop_times.txt' fehlt im GTFS-Feed" in e for e in errors), \
        errors
    # a bad row is found by the import itself: the job fails, the stored feed stays
    bad = write_feed(tmp_path / "bad.zip", {"A": (0, 0), "B": (500, 0)},
                     {"t1": [("A", "07:00:00", "07:00:00"), ("B", "07:05:00", "07:05:00")]},
                     replace={"stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,"
                              "stop_sequence\nt1,07:00:00,07:00:00,A,0\n"
                              "t1,25:61:00,25:61:00,B,1\n"})
    at = _run(test_upload=("gtfs", "bad.zip", bad.read_bytes(), {}))
    text = _finish(at, "gtfs")
    assert "stop_times.txt, Zeile 3, Spalte 'arrival_time'" in text, text
    assert stored.read_bytes() == before
    at.button(key="dk_data_undo_gtfs").click().run()
    assert not stored.exists()  # the first import created it
