"""One open region with its data folder: the application layer both front-ends ask.

:class:`Workspace` holds the region, its snapshot (embedded layers included, built by
:func:`open_snapshot`), the local listings store, and the coverage results asked for so
far, each remembered per key. The CLI commands, the Streamlit caches (``ui/data.py``), the
exports and the demo all open data through it, and use :attr:`Workspace.fingerprint`
(region file, snapshot, listings store) as their cache key.

Without an OSM snapshot the app and CLI still work on what ships in ``data/``: approximate
Ortsteil areas from the centres file and the VBB stops.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shlex
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd

from dorfkarte.coverage import CoverageResult, analyse
from dorfkarte.embedded import open_snapshot
from dorfkarte.i18n import t
from dorfkarte.imported_districts import districts_path
from dorfkarte.listings import ListingStore, ValidationContext, destinations, source_label
from dorfkarte.listings.schedule import When
from dorfkarte.region import Region, load_region
from dorfkarte.regiondata import imported_grid_path
from dorfkarte.scenario import WhatIf, candidate_sites
from dorfkarte.settings import default_data_dir, default_region_path
from dorfkarte.snapshot import Snapshot, snapshot_path

__all__ = ["Workspace", "no_osm_hint", "open_snapshot", "transit_source_label", "when_key"]

#: How many analyses (and threshold variants) a workspace remembers.
MAX_RESULTS = 8
MAX_VARIANTS = 64


def _stamp(path: Path | None) -> int:
    """Modification time in ns, 0 for a missing file: part of every cache key."""
    try:
        return path.stat().st_mtime_ns if path is not None else 0
    except OSError:
        return 0


def when_key(when: When) -> str:
    """A stable key for a listings ``when`` ("weekly" depends on today's date)."""
    if when == "weekly":
        return f"weekly:{dt.date.today().isoformat()}"
    return "all" if when is None else str(when)


class Workspace:
    """A region and its data folder, opened once; answers what the front-ends ask.

    ``snapshot``: a prepared snapshot to use instead of reading the data folder (tests,
    synthetic worlds); it then stays fixed. Otherwise the snapshot, listings and results
    are reloaded when :attr:`fingerprint` changes (a new ``fetch``, an edited listing).
    """

    def __init__(self, region: Region | str | Path, data_dir: str | Path | None = None, *,
                 snapshot: Snapshot | None = None) -> None:
        if not isinstance(region, Region):
            region = load_region(region)
        self._region = region
        self._region_stamp = _stamp(region.path)
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self._fixed_snapshot = snapshot
        self._lock = threading.RLock()
        self._snapshot: tuple[tuple, Snapshot] | None = None
        self._listings: dict[tuple, gpd.GeoDataFrame | None] = {}
        self._results: dict[tuple, CoverageResult] = {}
        self._variants: dict[tuple, CoverageResult] = {}
        self._candidates: dict[tuple, gpd.GeoDataFrame] = {}

    @classmethod
    def open(cls, region_path: str | Path | None = None,
             data_dir: str | Path | None = None) -> Workspace:
        """The workspace of a region file (default: the shipped region) and data folder."""
        return cls(Path(region_path) if region_path is not None else default_region_path(),
                   data_dir)

    # ---- what identifies the data ----------------------------------------------------

    @property
    def region(self) -> Region:
        """The region, read again when its file changed on disk."""
        stamp = _stamp(self._region.path)
        if stamp != self._region_stamp and self._region.path is not None \
                and Path(self._region.path).is_file():
            with self._lock:
                self._region = load_region(self._region.path)
                self._region_stamp = stamp
        return self._region

    @property
    def snapshot_path(self) -> Path:
        return snapshot_path(self.data_dir, self._region.id)

    @property
    def store(self) -> ListingStore:
        """The data folder's listings store (may not exist yet)."""
        return ListingStore(self.data_dir)

    def _data_key(self) -> tuple:
        region = self.region
        snap = ("fixed", id(self._fixed_snapshot)) if self._fixed_snapshot is not None \
            else ("file", _stamp(self.snapshot_path),
                  _stamp(districts_path(self.data_dir, region.id)))  # imported districts
        # an imported census grid (dorfkarte import-population) changes every result too
        grid = _stamp(imported_grid_path(self.data_dir, region.id))
        return (str(region.path), self._region_stamp, str(self.data_dir), snap, grid)

    def _store_key(self) -> int:
        return _stamp(self.store.path)

    @property
    def fingerprint(self) -> str:
        """Changes when the region file, the snapshot or the listings store changes.

        Every front-end caches what it derives from this workspace under this key.
        """
        raw = repr((*self._data_key(), self._store_key()))
        return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:16]

    # ---- data ------------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        """The stored snapshot plus embedded layers (see :func:`open_snapshot`)."""
        if self._fixed_snapshot is not None:
            return self._fixed_snapshot
        key = self._data_key()
        with self._lock:
            if self._snapshot is None or self._snapshot[0] != key:
                self._snapshot = (key, open_snapshot(self.region, self.data_dir))
            return self._snapshot[1]

    @property
    def has_listings(self) -> bool:
        """True when the data folder has a listings store (then "when" matters)."""
        return self.store.exists()

    @property
    def listings(self) -> gpd.GeoDataFrame | None:
        """The stored listings as they are (all columns), None without a store."""
        store = self.store
        return store.read() if store.exists() else None

    def listing_points(self, when: When = None) -> gpd.GeoDataFrame | None:
        """Stored listings available at ``when`` as coverage destinations (None: none)."""
        key = (*self._data_key(), self._store_key(), when_key(when))
        with self._lock:
            if key not in self._listings:
                store = self.store
                pts = destinations(store, self.region, when) if store.exists() else None
                if len(self._listings) >= 16:
                    self._listings.pop(next(iter(self._listings)))
                self._listings[key] = pts if pts is not None and len(pts) else None
            return self._listings[key]

    # ---- answers -----------------------------------------------------------------------

    def timetable(self) -> Any:
        """The region's timetable: imported (``import-gtfs``), else the region's own feed."""
        from dorfkarte.pt import timetable_for

        return timetable_for(self.region, self.data_dir)  # cached per file state

    def result(self, *, when: When = None, thresholds: dict[tuple[str, str], float] | None = None,
               modes: Iterable[str] | None = None, categories: Iterable[str] | None = None,
               listings: bool = True,
               pt: tuple[str | None, str | None, str | None] | None = None) -> CoverageResult:
        """The coverage analysis for this data, remembered per key.

        ``when``: which listings count; ``listings=False`` leaves them out.
        ``thresholds``: slider values ``{(category, mode): value}``; only those differing
        from the region's are applied, by ``with_thresholds`` (no new shortest paths).
        ``pt``: (day ISO, "HH:MM", "HH:MM", each None = default) adds mode pt (timetable).
        """
        cats = tuple(categories) if categories is not None else None
        mds = tuple(modes) if modes is not None else None
        pt_options = None
        if pt is not None:
            import datetime as _dt

            from dorfkarte.pt import PTOptions
            from dorfkarte.region import MODES, PT

            mds = tuple(dict.fromkeys([*(mds or MODES), PT]))
            pt_options = PTOptions(timetable=self.timetable(),
                                   day=_dt.date.fromisoformat(pt[0]) if pt[0] else None,
                                   start=pt[1], end=pt[2])
        key = (*self._data_key(), self._store_key() if listings else -1,
               when_key(when) if listings else "", cats, mds, pt,
               id(pt_options.timetable) if pt_options is not None else 0)
        with self._lock:
            base = self._results.get(key)
            if base is None:
                extra = self.listing_points(when) if listings else None
                base = analyse(self.snapshot, self.region, categories=list(cats) if cats else None,
                               modes=list(mds) if mds else None, extra_destinations=extra,
                               pt_options=pt_options)
                if len(self._results) >= MAX_RESULTS:
                    self._results.pop(next(iter(self._results)))
                self._results[key] = base
        return self.with_thresholds(base, thresholds or {}, key)

    def with_thresholds(self, base: CoverageResult, thresholds: dict[tuple[str, str], float],
                        key: tuple | None = None) -> CoverageResult:
        """``base`` at the given thresholds (only values that differ count), remembered."""
        diff = tuple(sorted((c, m, float(v)) for (c, m), v in thresholds.items()
                            if (c, m) in base.thresholds
                            and float(v) != float(base.thresholds[(c, m)])))
        if not diff:
            return base
        vkey = (key if key is not None else id(base), diff)
        with self._lock:
            hit = self._variants.get(vkey)
            if hit is None:
                hit = base.with_thresholds({(c, m): v for c, m, v in diff})
                if len(self._variants) >= MAX_VARIANTS:
                    self._variants.pop(next(iter(self._variants)))
                self._variants[vkey] = hit
            return hit

    def what_if(self, result: CoverageResult | None = None, *, when: When = None) -> WhatIf:
        """An incremental what-if on ``result`` (default: the full analysis), with the
        stored listings for schedule changes."""
        base = result if result is not None else self.result(when=when)
        try:
            stored = self.listings
        except Exception:  # a broken store only disables schedule changes
            stored = None
        return WhatIf(base, when=when, listings=stored)

    def candidates(self, include: Iterable[str] | None = None) -> gpd.GeoDataFrame:
        """Candidate sites for suggestions (stops, centres, anchor places, homes)."""
        inc = tuple(include) if include is not None else None
        key = (*self._data_key(), self._store_key(), inc)
        with self._lock:
            if key not in self._candidates:
                kw = {} if inc is None else {"include": list(inc)}
                if len(self._candidates) >= 4:
                    self._candidates.pop(next(iter(self._candidates)))
                self._candidates[key] = candidate_sites(self.snapshot, self.region,
                                                        data_dir=self.data_dir, **kw)
            return self._candidates[key]

    def validation_context(self, existing: gpd.GeoDataFrame | None = None
                           ) -> ValidationContext:
        """What the listings validator checks rows against, from this workspace's data."""
        return ValidationContext.from_snapshot(self.region, self.snapshot, existing=existing,
                                               key=self.fingerprint)

    def no_osm_hint(self, lang: str = "de") -> str:
        """How to get an OSM snapshot for this region and data folder (see
        :func:`no_osm_hint`)."""
        return no_osm_hint(self.region.id, self.region, self.data_dir, lang=lang)


