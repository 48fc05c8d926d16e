"""Shared fixtures: tests never write into the shipped data/ folder.

Shared plain helpers live in helper modules beside the tests (never imported from a
``test_*.py``): ``osmfixtures`` (synthetic OSM extract), ``gtfs_feeds``, ``linefixtures``
(hand-computed line networks), ``scenario_world`` (what-if grid world), ``other_region``
(the synthetic "Testkreis Nordost"), ``evildata`` (hostile names), ``fakeservers``
(Overpass / Smart Village on 127.0.0.1), ``regionfiles`` (edited region copies) and
``browserkit`` (chromium, streamlit server).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dorfkarte.region import Region, load_region
from dorfkarte.settings import default_region_path

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Point $DORFKARTE_DATA at a fresh temp folder for every test."""
    d = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("DORFKARTE_DATA", str(d))
    return d


@pytest.fixture(scope="session")
def region() -> Region:
    return load_region(default_region_path())


@pytest.fixture()
def test_region(tmp_path: Path) -> Region:
    """The hand-made line region of :mod:`linefixtures` (Ahaus, Beheim), in ``tmp_path``."""
    from linefixtures import write_line_region

    return write_line_region(tmp_path)


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, float]]:
    """The app under ``streamlit run`` with an empty data folder, for the browser tests:
    (url, start time)."""
    from browserkit import streamlit_server

    with streamlit_server(tmp_path_factory.mktemp("browser-data")) as running:
        yield running
