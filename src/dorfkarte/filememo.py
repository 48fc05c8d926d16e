"""Remember what was read from small files until one of them changes.

The app reruns its whole script on every widget change, and several library functions read
the same small files each time (the centres CSV, the region file's ``[timetable]`` and
central-place tables): ~0.3 s of a slider rerun went to re-reading and re-parsing them.
:func:`by_files` keys a result on the files' paths, modification times and sizes, so an
edited file is read again on the next call and an unchanged one is not.

``functools.lru_cache`` does not fit: it cannot see a file change, and it would hand every
caller the same mutable DataFrame. Here each call gets a copy (see ``copy``).
"""

from __future__ import annotations

import copy as _copy
import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["by_files", "file_state"]

T = TypeVar("T")
_MISSING = object()


def file_state(paths: Iterable[str | Path | None]) -> tuple[Hashable, ...]:
    """Path, modification time (ns) and size of each file (None for an absent one)."""
    out: list[Hashable] = []
    for p in paths:
        if p is None:
            out.append(None)
            continue
        try:
            st = os.stat(p)
        except OSError:
            out.append((str(p), None))
            continue
        out.append((str(p), st.st_mtime_ns, st.st_size))
    return tuple(out)


def by_files(key: Callable[..., tuple[Hashable, Iterable[str | Path | None]]], *,
             maxsize: int = 32, copy: bool = True) -> Callable[[Callable[..., T]],
                                                               Callable[..., T]]:
    """Memoise ``fn(*args, **kw)`` on ``key(*args, **kw) = (other_key, files)``.

    ``other_key``: everything besides the files' contents the result depends on; ``files``:
    the files read. Errors are not remembered (a fixed file is read again). ``copy``: hand
    out deep copies, so a caller that modifies its DataFrame cannot change the next one's.
    """

    def deco(fn: Callable[..., T]) -> Callable[..., T]:
        cache: OrderedDict[Hashable, Any] = OrderedDict()
        lock = threading.Lock()

        @functools.wraps(fn)
        def wrapper(*args: Any, **kw: Any) -> T:
            other, files = key(*args, **kw)
            k = (other, file_state(files))
            with lock:
                hit = cache.get(k, _MISSING)
                if hit is not _MISSING:
                    cache.move_to_end(k)
            if hit is _MISSING:
                hit = fn(*args, **kw)
                with lock:
                    cache[k] = hit
                    while len(cache) > maxsize:
                        cache.popitem(last=False)
            return _copy.deepcopy(hit) if copy else hit

        return wrapper

    return deco
