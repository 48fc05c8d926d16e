"""OSM tag rules from the region file: ``"amenity=doctors&!healthcare:speciality"``.

A rule is conditions joined by ``&``; all must hold. A condition is ``key=value``,
``key=*`` (present), ``key!=value`` or ``!key`` (absent). Rules are kept as text in the
region file so planners can read and edit them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dorfkarte.errors import RegionError


@dataclass(frozen=True)
class Condition:
    key: str
    value: str | None  # None: any value
    negate: bool = False

    def holds(self, tags: Mapping[str, object]) -> bool:
        raw = tags.get(self.key)
        present = raw is not None and not (isinstance(raw, float) and raw != raw) and raw != ""
        if self.value is None:
            return present != self.negate
        values = {v.strip() for v in str(raw).split(";")} if present else set()
        return (self.value in values) != self.negate


@dataclass(frozen=True)
class TagRule:
    text: str
    conditions: tuple[Condition, ...]

    def matches(self, tags: Mapping[str, object]) -> bool:
        return all(c.holds(tags) for c in self.conditions)

    def positive(self) -> list[tuple[str, str | None]]:
        """The ``key=value`` / ``key=*`` parts, used to ask Overpass for candidates."""
        return [(c.key, c.value) for c in self.conditions if not c.negate]


def parse_rule(text: str) -> TagRule:
    """Parse one rule; raise :class:`RegionError` naming the rule if it is malformed."""
    conds: list[Condition] = []
    for part in text.split("&"):
        part = part.strip()
        if not part:
            raise RegionError(f"Tag-Regel {text!r}: leere Bedingung")
        if part.startswith("!"):
            key = part[1:].strip()
            if not key or "=" in key:
                raise RegionError(f"Tag-Regel {text!r}: '!{key}' ist keine gültige Bedingung")
            conds.append(Condition(key, None, negate=True))
        elif "!=" in part:
            key, value = (s.strip() for s in part.split("!=", 1))
            if not key or not value:
                raise RegionError(f"Tag-Regel {text!r}: {part!r} braucht Schlüssel und Wert")
            conds.append(Condition(key, value, negate=True))
        elif "=" in part:
            key, value = (s.strip() for s in part.split("=", 1))
            if not key or not value:
                raise RegionError(f"Tag-Regel {text!r}: {part!r} braucht Schlüssel und Wert")
            conds.append(Condition(key, None if value == "*" else value))
        else:
            raise RegionError(f"Tag-Regel {text!r}: {part!r} ist keine Bedingung key=value")
    if not any(not c.negate for c in conds):
        raise RegionError(f"Tag-Regel {text!r}: braucht mindestens eine positive Bedingung")
    return TagRule(text, tuple(conds))


def overpass_tags(rules: Iterable[TagRule]) -> dict[str, bool | list[str]]:
    """Merge rules into an osmnx ``tags`` dict (a superset; classification narrows it)."""
    out: dict[str, bool | list[str]] = {}
    for rule in rules:
        key, value = rule.positive()[0]
        if value is None:
            out[key] = True
        elif out.get(key) is not True:
            vals = out.setdefault(key, [])
            assert isinstance(vals, list)
            if value not in vals:
                vals.append(value)
    return out
