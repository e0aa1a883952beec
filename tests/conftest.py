"""Shared fixtures: one PostgreSQL for the session, a fresh migrated database per test.

The server is the embedded one (pgserver) in a temporary folder, or the server named by
``MYCOPOD_TEST_DATABASE_URL``. Migrations are applied once to a template database, and
every test that asks for ``database_url`` or ``db`` gets its own database cloned from that
template (``CREATE DATABASE ... TEMPLATE``, a file copy): tests are independent and fast.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from mycopod.store import db as dbmod
from mycopod.store import embedded, migrate

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
        await migrate.up(conn, directory=REPO / "migrations")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of the session's PostgreSQL server (maintenance database)."""
    external = os.environ.get("MYCOPOD_TEST_DATABASE_URL")
    if external:
        yield external
        return
    state = Path(tempfile.mkdtemp(prefix="mycopod-pg-"))
    url = embedded.start(state)
    try:
        yield url
    finally:
        embedded.stop(state)
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture(scope="session")
def template_ready(pg_server_url: str) -> str:
    asyncio.run(_build_template(pg_server_url))
    return pg_server_url


def _drop(name: str) -> str:
    return f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'


@pytest.fixture
def database_url(template_ready: str) -> Iterator[str]:
    """A fresh, fully migrated database for this test only."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    asyncio.run(_admin(template_ready, f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"'))
    try:
        yield url_for(template_ready, name)
    finally:
        asyncio.run(_admin(template_ready, _drop(name)))


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
