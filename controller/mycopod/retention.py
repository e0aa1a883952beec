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

:func:`run_nightly` is the daemon's ``retention`` task: it archives once a night at
03:17 local time. Only the leader runs it (the composition root starts it on taking the
leader lock and cancels it on losing it), so replicas never archive the same runs twice.
The queries are :mod:`mycopod.store.runs`' and :mod:`mycopod.store.actions`'.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog

from mycopod.store.actions import ActionStore
from mycopod.store.ratelimits import RateLimitStore
from mycopod.store.runs import RunStore

if TYPE_CHECKING:
    from mycopod.config import Settings

log = structlog.get_logger(__name__)

__all__ = ["RetentionResult", "archive_old_runs", "next_nightly", "run_nightly"]

#: local time of the nightly pass (a quiet hour, off the full hour other jobs favour)
NIGHTLY_AT = (3, 17)


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
    run_store, action_store = RunStore(pool), ActionStore(pool)
    while True:
        runs = await run_store.finished_before(cutoff, limit=batch_size)
        if not runs:
            break
        ids = [r["id"] for r in runs]
        actions = await action_store.records_for_runs(ids)
        by_run: dict[int, list[dict[str, Any]]] = {}
        for action in actions:
            by_run.setdefault(action["run_id"], []).append(dict(action))
        lines = [{"run": dict(r), "actions": by_run.get(r["id"], [])} for r in runs]
        path = archive_dir / f"runs-{ids[0]:010d}-{ids[-1]:010d}.jsonl.gz"
        await asyncio.to_thread(_write_durably, path, lines)
        count = await run_store.delete_finished(ids)
        result.runs += count
        result.actions += len(actions)
        result.files.append(path)
        log.info("retention.archived", file=str(path), runs=count, actions=len(actions))
        if len(runs) < batch_size:
            break
    return result



def next_nightly(now: datetime) -> datetime:
    """The next nightly pass after ``now`` (an aware local time)."""
    hour, minute = NIGHTLY_AT
    nightly = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return nightly if nightly > now else nightly + timedelta(days=1)


async def run_nightly(pool: asyncpg.Pool, *, settings: Callable[[], Settings]) -> None:
    """The ``retention`` task: archive every night until cancelled. ``settings`` gives
    the current settings (``retention_days`` reloads on SIGHUP)."""
    while True:
        now = datetime.now().astimezone()
        await asyncio.sleep((next_nightly(now) - now).total_seconds())
        current = settings()
        try:
            result = await archive_old_runs(pool, archive_dir=current.state_dir / "archive",
                                            retention_days=current.retention_days)
            log.info("retention.done", runs=result.runs, actions=result.actions)
            await RateLimitStore(pool).prune()  # past windows and idle buckets
        except Exception as exc:  # a full disk must not stop reconciling; try tomorrow
            log.error("retention.failed", error=f"{type(exc).__name__}: {exc}")
