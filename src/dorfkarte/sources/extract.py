"""Cut the region out of a local OSM extract (.osm, .osm.bz2, .osm.pbf) with pyosmium.

osmnx reads only OSM XML, and reading a whole Geofabrik Brandenburg extract (~200 MB pbf,
several GB as XML) into memory is not an option. pyosmium streams the file instead:

1. relations only: find the region's municipalities (by AGS, else by name) and remember
   the member ways of every boundary / multipolygon relation that might matter;
2. ways, then nodes, by id: the municipalities' outlines -> clip polygon (+ buffer);
3. one pass with a node location cache: keep relevant tagged nodes in the clip box,
   relevant ways with a node in it, relations with a member way in it;
4. ``BackReferenceWriter`` adds every node / way these refer to, into a small XML file
   that osmnx then reads (networks and features), exactly as for an Overpass download.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import osmium
import shapely
from shapely.geometry import LineString

from dorfkarte.errors import DataError
from dorfkarte.region import Region

#: Keys that make a way worth keeping (networks, homes, base map); category keys are added.
WAY_KEYS = ("highway", "building", "landuse", "natural", "water", "waterway", "leisure")
#: Keys that make a node worth keeping (addresses; category keys are added).
NODE_KEYS = ("addr:housenumber",)
AGS_KEYS = ("de:amtlicher_gemeindeschluessel", "ref:ags")
SUFFIXES = (".osm", ".osm.bz2", ".osm.pbf", ".pbf", ".osm.gz")


def check_extract_path(path: str | Path) -> Path:
    """The extract must exist and have a format pyosmium reads (by suffix)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"OSM-Auszug nicht gefunden: {path}")
    name = path.name.lower()
    if not any(name.endswith(s) for s in SUFFIXES):
        raise DataError(
            f"OSM-Auszug {path.name}: unbekanntes Format; erwartet .osm, .osm.bz2 oder .osm.pbf"
        )
    return path


def region_keys(region: Region) -> set[str]:
    """Tag keys the region's categories and home rules ask for."""
    keys: set[str] = set()
    for cat in region.osm_categories():
        for rule in cat.rules:
            keys.update(k for k, _ in rule.positive())
    for rule in region.home_rules:
        keys.update(k for k, _ in rule.positive())
    return keys


@dataclass
class BoundaryScan:
    """What the relation pass found."""

    municipalities: dict[str, int] = field(default_factory=dict)  # region name -> relation id
    candidates: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    member_ways: dict[int, list[tuple[int, str]]] = field(default_factory=dict)  # rel -> ways
    relevant_relations: set[int] = field(default_factory=set)
    relation_ways: set[int] = field(default_factory=set)


#: Administrative levels kept: Amt (7), Gemeinde (8), Ortsteil (9, 10) and below. Country
#: and state borders (2, 4) are huge and not needed.
MIN_ADMIN_LEVEL = 7


def local_level(tags: dict[str, str]) -> bool:
    """Is this an administrative boundary at municipal level or below?"""
    try:
        return int(tags.get("admin_level", "0")) >= MIN_ADMIN_LEVEL
    except ValueError:
        return False


def _run(desc: str, path: Path, fn: Callable[[], None]) -> None:
    """Turn pyosmium's parser errors into one-line DataErrors."""
    try:
        fn()
    except DataError:
        raise
    except (RuntimeError, ValueError, OSError, osmium.InvalidLocationError) as exc:
        # e.g. a node with lat="999": libosmium refuses the coordinate
        msg = " ".join(str(exc).split()) or type(exc).__name__
        raise DataError(f"OSM-Auszug {path.name} ist beschädigt oder nicht lesbar ({desc}): "
                        f"{msg}") from None


