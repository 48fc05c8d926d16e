"""The exploration notebook runs top to bottom on the embedded data (so it never rots)."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "exploration.ipynb"


def _kernel_name() -> str:
    """The registered python3 kernel if it runs this interpreter, else register one."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    ksm = KernelSpecManager()
    try:
        spec = ksm.get_kernel_spec("python3")
        if Path(spec.argv[0]).resolve() == Path(sys.executable).resolve() or \
                spec.argv[0] in {"python", "python3", "{python}"}:
            return "python3"
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    install(user=True, kernel_name="dorfkarte-test", display_name="dorfkarte (tests)")
    return "dorfkarte-test"


def _run(nb: nbformat.NotebookNode, tmp_path: Path) -> list[dict]:
    client = nbclient.NotebookClient(nb, timeout=240, kernel_name=_kernel_name(),
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on any failing cell
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


@pytest.mark.timeout(300)
def test_notebook_on_a_snapshot_file(tmp_path: Path) -> None:
    """With an OSM snapshot file (synthetic fixture): network times, groceries on the map."""
    osmfixtures = pytest.importorskip("osmfixtures")
    path = osmfixtures.build_test_snapshot(tmp_path / "data")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    params = nb.cells[1]
    assert "SNAPSHOT = None" in params.source and 'CATEGORY = "haltestelle"' in params.source
    params.source = params.source.replace("SNAPSHOT = None", f"SNAPSHOT = {str(path)!r}")
    params.source = params.source.replace('CATEGORY = "haltestelle"',
                                          'CATEGORY = "lebensmittel"')
    outputs = _run(nb, tmp_path)
    text = "".join(o.get("text", "") for o in outputs)
    assert "OSM-Schnappschuss vorhanden" in text
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "Testmarkt Ost" in html or "Testladen West" in html
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2


@pytest.mark.timeout(300)
def test_exploration_notebook_executes(tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=240, kernel_name=_kernel_name(),
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on any failing cell
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    pngs = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) >= 2  # choropleth and histogram
    text = "".join(o.get("text", "") for o in outputs)
    assert "Ausgangspunkte" in text
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "share_within" in html or "haltestelle" in html
