"""Region files written by hand: typos, wrong types, bad ranges, wrong encodings.

Each case: ``dorfkarte info`` ends with one line naming the key (exit 2, no traceback), and
the stored snapshot stays byte-identical.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from regionfiles import region_with_copies as region_copy

from dorfkarte.cli import main
from dorfkarte.errors import DataError
from dorfkarte.region import load_region
from dorfkarte.settings import default_region_path

SHIPPED = default_region_path()


def run_info(capsys, rfile: Path, data: Path) -> str:
    code = main(["info", "--region", str(rfile), "--data-dir", str(data)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1 and err[0].startswith("Fehler: "), err
    assert "Traceback" not in err[0]
    return err[0]


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, bytes]:
    data = tmp_path / "data"
    data.mkdir()
    snap = data / "snapshot.gpkg"
    snap.write_bytes(b"stored snapshot stand-in")
    return data, snap.read_bytes()


CASES = [
    # unknown keys close to a known one: the match is named
    (lambda s: s.replace('crs = "EPSG:25833"', 'CRS = "EPSG:25833"'),
     ["'region.CRS'", "'region.crs'"]),
    (lambda s: s.replace("buffer_m = 5000", "bufer_m = 5000"), ["'region.bufer_m'",
                                                               "'region.buffer_m'"]),
    (lambda s: s.replace("min_weight = 10.0", "min_wieght = 10.0"),
     ["'transit.min_wieght'", "'transit.min_weight'"]),
    # wrong types
    (lambda s: s.replace("buffer_m = 5000", 'buffer_m = "fünf km"'),
     ["'region.buffer_m' muss eine Zahl sein", "Text"]),
    (lambda s: s.replace("admin_level = 9", 'admin_level = "neun"'),
     ["'districts.admin_level' muss eine Zahl sein"]),
    (lambda s: s.replace("admin_level = 9", "admin_level = 9.5"),
     ["'districts.admin_level' muss eine ganze Zahl sein"]),
    (lambda s: s.replace("ok_share = 0.9", 'ok_share = "90 %"'),
     ["'gap_classes.ok_share' muss eine Zahl sein"]),
    (lambda s: s.replace("min_weight = 10.0", 'min_weight = "zehn"'),
     ["'transit.min_weight' muss eine Zahl sein"]),
    (lambda s: s.replace("motorway = 120", 'motorway = "schnell"'),
     ["'modes.drive.highway_kmh.motorway' muss eine Zahl sein"]),
    (lambda s: s.replace('osm = ["amenity=pharmacy", "healthcare=pharmacy"]',
                         'osm = "amenity=pharmacy"'),
     ["'categories.apotheke.osm' muss eine Liste von Texten sein"]),
    (lambda s: s.replace("[modes.walk]\nspeed_kmh = 4.5", "[modes]\nwalk = 5\n[modes.x]\n"
                         "speed_kmh = 4.5"),
     ["'modes.walk' muss eine Tabelle sein"]),
    (lambda s: s.replace("ok_share = 0.9", "ok_share = true"),
     ["'gap_classes.ok_share' muss eine Zahl sein", "Wahrheitswert"]),
    # ranges
    (lambda s: s.replace("buffer_m = 5000", "buffer_m = -100"),
     ["'region.buffer_m' muss mindestens 0 sein"]),
    (lambda s: s.replace("grid_m = 250", "grid_m = 0"),
     ["'region.grid_m' muss eine positive Zahl sein"]),
    (lambda s: s.replace("ok_share = 0.9", "ok_share = 1.5"),
     ["'gap_classes.ok_share' darf höchstens 1 sein"]),
    (lambda s: s.replace("speed_kmh = 15.0", "speed_kmh = 0"),
     ["'modes.bike.speed_kmh' muss eine positive Zahl sein"]),
    (lambda s: s.replace("[categories.zahnarzt.thresholds.drive]\nminutes = 20",
                         "[categories.zahnarzt.thresholds.drive]\nminutes = \"20\""),
     ["'categories.zahnarzt.thresholds.drive.minutes' muss eine Zahl sein"]),
]


@pytest.mark.parametrize(("edit", "expected"), CASES)
def test_bad_key_or_value_is_one_line_naming_the_key(tmp_path, capsys, stored, edit, expected):
    data, before = stored
    line = run_info(capsys, region_copy(tmp_path, edit), data)
    for e in expected:
        assert e in line, line
    assert (data / "snapshot.gpkg").read_bytes() == before


def test_unknown_key_without_match_is_a_warning(tmp_path):
    rfile = region_copy(tmp_path, lambda s: s.replace(
        "[region]\n", '[region]\nplanungsbuero = "Musterbüro"\n'))
    region = load_region(rfile)
    assert any("'region.planungsbuero'" in w for w in region.warnings)


def test_free_text_source_keys_are_allowed(tmp_path):
    region = load_region(region_copy(tmp_path, lambda s: s.replace(
        "buffer_m = 5000", 'buffer_m = 5000\nbuffer_m_source = "Festlegung"')))
    assert region.warnings == ()
    assert load_region(SHIPPED).warnings == ()


@pytest.mark.parametrize("kind", ["utf16", "binary", "folder", "latin1"])
def test_unreadable_region_file(tmp_path, capsys, stored, kind):
    data, before = stored
    text = SHIPPED.read_text(encoding="utf-8")
    path = tmp_path / "region.toml"
    if kind == "utf16":
        path.write_bytes(text.encode("utf-16"))
        expect = "UTF-16"
    elif kind == "binary":
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
        expect = "keine Textdatei"
    elif kind == "latin1":
        path.write_bytes(text.encode("latin-1"))
        expect = "kein UTF-8"
    else:
        path.mkdir()
        expect = "ist ein Ordner"
    line = run_info(capsys, path, data)
    assert expect in line, line
    assert (data / "snapshot.gpkg").read_bytes() == before


@pytest.mark.parametrize("which", ["centres", "file"])
def test_duplicate_unit_names_are_refused(tmp_path, which):
    from dorfkarte import districts

    if which == "centres":
        rfile = region_copy(tmp_path, lambda s: s)
        centres = rfile.parent.parent / "ortsteile.csv"
        df = pd.read_csv(centres, encoding="utf-8-sig")
        df.loc[3, "name"] = df.loc[1, "name"]
        df.to_csv(centres, index=False)
        with pytest.raises(DataError, match="doppelt"):
            districts.read_centres(load_region(rfile))
    else:
        import json

        gj = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": "Testdorf"},
             "geometry": {"type": "Polygon", "coordinates": [[[12.5 + d, 52.1], [12.6 + d, 52.1],
                                                              [12.6 + d, 52.2], [12.5 + d, 52.1]]]}}
            for d in (0.0, 0.2)]}
        (tmp_path / "units.geojson").write_text(json.dumps(gj), encoding="utf-8")
        rfile = region_copy(tmp_path, lambda s: s.replace(
            'source = "osm"\nadmin_level = 9',
            f'source = "file"\nfile = "{tmp_path}/units.geojson"'))
        with pytest.raises(DataError, match="Objekt 2: Name 'Testdorf' doppelt"):
            districts.from_file(load_region(rfile))


def test_network_rules_from_region_file(tmp_path):
    region = load_region(region_copy(tmp_path, lambda s: s.replace(
        "[modes.bike]", '[modes.bike]\ninclude = ["highway=footway&bicycle=designated"]\n'
        'exclude = ["highway=track&tracktype=grade5"]')))
    assert [r.text for r in region.modes.include["bike"]] == ["highway=footway&bicycle=designated"]
    assert [r.text for r in region.modes.exclude["bike"]] == ["highway=track&tracktype=grade5"]
