"""Street graphs from the snapshot's edge layers as CSR matrices of travel minutes.

The snapshot stores each mode's network as ``nodes_{mode}`` / ``edges_{mode}`` layers (the
osmnx GeoDataFrame shape). Travel analysis needs neither networkx nor geometry: one CSR
matrix of minutes per mode and a KD-tree of node positions (in the region's metric CRS)
for snapping. Both are built once per edges layer and cached, because the app re-runs the
analysis on every category switch.

The matrix stored is the **reverse** graph (entry ``[v, u]`` = minutes of edge ``u -> v``):
a multi-source search from the service points over it yields, for every node, the time
*from* that node *to* the nearest service, which is how people travel (osmnx pitfall: on
a directed graph, search the reversed graph).
"""

from __future__ import annotations

import math
import re
import weakref
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from pyproj import Transformer
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from dorfkarte.enums import Mode
from dorfkarte.region import NETWORK_MODES, Region
from dorfkarte.snapshot import Snapshot, edges_layer, nodes_layer

#: Smallest edge weight in minutes: scipy's csgraph would drop explicit zeros as non-edges.
MIN_WEIGHT = 1e-9
#: Speed of "Schrittgeschwindigkeit" (living streets, ``maxspeed=walk``), km/h.
WALKING_PACE_KMH = 7.0
MPH = 1.609344

_NUM = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", re.IGNORECASE)
_ZONE = re.compile(r"^[a-z]{2}:zone:?(\d+)$", re.IGNORECASE)


@lru_cache(maxsize=32)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def transform_xy(x: np.ndarray, y: np.ndarray, src: Any, dst: Any) -> np.ndarray:
    """Coordinates from one CRS to another as an (n, 2) array (no geometry objects)."""
    s, d = str(src), str(dst)
    if s == d:
        return np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    tx, ty = _transformer(s, d).transform(np.asarray(x, float), np.asarray(y, float))
    return np.column_stack([tx, ty])


def point_xy(gdf: gpd.GeoDataFrame | gpd.GeoSeries, crs: str) -> np.ndarray:
    """x/y in ``crs`` per row; non-points (buildings, areas) by a point on their surface.

    Transforms bare coordinate arrays with pyproj: several times faster than ``to_crs``
    on tens of thousands of nodes, which matters for the cold analysis time.
    """
    geoms = gdf.geometry.to_numpy() if isinstance(gdf, gpd.GeoDataFrame) else gdf.to_numpy()
    if len(geoms) == 0:
        return np.zeros((0, 2))
    non_pt = shapely.get_type_id(geoms) != 0
    if non_pt.any():
        geoms = geoms.copy()
        geoms[non_pt] = shapely.point_on_surface(geoms[non_pt])
    if gdf.crs is None:
        raise ValueError("Geodaten ohne Koordinatensystem")
    return transform_xy(shapely.get_x(geoms), shapely.get_y(geoms), gdf.crs.to_string(), crs)


def _split_list(value: Any) -> list[str]:
    """OSM ``a;b`` lists, osmnx's stringified Python lists ``"['a', 'b']"`` and real lists."""
    if value is None:
        return []
    if isinstance(value, list | tuple | np.ndarray):
        out: list[str] = []
        for v in value:
            out.extend(_split_list(v))
        return out
    if isinstance(value, float) and math.isnan(value):
        return []
    s = str(value).strip()
    if s.startswith("[") and s.endswith("]"):
        s = s[1:-1]
        parts = [p.strip().strip("'\"") for p in s.split(",")]
    else:
        parts = [p.strip() for p in s.split(";")]
    return [p for p in parts if p and p.lower() not in {"nan", "none_", "null"}]


