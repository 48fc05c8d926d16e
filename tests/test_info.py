"""Issue 14 item 10: one truth between CLI and app (``dorfkarte info``, category labels)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from dorfkarte.cli import main
from dorfkarte.errors import UnknownCategoryError
from dorfkarte.listings import ListingStore


def _listings(d: Path) -> Path:
    ListingStore(d).upsert(gpd.GeoDataFrame(
        {"id": ["A", "B"], "name": ["Sprechstunde Lütte", "Rollender Laden"],
         "category": ["hausarzt", "lebensmittel"], "kind": ["mobile", "mobile"],
         "lat": [52.1386, 52.2205], "lon": [12.5843, 12.5962], "example": [False, True]},
        geometry=[Point(12.5843, 52.1386), Point(12.5962, 52.2205)], crs="EPSG:4326"),
        user="test")
    return d


def test_info_counts_listings_per_category_and_served_stops(tmp_path: Path, capsys) -> None:
    d = _listings(tmp_path / "data")
    assert main(["info", "--data-dir", str(d)]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.strip().startswith("Hausarzt"))
    assert line.split()[1:3] == ["–", "1"]  # OSM not searched, one local listing
    assert "nur lokale Angebote, OSM fehlt" in line
    food = next(x for x in out.splitlines() if x.strip().startswith("Lebensmittel"))
    assert "davon 1 Beispieldaten" in food
    # the stop count says which stops the analysis uses (weight >= min_weight)
    assert "davon" in out and "nur diese zählen in der Analyse" in out


def test_category_labels_work_like_ids(tmp_path: Path, capsys, region) -> None:
    d = _listings(tmp_path / "data")
    assert region.category_id("Hausarzt") == region.category_id("hausarzt") == "hausarzt"
    assert region.category_id("general practitioner") == "hausarzt"
    with pytest.raises(UnknownCategoryError, match="hausarzt \\(Hausarzt\\)"):
        region.category_id("Tierarzt")
    assert main(["info", "--category", "Hausarzt", "--data-dir", str(d)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Hausarzt (hausarzt): 0 Einrichtungen (OSM), 1 lokale Angebote")
    assert "Sprechstunde Lütte" in out
    out_dir = tmp_path / "out"
    assert main(["analyse", "--out", str(out_dir), "--category", "Hausarzt", "--mode", "walk",
                 "--data-dir", str(d)]) == 0
    assert main(["info", "--category", "Tierarzt", "--data-dir", str(d)]) == 2
    assert "Unbekannte Kategorie 'Tierarzt'" in capsys.readouterr().err
