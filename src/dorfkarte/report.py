"""Report export for planners: coverage table as CSV and XLSX, layers as GeoPackage (QGIS).

Everything is written to temporary files beside the targets and renamed at the end, so a
failed export never leaves half a report (or destroys the previous one).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from dorfkarte import provenance, sheets
from dorfkarte.atomic import atomic_path
from dorfkarte.coverage import CoverageResult
from dorfkarte.errors import DorfkarteError
from dorfkarte.i18n import category_label, gap_label
from dorfkarte.region import MODE_LABELS, Region
from dorfkarte.safe import xlsx_text_cells
from dorfkarte.snapshot import DISTRICTS, STOPS, Snapshot


class ReportError(DorfkarteError, RuntimeError):
    """The report cannot be written (no analysis result, unwritable folder)."""


#: Machine column -> German header (the XLSX and the people's CSV; see dorfkarte.sheets).
COLUMNS_DE: dict[str, str] = {c: de for c, (de, _en) in sheets.COLUMNS.items()
                              if c not in ("nearest_weight", "weighted", "example")}

CSV_NAME = "abdeckung.csv"
UNREACHABLE = "nicht erreichbar"
XLSX_NAME = "abdeckung.xlsx"


@dataclass
class ReportExport:
    """Paths written by :func:`export_report` and the GeoPackage's layer names."""

    csv: Path
    xlsx: Path
    gpkg: Path
    layers: list[str] = field(default_factory=list)
    rows: int = 0


def indicator_table(result: CoverageResult | None) -> pd.DataFrame:
    """The coverage indicators with the contract's columns first, in contract order."""
    if result is None or getattr(result, "indicators", None) is None:
        raise ReportError("Kein Analyseergebnis: zuerst die Erreichbarkeit berechnen")
    table = getattr(result, "table", None)
    df = table() if callable(table) else pd.DataFrame(result.indicators).copy()
    first = [c for c in COLUMNS_DE if c in df.columns]
    return df[first + [c for c in df.columns if c not in first]]


def write_csv(table: pd.DataFrame, path: Path, lang: str = "de", *,
              example_categories: Iterable[str] = ()) -> Path:
    """The table for people (German Excel: ``;``, decimal comma, UTF-8 with BOM).

    Headers and values in words (:func:`dorfkarte.sheets.people_table`), with the column
    "Beispieldaten". Scripts read ``analyse --out``'s ``coverage.csv`` instead.
    """
    people = sheets.people_table(table, lang, example_categories=example_categories)
    return sheets.write_csv(people, path, lang)


def sources_table(snapshot: Snapshot, region: Region,
                  result: CoverageResult | None = None) -> pd.DataFrame:
    """Data sources and every threshold with its source: the report's second sheet.

    With a result: a line naming categories that hold example data, one naming
    categories known from local listings only (OSM not searched), and one naming the units
    at the data's edge.
    """
    rows = [
        {"Was": f"Layer {i.name}", "Quelle": i.source, "Lizenz": i.licence,
         "Stand": (i.fetched_at or "")[:10], "Hinweis": i.note}
        for i in snapshot.info.values()
    ]
    examples = sorted(provenance.example_categories(result)) if result is not None else []
    if examples:
        labels = ", ".join(category_label(region.category(c)) for c in examples
                           if c in region.categories)
        rows.insert(0, {"Was": "Beispieldaten", "Quelle": "lokale Angebotsliste", "Lizenz": "",
                        "Stand": "", "Hinweis": f"Enthält Beispieldaten (keine echten "
                        f"Angebote) in: {labels}; Spalte „Beispieldaten“ = ja"})
    local = sorted(provenance.local_only(result)) if result is not None else []
    if local:
        labels = ", ".join(category_label(region.category(c)) for c in local
                           if c in region.categories)
        rows.insert(0, {"Was": "Nur lokale Angebote", "Quelle": "lokale Angebotsliste",
                        "Lizenz": "", "Stand": "",
                        "Hinweis": f"Nur lokale Angebote, OSM fehlt: {labels}. Ortsteile ohne "
                        f"erreichbares Angebot: „{gap_label('nur lokale Angebote')}“, "
                        "keine Lücke"})
    edge = getattr(result, "data_edge_units", frozenset()) if result is not None else ()
    if edge:
        d = result.districts  # type: ignore[union-attr]
        names = ", ".join(n for n in d["name"].astype(str) if n in edge)
        rows.insert(0, {"Was": "Am Datenrand", "Quelle": "OSM-Auszug", "Lizenz": "",
                        "Stand": "", "Hinweis": f"Der Auszug deckt Region samt Puffer nicht "
                        f"ganz ab; Lücken können vom Ausschnitt kommen: {names}; Spalte "
                        "„Am Datenrand“ = ja"})
    for cat in region.categories.values():
        for mode, th in cat.thresholds.items():
            val = f"{th.minutes:g} min" if th.minutes is not None else f"{th.metres:g} m"
            rows.append({"Was": f"Schwelle {cat.label} / {MODE_LABELS.get(mode, mode)}",
                         "Quelle": th.source, "Lizenz": "", "Stand": "", "Hinweis": val})
    gc = region.gap_classes
    rows.append({"Was": "Bewertung", "Quelle": gc.source, "Lizenz": "", "Stand": "",
                 "Hinweis": f"ok ab {gc.ok_share:.0%}, knapp ab {gc.knapp_share:.0%} "
                            "der Einwohner innerhalb der Schwelle, sonst Lücke"})
    return pd.DataFrame(rows, columns=["Was", "Quelle", "Lizenz", "Stand", "Hinweis"])


