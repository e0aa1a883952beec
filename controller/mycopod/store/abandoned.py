"""Connection attempts given up on, told apart from real errors in the loop's handler.

asyncpg (0.30) creates the future a new connection's handshake completes in
(``connect_utils.__connect_addr``'s ``connected``) before it awaits the transport. When
a timeout cancels ``asyncpg.connect`` in that window (the connectivity check's 2 s, a
pool's ``timeout`` while the server is slow to start), the transport is closed and
asyncpg sets ``ConnectionDoesNotExistError`` on that future, which nobody awaits any
more: asyncio then logs "Future exception was never retrieved" at error level. Nothing is
lost or left open (the attempt already failed, and was reported as such by its caller),
so :func:`install` logs exactly that case as ``database.connect_abandoned`` (debug) and
passes everything else to the handler that was there before.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import structlog

__all__ = ["abandoned", "install"]

log = structlog.get_logger(__name__)


def abandoned(context: dict[str, Any]) -> bool:
    """``context`` is an unretrieved asyncpg handshake future of a closed connection."""
    exc = context.get("exception")
    return (isinstance(context.get("future"), asyncio.Future)
            and not isinstance(context.get("future"), asyncio.Task)
            and isinstance(exc, asyncpg.ConnectionDoesNotExistError)
            and str(context.get("message", "")).startswith("Future exception was never "
                                                           "retrieved"))


def install(loop: asyncio.AbstractEventLoop) -> None:
    """Route abandoned connection attempts of ``loop`` to a debug event."""
    before = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if abandoned(context):
            log.debug("database.connect_abandoned", error=str(context["exception"]))
            return
        if before is not None:
            before(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
