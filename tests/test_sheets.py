"""sheets: CSV for people opens in German Excel with numbers as numbers."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from dorfkarte.sheets import csv_bytes, people_table


def test_minutes_beside_unreachable_keep_the_decimal_comma() -> None:
    """A column mixing minutes and "nicht erreichbar" still writes 12,5, not 12.5."""
    df = pd.DataFrame({"district": ["A", "B", "C"], "median": [12.54, np.inf, np.nan]})
    de = csv_bytes(people_table(df, "de"), "de", float_decimals=1)
    back = pd.read_csv(io.BytesIO(de), sep=";", decimal=",", encoding="utf-8-sig")
    col = back.columns[1]
    assert back[col].tolist()[:2] == ["12,5", "nicht erreichbar"]
    assert pd.isna(back[col].iloc[2])  # unknown stays empty, not 0
    only_numbers = csv_bytes(people_table(df.iloc[[0]], "de"), "de", float_decimals=1)
    back = pd.read_csv(io.BytesIO(only_numbers), sep=";", decimal=",", encoding="utf-8-sig")
    assert back[back.columns[1]].tolist() == [12.5]
    en = csv_bytes(people_table(df, "en"), "en", float_decimals=1).decode("utf-8-sig")
    assert "A,12.5\r\n" in en and "not reachable" in en
