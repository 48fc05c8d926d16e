"""Origins: the points where people live, each in one Ortsteil, carrying its residents.

Residential buildings/addresses from the snapshot where a district has any; otherwise a
regular grid (``region.grid_m``, the Thünen model's 250 m) over the district. For
*approximate* districts (Voronoi cells of the village centres, ``approx=True``) without any
buildings, a grid would put most "residents" into forest and fields, because those cells
are drawn around the village, not around its houses: there the village centre itself (from
the centres file) is the single origin, which is where the people actually live.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dorfkarte import census
from dorfkarte import districts as districts_mod
from dorfkarte.errors import DataError
from dorfkarte.network import point_xy, transform_xy
from dorfkarte.region import Region
from dorfkarte.snapshot import CENSUS, DISTRICTS, HOMES, MUNICIPALITIES, Snapshot

ORIGIN_COLUMNS = ["origin_id", "district", "municipality", "population", "kind"]
#: Age weights every census origin carries (residents 65+ / under 18; NaN without census).
AGE_COLUMNS = ["pop_65plus", "pop_under18", "age_imputed_65plus", "age_imputed_under18"]


def districts_of(snapshot: Snapshot) -> gpd.GeoDataFrame:
    """The snapshot's districts with the columns the analysis relies on."""
    d = snapshot.get(DISTRICTS)
    if d is None or len(d) == 0:
        raise DataError("Der Datenstand enthält keine Ortsteile (Layer 'districts' fehlt)")
    d = d.reset_index(drop=True).copy()
    if "name" not in d:
        raise DataError("Layer 'districts': Spalte 'name' fehlt")
    d["name"] = d["name"].astype(str)
    dup = d["name"].duplicated()
    if dup.any():
        raise DataError(
            f"Layer 'districts': Ortsteil {d.loc[dup.idxmax(), 'name']!r} kommt doppelt vor"
        )
    for col, default in (("municipality", ""), ("kind", "ortsteil"), ("approx", False)):
        if col not in d:
            d[col] = default
    d["population"] = pd.to_numeric(d.get("population"), errors="coerce").astype(float)
    d["approx"] = d["approx"].fillna(False).astype(bool)
    if "population_source" not in d:
        d["population_source"] = np.where(d["population"].notna(), "published", "unknown")
    return d


def grid_points(polygon: shapely.Geometry, spacing: float) -> np.ndarray:
    """Centres of a regular grid (aligned to multiples of ``spacing``) inside ``polygon``."""
    minx, miny, maxx, maxy = polygon.bounds
    x0 = np.floor(minx / spacing) * spacing + spacing / 2
    y0 = np.floor(miny / spacing) * spacing + spacing / 2
    xs = np.arange(x0, maxx, spacing)
    ys = np.arange(y0, maxy, spacing)
    if len(xs) == 0 or len(ys) == 0:
        return np.zeros((0, 2))
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    inside = shapely.contains_xy(polygon, gx, gy)
    return np.column_stack([gx[inside], gy[inside]])


def _centres_metric(region: Region, names: pd.Series) -> dict[str, np.ndarray]:
    """Village centre (metric x/y) per district name, matched loosely by name."""
    try:
        c = districts_mod.read_centres(region)
    except DataError:
        return {}
    pts = gpd.GeoSeries(gpd.points_from_xy(c["lon"], c["lat"]), crs="EPSG:4326").to_crs(
        region.crs)
    by_key = {districts_mod.norm_name(n): np.array([p.x, p.y])
              for n, p in zip(c["name"], pts, strict=True)}
    out = {}
    for n in names:
        hit = by_key.get(districts_mod.norm_name(n))
        if hit is not None:
            out[n] = hit
    return out


