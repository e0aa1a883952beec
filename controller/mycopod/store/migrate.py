"""Numbered plain-SQL migrations, each with an up and a down part.

A migration is ``NNNN_name.sql`` in the package's ``migrations`` folder (read with
:mod:`importlib.resources`, so an installed wheel carries them; ``$MYCOPOD_MIGRATIONS_DIR``
overrides the folder); the text after ``-- migrate:up`` is
applied, the text after ``-- migrate:down`` reverts it. Each runs in its own
transaction and is recorded in ``schema_migrations`` with the sha256 of its file, so a
migration edited after it was applied is refused instead of silently diverging. All of
it happens under a PostgreSQL advisory lock: two processes starting together apply each
migration once.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import asyncpg
import structlog

from mycopod.errors import MigrationError

log = structlog.get_logger(__name__)

#: advisory lock key for migrations ("myco" "migr" in ASCII)
LOCK_KEY = 0x6D79636F_6D696772 - (1 << 63)
FILE_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
UP_MARK = "-- migrate:up"
DOWN_MARK = "-- migrate:down"

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum CHAR(64) NOT NULL,
    applied_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
)"""
SELECT_APPLIED = (
    "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
)
INSERT_APPLIED = "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)"
DELETE_APPLIED = "DELETE FROM schema_migrations WHERE version = $1"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Traversable
    up: str
    down: str
    checksum: str


@dataclass(frozen=True)
class MigrationStatus:
    version: int
    name: str
    applied_at: datetime | None
    state: str  # "applied", "pending", "changed" (file differs) or "missing" (file gone)


def default_dir() -> Traversable:
    """``$MYCOPOD_MIGRATIONS_DIR``, else the migrations packaged with :mod:`mycopod`."""
    env = os.environ.get("MYCOPOD_MIGRATIONS_DIR")
    if env:
        return Path(env)
    return resources.files("mycopod") / "migrations"


def load(directory: Traversable | None = None) -> list[Migration]:
    directory = directory or default_dir()
    if not directory.is_dir():
        raise MigrationError(
            f"migrations folder {directory} does not exist (set MYCOPOD_MIGRATIONS_DIR)"
        )
    migrations: list[Migration] = []
    for path in sorted(directory.iterdir(), key=lambda p: p.name):
        match = FILE_RE.match(path.name)
        if match is None:
            continue
        text = path.read_text(encoding="utf-8")
        if UP_MARK not in text or DOWN_MARK not in text:
            raise MigrationError(
                f"{path}: a migration needs a '{UP_MARK}' and a '{DOWN_MARK}' section"
            )
        up_start = text.index(UP_MARK) + len(UP_MARK)
        down_start = text.index(DOWN_MARK)
        if down_start < up_start:
            raise MigrationError(f"{path}: '{UP_MARK}' must come before '{DOWN_MARK}'")
        migrations.append(
            Migration(
                version=int(match.group(1)),
                name=match.group(2),
                path=path,
                up=text[up_start:down_start].strip(),
                down=text[down_start + len(DOWN_MARK):].strip(),
                checksum=hashlib.sha256(text.encode()).hexdigest(),
            )
        )
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files in {directory} share a number")
    return migrations


@asynccontextmanager
async def _locked(conn: asyncpg.Connection) -> AsyncIterator[list[asyncpg.Record]]:
    """Hold the migration lock; yield the applied migrations' rows."""
    await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
    try:
        await conn.execute(CREATE_TABLE)
        yield list(await conn.fetch(SELECT_APPLIED))
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)


async def _step(conn: asyncpg.Connection, sql: str, record: str, *args: object,
                what: str) -> None:
    """Run one migration part and its bookkeeping in one transaction."""
    try:
        async with conn.transaction():
            await conn.execute(sql)
            await conn.execute(record, *args)
    except asyncpg.PostgresError as exc:
        raise MigrationError(f"{what} failed and was rolled back: {exc}") from None


def _check_unchanged(migrations: list[Migration], applied: list[asyncpg.Record]) -> None:
    by_version = {m.version: m for m in migrations}
    for row in applied:
        migration = by_version.get(row["version"])
        if migration is not None and migration.checksum != row["checksum"]:
            raise MigrationError(
                f"migration {migration.path.name} was changed after it was applied "
                "(checksum differs); restore the original file and add a new migration "
                "for the change"
            )


async def up(conn: asyncpg.Connection, *, directory: Traversable | None = None) -> list[Migration]:
    """Apply every pending migration; return those applied."""
    migrations = load(directory)
    applied_now: list[Migration] = []
    async with _locked(conn) as applied:
        _check_unchanged(migrations, applied)
        done = {row["version"] for row in applied}
        for migration in migrations:
            if migration.version in done:
                continue
            await _step(conn, migration.up, INSERT_APPLIED, migration.version, migration.name,
                        migration.checksum, what=f"migration {migration.path.name}")
            log.info("migration.applied", version=migration.version, name=migration.name)
            applied_now.append(migration)
    return applied_now


async def down(conn: asyncpg.Connection, steps: int, *,
               directory: Traversable | None = None) -> list[Migration]:
    """Revert the last ``steps`` applied migrations, newest first."""
    if steps < 0:
        raise MigrationError("the number of migrations to revert must be 0 or more")
    migrations = {m.version: m for m in load(directory)}
    reverted: list[Migration] = []
    async with _locked(conn) as applied:
        _check_unchanged(list(migrations.values()), applied)
        for row in list(reversed(applied))[:steps]:
            migration = migrations.get(row["version"])
            if migration is None:
                raise MigrationError(
                    f"migration {row['version']:04d}_{row['name']} is applied but its file is "
                    "missing, so it cannot be reverted"
                )
            await _step(conn, migration.down, DELETE_APPLIED, migration.version,
                        what=f"reverting {migration.path.name}")
            log.info("migration.reverted", version=migration.version, name=migration.name)
            reverted.append(migration)
    return reverted


async def status(conn: asyncpg.Connection, *,
                 directory: Traversable | None = None) -> list[MigrationStatus]:
    migrations = load(directory)
    await conn.execute(CREATE_TABLE)
    applied = {row["version"]: row for row in await conn.fetch(SELECT_APPLIED)}
    result: list[MigrationStatus] = []
    for migration in migrations:
        row = applied.pop(migration.version, None)
        if row is None:
            result.append(MigrationStatus(migration.version, migration.name, None, "pending"))
        else:
            state = "applied" if row["checksum"] == migration.checksum else "changed"
            result.append(
                MigrationStatus(migration.version, migration.name, row["applied_at"], state)
            )
    for row in applied.values():
        result.append(MigrationStatus(row["version"], row["name"], row["applied_at"], "missing"))
    return sorted(result, key=lambda s: s.version)
