"""Background jobs: progress is recorded, cancel stops at the next step, errors are one line."""

from __future__ import annotations

import threading

import pytest

from dorfkarte.errors import DataError
from dorfkarte.jobs import Cancelled, Job, JobRegistry, check_cancel, guarded


def _steps(n: int, gate: threading.Event, *, progress, cancel) -> str:
    for i in range(n):
        progress(f"Schritt {i}", i, n)
        if i == 1:
            gate.wait(5)
    return "fertig"


def test_progress_and_result():
    gate = threading.Event()
    gate.set()
    job = Job("t", _steps, 3, gate).start()
    state = job.wait(5)
    assert state.status == "done" and state.result == "fertig" and state.fraction == 1.0
    assert state.steps == ["Schritt 0", "Schritt 1", "Schritt 2"] and state.updates == 3


def test_cancel_stops_at_next_step():
    gate = threading.Event()

    def work(*, progress, cancel):
        return _steps(4, gate, progress=guarded(progress, cancel), cancel=cancel)

    job = Job("t", work).start()
    while job.state().step < 1:
        pass
    job.cancel()
    gate.set()
    state = job.wait(5)
    assert state.status == "cancelled" and "abgebrochen" in state.message
    assert state.step == 1  # step 2 never started


def test_errors_become_one_line_states():
    def bad(*, progress, cancel):
        raise DataError("Datei x: kaputt")

    def bug(*, progress, cancel):
        raise KeyError("k")

    assert Job("t", bad).start().wait(5).message == "Datei x: kaputt"
    state = Job("t", bug).start().wait(5)
    assert state.status == "failed" and state.message == "KeyError: 'k'"


def test_registry_keeps_one_running_job_per_key():
    gate = threading.Event()
    reg = JobRegistry()
    first = reg.start("k", Job("t", _steps, 3, gate))
    second = reg.start("k", Job("t", _steps, 3, gate))
    assert second is first and reg.running() == ["k"]
    gate.set()
    first.wait(5)
    reg.forget("k")
    assert reg.get("k") is None


def test_check_cancel():
    ev = threading.Event()
    check_cancel(ev)
    ev.set()
    with pytest.raises(Cancelled, match="Download abgebrochen"):
        check_cancel(ev, "Download")