def scan_relations(path: Path, region: Region) -> BoundaryScan:
    """Pass 1: municipalities by AGS/name, and relations worth keeping."""
    scan = BoundaryScan()
    want_names = {m.name: m for m in region.municipalities}
    want_ags = {m.ags: m.name for m in region.municipalities if m.ags}
    keys = region_keys(region) | set(WAY_KEYS)

    def body() -> None:
        fp = osmium.FileProcessor(str(path), osmium.osm.RELATION)
        for rel in fp:
            tags = {t.k: t.v for t in rel.tags}
            rtype = tags.get("type")
            if rtype not in ("boundary", "multipolygon"):
                continue
            ways = [(m.ref, m.role) for m in rel.members if m.type == "w"]
            if tags.get("boundary") == "administrative":
                ags = next((tags[k] for k in AGS_KEYS if k in tags), None)
                if local_level(tags) or ags in want_ags or tags.get("name") in want_names:
                    scan.relevant_relations.add(rel.id)
                    scan.relation_ways.update(w for w, _ in ways)
                    scan.member_ways[rel.id] = ways
                if ags in want_ags:
                    scan.candidates.setdefault(want_ags[ags], []).insert(0, (rel.id, tags))
                elif tags.get("name") in want_names:
                    scan.candidates.setdefault(tags["name"], []).append((rel.id, tags))
            elif rtype == "multipolygon" and keys & tags.keys():
                scan.relevant_relations.add(rel.id)
                scan.relation_ways.update(w for w, _ in ways)

    _run("Relationen", path, body)
    for name, cands in scan.candidates.items():
        muni = want_names[name]

        def rank(c: tuple[int, dict[str, str]], muni_ags: str | None = muni.ags) -> tuple:
            tags = c[1]
            ags_hit = muni_ags is not None and any(tags.get(k) == muni_ags for k in AGS_KEYS)
            return (not ags_hit, tags.get("admin_level") != "8", tags.get("admin_level", "99"))

        scan.municipalities[name] = min(cands, key=rank)[0]
    return scan


def relation_polygons(path: Path, members: dict[int, list[tuple[int, str]]]
                      ) -> dict[int, shapely.Geometry]:
    """Passes 2+3: build (multi)polygons of a few relations from their member ways."""
    way_ids = {w for ways in members.values() for w, _ in ways}
    way_nodes: dict[int, list[int]] = {}
    coords: dict[int, tuple[float, float]] = {}

    def ways_pass() -> None:
        fp = osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
            osmium.filter.IdFilter(way_ids))
        for w in fp:
            way_nodes[w.id] = [n.ref for n in w.nodes]

    def nodes_pass() -> None:
        ids = {n for refs in way_nodes.values() for n in refs}
        fp = osmium.FileProcessor(str(path), osmium.osm.NODE).with_filter(
            osmium.filter.IdFilter(ids))
        for n in fp:
            if n.location.valid():
                coords[n.id] = (n.location.lon, n.location.lat)

    if not way_ids:
        return {}
    _run("Wege der Grenzen", path, ways_pass)
    _run("Punkte der Grenzen", path, nodes_pass)
    out: dict[int, shapely.Geometry] = {}
    for rid, ways in members.items():
        lines = []
        for wid, _role in ways:
            refs = way_nodes.get(wid)
            if refs is None or any(n not in coords for n in refs):
                lines = []  # outline cut by the extract: not a polygon we can trust
                break
            if len(refs) >= 2:
                lines.append(LineString([coords[n] for n in refs]))
        if not lines:
            continue
        area = shapely.build_area(shapely.union_all(lines))
        if not area.is_empty and area.area > 0:
            out[rid] = area
    return out


def node_bbox(path: Path) -> tuple[float, float, float, float] | None:
    """Extent of all nodes of the file (for files without a header bounding box)."""
    ext = [180.0, 90.0, -180.0, -90.0]

    def body() -> None:
        for n in osmium.FileProcessor(str(path), osmium.osm.NODE):
            loc = n.location
            if loc.valid():
                x, y = loc.lon, loc.lat
                ext[0], ext[1] = min(ext[0], x), min(ext[1], y)
                ext[2], ext[3] = max(ext[2], x), max(ext[3], y)

    _run("Ausdehnung", path, body)
    if ext[0] > ext[2]:
        return None
    return (ext[0], ext[1], ext[2], ext[3])


