"""Reconciliation runs (table ``reconciliation_runs``): the run lifecycle in SQL.

Lifecycle (DESIGN.md, "Run lifecycle")::

    Pending → Planning → (AwaitingApproval) → (Waiting) → InProgress → Succeeded | Failed
    | Cancelled; + Interrupted for a run found unfinished at start-up

- A run is created ``Pending``: by the API (trigger ``manual``, ``requested_by``), the
  poller (``commit`` / ``webhook``, or ``api`` with ``requested_by`` = the submitter for
  a commit made by ``POST /declarations``) or the drift checker (``drift``).
- The leader's worker claims the oldest Pending run of its cluster with
  ``FOR UPDATE SKIP LOCKED`` (:meth:`RunStore.claim_next_pending`), which sets it
  ``Planning``; :func:`mycopod.reconcile.reconciler.execute_run` takes it from there.
- :meth:`RunStore.approve` turns an ``AwaitingApproval`` run back into ``Pending`` with
  ``approved_by``/``approved_at`` set, so the worker claims it again; the engine re-plans
  and applies destructive actions only if the approved plan covers them.
  :meth:`RunStore.reject` makes it ``Cancelled`` with ``rejected_by``.
- :meth:`RunStore.park` rests a run that may not apply now (suspended, outside its
  window) as ``Waiting`` with the reason; :meth:`RunStore.release` (the window opened,
  the cluster was resumed) and :meth:`RunStore.override` (an Admin: run it now) set it
  back to Pending. A newer automatic run that parks supersedes older automatic ones.
- :meth:`RunStore.mark_interrupted` (at start-up) turns Planning/InProgress runs of a
  cluster into ``Interrupted``.
- The run queue's own queries (:class:`mycopod.reconcile.queue.RunQueue`):
  :meth:`RunStore.coalesce` merges an automatic trigger into an automatic Pending run,
  :meth:`RunStore.cut` marks a run this process was applying, :meth:`RunStore.give_back`
  returns a run claimed just as this process stopped leading, :meth:`RunStore.busy` and
  :meth:`RunStore.has_run_for_commit` answer the triggers.
- Retention (:mod:`mycopod.retention`) reads old finished runs a batch at a time
  (:meth:`RunStore.finished_before`) and deletes them once archived
  (:meth:`RunStore.delete_finished`).

``list_runs`` pages with a keyset on ``(created_at DESC, id DESC)``; the cursor is an
opaque string.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel

from mycopod.errors import MycoPodError
from mycopod.store import wakeups

RunStatus = Literal["Pending", "Planning", "AwaitingApproval", "Waiting", "InProgress",
                    "Succeeded", "Failed", "Cancelled", "Interrupted"]
#: ``api``: the run of a commit made by POST /declarations (``requested_by`` = its submitter)
Trigger = Literal["commit", "webhook", "drift", "manual", "api"]
TERMINAL = frozenset({"Succeeded", "Failed", "Cancelled", "Interrupted"})
STATUSES: tuple[str, ...] = ("Pending", "Planning", "AwaitingApproval", "Waiting",
                             "InProgress", "Succeeded", "Failed", "Cancelled", "Interrupted")


INSERT = """
INSERT INTO reconciliation_runs (trigger, cluster, declaration_id, requested_by, commit_sha,
                                 dry_run)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING *"""
SELECT = "SELECT * FROM reconciliation_runs WHERE id = $1"
CLAIM_NEXT = """
UPDATE reconciliation_runs SET status = 'Planning', started_at = NOW(), finished_at = NULL,
    updated_at = NOW()
