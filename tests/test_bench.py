"""Benchmark smoke run with tiny sizes: it runs, agrees with the baseline, prints its line.

No timing is asserted (timings belong in the benchmark's output, not in tests).
"""

from __future__ import annotations

import re

import pytest

from dorfkarte import bench


def test_summary_line_order_and_extension() -> None:
    line = bench.summary_line({"whatif_ms": 12.5, "peak_mb": 3.0, "full_analysis_s": 0.5,
                               "speedup_vs_baseline": 150.0})
    assert line == ("full_analysis_s=0.500 speedup_vs_baseline=150.000 peak_mb=3.000 "
                    "whatif_ms=12.500")


@pytest.mark.timeout(300)
def test_bench_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    rc = bench.main(["--nodes", "600", "--homes", "300", "--sample", "4", "--repeats", "1",
                     "--no-scenario"])
    assert rc == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert "keine echten Daten" in out[0]
    last = out[-1]
    assert re.match(r"^full_analysis_s=\d+\.\d+ speedup_vs_baseline=\d+\.\d+ "
                    r"peak_mb=\d+\.\d+( \w+=-?\d+\.\d+)*$", last), last
    figures = dict(kv.split("=") for kv in last.split())
    assert float(figures["full_analysis_s"]) > 0
    assert float(figures["speedup_vs_baseline"]) > 0
    assert float(figures["peak_mb"]) > 0
    # the per-origin baseline computes the same times as the engine
    dev = re.search(r"größte Abweichung zur Vollanalyse ([0-9.e+-]+)", "\n".join(out))
    assert dev is not None and float(dev.group(1)) < 1e-6


def test_synthetic_snapshot_is_labelled_and_sized(region) -> None:
    snap = bench.synthetic_snapshot(region, n_nodes=500, n_homes=100, seed=3)
    assert abs(len(snap.layers["nodes_walk"]) - 500) <= 30
    assert len(snap.layers["homes"]) == 100
    assert len(snap.layers["districts"]) == bench.N_VILLAGES
    assert all("synthetisch" in i.source for i in snap.info.values())
