"""Untrusted text on its way out: HTML and spreadsheets.

Names come from OpenStreetMap mappers, region files, town-hall spreadsheets and uploads;
none of them is trusted. Two helpers, used by every output:

* :func:`html_escape` for every string that reaches HTML (map tooltips, popups, labels,
  legend, layer control, title, info panel, profile, demo);
* :func:`cell_safe` for every string that reaches a spreadsheet-like file (CSV, XLSX):
  OWASP's CSV-injection rule, a leading ``'`` before ``=``, ``+``, ``-``, ``@``, tab or
  carriage return, so Excel / LibreOffice show the text instead of running a formula.
  The visible text stays the same (the apostrophe is the spreadsheet's own "this is text"
  marker); numbers are never touched, so a negative *number* stays a number.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

import pandas as pd

#: Characters that make a spreadsheet cell a formula (OWASP "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def html_escape(value: object) -> str:
    """HTML-escape anything shown in a page (``None``/NaN -> empty); quotes too."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


#: Characters that format Streamlit markdown (links, emphasis, headings, lists, code, math).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>$])")


def md_escape(value: object) -> str:
    """Text safe inside Streamlit markdown (``st.markdown``, captions, alerts): no links,
    HTML or formatting from data. HTML becomes entities (shown as the literal characters),
    then every markdown control character gets a backslash."""
    return _MD_SPECIAL.sub(r"\\\1", html_escape(value))


def cell_safe(value: Any) -> Any:
    """A text cell that cannot start a formula; non-text values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _csv_cell(value: Any) -> Any:
    value = cell_safe(value)
    if isinstance(value, str) and "\r" in value:
        # Python's csv writer quotes a field only for the line terminator it writes ("\n"):
        # a bare CR would split the row in every reader. It becomes the line break it means.
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def frame_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` for CSV: :func:`cell_safe` on every text cell and column name.

    A carriage return inside a cell becomes a line feed, which the csv writer quotes.
    """
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(_csv_cell)
    out.columns = [cell_safe(c) if isinstance(c, str) else c for c in out.columns]
    return out


def xlsx_text_cells(ws: Any) -> int:
    """Store every formula-looking cell of an openpyxl sheet as plain text; returns the count.

    openpyxl turns any string starting with ``=`` into a formula. In XLSX the cell type
    decides, so typing the cell as a string keeps the visible text exactly (no apostrophe)
    and nothing runs.
    """
    n = 0
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
                n += 1
    return n


__all__ = ["FORMULA_START", "cell_safe", "frame_safe", "html_escape", "xlsx_text_cells"]
