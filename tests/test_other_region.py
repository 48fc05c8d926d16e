"""Another rural region, end to end through the CLI: nothing of Hoher Fläming is assumed.

SYNTHETIC TEST DATA: the region "Testkreis Nordost", its districts file, centres file and
listings are made up here and describe no real place. It reuses the municipalities of the
synthetic OSM extract (tests/osmfixtures.py) in another combination ("Bad Belzig" found by
name only, "Nachbargemeinde Test" by AGS), with its own districts (GeoJSON with custom column
names), three categories of its own with their own thresholds and gap limits, another
metric CRS (EPSG:3035), a smaller buffer, no transit stops file, and its own data folder.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import osmfixtures as fx
import pandas as pd
import pyogrio
import pytest
from other_region import (
    CATEGORIES,
    CENTRES,
    CENTRES_DISTRICTS,
    DISTRICTS,
    FILE_DISTRICTS,
    FOREIGN_LABELS,
    REGION_ID,
    REGION_NAME,
    REPO,
    THRESHOLDS,
    UNIT_LABEL,
    assert_repo_data_untouched,
    repo_data_listing,
    run,
    write_region,
)

from dorfkarte.cli import build_parser, main, subcommand_parsers
from dorfkarte.region import GapClasses, load_region
from dorfkarte.snapshot import snapshot_path


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Region files, the synthetic extract, and the import run once for this module."""
    base = tmp_path_factory.mktemp("other-region")
    before = repo_data_listing()
    region = write_region(base / "region", FILE_DISTRICTS)
    osm = fx.write_osm_xml(base / "extract" / "testkreis.osm")
    data = base / "data"
    env_data = base / "env-data"  # $DORFKARTE_DATA: must lose against --data-dir
    env_data.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DORFKARTE_DATA", str(env_data))
        # options before the command name
        rc = main(["--region", str(region), "--data-dir", str(data), "import-osm", str(osm)])
    return {"base": base, "region": region, "data": data, "import_rc": rc, "before": before,
            "env_data": env_data}


def test_import_writes_only_into_the_given_data_dir(other):
    assert other["import_rc"] == 0
    data = Path(other["data"])
    snap = snapshot_path(data, REGION_ID)
    assert snap.is_file()
    assert sorted(p.name for p in (data / "snapshots").iterdir()) == [f"{REGION_ID}.gpkg"]
    layers = {name for name, _geom in pyogrio.list_layers(snap)}
    assert {"municipalities", "amenities", "homes", "edges_walk", "edges_drive"} <= layers
    # only this region's categories were classified; Kita, school, bank... are not kept
    am = pyogrio.read_dataframe(snap, layer="amenities")
    cats = {c for v in am["category"] for c in str(v).split(";")}
    assert cats == set(CATEGORIES)
    muni = pyogrio.read_dataframe(snap, layer="municipalities")
    assert sorted(muni["name"]) == ["Bad Belzig", "Nachbargemeinde Test"]
    # $DORFKARTE_DATA was not used, since --data-dir was given
    assert not any(Path(other["env_data"]).iterdir())
    assert_repo_data_untouched(other["before"])


def test_info_shows_the_other_region(other, capsys):
    before = repo_data_listing()
    # options after the command name
    rc, out, _ = run(capsys, "info", "--region", other["region"], "--data-dir", other["data"])
    assert rc == 0
    assert f"Region: {REGION_NAME} ({REGION_ID}), {UNIT_LABEL}" in out
    assert str(snapshot_path(other["data"], REGION_ID)) in out
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.strip()}
    assert lines["districts"].split()[1] == "3"
    assert "Testbezirke (synthetisch) (Testlizenz)" in lines["districts"]
    assert "stops" not in lines  # this region has no transit stops file
    counts = {cid: int(ln.split()[-3]) for ln in out.splitlines()  # columns: OSM, lokal
              for cid in CATEGORIES if ln.strip().endswith(f"({cid})")}
    # Testmarkt Ost, Testladen West, Grenzmarkt / three doctors' practices (any speciality) /
    # Test-Apotheke only: "Ferne Apotheke" lies outside municipalities + 2 km
    assert counts == {"nahversorgung": 3, "arzt": 3, "apotheke": 1}
    for label in (*CATEGORIES.values(),):
        assert label in out
    for label in FOREIGN_LABELS:
        assert label not in out

    rc, out, _ = run(capsys, "--data-dir", other["data"], "info", "--category",
                     "nahversorgung", "--region", other["region"])
    assert rc == 0 and "Nahversorgung (nahversorgung): 3 Einrichtungen" in out
    assert "Grenzmarkt" in out  # in Nachbargemeinde Test, a municipality of this region

    rc, _, err = run(capsys, "info", "--category", "lebensmittel", "--region", other["region"],
                     "--data-dir", other["data"])
    assert rc == 2
    assert err.strip().splitlines() == [
        "Fehler: Unbekannte Kategorie 'lebensmittel' (Region testkreis-nordost); "
        "bekannt: nahversorgung (Nahversorgung), arzt (Arztpraxis), apotheke (Apotheke)"]
    assert_repo_data_untouched(before)


