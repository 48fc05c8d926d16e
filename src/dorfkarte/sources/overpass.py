"""Download the region from the Overpass API, with retries, backoff and an answer cache.

osmnx's own request function retries HTTP 429/504 forever with a fixed 55 s pause and
treats other failures as fatal; for a planner's laptop (and for tests) we want a bounded,
configurable retry loop and a clear message instead. So the queries are sent here (to
``osmnx.settings.overpass_url``, with osmnx's timeout and user agent as defaults), the
answers are merged into one OSM XML file and handed to the same code as ``import-osm``
(osmnx ``features_from_xml`` / ``graph_from_xml``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import requests
import shapely

from dorfkarte.atomic import write_text_atomic
from dorfkarte.errors import DorfkarteError, FetchError
from dorfkarte.jobs import check_cancel
from dorfkarte.region import Region
from dorfkarte.snapshot import now_iso, snapshot_path, write_snapshot
from dorfkarte.sources import osm_layers as L
from dorfkarte.sources.osm_build import (
    IMPORT_STEPS,
    build_snapshot,
    cleanup_stale,
    clip_area,
    temp_prefix,
)
from dorfkarte.tags import overpass_tags

CACHE_MAX_AGE_S = 24 * 3600
FETCH_STEPS = ("Gemeindegrenzen", "Verwaltungsgrenzen", "Einrichtungen",
               "Wohngebäude und Adressen", "Straßen und Wege", "Landnutzung und Gewässer")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed Overpass query is repeated.

    Pauses: ``backoff_s``, then times ``factor`` each retry, at most ``max_backoff_s``.
    """

    retries: int = 4
    backoff_s: float = 5.0
    factor: float = 2.0
    max_backoff_s: float = 120.0

    def pause(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
        return min(self.backoff_s * self.factor ** attempt, self.max_backoff_s)


class _Retryable(Exception):  # noqa: N818 - internal signal, never leaves this module
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass
class OverpassClient:
    """POSTs Overpass QL, retries transient failures, caches good answers on disk."""

    url: str
    timeout_s: float = 180.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    cache_dir: Path | None = None
    use_cache: bool = True
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session | None = None
    attempts: list[tuple[str, str]] = field(default_factory=list)  # (label, outcome) log
    osm_base: str = ""
    #: Set from another thread to stop before the next query or during a retry pause.
    cancel: threading.Event | None = None

    @classmethod
    def from_settings(cls, data_dir: str | Path, *, url: str | None = None,
                      timeout_s: float | None = None, retry: RetryPolicy | None = None,
                      use_cache: bool = True) -> OverpassClient:
        """Defaults from ``osmnx.settings``; cache under ``data_dir/cache/overpass``."""
        import osmnx as ox  # heavy (sklearn, matplotlib): only when fetching

        return cls(
            url=url or ox.settings.overpass_url,
            timeout_s=float(timeout_s or ox.settings.requests_timeout),
            retry=retry or RetryPolicy(),
            cache_dir=Path(data_dir) / "cache" / "overpass",
            use_cache=use_cache,
        )

    @property
    def endpoint(self) -> str:
        u = self.url.rstrip("/")
        return u if u.endswith("/interpreter") else u + "/interpreter"

    def _cache_file(self, ql: str) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(f"{self.endpoint}\n{ql}".encode()).hexdigest()[:32]
        return self.cache_dir / f"{key}.json"

    def query(self, ql: str, label: str) -> dict[str, Any]:
        """The answer's JSON; :class:`FetchError` naming ``label`` after the last retry."""
        cache = self._cache_file(ql)
        if self.use_cache and cache is not None and cache.exists() and (
            time.time() - cache.stat().st_mtime < CACHE_MAX_AGE_S
        ):
            try:
                data = json.loads(cache.read_text(encoding="utf-8"))
                self.attempts.append((label, "cache"))
                self._note_base(data)
                return data
            except (OSError, ValueError):
                pass  # a broken cache file is simply fetched again
        last = ""
        for attempt in range(self.retry.retries + 1):
            check_cancel(self.cancel, "Download")
            try:
                data = self._post(ql)
            except _Retryable as exc:
                last = exc.reason
                self.attempts.append((label, exc.reason))
                if attempt < self.retry.retries:
                    pause = self.retry.pause(attempt)
                    if exc.retry_after is not None:
                        pause = min(max(pause, exc.retry_after), self.retry.max_backoff_s)
                    if self.cancel is not None and self.sleep is time.sleep:
                        self.cancel.wait(pause)  # a cancel ends the pause at once
                    else:
                        self.sleep(pause)
                continue
            check_cancel(self.cancel, "Download")  # a slow answer that came after a cancel
            self.attempts.append((label, "ok"))
            self._note_base(data)
            if cache is not None:
                write_text_atomic(cache, json.dumps(data, ensure_ascii=False))
            return data
        n = self.retry.retries + 1
        raise FetchError(
            f"Overpass-Abfrage '{label}' fehlgeschlagen nach {n} Versuch"
            f"{'en' if n > 1 else ''}: {last} ({self.endpoint}); "
            "der bisherige Schnappschuss bleibt unverändert"
        )

    def _note_base(self, data: dict[str, Any]) -> None:
        base = str(data.get("osm3s", {}).get("timestamp_osm_base", ""))
        if base and (not self.osm_base or base < self.osm_base):
            self.osm_base = base

    def _post(self, ql: str) -> dict[str, Any]:
        import osmnx as ox

        post = (self.session or requests).post
        try:
            resp = post(self.endpoint, data={"data": ql}, timeout=self.timeout_s,
                        headers={"User-Agent": ox.settings.http_user_agent})
        except requests.Timeout:
            raise _Retryable(f"Zeitüberschreitung nach {self.timeout_s:g} s") from None
        except requests.RequestException as exc:
            raise _Retryable(f"Verbindung fehlgeschlagen ({type(exc).__name__})") from None
        status = resp.status_code
        if status == 429 or status >= 500:
            ra = resp.headers.get("Retry-After", "")
            retry_after = float(ra) if ra.replace(".", "", 1).isdigit() else None
            raise _Retryable(f"HTTP {status} {resp.reason or ''}".strip(), retry_after)
        if status >= 400:
            raise FetchError(
                f"Overpass lehnt die Abfrage ab: HTTP {status} ({self.endpoint}): "
                f"{' '.join(resp.text[:200].split())}"
            )
        try:
            data = resp.json()
        except ValueError:
            raise _Retryable("unvollständige oder ungültige Antwort (kein JSON)") from None
        if not isinstance(data, dict) or not isinstance(data.get("elements"), list):
            raise _Retryable("Antwort ohne 'elements'")
        remark = str(data.get("remark", ""))
        if "runtime error" in remark:
            raise _Retryable(f"Serverfehler: {' '.join(remark.split())[:160]}")
        return data


# --- queries ---------------------------------------------------------------------------------

def _q(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _wrap(body: str, timeout_s: float) -> str:
    """Query with all members and nodes (``>``) in plain ``out`` (no meta)."""
    return f"[out:json][timeout:{int(timeout_s)}];({body});(._;>;);out;"


def municipalities_query(region: Region, timeout_s: float) -> str:
    parts = []
    for m in region.municipalities:
        if m.ags:
            parts.append('relation["boundary"="administrative"]'
                         f'["de:amtlicher_gemeindeschluessel"="{_q(m.ags)}"];')
        parts.append(f'relation["boundary"="administrative"]["admin_level"="8"]'
                     f'["name"="{_q(m.name)}"];')
    return _wrap("".join(parts), timeout_s)


def poly_string(area: shapely.Geometry) -> str:
    """Overpass ``poly:`` coordinates ("lat lon ...") of the area's outline, ~70 m simplified."""
    if area.geom_type != "Polygon":
        area = area.convex_hull
    ring = shapely.Polygon(area.exterior).simplify(0.0007, preserve_topology=True).exterior
    return " ".join(f"{y:.6f} {x:.6f}" for x, y in ring.coords[:-1])


def _ere(value: str) -> str:
    """Escape a tag value for an Overpass (POSIX extended) regular expression."""
    return "".join("\\" + c if c in ".^$*+?()[]{}|\\" else c for c in value)


def _tag_filter(key: str, values: bool | list[str]) -> str:
    if values is True:
        return f'["{_q(key)}"]'
    alts = "|".join(_ere(v) for v in values)  # type: ignore[union-attr]
    return f'["{_q(key)}"~"^({_q(alts)})$"]'


def area_queries(region: Region, poly: str, timeout_s: float) -> list[tuple[str, str]]:
    """(label, query) for everything inside the clip polygon."""
    p = f'(poly:"{poly}")'
    rules = [r for c in region.osm_categories() for r in c.rules]
    amen = "".join(f"nwr{_tag_filter(k, v)}{p};" for k, v in overpass_tags(rules).items())
    home_keys = {k for r in region.home_rules for k, _ in r.positive()}
    homes = "".join(f'way["{_q(k)}"]{p};relation["{_q(k)}"]{p};' for k in sorted(home_keys))
    homes += f'node["addr:housenumber"]{p};'
    nat = "|".join(["water", *L.NATURAL_LANDUSE])
    base = (f'way["landuse"]{p};relation["landuse"]{p};way["natural"~"^({nat})$"]{p};'
            f'relation["natural"~"^({nat})$"]{p};way["waterway"]{p};relation["water"]{p};')
    return [
        (FETCH_STEPS[1], _wrap('relation["boundary"="administrative"]'
                               f'["admin_level"~"^([7-9]|1[0-2])$"]{p};', timeout_s)),
        (FETCH_STEPS[2], _wrap(amen, timeout_s)),
        (FETCH_STEPS[3], _wrap(homes, timeout_s)),
        (FETCH_STEPS[4], _wrap(f'way["highway"]{p};', timeout_s)),
        (FETCH_STEPS[5], _wrap(base, timeout_s)),
    ]


# --- Overpass JSON -> OSM XML ----------------------------------------------------------------

def write_osm_xml(elements: Iterable[dict[str, Any]], path: Path) -> Path:
    """Write Overpass JSON elements as sorted OSM XML (what osmnx and pyosmium read)."""
    merged: dict[tuple[int, int], dict[str, Any]] = {}
    order = {"node": 0, "way": 1, "relation": 2}
    for e in elements:
        t = order.get(e.get("type", ""))
        if t is None or "id" not in e:
            continue
        key = (t, int(e["id"]))
        if key in merged and "tags" not in e:
            continue  # keep the tagged copy if an object came twice
        merged[key] = e
    with path.open("w", encoding="utf-8") as fh:
        fh.write("<?xml version='1.0' encoding='UTF-8'?>\n"
                 '<osm version="0.6" generator="dorfkarte (Overpass API)">\n')
        for (t, oid), e in sorted(merged.items()):
            tags = e.get("tags") or {}
            tag_xml = "".join(f"<tag k={quoteattr(str(k))} v={quoteattr(str(v))}/>"
                              for k, v in tags.items())
            if t == 0:
                if "lat" not in e or "lon" not in e:
                    continue
                fh.write(f'<node id="{oid}" version="1" lat="{e["lat"]}" lon="{e["lon"]}">'
                         f"{tag_xml}</node>\n")
            elif t == 1:
                nds = "".join(f'<nd ref="{int(n)}"/>' for n in e.get("nodes", []))
                fh.write(f'<way id="{oid}" version="1">{nds}{tag_xml}</way>\n')
            else:
                mem = "".join(
                    f'<member type="{m["type"]}" ref="{int(m["ref"])}" '
                    f"role={quoteattr(str(m.get('role', '')))}/>"
                    for m in e.get("members", []) if m.get("type") in order)
                fh.write(f'<relation id="{oid}" version="1">{mem}{tag_xml}</relation>\n')
        fh.write("</osm>\n")
    return path


# --- the whole download ----------------------------------------------------------------------

def fetch(region: Region, data_dir: Path, client: OverpassClient,
          progress: Callable[[str, int, int], None]) -> Path:
    """Download everything, then build and write the snapshot (only if all succeeded)."""
    n = len(FETCH_STEPS) + 5
    data_dir.mkdir(parents=True, exist_ok=True)
    cleanup_stale(data_dir)
    with tempfile.TemporaryDirectory(prefix=temp_prefix("fetch"), dir=data_dir) as tmp:
        work = Path(tmp)
        progress(FETCH_STEPS[0], 0, n)
        answer = client.query(municipalities_query(region, client.timeout_s), FETCH_STEPS[0])
        xml = write_osm_xml(answer["elements"], work / "municipalities.osm")
        feats = L.read_features(xml)
        tags = L.tag_records(feats)
        bounds = L.boundaries_layer(feats, tags, shapely.box(-180, -90, 180, 90))
        munis = (L.municipalities_from_boundaries(bounds, region) if len(bounds)
                 else gpd.GeoDataFrame(columns=["name"], geometry=[], crs=L.WGS84))
        found = set(munis["name"])
        missing = [m for m in region.municipalities if m.name not in found]
        if missing:
            m = missing[0]
            raise FetchError(
                f"Gemeinde '{m.name}'{f' (AGS {m.ags})' if m.ags else ''} nicht in "
                "OpenStreetMap gefunden (Name/AGS in der Regionsdatei prüfen)"
            )
        clip = clip_area(munis, region)
        poly = poly_string(clip)
        elements: list[dict[str, Any]] = []
        for i, (label, ql) in enumerate(area_queries(region, poly, client.timeout_s), start=1):
            progress(label, i, n)
            elements.extend(client.query(ql, label)["elements"])
        xml = write_osm_xml(elements, work / "region.osm")
        del elements
        try:
            snap = build_snapshot(
                xml, region, clip, munis,
                source=f"OpenStreetMap, Overpass API ({client.url})", fetched_at=now_iso(),
                note=f"Datenstand {client.osm_base}" if client.osm_base else "",
                workdir=work, progress=progress, step0=len(FETCH_STEPS), nsteps=n,
                data_date=client.osm_base,
            )
        except DorfkarteError:
            raise
        except Exception as exc:  # a broken answer that parsed as JSON
            raise FetchError(f"Overpass-Antwort nicht verwertbar: {exc}") from None
        progress(IMPORT_STEPS[-1], n - 1, n)
        out = write_snapshot(snap, snapshot_path(data_dir, region.id))
    for w in snap.warnings:  # the import summary (missing networks, incomplete ways)
        logging.getLogger(__name__).warning(w)
    return out