def _in_box(lon: float, lat: float, box: tuple[float, float, float, float]) -> bool:
    return box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


def extract_box(path: str | Path, out: str | Path, box: tuple[float, float, float, float],
                region: Region, scan: BoundaryScan | None = None) -> Path:
    """Pass 4: write everything relevant touching ``box`` (lon0, lat0, lon1, lat1) to ``out``.

    ``out`` gets every referenced node and way too (``BackReferenceWriter``), so the
    result is reference-complete OSM XML that osmnx can read.
    """
    path = check_extract_path(path)
    out = Path(out)
    if scan is None:
        scan = scan_relations(path, region)
    cat_keys = region_keys(region)
    node_keys = sorted(cat_keys | set(NODE_KEYS))
    way_keys = frozenset(cat_keys | set(WAY_KEYS))
    rel_ways = scan.relation_ways
    rel_ids = scan.relevant_relations
    touched: set[int] = set()
    m = NEAR_MARGIN_DEG
    near = (box[0] - 1.6 * m, box[1] - m, box[2] + 1.6 * m, box[3] + m)

    def body() -> None:
        if out.exists():
            out.unlink()
        with osmium.BackReferenceWriter(str(out), ref_src=str(path), overwrite=True) as writer:
            fp = (
                osmium.FileProcessor(str(path))
                .with_locations()
                .with_filter(osmium.filter.KeyFilter(*node_keys).enable_for(osmium.osm.NODE))
                .with_filter(osmium.filter.IdFilter(rel_ids).enable_for(osmium.osm.RELATION))
            )
            for obj in fp:
                if obj.is_node():
                    loc = obj.location
                    if loc.valid() and _in_box(loc.lon, loc.lat, box):
                        writer.add_node(obj)
                elif obj.is_way():
                    # where first: in a state-wide file almost every way is far from the
                    # region, and node locations are cheaper to test than tag lists
                    if not _way_touches(obj, box, near):
                        continue
                    wid = obj.id
                    in_rel = wid in rel_ways
                    if not in_rel and not any(k in way_keys for k in _keys(obj.tags)):
                        continue
                    if in_rel:
                        touched.add(wid)
                    if obj.tags:
                        writer.add_way(obj)
                elif obj.is_relation() and any(
                    m.type == "w" and m.ref in touched for m in obj.members
                ):
                    writer.add_relation(obj)

    _run("Ausschnitt", path, body)
    return out


def _keys(tags: osmium.osm.TagList) -> Iterable[str]:
    return (t.k for t in tags)


#: Ways with at most this many nodes are pre-checked by their end and middle nodes only.
SHORT_WAY_NODES = 40
#: Margin (degrees) for that pre-check: ~5 km, longer than a short way normally spans.
NEAR_MARGIN_DEG = 0.05


def _way_touches(way: osmium.osm.Way, box: tuple[float, float, float, float],
                 near: tuple[float, float, float, float]) -> bool:
    """Does a node of the way lie in ``box``?

    Reading node locations from Python is the slow part of a state-wide extract, so short
    ways whose first, middle and last nodes are all far from the box (outside ``near``)
    are skipped without looking at every node.
    """
    nodes = way.nodes
    n = len(nodes)
    if n == 0:
        return False
    if n <= SHORT_WAY_NODES:
        for i in (0, n // 2, n - 1):
            loc = nodes[i].location
            if loc.valid() and _in_box(loc.lon, loc.lat, near):
                break
        else:
            return False
    for nd in nodes:
        loc = nd.location
        if loc.valid() and _in_box(loc.lon, loc.lat, box):
            return True
    return False
