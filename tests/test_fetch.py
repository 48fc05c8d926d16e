"""``dorfkarte fetch`` against a fake Overpass server on 127.0.0.1 (no internet).

The server answers with Overpass JSON made from the synthetic fixture (recorded answers),
and can be scripted to fail first: HTTP 429/503, a truncated body, an Overpass "runtime
error" remark, or a slow answer that runs into the client timeout.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fakeservers import MUNIS, FakeOverpass
from osmfixtures import build_test_snapshot

from dorfkarte.cli import main
from dorfkarte.errors import FetchError
from dorfkarte.snapshot import read_snapshot, snapshot_path
from dorfkarte.sources import overpass
from dorfkarte.sources.osm import fetch_snapshot


@pytest.fixture
def fake() -> Iterator[FakeOverpass]:
    srv = FakeOverpass()
    yield srv
    srv.close()


FAST = overpass.RetryPolicy(retries=4, backoff_s=0.001, factor=2.0, max_backoff_s=0.01)
RUNTIME_ERROR = json.dumps({"elements": [], "remark": "runtime error: Query timed out in "
                            '"query" at line 1 after 25 seconds.'}).encode()


def test_fetch_retries_then_builds_same_snapshot_as_import(fake, region, tmp_path):
    fake.script = [(429, b"Too Many Requests", 0.0), (503, b"busy", 0.0),
                   (200, b'{"version": 0.6, "elem', 0.0), (200, RUNTIME_ERROR, 0.0)]
    pauses: list[float] = []
    client = overpass.OverpassClient(url=fake.url, timeout_s=10, retry=FAST,
                                     cache_dir=tmp_path / "cache", sleep=pauses.append)
    path = overpass.fetch(region, tmp_path / "fetched", client, progress=lambda *a: None)

    reasons = [o for label, o in client.attempts if label == "Gemeindegrenzen"]
    assert reasons[:4] == ["HTTP 429 Too Many Requests", "HTTP 503 Service Unavailable",
                           "unvollständige oder ungültige Antwort (kein JSON)",
                           reasons[3]]
    assert reasons[3].startswith("Serverfehler: runtime error: Query timed out")
    assert reasons[4] == "ok"
    # exponential backoff, capped
    assert pauses == pytest.approx([0.001, 0.002, 0.004, 0.008])
    assert len(fake.queries) == 4 + 6  # four failures, then six queries answered

    fetched = read_snapshot(path)
    imported = read_snapshot(build_test_snapshot(tmp_path / "imported"))
    assert fetched.stored_layers() and set(fetched.stored_layers()) == set(
        imported.stored_layers())
    for name in imported.stored_layers():
        assert len(fetched.layers[name]) == len(imported.layers[name]), name
    info = fetched.info["amenities"]
    assert "Overpass API" in info.source and fake.url in info.source
    assert "ODbL" in info.licence
    assert "2026-01-01T00:00:00Z" in info.note  # Overpass data date kept as provenance
    assert sorted(fetched.layers["amenities"]["name"]) == sorted(
        imported.layers["amenities"]["name"])


def test_fetch_failure_leaves_existing_snapshot_byte_identical(fake, region, tmp_path):
    data = tmp_path / "data"
    old = build_test_snapshot(data)
    before = old.read_bytes()
    mtime = old.stat().st_mtime_ns
    # municipalities answered, then the server breaks down for good
    fake.script = [(200, json.dumps(MUNIS).encode(), 0.0)]
    fake.after_script = (502, b"Bad Gateway")
    with pytest.raises(FetchError) as err:
        fetch_snapshot(region, data, overpass_url=fake.url, timeout_s=5,
                       retry=overpass.RetryPolicy(retries=2, backoff_s=0.001))
    msg = str(err.value)
    assert "Verwaltungsgrenzen" in msg and "3 Versuchen" in msg and "HTTP 502" in msg
    assert "\n" not in msg
    assert len(fake.queries) == 1 + 3
    assert old.read_bytes() == before and old.stat().st_mtime_ns == mtime
    leftovers = [p.name for p in old.parent.iterdir() if p.name != old.name]
    assert leftovers == []
    assert not any(p.name.startswith(".fetch-") for p in data.iterdir())


def test_fetch_timeout_is_retried_and_reported(fake, region, tmp_path):
    fake.script = [(200, json.dumps(MUNIS).encode(), 1.5)] * 2
    client = overpass.OverpassClient(url=fake.url, timeout_s=0.3,
                                     retry=overpass.RetryPolicy(retries=1, backoff_s=0.001),
                                     cache_dir=None, sleep=lambda s: None)
    with pytest.raises(FetchError, match=r"Gemeindegrenzen.*2 Versuchen: Zeitüberschreitung"):
        overpass.fetch(region, tmp_path / "d", client, progress=lambda *a: None)
    assert not snapshot_path(tmp_path / "d", region.id).exists()


def test_cached_answers_let_a_failed_fetch_resume(fake, region, tmp_path):
    data = tmp_path / "data"
    fetch_snapshot(region, data, overpass_url=fake.url, retry=FAST)
    n = len(fake.queries)
    fake.after_script = (503, b"down")
    path = fetch_snapshot(region, data, overpass_url=fake.url, retry=FAST)  # all from cache
    assert len(fake.queries) == n and path.exists()
    with pytest.raises(FetchError, match="HTTP 503"):
        fetch_snapshot(region, data, overpass_url=fake.url, retry=FAST, use_cache=False)


def test_municipality_missing_in_osm(fake, region, tmp_path):
    fake.script = [(200, json.dumps({"elements": []}).encode(), 0.0)]
    with pytest.raises(FetchError, match=r"Gemeinde 'Bad Belzig' \(AGS 12069020\) nicht"):
        fetch_snapshot(region, tmp_path, overpass_url=fake.url, retry=FAST)


def test_bad_request_is_not_retried(fake, region, tmp_path):
    fake.after_script = (400, b"Error: line 1: parse error")
    with pytest.raises(FetchError, match="HTTP 400.*parse error"):
        fetch_snapshot(region, tmp_path, overpass_url=fake.url, retry=FAST)
    assert len(fake.queries) == 1


def test_queries_use_region_polygon_and_tag_rules(region):
    import shapely

    poly = overpass.poly_string(shapely.box(12.5, 52.1, 12.6, 52.2))
    assert poly.split()[:2] == ["52.100000", "12.500000"] or "52.1" in poly
    qs = dict(overpass.area_queries(region, poly, 60))
    amen = qs["Einrichtungen"]
    assert '["amenity"~"^(' in amen and "doctors" in amen and "kindergarten" in amen
    assert '["shop"~"^(' in amen and "supermarket" in amen
    assert f'(poly:"{poly}")' in amen and amen.startswith("[out:json][timeout:60]")
    assert '["healthcare:speciality"' not in amen  # narrowing happens locally
    assert 'way["highway"]' in qs["Straßen und Wege"]


def test_cli_fetch_reports_one_line(fake, capsys, tmp_path):
    fake.after_script = (503, b"busy")
    code = main(["fetch", "--data-dir", str(tmp_path), "--overpass-url", fake.url,
                 "--retries", "1", "--backoff", "0"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("Fehler: Overpass-Abfrage 'Gemeindegrenzen' fehlgeschlagen nach "
                              "2 Versuchen: HTTP 503")
    assert not any("Traceback" in line for line in err)


def test_cli_fetch_success(fake, capsys, tmp_path):
    fake.script = [(503, b"busy", 0.0)]
    code = main(["fetch", "--data-dir", str(tmp_path), "--overpass-url", fake.url,
                 "--backoff", "0"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "Schnappschuss geschrieben" in out.out and "edges_drive" in out.out
    assert "fetch" in out.err  # the tqdm progress bar
    snap = read_snapshot(snapshot_path(tmp_path, "hoher-flaeming"))
    assert len(snap.layers["amenities"]) > 0
    assert (tmp_path / "cache" / "overpass").is_dir()


def test_tag_values_are_escaped_for_overpass_regex():
    assert overpass._tag_filter("shop", ["a.b", "c|d"]) == '["shop"~"^(a\\\\.b|c\\\\|d)$"]'
    assert overpass._tag_filter("amenity", True) == '["amenity"]'
