"""What a region file may contain: one table, checked before the region is built.

Region files are written by hand. A typo (``CRS`` for ``crs``, ``bufer_m``) must not
silently fall back to a default, and a wrong type (text for ``buffer_m``, a string where a
list of tag rules belongs) must be one line naming the key, not a traceback. The schema
is data (:data:`SCHEMA`): a new setting is one new entry here.

Unknown keys: a key close to a known one (a typo) is an error naming the match; any other
unknown key is a warning (``Region.warnings``), so a file written for a newer version still
loads. Keys ending in ``_source`` or ``_note`` are free text everywhere (a number's source
sits next to it).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

from dorfkarte.errors import RegionError


@dataclass(frozen=True)
class Num:
    """A number (int or float, not a bool), optionally bounded."""

    min: float | None = None
    max: float | None = None
    min_open: bool = False  # True: strictly greater than ``min``
    integer: bool = False


@dataclass(frozen=True)
class Text:
    pass


@dataclass(frozen=True)
class TextList:
    pass


@dataclass(frozen=True)
class Table:
    keys: dict[str, Any]
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class Map:
    """A table with free keys (category ids, modes, road classes) of one value schema."""

    value: Any
    keys: tuple[str, ...] | None = None  # allowed keys, None = any


@dataclass(frozen=True)
class Array:
    item: Any


@dataclass(frozen=True)
class Either:
    """A list of tables (``[[key]]``) or one table (``[key]``), by what the file has."""

    array: Any
    table: Any


@dataclass(frozen=True)
class NumList:
    pass


POS = Num(min=0, min_open=True)
SHARE = Num(min=0, max=1)
TEXT = Text()
RULES = TextList()
THRESHOLD = Table({"minutes": POS, "metres": POS, "source": TEXT})
MODES_ALL = ("walk", "bike", "drive", "transit", "pt")
#: Extra / excluded ways of a network, as tag rules (``dorfkarte.tags``).
NETWORK_KEYS = {"include": RULES, "exclude": RULES}

SCHEMA = Table({
    "region": Table({
        "id": TEXT, "name": TEXT, "crs": TEXT, "buffer_m": Num(min=0),
        "grid_m": POS, "unit_label": TEXT, "timezone": TEXT,
    }),
    "municipalities": Either(
        Array(Table({"name": TEXT, "ags": TEXT})),
        # [municipalities] file = ... (official outlines) + [[municipalities.list]]
        Table({"file": TEXT, "ags_column": TEXT, "name_column": TEXT, "source": TEXT,
               "licence": TEXT, "attribution": TEXT, "data_date": TEXT,
               "list": Array(Table({"name": TEXT, "ags": TEXT}))})),
    "population": Table({
        "file": TEXT, "id_column": TEXT, "x_column": TEXT, "y_column": TEXT, "crs": TEXT,
        "cell_m": POS, "residents_column": TEXT, "share_65plus_column": TEXT,
        "share_under18_column": TEXT, "secret_values": NumList(), "separator": TEXT,
        "source": TEXT, "licence": TEXT, "attribution": TEXT, "data_date": TEXT,
        "max_deviation": Num(min=0),
    }),
    "routes": Table({"file": TEXT, "attribution": TEXT}),
    "districts": Table({
        "source": TEXT, "admin_level": Num(min=1, max=12, integer=True), "fallback": TEXT,
        "file": TEXT, "centres_file": TEXT, "name_column": TEXT,
        "municipality_column": TEXT, "population_column": TEXT, "file_source": TEXT,
        "licence": TEXT, "centre_stops_file": TEXT, "imprecise_marker": TEXT,
    }),
    "transit": Table({
        "stops_file": TEXT, "source": TEXT, "licence": TEXT, "attribution": TEXT,
        "min_weight": Num(min=0), "data_date": TEXT,
    }),
    "modes": Table({
        "walk": Table({"speed_kmh": POS, **NETWORK_KEYS}),
        "bike": Table({"speed_kmh": POS, **NETWORK_KEYS}),
        "drive": Table({"rural_kmh": POS, "urban_kmh": POS, "highway_kmh": Map(POS),
                        **NETWORK_KEYS}),
        "straight_line": Table({"detour_factor": Num(min=1)}),
    }),
    "gap_classes": Table({"ok_share": SHARE, "knapp_share": SHARE, "source": TEXT}),
    "homes": Table({"rules": RULES}),
    "smart_village": Table({"categories": Map(TEXT)}),
    # mode pt, dorfkarte.pt (times "HH:MM" are checked there)
    "timetable": Table({
        "feed": TEXT, "min_transfer_min": Num(min=0), "transfer_walk_m": Num(min=0),
        "access_max_m": POS, "max_minutes": POS, "window": TextList(),
        "roundtrip_arrive_by": TEXT, "roundtrip_hours": POS, "roundtrip_stay_min": Num(min=0),
    }),
    "defaults": Table({"thresholds": Map(THRESHOLD, keys=MODES_ALL)}),
    "categories": Map(Table({
        "label": TEXT, "label_en": TEXT, "icon": TEXT, "color": TEXT, "osm": RULES,
        "source": TEXT, "thresholds": Map(THRESHOLD, keys=MODES_ALL),
        # central places (source = "places", dorfkarte.central)
        "places": Array(Table({"name": TEXT, "level": TEXT, "source": TEXT, "centre": TEXT,
                               "lat": Num(min=-90, max=90), "lon": Num(min=-180, max=180)})),
    })),
})

#: How close (difflib ratio, case-insensitive) an unknown key must be to count as a typo.
TYPO_CUTOFF = 0.75


def _free_text(key: str) -> bool:
    return key.endswith(("_source", "_note")) or key in {"note", "comment"}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "Wahrheitswert"
    if isinstance(value, int | float):
        return "Zahl"
    if isinstance(value, str):
        return "Text"
    if isinstance(value, list):
        return "Liste"
    if isinstance(value, dict):
        return "Tabelle"
    return type(value).__name__


def _err(where: str, msg: str, value: Any = None) -> RegionError:
    shown = "" if value is None else f" (ist {_kind(value)} {_short(value)})"
    return RegionError(f"Regionsdatei: '{where}' {msg}{shown}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_num(spec: Num, value: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _err(where, "muss eine Zahl sein", value)
    if isinstance(value, float) and not math.isfinite(value):
        raise _err(where, "muss eine endliche Zahl sein", value)
    if spec.integer and not float(value).is_integer():
        raise _err(where, "muss eine ganze Zahl sein", value)
    if spec.min == 0 and spec.min_open and value <= 0:
        raise _err(where, "muss eine positive Zahl sein", value)
    if spec.min is not None and (value <= spec.min if spec.min_open else value < spec.min):
        word = "größer als" if spec.min_open else "mindestens"
        raise _err(where, f"muss {word} {spec.min:g} sein", value)
    if spec.max is not None and value > spec.max:
        raise _err(where, f"darf höchstens {spec.max:g} sein", value)


def check(raw: dict[str, Any]) -> list[str]:
    """Check types and ranges against :data:`SCHEMA`; return warnings (unknown keys)."""
    warnings: list[str] = []
    _check(SCHEMA, raw, "", warnings)
    return warnings


def _check(spec: Any, value: Any, where: str, warnings: list[str]) -> None:
    if isinstance(spec, Num):
        _check_num(spec, value, where)
    elif isinstance(spec, Text):
        if not isinstance(value, str):
            raise _err(where, "muss Text sein (in Anführungszeichen)", value)
    elif isinstance(spec, TextList):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _err(where, 'muss eine Liste von Texten sein, z. B. ["shop=bakery"]', value)
    elif isinstance(spec, Either):
        _check(spec.table if isinstance(value, dict) else spec.array, value, where, warnings)
    elif isinstance(spec, NumList):
        if not isinstance(value, list) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            raise _err(where, "muss eine Liste von Zahlen sein, z. B. [-9, -1]", value)
    elif isinstance(spec, Array):
        if not isinstance(value, list):
            raise _err(where, "muss eine Liste von Tabellen sein ([[...]])", value)
        for item in value:
            _check(spec.item, item, f"{where}[]", warnings)
    elif isinstance(spec, Map):
        if not isinstance(value, dict):
            raise _err(where, "muss eine Tabelle sein", value)
        for key, item in value.items():
            sub = f"{where}.{key}"
            if spec.keys is not None and key not in spec.keys:
                _unknown(key, sub, spec.keys, warnings)
                continue
            _check(spec.value, item, sub, warnings)
    elif isinstance(spec, Table):
        if not isinstance(value, dict):
            raise _err(where or "Datei", "muss eine Tabelle sein", value)
        for key, item in value.items():
            sub = f"{where}.{key}" if where else key
            if key in spec.keys:
                _check(spec.keys[key], item, sub, warnings)
            elif _free_text(key):
                if not isinstance(item, str):
                    raise _err(sub, "muss Text sein (Quelle/Hinweis)", item)
            else:
                _unknown(key, sub, tuple(spec.keys), warnings)
    else:  # pragma: no cover - schema bug
        raise TypeError(spec)


def _unknown(key: str, where: str, known: tuple[str, ...], warnings: list[str]) -> None:
    lower = {k.lower(): k for k in known}
    match = lower.get(key.lower())
    if match is None:
        close = difflib.get_close_matches(key.lower(), list(lower), n=1, cutoff=TYPO_CUTOFF)
        match = lower[close[0]] if close else None
    if match is not None:
        parent = where.rsplit(".", 1)[0] if "." in where else ""
        full = f"{parent}.{match}" if parent else match
        raise RegionError(f"Regionsdatei: unbekannter Schlüssel '{where}' – gemeint ist "
                          f"wohl '{full}'")
    warnings.append(f"Regionsdatei: unbekannter Schlüssel '{where}' wird nicht verwendet "
                    f"(bekannt: {', '.join(known)})")