def parse_maxspeed(value: Any, urban_kmh: float = 50.0, rural_kmh: float = 80.0) -> float:
    """km/h from an OSM ``maxspeed`` value, NaN where it says nothing usable.

    Handles numbers (``"50"``, ``"50 km/h"``), ``"30 mph"``, implicit zones (``"DE:urban"``,
    ``"DE:rural"``, ``"DE:zone30"``, ``"DE:living_street"``, ``"walk"``) and lists (mean, as
    osmnx does). ``"none"`` (no limit) and ``"signals"``/``"variable"`` give NaN so that the
    road class speed applies: an Autobahn without limit is not driven at infinite speed.
    """
    speeds: list[float] = []
    for part in _split_list(value):
        p = part.strip()
        low = p.lower()
        m = _NUM.match(p)
        if m:
            v = float(m.group(1).replace(",", "."))
            if (m.group(2) or "").lower() == "mph":
                v *= MPH
            if v > 0:
                speeds.append(v)
            continue
        zm = _ZONE.match(low)
        if zm:
            speeds.append(float(zm.group(1)))
        elif low.endswith(":urban"):
            speeds.append(urban_kmh)
        elif low.endswith(":rural") or low.endswith(":trunk"):
            speeds.append(rural_kmh)
        elif low in {"walk", "de:walk"} or low.endswith(":living_street"):
            speeds.append(WALKING_PACE_KMH)
        elif low.endswith(":bicycle_road"):
            speeds.append(30.0)
        # "none", "signals", "variable", "DE:motorway" (no limit): fall through
    return float(np.mean(speeds)) if speeds else float("nan")


def highway_kmh(value: Any, region: Region) -> float:
    """Default car speed for an OSM highway class (first known class of a list)."""
    table = region.modes.highway_kmh
    for part in _split_list(value):
        if part in table:
            return float(table[part])
    return float(region.modes.rural_kmh if not table else table.get("road", 40.0))


_NO = frozenset({"", "no", "false", "0", "none", "nan"})
#: ``tunnel`` values a person walks through at street level (not underground).
SURFACE_TUNNELS = frozenset({"building_passage", "avalanche_protector"})


def _negative(value: Any) -> bool:
    """A ``layer`` / ``level`` value below ground (any part of ``-1;0`` lists counts)."""
    for part in _split_list(value):
        try:
            if float(part.replace(",", ".")) < 0:
                return True
        except ValueError:
            continue
    return False


def _present(value: Any) -> str | None:
    parts = _split_list(value)
    vals = [p.lower() for p in parts if p.lower() not in _NO]
    return vals[0] if vals else None


def underground(edges: pd.DataFrame) -> np.ndarray:
    """Edges a person cannot step onto from the street (bool per edge).

    Tunnels (``tunnel=yes``, not a building passage), ways below ground (``layer<0``,
    ``level<0``) and indoor ways (``indoor=*``); service tunnels with restricted access are
    tunnels too. Homes and services do not snap to nodes touched only by such edges:
    a pharmacy 50 m from a street above a tunnel is reached from the street.
    """
    out = np.zeros(len(edges), dtype=bool)
    tunnel = edges.get("tunnel")
    if tunnel is not None:
        out |= _map_unique(tunnel, lambda v: float(
            (t := _present(v)) is not None and t not in SURFACE_TUNNELS)).astype(bool)
    for name in ("layer", "level"):
        c = edges.get(name)
        if c is not None:
            out |= _map_unique(c, lambda v: float(_negative(v))).astype(bool)
    indoor = edges.get("indoor")
    if indoor is not None:
        out |= _map_unique(indoor, lambda v: float(_present(v) is not None)).astype(bool)
    return out


def _truthy_oneway(value: Any) -> int:
    """+1 one-way along u->v, -1 against it, 0 both ways."""
    if value is None:
        return 0
    if isinstance(value, bool | np.bool_):
        return 1 if value else 0
    if isinstance(value, float) and math.isnan(value):
        return 0
    s = str(value).strip().lower()
    if s in {"true", "yes", "1"}:
        return 1
    if s in {"-1", "reverse"}:
        return -1
    return 0


def mode_speed_kmh(mode: str, region: Region) -> float:
    """Speed on the network (walk, bike) or, for the car, the access speed used for snapping.

    A car's first and last metres (farm drives, yards, parking) are slow: the region's
    ``service`` road speed (default 20 km/h) is used for the snapping distance.
    """
    if mode == Mode.WALK:
        return region.modes.walk_kmh
    if mode == Mode.BIKE:
        return region.modes.bike_kmh
    if mode == Mode.DRIVE:
        return float(region.modes.highway_kmh.get("service", 20.0))
    raise ValueError(f"kein Netzmodus: {mode!r}")


def straight_line_kmh(mode: str, region: Region) -> float:
    """Average speed along the detoured straight line when there is no street network.

    For the car, the region's urban speed (50 km/h): door-to-door average on village roads
    with access and parking, deliberately not the rural limit.
    """
    if mode == Mode.DRIVE:
        return region.modes.urban_kmh
    return mode_speed_kmh(mode, region)


