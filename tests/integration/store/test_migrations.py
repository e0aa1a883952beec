"""Migrations: the schema the code expects, down reverses up, concurrency, checksums.

The schema after ``migrate up`` is compared in full (tables, columns with their types,
nullability and defaults, constraints, indexes, sequences, views, functions, triggers,
enum types, extensions) with ``schema_snapshot.json`` beside this file, which is
committed: a migration that changes the schema changes the snapshot in the same commit,
and the review sees both. Regenerate it after an intended change with
``MYCOPOD_UPDATE_SCHEMA_SNAPSHOT=1 pytest tests/integration/store/test_migrations.py -k snapshot``.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from mycopod.errors import MigrationError
from mycopod.store import migrate

REPO = Path(__file__).resolve().parents[3]
MIGRATIONS = REPO / "controller" / "mycopod" / "migrations"
SNAPSHOT = Path(__file__).with_name("schema_snapshot.json")
UPDATE_SNAPSHOT = "MYCOPOD_UPDATE_SCHEMA_SNAPSHOT"
REGENERATE = (f"{UPDATE_SNAPSHOT}=1 .venv/bin/pytest "
              f"{Path(__file__).resolve().relative_to(REPO)} -k snapshot")

COLUMNS = """
SELECT c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
       NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS default,
       a.attidentity::text AS identity, a.attgenerated::text AS generated
FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
ORDER BY c.relname, a.attnum
"""
CONSTRAINTS = """
SELECT conrelid::regclass::text AS table, conname AS name, pg_get_constraintdef(oid) AS def
FROM pg_constraint
-- NOT NULL is in the columns (PostgreSQL 18 lists it as constraints too)
WHERE connamespace = 'public'::regnamespace AND conrelid <> 0 AND contype <> 'n'
"""
INDEXES = "SELECT tablename AS table, indexname AS name, indexdef AS def " \
          "FROM pg_indexes WHERE schemaname = 'public'"
TRIGGERS = """
SELECT tgrelid::regclass::text AS table, tgname AS name, pg_get_triggerdef(oid) AS def
FROM pg_trigger
WHERE NOT tgisinternal AND tgrelid IN (
    SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)
"""
SEQUENCES = """
SELECT sequencename AS name, data_type::text || ' start ' || start_value || ' by '
       || increment_by || coalesce(' owned by ' || (
           SELECT d.refobjid::regclass::text || '.' || a.attname
           FROM pg_depend d
           JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
           WHERE d.objid = (quote_ident(schemaname) || '.' || quote_ident(sequencename))
                 ::regclass AND d.deptype IN ('a', 'i')), '') AS def
FROM pg_sequences WHERE schemaname = 'public'
"""
VIEWS = "SELECT viewname AS name, definition AS def FROM pg_views WHERE schemaname = 'public'"
FUNCTIONS = """
SELECT p.oid::regprocedure::text AS name, pg_get_functiondef(p.oid) AS def
FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p')
"""
ENUMS = """
SELECT t.typname AS name, string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) AS def
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.typname
"""


async def dump_schema(conn: asyncpg.Connection) -> dict[str, Any]:
    """Everything ``migrate up`` defines in the public schema, as plain JSON values."""
    tables: dict[str, dict[str, Any]] = {}

    def table(name: str) -> dict[str, Any]:
        return tables.setdefault(name, {"columns": [], "constraints": {}, "indexes": {},
                                        "triggers": {}})

    for row in await conn.fetch(COLUMNS):
        # one line per column, in table order: ``hits integer NOT NULL DEFAULT 0``
        column = f"{row['name']} {row['type']}"
        if not row["nullable"]:
            column += " NOT NULL"
        if row["default"] is not None:
            column += f" DEFAULT {row['default']}"
        if row["identity"]:
            column += f" IDENTITY {row['identity']}"
        if row["generated"]:
            column += f" GENERATED {row['generated']}"
        table(row["table"])["columns"].append(column)
    for query, key in ((CONSTRAINTS, "constraints"), (INDEXES, "indexes"),
                       (TRIGGERS, "triggers")):
        for row in await conn.fetch(query):
            table(row["table"])[key][row["name"]] = row["def"]

    async def named(query: str) -> dict[str, str]:
        return {row["name"]: row["def"] for row in await conn.fetch(query)}

    return {
        "tables": tables,
        "sequences": await named(SEQUENCES),
        "views": await named(VIEWS),
        "functions": await named(FUNCTIONS),
        "enums": await named(ENUMS),
        "extensions": sorted(r["extname"] for r in await conn.fetch(
            "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'")),
    }


def as_text(snapshot: dict[str, Any]) -> str:
    return json.dumps(snapshot, indent=2, sort_keys=True) + "\n"


async def test_all_migrations_give_the_schema_of_the_snapshot(
        empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        applied = await migrate.up(conn, directory=MIGRATIONS)
        assert [m.version for m in applied] == [m.version for m in migrate.load(MIGRATIONS)]
        states = [s.state for s in await migrate.status(conn, directory=MIGRATIONS)]
        assert states and set(states) == {"applied"}
        actual = as_text({"migrations": [f"{m.version:04d}_{m.name}" for m in applied],
                          **await dump_schema(conn)})
        if os.environ.get(UPDATE_SNAPSHOT) == "1":
            SNAPSHOT.write_text(actual)
        expected = SNAPSHOT.read_text() if SNAPSHOT.exists() else ""
        if actual != expected:
            diff = "".join(difflib.unified_diff(
                expected.splitlines(keepends=True), actual.splitlines(keepends=True),
                fromfile=f"{SNAPSHOT.name} (committed)", tofile="after migrate up"))
            pytest.fail(f"the schema after `migrate up` differs from {SNAPSHOT.name}:\n"
                        f"{diff}\nIf the change is intended, regenerate the snapshot and "
                        f"commit it with the migration:\n  {REGENERATE}", pytrace=False)
        # the seed rows, and run statuses enforced by the database, not only by the code
        assert [r["name"] for r in await conn.fetch("SELECT name FROM roles ORDER BY id")] == [
            "Admin", "User"]
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
    finally:
        await conn.close()


async def test_up_down_up_gives_an_identical_schema(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        await migrate.up(conn, directory=MIGRATIONS)
        first = await dump_schema(conn)
        count = len(migrate.load(MIGRATIONS))
        reverted = await migrate.down(conn, count, directory=MIGRATIONS)
        assert len(reverted) == count
        # down to zero leaves nothing of ours behind (migrate's own table aside)
        leftover = await dump_schema(conn)
        assert set(leftover["tables"]) == {"schema_migrations"}
        assert {k: v for k, v in leftover.items() if k != "tables"} == {
            "sequences": {}, "views": {}, "functions": {}, "enums": {}, "extensions": []}
        await migrate.up(conn, directory=MIGRATIONS)
        assert await dump_schema(conn) == first
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
