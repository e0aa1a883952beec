"""Retention: archive old runs and their actions to gzip JSON lines, then delete them.

The run log is the audit trail, so nothing is thrown away: runs older than
``retention_days`` are written, a batch at a time, to
``state_dir/archive/runs-<first id>-<last id>.jsonl.gz`` (one line per run, with its
actions nested), and only after that file and its folder are fsynced are the rows
deleted, in the same batch. A crash between the two leaves the rows in place and, at
worst, an archive file that the next pass writes again under the same name; a run is
never deleted without a durable copy.

Only finished runs are archived: a Pending, running or AwaitingApproval run is live
state, however old.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import structlog

from mycopod.store.runs import TERMINAL

log = structlog.get_logger(__name__)

__all__ = ["RetentionResult", "archive_old_runs"]

FINISHED = sorted(TERMINAL)

SELECT_BATCH = """
SELECT * FROM reconciliation_runs
WHERE created_at < $1 AND status = ANY($2::text[])
ORDER BY id
LIMIT $3
"""
SELECT_ACTIONS = """
SELECT * FROM reconciliation_actions WHERE run_id = ANY($1::int[]) ORDER BY run_id, seq, id
"""
DELETE_RUNS = """
DELETE FROM reconciliation_runs WHERE id = ANY($1::int[]) AND status = ANY($2::text[])
"""


@dataclass
class RetentionResult:
    runs: int = 0
    actions: int = 0
    files: list[Path] = field(default_factory=list)


def _jsonable(value: Any) -> str:
    """datetimes in ISO 8601; anything else JSON lacks (Decimal, UUID) as its str()."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _write_durably(path: Path, lines: list[dict[str, Any]]) -> None:
    """Write the gzip file under a temporary name, fsync it, rename it, fsync the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", filename=path.name[:-3], mtime=0) as gz:
            for line in lines:
                gz.write(json.dumps(line, default=_jsonable, sort_keys=True).encode())
                gz.write(b"\n")
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def archive_old_runs(
    pool: asyncpg.Pool,
    *,
    archive_dir: Path,
    retention_days: int,
    batch_size: int = 500,
    now: datetime | None = None,
) -> RetentionResult:
    """Archive and delete finished runs older than ``retention_days``, batch by batch."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    result = RetentionResult()
    while True:
        runs = await pool.fetch(SELECT_BATCH, cutoff, FINISHED, batch_size)
        if not runs:
            break
        ids = [r["id"] for r in runs]
        actions = await pool.fetch(SELECT_ACTIONS, ids)
        by_run: dict[int, list[dict[str, Any]]] = {}
        for action in actions:
            by_run.setdefault(action["run_id"], []).append(dict(action))
        lines = [{"run": dict(r), "actions": by_run.get(r["id"], [])} for r in runs]
        path = archive_dir / f"runs-{ids[0]:010d}-{ids[-1]:010d}.jsonl.gz"
        await asyncio.to_thread(_write_durably, path, lines)
        deleted = await pool.execute(DELETE_RUNS, ids, FINISHED)
        count = int(deleted.split()[-1])
        result.runs += count
        result.actions += len(actions)
        result.files.append(path)
        log.info("retention.archived", file=str(path), runs=count, actions=len(actions))
        if len(runs) < batch_size:
            break
    return result

