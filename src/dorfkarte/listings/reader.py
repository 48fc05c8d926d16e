"""Read listing files as planners write them: German Excel CSV, XLSX, GeoJSON.

Everything is read as text first (the validator parses numbers, dates and schedules and
names the row and field that is wrong). The format is decided by the file's content, not
only its extension, because Excel users rename files. Size and row limits keep a wrong
file (a 50 MB export, a zip bomb) from blocking the app.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import shapely.geometry

from dorfkarte.errors import DataError
from dorfkarte.listings.schema import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    READ_FIELDS,
    Issue,
    canonical_field,
    header_key,
)

#: XLSX files up to this size are opened fully (merged cells known), larger ones read-only.
_FULL_XLSX_BYTES = 5 * 1024 * 1024
#: Day 0 of Excel's date system: a date-time on it is a bare time of day.
_EXCEL_EPOCH_DAYS = (dt.date(1899, 12, 30), dt.date(1899, 12, 31))
#: How many leading non-empty rows may hold a title or group headers above the real header.
_HEADER_SEARCH = 10
#: Header cells that spreadsheet tools invent for columns without a heading.
_UNNAMED = re.compile(r"^(unnamed:?_?\d+(_level_\d+)?|spalte_?\d+|column_?\d+|feld_?\d+)$")


@dataclass
class RawTable:
    """Rows of a listing file as text, with the row numbers the user sees in the file.

    ``frame`` has one column per schema field (all ``str``, empty where not given);
    ``rows[i]`` is the spreadsheet line (header = 1) or GeoJSON feature number of row ``i``.
    """

    frame: pd.DataFrame
    rows: list[int]
    row_word: str = "Zeile"
    source: str = ""
    fmt: str = "csv"
    columns: list[str] = field(default_factory=list)  # schema fields present in the file
    issues: list[Issue] = field(default_factory=list)  # header-level warnings


def read_listing_file(path: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> RawTable:
    """Read a CSV, XLSX or GeoJSON listing file; :class:`DataError` if it is not one."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DataError(f"Datei nicht gefunden: {path}") from None
    if path.is_dir():
        raise DataError(f"{path} ist ein Ordner, keine Datei")
    _check_size(size, path.name, max_bytes)
    return read_listing_bytes(path.read_bytes(), path.name, max_bytes=max_bytes)


def read_listing_bytes(data: bytes, name: str = "Upload", *,
                       max_bytes: int = MAX_FILE_BYTES) -> RawTable:
    """Same as :func:`read_listing_file` for an upload held in memory."""
    _check_size(len(data), name, max_bytes)
    head = data[:8].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not data.strip(b"\xef\xbb\xbf \t\r\n\x00"):
        raise DataError(f"{name}: die Datei ist leer")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataError(
            f"{name}: altes Excel-Format (.xls) wird nicht gelesen; bitte als .xlsx oder "
            "'CSV (Trennzeichen-getrennt)' speichern"
        )
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, name)
    if head[:1] in (b"{", b"["):
        return _read_geojson(data, name)
    if Path(name).suffix.lower() in (".xlsx", ".xlsm"):
        raise DataError(f"{name}: keine gültige Excel-Datei (.xlsx)")
    return _read_csv(data, name)


def table_from_frame(df: pd.DataFrame, *, row_word: str = "Zeile", first_row: int = 1,
                     source: str = "Tabelle") -> RawTable:
    """A table edited in the app, numbered as shown (first row = ``first_row``)."""
    header = [str(c) for c in df.columns]
    records = [["" if _blank(v) else _cell(v) for v in row] for row in df.itertuples(index=False)]
    return _build(header, records, [first_row + i for i in range(len(records))], row_word,
                  source, "table")


# -- formats -------------------------------------------------------------------------------

#: The limit is documented in MB of 1024 x 1024 bytes (``MAX_FILE_BYTES`` = 20 MB).
MB = 1024 * 1024


def _check_size(size: int, name: str, max_bytes: int) -> None:
    if size > max_bytes:
        raise DataError(
            f"{name}: Datei ist {size / MB:.1f} MB groß; Angebotslisten dürfen höchstens "
            f"{max_bytes / MB:.0f} MB haben (bitte nur die Angebotstabelle speichern)"
        )