def write_xlsx(table: pd.DataFrame, sources: pd.DataFrame, path: Path, lang: str = "de", *,
               example_categories: Iterable[str] = ()) -> Path:
    """German headers and values, shares as percent, frozen header row and filters.

    Excel has no infinity: an unreachable time is written as words ("nicht erreichbar").
    """
    from openpyxl.utils import get_column_letter

    # formula-looking text stays visible as typed: xlsx_text_cells stores it as a string cell
    de = sheets.people_table(table, lang, example_categories=example_categories)
    with atomic_path(path, create=False) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xw:
        de.to_excel(xw, sheet_name="Abdeckung", index=False)
        sources.to_excel(xw, sheet_name="Quellen", index=False)
        ws = xw.sheets["Abdeckung"]
        xlsx_text_cells(ws)
        xlsx_text_cells(xw.sheets["Quellen"])
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
        for j, col in enumerate(de.columns, start=1):
            letter = get_column_letter(j)
            width = max([len(str(col))] + [len(str(v)) for v in de[col].head(200)])
            ws.column_dimensions[letter].width = min(max(width + 2, 8), 40)
            if col in (sheets.header("share_within", lang),
                       sheets.header("unreachable_share", lang)):
                for cell in ws[letter][1:]:
                    cell.number_format = "0%"
            elif col in [sheets.header(c, lang) for c in ("median", "p90", "max",
                                                           "residents_within")]:
                for cell in ws[letter][1:]:
                    cell.number_format = "0"
        qs = xw.sheets["Quellen"]
        for j, col in enumerate(sources.columns, start=1):
            qs.column_dimensions[get_column_letter(j)].width = 30 if col != "Quelle" else 80
    return path


def district_layer(snapshot: Snapshot, table: pd.DataFrame, mode: str) -> gpd.GeoDataFrame:
    """Ortsteile with one share/gap/median column per category for ``mode`` (QGIS styling)."""
    dist = snapshot.get(DISTRICTS)
    if dist is None or not len(dist):
        raise ReportError("Keine Ortsteile im Datenstand")
    out = dist.copy()
    sub = table[table["mode"] == mode] if "mode" in table else table.iloc[0:0]
    for cid, grp in sub.groupby("category", sort=False):
        g = grp.set_index("district")
        out[f"anteil_{cid}"] = out["name"].map(g["share_within"]).astype(float)
        out[f"bewertung_{cid}"] = out["name"].map(g["gap_class"])
        if "median" in g:
            out[f"median_{cid}"] = out["name"].map(g["median"]).astype(float)
    return out


def origin_layer(result: CoverageResult, mode: str) -> gpd.GeoDataFrame | None:
    """Wohnorte with the time (or metres) to the nearest service per category for ``mode``."""
    origins = getattr(result, "origins", None)
    times = getattr(result, "times", {}) or {}
    if origins is None or not len(origins):
        return None
    out = origins.copy()
    for (cid, m), arr in times.items():
        if m != mode:
            continue
        vals = np.asarray(arr, dtype=float)
        out[f"zeit_{cid}"] = np.where(np.isfinite(vals), np.round(vals, 1), np.nan)
    return out


