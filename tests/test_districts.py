"""Districts: approximate Voronoi cells from the centres file, files, OSM boundaries."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely

from dorfkarte import districts as D
from dorfkarte.enums import PopulationSource
from dorfkarte.errors import DataError
from dorfkarte.workspace import open_snapshot


def test_centres_fallback_without_snapshot(region, tmp_path):
    snap = open_snapshot(region, tmp_path)
    d = snap.layers["districts"]
    assert len(d) == 29 and d["approx"].all()
    assert (d["kind"] == "ortsteil").sum() == 27 and (d["kind"] == "kernort").sum() == 2
    assert set(d["municipality"]) == {"Bad Belzig", "Wiesenburg/Mark"}
    assert snap.info["districts"].embedded and snap.info["districts"].note == "Näherung"
    assert "Näherung" in d["source"].iloc[0]
    # cells do not overlap and each holds its own centre
    proj = d.to_crs(region.crs)
    total = shapely.union_all(proj.geometry.to_numpy()).area
    assert total == pytest.approx(proj.area.sum(), rel=1e-6)
    centres = D.read_centres(region)
    pts = gpd.GeoSeries(gpd.points_from_xy(centres["lon"], centres["lat"]),
                        crs="EPSG:4326").to_crs(region.crs)
    for geom, pt in zip(proj.geometry, pts, strict=True):
        assert geom.covers(pt)
    # every unit has residents: 28 published figures, the Kernstadt from the census grid
    assert d["population"].notna().all() and (d["population"] > 0).all()
    src = d.set_index("name")["population_source"]
    assert (src == PopulationSource.PUBLISHED).sum() == 28
    assert src["Bad Belzig (Kernstadt)"] == PopulationSource.CENSUS


def test_norm_name():
    assert D.norm_name("Bad Belzig (Kernstadt)") == D.norm_name("Bad Belzig")
    assert D.norm_name("Lüsse") == "lüsse"


def _region_with(region, **changes):
    from dataclasses import replace

    return replace(region, districts=replace(region.districts, **changes))


def test_districts_from_file_and_population_join(region, tmp_path):
    gj = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {
        "name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}, "features": [{
            "type": "Feature", "properties": {"ortsteil": "Borne"},
            "geometry": {"type": "Polygon", "coordinates": [[[12.52, 52.10], [12.55, 52.10],
                                                             [12.55, 52.12], [12.52, 52.10]]]}}]}
    f = tmp_path / "bezirke.geojson"
    f.write_text(json.dumps(gj), encoding="utf-8")
    r = _region_with(region, source="file", file=f, name_column="ortsteil")
    d = D.resolve(r, None, None)
    assert d["name"].tolist() == ["Borne"] and not d["approx"].any()
    centres = D.read_centres(region).set_index("name")
    assert d["population"].iloc[0] == centres.loc["Borne", "population"]


def test_file_without_name_column(region, tmp_path):
    f = tmp_path / "b.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"id": 1},
        "geometry": {"type": "Point", "coordinates": [12.5, 52.1]}}]}), encoding="utf-8")
    with pytest.raises(DataError, match=r"b\.geojson: Namensspalte 'name' fehlt \(vorhanden: id\)"):
        D.resolve(_region_with(region, source="file", file=f), None, None)


def test_no_boundaries_and_no_fallback_is_an_error(region):
    with pytest.raises(DataError, match="admin_level=9"):
        D.resolve(_region_with(region, fallback=None), None, None)


def test_bad_centres_file(region, tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("name,lat,lon\nA,52.1,12.5\nB,x,12.6\n", encoding="utf-8")
    with pytest.raises(DataError, match="Zeile 3: 'lat' ist keine Zahl"):
        D.read_centres(_region_with(region, centres_file=f))



def test_arc_minute_centres_move_to_the_villages_own_stops(region) -> None:
    """Medewitz's infobox centre (52°03'N 12°23'E) lies ~1.1 km from its stops; the own
    stops ("Medewitz, Dorf" etc., not "Medewitzerhütten") give the refined centre."""
    import pandas as pd

    from dorfkarte.districts import read_centres

    raw = pd.read_csv(region.districts.centres_file).set_index("name")
    centres = read_centres(region).set_index("name")
    stops = pd.read_csv(region.districts.centre_stops_file)
    own = stops[(stops["ortsteil"] == "Medewitz") & stops["stop_name"].str.startswith("Medewitz,")]
    assert centres.at["Medewitz", "lat"] == pytest.approx(own["lat"].mean(), abs=1e-6)
    assert centres.at["Medewitz", "lon"] == pytest.approx(own["lon"].mean(), abs=1e-6)
    assert "arc-minute" in centres.at["Medewitz", "coord_source"]  # original kept for provenance
    assert "Medewitzerhütten" not in centres.at["Medewitz", "coord_source"]
    # Precise centres are left as they are.
    precise = raw.index[~raw["coord_source"].str.contains("arc-minute")]
    assert (centres.loc[precise, ["lat", "lon"]] == raw.loc[precise, ["lat", "lon"]]).all().all()