def _map_unique(values: pd.Series, fn: Any) -> np.ndarray:
    """``fn`` applied once per distinct tag value (a network has few distinct values)."""
    raw = values.to_numpy(dtype=object)
    try:
        codes, uniq = pd.factorize(raw, use_na_sentinel=True)
    except TypeError:  # unhashable values (lists from an osmnx frame)
        codes, uniq = pd.factorize(np.array([str(v) for v in raw], dtype=object))
        uniq = np.array([raw[np.argmax(codes == k)] for k in range(len(uniq))], dtype=object)
    out = np.array([fn(v) for v in uniq] + [fn(None)], dtype=float)
    return out[codes]  # code -1 (missing) picks the last entry, fn(None)


def edge_speeds_kmh(edges: pd.DataFrame, mode: str, region: Region) -> np.ndarray:
    """Per-edge km/h: constant for walk/bike; car from maxspeed, else road class."""
    n = len(edges)
    if mode in (Mode.WALK, Mode.BIKE):
        return np.full(n, mode_speed_kmh(mode, region))
    urban, rural = region.modes.urban_kmh, region.modes.rural_kmh
    ms = edges["maxspeed"] if "maxspeed" in edges else pd.Series([None] * n, index=edges.index)
    hw = edges["highway"] if "highway" in edges else pd.Series([None] * n, index=edges.index)
    # Few distinct tag values: parse each once.
    speed = _map_unique(ms, lambda v: parse_maxspeed(v, urban, rural))
    fallback = _map_unique(hw, lambda v: highway_kmh(v, region))
    return np.where(np.isfinite(speed) & (speed > 0), speed, fallback)


