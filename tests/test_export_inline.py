"""Asset inlining and page finishing of the HTML export (independent of the map content)."""

from __future__ import annotations

import base64
from pathlib import Path

import folium
import html5lib
import pytest

from dorfkarte import assets
from dorfkarte.export import (
    ExportError,
    external_refs,
    finish_document,
    inline_assets,
    inline_css,
    render_map_html,
)


def strict_parse(doc: str) -> None:
    """Raise on any HTML parse error (html5lib in strict mode)."""
    html5lib.HTMLParser(strict=True).parse(doc)


@pytest.fixture
def vendor(tmp_path: Path) -> Path:
    d = tmp_path / "vendor"
    (d / "img").mkdir(parents=True)
    (d / "fonts").mkdir()
    (d / "lib.js").write_text('var s = "</script><script>alert(1)</script>"; // <!-- x\n',
                              encoding="utf-8")
    (d / "img" / "dot.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (d / "fonts" / "f.woff2").write_bytes(b"w2")
    (d / "fonts" / "f.ttf").write_bytes(b"ttf" * 1000)
    (d / "lib.css").write_text(
        ".a{background:url(img/dot.png)}\n"
        ".b{background:url('missing.png')}\n"
        "@font-face{font-family:x;src:url(fonts/f.woff2) format(\"woff2\"),"
        "url(fonts/f.ttf) format(\"truetype\")}\n",
        encoding="utf-8",
    )
    return d


def page(*tags: str) -> str:
    return ("<!DOCTYPE html><html><head>" + "".join(tags)
            + "</head><body><div id='m'></div></body><script>var a=1;</script></html>")


def test_inline_replaces_script_and_stylesheet_by_content(vendor: Path) -> None:
    files = {"/app/static/lib.js": vendor / "lib.js", "/app/static/lib.css": vendor / "lib.css"}
    doc = page('<script src="/app/static/lib.js"></script>',
               '<link rel="stylesheet" href="/app/static/lib.css"/>')
    out, inlined, dropped = inline_assets(doc, files.get, offline=True)
    assert inlined == ["/app/static/lib.js", "/app/static/lib.css"]
    assert dropped == []
    assert "src=" not in out and "<link" not in out
    # The script's own "</script>" must not close the inlined element early.
    assert out.count("</script>") == 2
    assert r"<\/script><script>alert(1)<\/script>" in out
    png = base64.b64encode((vendor / "img" / "dot.png").read_bytes()).decode()
    assert f"data:image/png;base64,{png}" in out
    assert base64.b64encode(b"w2").decode() in out  # woff2 kept ...
    assert "truetype" not in out  # ... ttf duplicate dropped
    strict_parse(finish_document(out, title="t", lang="de"))


def test_offline_refuses_unvendored_cdn_asset(vendor: Path) -> None:
    doc = page('<script src="https://cdn.example.org/x.js"></script>')
    with pytest.raises(ExportError, match="cdn.example.org/x.js"):
        inline_assets(doc, lambda url: None, offline=True)
    # Online the CDN reference may stay (the map then needs the network for it).
    out, _, _ = inline_assets(doc, lambda url: None, offline=False)
    assert "https://cdn.example.org/x.js" in out


def test_local_reference_that_is_not_vendored_is_an_error_even_online() -> None:
    doc = page('<script src="/app/static/nowhere.js"></script>')
    with pytest.raises(ExportError, match="nowhere.js"):
        inline_assets(doc, lambda url: None, offline=False)


def test_optional_folium_extras_are_dropped() -> None:
    doc = page('<link rel="stylesheet" href="https://netdna.bootstrapcdn.com/bootstrap/3.0.0/'
               'css/bootstrap-glyphicons.css"/>')
    out, inlined, dropped = inline_assets(doc, lambda url: None, offline=True)
    assert inlined == [] and len(dropped) == 1
    assert "glyphicons" not in out


def test_inline_css_offline_blanks_remote_urls(vendor: Path) -> None:
    css = ".x{background:url(https://tile.example.org/a.png)} .y{background:url(img/dot.png)}"
    out = inline_css(css, vendor, offline=True)
    assert "https://" not in out and "data:image/png" in out
    assert "https://tile.example.org" in inline_css(css, vendor, offline=False)


def test_external_refs_finds_loads_not_links() -> None:
    doc = ('<html><head><script src="https://a.example/x.js"></script>'
           '<link rel="stylesheet" href="//b.example/y.css">'
           '<style>@import "https://c.example/z.css"; .q{background:url(https://d.example/i.png)}'
           '</style></head><body><img src="http://e.example/p.png">'
           '<a href="https://www.openstreetmap.org/copyright">OSM</a></body></html>')
    refs = external_refs(doc)
    assert sorted(r.split("/")[2] for r in refs) == [
        "a.example", "b.example", "c.example", "d.example", "e.example"]


def test_folium_page_becomes_valid_self_contained_html() -> None:
    m = folium.Map(location=[52.15, 12.6], zoom_start=11, tiles=None)
    m.default_js = assets.folium_js()
    m.default_css = assets.folium_css()
    folium.CircleMarker([52.15, 12.6], radius=5, tooltip="Ort").add_to(m)
    raw = m.get_root().render()
    with pytest.raises(html5lib.html5parser.ParseError):
        strict_parse(raw)  # folium's own output puts the map script after </body>
    doc, inlined, _ = render_map_html(m, title="Karte <Test>", lang="de", offline=True,
                                      panel="<div id='dk-x'>Panel</div>")
    strict_parse(doc)
    assert external_refs(doc) == []
    assert len(inlined) == 2
    assert "<title>Karte &lt;Test&gt;</title>" in doc
    assert '<html lang="de">' in doc
    assert doc.index("dk-x") < doc.index("</body>")
    assert doc.rstrip().endswith("</html>")
    leaflet = (assets.LEAFLET_DIR / "leaflet.js").read_text(encoding="utf-8")
    assert leaflet[:200] in doc
