"""Reconciliation actions (table ``reconciliation_actions``): one row per attempt.

A row is inserted ``Pending`` *before* the Proxmox call and finished (``Success`` or
``Error``, message, UPID, times) after it, so a process killed mid-call leaves a
Pending row behind: the attempt is never lost. Actions a guest did not reach because an
earlier one failed are recorded as ``Skipped``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel

ActionResult = Literal["Pending", "Success", "Error", "Skipped", "Conflict"]


INSERT = """
INSERT INTO reconciliation_actions (run_id, seq, kind, target, vmid, node, params,
    destructive, action_description, requested_by, result, started_at, finished_at,
    message)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11::text, NOW(),
        CASE WHEN $11::text = 'Pending' THEN NULL ELSE NOW() END, $12)
RETURNING *"""
FINISH = """
UPDATE reconciliation_actions SET result = $2, message = $3, upid = COALESCE($4, upid),
    vmid = COALESCE($5, vmid), node = COALESCE($6, node), finished_at = NOW()
WHERE id = $1
RETURNING *"""
LIST_FOR_RUN = """
SELECT * FROM reconciliation_actions WHERE run_id = $1 ORDER BY seq, id"""
PAGE_FOR_RUN = """
SELECT * FROM reconciliation_actions WHERE run_id = $1 ORDER BY seq, id LIMIT $2 OFFSET $3"""
COUNT_FOR_RUN = "SELECT count(*) FROM reconciliation_actions WHERE run_id = $1"
#: guests deleted and created in the cluster since a moment: the window budgets. An
#: attempt still Pending counts (a crash may have cut it after Proxmox acted); one that
#: failed or was skipped does not.
EXECUTED_SINCE = """
SELECT count(*) FILTER (WHERE a.kind = 'delete') AS deletions,
       count(*) FILTER (WHERE a.kind IN ('create', 'clone')) AS creates
FROM reconciliation_actions a JOIN reconciliation_runs r ON r.id = a.run_id
WHERE r.cluster = $1
  AND a.kind IN ('delete', 'create', 'clone')
  AND a.result IN ('Success', 'Pending')
  AND COALESCE(a.finished_at, a.started_at) >= NOW() - make_interval(secs => $2)"""
#: retention: the actions of a batch of runs, to archive with them
LIST_FOR_RUNS = """
SELECT * FROM reconciliation_actions WHERE run_id = ANY($1::int[]) ORDER BY run_id, seq, id"""
#: GET /guests/{name}/history and the UI's guest page: every attempt on a guest, newest
#: first, with who and why.
#: $2: the viewer's user id when they see only git-sourced runs and their own (a User),
#: NULL for everything (an Admin); as GET /reconcile/{id} shows runs.
_HISTORY_FROM = """
FROM reconciliation_actions a
JOIN reconciliation_runs r ON r.id = a.run_id
LEFT JOIN declarations d ON d.id = r.declaration_id"""
_HISTORY_WHERE = """
WHERE a.target = $1
  AND ($2::int IS NULL OR r.declaration_id IS NULL OR d.source = 'git' OR d.user_id = $2)"""
HISTORY = """
SELECT a.id AS action_id, a.run_id, a.kind, a.action_description, a.result, a.message,
       a.destructive, a.vmid, a.node, a.started_at, a.finished_at,
       r.status AS run_status, r.trigger, r.cluster, r.commit_sha,
       d.commit_author AS author,
       rq.username AS requester, ap.username AS approver, ov.username AS overridden_by""" + (
    _HISTORY_FROM) + """