def test_analyse_uses_the_regions_units_categories_and_thresholds(other, capsys, tmp_path):
    before = repo_data_listing()
    out_dir = tmp_path / "ergebnis"
    rc, out, _ = run(capsys, "--region", other["region"], "analyse", "--out", out_dir,
                     "--data-dir", other["data"])
    assert rc == 0
    assert out.startswith(f"{REGION_NAME}: ") and ", 3 Ortsteile, 27 Zeilen" in out
    t = pd.read_csv(out_dir / "coverage.csv")
    assert set(t["district"]) == set(DISTRICTS)
    assert set(t["category"]) == set(CATEGORIES)
    assert dict(zip(t["category"], t["category_label"], strict=True)) == CATEGORIES
    # no category with source "transit": only the three network modes
    assert set(t["mode"]) == {"walk", "bike", "drive"} and len(t) == 3 * 3 * 3
    for (cid, mode), minutes in THRESHOLDS.items():
        sel = t[(t["category"] == cid) & (t["mode"] == mode)]
        assert (sel["threshold"] == minutes).all() and (sel["unit"] == "min").all(), (cid, mode)
    # municipality and residents from the file's own column names
    per = t.drop_duplicates("district").set_index("district")
    assert per["municipality"].to_dict() == {n: m for n, (_b, m, _p) in DISTRICTS.items()}
    assert per["population"].to_dict() == {n: float(p) for n, (_b, _m, p) in DISTRICTS.items()}
    # every row has data (street networks, services of each category) and is classed with
    # this region's limits (ok >= 0.8, knapp >= 0.4), not the shipped 0.9 / 0.5
    assert (t["method"] == "network").all()
    assert t["share_within"].notna().all()
    gaps = GapClasses(ok_share=0.8, knapp_share=0.4)
    assert [gaps.classify(s) for s in t["share_within"]] == t["gap_class"].tolist()
    assert set(t["gap_class"]) <= {"ok", "tight", "gap"}
    # the walk speed of this region (5 km/h, not 4.5): a shop near the eastern village
    oststadt = t[(t["district"] == "Oststadt") & (t["category"] == "nahversorgung")]
    walk = float(oststadt.loc[oststadt["mode"] == "walk", "median"].iloc[0])
    assert 0 < walk < 12
    layers = {name for name, _geom in pyogrio.list_layers(out_dir / "coverage.gpkg")}
    # the outlines used (here the snapshot's OSM municipalities) beside the results
    assert layers == {"coverage", "districts", "origins", "municipalities"}
    wide = pyogrio.read_dataframe(out_dir / "coverage.gpkg", layer="districts")
    assert sorted(wide["name"]) == sorted(DISTRICTS) and not wide["approx"].any()
    assert "gap__nahversorgung__walk" in wide.columns
    assert not any(c.startswith("gap__lebensmittel") for c in wide.columns)
    assert_repo_data_untouched(before)


def test_export_html_shows_the_other_region(other, capsys, tmp_path):
    if "export-html" not in build_parser().format_help():
        pytest.skip("export-html gibt es in diesem Stand noch nicht")
    before = repo_data_listing()
    page = tmp_path / "karte.html"
    rc, out, _ = run(capsys, "export-html", page, "--offline", "--category", "nahversorgung",
                     "--region", other["region"], "--data-dir", other["data"])
    assert rc == 0 and page.is_file() and "HTML-Karte (offline)" in out
    html = page.read_text(encoding="utf-8")
    for text in (REGION_NAME, "Nahversorgung", *DISTRICTS):
        assert text in html, text
    for label in ("Hausarzt", "Zahnarzt", "Grundschule", "Hoher Fläming"):
        assert label not in html, label
    rc, _, err = run(capsys, "export-html", tmp_path / "x.html", "--category", "hausarzt",
                     "--region", other["region"], "--data-dir", other["data"])
    assert rc == 2 and "Unbekannte Kategorie 'hausarzt'" in err
    assert not (tmp_path / "x.html").exists()
    assert_repo_data_untouched(before)


