"""Scenario changes and their storage: what a planner edits and saves.

A :class:`Change` is one edit of the service points of a category (add, remove, schedule);
a :class:`Scenario` is a named list of them, stored in ``<data_dir>/scenarios.json`` beside
the listing store (:class:`ScenarioStore`). Changes address existing service points by a
stable reference (:func:`dest_ref`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from filelock import FileLock, Timeout

from dorfkarte.atomic import write_text_atomic
from dorfkarte.coverage import CoverageResult
from dorfkarte.errors import DorfkarteError

SCENARIO_FILE = "scenarios.json"
ACTIONS = ("add", "remove", "schedule")


class ScenarioError(DorfkarteError, ValueError):
    """A scenario change or file cannot be applied or read (names the change/field)."""


@dataclass
class Change:
    """One edit of the service points of a category.

    ``add``: a new point at ``lat``/``lon`` named ``name`` (``kind`` says where it came
    from: map, stop, centre, anchor, suggestion). ``remove``: the destination with
    ``ref`` (its OSM id / listing id / stop id, or ``#<index>`` when it has none).
    ``schedule``: listing ``ref`` gets ``opening_hours``; it counts as removed or added
    depending on whether it is there at the analysis time (``when``).
    """

    action: str
    category: str
    name: str = ""
    lat: float | None = None
    lon: float | None = None
    ref: str = ""
    kind: str = ""
    opening_hours: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in ("", None)}

    @classmethod
    def from_dict(cls, raw: Any, where: str = "Änderung") -> Change:
        if not isinstance(raw, dict):
            raise ScenarioError(f"{where}: muss ein Objekt sein")
        action = str(raw.get("action", "")).strip()
        if action not in ACTIONS:
            raise ScenarioError(f"{where}, Feld 'action': {action!r}; erlaubt: "
                                + ", ".join(ACTIONS))
        cat = str(raw.get("category", "")).strip()
        if not cat:
            raise ScenarioError(f"{where}, Feld 'category' fehlt")
        ch = cls(action=action, category=cat, name=str(raw.get("name", "") or ""),
                 ref=str(raw.get("ref", "") or ""), kind=str(raw.get("kind", "") or ""),
                 opening_hours=str(raw.get("opening_hours", "") or ""))
        if action == "add":
            for f in ("lat", "lon"):
                try:
                    v = float(raw.get(f))
                except (TypeError, ValueError):
                    raise ScenarioError(f"{where}, Feld '{f}': keine Zahl") from None
                if not math.isfinite(v) or abs(v) > (90 if f == "lat" else 180):
                    raise ScenarioError(f"{where}, Feld '{f}': {v} liegt außerhalb")
                setattr(ch, f, v)
        elif not ch.ref:
            raise ScenarioError(f"{where}, Feld 'ref' fehlt")
        return ch


@dataclass
class Scenario:
    """A named list of changes; ``example`` marks illustrative scenarios in every output."""

    name: str
    changes: list[Change] = field(default_factory=list)
    note: str = ""
    created: str = ""
    updated: str = ""
    example: bool = False
    #: the view it was made in (loading switches back to it); "" for older files:
    #: then the category of its first change, and the current mode
    category: str = ""
    mode: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "note": self.note, "created": self.created,
               "updated": self.updated, "example": self.example,
               "changes": [c.to_dict() for c in self.changes]}
        if self.category:
            out["category"] = self.category
        if self.mode:
            out["mode"] = self.mode
        return out

    @property
    def main_category(self) -> str:
        """The category to show: as saved, else the first change's."""
        return self.category or (self.changes[0].category if self.changes else "")

    @classmethod
    def from_dict(cls, raw: Any, where: str = "Szenario") -> Scenario:
        if not isinstance(raw, dict):
            raise ScenarioError(f"{where}: muss ein Objekt sein")
        name = " ".join(str(raw.get("name", "")).split())
        if not name:
            raise ScenarioError(f"{where}, Feld 'name' fehlt")
        changes = raw.get("changes", [])
        if not isinstance(changes, list):
            raise ScenarioError(f"{where} {name!r}, Feld 'changes': muss eine Liste sein")
        return cls(name=name, note=str(raw.get("note", "") or ""),
                   created=str(raw.get("created", "") or ""),
                   updated=str(raw.get("updated", "") or ""),
                   example=bool(raw.get("example", False)),
                   category=str(raw.get("category", "") or ""),
                   mode=str(raw.get("mode", "") or ""),
                   changes=[Change.from_dict(c, f"{where} {name!r}, Änderung {i + 1}")
                            for i, c in enumerate(changes)])


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


class ScenarioStore:
    """Scenarios of a data folder: ``<data_dir>/scenarios.json`` beside ``listings.gpkg``.

    One JSON file (readable, diffable, small); every write takes a file lock and replaces
    the file in one rename, so a crash never leaves it half-written.
    """

    def __init__(self, data_dir: str | Path, *, lock_timeout: float = 10.0) -> None:
        self.path = Path(data_dir) / SCENARIO_FILE
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.lock_timeout = lock_timeout

    def _read(self) -> dict[str, Scenario]:
        if not self.path.exists():
            return {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ScenarioError(f"Szenariodatei {self.path} ist nicht lesbar: {exc}") from None
        items = raw.get("scenarios", []) if isinstance(raw, dict) else None
        if not isinstance(items, list):
            raise ScenarioError(f"Szenariodatei {self.path}: Schlüssel 'scenarios' fehlt")
        out: dict[str, Scenario] = {}
        for i, item in enumerate(items):
            sc = Scenario.from_dict(item, f"{self.path.name}, Szenario {i + 1}")
            out[sc.name] = sc
        return out

    def names(self) -> list[str]:
        return sorted(self._read())

    def list(self) -> list[Scenario]:
        return [s for _, s in sorted(self._read().items())]

    def get(self, name: str) -> Scenario:
        items = self._read()
        if name not in items:
            known = ", ".join(sorted(items)) or "keine"
            raise ScenarioError(f"Szenario {name!r} nicht gefunden (gespeichert: {known})")
        return items[name]

    def save(self, scenario: Scenario) -> Scenario:
        """Insert or replace by name; keeps ``created`` of an existing one."""
        name = " ".join(scenario.name.split())
        if not name:
            raise ScenarioError("Szenario braucht einen Namen")
        with self._locked():
            items = self._read()
            old = items.get(name)
            now = _now()
            sc = replace(scenario, name=name, created=old.created if old else
                         (scenario.created or now), updated=now,
                         changes=[replace(c) for c in scenario.changes])
            items[name] = sc
            self._write(items)
        return sc

    def delete(self, name: str) -> bool:
        with self._locked():
            items = self._read()
            if name not in items:
                return False
            del items[name]
            self._write(items)
        return True

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with FileLock(str(self.lock_path), timeout=self.lock_timeout):
                yield
        except Timeout:
            raise ScenarioError("Szenariodatei wird gerade von einem anderen Vorgang "
                                "geschrieben; bitte gleich noch einmal versuchen") from None

    def _write(self, items: dict[str, Scenario]) -> None:
        doc = {"format": "dorfkarte-scenarios", "version": 1,
               "scenarios": [items[k].to_dict() for k in sorted(items)]}
        write_text_atomic(self.path, json.dumps(doc, ensure_ascii=False, indent=1), fsync=True)


def scenario_geojson(scenario: Scenario, result: CoverageResult | None = None) -> dict[str, Any]:
    """The scenario's changes as GeoJSON (added points at their place; removals where the
    removed point was, if ``result`` knows it)."""
    feats = []
    for i, c in enumerate(scenario.changes):
        lon, lat = c.lon, c.lat
        if (lat is None or lon is None) and result is not None and c.ref:
            d = result.destinations.get(c.category)
            if d is not None and len(d):
                try:
                    k = _find_ref(d, c.ref)
                    g = d.geometry.iloc[k]
                    lon, lat = float(g.x), float(g.y)
                except ScenarioError:
                    pass
        geom = {"type": "Point", "coordinates": [lon, lat]} if lat is not None else None
        props = {"order": i + 1, "scenario": scenario.name, **c.to_dict()}
        props.pop("lat", None)
        props.pop("lon", None)
        if scenario.example:
            props["example"] = "Beispieldaten, kein echter Plan"
        feats.append({"type": "Feature", "geometry": geom, "properties": props})
    return {"type": "FeatureCollection", "name": scenario.name, "features": feats}


def _find_ref(dest: gpd.GeoDataFrame, ref: str) -> int:
    """Row of a destination by ref (``#<index>`` addresses a row without a ref)."""
    if ref.startswith("#") and ref[1:].isdigit():
        k = int(ref[1:])
        if 0 <= k < len(dest):
            return k
    refs = dest["ref"].astype(str).to_numpy() if "ref" in dest else np.array([])
    hit = np.flatnonzero(refs == ref)
    if len(hit) == 0:
        raise ScenarioError(f"Einrichtung {ref!r} ist im Datenstand nicht (mehr) vorhanden")
    return int(hit[0])


def dest_ref(dest: gpd.GeoDataFrame, k: int) -> str:
    """The stable reference of destination row ``k`` (its ref, else ``#k``)."""
    r = str(dest["ref"].iloc[k]) if "ref" in dest else ""
    if r and r != "nan" and int((dest["ref"].astype(str) == r).sum()) == 1:
        return r
    return f"#{k}"
