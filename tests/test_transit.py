"""Transit stops from GTFS stops.txt (the vendored VBB file and bad inputs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dorfkarte.errors import DataError
from dorfkarte.sources.transit import read_stops, service_points

REPO = Path(__file__).resolve().parents[1]
VBB = REPO / "data" / "vbb_stops_hoher_flaeming.csv"


def test_vendored_vbb_stops():
    stops = read_stops(VBB)
    assert len(stops) == 437
    assert str(stops.crs) == "EPSG:4326"
    assert stops.geometry.y.between(51.98, 52.32).all()
    assert stops.geometry.x.between(12.25, 12.80).all()
    pts = service_points(stops, "EPSG:25833")
    assert len(pts) == stops["stop_name"].nunique()
    bhf = pts[pts["name"] == "Bad Belzig, Bahnhof"]
    assert len(bhf) == 1 and bhf["weight"].iloc[0] > 0


def _csv(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "stops.txt"
    p.write_text(text, encoding="utf-8")
    return p


def test_poles_merge_into_one_service_point(tmp_path):
    p = _csv(tmp_path, "stop_id,stop_name,stop_lat,stop_lon,weight\n"
                       "a,Dorf,52.10,12.50,10\nb,Dorf,52.1002,12.5002,6\n"
                       "c,Feld,52.20,12.60,\n")
    pts = service_points(read_stops(p), "EPSG:25833").set_index("name")
    assert pts.loc["Dorf", "weight"] == 16 and pts.loc["Dorf", "poles"] == 2
    assert np.isnan(pts.loc["Feld", "weight"])


def test_plain_gtfs_without_weight(tmp_path):
    p = _csv(tmp_path, "stop_id,stop_name,stop_lat,stop_lon\nx,Halt,52.1,12.5\n")
    stops = read_stops(p)
    assert np.isnan(stops["weight"].iloc[0]) and stops["location_type"].iloc[0] == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stop_id,stop_name,stop_lon\nx,H,12.5\n", "Spalte 'stop_lat' fehlt"),
        ("stop_id,stop_name,stop_lat,stop_lon\nx,H,52.1,12.5\ny,I,abc,12.5\n",
         "Zeile 3: 'stop_lat' = 'abc'"),
        ("stop_id,stop_name,stop_lat,stop_lon\nx,H,152.1,12.5\n", "Zeile 2"),
    ],
)
def test_bad_stops_file(tmp_path, text, message):
    with pytest.raises(DataError) as err:
        read_stops(_csv(tmp_path, text))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_missing_stops_file(tmp_path):
    with pytest.raises(DataError, match="nicht gefunden"):
        read_stops(tmp_path / "fehlt.txt")
