"""The synthetic region "Testkreis Nordost" (describes no real place): region file,
districts GeoJSON, centres CSVs, and the checks that nothing is written into the repo's
data/ folder. Shared by the other-region, listings, app and hostile-input tests.

It reuses the municipalities of the synthetic OSM extract (tests/osmfixtures.py) in another
combination ("Bad Belzig" found by name only, "Nachbargemeinde Test" by AGS), with its own
districts (GeoJSON with custom column names), three categories of its own with their own
thresholds and gap limits, another metric CRS (EPSG:3035) and a smaller buffer.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from dorfkarte.cli import main

REPO = Path(__file__).resolve().parents[1]
REPO_DATA = REPO / "data"
REGION_ID = "testkreis-nordost"
REGION_NAME = "Testkreis Nordost (synthetisch)"
UNIT_LABEL = "3 Testorte"
CATEGORIES = {"nahversorgung": "Nahversorgung", "arzt": "Arztpraxis", "apotheke": "Apotheke"}
#: Labels of the shipped region that must not leak into this region's outputs.
FOREIGN_LABELS = ("Lebensmittel", "Hausarzt", "Zahnarzt", "Grundschule", "Bus / Bahn",
                  "Treffpunkt", "27 Ortsteile")

#: District polygons (lon0, lat0, lon1, lat1) -> (municipality, residents); all invented.
DISTRICTS = {
    "Oststadt": ((12.56, 52.10, 12.62, 52.13), "Bad Belzig", 300),
    "Nordheide": ((12.56, 52.13, 12.62, 52.16), "Bad Belzig", 150),
    "Grenzfeld": ((12.62, 52.10, 12.68, 52.16), "Nachbargemeinde Test", 40),
}
#: Centres for the "centres" variant: name, municipality, kind, population, lat, lon.
CENTRES = [
    ("Oststadt", "Bad Belzig", "ortsteil", 320, 52.125, 12.590),
    ("Nordheide", "Bad Belzig", "ortsteil", 140, 52.150, 12.590),
    ("Suedwiese", "Bad Belzig", "ortsteil", 25, 52.104, 12.575),
    ("Grenzfeld", "Nachbargemeinde Test", "ortsteil", 45, 52.130, 12.650),
]

REGION_TOML = """\
# SYNTHETIC test region (tests/other_region.py): describes no real place.
[region]
id = "{rid}"
name = "{name}"
crs = "EPSG:3035"
buffer_m = 2000
grid_m = 500
unit_label = "{unit}"

[[municipalities]]
name = "Bad Belzig"

[[municipalities]]
name = "Nachbargemeinde Test"
ags = "99999999"

[districts]
{districts}

[gap_classes]
ok_share = 0.8
knapp_share = 0.4
source = "Testwert"

[modes.walk]
speed_kmh = 5.0

[defaults.thresholds.walk]
minutes = 10
source = "Testwert"
[defaults.thresholds.bike]
minutes = 10
source = "Testwert"
[defaults.thresholds.drive]
minutes = 8
source = "Testwert"
[defaults.thresholds.transit]
metres = 600
source = "Testwert (ungenutzt: keine ÖPNV-Kategorie)"

[categories.nahversorgung]
label = "Nahversorgung"
label_en = "Local shop"
icon = "store"
color = "#00aa00"
osm = ["shop=supermarket", "shop=convenience"]
[categories.nahversorgung.thresholds.walk]
minutes = 12
source = "Testwert"

[categories.arzt]
label = "Arztpraxis"
osm = ["amenity=doctors"]

[categories.apotheke]
label = "Apotheke"
osm = ["amenity=pharmacy"]
[categories.apotheke.thresholds.drive]
minutes = 6
source = "Testwert"
"""

FILE_DISTRICTS = """\
source = "file"
file = "bezirke.geojson"
name_column = "ortsname"
municipality_column = "gemeinde"
population_column = "einwohner"
file_source = "Testbezirke (synthetisch)"
licence = "Testlizenz"
centres_file = "orte.csv"
"""

CENTRES_DISTRICTS = """\
source = "centres"
centres_file = "mittelpunkte.csv"
"""

#: Expected thresholds (minutes) per (category, mode) from the TOML above.
THRESHOLDS = {("nahversorgung", "walk"): 12.0, ("nahversorgung", "bike"): 10.0,
              ("nahversorgung", "drive"): 8.0, ("arzt", "walk"): 10.0, ("arzt", "drive"): 8.0,
              ("apotheke", "walk"): 10.0, ("apotheke", "drive"): 6.0}


def _box(x0: float, y0: float, x1: float, y1: float) -> list:
    """A GeoJSON polygon ring of a lon/lat box."""
    return [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]


def write_region(folder: Path, districts: str) -> Path:
    """The region file plus its own districts GeoJSON and centres CSVs, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    feats = [{"type": "Feature",
              "properties": {"ortsname": n, "gemeinde": m, "einwohner": pop},
              "geometry": {"type": "Polygon", "coordinates": _box(*b)}}
             for n, (b, m, pop) in DISTRICTS.items()]
    (folder / "bezirke.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    with (folder / "orte.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "municipality", "kind", "population", "lat", "lon"])
        for n, (b, m, _pop) in DISTRICTS.items():
            w.writerow([n, m, "ortsteil", "", (b[1] + b[3]) / 2, (b[0] + b[2]) / 2])
    with (folder / "mittelpunkte.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "municipality", "kind", "population", "lat", "lon"])
        w.writerows(CENTRES)
    path = folder / "region.toml"
    path.write_text(REGION_TOML.format(rid=REGION_ID, name=REGION_NAME, unit=UNIT_LABEL,
                                       districts=districts), encoding="utf-8")
    return path


def repo_data_listing() -> dict[str, tuple[int, int]]:
    """Every path under the repo's data/ with size and mtime: must not change."""
    return {p.relative_to(REPO_DATA).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in REPO_DATA.rglob("*")}


def assert_repo_data_untouched(before: dict[str, tuple[int, int]]) -> None:
    """No file added to or changed in the repo's data/ since ``before``."""
    after = repo_data_listing()
    assert sorted(set(after) - set(before)) == [], "neue Dateien in data/"
    changed = [p for p in before if p in after and after[p] != before[p]]
    assert changed == [], "geänderte Dateien in data/"


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    """One CLI run (these are end-to-end CLI tests): exit code, stdout, stderr; never a
    traceback."""
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return rc, out, err
