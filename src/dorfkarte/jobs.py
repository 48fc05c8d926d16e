"""Long library steps in a background thread, with progress and a cancel button.

The app must stay usable while an Overpass download or a 150 MB extract import runs, so
such a step runs in a :class:`Job`: a thread calling the same library function as the CLI
with a ``progress(label, i, n)`` callback and a ``cancel`` event. The page only reads the
job's state (a lock-protected snapshot) and sets the event; the library functions check it
between steps and raise :class:`Cancelled` before anything is written, so a cancelled
download never touches the stored data.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dorfkarte.errors import DorfkarteError

log = logging.getLogger(__name__)

#: Progress callback of the library: (step label, step index from 0, number of steps).
Progress = Callable[[str, int, int], None]


class Cancelled(DorfkarteError):  # noqa: N818 - reads as the outcome ("abgebrochen")
    """The user cancelled a running step; nothing was written."""


def check_cancel(cancel: threading.Event | None, what: str = "Vorgang") -> None:
    """Raise :class:`Cancelled` if ``cancel`` is set (call between steps, before writing)."""
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"{what} abgebrochen; gespeicherte Daten unverändert")


def guarded(progress: Progress | None, cancel: threading.Event | None,
            what: str = "Vorgang") -> Progress:
    """A progress callback that first checks ``cancel`` (every step boundary is a chance
    to stop)."""
    def call(label: str, i: int, n: int) -> None:
        check_cancel(cancel, what)
        if progress is not None:
            progress(label, i, n)
    return call


@dataclass
class JobState:
    """What the page shows: status, current step, steps seen so far, outcome."""

    status: str = "running"  # running | done | failed | cancelled
    label: str = ""
    step: int = 0
    total: int = 0
    steps: list[str] = field(default_factory=list)  # labels in the order they started
    message: str = ""  # one-line error or result text
    result: Any = None
    started: float = 0.0
    finished: float = 0.0
    updates: int = 0  # number of progress calls (tests watch it move)

    @property
    def fraction(self) -> float:
        if self.status == "done":
            return 1.0
        return min(1.0, self.step / self.total) if self.total else 0.0

    @property
    def running(self) -> bool:
        return self.status == "running"


class Job:
    """``fn(*args, progress=..., cancel=..., **kwargs)`` in a daemon thread.

    ``fn`` must accept ``progress`` and ``cancel`` keyword arguments. A
    :class:`DorfkarteError` ends the job as ``failed`` with its one-line message; any other
    exception too, with the type named (and logged with its traceback).
    """

    def __init__(self, kind: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.kind = kind
        self.meta: dict[str, Any] = {}  # the caller's notes (e.g. an upload to remove after)
        self.cancel_event = threading.Event()
        self._lock = threading.Lock()
        self._state = JobState(started=time.time())
        self._thread = threading.Thread(target=self._run, args=(fn, args, kwargs),
                                        name=f"dorfkarte-{kind}-{self.id}", daemon=True)

    def start(self) -> Job:
        self._thread.start()
        return self

    # -- called from the worker thread ------------------------------------------------------

    def progress(self, label: str, i: int, n: int) -> None:
        with self._lock:
            st = self._state
            st.label, st.step, st.total = label, i, n
            if label and (not st.steps or st.steps[-1] != label):
                st.steps.append(label)
            st.updates += 1

    def _finish(self, status: str, message: str = "", result: Any = None) -> None:
        with self._lock:
            self._state.status = status
            self._state.message = message
            self._state.result = result
            self._state.finished = time.time()

    def _run(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        try:
            result = fn(*args, progress=self.progress, cancel=self.cancel_event, **kwargs)
        except Cancelled as exc:
            self._finish("cancelled", str(exc))
        except DorfkarteError as exc:
            status = "cancelled" if self.cancel_event.is_set() else "failed"
            self._finish(status, str(exc))
        except Exception as exc:  # noqa: BLE001 - shown to the user, logged in full
            log.error("job %s failed:\n%s", self.kind, traceback.format_exc())
            self._finish("failed", f"{type(exc).__name__}: {exc}")
        else:  # also when cancel came after the last check: the result is complete
            self._finish("done", "", result)

    # -- called from the page ---------------------------------------------------------------

    def state(self) -> JobState:
        """A copy of the current state (safe to read while the thread runs)."""
        with self._lock:
            st = self._state
            return JobState(st.status, st.label, st.step, st.total, list(st.steps),
                            st.message, st.result, st.started, st.finished, st.updates)

    def cancel(self) -> None:
        self.cancel_event.set()

    def wait(self, timeout: float | None = None) -> JobState:
        self._thread.join(timeout)
        return self.state()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


class JobRegistry:
    """Jobs by key (e.g. data folder + kind), shared by all browser sessions of one server:
    a second tab sees the running download instead of starting another one."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Job | None:
        with self._lock:
            return self._jobs.get(key)

    def start(self, key: str, job: Job) -> Job:
        """Start ``job`` under ``key`` unless one is still running there (that one is kept)."""
        with self._lock:
            cur = self._jobs.get(key)
            if cur is not None and cur.alive:
                return cur
            self._jobs[key] = job
        return job.start()

    def forget(self, key: str) -> None:
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and not job.alive:
                del self._jobs[key]

    def running(self) -> list[str]:
        with self._lock:
            return [k for k, j in self._jobs.items() if j.alive]


#: The process-wide registry the app uses.
JOBS = JobRegistry()