def test_listings_validate_against_the_other_region(other, capsys, tmp_path):
    if "listings" not in build_parser().format_help():
        pytest.skip("listings gibt es in diesem Stand noch nicht")
    before = repo_data_listing()
    f = tmp_path / "angebote.csv"
    f.write_text(
        "id;name;category;kind;lat;lon;ortsteil;opening_hours;source;example\n"
        "T-1;Praxis (erfunden);arzt;fixed;52,125;12,595;;Mo 09:00-12:00;Test;ja\n"
        "T-2;Sprechstunde (erfunden);arzt;mobile;;;Grenzfeld;We 10:00-11:00;Test;ja\n"
        "T-3;Falsche Kategorie;hausarzt;fixed;52,125;12,595;;;Test;ja\n",
        encoding="utf-8")
    rc, out, err = run(capsys, "listings", "validate", f, "--region", other["region"],
                       "--data-dir", other["data"])
    assert rc == 2
    assert ("Zeile 4, Feld 'category': Kategorie 'hausarzt' unbekannt; erlaubt: "
            "nahversorgung, arzt, apotheke") in err
    assert "2 gültig" in out  # the Ortsteil "Grenzfeld" is found in this region's centres
    good = tmp_path / "gut.csv"
    good.write_text("\n".join(f.read_text(encoding="utf-8").splitlines()[:3]) + "\n",
                    encoding="utf-8")
    rc, out, _ = run(capsys, "--region", other["region"], "--data-dir", other["data"],
                     "listings", "validate", good)
    assert rc == 0 and "Datei ist in Ordnung." in out
    # validate stores nothing
    assert not (Path(other["data"]) / "listings").exists() or not any(
        (Path(other["data"]) / "listings").iterdir())
    assert_repo_data_untouched(before)


def test_centres_as_districts(other, capsys, tmp_path):
    """The same region with approximate districts from a centres CSV of its own."""
    before = repo_data_listing()
    region = write_region(tmp_path / "region", CENTRES_DISTRICTS)
    r = load_region(region)
    assert r.districts.source == "centres" and r.districts.file is None
    data = tmp_path / "data"
    # the OSM snapshot does not depend on how districts are made: reuse the module's import
    target = snapshot_path(data, REGION_ID)
    target.parent.mkdir(parents=True)
    shutil.copyfile(snapshot_path(other["data"], REGION_ID), target)

    rc, out, _ = run(capsys, "info", "--region", region, "--data-dir", data)
    assert rc == 0
    dline = next(ln for ln in out.splitlines() if ln.startswith("districts"))
    assert dline.split()[1] == str(len(CENTRES)) and "Näherung" in dline

    out_dir = tmp_path / "ergebnis"
    rc, out, _ = run(capsys, "analyse", "--region", region, "--data-dir", data, "--out", out_dir)
    assert rc == 0
    t = pd.read_csv(out_dir / "coverage.csv")
    per = t.drop_duplicates("district").set_index("district")
    assert per["population"].to_dict() == {c[0]: float(c[3]) for c in CENTRES}
    assert per["municipality"].to_dict() == {c[0]: c[1] for c in CENTRES}
    assert set(t["category"]) == set(CATEGORIES)
    wide = pyogrio.read_dataframe(out_dir / "coverage.gpkg", layer="districts")
    assert wide["approx"].all()
    # the cells are clipped to this region's municipalities (Bad Belzig + Nachbargemeinde)
    west, _s, east, _n = wide.total_bounds
    assert west == pytest.approx(12.56, abs=1e-4) and east == pytest.approx(12.68, abs=1e-4)
    assert_repo_data_untouched(before)


# --- every command takes --region and --data-dir before and after its name ----------------


def _required_args(p: argparse.ArgumentParser) -> list[str]:
    """Values for a parser's required positionals and options (parsing only, never run)."""
    out: list[str] = []
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction | argparse._HelpAction):
            continue
        if not a.option_strings:
            out.append("x.csv")
        elif a.required:
            value = (str(next(iter(a.choices))) if a.choices
                     else "1" if a.type in (int, float) else "x")
            out += [a.option_strings[0], value]
    for g in p._mutually_exclusive_groups:  # e.g. --url | --file: one of them is needed
        if g.required and not any(a.required for a in g._group_actions):
            out += [g._group_actions[0].option_strings[0], "x"]
    return out


def _leaf_commands() -> list[tuple[tuple[str, ...], list[str]]]:
    parser = build_parser()
    leaves = []
    for path, p in subcommand_parsers(parser):
        if any(isinstance(a, argparse._SubParsersAction) for a in p._actions):
            continue
        # required arguments of the parents that come before the action name
        parents = [q for q_path, q in subcommand_parsers(parser)
                   if len(q_path) < len(path) and path[:len(q_path)] == q_path]
        args = [x for q in parents for x in _required_args(q)]
        leaves.append((path, [*path[:-1], *args, path[-1], *_required_args(p)]))
    return leaves


