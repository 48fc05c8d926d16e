"""Local service listings: what OSM lacks (mobile shops, consultation hours, anchor places).

Read (:mod:`~dorfkarte.listings.reader`), check (:mod:`~dorfkarte.listings.validate`),
store with a change log (:mod:`~dorfkarte.listings.store`), ask when a service is there
(:mod:`~dorfkarte.listings.schedule`) and hand them to the coverage engine merged with
OSM (:mod:`~dorfkarte.listings.merge`). The schema is in :mod:`~dorfkarte.listings.schema`
and documented in ``docs/LISTINGS.md``.
"""

from dorfkarte.listings.importer import check_file, check_table, import_report
from dorfkarte.listings.merge import (
    BOTH_LABEL,
    MERGE_DISTANCE_M,
    destinations,
    merge_with_osm,
    name_similarity,
    source_label,
)
from dorfkarte.listings.reader import (
    RawTable,
    read_listing_bytes,
    read_listing_file,
    table_from_frame,
)
from dorfkarte.listings.schedule import (
    ScheduleError,
    When,
    available,
    check_schedule,
    describe_when,
    is_open_at,
    next_weekday_time,
    open_every_week,
    read_schedule,
)
from dorfkarte.listings.schema import COLUMNS, EXAMPLE_NOTE, FIELDS, KINDS, Issue
from dorfkarte.listings.store import (
    ChangeSummary,
    ListingStore,
    StoreBusyError,
    StoreChangedError,
)
from dorfkarte.listings.template import example_rows, template_rows, write_template
from dorfkarte.listings.validate import ValidationContext, ValidationReport, validate

__all__ = [
    "BOTH_LABEL", "COLUMNS", "EXAMPLE_NOTE", "FIELDS", "KINDS", "MERGE_DISTANCE_M",
    "ChangeSummary", "Issue", "ListingStore", "RawTable", "ScheduleError", "StoreBusyError",
    "StoreChangedError",
    "ValidationContext", "ValidationReport", "When", "available", "check_file", "check_schedule",
    "check_table", "describe_when", "destinations", "example_rows", "import_report",
    "is_open_at", "merge_with_osm", "name_similarity", "next_weekday_time", "open_every_week",
    "read_listing_bytes", "read_listing_file", "read_schedule", "source_label", "table_from_frame",
    "template_rows", "validate", "write_template",
]
