"""The event loop the long-running processes run on: uvloop where it is installed.

A full resync at 10,000 guests is 10,001 HTTPS GETs; on CPython's own loop the TLS layer
(``asyncio.sslproto``) and the transports are Python code, on uvloop they are libuv and
Cython. Measured with ``bench/scale.py --guests 10000`` on the same machine minutes
apart: first full resync 7.7 → 6.4 s of controller CPU, scheduled ones 4.1 → 3.6 s
(docs/scaling.md). The daemon (``mycopod run``), ``mycopod demo`` and the simulator use
it; the short CLI commands keep ``asyncio.run``.

``MYCOPOD_EVENT_LOOP=asyncio`` in the environment picks CPython's loop (to rule the loop
out when chasing a problem); without uvloop installed (it is a dependency on Linux and
macOS only) CPython's loop is used as well.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from mycopod.errors import UsageError

__all__ = ["ENV", "loop_factory", "run"]

T = TypeVar("T")

#: the environment variable that picks the loop: ``uvloop`` (default) or ``asyncio``
ENV = "MYCOPOD_EVENT_LOOP"


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's ``new_event_loop``; None for CPython's loop (asked for, or no uvloop).
    Any other value of :data:`ENV` is an error that names the choices."""
    wanted = os.environ.get(ENV, "uvloop").strip().lower() or "uvloop"
    if wanted not in ("uvloop", "asyncio"):
        raise UsageError(f"{ENV}={wanted!r} is not an event loop MycoPod runs on; "
                         "use 'uvloop' (the default) or 'asyncio'")
    if wanted == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the chosen loop."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