def test_every_command_accepts_region_and_data_dir_before_and_after():
    leaves = _leaf_commands()
    names = {path for path, _argv in leaves}
    assert {("info",), ("import-osm",), ("analyse",)} <= names
    common = ["--region", "/r/other.toml", "--data-dir", "/d/other"]
    parser = build_parser()
    for _path, argv in leaves:
        for placed in ([*common, *argv], [*argv, *common],
                       [common[0], common[1], *argv, common[2], common[3]]):
            try:
                ns = parser.parse_args(placed)
            except SystemExit:  # argparse prints the reason on stderr
                pytest.fail(f"dorfkarte {' '.join(placed)}: wird nicht angenommen")
            assert ns.region == Path("/r/other.toml"), placed
            assert ns.data_dir == Path("/d/other"), placed
            assert callable(getattr(ns, "func", None)), placed


def test_other_region_without_snapshot(other, capsys, tmp_path):
    """No OSM yet: the hint names this region's file and folder; nothing is a fake gap."""
    before = repo_data_listing()
    data = tmp_path / "leer"
    rc, out, _ = run(capsys, "info", "--region", other["region"], "--data-dir", data)
    assert rc == 0 and "Schnappschuss: keiner" in out
    assert f"dorfkarte fetch --region {other['region']} --data-dir {data}" in out
    assert f"dorfkarte import-osm DATEI.osm.pbf --region {other['region']}" in out
    # what still works is said for this region: districts from its file, no stops file
    assert "Ohne Schnappschuss arbeiten Ortsteile (aus der Bezirksdatei) trotzdem." in out
    assert "Haltestellen" not in out

    out_dir = tmp_path / "ergebnis"
    rc, out, _ = run(capsys, "analyse", "--out", out_dir, "--region", other["region"],
                     "--data-dir", data)
    assert rc == 0
    t = pd.read_csv(out_dir / "coverage.csv")
    assert set(t["district"]) == set(DISTRICTS) and set(t["category"]) == set(CATEGORIES)
    # no service point of any category is known: "keine Daten", never "Lücke"
    assert (t["gap_class"] == "no_data").all()
    assert "Ergebnis: ok 0, knapp 0, Lücke 0, keine Daten 27" in out
    assert not data.exists() or not any(data.rglob("*.gpkg"))
    assert_repo_data_untouched(before)



def test_districts_file_with_an_empty_name(capsys, tmp_path):
    region = write_region(tmp_path / "region", FILE_DISTRICTS)
    gj = json.loads((tmp_path / "region" / "bezirke.geojson").read_text(encoding="utf-8"))
    gj["features"][1]["properties"]["ortsname"] = " "
    (tmp_path / "region" / "bezirke.geojson").write_text(json.dumps(gj), encoding="utf-8")
    rc, _, err = run(capsys, "info", "--region", region, "--data-dir", tmp_path / "d")
    assert rc == 2
    assert err.strip().splitlines() == [
        f"Fehler: Bezirksdatei {tmp_path / 'region' / 'bezirke.geojson'}, Objekt 2: "
        "Namensspalte 'ortsname' ist leer"]

# --- data/regions/TEMPLATE.md stays true to what region.py reads ---------------------------

TEMPLATE = REPO / "data" / "regions" / "TEMPLATE.md"


def test_template_skeleton_is_a_loadable_region(tmp_path):
    import re

    text = TEMPLATE.read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", text, flags=re.DOTALL)
    assert block is not None
    toml = block.group(1)
    assert "<" in toml  # placeholders, not facts
    # the only placeholder the loader itself checks is the CRS
    toml = re.sub(r'crs = ".*"', 'crs = "EPSG:25833"', toml)
    path = tmp_path / "vorlage.toml"
    path.write_text(toml, encoding="utf-8")
    r = load_region(path)
    assert set(r.categories) == {"beispielkategorie", "haltestelle"}
    assert r.threshold("beispielkategorie", "drive").minutes == 20
    assert r.category("haltestelle").source == "transit"


def test_template_documents_every_key_the_loader_reads():
    import re

    code = (REPO / "src" / "dorfkarte" / "region.py").read_text(encoding="utf-8")
    keys = set(re.findall(r'\.get\("([a-z_]+)"', code))
    keys |= set(re.findall(r'_req\(\w+, "([a-z_]+)"', code))
    assert {"id", "crs", "name_column", "ok_share", "label"} <= keys
    doc = TEMPLATE.read_text(encoding="utf-8")
    forms = ("`{}`", "{} =", "[{}]", "[{}.", ".{}]", ".{}.")
    missing = sorted(k for k in keys if not any(f.format(k) in doc for f in forms))
    assert missing == []
