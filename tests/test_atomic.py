"""A failed write leaves the old file byte-identical and no temp file behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from dorfkarte.atomic import atomic_path, write_text_atomic


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
