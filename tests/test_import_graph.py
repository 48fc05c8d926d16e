"""The import graph of ``src/dorfkarte``: no cycles, no upward imports, every module imports.

The graph is read with :mod:`ast` (imports inside functions and ``TYPE_CHECKING`` blocks
included, and ``importlib.import_module("...")`` with a literal name), one edge per module
named. Importing ``a.b.c`` also runs ``a/b/__init__.py``; that implicit edge is not counted
(a package's ``__init__`` re-exporting its submodules is not a cycle).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "dorfkarte"

#: Front-ends and benchmarks: they may import the library, never the other way round.
FRONT_END_PREFIXES = ("dorfkarte.ui", "dorfkarte.commands")
FRONT_END_MODULES = {"dorfkarte.cli", "dorfkarte.cliargs", "dorfkarte.__main__"}
BENCH_MODULES = {"dorfkarte.bench", "dorfkarte.bench_scenario", "dorfkarte.bench_world"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _is_front_end(name: str) -> bool:
    return (name in FRONT_END_MODULES or name in BENCH_MODULES
            or any(name == p or name.startswith(p + ".") for p in FRONT_END_PREFIXES))


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The dorfkarte modules that module ``name`` imports anywhere in its file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()

    def add(target: str) -> None:
        if target in known:
            out.add(target)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            add(mod)
            for alias in node.names:  # ``from dorfkarte import siting``
                add(f"{mod}.{alias.name}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            add(node.args[0].value)
    out.discard(name)
    return out


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {n: _imports(n, p, known) for n, p in mods.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_graph_reader_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    """The reader itself, on a hand-made file (so a green graph test means something)."""
    f = tmp_path / "mod.py"
    f.write_text("import os\nfrom . import b\n\ndef f():\n    from dorfkarte.a import x\n"
                 "    import importlib\n    importlib.import_module('dorfkarte.c')\n")
    known = {"dorfkarte.a", "dorfkarte.a.x", "dorfkarte.b", "dorfkarte.c", "dorfkarte.d"}
    got = _imports("dorfkarte.m", f, known)  # as if the file were dorfkarte/m.py
    assert got == {"dorfkarte.a", "dorfkarte.a.x", "dorfkarte.b", "dorfkarte.c"}
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    cycles = _cycles(import_graph())
    assert cycles == [], "Import-Zyklen: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_library_never_imports_front_ends_or_benchmarks() -> None:
    bad = sorted((src, dst) for src, dsts in import_graph().items() if not _is_front_end(src)
                 for dst in dsts if _is_front_end(dst))
    assert bad == [], "Bibliothek importiert Oberfläche/Benchmark: " + ", ".join(
        f"{a} -> {b}" for a, b in bad)


def test_ui_never_imports_commands() -> None:
    """The two front-ends share the library, not each other's code."""
    bad = sorted((src, dst) for src, dsts in import_graph().items()
                 if src == "dorfkarte.ui" or src.startswith("dorfkarte.ui.")
                 for dst in dsts if dst == "dorfkarte.commands"
                 or dst.startswith("dorfkarte.commands.") or dst == "dorfkarte.cli")
    assert bad == [], ", ".join(f"{a} -> {b}" for a, b in bad)


def test_front_end_classification_covers_the_known_modules() -> None:
    mods = set(modules())
    for name in ("dorfkarte.coverage", "dorfkarte.scenario", "dorfkarte.scenario.whatif",
                 "dorfkarte.atomic", "dorfkarte.sources.osm"):
        assert name in mods and not _is_front_end(name)
    for name in ("dorfkarte.cli", "dorfkarte.commands", "dorfkarte.bench",
                 "dorfkarte.bench_scenario", "dorfkarte.ui.page"):
        assert name in mods and _is_front_end(name)


#: Third-party packages the child processes share (imported once, before any dorfkarte
#: module): only to keep the test fast; every dorfkarte module starts from nothing.
_PRELOAD = ("numpy", "pandas", "scipy.sparse.csgraph", "scipy.spatial", "shapely", "pyproj",
            "geopandas", "pyogrio", "folium", "branca", "requests", "networkx", "osmnx",
            "osmium", "openpyxl", "filelock", "altair", "streamlit", "streamlit_folium")

_CHILD = r"""
import importlib, json, os, sys, traceback
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except Exception:
        pass
assert not [m for m in sys.modules if m == "dorfkarte" or m.startswith("dorfkarte.")]
failed = {}
for mod in json.loads(sys.argv[2]):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # a fresh set of dorfkarte modules for every module
        os.close(r)
        code = 0
        try:
            importlib.import_module(mod)
        except BaseException:
            os.write(w, traceback.format_exc(limit=3).encode())
            code = 1
        os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as fh:
        msg = fh.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if status != 0:
        failed[mod] = msg or f"exit status {status}"
print(json.dumps(failed))
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_every_module_imports_in_a_fresh_interpreter() -> None:
    names = sorted(modules())
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(_PRELOAD), json.dumps(names)],
        capture_output=True, text=True, timeout=600, cwd=SRC.parent,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    failed = json.loads(proc.stdout.strip().splitlines()[-1])
    assert failed == {}, "\n".join(f"{k}: {v}" for k, v in failed.items())


def test_the_app_page_does_not_import_the_osm_import_stack() -> None:
    """osmnx (with sklearn, matplotlib, scipy.stats: ~2 s) and networkx are needed to import
    OSM data, Altair (~0.4 s) only for the folded profile chart, not to show the app: the
    page imports without them (the first visitor waits for imports)."""
    import subprocess
    import sys

    code = ("import sys, dorfkarte.ui.page, dorfkarte.cli; print(sorted(m for m in "
            "('osmnx', 'sklearn', 'matplotlib', 'networkx', 'altair') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr[-2000:]
