"""/health tells a busy event loop, a busy pool and an unreachable database apart.

During the attack on compiling, /health waited 45 s behind a compile on the event loop,
then answered 503 "the database is unreachable": its 2 s timeout had fired late, while
the database was fine. A late timeout now means "ask again", and a pool with no free
connection is reported as such.
"""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

from mycopod.api import routes_system

from .conftest import Api


def call_for(api: Api) -> Any:
    return SimpleNamespace(ctx=api.ctx)


async def test_a_busy_event_loop_is_not_reported_as_a_database_down(api: Api) -> None:
    check = asyncio.ensure_future(routes_system.database_problem(call_for(api)))
    await asyncio.sleep(0)  # the check has sent SELECT 1 and waits for the answer
    # the loop is held longer than the check's timeout, as a compile on it did
    time.sleep(routes_system.HEALTH_DB_TIMEOUT + 0.5)
    assert await check is None
    _, body = await api.call("GET", "/health", expect=200)
    assert body["data"]["database"] == "up"


async def test_a_pool_without_a_free_connection_is_not_called_unreachable(api: Api) -> None:
    pool = api.pool
    held = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        status, body = await api.call("GET", "/health")
    finally:
        for conn in held:
            await pool.release(conn)
    assert status == 503
    assert body["error"]["message"] == (
        f"all {pool.get_max_size()} database connections stayed busy for 2 s "
        "(database.pool_max_size)")
    assert body["error"]["details"]["database"] == "down"
    await api.call("GET", "/health", expect=200)


async def test_an_unreachable_database_is_still_reported(api: Api) -> None:
    await api.pool.close()
    status, body = await api.call("GET", "/health")
    assert status == 503
    assert body["error"]["message"] == "the database is unreachable"