def build_origins(snapshot: Snapshot, region: Region,
                  districts: gpd.GeoDataFrame | None = None
                  ) -> tuple[gpd.GeoDataFrame, np.ndarray, list[str]]:
    """Origins (EPSG:4326), their metric x/y, and German notes on how they were made.

    Each origin's ``population`` is its district's population divided by the district's
    number of origins (NaN where the district's population is unknown: results for that
    district are then unweighted, each origin counting once).
    """
    d = districts if districts is not None else districts_of(snapshot)
    if snapshot.has(CENSUS):
        out = census_origins(snapshot, region, d)
        if out is not None:
            return out
    dm = d.to_crs(region.crs)
    polys = dm.geometry.to_numpy()
    notes: list[str] = []
    parts: list[tuple[int, np.ndarray, str]] = []  # (district index, xy, kind)

    homes = snapshot.get(HOMES)
    have = np.zeros(len(d), dtype=bool)
    if homes is not None and len(homes):
        hxy = point_xy(homes, region.crs)
        kinds = (homes["kind"].astype(str).to_numpy() if "kind" in homes
                 else np.full(len(homes), "building"))
        tree = shapely.STRtree(polys)
        pts = shapely.points(hxy)
        pi, di = tree.query(pts, predicate="intersects")
        # a home on a shared border goes to the first district (stable, deterministic)
        order = np.lexsort((di, pi))
        pi, di = pi[order], di[order]
        first = np.ones(len(pi), dtype=bool)
        first[1:] = pi[1:] != pi[:-1]
        pi, di = pi[first], di[first]
        for k in range(len(d)):
            sel = np.sort(pi[di == k])
            if len(sel):
                have[k] = True
                for kind in sorted(set(kinds[sel])):
                    s2 = sel[kinds[sel] == kind]
                    parts.append((k, hxy[s2], kind))
    missing = [k for k in range(len(d)) if not have[k]]
    if missing:
        centres = _centres_metric(region, d["name"])
        used_centre, used_grid = [], []
        for k in missing:
            name = d.at[k, "name"]
            if bool(d.at[k, "approx"]) or polys[k] is None or polys[k].is_empty:
                c = centres.get(name)
                if c is None:
                    c = np.array([shapely.get_x(polys[k].representative_point()),
                                  shapely.get_y(polys[k].representative_point())])
                parts.append((k, c.reshape(1, 2), "centre"))
                used_centre.append(name)
            else:
                g = grid_points(polys[k], region.grid_m)
                if len(g) == 0:
                    rp = polys[k].representative_point()
                    g = np.array([[rp.x, rp.y]])
                parts.append((k, g, "grid"))
                used_grid.append(name)
        if used_centre:
            notes.append(
                f"{len(used_centre)} Ortsteile ohne bekannte Wohngebäude und nur mit genäherter "
                "Fläche: der Ortsmittelpunkt steht für alle Einwohner (ein Raster würde sie in "
                "Wald und Feld legen)."
            )
        if used_grid:
            notes.append(
                f"{len(used_grid)} Ortsteile ohne bekannte Wohngebäude: Raster von "
                f"{region.grid_m:.0f} m als Wohnorte."
            )
    parts.sort(key=lambda p: p[0])  # stable: homes before fallbacks never mix per district
    if not parts:
        raise DataError("Keine Ausgangspunkte: weder Wohngebäude noch Ortsteilflächen")
    xy = np.vstack([p[1] for p in parts])
    dist_idx = np.concatenate([np.full(len(p[1]), p[0]) for p in parts])
    kind = np.concatenate([np.full(len(p[1]), p[2], dtype=object) for p in parts])
    counts = np.bincount(dist_idx, minlength=len(d))
    pop = d["population"].to_numpy(dtype=float)
    per_origin = pop[dist_idx] / counts[dist_idx]
    if np.isnan(pop).any():
        unknown = d.loc[np.isnan(pop), "name"].tolist()
        notes.append(
            "Einwohnerzahl unbekannt für " + ", ".join(unknown[:5])
            + (" …" if len(unknown) > 5 else "")
            + ": dort zählt jeder Ausgangspunkt gleich (ungewichtet)."
        )
    origins = gpd.GeoDataFrame(
        {
            "origin_id": np.arange(len(xy), dtype=np.int64),
            "district": d["name"].to_numpy()[dist_idx],
            "municipality": d["municipality"].astype(str).to_numpy()[dist_idx],
            "population": per_origin,
            "kind": kind.astype(str),
        },
        geometry=gpd.points_from_xy(*transform_xy(xy[:, 0], xy[:, 1], region.crs,
                                                  "EPSG:4326").T),
        crs="EPSG:4326",
    )
    return origins, xy, notes