def transit_source_label(region: Region | None, lang: str = "de") -> str:
    """"ÖPNV (VBB Verkehrsverbund ...)": the region's timetable source, not a fixed name."""
    if lang == "en":
        cited = (region.transit.source if region is not None else "").split(",")[0].strip()
        return f"public transport stops ({cited})" if cited else "public transport stops"
    return source_label("transit", region)


def no_osm_hint(region_id: str, region: Region | None = None,
                data_dir: str | Path | None = None, lang: str = "de") -> str:
    """The hint shown wherever OSM data is missing (CLI and app), German or English.

    Given the region (and data folder), the commands carry ``--region`` / ``--data-dir``
    where these are not the defaults, so following the hint fills *this* region's
    snapshot, and the last line says what works without it for this region (naming its
    own transit source). First line: the headline; last line: what works; in between:
    the commands.
    """
    opts = ""
    if region is not None and region.path != default_region_path().resolve():
        opts += f" --region {shlex.quote(str(region.path))}"
    if data_dir is not None and Path(data_dir).resolve() != default_data_dir().resolve():
        opts += f" --data-dir {shlex.quote(str(data_dir))}"
    if region is None:
        parts = [t("hint_works_approx", lang), t("hint_works_stops", lang)]
    else:
        parts = []
        if region.districts.source == "file":
            parts.append(t("hint_works_file", lang))
        elif "centres" in (region.districts.source, region.districts.fallback):
            parts.append(t("hint_works_approx", lang))
        if region.transit.stops_file is not None:
            parts.append(transit_source_label(region, lang))
    works = t("hint_and", lang).join(parts)
    last = t("hint_works", lang, works=works) if works else t("hint_nothing_works", lang)
    return t("hint_no_osm", lang, opts=opts) + "\n" + last
