"""A failed write leaves the old file byte-identical and no temp file behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dorfkarte.atomic import atomic_path, current_umask, write_bytes_atomic, write_text_atomic


def test_write_replaces_content(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "karte.html"
    write_text_atomic(target, "alt")
    write_text_atomic(target, "neu <b>ä</b>")
    assert target.read_text(encoding="utf-8") == "neu <b>ä</b>"
    assert [p.name for p in target.parent.iterdir()] == ["karte.html"]


def test_failure_keeps_old_file_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "abdeckung.csv"
    target.write_bytes(b"old;content\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old;content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["abdeckung.csv"]


@pytest.fixture()
def umask():
    """Set the process umask for one test and restore it afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_written_files_get_the_umask_permissions(tmp_path: Path, umask, mask: int) -> None:
    """Like ``open(path, "w")``: 0o666 & ~umask, not mkstemp's private 0600."""
    umask(mask)
    assert current_umask() == mask
    text = write_text_atomic(tmp_path / "a.html", "x")
    data = write_bytes_atomic(tmp_path / "b.xlsx", b"x")
    with atomic_path(tmp_path / "c.gpkg", create=False) as tmp:
        assert not tmp.exists() and tmp.name.endswith(".tmp.gpkg")
        tmp.write_bytes(b"x")  # a writer that creates the file itself (GDAL)
    for p in (text, data, tmp_path / "c.gpkg"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask, p.name


def test_store_writers_use_the_umask(tmp_path: Path, umask) -> None:
    """The scenario store and the listing template are written with shared permissions."""
    from dorfkarte.listings.template import write_template
    from dorfkarte.scenario import Scenario, ScenarioStore

    umask(0o002)
    store = ScenarioStore(tmp_path)
    store.save(Scenario("Test"))
    tpl = write_template(tmp_path / "vorlage.csv")
    for p in (store.path, tpl):
        assert stat.S_IMODE(p.stat().st_mode) == 0o664, p.name


def test_fsync_write_replaces_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "scenarios.json"
    write_text_atomic(target, "{}", fsync=True)
    write_text_atomic(target, '{"a": 1}', fsync=True)
    assert target.read_text(encoding="utf-8") == '{"a": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["scenarios.json"]