WHERE id = (
    SELECT id FROM reconciliation_runs
    WHERE cluster = $1 AND status = 'Pending'
    ORDER BY created_at, id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING *"""
CLAIM = """
UPDATE reconciliation_runs SET status = 'Planning', started_at = NOW(), finished_at = NULL,
    updated_at = NOW()
WHERE id = $1 AND status = 'Pending'
RETURNING *"""
SET_STATUS = """
UPDATE reconciliation_runs SET
    status = $2,
    error = $3,
    summary = COALESCE($4::jsonb, summary),
    finished_at = CASE WHEN $5 THEN NOW() ELSE finished_at END,
    updated_at = NOW()
WHERE id = $1
RETURNING *"""
SAVE_PLAN = """
UPDATE reconciliation_runs SET plan = $2::jsonb, summary = COALESCE($3::jsonb, summary),
    declaration_id = COALESCE($4, declaration_id), commit_sha = COALESCE($5, commit_sha),
    updated_at = NOW()
WHERE id = $1
RETURNING *"""
CLEAR_APPROVAL = """
UPDATE reconciliation_runs SET approved_by = NULL, approved_at = NULL, updated_at = NOW()
WHERE id = $1"""
APPROVE = """
UPDATE reconciliation_runs SET status = 'Pending', approved_by = $2, approved_at = NOW(),
    updated_at = NOW()
WHERE id = $1 AND status = 'AwaitingApproval'
RETURNING *"""
REJECT = """
UPDATE reconciliation_runs SET status = 'Cancelled', rejected_by = $2, finished_at = NOW(),
    error = 'rejected', updated_at = NOW()
WHERE id = $1 AND status = 'AwaitingApproval'
RETURNING *"""
MARK_INTERRUPTED = """
UPDATE reconciliation_runs SET status = 'Interrupted', finished_at = NOW(), updated_at = NOW(),
    error = COALESCE(error, 'interrupted: the controller stopped before the run finished')
WHERE cluster = $1 AND status IN ('Planning', 'InProgress')
RETURNING id"""
LIST = """
SELECT id, declaration_id, requested_by, status, started_at, finished_at, trigger,
    cluster, commit_sha, dry_run, NULL::jsonb AS plan, NULL::jsonb AS summary, error,
    approved_by, approved_at, rejected_by, waiting_reason, wait_until, override_by,
    override_at, created_at, updated_at FROM reconciliation_runs
WHERE ($1::text IS NULL OR status = $1)
  AND ($2::text IS NULL OR trigger = $2) AND ($7::text IS NULL OR cluster = $7)
  AND ($3::timestamptz IS NULL OR created_at >= $3)
  AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5))
ORDER BY created_at DESC, id DESC
LIMIT $6"""
COUNT_BY_STATUS = """
SELECT status, count(*) AS n FROM reconciliation_runs
WHERE ($1::text IS NULL OR cluster = $1)
GROUP BY status"""
LATEST = """
SELECT * FROM reconciliation_runs
WHERE cluster = $1 AND ($2::text IS NULL OR status = $2)
ORDER BY created_at DESC, id DESC LIMIT 1"""
#: the runs of some commits, newest first (the UI's commit history)
FOR_COMMITS = """
SELECT id, status, trigger, commit_sha, created_at FROM reconciliation_runs
WHERE commit_sha = ANY($1::text[])
ORDER BY created_at DESC, id DESC LIMIT $2"""
#: the newest run holding a guest report: its id and version, then (when not cached) the
#: report itself
LATEST_REPORT = """
SELECT id, updated_at FROM reconciliation_runs WHERE summary ? 'guests'
    AND ($1::text IS NULL OR cluster = $1)
ORDER BY created_at DESC, id DESC LIMIT 1"""
SUMMARY = "SELECT summary FROM reconciliation_runs WHERE id = $1"
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
                 AND status IN ('Pending', 'Planning', 'InProgress', 'AwaitingApproval',
                                'Waiting'))"""
