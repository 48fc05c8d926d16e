"""A SYNTHETIC data folder with hostile names (made here): the shipped Ortsteile and stops
plus a few made-up amenities, base-map features and a listing whose names are HTML/JS
injection attempts. Shared by the HTML export tests (file and browser).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point, Polygon

from dorfkarte.listings import ListingStore
from dorfkarte.region import Region
from dorfkarte.snapshot import Snapshot, snapshot_path, write_snapshot

EVIL = "<img src=x onerror=alert(1)>"
EVIL_JS = "`${alert(2)}`</script><script>alert(3)</script>"
EVIL_LISTING = "<img src=x onerror=alert(4)> Mobiler Laden"
SYNTH = "SYNTHETISCHE TESTDATEN (tests/evildata.py)"


def make_evil_data_dir(data_dir: Path, region: Region) -> Path:
    """A data folder whose snapshot and listings carry hostile names (synthetic data)."""
    snap = Snapshot(region_id=region.id)
    pts = [Point(12.594, 52.139), Point(12.60, 52.14), Point(12.43, 52.12)]
    snap.add("amenities", gpd.GeoDataFrame(
        {"osm_id": ["n1", "n2", "n3"], "name": [EVIL, EVIL_JS, "Laden & Co \"Süd\""],
         "category": ["lebensmittel", "lebensmittel;post", "lebensmittel"],
         "tags": ["{}", "{}", "{}"], "source": ["osm", "osm", "osm"]},
        geometry=pts, crs="EPSG:4326"), source=SYNTH)
    snap.add("landuse", gpd.GeoDataFrame(
        {"class": ["forest", "residential"]},
        geometry=[Polygon([(12.40, 52.10), (12.46, 52.10), (12.46, 52.14), (12.40, 52.14)]),
                  Polygon([(12.58, 52.13), (12.61, 52.13), (12.61, 52.15), (12.58, 52.15)])],
        crs="EPSG:4326"), source=SYNTH)
    snap.add("water", gpd.GeoDataFrame(
        {"class": ["stream"]},
        geometry=[LineString([(12.45, 52.20), (12.55, 52.16), (12.65, 52.12)])],
        crs="EPSG:4326"), source=SYNTH)
    snap.add("roads", gpd.GeoDataFrame(
        {"highway": ["secondary", "residential"], "name": [EVIL, "Weg"]},
        geometry=[LineString([(12.45, 52.09), (12.60, 52.14), (12.70, 52.20)]),
                  LineString([(12.59, 52.135), (12.60, 52.145)])],
        crs="EPSG:4326"), source=SYNTH)
    write_snapshot(snap, snapshot_path(data_dir, region.id))
    store = ListingStore(data_dir)
    store.upsert(gpd.GeoDataFrame(
        {"id": ["L1"], "name": [EVIL_LISTING], "category": ["lebensmittel"],
         "kind": ["mobile"], "lat": [52.20], "lon": [12.50], "example": [True]},
        geometry=[Point(12.50, 52.20)], crs="EPSG:4326"), user="test")
    return data_dir


def district_names(region: Region) -> list[str]:
    """The region's unit names from its centres file (what every export must show)."""
    return [str(n) for n in pd.read_csv(region.districts.centres_file)["name"]]
