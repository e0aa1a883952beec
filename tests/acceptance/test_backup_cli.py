"""`mycopod backup` and `mycopod restore` from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg

MYCOPOD = str(Path(sys.executable).with_name("mycopod"))


def _cli(*args: str, url: str, state: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MYCOPOD_DATABASE__URL": url, "MYCOPOD_STATE_DIR": str(state)}
    return subprocess.run([MYCOPOD, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


async def test_backup_then_restore_into_an_empty_database(
    database_url: str, empty_database_url: str, tmp_path: Path
) -> None:
    conn = await asyncpg.connect(database_url)
    await conn.execute("INSERT INTO reconciliation_runs (status, trigger) "
                       "VALUES ('Succeeded', 'manual')")
    await conn.close()

    dump = tmp_path / "my.dump"
    made = _cli("backup", "--output", str(dump), url=database_url, state=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "backup written to" in made.stdout and dump.stat().st_size > 0

    restored = _cli("restore", str(dump), url=empty_database_url, state=tmp_path)
    assert restored.returncode == 0, restored.stderr
    conn = await asyncpg.connect(empty_database_url)
    assert await conn.fetchval("SELECT count(*) FROM reconciliation_runs") == 1
    await conn.close()

    again = _cli("restore", str(dump), url=empty_database_url, state=tmp_path)
    assert again.returncode == 1
    assert "is not empty" in again.stderr
