"""Real-world extracts: cut at a bounding box, smaller than the region, odd values.

The extracts are SYNTHETIC (``osmfixtures``), cut here the way ``osmium extract -s simple``
and BBBike cut: nodes inside the box, every way with a node inside (with its full node
list, so nodes outside are missing), relations with a member inside, a ``<bounds>`` header.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import osmium
import pytest
from osmfixtures import write_osm_xml
from regionfiles import region_with_copies as region_copy

from dorfkarte.cli import main
from dorfkarte.errors import DataError
from dorfkarte.region import load_region
from dorfkarte.settings import default_region_path
from dorfkarte.snapshot import read_snapshot, snapshot_path
from dorfkarte.sources.osm import import_osm

REGION_BOX = (12.50, 52.10, 12.62, 52.16)


def bbox_cut(src: Path, out: Path, box: tuple[float, float, float, float]) -> Path:
    """``osmium extract -s simple`` in a few lines: what download sites produce."""
    inside: set[int] = set()
    for n in osmium.FileProcessor(str(src), osmium.osm.NODE):
        loc = n.location
        if box[0] <= loc.lon <= box[2] and box[1] <= loc.lat <= box[3]:
            inside.add(n.id)
    ways: set[int] = set()
    for w in osmium.FileProcessor(str(src), osmium.osm.WAY):
        if any(nd.ref in inside for nd in w.nodes):
            ways.add(w.id)
    header = osmium.io.Header()
    header.add_box(osmium.osm.Box(*box))
    if out.exists():
        out.unlink()
    with osmium.SimpleWriter(str(out), header=header) as wr:
        for obj in osmium.FileProcessor(str(src)):
            if obj.is_node() and obj.id in inside:
                wr.add_node(obj)
            elif obj.is_way() and obj.id in ways:
                wr.add_way(obj)  # full node list: the nodes outside are missing
            elif obj.is_relation() and any(
                    (m.type == "w" and m.ref in ways) or (m.type == "n" and m.ref in inside)
                    for m in obj.members):
                wr.add_relation(obj)
    return out


@pytest.fixture(scope="module")
def full_xml(tmp_path_factory) -> Path:
    return write_osm_xml(tmp_path_factory.mktemp("osm") / "full.osm")


@pytest.fixture(scope="module", params=["osm", "osm.pbf"])
def cut_import(request, full_xml, tmp_path_factory):
    """The region's municipalities whole, everything around them cut (streets too)."""
    work = tmp_path_factory.mktemp("cut")
    box = (12.495, 52.095, 12.625, 52.165)
    cut = bbox_cut(full_xml, work / f"cut.{request.param}", box)
    region = load_region(region_copy(work, lambda s: s.replace(
        "[modes.walk]", '[modes.walk]\ninclude = ["highway=cycleway"]')))
    path = import_osm(cut, region, work / "data")
    return cut, read_snapshot(path)


def test_bbox_cut_extract_imports_with_all_networks(cut_import):
    _cut, snap = cut_import
    for mode in ("walk", "bike", "drive"):
        assert snap.has(f"edges_{mode}"), mode  # no network vanishes
    note = snap.info["edges_drive"].note
    # how much was incomplete is said, with counts
    m = re.search(r"Auszug unvollständig: (\d+) Wege am Rand gekürzt", note)
    assert m and int(m.group(1)) >= 1, note
    assert re.search(r"\d+ angeschnittene Flächen weggelassen|\d+ unvollständige Relationen",
                     note), note
    # the cut secondary road keeps its part inside the file
    drive = snap.get("edges_drive")
    assert (drive["highway"].astype(str).str.contains("secondary")).any()
    assert snap.has("amenities") and snap.has("homes")