LEFT JOIN users rq ON rq.id = COALESCE(a.requested_by, r.requested_by)
LEFT JOIN users ap ON ap.id = r.approved_by
LEFT JOIN users ov ON ov.id = r.override_by""" + _HISTORY_WHERE + """
ORDER BY a.id DESC LIMIT $3 OFFSET $4"""
COUNT_HISTORY = "SELECT count(*)" + _HISTORY_FROM + _HISTORY_WHERE
#: a guest name MycoPod has met: acted on, or recorded in its inventory
KNOWN_TARGET = """
SELECT EXISTS (SELECT 1 FROM reconciliation_actions WHERE target = $1)
    OR EXISTS (SELECT 1 FROM inventory WHERE name = $1)"""
COUNT_PENDING = """
SELECT count(*) FROM reconciliation_actions WHERE run_id = $1 AND result = 'Pending'"""


class ActionRow(BaseModel):
    id: int
    run_id: int
    action_description: str
    result: ActionResult
    message: str | None
    executed_at: datetime | None
    seq: int
    kind: str
    target: str
    vmid: int | None
    node: str | None
    params: dict[str, Any]
    destructive: bool
    upid: str | None
    started_at: datetime | None
    finished_at: datetime | None
    requested_by: int | None


class ActionStore:
    def __init__(self, pool: asyncpg.Pool | asyncpg.Connection) -> None:
        self.pool = pool

    async def insert_pending(self, run_id: int, *, seq: int, kind: str, target: str,
                             vmid: int | None, node: str | None, params: dict[str, Any],
                             destructive: bool, description: str,
                             requested_by: int | None = None) -> ActionRow:
        """Write the attempt before the call (result Pending, started_at now)."""
        row = await self.pool.fetchrow(INSERT, run_id, seq, kind, target, vmid, node, params,
                                       destructive, description, requested_by, "Pending",
                                       None)
        return ActionRow.model_validate(dict(row))

    async def insert_skipped(self, run_id: int, *, seq: int, kind: str, target: str,
                             vmid: int | None, node: str | None, params: dict[str, Any],
                             destructive: bool, description: str, message: str,
                             requested_by: int | None = None) -> ActionRow:
        row = await self.pool.fetchrow(INSERT, run_id, seq, kind, target, vmid, node, params,
                                       destructive, description, requested_by, "Skipped",
                                       message)
        return ActionRow.model_validate(dict(row))

    async def finish(self, action_id: int, *, result: ActionResult, message: str | None = None,
                     upid: str | None = None, vmid: int | None = None,
                     node: str | None = None) -> ActionRow:
        """Record the outcome (Success/Error), Proxmox's message and the task's UPID."""
        row = await self.pool.fetchrow(FINISH, action_id, result, message, upid, vmid, node)
        return ActionRow.model_validate(dict(row))

    async def list_for_run(self, run_id: int) -> list[ActionRow]:
        rows = await self.pool.fetch(LIST_FOR_RUN, run_id)
        return [ActionRow.model_validate(dict(r)) for r in rows]

    async def page_for_run(self, run_id: int, *, limit: int,
                           offset: int = 0) -> tuple[list[ActionRow], int]:
        """The run's actions in order, ``limit`` from ``offset``; and how many in all."""
        rows = await self.pool.fetch(PAGE_FOR_RUN, run_id, limit, offset)
        total = await self.pool.fetchval(COUNT_FOR_RUN, run_id)
        return [ActionRow.model_validate(dict(r)) for r in rows], int(total)

    async def executed_within(self, cluster: str, seconds: float) -> tuple[int, int]:
        """(deletions, creates) executed in ``cluster`` during the last ``seconds``."""
        row = await self.pool.fetchrow(EXECUTED_SINCE, cluster, float(seconds))
        assert row is not None
        return int(row["deletions"]), int(row["creates"])

    async def records_for_runs(self, run_ids: list[int]) -> list[asyncpg.Record]:
        """Every action of these runs, as records (archived as they are)."""
        return list(await self.pool.fetch(LIST_FOR_RUNS, run_ids))

    async def history(self, target: str, *, viewer: int | None, limit: int,
                      offset: int = 0) -> tuple[list[asyncpg.Record], int]:
        """Guest ``target``'s attempts, newest first, with their run's commit, author,
        requester, approver and overrider; and how many in all. ``viewer``: a User's id
        (only runs they may see), None for an Admin."""
        rows = await self.pool.fetch(HISTORY, target, viewer, limit, offset)
        total = await self.pool.fetchval(COUNT_HISTORY, target, viewer)
        return list(rows), int(total)

    async def known_target(self, target: str) -> bool:
        return bool(await self.pool.fetchval(KNOWN_TARGET, target))

    async def count_pending(self, run_id: int) -> int:
        return int(await self.pool.fetchval(COUNT_PENDING, run_id))
