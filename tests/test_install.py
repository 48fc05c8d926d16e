"""A non-editable ``pip install`` works from any folder on the embedded data.

A fresh venv (``--system-site-packages``: the dependencies come from this environment, no
network) gets a regular, non-editable install of a copy of the repository, built without
build isolation and without an index. Then ``dorfkarte info`` and ``dorfkarte analyse``
run from an empty temp folder, so nothing can come from the clone's ``data/`` or ``src/``.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _can_build_wheels() -> bool:
    """setuptools builds wheels itself from 70.1; before that it needs ``wheel``."""
    import setuptools

    major, minor = (int(x) for x in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 300
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.skipif(not _can_build_wheels(), reason="setuptools < 70.1 without 'wheel'")
def test_pip_install_runs_info_and_analyse_from_another_folder(tmp_path: Path) -> None:
    # a copy, so the build leaves no build/ or egg-info in the clone
    src = tmp_path / "repo"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "src", src / "src", symlinks=False,
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "snapshots",
                                                  "listings.gpkg*", "scenarios.json*"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False, symlinks=True).create(env_dir)
    py = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_INDEX_URL",
                        "PIP_EXTRA_INDEX_URL", "DORFKARTE_REGION")}
    env.update(DORFKARTE_DATA=str(tmp_path / "data"), XDG_DATA_HOME=str(tmp_path / "xdg"),
               PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONNOUSERSITE="1")
    proc = _run([str(py), "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                 "--no-index", "--no-cache-dir", "--ignore-installed", "-q", str(src)],
                tmp_path, env)
    assert proc.returncode == 0, proc.stderr[-3000:]

    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _run([str(py), "-c", "import dorfkarte, dorfkarte.settings as s; "
                  "print(dorfkarte.__file__); print(s.embedded_data_dir())"], work, env)
    assert where.returncode == 0, where.stderr
    pkg_file, data_dir = where.stdout.split()
    # the installed copy, not the editable checkout or this clone
    assert Path(pkg_file).resolve().is_relative_to(env_dir.resolve()), pkg_file
    assert (Path(data_dir) / "regions" / "hoher-flaeming.toml").is_file()

    exe = env_dir / "bin" / "dorfkarte"
    assert exe.exists()
    info = _run([str(exe), "info"], work, env)
    assert info.returncode == 0, info.stderr
    assert "Bad Belzig und Wiesenburg/Mark" in info.stdout
    assert "districts" in info.stdout and "stops" in info.stdout

    out = tmp_path / "out"
    ana = _run([str(exe), "analyse", "--out", str(out)], work, env)
    assert ana.returncode == 0, ana.stderr
    with (out / "coverage.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len({r["district"] for r in rows}) == 29
    # embedded data only: stops give real answers, every other category is "no data"
    stop_rows = [r for r in rows if r["category"] == "haltestelle"]
    assert stop_rows and all(r["gap_class"] != "no_data" for r in stop_rows)
    assert all(r["gap_class"] == "no_data" for r in rows if r["category"] == "lebensmittel")
    assert (out / "coverage.gpkg").stat().st_size > 0
    assert not list(work.iterdir())  # nothing written into the folder it ran from