def destination_layer(result: CoverageResult) -> gpd.GeoDataFrame | None:
    """All destinations of all categories (OSM, listings, stops) in one point layer."""
    dests = getattr(result, "destinations", {}) or {}
    frames = [g for g in dests.values() if g is not None and len(g)]
    if not frames:
        return None
    crs = frames[0].crs
    cat = pd.concat([f.to_crs(crs) for f in frames], ignore_index=True)
    return gpd.GeoDataFrame(cat, geometry="geometry", crs=crs)


def _for_gpkg(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """GeoPackage columns must be plain types: object columns become text."""
    out = gdf.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if out[col].dtype == object:
            out[col] = out[col].map(lambda v: None if v is None or v != v else str(v))
        elif out[col].dtype == bool:
            out[col] = out[col].astype(int)
    return out


def write_gpkg(layers: dict[str, pd.DataFrame], path: Path) -> Path:
    with atomic_path(path, create=False) as tmp:  # GDAL creates the file itself
        for name, df in layers.items():
            if isinstance(df, gpd.GeoDataFrame):
                pyogrio.write_dataframe(_for_gpkg(df), tmp, layer=name, driver="GPKG",
                                        append=tmp.exists())
            else:
                pyogrio.write_dataframe(df, tmp, layer=name, driver="GPKG",
                                        append=tmp.exists())
    return path


def export_report(snapshot: Snapshot, region: Region, result: CoverageResult,
                  outdir: str | Path, *, mode: str = "walk", lang: str = "de") -> ReportExport:
    """Write ``abdeckung.csv``, ``abdeckung.xlsx`` and ``dorfkarte_<region>.gpkg`` to ``outdir``.

    The GeoPackage holds ``ortsteile`` (wide indicators for ``mode``), ``abdeckung`` (the
    full table), ``einrichtungen``, ``wohnorte`` and ``haltestellen`` where available.
    """
    outdir = Path(outdir)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"Kann Ordner {outdir} nicht anlegen: {exc.strerror or exc}") from None
    table = indicator_table(result)
    if "mode" in table and len(table) and mode not in set(table["mode"]):
        modes = ", ".join(sorted(set(table["mode"])))
        raise ReportError(f"Verkehrsmittel {mode!r} nicht im Ergebnis (vorhanden: {modes})")
    examples = provenance.example_categories(result)
    layers: dict[str, pd.DataFrame] = {"ortsteile": district_layer(snapshot, table, mode)}
    attr = table.copy()
    # invented entries are flagged in every layer that can carry them
    attr["beispieldaten"] = attr["category"].astype(str).isin(examples).astype(int)
    for col in attr.columns:
        if attr[col].dtype == object:
            attr[col] = attr[col].map(lambda v: None if v is None or v != v else str(v))
    layers["abdeckung"] = attr
    dest = destination_layer(result)
    if dest is not None:
        if "example" in dest:
            dest = dest.assign(beispieldaten=dest["example"].map(
                lambda v: int(v is True or str(v).lower() in ("true", "1", "ja")))
            ).drop(columns="example")
        layers["einrichtungen"] = dest
    orig = origin_layer(result, mode)
    if orig is not None:
        layers["wohnorte"] = orig
    if snapshot.has(STOPS):
        layers["haltestellen"] = snapshot.get(STOPS)
    sources = sources_table(snapshot, region, result)
    layers["quellen"] = sources
    try:
        csv = write_csv(table, outdir / CSV_NAME, lang, example_categories=examples)
        xlsx = write_xlsx(table, sources, outdir / XLSX_NAME, lang,
                          example_categories=examples)
        gpkg = write_gpkg(layers, outdir / f"dorfkarte_{region.id}.gpkg")
    except OSError as exc:
        raise ReportError(f"Kann Bericht in {outdir} nicht schreiben: {exc.strerror or exc}"
                          ) from None
    return ReportExport(csv=csv, xlsx=xlsx, gpkg=gpkg, layers=list(layers), rows=len(table))


def report_bytes(snapshot: Snapshot, region: Region, result: CoverageResult, *,
                 mode: str = "walk", lang: str = "de") -> dict[str, bytes]:
    """The three report files as bytes (``csv``, ``xlsx``, ``gpkg``) for download buttons."""
    with tempfile.TemporaryDirectory(prefix="dorfkarte-report-") as tmp:
        rep = export_report(snapshot, region, result, tmp, mode=mode, lang=lang)
        return {"csv": rep.csv.read_bytes(), "xlsx": rep.xlsx.read_bytes(),
                "gpkg": rep.gpkg.read_bytes()}
