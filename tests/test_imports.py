"""The importer table: backups only for successful imports, undo, the districts CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely

from dorfkarte.cli import main
from dorfkarte.errors import DataError
from dorfkarte.imports import (
    NothingToUndo,
    data_status,
    districts_path,
    last_import,
    prev_path,
    run_import,
    undo_import,
)
from dorfkarte.workspace import open_snapshot


def _geojson(path: Path, names=("Lütte", "Reetz"), col="name") -> Path:
    centres = {"Lütte": (12.60558, 52.2007), "Reetz": (12.36667, 52.11667)}
    feats = [{"type": "Feature", "properties": {col: n},
              "geometry": shapely.geometry.mapping(shapely.box(
                  centres[n][0] - 0.02, centres[n][1] - 0.01, centres[n][0] + 0.02,
                  centres[n][1] + 0.01))} for n in names]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}),
                    encoding="utf-8")
    return path


def test_failed_import_keeps_files_and_the_previous_undo(region, tmp_path):
    data = tmp_path / "d"
    first = _geojson(tmp_path / "a.geojson", names=("Lütte",))
    run_import("districts", first, region, data, name_column="name")
    second = _geojson(tmp_path / "b.geojson")
    run_import("districts", second, region, data, name_column="name")
    target = districts_path(data, region.id)
    stored, backup = target.read_bytes(), prev_path(target).read_bytes()
    with pytest.raises(DataError, match="Namensspalte 'GEN' fehlt"):
        run_import("districts", second, region, data, name_column="GEN")
    assert target.read_bytes() == stored and prev_path(target).read_bytes() == backup
    assert sorted(p.name for p in target.parent.iterdir()) == sorted(
        [target.name, prev_path(target).name])  # no temp file left
    rec = undo_import("districts", region, data)
    assert rec.undone and target.read_bytes() == backup
    assert list(open_snapshot(region, data).get("districts")["name"]) == ["Lütte"]
    with pytest.raises(NothingToUndo):
        undo_import("districts", region, data)


def test_cli_import_districts_and_undo(region, tmp_path, capsys):
    data = tmp_path / "d"
    gj = _geojson(tmp_path / "o.geojson", col="OT")
    assert main(["import-districts", str(gj), "--name-column", "OT", "--data-dir",
                 str(data), "--source", "Test", "--licence", "CC0"]) == 0
    assert "2 Flächen" in capsys.readouterr().out
    snap = open_snapshot(region, data)
    assert snap.info["districts"].licence == "CC0"
    layers, missing = data_status(snap, region, data)
    assert not any("Ortsteilgrenzen" in m for m in missing)
    assert main(["imports", "--data-dir", str(data)]) == 0
    assert "districts" in capsys.readouterr().out
    assert main(["imports", "--undo", "districts", "--data-dir", str(data)]) == 0
    assert not districts_path(data, region.id).exists()
    assert last_import("districts", region, data).undone
    code = main(["import-districts", str(gj), "--name-column", "X", "--data-dir", str(data)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "Namensspalte 'X' fehlt" in err[0]


def test_districts_outside_region_refused(region, tmp_path):
    feats = [{"type": "Feature", "properties": {"name": "Mitte"},
              "geometry": shapely.geometry.mapping(shapely.box(13.3, 52.5, 13.4, 52.55))}]
    p = tmp_path / "berlin.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    with pytest.raises(DataError, match="keine Fläche liegt in der Region"):
        run_import("districts", p, region, tmp_path / "d", name_column="name")
