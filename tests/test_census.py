"""Census grid: reading, checks, exact splits, secret values, the embedded default region."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from dorfkarte import census, cli
from dorfkarte.census import GridError
from dorfkarte.enums import PopulationSource
from dorfkarte.region import PopulationGrid, load_region
from dorfkarte.settings import embedded_data_dir

HEADER = "GITTER_ID_1km,Einwohner,Anteil_ab65,Anteil_unter18\n"
# Two hand-made 1 km cells side by side (EPSG:3035 lower-left corners), invented numbers.
GRID = HEADER + ("CRS3035RES1000mN3200000E4500000,100,20,-9\n"
                 "CRS3035RES1000mN3200000E4501000,37,-9,10\n")
SETTINGS = PopulationGrid(id_column="GITTER_ID_1km", residents_column="Einwohner",
                          share_65plus_column="Anteil_ab65",
                          share_under18_column="Anteil_unter18")


@pytest.fixture(scope="module")
def region():
    return load_region(embedded_data_dir() / "regions" / "hoher-flaeming.toml")


def _grid(tmp_path: Path, text: str = GRID, name: str = "grid.csv") -> gpd.GeoDataFrame:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return census.read_grid(SETTINGS, f)


def _units() -> gpd.GeoDataFrame:
    """Three units: the first cell cut 30/70 at x = 4500300, the second cell whole."""
    return gpd.GeoDataFrame(
        {"name": ["A", "B", "C"]},
        geometry=[shapely.box(4500000, 3200000, 4500300, 3201000),
                  shapely.box(4500300, 3200000, 4501000, 3201000),
                  shapely.box(4501000, 3200000, 4502000, 3201000)],
        crs="EPSG:3035")


def test_read_grid_cells_and_secret_shares(tmp_path):
    cells = _grid(tmp_path)
    assert list(cells["residents"]) == [100.0, 37.0]
    assert cells.crs == "EPSG:3035"
    assert shapely.area(cells.geometry.to_numpy()).tolist() == [1e6, 1e6]
    # -9 is "not published": NaN with a flag, never 0 %
    assert np.isnan(cells["share_under18"].iloc[0]) and cells["secret_under18"].iloc[0]
    assert np.isnan(cells["share_65plus"].iloc[1]) and cells["secret_65plus"].iloc[1]
    assert cells["share_65plus"].iloc[0] == 20.0 and not cells["secret_65plus"].iloc[0]


def test_split_by_area_adds_up_exactly(tmp_path):
    cells = _grid(tmp_path)
    s = census.split_by_area(cells, _units())
    per_cell = np.bincount(s.cell, weights=s.residents, minlength=2)
    # the cell totals, up to float rounding (1e-9 of a person)
    assert per_cell == pytest.approx([100.0, 37.0], rel=0, abs=1e-9)
    per_unit = census.totals_by_unit(s, 3)
    assert per_unit[0] == pytest.approx(30.0) and per_unit[1] == pytest.approx(70.0)
    assert per_unit[2] == 37.0


def test_split_by_area_keeps_residents_outside_the_units_outside(tmp_path):
    cells = _grid(tmp_path)
    only_a = _units().iloc[[0]]
    s = census.split_by_area(cells, only_a)
    assert s.residents.sum() == pytest.approx(30.0)  # the other 70 live elsewhere


def test_split_by_buildings_adds_up_exactly():
    res = np.array([100.0, 37.0, 11.0])
    cell = np.array([0, 0, 0, 1, 1, -1, 2])
    weight = np.array([120.0, 80.0, 3.3, 1.0, 1.0, 5.0, 0.0])  # floor areas; 0 -> counted
    r = census.split_by_buildings(cell, weight, res)
    assert r[5] == 0.0  # a home in no populated cell takes nobody
    assert np.bincount(cell[cell >= 0], weights=r[cell >= 0], minlength=3) == \
        pytest.approx([100.0, 37.0, 11.0], rel=0, abs=1e-9)
    assert r[0] / r[1] == pytest.approx(120 / 80)
    assert r[3] == r[4] == 18.5 and r[6] == 11.0


def test_place_dasymetric_homes_and_pieces(tmp_path):
    cells = _grid(tmp_path)
    units = _units()
    homes = np.array([[4500100.0, 3200500.0], [4500800.0, 3200500.0], [4500900.0, 3200100.0]])
    p = census.place(cells, units, homes, np.array(["building"] * 3))
    assert p.by_buildings
    # cell 1's 100 residents on its three homes (1/3 each): unit A one home, unit B two
    tot = p.totals(3)
    assert tot.sum() == pytest.approx(137.0, rel=0, abs=1e-9)
    assert tot[0] == pytest.approx(100 / 3) and tot[1] == pytest.approx(200 / 3)
    # cell 2 has no home: its residents stay on its piece, in its own cell
    piece = p.kind == "census"
    assert p.residents[piece].tolist() == [37.0]
    assert cells.geometry.iloc[1].contains(shapely.Point(p.xy[piece][0]))


def test_secret_share_takes_the_municipality_share_never_zero(tmp_path):
    cells = _grid(tmp_path)
    munis = gpd.GeoDataFrame({"name": ["M"]},
                             geometry=[shapely.box(4500000, 3200000, 4502000, 3201000)],
                             crs="EPSG:3035")
    shares = census.municipality_shares(cells, munis)
    assert shares["M"]["65plus"] == pytest.approx(20.0)  # only the published cell counts
    assert shares["M"]["under18"] == pytest.approx(10.0)
    age = census.age_weights(cells, np.array([0, 1]), np.array([100.0, 37.0]),
                             np.array(["M", "M"]), shares)
    assert age["pop_under18"][0] == pytest.approx(10.0) and age["age_imputed_under18"][0]
    assert age["pop_65plus"][1] == pytest.approx(7.4) and age["age_imputed_65plus"][1]
    assert not age["age_imputed_65plus"][0]


@pytest.mark.parametrize(("text", "expect"), [
    (HEADER + "CRS3035RES1000mN3200000E4500000,1,2,3\nN3200000E4501000,4,5,6\n",
     "Zeile 3, Spalte 'GITTER_ID_1km': 'N3200000E4501000' ist keine Gitterzellen-Kennung"),
    ("GITTER_ID_1km,Anteil_ab65,Anteil_unter18\nCRS3035RES1000mN3200000E4500000,1,2\n",
     "Zeile 1, Spalte 'Einwohner' fehlt"),
    (HEADER + "CRS3035RES1000mN3200000E4500000,viele,2,3\n",
     "Zeile 2, Spalte 'Einwohner': 'viele' ist keine Zahl"),
    (HEADER + "CRS3035RES1000mN3200000E4500000,5,140,3\n",
     "Zeile 2, Spalte 'Anteil_ab65': Anteil 140 liegt nicht zwischen 0 und 100"),
])
def test_bad_grid_one_line_naming_file_row_column(tmp_path, text, expect):
    with pytest.raises(GridError) as exc:
        _grid(tmp_path, text)
    msg = str(exc.value)
    assert "grid.csv" in msg and expect in msg and "\n" not in msg


def test_non_metric_crs_is_refused(tmp_path):
    f = tmp_path / "xy.csv"
    f.write_text("x,y,Einwohner\n12.5,52.1,10\n", encoding="utf-8")
    s = PopulationGrid(x_column="x", y_column="y", crs="EPSG:4326", cell_m=1000)
    with pytest.raises(GridError, match=r"xy\.csv: Koordinatensystem 'EPSG:4326' ist nicht "
                                        "metrisch"):
        census.read_grid(s, f)


def test_region_file_refuses_non_metric_population_crs(tmp_path):
    from dorfkarte.errors import RegionError
    from dorfkarte.region import _population

    with pytest.raises(RegionError, match="population.crs"):
        _population({"file": "g.csv", "x_column": "x", "y_column": "y", "cell_m": 100,
                     "crs": "EPSG:4326"}, tmp_path)


def test_cells_far_outside_the_region(tmp_path, region):
    # a cell in Bavaria in the region's grid: wrong file or swapped coordinates
    text = HEADER + "CRS3035RES1000mN3250000E4540000,5,1,1\nCRS3035RES1000mN2700000E4400000,9,1,1\n"
    cells = _grid(tmp_path, text)
    area = shapely.box(4530000, 3240000, 4560000, 3260000)
    with pytest.raises(GridError, match=r"grid\.csv, Zeile 3, Spalte 'GITTER_ID_1km': Zelle "
                                        r"CRS3035RES1000mN2700000E4400000 liegt mehr als 25 km"):
        census.check_extent(cells, area, "EPSG:3035", tmp_path / "grid.csv", "GITTER_ID_1km")


# ---- the embedded default: a fresh clone without any snapshot ------------------------

def test_fresh_install_real_outlines_and_residents(region, tmp_path):
    from dorfkarte.workspace import open_snapshot

    snap = open_snapshot(region, tmp_path)
    munis = snap.get("municipalities").to_crs(region.crs).set_index("ags")
    area = munis.area / 1e6
    assert area["12069020"] == pytest.approx(236.1, rel=0.01)  # Bad Belzig
    assert area["12069665"] == pytest.approx(220.1, rel=0.01)  # Wiesenburg/Mark
    assert "VG250" in snap.info["municipalities"].source
    d = snap.get("districts").set_index("name")
    assert len(d) == 29 and (d["population"] > 0).all()
    kern = d.loc["Bad Belzig (Kernstadt)"]
    assert kern["population_source"] == PopulationSource.CENSUS and kern["population"] > 5000
    # the units lie inside their municipality's outline (not a hull of the centres)
    dm = snap.get("districts").to_crs(region.crs)
    for _, u in dm.iterrows():
        outline = munis.loc[munis["name"] == u["municipality"]].geometry.iloc[0]
        assert outline.buffer(1).covers(u.geometry)
    cells = snap.get("census").to_crs(region.crs)
    census_sum = census.split_by_area(cells, munis.reset_index()).residents.sum()
    assert d["population"].sum() == pytest.approx(census_sum, rel=0.05)


def test_fresh_install_origins_and_groups(region, tmp_path):
    from dorfkarte.coverage import analyse
    from dorfkarte.workspace import open_snapshot

    snap = open_snapshot(region, tmp_path)
    res = analyse(snap, region, categories=["haltestelle"])
    o = res.origins
    assert set(o["kind"]) == {"census"} and (o["cell_id"] != "").all()
    # each unit's origins carry exactly its residents
    per = o.groupby("district")["population"].sum()
    d = res.districts.set_index("name")["population"]
    assert np.allclose(per[d.index].to_numpy(), d.to_numpy())
    for g in ("65plus", "under18"):
        assert o[f"pop_{g}"].notna().all() and (o[f"pop_{g}"] >= 0).all()
        imputed = o[f"age_imputed_{g}"].to_numpy(dtype=bool)
        assert imputed.any() and (o.loc[imputed, f"pop_{g}"] > 0).all()  # never 0 %
    assert any("Anteil der Gemeinde verwendet, nicht 0 %" in n for n in res.notes)
    assert any(n.startswith("Summe der Einheiten") for n in res.notes)
    assert any("veröffentlicht" in n and "schätzt" in n for n in res.notes)
    # ÖPNV-Nähe from where people live: no longer 0 m for every village
    tr = res.indicators[res.indicators["mode"] == "transit"]
    assert (tr["median"] > 0).all()
    assert tr["nearest_weight"].notna().all()
    # 65+: same times, other weights
    old = res.for_group("65plus")
    assert old.times is res.times and old.group == "65plus"
    ot = old.indicators[old.indicators["mode"] == "transit"].set_index("district")
    assert ot["population"].to_dict() == pytest.approx(
        o.groupby("district")["pop_65plus"].sum().to_dict())
    back = old.for_group("all").indicators
    assert back["share_within"].tolist() == pytest.approx(res.indicators["share_within"].tolist(),
                                                          nan_ok=True)
    moved = old.with_thresholds({("haltestelle", "transit"): 300.0})
    assert (moved.indicators["population"] == old.indicators["population"]).all()


def test_dasymetric_origins_with_homes(region, tmp_path):
    from dorfkarte.origins import build_origins
    from dorfkarte.workspace import open_snapshot

    snap = open_snapshot(region, tmp_path)
    # three invented homes inside Lütte's populated cells
    d = snap.get("districts")
    lutte = d[d["name"] == "Lütte"].to_crs(region.crs).geometry.iloc[0]
    cells = snap.get("census").to_crs(region.crs)
    cells = cells[cells.intersects(lutte)]
    big = cells.sort_values("residents").iloc[-1]
    inner = big.geometry.intersection(lutte)
    pts = [inner.representative_point()] * 3
    homes = gpd.GeoDataFrame({"osm_id": ["way/1", "way/2", "way/3"], "kind": "building"},
                             geometry=pts, crs=region.crs)
    snap.add("homes", homes, source="Test (erfunden)")
    origins, _xy, notes = build_origins(snap, region)
    lut = origins[origins["district"] == "Lütte"]
    assert (lut["kind"] == "building").sum() == 3
    assert lut["population"].sum() == pytest.approx(412.0)  # the published figure
    assert notes[0].startswith("Ausgangspunkte: Wohngebäude")


def test_import_population_official_csv(region, tmp_path, capsys):
    src = embedded_data_dir() / "zensus2022_1km_hoher_flaeming.csv"
    import pandas as pd

    df = pd.read_csv(src)
    off = df[["GITTER_ID_1km", "x_mp_1km", "y_mp_1km", "Einwohner"]].copy()
    off.loc[len(off)] = ["CRS3035RES1000mN2700000E4400000", 4400500, 2700500, 500]  # Bavaria
    f = tmp_path / "Zensus2022_Bevoelkerungszahl_1km-Gitter.csv"
    off.to_csv(f, sep=";", index=False)
    data = tmp_path / "data"
    assert cli.main(["--data-dir", str(data), "import-population", str(f)]) == 0
    stored = data / "population" / "hoher-flaeming.csv"
    kept = pd.read_csv(stored)
    assert 0 < len(kept) < len(off) and "CRS3035RES1000mN2700000E4400000" not in set(
        kept["GITTER_ID_1km"])
    before = stored.read_bytes()
    # a bad file: one line naming file, row, column; the stored import is unchanged
    bad = off.copy()
    bad.loc[3, "GITTER_ID_1km"] = "4478000-3210000"
    g = tmp_path / "kaputt.csv"
    bad.to_csv(g, sep=";", index=False)
    capsys.readouterr()
    assert cli.main(["--data-dir", str(data), "import-population", str(g)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "kaputt.csv, Zeile 5, Spalte 'GITTER_ID_1km'" in err
    assert stored.read_bytes() == before
    # the analysis now uses the imported cells (no age shares there: no age weights)
    from dorfkarte.workspace import open_snapshot

    snap = open_snapshot(region, data)
    assert "import-population" in snap.info["census"].note
    assert len(snap.get("census")) == len(kept)


def test_analyse_writes_municipalities_beside_districts_and_origins(tmp_path):
    import pyogrio

    out = tmp_path / "out"
    assert cli.main(["--data-dir", str(tmp_path / "data"), "analyse", "--out", str(out),
                     "--category", "haltestelle"]) == 0
    gpkg = out / "coverage.gpkg"
    layers = {n for n, _ in pyogrio.list_layers(gpkg)}
    assert {"coverage", "districts", "origins", "municipalities"} <= layers
    m = pyogrio.read_dataframe(gpkg, layer="municipalities")
    assert sorted(m["ags"]) == ["12069020", "12069665"] and m["source"].str.contains("VG250").all()
    d = pyogrio.read_dataframe(gpkg, layer="districts")
    assert set(d["population_source"]) == {"published", "census"}
    o = pyogrio.read_dataframe(gpkg, layer="origins")
    assert {"population", "pop_65plus", "pop_under18", "age_imputed_65plus"} <= set(o.columns)


def test_offline_map_outlines_census_routes_no_tiles(region, tmp_path):
    from dorfkarte.maps import build_map
    from dorfkarte.workspace import open_snapshot

    snap = open_snapshot(region, tmp_path)
    html = build_map(snap, region, basemap="own").get_root().render()
    assert "tile.openstreetmap.org" not in html
    assert "Einwohner je km\\u00b2 (Zensus 2022)" in html and "Bus- und Bahnlinien" in html
    assert "dk-census" in html and "dk-routes" in html
    assert "GeoBasis-DE / BKG" in html and "Zensus 2022, dl-de/by-2-0" in html