@dataclass
class Network:
    """One mode's street graph, ready for csgraph searches.

    ``graph`` is the reverse graph (from services towards homes) in minutes; ``xy`` the node
    positions in the region's metric CRS; ``snap_kmh`` the speed at which the distance
    between a point and its nearest node is counted.
    """

    mode: str
    crs: str
    node_ids: np.ndarray
    xy: np.ndarray
    graph: sp.csr_matrix
    snap_kmh: float
    directed: bool
    tree: cKDTree = field(repr=False)
    #: node index of each point in ``tree`` (the nodes points may snap to)
    snap_nodes: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_nodes(self) -> int:
        return int(self.xy.shape[0])

    def snap(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node per point and the minutes to reach it at ``snap_kmh``."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        if len(xy) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        dist, idx = self.tree.query(xy, k=1)
        if self.snap_nodes is not None:
            idx = self.snap_nodes[idx]
        return idx.astype(np.int64), dist / (self.snap_kmh * 1000.0 / 60.0)

    def with_sources(self, nodes: np.ndarray, offsets: np.ndarray) -> sp.csr_matrix:
        """The graph plus one virtual node per source, linked to its node by its offset.

        A multi-source search from the virtual nodes (indices ``n_nodes + i``) then counts
        each source's own snapping time, and ``sources`` tells which one is nearest.
        """
        g = self.graph
        k = len(nodes)
        n = self.n_nodes
        indptr = np.concatenate([g.indptr, g.indptr[-1] + np.arange(1, k + 1)])
        indices = np.concatenate([g.indices, np.asarray(nodes, dtype=g.indices.dtype)])
        # explicit zeros stay edges in a CSR built from (data, indices, indptr)
        data = np.concatenate([g.data, np.maximum(np.asarray(offsets, float), 0.0)])
        return sp.csr_matrix((data, indices, indptr), shape=(n + k, n + k))


def build_network(nodes: gpd.GeoDataFrame, edges: pd.DataFrame, mode: str, region: Region,
                  speeds_kmh: np.ndarray | None = None) -> Network | None:
    """Build the reverse CSR graph of one mode; None when there is nothing to build."""
    if nodes is None or edges is None or len(nodes) == 0 or len(edges) == 0:
        return None
    xy = point_xy(nodes, region.crs)
    ids = pd.Index(nodes["osmid"].to_numpy() if "osmid" in nodes else nodes.index.to_numpy())
    if ids.has_duplicates:
        keep = ~ids.duplicated()
        ids, xy = ids[keep], xy[keep]
    u = ids.get_indexer(pd.Index(edges["u"].to_numpy()))
    v = ids.get_indexer(pd.Index(edges["v"].to_numpy()))
    ok = (u >= 0) & (v >= 0) & (u != v)
    length = pd.to_numeric(edges["length"], errors="coerce").to_numpy(dtype=float) \
        if "length" in edges else np.full(len(edges), np.nan)
    if speeds_kmh is None:
        speeds_kmh = edge_speeds_kmh(edges, mode, region)
    u, v, length, speed = u[ok], v[ok], length[ok], np.asarray(speeds_kmh, float)[ok]
    straight = np.hypot(*(xy[u] - xy[v]).T)
    length = np.where(np.isfinite(length) & (length >= 0), length, straight)
    minutes = np.maximum(length / (speed * 1000.0 / 60.0), MIN_WEIGHT)
    directed = mode == Mode.DRIVE
    if directed:
        ow = _map_unique(edges["oneway"], _truthy_oneway)[ok].astype(int) \
            if "oneway" in edges else np.zeros(len(u), dtype=int)
        fwd = ow >= 0
        back = ow <= 0
        src = np.concatenate([u[fwd], v[back]])
        dst = np.concatenate([v[fwd], u[back]])
        w = np.concatenate([minutes[fwd], minutes[back]])
    else:
        src = np.concatenate([u, v])
        dst = np.concatenate([v, u])
        w = np.concatenate([minutes, minutes])
    graph = _min_csr(rows=dst, cols=src, w=w, n=len(xy))  # reverse: [v, u] = u -> v
    snap_nodes = None
    # Nodes a person can step onto: touched by at least one street-level edge.
    below = underground(edges)[ok]
    if below.any():
        street = np.zeros(len(xy), dtype=bool)
        street[u[~below]] = True
        street[v[~below]] = True
        if street.any():
            snap_nodes = np.flatnonzero(street)
    if directed:
        # One-way fragments (a car park exit, a street cut at the clip border) can be left
        # but not entered: snapping a home there would make everything "unreachable".
        # Points snap to the largest strongly connected part, as routing engines do.
        n_comp, labels = connected_components(graph, directed=True, connection="strong")
        if n_comp > 1:
            main = np.argmax(np.bincount(labels))
            in_main = np.flatnonzero(labels == main)
            if snap_nodes is not None:
                both = np.intersect1d(snap_nodes, in_main)
                in_main = both if len(both) else in_main
            snap_nodes = in_main
    tree = cKDTree(xy if snap_nodes is None else xy[snap_nodes])
    return Network(mode=mode, crs=region.crs, node_ids=ids.to_numpy(), xy=xy, graph=graph,
                   snap_kmh=mode_speed_kmh(mode, region), directed=directed, tree=tree,
                   snap_nodes=snap_nodes)


def _min_csr(rows: np.ndarray, cols: np.ndarray, w: np.ndarray, n: int) -> sp.csr_matrix:
    """CSR matrix keeping the smallest weight of parallel edges (scipy would sum them)."""
    order = np.lexsort((w, cols, rows))
    r, c, d = rows[order], cols[order], w[order]
    first = np.ones(len(r), dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    g = sp.csr_matrix((d[first], (r[first], c[first])), shape=(n, n))
    g.sort_indices()
    return g


# ---- cache ---------------------------------------------------------------------------

_CACHE: dict[tuple[Any, ...], tuple[weakref.ref, Network | None]] = {}


def _speed_key(region: Region) -> tuple[Any, ...]:
    m = region.modes
    return (region.crs, m.walk_kmh, m.bike_kmh, m.urban_kmh, m.rural_kmh,
            tuple(sorted(m.highway_kmh.items())))


def network_for(snapshot: Snapshot, mode: str, region: Region) -> Network | None:
    """The cached network of ``mode`` from the snapshot's layers, or None if it has none."""
    edges = snapshot.get(edges_layer(mode))
    nodes = snapshot.get(nodes_layer(mode))
    if edges is None or nodes is None or len(edges) == 0 or len(nodes) == 0:
        return None
    key = (id(edges), id(nodes), len(edges), len(nodes), mode, _speed_key(region))
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is edges:
        return hit[1]
    net = build_network(nodes, edges, mode, region)
    for k in [k for k, (ref, _) in _CACHE.items() if ref() is None]:
        del _CACHE[k]
    _CACHE[key] = (weakref.ref(edges), net)
    return net


def clear_cache() -> None:
    """Forget cached graphs (benchmarks measure a cold start)."""
    _CACHE.clear()


def available_modes(snapshot: Snapshot) -> list[str]:
    """Network modes whose node and edge layers are in the snapshot."""
    return [m for m in NETWORK_MODES if snapshot.has(edges_layer(m)) and snapshot.has(
        nodes_layer(m))]
