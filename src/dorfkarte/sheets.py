"""Tables for people: CSV that German Excel opens as columns, headers and values in words.

German Excel splits a CSV on ``;`` and reads ``1,5`` as a number; a UTF-8 file needs a BOM
for its umlauts. Scripts keep their machine CSVs (``analyse --out`` ``coverage.csv``);
every CSV meant for people (report export, app downloads, scenario before/after, overview
tables) goes through :func:`csv_bytes`, with headers and values translated by
:func:`people_table` (no ``nearest_weight``, ``listing`` or ``straight_line`` as text).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dorfkarte.atomic import atomic_path
from dorfkarte.i18n import gap_label, mode_label, source_label
from dorfkarte.i18n import t as tr
from dorfkarte.safe import frame_safe

#: Machine column -> (German, English) header of the coverage table.
COLUMNS: dict[str, tuple[str, str]] = {
    "district": ("Ortsteil", "District"),
    "municipality": ("Gemeinde", "Municipality"),
    "kind": ("Art", "Kind"),
    "category": ("Kategorie (ID)", "Category (id)"),
    "category_label": ("Kategorie", "Category"),
    "mode": ("Verkehrsmittel", "Mode"),
    "population": ("Einwohner", "Residents"),
    "n_origins": ("Wohnorte (Anzahl)", "Homes (count)"),
    "median": ("Median", "Median"),
    "p90": ("90. Perzentil", "90th percentile"),
    "max": ("Maximum", "Maximum"),
    "unit": ("Einheit", "Unit"),
    "threshold": ("Schwellenwert", "Threshold"),
    "share_within": ("Anteil erreichbar", "Share within threshold"),
    "residents_within": ("Einwohner erreichbar", "Residents within threshold"),
    "gap_class": ("Bewertung", "Rating"),
    "nearest_name": ("Nächstes Angebot", "Nearest service"),
    "nearest_source": ("Quelle nächstes Angebot", "Source of nearest service"),
    "nearest_weight": ("Abfahrten nächste Haltestelle", "Departures at nearest stop"),
    "unreachable_share": ("Anteil unerreichbar", "Share unreachable"),
    "method": ("Methode", "Method"),
    "weighted": ("Nach Einwohnern gewichtet", "Weighted by residents"),
    "example": ("Beispieldaten", "Example data"),
    # the extract does not cover the unit's surroundings: its gaps may come from the cut
    "data_edge": ("Am Datenrand", "At the data's edge"),
    # mode pt (dorfkarte.pt) and central places (dorfkarte.central)
    "pt_best_median": ("Bus & Bahn: beste Verbindung (Median)", "Bus & rail: best trip (median)"),
    "pt_departures_per_day": ("Bus & Bahn: nutzbare Abfahrten je Tag",
                              "Bus & rail: usable departures per day"),
    "roundtrip_share": ("Hin und zurück möglich (Anteil)", "Round trip possible (share)"),
    "timetable": ("Fahrplan", "Timetable"),
    "central_place_source": ("Festlegung zentraler Ort (Plan)", "Central place designated by"),
    # scenario before/after (dorfkarte.scenario.compare)
    "share_before": ("Anteil erreichbar vorher", "Share within before"),
    "share_after": ("Anteil erreichbar nachher", "Share within after"),
    "share_change": ("Änderung Anteil", "Change of share"),
    "residents_before": ("Einwohner erreichbar vorher", "Residents within before"),
    "residents_after": ("Einwohner erreichbar nachher", "Residents within after"),
    "newly_covered": ("Neu versorgt", "Newly covered"),
    "losing_coverage": ("Verlieren Versorgung", "Losing coverage"),
    "median_before": ("Median vorher", "Median before"),
    "median_after": ("Median nachher", "Median after"),
    "gap_before": ("Bewertung vorher", "Rating before"),
    "gap_after": ("Bewertung nachher", "Rating after"),
    "gaps_before": ("Lücken vorher", "Gaps before"),
    "gaps_after": ("Lücken nachher", "Gaps after"),
}
UNREACHABLE = {"de": "nicht erreichbar", "en": "not reachable"}
YES_NO = {"de": ("ja", "nein"), "en": ("yes", "no")}


def header(column: str, lang: str = "de") -> str:
    de, en = COLUMNS.get(column, (column, column))
    return en if lang == "en" else de


def people_table(table: pd.DataFrame, lang: str = "de", *,
                 example_categories: Iterable[str] = ()) -> pd.DataFrame:
    """The coverage table with words for people: translated headers and values.

    Adds the column "Beispieldaten" (ja/nein: the row's category holds example entries),
    so an invented service cannot reach a slide unmarked; "Am Datenrand" (ja/nein) says
    which units' gaps may come from the extract's cut. Numbers stay numbers; an
    unreachable time (``inf``) becomes "nicht erreichbar", unknown (NaN) stays empty.
    """
    df = table.copy()
    yes, no = YES_NO.get(lang, YES_NO["de"])
    examples = set(example_categories)
    if "category" in df:
        df["example"] = [yes if c in examples else no for c in df["category"].astype(str)]
    if "mode" in df:
        df["mode"] = df["mode"].map(lambda m: mode_label(str(m), lang))
    for col in ("gap_class", "gap_before", "gap_after"):
        if col in df:
            df[col] = df[col].map(lambda g: gap_label(str(g), lang))
    if "district" in df and "gaps_before" in df:  # scenario before/after: its total rows
        df["district"] = df["district"].astype(object)
        df.loc[df["gaps_before"].notna().to_numpy(), "district"] = tr("scn_total", lang)
    if "kind" in df:
        df["kind"] = df["kind"].map(lambda k: tr(f"kind_{k}", lang)
                                    if k in ("ortsteil", "kernort") else k)
    if "nearest_source" in df:
        df["nearest_source"] = df["nearest_source"].map(lambda s: source_label(s, lang))
    if "method" in df:
        df["method"] = df["method"].map(lambda m: tr(f"method_{m}", lang)
                                        if m in ("network", "straight_line") else m)
    if "weighted" in df:
        df["weighted"] = df["weighted"].map(lambda w: yes if bool(w) else no)
    if "data_edge" in df:  # only a true flag is "ja" (a missing value is no flag)
        df["data_edge"] = df["data_edge"].map(lambda w: yes if w is True or w == 1 else no)
    for col in df.columns:
        if pd.api.types.is_float_dtype(df[col]) and np.isinf(df[col].to_numpy()).any():
            vals = df[col].to_numpy()
            df[col] = [UNREACHABLE.get(lang, UNREACHABLE["de"]) if np.isinf(v) else v
                       for v in vals]
    return df.rename(columns={c: header(c, lang) for c in df.columns})


def csv_bytes(df: pd.DataFrame, lang: str = "de", *, float_decimals: int | None = None,
              columns: Mapping[str, str] | None = None) -> bytes:
    """CSV for people: German ``;`` / decimal comma (English ``,`` / dot), UTF-8 with BOM.

    ``columns`` renames headers first (e.g. machine -> German); ``float_decimals`` rounds
    floats (a share of 0.333333 needs no twelve digits in a council paper).
    """
    out = df.rename(columns=dict(columns)) if columns else df.copy()
    if float_decimals is not None:
        for col in out.columns:
            if pd.api.types.is_float_dtype(out[col]):
                out[col] = out[col].round(float_decimals)
    sep, dec = (",", ".") if lang == "en" else (";", ",")
    for col in out.columns:
        # a mixed column ("nicht erreichbar" beside minutes) is object dtype, which
        # to_csv(decimal=) leaves alone: its numbers get the decimal sign here
        if out[col].dtype == object:
            out[col] = [_dec_text(v, dec, float_decimals) for v in out[col]]
    out = frame_safe(out)
    text = out.to_csv(index=False, sep=sep, decimal=dec, lineterminator="\r\n")
    return text.encode("utf-8-sig")


def _dec_text(v: object, dec: str, decimals: int | None) -> object:
    """A float inside a text column as text with the language's decimal sign."""
    if isinstance(v, float | np.floating) and np.isfinite(v):
        x = round(float(v), decimals) if decimals is not None else float(v)
        return repr(x).replace(".", dec) if dec != "." else repr(x)
    return v


def write_csv(df: pd.DataFrame, path: str | Path, lang: str = "de", **kw: Any) -> Path:
    """:func:`csv_bytes` written atomically."""
    data = csv_bytes(df, lang, **kw)
    with atomic_path(path, suffix=".tmp.csv") as tmp:
        tmp.write_bytes(data)
    return Path(path)


__all__ = ["COLUMNS", "csv_bytes", "header", "people_table", "write_csv"]
