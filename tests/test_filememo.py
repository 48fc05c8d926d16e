"""filememo: a result is remembered until one of its files changes; callers get copies."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from dorfkarte import filememo
from dorfkarte.districts import read_centres
from dorfkarte.region import Region, raw_tables


def _reader(calls: list[str]):
    @filememo.by_files(lambda path, col="a": ((col,), [path]))
    def read(path: Path, col: str = "a") -> pd.DataFrame:
        calls.append(str(path))
        return pd.read_csv(path)[[col]]

    return read


def _touch_later(path: Path, text: str) -> None:
    st = path.stat()
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_read_once_until_the_file_changes(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("a,b\n1,2\n", encoding="utf-8")
    calls: list[str] = []
    read = _reader(calls)
    assert read(f)["a"].tolist() == [1]
    assert read(f)["a"].tolist() == [1]
    assert len(calls) == 1
    _touch_later(f, "a,b\n7,8\n9,9\n")
    assert read(f)["a"].tolist() == [7, 9]
    assert len(calls) == 2
    assert read(f, col="b")["b"].tolist() == [8, 9]  # other arguments: another entry
    assert len(calls) == 3


def test_each_caller_gets_its_own_copy(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("a\n1\n", encoding="utf-8")
    read = _reader([])
    first = read(f)
    first.loc[0, "a"] = 99
    assert read(f)["a"].tolist() == [1]


def test_errors_are_not_remembered(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    calls: list[str] = []
    read = _reader(calls)
    with pytest.raises(FileNotFoundError):
        read(f)
    f.write_text("a\n5\n", encoding="utf-8")
    assert read(f)["a"].tolist() == [5]
    assert len(calls) == 2


def test_centres_and_region_tables_follow_edits(tmp_path: Path, region: Region) -> None:
    """The library readers built on it see an edited file at once (the app relies on it)."""
    centres = read_centres(region)
    again = read_centres(region)
    pd.testing.assert_frame_equal(centres, again)
    again.loc[again.index[0], "name"] = "verändert"
    assert read_centres(region)["name"].iloc[0] == centres["name"].iloc[0]

    f = tmp_path / "r.toml"
    f.write_text('[timetable]\nwindow = ["07:00", "09:00"]\n', encoding="utf-8")
    assert raw_tables(f)["timetable"]["window"] == ["07:00", "09:00"]
    _touch_later(f, '[timetable]\nwindow = ["06:00", "08:00"]\n')
    assert raw_tables(f)["timetable"]["window"] == ["06:00", "08:00"]
