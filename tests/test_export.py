"""HTML export end to end: offline file, escaping of untrusted names, valid HTML, CLI.

The data folder is SYNTHETIC (made here): the shipped Ortsteile and stops plus a few made-up
amenities, base-map features and a listing whose names are HTML/JS injection attempts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import html5lib
import pytest
from evildata import EVIL, EVIL_JS, EVIL_LISTING, district_names, make_evil_data_dir

from dorfkarte.cli import main
from dorfkarte.export import export_html, external_refs
from dorfkarte.region import Region
from dorfkarte.workspace import open_snapshot


def loads(doc: str) -> list[str]:
    """Every script/stylesheet tag that loads from somewhere (must be none when inlined)."""
    tags = re.findall(r"<script\b[^>]*\bsrc\s*=[^>]*>", doc, re.IGNORECASE)
    tags += [t for t in re.findall(r"<link\b[^>]*>", doc, re.IGNORECASE)
             if re.search(r"stylesheet", t, re.IGNORECASE)]
    return tags


@pytest.fixture(scope="module")
def evil_dir(tmp_path_factory: pytest.TempPathFactory, region: Region) -> Path:
    return make_evil_data_dir(tmp_path_factory.mktemp("evil"), region)


@pytest.fixture(scope="module")
def offline_html(tmp_path_factory: pytest.TempPathFactory, evil_dir: Path) -> str:
    out = tmp_path_factory.mktemp("out") / "karte.html"
    rc = main(["export-html", str(out), "--offline", "--category", "lebensmittel",
               "--data-dir", str(evil_dir)])
    assert rc == 0
    return out.read_text(encoding="utf-8")


def test_offline_export_loads_nothing_from_the_network(offline_html: str) -> None:
    assert loads(offline_html) == []
    assert external_refs(offline_html) == []
    # No web tiles either: no tile URL template anywhere in the file.
    assert "tile.openstreetmap.org" not in offline_html
    assert not re.search(r"https?://[^\"'\s]*\{z\}", offline_html)


def test_offline_export_is_valid_html(offline_html: str) -> None:
    html5lib.HTMLParser(strict=True).parse(offline_html)
    assert offline_html.startswith("<!DOCTYPE html>")


def test_offline_export_shows_all_units_title_sources(offline_html: str,
                                                      region: Region) -> None:
    for name in district_names(region):
        assert json.dumps(name)[1:-1] in offline_html or name in offline_html, name
    # the listing is flagged as example data: the title says so (issue 14, item 2)
    assert ("<title>Lebensmittel: Erreichbarkeit (Fuß) – Bad Belzig und Wiesenburg/Mark "
            "(enthält Beispieldaten)</title>") in offline_html
    assert "Quellen" in offline_html and "VBB Verkehrsverbund" in offline_html
    assert "Näherung" in offline_html  # approximate Ortsteil areas are declared
    assert "Offline-Karte" in offline_html
    assert "dk-legend" in offline_html  # legend control from the map builder


def test_untrusted_names_are_escaped(offline_html: str) -> None:
    for raw in (EVIL, EVIL_JS, EVIL_LISTING, "</script><script>alert(3)"):
        assert raw not in offline_html
    # ... but they are there, as text (HTML-escaped, inside JSON).
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in offline_html
    assert "alert(4)\\u0026gt; Mobiler Laden" in offline_html  # the listing is on the map
    assert "Laden \\u0026amp; Co" in offline_html
    # Exactly the script elements we expect: nothing injected closed one early.
    n_open = len(re.findall(r"<script\b", offline_html))
    assert n_open == len(re.findall(r"</script>", offline_html))


def test_online_export_uses_tiles_with_attribution(tmp_path: Path, evil_dir: Path) -> None:
    out = tmp_path / "online.html"
    assert main(["export-html", str(out), "--data-dir", str(evil_dir)]) == 0
    doc = out.read_text(encoding="utf-8")
    assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in doc
    assert "OpenStreetMap" in doc and "openstreetmap.org/copyright" in doc
    assert loads(doc) == []  # Leaflet is inlined online too: only the tiles need the network
    html5lib.HTMLParser(strict=True).parse(doc)


def test_export_without_category_shows_one_with_data(tmp_path: Path, region: Region) -> None:
    snap = open_snapshot(region, tmp_path / "empty")
    info = export_html(snap, region, tmp_path / "k.html", None, offline=True)
    doc = info.path.read_text(encoding="utf-8")
    assert info.offline and info.size_bytes == len(doc.encode("utf-8"))
    assert info.size_mb < 5
    assert "leaflet" in " ".join(info.inlined)


def test_unknown_category_is_one_line_and_keeps_old_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "k.html"
    out.write_text("alt", encoding="utf-8")
    rc = main(["export-html", str(out), "--offline", "--category", "gibtsnicht",
               "--data-dir", str(tmp_path / "d")])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("Fehler: Unbekannte Kategorie 'gibtsnicht'") and err.count("\n") == 1
    assert out.read_text(encoding="utf-8") == "alt"
    assert [p.name for p in tmp_path.iterdir()] == ["k.html"]


def test_unwritable_target_is_a_clear_error(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "datei"
    blocker.write_text("x", encoding="utf-8")
    rc = main(["export-html", str(blocker / "k.html"), "--offline",
               "--data-dir", str(tmp_path / "d")])
    assert rc == 2
    assert capsys.readouterr().err.startswith("Fehler: Kann ")


def test_sources_box_names_every_embedded_layer_in_words(tmp_path: Path, region: Region) -> None:
    """'census' or 'routes' as a heading in the sources box is a machine name, not a label."""
    from dorfkarte.export import layer_label
    from dorfkarte.i18n import has_key

    snap = open_snapshot(region, tmp_path)
    names = [n for n in snap.info if not n.startswith(("nodes_", "edges_"))]
    assert {"census", "routes", "municipalities", "stops"} <= set(names)
    for name in [*names, "data_gap"]:
        assert has_key(f"src_{name}"), name
        for lang in ("de", "en"):
            assert layer_label(name, lang) != name
