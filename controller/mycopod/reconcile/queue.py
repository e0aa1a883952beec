"""The run queue's own queries: coalescing triggers, cutting and giving back runs.

Runs are rows of ``reconciliation_runs`` (the lifecycle and the plain queries are in
:mod:`mycopod.store.runs`); these are the few the controller needs on top, kept
together so the controller reads as intents:

- :func:`enqueue` merges an automatic trigger (commit, webhook, drift) into an automatic
  run still Pending, so a burst of pushes gives one run for the newest commit; a manual
  run, or the ``api`` run of a commit submitted through the API, is never merged and
  keeps its requester;
- :func:`cut` marks a run this process was applying Interrupted (or Failed);
- :func:`give_back` returns a run claimed just as this process stopped leading.
"""

from __future__ import annotations

from typing import Any, cast

import asyncpg

from mycopod.store.runs import RunStore, Trigger

__all__ = ["AUTOMATIC", "busy", "cut", "enqueue", "give_back", "has_run_for_commit",
           "status_of"]

AUTOMATIC = ["commit", "webhook", "drift"]

#: an automatic Pending run of the cluster, to merge a new trigger into
COALESCE = """
UPDATE reconciliation_runs SET trigger = $2, commit_sha = COALESCE($3, commit_sha),
    declaration_id = COALESCE($4, declaration_id), updated_at = NOW()
WHERE id = (
    SELECT id FROM reconciliation_runs
    WHERE cluster = $1 AND status = 'Pending' AND requested_by IS NULL
      AND trigger = ANY($5::text[])
    ORDER BY created_at DESC, id DESC
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING id"""
#: a run (any state) already exists for this commit: it was queued before
RUN_FOR_COMMIT = """
SELECT EXISTS (SELECT 1 FROM reconciliation_runs WHERE cluster = $1 AND commit_sha = $2)"""
#: something is queued, running or waiting for approval: a drift check adds no run
BUSY = """
SELECT EXISTS (SELECT 1 FROM reconciliation_runs
               WHERE cluster = $1
                 AND status IN ('Pending', 'Planning', 'InProgress', 'AwaitingApproval'))"""
#: a run this process was applying when it was cut
CUT_RUN = """
UPDATE reconciliation_runs SET status = $3, finished_at = NOW(), updated_at = NOW(),
    error = COALESCE(error, $2)
WHERE id = $1 AND status IN ('Planning', 'InProgress')
RETURNING id"""
#: give back a run claimed just as this process stopped leading
UNCLAIM = """
UPDATE reconciliation_runs SET status = 'Pending', started_at = NULL, updated_at = NOW()
WHERE id = $1 AND status = 'Planning'"""
RUN_STATUS = "SELECT status, error, trigger, requested_by, declaration_id, commit_sha, " \
             "dry_run FROM reconciliation_runs WHERE id = $1"


async def enqueue(pool: asyncpg.Pool | asyncpg.Connection, cluster: str, trigger: str, *,
                  commit_sha: str | None = None, declaration_id: int | None = None,
                  requested_by: int | None = None) -> tuple[int, bool]:
    """Queue a run; (its id, whether it was merged into an already queued one)."""
    if trigger in AUTOMATIC and requested_by is None:
        merged = await pool.fetchval(COALESCE, cluster, trigger, commit_sha, declaration_id,
                                     AUTOMATIC)
        if merged is not None:
            return int(merged), True
    run = await RunStore(pool).create(
        trigger=cast(Trigger, trigger), cluster=cluster, declaration_id=declaration_id,
        requested_by=requested_by, commit_sha=commit_sha)
    return run.id, False


async def has_run_for_commit(pool: asyncpg.Pool | asyncpg.Connection, cluster: str,
                             commit_sha: str) -> bool:
    return bool(await pool.fetchval(RUN_FOR_COMMIT, cluster, commit_sha))


async def busy(pool: asyncpg.Pool, cluster: str) -> bool:
    """A run is queued, running or waiting for approval."""
    return bool(await pool.fetchval(BUSY, cluster))


async def cut(pool: asyncpg.Pool, run_id: int, reason: str, *,
              status: str = "Interrupted") -> bool:
    """Mark a run that was being applied; False if it had already finished."""
    return await pool.fetchval(CUT_RUN, run_id, reason, status) is not None


async def give_back(pool: asyncpg.Pool, run_id: int) -> None:
    await pool.execute(UNCLAIM, run_id)


async def status_of(pool: asyncpg.Pool, run_id: int) -> Any:
    """status, error, trigger, requested_by, declaration_id, commit_sha, dry_run."""
    return await pool.fetchrow(RUN_STATUS, run_id)