def census_origins(snapshot: Snapshot, region: Region, d: gpd.GeoDataFrame
                   ) -> tuple[gpd.GeoDataFrame, np.ndarray, list[str]] | None:
    """Origins where the census puts people: homes (dasymetric) or populated cell pieces.

    Without a snapshot's homes each populated piece of a census cell inside a unit is one
    origin (its residents stay in their cell); with homes, every residential building gets
    its cell's residents by count. Each unit's origins are then scaled to the unit's
    residents (published figure where there is one), keeping the census distribution
    inside the unit. Units the census has nobody in fall back to :func:`build_origins`' rules
    (``None`` is returned when no unit has any census piece).
    """
    cells = snapshot.get(CENSUS)
    assert cells is not None
    dm = d.to_crs(region.crs).reset_index(drop=True)
    cm = cells.to_crs(region.crs).reset_index(drop=True)
    homes = snapshot.get(HOMES)
    hxy = point_xy(homes, region.crs) if homes is not None and len(homes) else None
    hkind = (homes["kind"].astype(str).to_numpy() if hxy is not None and "kind" in homes
             else None)
    pieces = census.place(cm, dm, hxy, hkind)
    if len(pieces.unit) == 0:
        return None
    est = pieces.totals(len(dm))
    covered = est > 0
    pop = dm["population"].to_numpy(dtype=float)
    notes: list[str] = []
    keep = covered[pieces.unit]
    unit, xy = pieces.unit[keep], pieces.xy[keep]
    residents, cell, kind = pieces.residents[keep], pieces.cell[keep], pieces.kind[keep]
    # scale to the unit's residents where known (published figure); else the estimate
    target = np.where(np.isfinite(pop) & (pop > 0), pop, est)
    factor = np.divide(target, est, out=np.ones_like(est), where=covered)
    residents = residents * factor[unit]
    # homes in no populated cell carry 0 residents: they stay (for maps) but do not weigh
    frames_xy, frames_unit, frames_res, frames_kind, frames_cell = [xy], [unit], [residents], \
        [kind.astype(str)], [cell]
    rest = np.flatnonzero(~covered)
    if len(rest):
        sub = dm.iloc[rest].reset_index(drop=True)
        o2, xy2, notes2 = build_origins(_without_census(snapshot), region, sub)
        frames_xy.append(xy2)
        frames_unit.append(rest[pd.Index(sub["name"]).get_indexer(o2["district"])])
        frames_res.append(o2["population"].to_numpy(dtype=float))
        frames_kind.append(o2["kind"].astype(str).to_numpy())
        frames_cell.append(np.full(len(o2), -1))
        names = sub["name"].astype(str).tolist()
        notes.append("Keine Zensus-Einwohner in " + ", ".join(names[:5])
                     + (" …" if len(names) > 5 else "") + ": dort gelten die bisherigen "
                     "Ausgangspunkte.")
        notes.extend(notes2)
    xy = np.vstack(frames_xy)
    unit = np.concatenate(frames_unit).astype(np.int64)
    residents = np.concatenate(frames_res)
    kind = np.concatenate(frames_kind)
    cell = np.concatenate(frames_cell).astype(np.int64)
    order = np.argsort(unit, kind="stable")
    xy, unit, residents, kind, cell = xy[order], unit[order], residents[order], kind[order], \
        cell[order]
    muni_of_unit = dm["municipality"].astype(str).to_numpy()
    munis = snapshot.get(MUNICIPALITIES)
    shares: dict[str, dict[str, float]] = {}
    census_total = None
    if munis is not None and len(munis):
        mm = munis.to_crs(region.crs).reset_index(drop=True)
        ncol = "name" if "name" in mm else mm.columns[0]
        shares = census.municipality_shares(cm, mm, ncol)
        census_total = float(census.split_by_area(cm, mm).residents.sum())
    has_age = {k: bool(np.isfinite(cm[f"share_{k}"].to_numpy(dtype=float)).any())
               for k in ("65plus", "under18")}
    age = census.age_weights(cm, cell, residents, muni_of_unit[unit], shares)
    for key in ("65plus", "under18"):
        if not has_age[key]:  # the grid has no such shares: no weights, not invented ones
            age.pop(f"pop_{key}")
            age.pop(f"age_imputed_{key}")
    for key, label in (("65plus", "65+"), ("under18", "unter 18")):
        if not has_age[key]:
            continue
        n_imp = int(np.sum(age[f"age_imputed_{key}"] & (cell >= 0)))
        if n_imp:
            notes.append(f"{n_imp} Ausgangspunkte in Gitterzellen ohne veröffentlichten Anteil "
                         f"{label} (geheim gehalten, −9): Anteil der Gemeinde verwendet, "
                         "nicht 0 %.")
    method = "Wohngebäude" if pieces.by_buildings else "bewohnte Teile der Zensus-Gitterzellen"
    notes.insert(0, f"Ausgangspunkte: {method} ({len(xy)} Punkte); Einwohner je Punkt aus dem "
                    "Zensus-Gitter, je Einheit auf deren Einwohnerzahl skaliert.")
    notes.extend(districts_mod.population_notes(dm, census_total,
                                                region.population.max_deviation))
    kind = np.where(kind == "census", "census", kind)
    origins = gpd.GeoDataFrame(
        {
            "origin_id": np.arange(len(xy), dtype=np.int64),
            "district": dm["name"].to_numpy()[unit],
            "municipality": muni_of_unit[unit],
            "population": residents,
            "kind": kind.astype(str),
            "cell_id": np.where(cell >= 0, cm["cell_id"].astype(str).to_numpy()[
                np.maximum(cell, 0)], ""),
            **age,
        },
        geometry=gpd.points_from_xy(*transform_xy(xy[:, 0], xy[:, 1], region.crs,
                                                  "EPSG:4326").T),
        crs="EPSG:4326",
    )
    return origins, xy, notes


def _without_census(snapshot: Snapshot) -> Snapshot:
    s = Snapshot(region_id=snapshot.region_id, layers=dict(snapshot.layers),
                 info=dict(snapshot.info), path=snapshot.path)
    s.layers.pop(CENSUS, None)
    return s
