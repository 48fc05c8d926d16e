"""Every user-facing error is a DorfkarteError with a builtin base saying what kind it is."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import dorfkarte
from dorfkarte import errors
from dorfkarte.errors import DorfkarteError
from dorfkarte.listings.schedule import ScheduleError, check_schedule

#: Library modules only (front-ends and benchmarks define no error classes of their own).
SKIP = ("dorfkarte.ui", "dorfkarte.commands", "dorfkarte.cli", "dorfkarte.__main__",
        "dorfkarte.bench")
#: A control-flow signal, not a kind of bad input: a builtin base (RuntimeError, OSError)
#: would let generic ``except`` clauses (e.g. the extract parser's) re-label a cancel.
NO_BUILTIN_BASE = {"dorfkarte.jobs.Cancelled"}


def _error_classes() -> dict[str, type[BaseException]]:
    out: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(dorfkarte.__path__, "dorfkarte."):
        if info.name.startswith(SKIP):
            continue
        mod = importlib.import_module(info.name)
        for name, obj in vars(mod).items():
            if (inspect.isclass(obj) and issubclass(obj, BaseException)
                    and obj.__module__ == info.name and not name.startswith("_")):
                out[f"{info.name}.{name}"] = obj
    return out


def test_every_public_error_is_a_dorfkarte_error_with_a_builtin_base() -> None:
    found = _error_classes()
    assert "dorfkarte.listings.schedule.ScheduleError" in found
    assert "dorfkarte.scenario.changes.ScenarioError" in found
    for name, cls in found.items():
        assert issubclass(cls, DorfkarteError), name
        if cls is DorfkarteError or name in NO_BUILTIN_BASE:
            continue
        builtin = [b for b in cls.__mro__ if b.__module__ == "builtins"
                   and b not in (Exception, BaseException, object)]
        assert builtin, f"{name} hat keine eingebaute Basisklasse (z. B. ValueError)"


def test_schedule_error_is_both() -> None:
    with pytest.raises(DorfkarteError) as exc:
        check_schedule("jeden zweiten Dienstag irgendwann")
    assert isinstance(exc.value, ScheduleError) and isinstance(exc.value, ValueError)
    assert "\n" not in str(exc.value)


def test_unused_snapshot_missing_error_is_gone() -> None:
    assert not hasattr(errors, "SnapshotMissingError")
