"""A connection attempt a timeout gave up on is a debug event, not asyncio's
"Future exception was never retrieved" error (mycopod.store.abandoned); every other
unhandled exception still reaches the loop's handler."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from mycopod.store import abandoned, db

pytestmark = pytest.mark.timeout(120)


async def _attempts(url: str, done: Callable[[], bool]) -> None:
    """Connectivity checks with timeouts spread over the handshake, as a slow server
    makes them time out, in rounds until ``done`` (which of them the timeout cuts in the
    handshake's window is up to timing: a round cuts a few)."""
    for _ in range(20):
        for i in range(80):
            check = db.ConnectivityCheck(url, timeout=0.0005 * (i % 40 + 1))
            await check.check(max_age=0)
        await asyncio.sleep(0.2)
        # the unretrieved futures are reported when collected: once a round (a collection
        # per attempt costs seconds each in a long test session's heap)
        gc.collect()
        await asyncio.sleep(0.05)
        if done():
            return


def _run(url: str, *, quiet: bool) -> tuple[list[dict[str, Any]], int]:
    """(what reached the loop's previous handler, abandoned attempts seen)."""
    reached: list[dict[str, Any]] = []
    seen = 0

    async def main() -> None:
        nonlocal seen
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, context: reached.append(context))
        if quiet:
            abandoned.install(loop)
            before = abandoned.abandoned

            def counting(context: dict[str, Any]) -> bool:
                nonlocal seen
                hit = before(context)
                seen += hit
                return hit
            abandoned.abandoned = counting  # type: ignore[assignment]
        def lost() -> bool:
            return seen > 0 or any(isinstance(c.get("exception"),
                                              asyncpg.ConnectionDoesNotExistError)
                                   for c in reached)
        try:
            await _attempts(url, lost)
            # anything else still reaches the handler that was there
            loop.call_exception_handler({"message": "something else",
                                         "exception": RuntimeError("boom")})
        finally:
            abandoned.abandoned = before if quiet else abandoned.abandoned

    asyncio.run(main())
    return reached, seen


def test_abandoned_connection_attempts_are_not_logged_as_errors(database_url: str) -> None:
    # without the handler, asyncio reports them (what the daemon logged at start-up)
    plain, _ = _run(database_url, quiet=False)
    lost = [c for c in plain if isinstance(c.get("exception"),
                                           asyncpg.ConnectionDoesNotExistError)]
    assert lost and all("never retrieved" in c["message"] for c in lost)
    reached, seen = _run(database_url, quiet=True)
    assert seen > 0
    assert [c["message"] for c in reached] == ["something else"]


def test_a_task_or_another_error_is_not_taken_for_one() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        lost = asyncpg.ConnectionDoesNotExistError("connection was closed")
        message = "Future exception was never retrieved"
        assert abandoned.abandoned({"message": message, "exception": lost, "future": fut})
        assert not abandoned.abandoned({"message": message, "future": fut,
                                        "exception": RuntimeError("x")})
        task = asyncio.ensure_future(asyncio.sleep(0))
        await task
        assert not abandoned.abandoned({"message": "Task exception was never retrieved",
                                        "exception": lost, "future": task})
    asyncio.run(main())
