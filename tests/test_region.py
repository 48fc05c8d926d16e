"""Region model: the shipped region file, tag rules, and one-line errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dorfkarte.errors import RegionError, UnknownCategoryError
from dorfkarte.region import ALL_MODES, NO_DATA, GapClasses, load_region
from dorfkarte.tags import overpass_tags, parse_rule

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "data" / "regions" / "hoher-flaeming.toml"


def test_shipped_region(region):
    assert region.id == "hoher-flaeming" and region.crs == "EPSG:25833"
    assert [(m.name, m.ags) for m in region.municipalities] == [
        ("Bad Belzig", "12069020"), ("Wiesenburg/Mark", "12069665")]
    assert region.districts.source == "osm" and region.districts.admin_level == 9
    assert region.districts.fallback == "centres"
    assert region.districts.centres_file == (REPO / "data" / "ortsteile.csv").resolve()
    assert region.buffer_m == 5000
    # every category has a threshold with a source for every mode
    for cat in region.categories.values():
        assert set(cat.thresholds) == set(ALL_MODES), cat.id  # the shipped file has pt too
        for mode, th in cat.thresholds.items():
            assert (th.minutes or th.metres) and th.source, (cat.id, mode)
    assert region.threshold("zahnarzt", "drive").minutes == 20
    assert region.threshold("apotheke", "drive").minutes == 15
    assert region.category("haltestelle").source == "transit"
    assert region.modes.highway_kmh["residential"] == 30


def test_unknown_category_names_the_known_ones(region):
    with pytest.raises(UnknownCategoryError, match="'zahnartz'.*zahnarzt"):
        region.category("zahnartz")


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "r.toml"
    p.write_text(text, encoding="utf-8")
    return p


MINIMAL = """
[region]
id = "test"
name = "Testregion"
[[municipalities]]
name = "Musterstadt"
[districts]
source = "centres"
centres_file = "centres.csv"
[defaults.thresholds.walk]
minutes = 10
[defaults.thresholds.bike]
minutes = 10
[defaults.thresholds.drive]
minutes = 10
[defaults.thresholds.transit]
metres = 500
[categories.laden]
label = "Laden"
osm = ["shop=supermarket"]
"""


def test_any_region_can_be_described(tmp_path):
    r = load_region(_write(tmp_path, MINIMAL))
    assert r.id == "test" and r.districts.source == "centres"
    assert r.districts.centres_file == (tmp_path / "centres.csv").resolve()
    assert r.crs == "EPSG:3857" and r.buffer_m == 3000  # defaults
    assert r.category("laden").matches({"shop": "supermarket"})
    assert r.threshold("laden", "transit").metres == 500


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('id = "test"\n', "", "'region.id' fehlt"),
        ('label = "Laden"\n', "", "'categories.laden.label' fehlt"),
        ('centres_file = "centres.csv"\n', "", "'districts.centres_file' fehlt"),
        ('source = "centres"', 'source = "bezirke"', "erlaubt: osm, file, centres"),
        ("minutes = 10\n[defaults.thresholds.bike]", "minutes = -1\n[defaults.thresholds.bike]",
         "positive Zahl"),
        ('osm = ["shop=supermarket"]', "osm = []", "'categories.laden.osm' fehlt oder ist leer"),
        ('osm = ["shop=supermarket"]', 'osm = ["!shop"]', "mindestens eine positive"),
        ('osm = ["shop=supermarket"]', 'osm = ["shop"]', "keine Bedingung key=value"),
        ("[defaults.thresholds.transit]\nmetres = 500\n", "", "Modus 'transit' fehlt"),
        ("[[municipalities]]\nname = \"Musterstadt\"\n", "", "'municipalities' fehlt"),
    ],
)
def test_bad_region_files_name_the_problem(tmp_path, old, new, message):
    assert old in MINIMAL
    with pytest.raises(RegionError) as err:
        load_region(_write(tmp_path, MINIMAL.replace(old, new)))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("crs", "message"),
    [("EPSG:4326", "nicht metrisch"), ("EPSG:2263", "nicht metrisch"),
     ("EPSG:99999", "kein bekanntes Koordinatensystem")],
)
def test_crs_must_be_metric(tmp_path, crs, message):
    text = MINIMAL.replace('name = "Testregion"\n', f'name = "Testregion"\ncrs = "{crs}"\n')
    with pytest.raises(RegionError, match=message) as err:
        load_region(_write(tmp_path, text))
    assert "'region.crs'" in str(err.value) and "\n" not in str(err.value)
    ok = MINIMAL.replace('name = "Testregion"\n', 'name = "Testregion"\ncrs = "EPSG:3035"\n')
    assert load_region(_write(tmp_path, ok)).crs == "EPSG:3035"


def test_missing_and_broken_file(tmp_path):
    with pytest.raises(RegionError, match="nicht gefunden"):
        load_region(tmp_path / "fehlt.toml")
    with pytest.raises(RegionError, match="kein gültiges TOML"):
        load_region(_write(tmp_path, "[region\n"))


@pytest.mark.parametrize(
    ("rule", "tags", "expected"),
    [
        ("amenity=doctors&!healthcare:speciality", {"amenity": "doctors"}, True),
        ("amenity=doctors&!healthcare:speciality",
         {"amenity": "doctors", "healthcare:speciality": "general"}, False),
        ("amenity=doctors&healthcare:speciality=general",
         {"amenity": "doctors", "healthcare:speciality": "general;internal"}, True),
        ("building=*&addr:housenumber=*", {"building": "yes", "addr:housenumber": "3"}, True),
        ("building=*&addr:housenumber=*", {"building": "yes"}, False),
        ("amenity=school&school!=secondary", {"amenity": "school", "school": "secondary"}, False),
        ("amenity=school&school!=secondary", {"amenity": "school"}, True),
        ("shop=supermarket", {"shop": float("nan")}, False),
    ],
)
def test_tag_rules(rule, tags, expected):
    assert parse_rule(rule).matches(tags) is expected


def test_overpass_tags_superset(region):
    rules = [r for c in region.osm_categories() for r in c.rules]
    tags = overpass_tags(rules)
    assert "doctors" in tags["amenity"] and "supermarket" in tags["shop"]
    assert json.dumps(tags)  # plain JSON-able, as osmnx expects


@pytest.mark.parametrize(
    ("share", "expected"),
    [(1.0, "ok"), (0.9, "ok"), (0.8999, "tight"), (0.5, "tight"), (0.4999, "gap"),
     (0.0, "gap"), (None, NO_DATA), (float("nan"), NO_DATA)],
)
def test_gap_classes_classify(share, expected):
    assert GapClasses(ok_share=0.9, knapp_share=0.5).classify(share) == expected


def test_gap_classes_no_data_matches_coverage_and_region_limits(tmp_path):
    from dorfkarte import coverage

    # the region model's "no data" class is the one the coverage engine and UI use
    assert NO_DATA == coverage.NO_DATA and NO_DATA in coverage.GAP_CLASSES
    text = MINIMAL + '[gap_classes]\nok_share = 0.75\nknapp_share = 0.25\nsource = "Test"\n'
    gaps = load_region(_write(tmp_path, text)).gap_classes
    assert (gaps.ok_share, gaps.knapp_share, gaps.source) == (0.75, 0.25, "Test")
    assert [gaps.classify(x) for x in (0.8, 0.75, 0.5, 0.25, 0.2, float("nan"))] == [
        "ok", "ok", "tight", "tight", "gap", NO_DATA]


def test_gap_class_limits_must_be_ordered(tmp_path):
    bad = MINIMAL + "[gap_classes]\nok_share = 0.4\nknapp_share = 0.6\n"
    with pytest.raises(RegionError, match="knapp_share <= ok_share"):
        load_region(_write(tmp_path, bad))


def test_threshold_sources_name_the_factors_used(region) -> None:
    """Issue 14 item 10: a source text that cites a detour factor or a walking speed cites
    the ones the analysis uses, and its "rund N min" is what they give for its metres."""
    import re

    f = region.modes.detour_factor
    for cat in region.categories.values():
        for mode, th in cat.thresholds.items():
            text = th.source
            for found in re.findall(r"Umwegfaktor(?:\s+\w+)*?\s+(\d+,\d+)(?!\s*-)", text):
                assert float(found.replace(",", ".")) == f, (cat.id, mode, text)
            for kmh in re.findall(r"(\d+,\d+|\d+) km/h", text):
                if mode == "walk":
                    assert float(kmh.replace(",", ".")) == region.modes.walk_kmh, text
            m = re.search(r"([\d.]+) m Luftlinie.*rund (\d+) min", text)
            if m and mode == "walk":
                metres = float(m.group(1).replace(".", ""))
                minutes = metres * f / (region.modes.walk_kmh * 1000 / 60)
                assert abs(minutes - int(m.group(2))) <= 0.5, (text, minutes)
