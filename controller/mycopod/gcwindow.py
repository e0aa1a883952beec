"""Fewer runs of the cyclic garbage collector while a cluster is observed and planned.

A first full resync of 10,000 guests makes a few hundred thousand objects that live on
(parsed configs, observed guests, the plan). With CPython's default thresholds (700,
10, 10) the youngest generation is collected every 700 new objects, and the older
generations are walked again and again while the heap grows: about 0.85 s of CPU of
that resync, a tenth of it (docs/scaling.md, *A large cluster: the first full resync,
under 6 s*). A higher first threshold while the observation and its plan are made lets
those objects be created without repeated walks; the thresholds are given back when the
last such window closes (windows of several clusters on one event loop may overlap).

Reference counting frees everything that is not in a cycle as before; only cyclic
garbage waits longer, at most ``YOUNG`` new objects' worth.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, ParamSpec, TypeVar

__all__ = ["YOUNG", "during", "fewer_collections"]

P = ParamSpec("P")
R = TypeVar("R")

#: the youngest generation's threshold inside a window (CPython's default is 700)
YOUNG = 50_000

_lock = threading.Lock()
_open = 0
#: the thresholds before the first open window, and the ones it set
_saved: tuple[int, int, int] | None = None
_set: tuple[int, int, int] | None = None


@contextlib.contextmanager
def fewer_collections(young: int = YOUNG) -> Iterator[None]:
    """Collect the youngest generation every ``young`` new objects (not fewer than the
    current threshold) inside the ``with`` block; restore the thresholds after the last
    open block closes, unless something else changed them meanwhile. A collector that
    is off (threshold 0) stays off."""
    global _open, _saved, _set
    with _lock:
        if _open == 0:
            before = gc.get_threshold()
            _saved = before
            if 0 < before[0] < young:
                _set = (young, before[1], before[2])
                gc.set_threshold(*_set)
            else:
                _set = None
        _open += 1
    try:
        yield
    finally:
        with _lock:
            _open -= 1
            if _open == 0:
                if _set is not None and _saved is not None and gc.get_threshold() == _set:
                    gc.set_threshold(*_saved)
                _saved = _set = None


def during(fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """An async function whose every call runs in a :func:`fewer_collections` window."""

    @functools.wraps(fn)
    async def windowed(*args: P.args, **kwargs: P.kwargs) -> R:
        with fewer_collections():
            return await fn(*args, **kwargs)

    return windowed