def _decode(data: bytes, name: str) -> str:
    """Text of a CSV: UTF-8 (BOM or not), UTF-16 with BOM (Excel "Unicode-Text"), or
    Windows-1252 (German Excel "CSV"). A file mixing UTF-8 and Windows-1252 lines is
    refused naming the first line in the other encoding: guessing would store garbled names.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DataError(f"{name}: ungültiges UTF-16 an Byte {exc.start}") from None
    if b"\x00" in data[:65536]:
        raise DataError(f"{name}: keine Textdatei (CSV), sondern Binärdaten")
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"{name}: ungültiges UTF-8 an Byte {exc.start + 3}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    _refuse_mixed(data, name)
    try:
        return data.decode("cp1252")  # what German Excel writes as "CSV (Trennzeichen-getrennt)"
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _refuse_mixed(data: bytes, name: str) -> None:
    """Lines with UTF-8 umlauts next to lines that are not UTF-8: the file was put
    together from two sources; no single decoding reads both right."""
    utf8_line = legacy_line = None
    for i, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_line = utf8_line or i
        except UnicodeDecodeError:
            legacy_line = legacy_line or i
        if utf8_line and legacy_line:
            raise DataError(
                f"{name}, Zeile {legacy_line}: andere Zeichenkodierung (Windows-1252) als "
                f"Zeile {utf8_line} (UTF-8); Umlaute würden verfälscht. Bitte die Datei "
                "einheitlich speichern (Excel: 'CSV UTF-8')")


def _read_csv(data: bytes, name: str) -> RawTable:
    text = _decode(data, name)
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    skip_sep_line = first.strip().casefold().startswith("sep=") and len(first.strip()) == 5
    if skip_sep_line:  # Excel's "sep=;" hint line
        delim = first.strip()[4]
        text = text.split("\n", 1)[1] if "\n" in text else ""
    else:
        counts = {d: first.count(d) for d in (";", ",", "\t")}
        delim = max(counts, key=lambda d: counts[d])
        if counts[delim] == 0:
            delim = ";"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    records: list[list[str]] = []
    rows: list[int] = []
    try:
        for i, rec in enumerate(reader, start=2 if skip_sep_line else 1):
            if not any(c.strip() for c in rec):
                continue  # Excel leaves ";;;;" lines behind; they do not count
            if len(records) > MAX_ROWS:
                raise DataError(f"{name}: mehr als {MAX_ROWS} Zeilen; bitte Datei aufteilen")
            records.append(rec)
            rows.append(i)
    except csv.Error as exc:
        raise DataError(f"{name}, Zeile {reader.line_num}: kein lesbares CSV ({exc})") from None
    if not records:
        raise DataError(f"{name}: die Datei ist leer")
    return _with_header(records, rows, name, "csv")


def _read_xlsx(data: bytes, name: str) -> RawTable:
    from openpyxl import load_workbook

    # Merged cells are only known outside read-only mode; that costs memory, so only for
    # files of ordinary size (a listing sheet is a few 100 kB).
    full = len(data) <= _FULL_XLSX_BYTES
    try:
        wb = load_workbook(io.BytesIO(data), read_only=not full, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise DataError(f"{name}: keine lesbare Excel-Datei ({type(exc).__name__})") from None
    except Exception as exc:  # openpyxl raises its own InvalidFileException and friends
        raise DataError(f"{name}: keine lesbare Excel-Datei ({exc})") from None
    try:
        sheet = next((wb[s] for s in wb.sheetnames
                      if s.casefold() in {"angebote", "listings"}), wb.worksheets[0])
        records: list[list[str]] = []
        rows: list[int] = []
        for i, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = ["" if _blank(v) else _cell(v) for v in values]
            if not any(c.strip() for c in cells):
                continue
            if len(records) > MAX_ROWS:
                raise DataError(f"{name}: mehr als {MAX_ROWS} Zeilen; bitte Datei aufteilen")
            records.append(cells)
            rows.append(i)
        merged = ([(r.min_row, r.min_col, r.max_row, r.max_col, r.coord)
                   for r in sheet.merged_cells.ranges] if full else [])
    finally:
        wb.close()
    if not records:
        raise DataError(f"{name}: das Tabellenblatt '{sheet.title}' ist leer")
    return _with_header(records, rows, name, "xlsx", merged)


def _read_geojson(data: bytes, name: str) -> RawTable:
    try:
        obj = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{name}: kein gültiges GeoJSON ({exc})") from None
    except RecursionError:
        raise DataError(f"{name}: kein verwertbares GeoJSON (unsinnig tief verschachtelt)"
                        ) from None
    if isinstance(obj, dict) and obj.get("type") == "Feature":
        feats = [obj]
    elif isinstance(obj, dict) and obj.get("type") == "FeatureCollection":
        feats = obj.get("features")
    else:
        raise DataError(f"{name}: GeoJSON muss eine FeatureCollection sein")
    if not isinstance(feats, list) or not feats:
        raise DataError(f"{name}: die FeatureCollection enthält keine Objekte")
    if len(feats) > MAX_ROWS:
        raise DataError(f"{name}: mehr als {MAX_ROWS} Objekte; bitte Datei aufteilen")
    issues: list[Issue] = []
    dicts: list[dict[str, str]] = []
    for n, feat in enumerate(feats, start=1):
        if not isinstance(feat, dict):
            raise DataError(f"{name}, Objekt {n}: kein GeoJSON-Feature (ist {_json_kind(feat)})")
        props = feat.get("properties")
        if props is not None and not isinstance(props, dict):
            raise DataError(f"{name}, Objekt {n}: 'properties' muss ein Objekt "
                            f"{{\"name\": ...}} sein (ist {_json_kind(props)})")
        rec = {str(k): ("" if _blank(v) else _cell(v))
               for k, v in (props or {}).items() if not isinstance(v, dict | list)}
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        if geom:
            try:
                shp = shapely.geometry.shape(geom)
            except RecursionError:
                raise DataError(f"{name}, Objekt {n}: Geometrie unsinnig tief verschachtelt"
                                ) from None
            except Exception:
                issues.append(Issue(n, "geometry", "Geometrie ist nicht lesbar", "error",
                                    "Objekt"))
                shp = None
            if shp is not None and not shp.is_empty:
                if shp.geom_type != "Point":
                    shp = shp.representative_point()
                    issues.append(Issue(n, "geometry", "keine Punktgeometrie: ein Punkt darin "
                                        "wird verwendet", "warning", "Objekt"))
                # GeoJSON axis order is lon, lat; the validator still checks for swaps.
                rec["lat"], rec["lon"] = repr(shp.y), repr(shp.x)
        dicts.append(rec)
    header: list[str] = []
    for rec in dicts:
        header.extend(k for k in rec if k not in header)
    records = [[rec.get(k, "") for k in header] for rec in dicts]
    table = _build(header, records, list(range(1, len(dicts) + 1)), "Objekt", name, "geojson")
    table.issues[:0] = issues
    return table


# -- helpers ------------------------------------------------------------------------------

def _json_kind(v: object) -> str:
    return {list: "eine Liste", str: "ein Text", int: "eine Zahl", float: "eine Zahl",
            bool: "ein Wahrheitswert", type(None): "leer"}.get(type(v), type(v).__name__)


def _blank(v: object) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _cell(v: object) -> str:
    """Text of a cell as the user meant it (Excel numbers and dates included)."""
    if isinstance(v, bool):
        return "ja" if v else "nein"
    if isinstance(v, dt.datetime):
        if v.date() in _EXCEL_EPOCH_DAYS:  # a time of day stored as a date-time
            return v.strftime("%H:%M")
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.strftime("%H:%M")
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


def _score(cells: list[str]) -> int:
    """How many schema columns a row names (a header row names several)."""
    return len({f for c in cells if str(c).strip() and (f := canonical_field(c)) is not None})


def _with_header(records: list[list[str]], rows: list[int], name: str, fmt: str,
                 merged: list[tuple[int, int, int, int, str]] | None = None) -> RawTable:
    """Find the header among the first rows (titles and merged group headings above it are
    skipped), fill merged data cells, and build the table."""
    scores = [_score(r) for r in records[:_HEADER_SEARCH]]
    h = max(range(len(scores)), key=lambda k: (scores[k], -k)) if max(scores) > 0 else 0
    header, header_row = records[h], rows[h]
    issues: list[Issue] = []
    if h > 0:
        above = "; ".join(_show_cell(next(c for c in r if str(c).strip()))
                          for r in records[:h])
        what = "die Zeile darüber" if h == 1 else f"die {h} Zeilen darüber"
        issues.append(Issue(None, "", f"Kopfzeile in Zeile {header_row} erkannt; {what} "
                            f"({above}) {'wird' if h == 1 else 'werden'} nicht übernommen",
                            "warning"))
    elif header_row != 1:
        issues.append(Issue(None, "", f"Kopfzeile in Zeile {header_row}", "warning"))
    body, body_rows = [list(r) for r in records[h + 1:]], rows[h + 1:]
    # a second header line (German labels under the column names, units like "(WGS84)")
    if body and _repeats_header(header, body[0]):
        issues.append(Issue(None, "", f"Zeile {body_rows[0]} wiederholt die Überschriften "
                            f"({_show_cell(' | '.join(c for c in body[0] if c.strip()))}) und "
                            "wird nicht übernommen", "warning"))
        body, body_rows = body[1:], body_rows[1:]
    if merged:
        _fill_merged(body, body_rows, header_row, merged, issues)
    table = _build(header, body, body_rows, "Zeile", name, fmt)
    table.issues[:0] = issues
    return table


def _repeats_header(header: list[str], row: list[str]) -> bool:
    cells = [(j, str(c).strip()) for j, c in enumerate(row) if str(c).strip()]
    if len(cells) < 2:
        return False

    def same(j: int, c: str) -> bool:
        f = canonical_field(c)
        own = canonical_field(header[j]) if j < len(header) else None
        return (f is not None and f == own) or (c.startswith("(") and c.endswith(")"))

    return all(same(j, c) for j, c in cells)


def _fill_merged(body: list[list[str]], body_rows: list[int], header_row: int,
                 merged: list[tuple[int, int, int, int, str]], issues: list[Issue]) -> None:
    """A merged cell's value holds for every row it spans (that is what Excel shows).

    Only down its first column: a value merged across columns belongs to the first one.
    """
    where = {r: k for k, r in enumerate(body_rows)}
    for r0, c0, r1, _c1, coord in merged:
        if r0 <= header_row or r0 not in where:
            continue
        top = body[where[r0]]
        value = top[c0 - 1] if c0 - 1 < len(top) else ""
        if not str(value).strip():
            continue
        filled = []
        for r in range(r0, r1 + 1):
            k = where.get(r)
            if k is None:
                continue  # an otherwise empty row inside the range stays skipped
            row = body[k]
            row.extend([""] * (c0 - len(row)))
            if not str(row[c0 - 1]).strip():
                row[c0 - 1] = value
                filled.append(r)
        if filled and r1 > r0:
            issues.append(Issue(None, "", f"verbundene Zellen {coord}: Wert "
                                f"'{_show_cell(value)}' gilt für Zeile {r0} bis {r1}",
                                "warning"))


def _show_cell(value: object, limit: int = 40) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _letter(j: int) -> str:
    """Spreadsheet column letter of 0-based column ``j`` (0 -> A, 26 -> AA)."""
    out = ""
    j += 1
    while j:
        j, rem = divmod(j - 1, 26)
        out = chr(65 + rem) + out
    return out


def _build(header: list[str], records: list[list[str]], rows: list[int], row_word: str,
           source: str, fmt: str) -> RawTable:
    issues: list[Issue] = []
    mapping: dict[int, str] = {}
    for j, h in enumerate(header):
        if not str(h).strip() or _UNNAMED.match(header_key(h)):
            used = [rno for rec, rno in zip(records, rows, strict=True)
                    if j < len(rec) and str(rec[j]).strip()]
            if used and fmt != "geojson":
                shown = ", ".join(map(str, used[:5])) + (", …" if len(used) > 5 else "")
                issues.append(Issue(None, str(h).strip(), f"Spalte {_letter(j)} hat keine "
                                    f"Überschrift, enthält aber Werte ({row_word} {shown}); "
                                    "sie werden nicht übernommen (Überschrift eintragen, "
                                    "falls sie dazugehören)", "warning"))
            continue
        f = canonical_field(h)
        if f is None:
            if str(h) != "geometry":
                issues.append(Issue(None, str(h), f"unbekannte Spalte ({_letter(j)}), wird "
                                    "nicht übernommen", "warning"))
            continue
        if f in mapping.values():
            issues.append(Issue(None, str(h), f"Spalte {_letter(j)} doppelt (schon als '{f}'), "
                                "die zweite wird nicht übernommen", "warning"))
            continue
        mapping[j] = f
    data: dict[str, list[str]] = {f: [] for f in READ_FIELDS}
    kept_rows: list[int] = []
    width = len(header)
    for rec, rno in zip(records, rows, strict=True):
        if not any(str(c).strip() for c in rec):
            continue  # Excel leaves empty lines at the end
        extra = [c for c in rec[width:] if str(c).strip()]
        if extra:
            issues.append(Issue(rno, "", f"mehr Werte als Spalten in der Kopfzeile "
                                f"({len(rec)} statt {width}); Trennzeichen prüfen", "error",
                                row_word))
        for f in READ_FIELDS:
            data[f].append("")
        for j, f in mapping.items():
            data[f][-1] = str(rec[j]).strip() if j < len(rec) else ""
        kept_rows.append(rno)
    frame = pd.DataFrame(data, columns=list(READ_FIELDS), dtype=object)
    return RawTable(frame=frame, rows=kept_rows, row_word=row_word, source=source, fmt=fmt,
                    columns=sorted(set(mapping.values()), key=READ_FIELDS.index), issues=issues)
