"""Import of a Brandenburg-sized extract: wall time and peak memory of ``import-osm``.

The planner's offline path is ``dorfkarte import-osm brandenburg-latest.osm.pbf``. This
benchmark builds a SYNTHETIC extract of that size (made up here, not real data): a street
network (village grids joined by country roads every 2 km, tracks) and about 2.5 million
houses with addresses over ~30,000 km² (lon 11.6-14.4, lat 51.6-53.0), written with
pyosmium; in its middle the synthetic test region of ``tests/osmfixtures.py`` (the two
municipalities the shipped region file names). The file is built once and cached (default
``/work/cache/dorfkarte-bench`` or ``$DORFKARTE_BENCH_CACHE``).

The import runs in a child process (``python -m dorfkarte import-osm``) so its peak
memory is its own (``ru_maxrss`` of the child). Baseline measured in the same run: the
same import of the small fixture extract alone (the region's own data, no state around it),
so the ratio says what the state-wide file costs on top of the region's work.

Run: ``python benchmarks/bench_import.py [--rebuild]``; last line
``import_s=<float> import_peak_mb=<float> pbf_mb=<float>``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

LABEL = "SYNTHETISCH (benchmarks/bench_import.py), keine echten Daten"
AREA = (11.6, 51.6, 14.4, 53.0)  # lon0, lat0, lon1, lat1: ~190 km x 155 km
TILE_KM = 2.0
#: The fixture region (tests/osmfixtures.py) and a margin: no synthetic tile there.
FIXTURE_BOX = (12.49, 52.09, 12.63, 52.17)
HOUSES_PER_TILE = 360
#: The synthetic file's data date (pbf header), and its objects' timestamps up to it.
REPLICATION_TS = "2019-04-21T20:21:02Z"
VERSION = "v1"


def cache_dir() -> Path:
    return Path(os.environ.get("DORFKARTE_BENCH_CACHE", "/work/cache/dorfkarte-bench"))


def _tiles() -> list[tuple[int, int, float, float]]:
    dlon = TILE_KM / 68.0
    dlat = TILE_KM / 111.0
    nx = int((AREA[2] - AREA[0]) / dlon)
    ny = int((AREA[3] - AREA[1]) / dlat)
    out = []
    for j in range(ny):
        for i in range(nx):
            cx = AREA[0] + (i + 0.5) * dlon
            cy = AREA[1] + (j + 0.5) * dlat
            if FIXTURE_BOX[0] <= cx <= FIXTURE_BOX[2] and FIXTURE_BOX[1] <= cy <= FIXTURE_BOX[3]:
                continue
            out.append((i, j, cx, cy))
    return out


#: Node / way id blocks per tile (ids are unique and sorted by tile).
NODES_PER_TILE = 4000
WAYS_PER_TILE = 1000
ID0 = 10_000_000


def _tile(i: int, j: int, cx: float, cy: float, tile_index: int, nx: int, ny: int
          ) -> tuple[list, list]:
    """Nodes ``(id, lon, lat)`` and ways ``(id, refs, tags)`` of one tile."""
    dlon, dlat = TILE_KM / 68.0, TILE_KM / 111.0
    nid = ID0 + tile_index * NODES_PER_TILE
    wid = ID0 + tile_index * WAYS_PER_TILE
    nodes: list[tuple[int, float, float]] = []
    ways: list[tuple[int, list[int], dict[str, str]]] = []

    def node(x: float, y: float) -> int:
        nonlocal nid
        nid += 1
        nodes.append((nid, x, y))
        return nid

    def way(refs: list[int], tags: dict[str, str]) -> None:
        nonlocal wid
        wid += 1
        ways.append((wid, refs, tags))

    # village grid 5 x 5 at 100 m, centred on the tile centre
    sx, sy = 0.1 / 68.0, 0.1 / 111.0
    x0, y0 = cx - 2 * sx, cy - 2 * sy
    grid = [[node(x0 + a * sx, y0 + b * sy) for a in range(5)] for b in range(5)]
    village = f"Synthdorf {i}-{j}"
    for b in range(5):
        way(grid[b], {"highway": "residential", "name": f"{village} Straße {b + 1}"})
    for a in range(5):
        way([grid[b][a] for b in range(5)],
            {"highway": "residential", "name": f"{village} Weg {a + 1}"})
    # country roads to the east and north neighbour's grid (nodes every ~50 m); the
    # neighbour's corner node id is known from its id block
    def corner(ti: int, a: int, b: int) -> int:
        return ID0 + ti * NODES_PER_TILE + 1 + b * 5 + a

    def road(start: int, sxy: tuple[float, float], end: int, exy: tuple[float, float],
             tags: dict[str, str]) -> None:
        n = 32
        refs = [start]
        for k in range(1, n):
            f = k / n
            refs.append(node(sxy[0] + f * (exy[0] - sxy[0]),
                             sxy[1] + f * (exy[1] - sxy[1]) + 0.0004 * np.sin(f * 6)))
        refs.append(end)
        way(refs, tags)

    if i + 1 < nx:
        ti = tile_index + 1
        road(grid[2][4], (x0 + 4 * sx, y0 + 2 * sy), corner(ti, 0, 2),
             (x0 + dlon, y0 + 2 * sy), {"highway": "secondary" if j % 5 == 0 else "unclassified",
                                        "maxspeed": "100" if j % 5 == 0 else "DE:rural"})
    if j + 1 < ny:
        ti = tile_index + nx
        road(grid[4][2], (x0 + 2 * sx, y0 + 4 * sy), corner(ti, 2, 0),
             (x0 + 2 * sx, y0 + 4 * sy + dlat), {"highway": "tertiary" if i % 4 == 0 else "track"})
    # houses in the 16 blocks, 4 corner nodes each (closed ways)
    d = 0.00007
    per_block = HOUSES_PER_TILE // 16
    k = 0
    for b in range(4):
        for a in range(4):
            bx, by = x0 + a * sx, y0 + b * sy
            for h in range(per_block):
                fx = 0.12 + 0.76 * ((h % 5) / 4)
                fy = 0.12 + 0.76 * ((h // 5) / 4)
                x, y = bx + fx * sx, by + fy * sy
                c = [node(x - d, y - d * 0.7), node(x + d, y - d * 0.7),
                     node(x + d, y + d * 0.7), node(x - d, y + d * 0.7)]
                k += 1
                way([*c, c[0]], {"building": "house", "addr:housenumber": str(k),
                                 "addr:street": f"{village} Straße {b + 1}"})
    # a forest outline in the tile's corner (40 nodes)
    ang = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    fx0, fy0 = cx + 0.3 * dlon, cy + 0.3 * dlat
    ring = [node(fx0 + 0.003 * np.cos(t), fy0 + 0.002 * np.sin(t)) for t in ang]
    way([*ring, ring[0]], {"landuse": "forest"})
    assert nid - (ID0 + tile_index * NODES_PER_TILE) < NODES_PER_TILE
    return nodes, ways


def build_extract(path: Path) -> Path:
    """Write the synthetic state extract (fixture region in the middle) to ``path``."""
    import osmium

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from osmfixtures import build_elements

    dlon, dlat = TILE_KM / 68.0, TILE_KM / 111.0
    nx = int((AREA[2] - AREA[0]) / dlon)
    ny = int((AREA[3] - AREA[1]) / dlat)
    tiles = _tiles()
    # Roads into the skipped fixture tiles end at node ids that are not in the file, as
    # ways cut at an extract's border do: the import must cope with them.
    fixture = build_elements()
    tmp = path.with_name(path.stem + ".part.osm.pbf")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    if tmp.exists():
        tmp.unlink()
    Node, Way, Rel = osmium.osm.mutable.Node, osmium.osm.mutable.Way, osmium.osm.mutable.Relation
    header = osmium.io.Header()
    header.set("generator", LABEL)
    header.set("osmosis_replication_timestamp", REPLICATION_TS)
    t_max = int(datetime.fromisoformat(REPLICATION_TS).timestamp())

    def meta(rng: np.random.Generator, n: int) -> list[dict]:
        # Real extracts carry version, changeset and timestamp per object (and coordinates
        # are not on a grid): without them the file compresses far below real sizes.
        ts = rng.integers(1_200_000_000, t_max, n)
        cs = rng.integers(1, 150_000_000, n)
        vs = rng.integers(1, 9, n)
        return [{"version": int(vs[k]), "changeset": int(cs[k]),
                 "timestamp": datetime.fromtimestamp(int(ts[k]), UTC)} for k in range(n)]

    with osmium.SimpleWriter(str(tmp), header=header) as w:
        for nid, lat, lon, tags in sorted(fixture.nodes):
            w.add_node(Node(id=nid, version=1, location=(lon, lat), tags=tags))
        for pass_ in ("nodes", "ways"):
            if pass_ == "ways":
                for wid, refs, tags in sorted(fixture.ways, key=lambda x: x[0]):
                    w.add_way(Way(id=wid, version=1, nodes=refs, tags=tags))
            for (i, j, cx, cy) in tiles:
                ti = j * nx + i
                rng = np.random.default_rng(ti)
                nodes, ways = _tile(i, j, cx, cy, ti, nx, ny)
                if pass_ == "nodes":
                    jit = rng.normal(0.0, 0.00002, (len(nodes), 2))
                    for k, ((nid, x, y), m) in enumerate(zip(nodes, meta(rng, len(nodes)),
                                                             strict=True)):
                        w.add_node(Node(id=nid, location=(x + jit[k, 0], y + jit[k, 1]), **m))
                else:
                    rng = np.random.default_rng(ti + 1_000_000)
                    for (wid, refs, tags), m in zip(ways, meta(rng, len(ways)), strict=True):
                        w.add_way(Way(id=wid, nodes=refs, tags=tags, **m))
        for rid, members, tags in sorted(fixture.relations, key=lambda x: x[0]):
            w.add_relation(Rel(id=rid, version=1, members=[(t[0], r, role)
                                                           for t, r, role in members],
                               tags=tags))
    tmp.replace(path)
    return path


def run_import(extract: Path, data_dir: Path) -> tuple[float, float, float]:
    """Wall seconds, peak MB and CPU seconds of ``dorfkarte import-osm`` in a child.

    CPU seconds are reported too: on a shared machine the wall time also measures the
    neighbours' load.
    """
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = r0.ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "dorfkarte", "--data-dir", str(data_dir), "import-osm",
         str(extract)], env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = r1.ru_maxrss
    cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"import failed ({proc.returncode}): {proc.stderr[-2000:]}")
    sys.stderr.write(proc.stdout[-1500:])
    # ru_maxrss of children is the max over all waited-for children (KiB on Linux)
    return dt, max(peak, before) / 1024.0, cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rebuild", action="store_true", help="build the synthetic file anew")
    ap.add_argument("--skip-baseline", action="store_true")
    args = ap.parse_args(argv)
    big = cache_dir() / f"brandenburg-synthetic-{VERSION}.osm.pbf"
    if args.rebuild or not big.exists():
        t0 = time.perf_counter()
        build_extract(big)
        print(f"built {big} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    pbf_mb = big.stat().st_size / 1e6
    with tempfile.TemporaryDirectory(prefix="dorfkarte-bench-import-") as tmp:
        base_s = float("nan")
        if not args.skip_baseline:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from osmfixtures import write_osm_pbf

            small = write_osm_pbf(Path(tmp) / "fixture.osm.pbf")
            base_s, base_mb, base_cpu = run_import(small, Path(tmp) / "base")
            print(f"baseline (fixture region only, {small.stat().st_size / 1e3:.0f} kB): "
                  f"{base_s:.1f} s ({base_cpu:.1f} s CPU), peak {base_mb:.0f} MB")
        import_s, peak_mb, cpu_s = run_import(big, Path(tmp) / "big")
    print(f"state-sized extract {pbf_mb:.0f} MB: {import_s:.1f} s ({cpu_s:.1f} s CPU; "
          f"x{import_s / base_s:.1f} the region-only import), peak {peak_mb:.0f} MB; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"import_s={import_s:.2f} import_peak_mb={peak_mb:.1f} pbf_mb={pbf_mb:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
