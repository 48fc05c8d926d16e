"""SYNTHETIC OSM TEST DATA, made up for the tests. Nothing here describes the real region.

Two municipalities named like the region's (so the region file finds them by name and
AGS), fictitious Ortsteile ("Testdorf Nord", "Musterwalde", ...), a small street grid,
amenities of several categories, houses with addresses, landuse and water, all placed
inside the region's coordinates (lat 52.10-52.16, lon 12.50-12.62) on a made-up layout.

Used by other test modules::

    from osmfixtures import build_test_snapshot, write_osm_xml, write_osm_pbf

    snap_path = build_test_snapshot(data_dir)          # GeoPackage, < 5 s (cached per run)

Layout (lon x lat):

* ``Wiesenburg/Mark`` 12.50-12.56, ``Bad Belzig`` 12.56-12.62 (both lat 52.10-52.16)
* Ortsteile (admin_level 9): Beispielhausen, Musterwalde (west), Testdorf Nord,
  Testdorf Süd (east); the rest of each municipality becomes its Kernort
* village grids around (12.59, 52.13) and (12.545, 52.13), joined by a secondary road
* one supermarket just east of the border (inside the 5 km buffer), one pharmacy far
  outside (must be clipped away)
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

LABEL = "SYNTHETISCHE TESTDATEN (dorfkarte tests/osmfixtures.py), keine echten Daten"

MUNI_EAST = ("Bad Belzig", "12069020")
MUNI_WEST = ("Wiesenburg/Mark", "12069665")

#: Ortsteil relations: name -> (municipality, lon0, lat0, lon1, lat1)
ORTSTEILE: dict[str, tuple[str, float, float, float, float]] = {
    "Testdorf Nord": ("Bad Belzig", 12.56, 52.145, 12.62, 52.16),
    "Testdorf Süd": ("Bad Belzig", 12.56, 52.10, 12.585, 52.115),
    "Beispielhausen": ("Wiesenburg/Mark", 12.50, 52.135, 12.53, 52.16),
    "Musterwalde": ("Wiesenburg/Mark", 12.50, 52.10, 12.53, 52.125),
}

#: Expected classification of the named amenities (for assertions in tests).
#: name -> set of category ids it must get with the shipped region file.
EXPECTED_CATEGORIES: dict[str, set[str]] = {
    "Testmarkt Ost": {"lebensmittel"},
    "Testladen West": {"lebensmittel"},
    "Grenzmarkt": {"lebensmittel"},
    "Praxis Allgemein": {"hausarzt"},
    "Praxis Ohne Fach": {"hausarzt"},
    "Augenpraxis Test": set(),  # amenity=doctors with a speciality: not a GP
    "Test-Apotheke": {"apotheke"},
    "Grundschule Test": {"grundschule"},
    "Oberschule Test": set(),  # school=secondary: not a primary school
    "Kita Sonnenschein Test": {"kita"},
    "Testbank Automat": {"bank"},
    "Postfiliale Test": {"post"},
    "Gemeindehaus Test": {"treffpunkt"},
    "Ferne Apotheke": set(),  # outside the buffer: clipped away
}
#: Amenities (matching some category) that lie inside the region + buffer.
N_CLASSIFIED_INSIDE = 11


@dataclass
class _Builder:
    nodes: list[tuple[int, float, float, dict[str, str]]] = field(default_factory=list)
    ways: list[tuple[int, list[int], dict[str, str]]] = field(default_factory=list)
    relations: list[tuple[int, list[tuple[str, int, str]], dict[str, str]]] = field(
        default_factory=list
    )
    _nid: int = 1000
    _wid: int = 2000
    _rid: int = 3000
    _grid: dict[tuple[float, float], int] = field(default_factory=dict)

    def node(self, lon: float, lat: float, tags: dict[str, str] | None = None) -> int:
        self._nid += 1
        self.nodes.append((self._nid, round(lat, 7), round(lon, 7), dict(tags or {})))
        return self._nid

    def shared(self, lon: float, lat: float) -> int:
        """A node reused by every way passing through this coordinate (junctions)."""
        key = (round(lon, 6), round(lat, 6))
        if key not in self._grid:
            self._grid[key] = self.node(lon, lat)
        return self._grid[key]

    def way(self, refs: list[int], tags: dict[str, str] | None = None) -> int:
        self._wid += 1
        self.ways.append((self._wid, refs, dict(tags or {})))
        return self._wid

    def line(self, coords: Iterable[tuple[float, float]], tags: dict[str, str]) -> int:
        return self.way([self.shared(x, y) for x, y in coords], tags)

    def ring(self, coords: list[tuple[float, float]], tags: dict[str, str] | None = None) -> int:
        refs = [self.node(x, y) for x, y in coords]
        return self.way([*refs, refs[0]], tags)

    def box(self, lon0: float, lat0: float, lon1: float, lat1: float,
            tags: dict[str, str] | None = None) -> int:
        return self.ring([(lon0, lat0), (lon1, lat0), (lon1, lat1), (lon0, lat1)], tags)

    def relation(self, members: list[tuple[str, int, str]], tags: dict[str, str]) -> int:
        self._rid += 1
        self.relations.append((self._rid, members, dict(tags)))
        return self._rid


def _boundary(b: _Builder, name: str, level: int, bbox: tuple[float, float, float, float],
              extra: dict[str, str] | None = None) -> int:
    # Split the ring into two ways, as real boundaries are made of several ways.
    lon0, lat0, lon1, lat1 = bbox
    a, c = b.node(lon0, lat0), b.node(lon1, lat1)
    w1 = b.way([a, b.node(lon1, lat0), c])
    w2 = b.way([c, b.node(lon0, lat1), a])
    tags = {"type": "boundary", "boundary": "administrative", "admin_level": str(level),
            "name": name, "note": LABEL, **(extra or {})}
    return b.relation([("way", w1, "outer"), ("way", w2, "outer")], tags)


def _village(b: _Builder, lon0: float, lat0: float, nx: int, ny: int, dlon: float,
             dlat: float, street_prefix: str, houses: int, house_tags: dict[str, str],
             main_row: int = 2) -> None:
    """A grid of residential streets with houses along them."""
    xs = [lon0 + i * dlon for i in range(nx)]
    ys = [lat0 + j * dlat for j in range(ny)]
    for j, y in enumerate(ys):
        if j == main_row:
            continue  # the through road (secondary) runs here
        tags = {"highway": "residential", "name": f"{street_prefix}straße {j + 1}"}
        if j == 0:
            tags["maxspeed"] = "30"
        if j == ny - 1:
            tags["oneway"] = "yes"
        b.line([(x, y) for x in xs], tags)
    for i, x in enumerate(xs):
        b.line([(x, y) for y in ys],
               {"highway": "residential", "name": f"{street_prefix}weg {i + 1}"})
    # houses in the blocks, 25 m off the streets
    k = 0
    for j in range(ny - 1):
        for i in range(nx - 1):
            for (fx, fy) in ((0.25, 0.3), (0.7, 0.3), (0.25, 0.7), (0.7, 0.7)):
                if k >= houses:
                    return
                x = xs[i] + fx * dlon
                y = ys[j] + fy * dlat
                d = 0.00008
                tags = dict(house_tags)
                tags.update({"addr:street": f"{street_prefix}straße {j + 1}",
                             "addr:housenumber": str(k + 1)})
                b.box(x - d, y - d * 0.7, x + d, y + d * 0.7, tags)
                k += 1


def build_elements(*, districts: bool = True, municipalities: bool = True,
                   district_level: int = 9, houses_east: int = 40,
                   houses_west: int = 20) -> _Builder:
    """All synthetic objects; options drop parts to test fallbacks."""
    b = _Builder()
    east_box = (12.56, 52.10, 12.62, 52.16)
    west_box = (12.50, 52.10, 12.56, 52.16)
    if municipalities:
        _boundary(b, MUNI_EAST[0], 8, east_box, {"de:amtlicher_gemeindeschluessel": MUNI_EAST[1]})
        _boundary(b, MUNI_WEST[0], 8, west_box, {"de:amtlicher_gemeindeschluessel": MUNI_WEST[1]})
        # a neighbouring municipality that is not part of the region
        _boundary(b, "Nachbargemeinde Test", 8, (12.62, 52.10, 12.68, 52.16),
                  {"de:amtlicher_gemeindeschluessel": "99999999"})
        # a state border around everything: must not end up in the boundaries layer
        _boundary(b, "Bundesland (Test)", 4, (12.30, 51.90, 12.90, 52.40))
    if districts:
        for name, (_m, *bbox) in ORTSTEILE.items():
            _boundary(b, name, district_level, tuple(bbox),  # type: ignore[arg-type]
                      {"population": "120"})

    # --- streets -------------------------------------------------------------------------
    _village(b, 12.580, 52.125, 5, 5, 0.005, 0.0025, "Ost", houses_east,
             {"building": "house"})
    _village(b, 12.535, 52.125, 4, 4, 0.005, 0.0025, "West", houses_west,
             {"building": "residential"})
    # secondary road through both villages (junctions shared with the grids), on to the
    # neighbour municipality; faster outside the villages
    def sec(xs: list[float], maxspeed: str | None) -> None:
        tags = {"highway": "secondary", "ref": "L 00", "name": "Landstraße (Test)"}
        if maxspeed:
            tags["maxspeed"] = maxspeed
        b.line([(x, 52.13) for x in xs], tags)

    sec([12.505, 12.52, 12.535], "100")
    sec([12.535, 12.54, 12.545, 12.55], "50")
    sec([12.55, 12.58], "100")
    sec([12.58, 12.585, 12.59, 12.595, 12.60], "50")
    sec([12.60, 12.64], None)
    # tertiary north-south through the eastern village, implicit rural limit
    b.line([(12.590, 52.105), (12.590, 52.125)], {"highway": "tertiary", "maxspeed": "DE:rural"})
    b.line([(12.590, 52.135), (12.590, 52.155)], {"highway": "tertiary"})
    # footway and cycleway shortcuts (walk only / bike only), track, service road
    b.line([(12.560, 52.1275), (12.580, 52.1275)], {"highway": "footway"})
    b.line([(12.550, 52.13), (12.550, 52.1375), (12.580, 52.135)], {"highway": "cycleway"})
    b.line([(12.520, 52.13), (12.520, 52.150)], {"highway": "track", "tracktype": "grade2"})
    b.line([(12.600, 52.135), (12.604, 52.137)], {"highway": "service", "service": "driveway"})
    b.line([(12.545, 52.1325), (12.548, 52.134)], {"highway": "footway", "access": "private"})

    # --- amenities -----------------------------------------------------------------------
    b.node(12.5925, 52.1290, {"shop": "supermarket", "name": "Testmarkt Ost",
                              "opening_hours": "Mo-Sa 07:00-20:00", "note": LABEL})
    b.box(12.5430, 52.1310, 12.5436, 52.1314, {"building": "retail", "shop": "convenience",
                                               "name": "Testladen West", "note": LABEL})
    b.node(12.6300, 52.1302, {"shop": "supermarket", "name": "Grenzmarkt", "note": LABEL})
    b.node(12.5880, 52.1320, {"amenity": "doctors", "healthcare:speciality": "general",
                              "name": "Praxis Allgemein", "note": LABEL})
    b.node(12.5420, 52.1290, {"amenity": "doctors", "name": "Praxis Ohne Fach", "note": LABEL})
    b.node(12.5960, 52.1320, {"amenity": "doctors", "healthcare:speciality": "ophthalmology",
                              "name": "Augenpraxis Test", "note": LABEL})
    b.box(12.5950, 52.1278, 12.5956, 52.1282, {"building": "yes", "amenity": "pharmacy",
                                               "name": "Test-Apotheke", "note": LABEL})
    b.node(12.5855, 52.1335, {"amenity": "school", "isced:level": "1",
                              "name": "Grundschule Test", "note": LABEL})
    b.node(12.5980, 52.1340, {"amenity": "school", "school": "secondary", "isced:level": "2;3",
                              "name": "Oberschule Test", "note": LABEL})
    kita_outer = b.box(12.5470, 52.1280, 12.5478, 52.1286)
    b.relation([("way", kita_outer, "outer")],
               {"type": "multipolygon", "amenity": "kindergarten",
                "name": "Kita Sonnenschein Test", "note": LABEL})
    b.node(12.5905, 52.1305, {"amenity": "atm", "name": "Testbank Automat", "note": LABEL})
    b.node(12.5915, 52.1310, {"amenity": "post_office", "name": "Postfiliale Test",
                              "note": LABEL})
    b.box(12.5380, 52.1340, 12.5388, 52.1345, {"building": "civic",
                                               "amenity": "community_centre",
                                               "name": "Gemeindehaus Test", "note": LABEL})
    b.node(12.7500, 52.1300, {"amenity": "pharmacy", "name": "Ferne Apotheke", "note": LABEL})
    b.node(12.5900, 52.1290, {"amenity": "bench"})
    # a shed without address (not a home) and an address without a building
    b.box(12.5810, 52.1200, 12.5812, 52.1201, {"building": "shed"})
    b.node(12.5500, 52.1450, {"addr:street": "Einzelhof", "addr:housenumber": "1"})

    # --- landuse and water -----------------------------------------------------------------
    b.box(12.575, 52.122, 12.602, 52.138, {"landuse": "residential", "name": "Ost (Test)"})
    b.box(12.532, 52.122, 12.552, 52.136, {"landuse": "residential"})
    b.box(12.505, 52.140, 12.530, 52.158, {"landuse": "forest"})
    b.box(12.565, 52.105, 12.585, 52.118, {"landuse": "farmland"})
    b.box(12.605, 52.140, 12.612, 52.146, {"natural": "water", "water": "lake",
                                            "name": "Testsee"})
    b.line([(12.500, 52.118), (12.560, 52.119), (12.620, 52.121)],
           {"waterway": "stream", "name": "Testbach"})
    return b


def _xml(b: _Builder) -> str:
    out = ["<?xml version='1.0' encoding='UTF-8'?>",
           '<osm version="0.6" generator="dorfkarte-tests">',
           f"<!-- {LABEL} -->"]

    def tags_xml(tags: dict[str, str]) -> list[str]:
        return [f"  <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in sorted(tags.items())]

    for nid, lat, lon, tags in sorted(b.nodes):
        if tags:
            out.append(f'<node id="{nid}" version="1" lat="{lat}" lon="{lon}">')
            out += tags_xml(tags)
            out.append("</node>")
        else:
            out.append(f'<node id="{nid}" version="1" lat="{lat}" lon="{lon}"/>')
    for wid, refs, tags in sorted(b.ways, key=lambda w: w[0]):
        out.append(f'<way id="{wid}" version="1">')
        out += [f'  <nd ref="{r}"/>' for r in refs]
        out += tags_xml(tags)
        out.append("</way>")
    for rid, members, tags in sorted(b.relations, key=lambda r: r[0]):
        out.append(f'<relation id="{rid}" version="1">')
        out += [f'  <member type="{t}" ref="{r}" role="{role}"/>' for t, r, role in members]
        out += tags_xml(tags)
        out.append("</relation>")
    out.append("</osm>")
    return "\n".join(out) + "\n"


def write_osm_xml(path: str | Path, **options: object) -> Path:
    """Write the synthetic extract as OSM XML (``.osm``, or ``.osm.bz2`` by suffix).

    Options (all keyword): ``districts`` (default True: include the admin_level 9
    Ortsteile), ``municipalities`` (default True), ``district_level`` (9),
    ``houses_east`` (40), ``houses_west`` (20).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = _xml(build_elements(**options))  # type: ignore[arg-type]
    if path.suffix == ".bz2":
        import bz2

        path.write_bytes(bz2.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_osm_pbf(path: str | Path, **options: object) -> Path:
    """The same extract as ``.osm.pbf``, written with pyosmium's writer."""
    import osmium

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        xml = write_osm_xml(Path(tmp) / "fixture.osm", **options)
        if path.exists():
            path.unlink()
        with osmium.SimpleWriter(str(path)) as writer:
            for obj in osmium.FileProcessor(str(xml)):
                writer.add(obj)
    return path


def overpass_json(**options: object) -> dict:
    """The extract as an Overpass API JSON answer (``[out:json]``), for a fake server."""
    b = build_elements(**options)  # type: ignore[arg-type]
    elements: list[dict] = []
    for nid, lat, lon, tags in sorted(b.nodes):
        e: dict = {"type": "node", "id": nid, "lat": lat, "lon": lon}
        if tags:
            e["tags"] = tags
        elements.append(e)
    for wid, refs, tags in sorted(b.ways, key=lambda w: w[0]):
        e = {"type": "way", "id": wid, "nodes": refs}
        if tags:
            e["tags"] = tags
        elements.append(e)
    for rid, members, tags in sorted(b.relations, key=lambda r: r[0]):
        elements.append({"type": "relation", "id": rid,
                         "members": [{"type": t, "ref": r, "role": role}
                                     for t, r, role in members],
                         "tags": tags})
    return {"version": 0.6, "generator": "dorfkarte-tests (fake Overpass)",
            "osm3s": {"timestamp_osm_base": "2026-01-01T00:00:00Z",
                      "copyright": LABEL}, "elements": elements}


_BUILT: dict[tuple, Path] = {}
_CACHE_DIR: Path | None = None


def build_test_snapshot(data_dir: str | Path, region_path: str | Path | None = None) -> Path:
    """Import the synthetic extract into ``data_dir`` and return the snapshot path.

    The first call per region file runs the real import (``dorfkarte.sources.osm.import_osm``);
    later calls copy that file, so many tests can share it cheaply.
    """
    global _CACHE_DIR
    from dorfkarte.region import load_region
    from dorfkarte.settings import default_region_path
    from dorfkarte.snapshot import snapshot_path
    from dorfkarte.sources.osm import import_osm

    region = load_region(region_path or default_region_path())
    stat = region.path.stat()
    key = (str(region.path), stat.st_mtime_ns, stat.st_size)
    target = snapshot_path(data_dir, region.id)
    if key not in _BUILT or not _BUILT[key].exists():
        if _CACHE_DIR is None:
            _CACHE_DIR = Path(tempfile.mkdtemp(prefix="dorfkarte-osmfixture-"))
            atexit.register(shutil.rmtree, _CACHE_DIR, True)
        work = _CACHE_DIR / f"build{len(_BUILT)}"
        xml = write_osm_xml(work / "synthetic.osm")
        _BUILT[key] = import_osm(xml, region, work / "data")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_BUILT[key], target)
    return target