def test_region_larger_than_extract_is_said_and_mapped(cut_import):
    _cut, snap = cut_import
    note = snap.info["amenities"].note
    assert "deckt die Region samt 5000 m Puffer nicht ab" in note
    gap = snap.get("data_gap")
    assert gap is not None and len(gap) == 1
    assert 0.05 < float(gap["share"].iloc[0]) < 1.0
    # the gap lies outside the cut box
    x0, y0, x1, y1 = gap.total_bounds
    assert x0 < 12.495 or x1 > 12.625 or y0 < 52.095 or y1 > 52.165


def test_region_network_filter_from_region_file(cut_import):
    _cut, snap = cut_import
    walk = snap.get("edges_walk")
    # osmnx's walk filter drops highway=cycleway; the region file adds it back
    assert walk["highway"].astype(str).str.contains("cycleway").any()


def test_units_at_the_data_edge_are_named(cut_import, tmp_path):
    from dorfkarte.coverage import analyse
    from dorfkarte.snapshot import write_snapshot
    from dorfkarte.workspace import open_snapshot

    _cut, snap = cut_import
    region = load_region(default_region_path())
    data = tmp_path / "data"
    write_snapshot(snap, snapshot_path(data, region.id))
    result = analyse(open_snapshot(region, data), region, categories=["lebensmittel"],
                     modes=["walk"])
    assert any("Datenrand" in n for n in result.notes), result.notes
    # the units are data too: the result's set, the indicator column and the note agree
    assert result.data_edge_units
    note = next(n for n in result.notes if "Datenrand" in n)
    assert all(u in note for u in result.data_edge_units)
    ind = result.indicators
    assert set(ind.loc[ind["data_edge"], "district"]) == result.data_edge_units


def test_data_date_from_newest_object_and_import_time_apart(cut_import):
    _cut, snap = cut_import
    info = snap.info["amenities"]
    # the fixture's objects carry no timestamps: unknown, said so; import time separate
    assert info.data_date == ""
    assert "Datenstand unbekannt" in info.note
    assert info.fetched_at[:4] >= "2025"