#: a run that may not apply now rests, with why and until when
PARK = """
UPDATE reconciliation_runs SET status = 'Waiting', waiting_reason = $2, wait_until = $3,
    updated_at = NOW()
WHERE id = $1
RETURNING *"""
#: older automatic runs waiting for the same window: the newer commit's run replaces them
SUPERSEDE = """
UPDATE reconciliation_runs SET status = 'Cancelled', finished_at = NOW(), updated_at = NOW(),
    error = 'superseded by ' || COALESCE(left($4::text, 12) || ' (run ' || $2::int || ')',
                                         'run ' || $2::int) || ', which waits instead'
WHERE cluster = $1 AND status = 'Waiting' AND id < $2 AND requested_by IS NULL
  AND trigger = ANY($3::text[])
RETURNING *"""
WAITING = """
SELECT * FROM reconciliation_runs WHERE cluster = $1 AND status = 'Waiting'
ORDER BY created_at, id"""
RELEASE = """
UPDATE reconciliation_runs SET status = 'Pending', waiting_reason = NULL, wait_until = NULL,
    updated_at = NOW()
WHERE id = $1 AND status = 'Waiting'
RETURNING *"""
OVERRIDE = """
UPDATE reconciliation_runs SET status = 'Pending', override_by = $2, override_at = NOW(),
    updated_at = NOW()
WHERE id = $1 AND status = 'Waiting'
RETURNING *"""
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
#: retention: finished runs created before a moment, oldest first, a batch at a time
SELECT_FINISHED_BEFORE = """
SELECT * FROM reconciliation_runs
WHERE created_at < $1 AND status = ANY($2::text[])
ORDER BY id
LIMIT $3
"""
DELETE_FINISHED = """
DELETE FROM reconciliation_runs WHERE id = ANY($1::int[]) AND status = ANY($2::text[])
"""


class Run(BaseModel):
    id: int
    declaration_id: int | None
    requested_by: int | None
    status: RunStatus
    started_at: datetime | None
    finished_at: datetime | None
    trigger: Trigger
    cluster: str
    commit_sha: str | None
    dry_run: bool
    plan: dict[str, Any] | None
    summary: dict[str, Any] | None
    error: str | None
    approved_by: int | None
    approved_at: datetime | None
    rejected_by: int | None
    waiting_reason: str | None = None
    wait_until: datetime | None = None
    override_by: int | None = None
    override_at: datetime | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL


class InvalidCursor(MycoPodError):
    """A ``cursor`` that this store did not produce."""


def encode_cursor(created_at: datetime, run_id: int) -> str:
    raw = f"{created_at.isoformat()}|{run_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        stamp, _, run_id = text.rpartition("|")
        return datetime.fromisoformat(stamp), int(run_id)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidCursor("invalid cursor; use the next_cursor of a previous page") from None


def _run(row: asyncpg.Record | None) -> Run | None:
    return Run.model_validate(dict(row)) if row is not None else None


