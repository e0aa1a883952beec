"""Migrations: the schema the code expects, down reverses up, concurrency, checksums."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import asyncpg
import pytest

from mycopod.errors import MigrationError
from mycopod.store import migrate

REPO = Path(__file__).resolve().parents[2]
MIGRATIONS = REPO / "migrations"

SCHEMA_QUERY = """
SELECT 'column' AS what, table_name || '.' || column_name || ' ' || data_type || ' '
       || is_nullable || ' ' || coalesce(column_default, '') AS detail
FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL
SELECT 'constraint', conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'index', indexdef FROM pg_indexes WHERE schemaname = 'public'
ORDER BY 1, 2
"""


async def schema(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    return [(r["what"], r["detail"]) for r in await conn.fetch(SCHEMA_QUERY)]


async def test_all_migrations_give_the_expected_schema(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        applied = await migrate.up(conn, directory=MIGRATIONS)
        assert [m.version for m in applied] == [m.version for m in migrate.load(MIGRATIONS)]
        tables = {r["table_name"] for r in await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema='public'")}
        assert {"roles", "users", "declarations", "reconciliation_runs",
                "reconciliation_actions", "settings", "compile_cache", "inventory",
                "refresh_tokens", "schema_migrations"} <= tables
        assert [r["name"] for r in await conn.fetch("SELECT name FROM roles ORDER BY id")] == [
            "Admin", "User"]
        # run statuses are enforced by the database, not only by the code
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                "INSERT INTO reconciliation_runs (status, trigger) VALUES ('Done', 'manual')")
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                "INSERT INTO reconciliation_runs (status, trigger) VALUES ('Pending', 'cron')")
        for status in ("Pending", "Planning", "AwaitingApproval", "InProgress", "Succeeded",
                       "Failed", "Cancelled", "Interrupted"):
            await conn.execute(
                "INSERT INTO reconciliation_runs (status, trigger) VALUES ($1, 'drift')", status)
        # indexes on the columns the API filters and sorts by
        indexes = " ".join(d for w, d in await schema(conn) if w == "index")
        for needle in ("reconciliation_runs (status)", "reconciliation_runs (trigger)",
                       "reconciliation_runs (created_at DESC, id DESC)",
                       "reconciliation_actions (run_id, seq, id)", "declarations (user_id)"):
            assert needle in indexes.replace(" USING btree", ""), needle
        states = [s.state for s in await migrate.status(conn, directory=MIGRATIONS)]
        assert states and set(states) == {"applied"}
    finally:
        await conn.close()


async def test_up_down_up_gives_an_identical_schema(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        await migrate.up(conn, directory=MIGRATIONS)
        first = await schema(conn)
        count = len(migrate.load(MIGRATIONS))
        reverted = await migrate.down(conn, count, directory=MIGRATIONS)
        assert len(reverted) == count
        leftover = [d for w, d in await schema(conn) if "schema_migrations" not in d]
        assert leftover == []  # down to zero leaves nothing of ours behind
        await migrate.up(conn, directory=MIGRATIONS)
        assert await schema(conn) == first
    finally:
        await conn.close()


async def test_concurrent_migrate_up_applies_once(empty_database_url: str) -> None:
    conns = [await asyncpg.connect(empty_database_url) for _ in range(3)]
    try:
        results = await asyncio.gather(
            *(migrate.up(c, directory=MIGRATIONS) for c in conns))
        total = len(migrate.load(MIGRATIONS))
        assert sorted(len(r) for r in results) == [0, 0, total]
        rows = await conns[0].fetch("SELECT version FROM schema_migrations")
        assert len(rows) == total
    finally:
        for c in conns:
            await c.close()


async def test_changed_migration_is_refused(empty_database_url: str, tmp_path: Path) -> None:
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, copy)
    conn = await asyncpg.connect(empty_database_url)
    try:
        await migrate.up(conn, directory=copy)
        first = sorted(copy.glob("0001_*.sql"))[0]
        first.write_text(first.read_text() + "\n-- an innocent-looking edit\n")
        with pytest.raises(MigrationError, match=r"0001_initial.sql was changed after it was"):
            await migrate.up(conn, directory=copy)
        assert "changed" in [s.state for s in await migrate.status(conn, directory=copy)]
    finally:
        await conn.close()


async def test_failing_migration_rolls_back(empty_database_url: str, tmp_path: Path) -> None:
    copy = tmp_path / "migrations"
    copy.mkdir()
    (copy / "0001_ok.sql").write_text("-- migrate:up\nCREATE TABLE a (x int);\n"
                                      "-- migrate:down\nDROP TABLE a;\n")
    (copy / "0002_bad.sql").write_text("-- migrate:up\nCREATE TABLE b (x int);\nSELECT nope;\n"
                                       "-- migrate:down\nDROP TABLE b;\n")
    conn = await asyncpg.connect(empty_database_url)
    try:
        with pytest.raises(MigrationError, match="0002_bad.sql failed and was rolled back"):
            await migrate.up(conn, directory=copy)
        tables = {r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname='public'")}
        assert "a" in tables and "b" not in tables
    finally:
        await conn.close()


def test_migration_without_down_part_is_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_x.sql").write_text("-- migrate:up\nCREATE TABLE a (x int);\n")
    with pytest.raises(MigrationError, match="migrate:down"):
        migrate.load(tmp_path)
