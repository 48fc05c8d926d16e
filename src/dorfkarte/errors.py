"""User-facing errors: one line, names the file/row/field, no traceback in the CLI.

Every problem a user can fix is a :class:`DorfkarteError` (the CLI prints it on one line
and exits 2; the app shows it). Each class also derives from the builtin exception that
says what kind of problem it is (as r5py and osmnx do), so callers that know nothing of
dorfkarte can still catch ``ValueError`` / ``LookupError`` / ``ConnectionError``.
Module-specific errors (``ScenarioError``, ``ScheduleError``, ``ExportError``, ...) live
beside their module and follow the same pattern.
"""

from __future__ import annotations


class DorfkarteError(Exception):
    """Base class for problems the user can fix (bad input, missing data, failed download).

    The CLI prints ``str(error)`` on one line and exits non-zero; the app shows it in German.
    """


class RegionError(DorfkarteError, ValueError):
    """The region file is missing, unreadable or lacks a key."""


class UnknownCategoryError(DorfkarteError, LookupError):
    """A category id that the region does not define."""


class DataError(DorfkarteError, ValueError):
    """An input data file (extract, districts file, stops file) is broken."""


class FetchError(DorfkarteError, ConnectionError):
    """A download failed after all retries; the existing snapshot is untouched."""


__all__ = ["DataError", "DorfkarteError", "FetchError", "RegionError", "UnknownCategoryError"]
