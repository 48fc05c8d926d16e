"""Make a region-sized OSM file reference-complete before osmnx reads it.

Real extracts (BBBike, ``osmium extract -s simple``, download sites) cut ways at the
bounding box: a street that leaves the box keeps its full node list, but the nodes
outside are not in the file. osmnx then fails (``EmptyPartError`` for features, the
"clipping issue" error for graphs), and one cut street used to make a whole network vanish.

Here every way keeps the parts that are in the file: a cut street becomes the runs of
consecutive nodes that exist (the longest keeps the way's id, further runs get new
negative ids), an area whose outline is cut cannot be built and is dropped, and so is a
multipolygon / boundary relation with a member way missing. :class:`RepairReport` counts
all of it for the import summary; nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import osmium

from dorfkarte.errors import DataError

#: Keys that make a closed way an area (its outline must be complete).
AREA_KEYS = frozenset({"building", "landuse", "natural", "leisure", "amenity", "shop",
                       "water", "area", "boundary", "place", "tourism", "office"})
AREA_RELATIONS = frozenset({"multipolygon", "boundary"})


@dataclass
class RepairReport:
    """What was incomplete in the file (counts)."""

    ways_cut: int = 0  # kept in parts
    parts_added: int = 0
    ways_dropped: int = 0  # no two consecutive nodes in the file
    areas_dropped: int = 0
    relations_dropped: int = 0
    #: newest object timestamp (ISO 8601, "" if the file has none) and node extent
    newest: str = ""
    bbox: tuple[float, float, float, float] | None = None

    @property
    def incomplete(self) -> bool:
        return bool(self.ways_cut or self.ways_dropped or self.areas_dropped
                    or self.relations_dropped)

    def sentence(self) -> str:
        """German summary for the layers' note and the import summary ("" if complete)."""
        if not self.incomplete:
            return ""
        parts = []
        if self.ways_cut:
            parts.append(f"{self.ways_cut} Wege am Rand gekürzt (nur die Teile im Auszug)")
        if self.ways_dropped:
            parts.append(f"{self.ways_dropped} Wege ohne Punkte im Auszug weggelassen")
        if self.areas_dropped:
            parts.append(f"{self.areas_dropped} angeschnittene Flächen weggelassen")
        if self.relations_dropped:
            parts.append(f"{self.relations_dropped} unvollständige Relationen weggelassen")
        return "Auszug unvollständig: " + ", ".join(parts)


def _is_area(way: osmium.osm.Way, refs: list[int]) -> bool:
    if len(refs) < 4 or refs[0] != refs[-1]:
        return False
    tags = way.tags
    if tags.get("area") == "no":
        return False
    return any(k in tags for k in AREA_KEYS)


def repair(src: Path, out: Path) -> RepairReport:
    """Write ``src`` to ``out`` with every way / relation built only from what exists."""
    report = RepairReport()
    nodes: set[int] = set()
    lons: list[float] = []
    lats: list[float] = []
    try:
        for n in osmium.FileProcessor(str(src), osmium.osm.NODE):
            nodes.add(n.id)
            loc = n.location
            if loc.valid():
                lons.append(loc.lon)
                lats.append(loc.lat)
    except (RuntimeError, ValueError, osmium.InvalidLocationError) as exc:
        raise DataError(f"OSM-Auszug {src.name}: {' '.join(str(exc).split())}") from None
    if lons:
        report.bbox = (min(lons), min(lats), max(lons), max(lats))
    newest = None
    ways: set[int] = set()
    next_id = -1
    if out.exists():
        out.unlink()
    with osmium.SimpleWriter(str(out)) as writer:
        for obj in osmium.FileProcessor(str(src)):
            ts = obj.timestamp
            if ts is not None and ts.year > 1970 and (newest is None or ts > newest):
                newest = ts
            if obj.is_node():
                writer.add_node(obj)
            elif obj.is_way():
                refs = [n.ref for n in obj.nodes]
                if all(r in nodes for r in refs):
                    if len(refs) >= 2:
                        writer.add_way(obj)
                        ways.add(obj.id)
                    continue
                if _is_area(obj, refs):
                    report.areas_dropped += 1
                    continue
                runs, run = [], []
                for r in refs:
                    if r in nodes:
                        run.append(r)
                    else:
                        if len(run) >= 2:
                            runs.append(run)
                        run = []
                if len(run) >= 2:
                    runs.append(run)
                if not runs:
                    report.ways_dropped += 1
                    continue
                report.ways_cut += 1
                runs.sort(key=len, reverse=True)
                tags = {t.k: t.v for t in obj.tags}
                writer.add_way(obj.replace(nodes=runs[0]))
                ways.add(obj.id)
                for extra in runs[1:]:
                    writer.add_way(osmium.osm.mutable.Way(id=next_id, nodes=extra, tags=tags,
                                                          version=1))
                    report.parts_added += 1
                    next_id -= 1
            elif obj.is_relation():
                members = [(m.type, m.ref, m.role) for m in obj.members]
                ok = [(t == "w" and r in ways) or (t == "n" and r in nodes) or t == "r"
                      for t, r, _ in members]
                if all(ok):
                    writer.add_relation(obj)
                    continue
                lost_way = any(t == "w" and not k for (t, _, _), k in zip(members, ok,
                                                                          strict=True))
                keep = [m for m, k in zip(members, ok, strict=True) if k]
                if (obj.tags.get("type") in AREA_RELATIONS and lost_way) or not keep:
                    report.relations_dropped += 1
                    continue
                writer.add_relation(obj.replace(members=keep))  # e.g. a route: its parts
    if newest is not None:
        report.newest = newest.strftime("%Y-%m-%dT%H:%M:%SZ")
    return report
