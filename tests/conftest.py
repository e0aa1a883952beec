"""Shared fixtures: one PostgreSQL for the session, a fresh migrated database per test.

The server is the embedded one (pgserver) in a temporary folder, or the server named by
``MYCOPOD_TEST_DATABASE_URL``. Migrations are applied once to a template database, and
every test that asks for ``database_url`` or ``db`` gets its own database cloned from that
template (``CREATE DATABASE ... TEMPLATE``, a file copy), or one an earlier test had and
that was put back as the template left it (tests/support/databases.py): tests are
independent and fast.

Every async test is also checked for leaked tasks: a task still running on the test's
event loop once the test and its fixtures are done fails the test, naming the task.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator, Set
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from mycopod.store import db as dbmod
from mycopod.store import embedded, migrate
from tests.support.databases import Recycler

REPO = Path(__file__).resolve().parents[1]
#: one template per xdist worker, so parallel workers sharing one server do not collide
TEMPLATE = f"mycopod_test_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


def url_for(url: str, database: str) -> str:
    """``url`` pointing at another database on the same server."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def _admin(url: str, *statements: str) -> None:
    """Run maintenance statements (CREATE/DROP DATABASE) on ``url``, one connection."""
    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _build_template(admin_url: str) -> None:
    await _admin(admin_url, f'DROP DATABASE IF EXISTS "{TEMPLATE}"',
                 f'CREATE DATABASE "{TEMPLATE}"')
    conn = await asyncpg.connect(url_for(admin_url, TEMPLATE))
    try:
        await migrate.up(conn)
    finally:
        await conn.close()


#: the session's own throwaway server does not sync to disk: durability against an
#: operating-system crash is of no use to a test database, and every test's CREATE and
#: DROP DATABASE (a checkpoint) otherwise waits on fsync: 0.4 s and 2.4 s each on the
#: shared CI machine, against 0.15 s and 0.02 s without. A PostgreSQL process that is
#: killed loses nothing either way; only the embedded servers tests start themselves
#: keep the production settings.
NO_SYNC = ("ALTER SYSTEM SET fsync = off", "ALTER SYSTEM SET synchronous_commit = off",
           "ALTER SYSTEM SET full_page_writes = off", "SELECT pg_reload_conf()")


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of the session's PostgreSQL server (maintenance database)."""
    external = os.environ.get("MYCOPOD_TEST_DATABASE_URL")
    if external:
        yield external
        return
    state = Path(tempfile.mkdtemp(prefix="mycopod-pg-"))
    url = embedded.start(state)
    asyncio.run(_admin(url, *NO_SYNC))
    try:
        yield url
    finally:
        embedded.stop(state)
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="session")
def template_ready(pg_server_url: str) -> Iterator[Recycler]:
    asyncio.run(_build_template(pg_server_url))
    recycler = Recycler(pg_server_url, TEMPLATE)
    try:
        yield recycler
    finally:
        asyncio.run(recycler.close())


def _drop(name: str) -> str:
    return f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'


@pytest.fixture
def database_url(template_ready: Recycler) -> Iterator[str]:
    """A fully migrated database for this test only, as the template left it (a database
    a test is done with is emptied and handed to the next: tests/support/databases.py)."""
    name = asyncio.run(template_ready.checkout())
    try:
        yield url_for(template_ready.admin_url, name)
    finally:
        asyncio.run(template_ready.checkin(name))


@pytest.fixture
def empty_database_url(pg_server_url: str) -> Iterator[str]:
    """A fresh database with no tables at all (for migration tests)."""
    name = f"e_{uuid.uuid4().hex[:16]}"
    asyncio.run(_admin(pg_server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield url_for(pg_server_url, name)
    finally:
        asyncio.run(_admin(pg_server_url, _drop(name)))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """An asyncpg pool (with MycoPod's JSON codecs) on this test's database."""
    pool = await dbmod.create_pool(database_url, connect_timeout=10, min_size=1, max_size=5)
    try:
        yield pool
    finally:
        await pool.close()


#: event-loop iterations a task that is being cancelled gets to finish before it counts
LEAK_GRACE_ITERATIONS = 20


def _describe(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    where = getattr(coro, "__qualname__", repr(coro))
    frame = getattr(coro, "cr_frame", None)
    if frame is not None:
        where += f" at {frame.f_code.co_filename}:{frame.f_lineno}"
    return f"{task.get_name()!r} running {where}"


async def _leftover_tasks(before: Set[asyncio.Task[Any]]) -> list[asyncio.Task[Any]]:
    """Tasks on this loop that the test started and that are still not done."""
    leftover: list[asyncio.Task[Any]] = []
    for _ in range(LEAK_GRACE_ITERATIONS):
        await asyncio.sleep(0)
        current = asyncio.current_task()
        leftover = [t for t in asyncio.all_tasks()
                    if t is not current and t not in before and not t.done()]
        if not leftover:
            break
    return leftover


async def _cancel_all(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks, timeout=5)


def _fail_on_leaked_tasks(loop: asyncio.AbstractEventLoop,
                          before: Set[asyncio.Task[Any]]) -> None:
    if loop.is_closed():
        return
    leaked = loop.run_until_complete(_leftover_tasks(before))
    if leaked:
        names = "\n  ".join(sorted(_describe(t) for t in leaked))
        loop.run_until_complete(_cancel_all(leaked))
        pytest.fail(f"{len(leaked)} asyncio task(s) left running by this test:\n  {names}",
                    pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any],
                         request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves a task running on its event loop.

    Hooked to pytest-asyncio's function-scoped ``event_loop`` (the loop of every async
    test and fixture here: none asks for another scope), whose teardown comes after that
    of every fixture using the loop and before the loop is closed, so a task that a
    fixture's own teardown stops in time is not a leak. (An autouse fixture asking for
    ``event_loop`` would set the loop up before the sync fixtures that call
    ``asyncio.run``, which clears the current loop the test then needs.) The leaked tasks
    are cancelled after the failure, so they do not spill into the next test.
    """
    outcome = yield
    if fixturedef.argname != "event_loop" or outcome.excinfo is not None:
        return
    loop = outcome.get_result()
    before = frozenset(asyncio.all_tasks(loop))
    fixturedef.addfinalizer(functools.partial(_fail_on_leaked_tasks, loop, before))
