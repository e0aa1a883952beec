"""`pg_dump` then `pg_restore` into an empty database gives back the same rows."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from mycopod import backup


async def test_backup_restore_round_trip(database_url: str, empty_database_url: str,
                                         tmp_path: Path) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "INSERT INTO users (username, password_hash, role_id) VALUES ('ann', 'x', 1)")
        await conn.execute(
            "INSERT INTO reconciliation_runs (status, trigger, commit_sha) "
            "VALUES ('Succeeded', 'commit', 'abc')")
    finally:
        await conn.close()

    out = backup.dump(database_url, tmp_path / "b" / "mycopod.dump", prefer_bundled=True)
    assert out.stat().st_size > 0
    assert out.stat().st_mode & 0o077 == 0

    assert await backup.is_empty(empty_database_url)
    backup.restore(empty_database_url, out, prefer_bundled=True)
    assert not await backup.is_empty(empty_database_url)

    conn = await asyncpg.connect(empty_database_url)
    try:
        assert await conn.fetchval("SELECT username FROM users") == "ann"
        assert await conn.fetchval("SELECT commit_sha FROM reconciliation_runs") == "abc"
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") >= 1
    finally:
        await conn.close()

    with pytest.raises(backup.BackupError, match="pg_restore failed"):
        backup.restore(empty_database_url, out, prefer_bundled=True)


def test_missing_backup_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(backup.BackupError, match="does not exist"):
        backup.restore("postgresql://x@/y", tmp_path / "nope.dump")