class RunStore:
    """One method per query on ``reconciliation_runs``; takes a pool or a connection."""

    def __init__(self, pool: asyncpg.Pool | asyncpg.Connection) -> None:
        self.pool = pool

    async def create(self, *, trigger: Trigger, cluster: str = "default",
                     declaration_id: int | None = None, requested_by: int | None = None,
                     commit_sha: str | None = None, dry_run: bool = False) -> Run:
        row = await self.pool.fetchrow(INSERT, trigger, cluster, declaration_id,
                                       requested_by, commit_sha, dry_run)
        run = _run(row)
        assert run is not None
        await wakeups.notify(self.pool, wakeups.RECONCILE, cluster)  # the leader claims it
        return run

    async def get(self, run_id: int) -> Run | None:
        return _run(await self.pool.fetchrow(SELECT, run_id))

    async def claim_next_pending(self, cluster: str) -> Run | None:
        """The oldest Pending run of ``cluster``, now Planning; None when there is none."""
        return _run(await self.pool.fetchrow(CLAIM_NEXT, cluster))

    async def claim(self, run_id: int) -> Run | None:
        """This Pending run, now Planning (a one-shot reconcile claims its own run)."""
        return _run(await self.pool.fetchrow(CLAIM, run_id))

    async def set_status(self, run_id: int, status: RunStatus, *, error: str | None = None,
                         summary: dict[str, Any] | None = None) -> Run | None:
        return _run(await self.pool.fetchrow(SET_STATUS, run_id, status, error, summary,
                                             status in TERMINAL))

    async def save_plan(self, run_id: int, plan: dict[str, Any], *,
                        summary: dict[str, Any] | None = None,
                        declaration_id: int | None = None,
                        commit_sha: str | None = None) -> Run | None:
        return _run(await self.pool.fetchrow(SAVE_PLAN, run_id, plan, summary,
                                             declaration_id, commit_sha))

    async def clear_approval(self, run_id: int) -> None:
        await self.pool.execute(CLEAR_APPROVAL, run_id)

    async def approve(self, run_id: int, user_id: int | None) -> Run | None:
        """AwaitingApproval → Pending with approved_by; None if the run was not waiting."""
        run = _run(await self.pool.fetchrow(APPROVE, run_id, user_id))
        if run is not None:
            await wakeups.notify(self.pool, wakeups.RECONCILE, run.cluster)
        return run

    async def reject(self, run_id: int, user_id: int | None) -> Run | None:
        """AwaitingApproval → Cancelled with rejected_by; None if the run was not waiting."""
        return _run(await self.pool.fetchrow(REJECT, run_id, user_id))

    # -- waiting for a window or a resume (mycopod.reconcile.windows) -------------------

    async def park(self, run_id: int, reason: str, *, until: datetime | None,
                   supersede: list[str], superseded: list[Run] | None = None) -> Run | None:
        """The run rests as Waiting; older Waiting runs of the ``supersede`` triggers
        (automatic, nobody's request) are cancelled in its favour ("superseded by
        <commit> (run N)"), and appended to ``superseded`` when it is given."""
        async def both(conn: asyncpg.Connection) -> Run | None:
            # one transaction: nobody sees the new run waiting beside the old one
            async with conn.transaction():
                run = _run(await conn.fetchrow(PARK, run_id, reason, until))
                if run is None or run.requested_by is not None or run.trigger not in supersede:
                    return run
                rows = await conn.fetch(SUPERSEDE, run.cluster, run_id, supersede,
                                        run.commit_sha)
            if superseded is not None:
                superseded.extend(Run.model_validate(dict(r)) for r in rows)
            return run

        if isinstance(self.pool, asyncpg.Pool):
            async with self.pool.acquire() as conn:
                return await both(conn)
        return await both(self.pool)

    async def waiting(self, cluster: str) -> list[Run]:
        return [Run.model_validate(dict(r)) for r in await self.pool.fetch(WAITING, cluster)]

    async def release(self, run_id: int) -> Run | None:
        """Waiting → Pending (it may apply now); None if it was not waiting."""
        return _run(await self.pool.fetchrow(RELEASE, run_id))

    async def override(self, run_id: int, user_id: int | None) -> Run | None:
        """Waiting → Pending with override_by: applied whatever the windows say."""
        run = _run(await self.pool.fetchrow(OVERRIDE, run_id, user_id))
        if run is not None:
            await wakeups.notify(self.pool, wakeups.RECONCILE, run.cluster)
        return run

    async def mark_interrupted(self, cluster: str) -> list[int]:
        """At start-up: Planning/InProgress runs of ``cluster`` become Interrupted."""
        rows = await self.pool.fetch(MARK_INTERRUPTED, cluster)
        return [int(r["id"]) for r in rows]

    async def list_runs(self, *, status: str | None = None, trigger: str | None = None,
                        since: datetime | None = None, limit: int = 50, cursor: str | None = None,
                        cluster: str | None = None) -> tuple[list[Run], str | None]:
        """Newest first, without ``plan``/``summary`` (of ``cluster``, else all); returns
        (rows, next_cursor)."""
        rows, next_cursor = await self.list_rows(status=status, trigger=trigger, since=since,
                                                 limit=limit, cursor=cursor, cluster=cluster)
        return [Run.model_validate(dict(r)) for r in rows], next_cursor

    async def counts_by_status(self, cluster: str | None = None) -> dict[str, int]:
        rows = await self.pool.fetch(COUNT_BY_STATUS, cluster)
        counts = dict.fromkeys(STATUSES, 0)
        counts.update({str(r["status"]): int(r["n"]) for r in rows})
        return counts

    async def latest(self, cluster: str, *, status: str | None = None) -> Run | None:
        return _run(await self.pool.fetchrow(LATEST, cluster, status))

    async def for_commits(self, shas: list[str], *, limit: int = 500) -> list[asyncpg.Record]:
        """Runs of these commits (id, status, trigger, commit_sha, created_at), newest
        first, at most ``limit``."""
        return list(await self.pool.fetch(FOR_COMMITS, shas, limit))

    async def latest_report_version(self, cluster: str | None = None
                                    ) -> tuple[int, datetime] | None:
        """(id, updated_at) of the newest run (of ``cluster``) with a guest report."""
        row = await self.pool.fetchrow(LATEST_REPORT, cluster)
        return (int(row["id"]), row["updated_at"]) if row is not None else None

    async def summary(self, run_id: int) -> dict[str, Any] | None:
        value = await self.pool.fetchval(SUMMARY, run_id)
        return dict(value) if isinstance(value, dict) else None

    # GET /logs takes the records as they are: the API validates the whole page once
    # against its response model, so validating each row into a Run first would only
    # double the work on its busiest read.

    async def list_rows(self, *, status: str | None = None, trigger: str | None = None,
                        since: datetime | None = None, limit: int = 50, cursor: str | None = None,
                        cluster: str | None = None) -> tuple[list[asyncpg.Record], str | None]:
        """Like :meth:`list_runs`, returning records; raises InvalidCursor."""
        after_at, after_id = decode_cursor(cursor) if cursor else (None, None)
        limit = max(1, min(limit, 1000))
        rows = await self.pool.fetch(LIST, status, trigger, since, after_at, after_id,
                                     limit + 1, cluster)
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = encode_cursor(last["created_at"], last["id"])
        return list(rows[:limit]), next_cursor

    # -- the run queue's queries (mycopod.reconcile.queue) ---------------------------------

    async def coalesce(self, cluster: str, trigger: str, *, commit_sha: str | None,
                       declaration_id: int | None, automatic: list[str]) -> int | None:
        """Merge into the newest automatic Pending run; its id, or None if there is none."""
        merged = await self.pool.fetchval(COALESCE, cluster, trigger, commit_sha,
                                          declaration_id, automatic)
        return int(merged) if merged is not None else None

    async def has_run_for_commit(self, cluster: str, commit_sha: str) -> bool:
        return bool(await self.pool.fetchval(RUN_FOR_COMMIT, cluster, commit_sha))

    async def busy(self, cluster: str) -> bool:
        """A run is queued, running or waiting for approval."""
        return bool(await self.pool.fetchval(BUSY, cluster))

    async def cut(self, run_id: int, reason: str, *, status: str = "Interrupted") -> bool:
        """Mark a run that was being applied; False if it had already finished."""
        return await self.pool.fetchval(CUT_RUN, run_id, reason, status) is not None

    async def give_back(self, run_id: int) -> None:
        """Planning → Pending: a run claimed that this process may not start any more."""
        await self.pool.execute(UNCLAIM, run_id)

    # -- retention (mycopod.retention) -----------------------------------------------------

    async def finished_before(self, cutoff: datetime, *, limit: int) -> list[asyncpg.Record]:
        """Finished runs created before ``cutoff``, oldest first, as records (every column
        is archived as it is)."""
        return list(await self.pool.fetch(SELECT_FINISHED_BEFORE, cutoff, sorted(TERMINAL),
                                          limit))

    async def delete_finished(self, run_ids: list[int]) -> int:
        """Delete these runs if they are finished (their actions go with them); how many."""
        deleted = await self.pool.execute(DELETE_FINISHED, run_ids, sorted(TERMINAL))
        return int(deleted.split()[-1])
