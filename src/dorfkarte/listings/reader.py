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
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dorfkarte.errors import DataError
from dorfkarte.listings.schema import (
    FIELDS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    Issue,
    canonical_field,
)


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

def _check_size(size: int, name: str, max_bytes: int) -> None:
    if size > max_bytes:
        raise DataError(
            f"{name}: Datei ist {size / 1e6:.1f} MB groß; Angebotslisten dürfen höchstens "
            f"{max_bytes / 1e6:.0f} MB haben (bitte nur die Angebotstabelle speichern)"
        )


def _decode(data: bytes, name: str) -> str:
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
    try:
        return data.decode("cp1252")  # what German Excel writes as "CSV (Trennzeichen-getrennt)"
    except UnicodeDecodeError:
        return data.decode("latin-1")


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
    header: list[str] | None = None
    records: list[list[str]] = []
    rows: list[int] = []
    try:
        for i, rec in enumerate(reader, start=2 if skip_sep_line else 1):
            if header is None:
                if any(c.strip() for c in rec):
                    header = rec
                    header_row = i
                continue
            if len(records) >= MAX_ROWS:
                raise DataError(f"{name}: mehr als {MAX_ROWS} Zeilen; bitte Datei aufteilen")
            records.append(rec)
            rows.append(i)
    except csv.Error as exc:
        raise DataError(f"{name}, Zeile {reader.line_num}: kein lesbares CSV ({exc})") from None
    if header is None:
        raise DataError(f"{name}: die Datei ist leer")
    table = _build(header, records, rows, "Zeile", name, "csv")
    if header_row != 1:
        table.issues.append(Issue(None, "", f"Kopfzeile in Zeile {header_row}", "warning"))
    return table


def _read_xlsx(data: bytes, name: str) -> RawTable:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise DataError(f"{name}: keine lesbare Excel-Datei ({type(exc).__name__})") from None
    except Exception as exc:  # openpyxl raises its own InvalidFileException and friends
        raise DataError(f"{name}: keine lesbare Excel-Datei ({exc})") from None
    try:
        sheet = next((wb[s] for s in wb.sheetnames
                      if s.casefold() in {"angebote", "listings"}), wb.worksheets[0])
        header: list[str] | None = None
        records: list[list[str]] = []
        rows: list[int] = []
        for i, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = ["" if _blank(v) else _cell(v) for v in values]
            if header is None:
                if any(c.strip() for c in cells):
                    header = cells
                continue
            if len(records) >= MAX_ROWS:
                raise DataError(f"{name}: mehr als {MAX_ROWS} Zeilen; bitte Datei aufteilen")
            records.append(cells)
            rows.append(i)
    finally:
        wb.close()
    if header is None:
        raise DataError(f"{name}: das Tabellenblatt '{sheet.title}' ist leer")
    return _build(header, records, rows, "Zeile", name, "xlsx")


def _read_geojson(data: bytes, name: str) -> RawTable:
    import shapely.geometry

    try:
        obj = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{name}: kein gültiges GeoJSON ({exc})") from None
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
        props = feat.get("properties") if isinstance(feat, dict) else None
        rec = {str(k): ("" if _blank(v) else _cell(v))
               for k, v in (props or {}).items() if not isinstance(v, dict | list)}
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        if geom:
            try:
                shp = shapely.geometry.shape(geom)
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
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.strftime("%H:%M")
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


def _build(header: list[str], records: list[list[str]], rows: list[int], row_word: str,
           source: str, fmt: str) -> RawTable:
    issues: list[Issue] = []
    mapping: dict[int, str] = {}
    for j, h in enumerate(header):
        if not str(h).strip():
            continue
        f = canonical_field(h)
        if f is None:
            if str(h) != "geometry":
                issues.append(Issue(None, str(h), "unbekannte Spalte, wird nicht übernommen",
                                    "warning"))
            continue
        if f in mapping.values():
            issues.append(Issue(None, str(h), f"Spalte doppelt (schon als '{f}'), die zweite "
                                "wird nicht übernommen", "warning"))
            continue
        mapping[j] = f
    data: dict[str, list[str]] = {f: [] for f in FIELDS}
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
        for f in FIELDS:
            data[f].append("")
        for j, f in mapping.items():
            data[f][-1] = str(rec[j]).strip() if j < len(rec) else ""
        kept_rows.append(rno)
    frame = pd.DataFrame(data, columns=list(FIELDS), dtype=object)
    return RawTable(frame=frame, rows=kept_rows, row_word=row_word, source=source, fmt=fmt,
                    columns=sorted(set(mapping.values()), key=FIELDS.index), issues=issues)
