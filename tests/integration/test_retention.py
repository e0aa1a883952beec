"""Old finished runs are archived to fsynced gzip JSON lines, then deleted; live ones stay."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from mycopod import retention

INSERT_RUN = """
INSERT INTO reconciliation_runs (status, trigger, created_at, commit_sha, summary)
VALUES ($1, 'commit', $2, $3, $4) RETURNING id
"""
INSERT_ACTION = """
INSERT INTO reconciliation_actions (run_id, action_description, result, kind, target, seq,
                                    params)
VALUES ($1, $2, 'Success', 'create', $3, $4, $5)
"""


async def _run(db: asyncpg.Pool, status: str, age_days: int, actions: int = 2) -> int:
    created = datetime.now(UTC) - timedelta(days=age_days)
    run_id = await db.fetchval(INSERT_RUN, status, created, f"{age_days:040d}",
                               {"created": actions})
    for i in range(actions):
        await db.execute(INSERT_ACTION, run_id, f"create web-{i}", f"web-{i}", i,
                         {"cores": 2})
    return int(run_id)


async def test_old_runs_are_archived_then_deleted(db: asyncpg.Pool, tmp_path: Path) -> None:
    old = [await _run(db, "Succeeded", 120 + i) for i in range(5)]
    failed_old = await _run(db, "Failed", 95, actions=1)
    pending_old = await _run(db, "Pending", 200, actions=0)
    recent = await _run(db, "Succeeded", 10)

    result = await retention.archive_old_runs(db, archive_dir=tmp_path / "archive",
                                              retention_days=90, batch_size=2)

    assert result.runs == 6
    assert result.actions == 11
    assert len(result.files) == 3  # batches of 2
    archived: dict[int, dict] = {}
    for path in result.files:
        assert path.parent == tmp_path / "archive"
        with gzip.open(path, "rt") as handle:
            for line in handle:
                item = json.loads(line)
                archived[item["run"]["id"]] = item
    assert sorted(archived) == sorted([*old, failed_old])
    first = archived[old[0]]
    assert first["run"]["status"] == "Succeeded"
    assert first["run"]["summary"] == {"created": 2}
    assert [a["target"] for a in first["actions"]] == ["web-0", "web-1"]
    assert first["actions"][0]["params"] == {"cores": 2}
    assert not list((tmp_path / "archive").glob("*.tmp"))

    left = {r["id"] for r in await db.fetch("SELECT id FROM reconciliation_runs")}
    assert left == {pending_old, recent}
    orphans = await db.fetchval(
        "SELECT count(*) FROM reconciliation_actions WHERE run_id <> ALL($1::int[])",
        [pending_old, recent])
    assert orphans == 0

    again = await retention.archive_old_runs(db, archive_dir=tmp_path / "archive",
                                             retention_days=90)
    assert again.runs == 0 and again.files == []


async def test_nothing_is_deleted_when_the_archive_cannot_be_written(
    db: asyncpg.Pool, tmp_path: Path
) -> None:
    run_id = await _run(db, "Succeeded", 100)
    blocker = tmp_path / "archive"
    blocker.write_text("a file where the folder should be")
    try:
        await retention.archive_old_runs(db, archive_dir=blocker, retention_days=90)
    except OSError:
        pass
    else:
        raise AssertionError("archiving into a file should fail")
    assert await db.fetchval("SELECT count(*) FROM reconciliation_runs WHERE id = $1",
                             run_id) == 1
