"""A listing given only by its address is located from the OSM addresses of an imported snapshot."""

from __future__ import annotations

from pathlib import Path

import osmfixtures

from dorfkarte import listings as L

HEADER = "id;name;category;kind;address;opening_hours\n"


def test_address_only_listing_is_located_from_imported_homes(tmp_path: Path, region) -> None:
    data_dir = tmp_path / "data"
    osmfixtures.build_test_snapshot(data_dir)
    csv = tmp_path / "angebote.csv"
    csv.write_text(HEADER + "A1;Hofladen am Einzelhof;lebensmittel;fixed;Einzelhof 1;"
                   "Sa 09:00-12:00\n", encoding="utf-8")
    report = L.check_file(csv, region, data_dir)
    assert report.ok, report.summary()
    (row,) = report.listings.itertuples()
    # The address point written by the fixture at lon 12.5500, lat 52.1450.
    assert abs(row.geometry.x - 12.55) < 1e-6
    assert abs(row.geometry.y - 52.145) < 1e-6


def test_unknown_address_is_reported_with_row_and_field(tmp_path: Path, region) -> None:
    data_dir = tmp_path / "data"
    osmfixtures.build_test_snapshot(data_dir)
    csv = tmp_path / "angebote.csv"
    csv.write_text(HEADER + "A1;Hofladen;lebensmittel;fixed;Nirgendwoweg 99;Sa 09:00-12:00\n",
                   encoding="utf-8")
    report = L.check_file(csv, region, data_dir)
    assert not report.ok
    assert [(i.row, i.field) for i in report.errors] == [(2, "address")]
