"""CLI: bad input gives one line ``Fehler: ...`` and exit code 2, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import osmfixtures as fx
import pytest
from regionfiles import region_copy

from dorfkarte.cli import main
from dorfkarte.snapshot import snapshot_path


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [ln for ln in err.replace("\r", "\n").splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("Fehler: ")]
    assert len(errors) == 1, err
    return errors[0]


@pytest.fixture
def corrupt_files(tmp_path: Path) -> dict[str, Path]:
    good_xml = fx.write_osm_xml(tmp_path / "good.osm")
    good_pbf = fx.write_osm_pbf(tmp_path / "good.osm.pbf")
    files = {
        "truncated.osm": good_xml.read_bytes()[:3000],
        "garbage.osm.pbf": b"garbage\x00\x01\x02 this is not a pbf",
        "truncated.osm.pbf": good_pbf.read_bytes()[:1500],
        "notbz2.osm.bz2": b"plain text, not bzip2",
        "html.osm": b"<html><body>Fehlerseite</body></html>",
    }
    out = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        out[name] = tmp_path / name
    return out


@pytest.mark.parametrize("name", ["truncated.osm", "garbage.osm.pbf", "truncated.osm.pbf",
                                  "notbz2.osm.bz2", "html.osm"])
def test_corrupt_extract_one_line_and_old_snapshot_kept(corrupt_files, name, tmp_path, capsys):
    data = tmp_path / "data"
    old = fx.build_test_snapshot(data)
    before = old.read_bytes()
    code = main(["import-osm", str(corrupt_files[name]), "--data-dir", str(data)])
    line = one_error_line(capsys)
    assert code == 2
    assert name in line and ("beschädigt" in line or "keine" in line), line
    assert old.read_bytes() == before
    assert sorted(p.name for p in old.parent.iterdir()) == [old.name]
    assert not [p for p in data.iterdir() if p.name.startswith(".import-")]


def test_missing_or_unknown_extract(tmp_path, capsys):
    assert main(["import-osm", str(tmp_path / "fehlt.osm.pbf"), "--data-dir",
                 str(tmp_path)]) == 2
    assert "nicht gefunden" in one_error_line(capsys)
    (tmp_path / "x.csv").write_text("a,b\n")
    assert main(["import-osm", str(tmp_path / "x.csv"), "--data-dir", str(tmp_path)]) == 2
    assert "unbekanntes Format" in one_error_line(capsys)


def test_extract_of_another_place(tmp_path, capsys):
    """A valid extract without the region's data: said so, nothing written."""
    other = tmp_path / "elsewhere.osm"
    other.write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n"
        '<node id="1" version="1" lat="48.1" lon="11.5"><tag k="amenity" v="pharmacy"/></node>\n'
        "</osm>\n", encoding="utf-8")
    assert main(["import-osm", str(other), "--data-dir", str(tmp_path)]) == 2
    assert "keine Einrichtungen und keine Straßen" in one_error_line(capsys)
    assert not snapshot_path(tmp_path, "hoher-flaeming").exists()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda s: s.replace('id = "hoher-flaeming"\n', ""), "'region.id' fehlt"),
        (lambda s: s.replace('label = "Apotheke"\n', ""), "'categories.apotheke.label' fehlt"),
        (lambda s: s.replace("admin_level = 9\n", ""), "'districts.admin_level' fehlt"),
        (lambda s: s.replace("[[municipalities.list]]\nname = \"Bad Belzig\"",
                             "[[municipalities.list]]\nnam = \"Bad Belzig\""),
         "'municipalities.list[].nam' – gemeint ist wohl 'municipalities.list[].name'"),
        (lambda s: s.replace('osm = ["amenity=pharmacy", "healthcare=pharmacy"]',
                             'osm = ["amenity=pharmacy&"]'), "leere Bedingung"),
        (lambda s: s + "\n[oops\n", "kein gültiges TOML"),
    ],
)
def test_bad_region_file(tmp_path, capsys, edit, expected):
    rfile = region_copy(tmp_path, edit)
    code = main(["info", "--region", str(rfile), "--data-dir", str(tmp_path)])
    assert code == 2
    line = one_error_line(capsys)
    assert expected in line and line.startswith("Fehler: ")