def test_pbf_header_replication_timestamp_is_the_data_date(full_xml, tmp_path, capsys):
    header = osmium.io.Header()
    header.set("osmosis_replication_timestamp", "2019-04-21T20:21:02Z")
    pbf = tmp_path / "dated.osm.pbf"
    with osmium.SimpleWriter(str(pbf), header=header) as wr:
        for obj in osmium.FileProcessor(str(full_xml)):
            wr.add(obj)
    data = tmp_path / "data"
    assert main(["import-osm", str(pbf), "--data-dir", str(data)]) == 0
    snap = read_snapshot(snapshot_path(data, "hoher-flaeming"))
    assert snap.info["amenities"].data_date.startswith("2019-04-21")
    capsys.readouterr()
    assert main(["info", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "Datenstand: 2019-04-21" in out and "importiert" in out
    from dorfkarte.export import data_date, import_date, info_panel

    assert data_date(snap) == "2019-04-21"
    region = load_region(default_region_path())
    panel = info_panel(snap, region, title="t", category=None, mode="walk", offline=True)
    assert "Datenstand: 2019-04-21" in panel and f"Import: {import_date(snap)}" in panel


def test_newest_object_timestamp_when_no_header(tmp_path, full_xml):
    text = full_xml.read_text(encoding="utf-8")
    text = text.replace('<node id="1001" version="1"',
                        '<node id="1001" version="1" timestamp="2020-02-03T04:05:06Z"', 1)
    xml = tmp_path / "stamped.osm"
    xml.write_text(text, encoding="utf-8")
    region = load_region(default_region_path())
    snap = read_snapshot(import_osm(xml, region, tmp_path / "data"))
    assert snap.info["amenities"].data_date.startswith("2020-02-03")


def test_municipality_cut_by_the_extract_is_its_own_message(full_xml, tmp_path):
    cut = bbox_cut(full_xml, tmp_path / "half.osm", (12.45, 52.05, 12.60, 52.20))
    data = tmp_path / "data"
    target = snapshot_path(data, "hoher-flaeming")
    target.parent.mkdir(parents=True)
    target.write_bytes(b"old snapshot")
    region = load_region(default_region_path())
    with pytest.raises(DataError, match="Bad Belzig .*gefunden, aber ihre Grenze ist im "
                                        "Auszug unvollständig"):
        import_osm(cut, region, data)
    assert target.read_bytes() == b"old snapshot"


def test_municipality_not_found_is_its_own_message(tmp_path):
    xml = write_osm_xml(tmp_path / "x.osm")
    text = xml.read_text(encoding="utf-8").replace("12069665", "00000000").replace(
        "Wiesenburg/Mark", "Anderswo")
    xml.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match="Wiesenburg/Mark .*nicht gefunden"):
        import_osm(xml, load_region(default_region_path()), tmp_path / "data")


def test_invalid_coordinate_is_one_line(tmp_path, capsys, full_xml):
    text = full_xml.read_text(encoding="utf-8")
    bad = tmp_path / "bad.osm"
    bad.write_text(re.sub(r'lat="[0-9.]+"', 'lat="999"', text, count=1), encoding="utf-8")
    data = tmp_path / "data"
    target = snapshot_path(data, "hoher-flaeming")
    target.parent.mkdir(parents=True)
    target.write_bytes(b"old snapshot")
    assert main(["import-osm", str(bad), "--data-dir", str(data)]) == 2
    err = capsys.readouterr().err.strip().splitlines()  # (the progress bar, then one line)
    errors = [ln for ln in err if ln.startswith("Fehler:")]
    assert len(errors) == 1 and errors[0] == err[-1] and "Traceback" not in "".join(err)
    assert errors[0].startswith("Fehler: OSM-Auszug bad.osm") and "999" in errors[0]
    assert target.read_bytes() == b"old snapshot"


def test_killed_import_leftovers_are_cleaned(tmp_path, full_xml):
    data = tmp_path / "data"
    snaps = data / "snapshots"
    snaps.mkdir(parents=True)
    dead = data / ".import-999999-abcd"  # a pid that does not run
    dead.mkdir()
    (dead / "region.osm").write_text("x")
    tmpgpkg = snaps / ".hoher-flaeming.abc.tmp.gpkg"
    journal = snaps / ".hoher-flaeming.abc.tmp.gpkg-journal"
    for p in (tmpgpkg, journal):
        p.write_bytes(b"half")
        old = time.time() - 3600
        os.utime(p, (old, old))
    live = data / f".import-{os.getpid()}-live"  # this process: left alone by others
    region = load_region(default_region_path())
    import_osm(full_xml, region, data)
    assert not dead.exists() and not tmpgpkg.exists() and not journal.exists()
    assert not live.exists() or live.is_dir()


def test_districts_file_is_the_area_without_centres_file(tmp_path):
    """``districts.source = "file"``: the file's outline is the area; no centres needed."""
    import json

    from osmfixtures import ORTSTEILE

    feats = [{"type": "Feature", "properties": {"name": name, "municipality": muni},
              "geometry": {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1],
                                                               [x0, y1], [x0, y0]]]}}
             for name, (muni, x0, y0, x1, y1) in ORTSTEILE.items()]
    units = tmp_path / "units.geojson"
    units.write_text(json.dumps({"type": "FeatureCollection", "features": feats}),
                     encoding="utf-8")

    def edit(s: str) -> str:
        start = s.index("[districts]")
        end = s.index("[transit]")
        return (s[:start] + f'[districts]\nsource = "file"\nfile = "{units}"\n\n' + s[end:])

    region = load_region(region_copy(tmp_path, edit))
    assert region.districts.centres_file is None
    xml = write_osm_xml(tmp_path / "nomuni.osm", municipalities=False)
    warnings: list[str] = []
    snap = read_snapshot(import_osm(xml, region, tmp_path / "data", warnings=warnings))
    assert "Fläche der Bezirksdatei" in snap.info["amenities"].note
    assert any("Bezirksdatei" in w for w in warnings)
    assert snap.has("edges_walk")
