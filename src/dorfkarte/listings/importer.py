"""File -> checked rows -> store, in one call for the CLI and the app.

Nothing is written unless the whole file is clean, or the caller asked for the valid
rows only; the store itself is replaced atomically, so a refused import leaves it
byte-for-byte unchanged.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dorfkarte.listings.reader import RawTable, read_listing_bytes, read_listing_file
from dorfkarte.listings.store import ChangeSummary, ListingStore
from dorfkarte.listings.validate import ValidationContext, ValidationReport, validate
from dorfkarte.region import Region


def check_table(table: RawTable, region: Region, data_dir: str | Path,
                store: ListingStore | None = None, *,
                context: ValidationContext | None = None) -> ValidationReport:
    """Validate rows against the region and what the store already holds.

    ``context``: a prepared :class:`ValidationContext` (``Workspace.validation_context``)
    instead of opening the data folder; the store's rows are set as its ``existing``.
    """
    store = store or ListingStore(data_dir)
    if context is None:
        ctx = ValidationContext.from_region(region, data_dir, existing=store.read())
    else:
        ctx = replace(context, existing=store.read())
    return validate(table, ctx)


def check_file(path: str | Path | bytes, region: Region, data_dir: str | Path, *,
               name: str = "Upload", store: ListingStore | None = None,
               context: ValidationContext | None = None) -> ValidationReport:
    """Read (a path, or bytes of an upload) and validate; :class:`DataError` if unreadable."""
    table = (read_listing_bytes(path, name) if isinstance(path, bytes)
             else read_listing_file(path))
    return check_table(table, region, data_dir, store, context=context)


def import_report(report: ValidationReport, store: ListingStore, *, valid_only: bool = False,
                  user: str | None = None) -> ChangeSummary | None:
    """Store the rows of a checked file; None (nothing written) if it has errors and
    ``valid_only`` is False, or if no row is valid."""
    if (report.errors and not valid_only) or not len(report.listings):
        return None
    return store.upsert(report.listings, user=user, action="import")
