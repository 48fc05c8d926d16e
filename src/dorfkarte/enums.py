"""Machine values shared by every module: compare against these members, never literals.

Members are ``StrEnum``s, so they equal their value and serialise as it. Shown text comes
from :mod:`dorfkarte.i18n`, never from the value.
"""

from __future__ import annotations

from enum import StrEnum


class GapClass(StrEnum):
    """How well a unit is served for one category x mode."""

    OK = "ok"
    TIGHT = "tight"
    GAP = "gap"
    NO_DATA = "no_data"
    #: Only local listings, no OSM search for the category: a unit no listing serves is
    #: unknown (an unlisted service may be there), never a gap.
    LOCAL_ONLY = "local_only"


class Mode(StrEnum):
    """Travel modes; ``transit`` is the stop-distance pseudo-mode (metres)."""

    WALK = "walk"
    BIKE = "bike"
    DRIVE = "drive"
    TRANSIT = "transit"
    PT = "pt"  # bus & rail by timetable: door-to-door minutes (dorfkarte.pt)


class Source(StrEnum):
    """Where a destination comes from."""

    OSM = "osm"
    LISTING = "listing"
    TRANSIT = "transit"
    SCENARIO = "scenario"
    PLACES = "places"  # central places listed in the region file (dorfkarte.central)


class SiteStatus(StrEnum):
    """A destination in a what-if (column ``status`` of ``WhatIf.destinations``)."""

    EXISTING = "existing"
    NEW = "new"
    CLOSED = "closed"


class PopulationSource(StrEnum):
    """Where a unit's residents come from (column ``population_source``)."""

    PUBLISHED = "published"  # figure of the centres file (ortsteile.csv), with its own source
    CENSUS = "census"  # estimate from the census grid (area shares or buildings)
    OSM = "osm"  # population tag of the OSM boundary
    UNKNOWN = "unknown"
