"""Rate limits hold across replicas: two API apps on one database share one budget.

Each app keeps its own in-memory limits (a replica of its own); what one replica
counted, the other sees through PostgreSQL (store/ratelimits.py), so adding a replica
does not multiply a password guesser's budget or a client's request budget."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from mycopod.store.users import UserStore
from tests.integration.api.conftest import PASSWORD, make_settings, start_api


@pytest.fixture
async def replicas(db: asyncpg.Pool, tmp_path: Path,
                   request: pytest.FixtureRequest) -> AsyncIterator[list[TestClient]]:
    options = getattr(request, "param", {})
    clients = []
    for name in ("a", "b"):
        client, _ctx = await start_api(db, make_settings(tmp_path / name, **options))
        clients.append(client)
    await UserStore(db).add("alice", PASSWORD, "user")  # type: ignore[arg-type]
    try:
        yield clients
    finally:
        for client in clients:
            await client.close()


async def _login(client: TestClient, password: str) -> int:
    async with client.post("/auth/login", json={"username": "alice",
                                                "password": password}) as resp:
        await resp.read()
        return resp.status


async def test_failed_logins_are_counted_across_replicas(replicas: list[TestClient]) -> None:
    a, b = replicas
    assert [await _login(a, "wrong") for _ in range(3)] == [401] * 3
    assert [await _login(b, "wrong") for _ in range(2)] == [401] * 2
    # five failures a minute in all: b refuses even the right password (alone, it saw 2)
    assert await _login(b, PASSWORD) == 429
    assert await _login(a, PASSWORD) == 429


async def test_a_good_login_gives_its_slot_back_and_clears_the_user(
        replicas: list[TestClient], db: asyncpg.Pool) -> None:
    a, b = replicas
    assert [await _login(a, "wrong") for _ in range(4)] == [401] * 4
    assert await _login(b, PASSWORD) == 200  # the fifth slot, given back: not a failure
    assert await db.fetchval("SELECT coalesce(sum(count), 0) FROM login_failures "
                             "WHERE scope = 'user'") == 0  # the user starts over
    # the client address keeps its four failures (as in memory): one more, then 429
    assert await _login(b, "wrong") == 401
    assert await _login(b, "wrong") == 429


@pytest.mark.parametrize("replicas", [{"rate_limit_per_minute": 6}], indirect=True)
async def test_the_request_budget_is_shared(replicas: list[TestClient]) -> None:
    a, b = replicas

    async def health(client: TestClient) -> int:
        async with client.get("/health") as resp:
            await resp.read()
            return resp.status

    statuses = [await health(a) for _ in range(3)] + [await health(b) for _ in range(3)]
    assert all(s != 429 for s in statuses), statuses
    assert await health(b) == 429  # b served only 3 itself
    assert await health(a) == 429
