"""Template and example listing files (CSV as German Excel writes it, XLSX with help sheets).

The example rows are invented to show the format: every one says so in its name, its
``example`` column and its note, and the app marks them wherever they appear. They sit
at real stops and Ortsteil centres only so that they validate against the region.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

from dorfkarte.errors import DataError
from dorfkarte.listings.schema import COLUMNS, EXAMPLE_NOTE, FIELDS
from dorfkarte.region import Region

_EX = {"provider": "Beispielanbieter (erfunden)", "source": "erfunden, nur zur Veranschaulichung",
       "note": EXAMPLE_NOTE, "example": "ja"}


def example_rows() -> list[dict[str, str]]:
    """The shipped example listings (all invented, all marked as examples)."""
    rows = [
        {"id": "BSP-ANKER-LUETTE", "name": "Beispiel-Ankerort Dorfgemeinschaftshaus",
         "category": "treffpunkt", "kind": "anchor", "ortsteil": "Lütte",
         "opening_hours": "Tu,Th 09:00-17:00"},
        {"id": "BSP-VERKAUFSWAGEN", "name": "Beispiel-Verkaufswagen", "category": "lebensmittel",
         "kind": "mobile", "stop": "Lütte, Dorf", "opening_hours": "Tu 10:00-11:00"},
        {"id": "BSP-SPRECHSTUNDE", "name": "Beispiel-Sprechstunde Hausarzt",
         "category": "hausarzt", "kind": "mobile", "anchor": "BSP-ANKER-LUETTE",
         "opening_hours": "Th[2] 14:00-16:00"},
        {"id": "BSP-BANKBUS", "name": "Beispiel-Bankbus", "category": "bank", "kind": "mobile",
         "stop": "Dippmannsdorf, Ortsmitte", "opening_hours": "We[1,3] 09:00-10:00"},
        {"id": "BSP-POSTSCHALTER", "name": "Beispiel-Post- und Bankschalter",
         "category": "post, bank", "kind": "fixed", "lat": "52,2205", "lon": "12,5962",
         "address": "Beispielstraße 1 (erfunden)", "opening_hours": "Mo-Fr 08:00-12:00",
         "valid_from": "01.01.2026", "valid_to": "31.12.2027"},
        {"id": "BSP-WOCHENMARKT", "name": "Beispiel-Wochenmarkt", "category": "lebensmittel",
         "kind": "mobile", "ortsteil": "Reetz", "opening_hours": "Fr 08:00-12:00"},
    ]
    return [{f: r.get(f, _EX.get(f, "")) for f in FIELDS} for r in rows]


def template_rows() -> list[dict[str, str]]:
    """One marked example row, so the template shows the format."""
    return example_rows()[1:2]


def csv_bytes(rows: list[dict[str, str]], *, encoding: str = "utf-8-sig") -> bytes:
    """Rows as German Excel CSV: ``;`` separator, BOM so Excel detects UTF-8."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(FIELDS)
    for r in rows:
        w.writerow([_safe(r.get(f, "")) for f in FIELDS])
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows: list[dict[str, str]], region: Region | None = None) -> bytes:
    """Sheet "Angebote" (the data), "Erläuterung" (columns) and "Kategorien" (allowed values)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Angebote"
    ws.append(list(FIELDS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append([_safe(r.get(f, "")) for f in FIELDS])
    for col, f in zip(ws.iter_cols(min_row=1, max_row=1), FIELDS, strict=True):
        ws.column_dimensions[col[0].column_letter].width = max(10, min(40, len(f) + 14))
    help_ws = wb.create_sheet("Erläuterung")
    help_ws.append(["Spalte", "Bezeichnung", "Bedeutung", "Beispiel"])
    for c in COLUMNS:
        help_ws.append([c.name, c.label, c.help, c.example])
    help_ws.column_dimensions["C"].width = 90
    if region is not None:
        cat_ws = wb.create_sheet("Kategorien")
        cat_ws.append(["category", "Bezeichnung", "label_en"])
        for c in region.categories.values():
            cat_ws.append([c.id, c.label, c.label_en])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_template(path: str | Path, region: Region | None = None, *,
                   rows: list[dict[str, str]] | None = None) -> Path:
    """Write the template (by suffix: .csv or .xlsx) atomically."""
    path = Path(path)
    rows = template_rows() if rows is None else rows
    suffix = path.suffix.lower()
    if suffix == ".csv":
        data = csv_bytes(rows)
    elif suffix == ".xlsx":
        data = xlsx_bytes(rows, region)
    else:
        raise DataError(f"Vorlage {path.name}: Endung .csv oder .xlsx angeben")
    _atomic_write(path, data)
    return path


def _safe(v: str) -> str:
    """Text that spreadsheet programs do not run as a formula (CSV/formula injection)."""
    s = str(v)
    return "'" + s if s[:1] in ("=", "+", "@") else s


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a template is for sharing
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
