"""User-facing errors: one line, names the file/row/field, no traceback in the CLI."""

from __future__ import annotations


class DorfkarteError(Exception):
    """Base class for problems the user can fix (bad input, missing data, failed download).

    The CLI prints ``str(error)`` on one line and exits non-zero; the app shows it in German.
    """


class RegionError(DorfkarteError):
    """The region file is missing, unreadable or lacks a key."""


class UnknownCategoryError(DorfkarteError):
    """A category id that the region does not define."""


class DataError(DorfkarteError):
    """An input data file (extract, districts file, stops file) is broken."""


class FetchError(DorfkarteError):
    """A download failed after all retries; the existing snapshot is untouched."""


class SnapshotMissingError(DorfkarteError):
    """No OSM snapshot exists yet for the region."""