def test_unknown_category(tmp_path, capsys):
    code = main(["info", "--category", "zahnartz", "--data-dir", str(tmp_path)])
    assert code == 2
    line = one_error_line(capsys)
    assert "Unbekannte Kategorie 'zahnartz'" in line and "zahnarzt" in line


def test_districts_file_without_name_column(tmp_path, capsys):
    gj = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"bezeichnung": "Testdorf"},
        "geometry": {"type": "Polygon", "coordinates": [[[12.5, 52.1], [12.6, 52.1],
                                                         [12.6, 52.2], [12.5, 52.1]]]}}]}
    (tmp_path / "bezirke.geojson").write_text(json.dumps(gj), encoding="utf-8")

    def edit(s: str) -> str:
        return s.replace('source = "osm"\nadmin_level = 9',
                         f'source = "file"\nfile = {json.dumps(str(tmp_path / "bezirke.geojson"))}')

    rfile = region_copy(tmp_path, edit)
    code = main(["info", "--region", str(rfile), "--data-dir", str(tmp_path)])
    assert code == 2
    line = one_error_line(capsys)
    assert "bezirke.geojson" in line and "Namensspalte 'name' fehlt" in line
    assert "bezeichnung" in line


def test_info_offline_on_embedded_data(tmp_path, capsys):
    assert main(["info", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Schnappschuss: keiner" in out
    assert "stops" in out and "districts" in out and "[eingebettet]" in out
    assert "dorfkarte fetch" in out and "dorfkarte import-osm" in out


def test_info_on_test_snapshot_with_category_counts(tmp_path, capsys):
    fx.build_test_snapshot(tmp_path)
    assert main(["info", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "amenities" in out and "edges_drive" in out
    assert "Noch kein OSM-Schnappschuss" not in out
    # columns: label, OSM, local listings, (id)
    counts = {ln.split("(")[-1].rstrip(")"): int(ln.split()[-3]) for ln in out.splitlines()
              if ln.startswith("  ") and ln.rstrip().endswith(")")}
    assert counts["lebensmittel"] == 3 and counts["hausarzt"] == 2 and counts["zahnarzt"] == 0
    assert main(["info", "--category", "hausarzt", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2 Einrichtungen (OSM), 0 lokale Angebote" in out and "Praxis Ohne Fach" in out
    assert "Augenpraxis" not in out


def test_import_osm_cli_success(tmp_path, capsys):
    xml = fx.write_osm_xml(tmp_path / "synthetic.osm")
    assert main(["import-osm", str(xml), "--data-dir", str(tmp_path / "d")]) == 0
    out = capsys.readouterr().out
    assert "Schnappschuss geschrieben" in out and "amenities" in out
    assert snapshot_path(tmp_path / "d", "hoher-flaeming").exists()


def _run_module(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DORFKARTE_DATA": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "dorfkarte", *args], capture_output=True,
                          text=True, env=env, timeout=300, cwd=tmp_path)


def test_python_m_dorfkarte_corrupt_extract(tmp_path):
    bad = tmp_path / "kaputt.osm.pbf"
    bad.write_bytes(b"\x00\x00\x00\x0dkaputt")
    proc = _run_module(["import-osm", str(bad)], tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.replace("\r", "\n").splitlines() if ln.strip()]
    assert lines[-1].startswith("Fehler: OSM-Auszug kaputt.osm.pbf ist beschädigt")
    assert sum(ln.startswith("Fehler:") for ln in lines) == 1


def test_python_m_dorfkarte_bad_region_and_info(tmp_path):
    rfile = region_copy(tmp_path, lambda s: s.replace("[districts]", "[distrikte]"))
    proc = _run_module(["info", "--region", str(rfile)], tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == ("Fehler: Regionsdatei: unbekannter Schlüssel 'distrikte' – "
                                   "gemeint ist wohl 'districts'")
    proc = _run_module(["info"], tmp_path)
    assert proc.returncode == 0 and "Region: Bad Belzig und Wiesenburg/Mark" in proc.stdout
