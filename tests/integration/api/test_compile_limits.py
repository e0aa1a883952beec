"""The attack on compiling, replayed: junk declarations are refused while /health answers.

Four Users each POSTed a 256 KiB sentence of unknown words at once; each compile held the
event loop for ~14 s, /health blocked for 45 s and then said the database was
unreachable. Compiles now run in worker processes within a time budget, one at a time
per user.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from mycopod.api.state import STATE
from tests.support.junk import junk

from .conftest import Api, with_repository

SMALL = "db-1 is a VM with 4 cores.\n"


def slow(sentences: int = 1500) -> str:
    """A valid declaration the grammar needs most of a second for (~85 KiB)."""
    return "\n\n".join(f"g{i} is a VM with 2 cores and 4 GB of RAM, tagged web."
                       for i in range(sentences)) + "\n"


@pytest.fixture
async def compile_api(api: Api, tmp_path: Path) -> Api:
    """The API with a declarations repository and four ordinary users."""
    await with_repository(api, tmp_path, "web-1 is a VM.\n")
    for name in ("carol", "dave"):
        await api.add_user(name)
    return api


def set_compile(api: Api, **values: Any) -> None:
    """Change the [compile] settings the running app reads for each request."""
    ctx = api.ctx
    ctx.settings = ctx.settings.model_copy(
        update={"compile": ctx.settings.compile.model_copy(update=values)})
    api.client.server.app[STATE].compiles.limit = ctx.settings.compile.per_user


async def health_while(api: Api, work: asyncio.Future[Any]) -> list[tuple[int, float]]:
    """GET /health every 20 ms until ``work`` is done: (status, seconds) of each."""
    seen: list[tuple[int, float]] = []
    while not work.done():
        started = time.perf_counter()
        status, _ = await api.call("GET", "/health")
        seen.append((status, time.perf_counter() - started))
        await asyncio.sleep(0.02)
    return seen


async def test_four_junk_declarations_are_refused_while_health_answers(
        compile_api: Api) -> None:
    api = compile_api
    text = junk() + "\n"
    assert len(text.encode()) <= 256 * 1024
    users = [api.users[n] for n in ("alice", "bob", "carol", "dave")]
    posts = asyncio.gather(*(
        api.call("POST", "/declarations", user, json={"path": f"{user.username}.md",
                                                      "text": text})
        for user in users))
    seen = await health_while(api, posts)
    assert seen, "/health was not asked while the declarations compiled"
    assert {status for status, _ in seen} == {200}
    slowest = max(seconds for _, seconds in seen)
    assert slowest < 1.0, seen  # it blocked for 45 s; the figure is in bench/api.py
    for status, body in await posts:
        assert status == 422, body
        assert body["error"]["code"] == "compile_error"
        message = body["error"]["message"]
        assert message.startswith("the declaration does not compile: ")
        assert 'could not understand "ipsum0x1 dolor0x2 sit0x3' in message
        assert len(message) < 4096  # the 256 KiB sentence is quoted, not copied


async def test_a_declaration_over_its_budget_is_a_clear_422_and_health_stays_up(
        compile_api: Api) -> None:
    api = compile_api
    set_compile(api, file_seconds=0.1)
    post = asyncio.ensure_future(api.call("POST", "/declarations", api.users["alice"],
                                          json={"path": "big.md", "text": slow()}))
    seen = await health_while(api, post)
    status, body = await post
    assert status == 422, body
    assert body["error"]["message"] == (
        "the declaration does not compile: big.md: compiling this file took longer than the "
        "0.1 s allowed for one file (compile.file_seconds), so it was stopped; split it into "
        "smaller files")
    assert body["error"]["details"][0]["file"] == "big.md"
    assert {status for status, _ in seen} == {200}
    # with a budget large enough, the same text compiles: the stop was not cached
    set_compile(api, file_seconds=60.0)
    await api.call("POST", "/declarations", api.users["alice"], expect=201,
                   json={"path": "big.md", "text": slow()})


async def test_one_user_compiles_one_declaration_at_a_time(compile_api: Api) -> None:
    api = compile_api
    # what is counted here is compiles at once, not their time: a CI run at load 11 once
    # took over the default 10 s for this file
    set_compile(api, file_seconds=120.0)
    alice, bob = api.users["alice"], api.users["bob"]
    posts = await asyncio.gather(*(
        api.call("POST", "/declarations", alice, json={"path": f"a{n}.md",
                                                       "text": slow()})
        for n in range(4)))
    statuses = sorted(status for status, _ in posts)
    assert statuses == [201, 429, 429, 429], posts
    for status, body in posts:
        if status == 429:
            assert body["error"]["code"] == "too_many_compiles"
            assert body["error"]["message"] == (
                "you already have 1 declaration(s) compiling; wait for the answer, then "
                "submit the next one")
    # the place is given back however the request ended, and other users are not held up
    state = api.client.server.app[STATE]
    assert state.compiles.count(alice.id) == 0
    state.compiles.enter(alice.id)  # alice has a compile running
    try:
        async with api.client.post("/declarations", json={"path": "b.md", "text": SMALL},
                                   headers=api.auth(alice)) as resp:
            assert resp.status == 429
            assert resp.headers["Retry-After"] == "2"
        await api.call("POST", "/declarations", bob, expect=201,
                       json={"path": "bob.md", "text": "db-2 is a VM.\n"})
    finally:
        state.compiles.leave(alice.id)
    await api.call("POST", "/declarations", alice, expect=201,
                   json={"path": "b.md", "text": SMALL})
