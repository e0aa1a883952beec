"""The tests' recycled databases (tests/support/databases.py): a database handed out again
shows a test exactly what a fresh clone of the migrated template shows it, and one that
cannot be put back so is dropped instead."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from mycopod.store.users import UserStore
from tests.conftest import TEMPLATE
from tests.support.databases import Recycler, url_for

#: what a test sees of a database: every table's rows, every sequence's next value
SNAPSHOT_TABLES = """
SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
WHERE schemaname = 'public' ORDER BY 1"""


async def _snapshot(url: str) -> dict[str, object]:
    conn = await asyncpg.connect(url)
    try:
        seen: dict[str, object] = {}
        for (table,) in await conn.fetch(SNAPSHOT_TABLES):
            seen[table] = sorted(map(tuple, await conn.fetch(f"SELECT * FROM {table}")))  # noqa: S608
        for (sequence,) in await conn.fetch(
                "SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences"):
            seen[sequence] = await conn.fetchval("SELECT nextval($1::regclass)", sequence)
        return seen
    finally:
        await conn.close()


async def _exists(recycler: Recycler, name: str) -> bool:
    conn = await asyncpg.connect(recycler.admin_url)
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


@pytest.fixture
async def recycler(template_ready: Recycler) -> AsyncIterator[Recycler]:
    """A recycler of its own (the session's keeps its idle databases to itself)."""
    own = Recycler(template_ready.admin_url, TEMPLATE)
    try:
        yield own
    finally:
        await own.close()


async def _fresh_clone(recycler: Recycler) -> dict[str, object]:
    """What a database cloned from the template right now shows."""
    conn = await asyncpg.connect(recycler.admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "fresh_clone" TEMPLATE "{TEMPLATE}"')
    finally:
        await conn.close()
    try:
        return await _snapshot(url_for(recycler.admin_url, "fresh_clone"))
    finally:
        conn = await asyncpg.connect(recycler.admin_url)
        try:
            await conn.execute('DROP DATABASE "fresh_clone" WITH (FORCE)')
        finally:
            await conn.close()


async def test_a_used_database_comes_back_as_a_fresh_clone_under_a_new_name(
        recycler: Recycler) -> None:
    first = await recycler.checkout()
    url = url_for(recycler.admin_url, first)
    conn = await asyncpg.connect(url)
    try:
        await UserStore(conn).add("alice", "correct horse battery", "Admin")
        await conn.execute("INSERT INTO roles (name) VALUES ('Auditor')")
        await conn.execute("DELETE FROM schema_migrations WHERE version = 1")
    finally:
        await conn.close()
    used = await _snapshot(url)
    await recycler.checkin(first)

    second = await recycler.checkout()
    assert second != first and not await _exists(recycler, first)
    again = await _snapshot(url_for(recycler.admin_url, second))
    assert again == await _fresh_clone(recycler) != used
    await recycler.checkin(second)
    assert recycler.idle == [second]


async def test_a_database_whose_schema_changed_is_dropped(recycler: Recycler) -> None:
    name = await recycler.checkout()
    conn = await asyncpg.connect(url_for(recycler.admin_url, name))
    try:
        await conn.execute("ALTER TABLE users ADD COLUMN nickname TEXT")
    finally:
        await conn.close()
    await recycler.checkin(name)
    assert recycler.idle == [] and not await _exists(recycler, name)


async def test_a_database_still_in_use_at_the_end_is_dropped(recycler: Recycler) -> None:
    name = await recycler.checkout()
    left_open = await asyncpg.connect(url_for(recycler.admin_url, name))
    try:
        await recycler.checkin(name)
        assert recycler.idle == [] and not await _exists(recycler, name)
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
            await asyncio.wait_for(left_open.fetchval("SELECT 1"), timeout=10)
    finally:
        await left_open.close(timeout=5)
