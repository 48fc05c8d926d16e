"""Listings in a region other than Hoher Fläming: template, examples and source labels.

SYNTHETIC TEST DATA: the region, its districts, centres and (in one variant) stops come
from tests/other_region.py's helpers (made up, no real place); the stops file here
is invented too. No OSM import is needed: districts come from the region's own file.
"""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import pytest
from openpyxl import load_workbook
from other_region import (
    CATEGORIES,
    FILE_DISTRICTS,
    assert_repo_data_untouched,
    repo_data_listing,
    run,
    write_region,
)
from shapely.geometry import Point

from dorfkarte.listings import (
    EXAMPLE_NOTE,
    FIELDS,
    check_file,
    example_rows,
    merge_with_osm,
    source_label,
    template_rows,
)
from dorfkarte.region import load_region

#: Invented stops inside the synthetic districts (Oststadt, Grenzfeld) and one far outside.
STOPS = [("T:1", "Oststadt, Markt", 52.118, 12.585), ("T:2", "Grenzfeld, Kirche", 52.131, 12.651),
         ("T:3", "Fernhausen, Bahnhof", 53.500, 13.900)]
TRANSIT = """
[transit]
stops_file = "haltestellen.csv"
source = "Testverbund Nord (synthetisch), GTFS"
licence = "Testlizenz"
"""
#: What only the shipped region has: must not appear in another region's template.
FOREIGN = ("Lütte", "Reetz", "Dippmannsdorf", "lebensmittel", "hausarzt", "treffpunkt")


def _region(folder: Path, with_stops: bool) -> Path:
    path = write_region(folder, FILE_DISTRICTS)
    if with_stops:
        with (folder / "haltestellen.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["stop_id", "stop_name", "stop_lat", "stop_lon"])
            w.writerows(STOPS)
        path.write_text(path.read_text(encoding="utf-8") + TRANSIT, encoding="utf-8")
    return path


@pytest.mark.parametrize("with_stops", [False, True], ids=["centres-only", "with-stops"])
def test_template_fits_and_validates_in_another_region(with_stops: bool, tmp_path: Path,
                                                       capsys) -> None:
    before = repo_data_listing()
    region_file = _region(tmp_path / "region", with_stops)
    data = tmp_path / "data"
    common = ["--region", region_file, "--data-dir", data]
    for name in ("vorlage.csv", "vorlage.xlsx"):
        out = tmp_path / name
        rc, text, _ = run(capsys, "listings", "template", out, *common)
        assert rc == 0 and "testkreis-nordost" in text
        rc, text, err = run(capsys, "listings", "validate", out, *common)
        assert rc == 0, err
        assert "Datei ist in Ordnung." in text and "1 gültig" in text
    rows = list(csv.DictReader((tmp_path / "vorlage.csv").read_text("utf-8-sig").splitlines(),
                               delimiter=";"))
    [row] = rows
    assert row["category"] in CATEGORIES
    assert row["example"] == "ja" and row["note"] == EXAMPLE_NOTE
    assert row["name"].startswith("Beispiel")
    if with_stops:  # a stop of this region's timetable, inside the region
        assert row["stop"] in {"Oststadt, Markt", "Grenzfeld, Kirche"} and not row["ortsteil"]
    else:  # no stops: an Ortsteil centre of this region
        assert row["ortsteil"] in {"Oststadt", "Nordheide", "Grenzfeld"} and not row["stop"]
    csv_text = (tmp_path / "vorlage.csv").read_text("utf-8-sig")
    wb = load_workbook(tmp_path / "vorlage.xlsx")
    sheet_text = " ".join(str(c.value) for ws in wb.worksheets for r in ws.iter_rows()
                          for c in r if c.value is not None)
    for word in FOREIGN:
        assert word not in csv_text and word not in sheet_text, word
    cats = [r[0].value for r in wb["Kategorien"].iter_rows(min_row=2)]
    assert cats == list(CATEGORIES)

    # all example rows (anchor place, service at the anchor, coordinates...) fit as well
    out = tmp_path / "beispiele.csv"
    rc, _, _ = run(capsys, "listings", "template", out, "--examples", *common)
    assert rc == 0
    rc, text, err = run(capsys, "listings", "validate", out, *common)
    assert rc == 0, err
    assert "6 gültig" in text
    rep = check_file(out, load_region(region_file), data)
    assert rep.listings["example"].all()
    assert set(",".join(rep.listings["category"]).split(",")) <= set(CATEGORIES)
    anchored = rep.listings.set_index("id").loc["BSP-SPRECHSTUNDE", "location_source"]
    assert anchored == "Ankerort BSP-ANKER-LUETTE"
    # validating wrote nothing: no store in the data folder, nothing in the repo's data/
    assert not (data / "listings.gpkg").exists()
    assert_repo_data_untouched(before)


def test_shipped_region_keeps_its_example_rows(region, tmp_path: Path) -> None:
    from dorfkarte.listings.template import csv_bytes
    from dorfkarte.settings import embedded_data_dir

    assert example_rows(region, tmp_path) == example_rows()
    shipped = embedded_data_dir() / "examples" / "angebote_vorlage.csv"
    assert csv_bytes(template_rows(region, tmp_path)) == shipped.read_bytes()


def test_transit_source_is_named_after_the_region(region, tmp_path: Path) -> None:
    other = load_region(_region(tmp_path / "mit", with_stops=True))
    plain = load_region(_region(tmp_path / "ohne", with_stops=False))
    assert source_label("transit", other) == "ÖPNV (Testverbund Nord (synthetisch))"
    assert source_label("transit", plain) == "ÖPNV"
    assert source_label("transit") == "ÖPNV"
    assert source_label("transit", region).startswith("ÖPNV (VBB")  # the shipped region
    assert source_label("osm", other) == "OSM"

    listing = gpd.GeoDataFrame(
        {"name": ["Bürgerbus Halt Markt"], "category": ["arzt"], "ref": ["L-1"],
         "kind": ["mobile"], "example": [False], "opening_hours": ["Tu 10:00-11:00"]},
        geometry=[Point(12.585, 52.118)], crs="EPSG:4326")
    features = gpd.GeoDataFrame(
        {"name": ["Bürgerbus Halt Markt", "Praxis Nord"], "category": ["arzt", "arzt"],
         "osm_id": ["s1", "n2"], "source": ["transit", "osm"]},
        geometry=[Point(12.5851, 52.1180), Point(12.60, 52.15)], crs="EPSG:4326")
    merged = merge_with_osm(listing, features, region=other).set_index("osm_id")
    assert merged.loc["s1", "sources"] == "ÖPNV (Testverbund Nord (synthetisch)) + Angebotsliste"
    assert merged.loc["n2", "sources"] == "OSM"
    assert not merged["sources"].str.contains("VBB").any()
    assert list(FIELDS)[:3] == ["id", "name", "category"]
