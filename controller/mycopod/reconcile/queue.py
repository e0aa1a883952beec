"""The run queue: pending work for one cluster, coalesced, claimed, requeued with backoff.

Runs are rows of ``reconciliation_runs`` (every query is :class:`~mycopod.store.runs.
RunStore`'s), so the queue survives restarts and is shared by every replica; this class
is what the controller and the triggers call, in the words of controller-runtime's
workqueue:

- :meth:`RunQueue.enqueue` (``Add``) merges an automatic trigger (commit, webhook,
  drift) into an automatic run still Pending, so a burst of pushes gives one run for the
  newest commit; a manual run, or the ``api`` run of a commit submitted through the API,
  is never merged and keeps its requester;
- :meth:`RunQueue.claim` (``Get``) takes the oldest Pending run, :meth:`RunQueue.give_back`
  returns one this process may not start any more, :meth:`RunQueue.cut` marks one it was
  applying Interrupted (or Failed);
- :meth:`RunQueue.requeue_later` (``AddRateLimited``) schedules the retry of a failed run
  after the :class:`~mycopod.backoff.Backoff` delay (1 s doubling to 10 min, jitter), and
  :meth:`RunQueue.forget` (``Forget``) resets it after a success;
- :meth:`RunQueue.take_over`, at a new leader's first step, marks what a dead leader left
  running Interrupted and queues the last run again if it was cut.
"""

from __future__ import annotations

import asyncio
import time
from typing import cast

import asyncpg
import structlog

from mycopod.backoff import Backoff
from mycopod.reconcile import decisions
from mycopod.store.runs import Run, RunStore, Trigger

log = structlog.get_logger(__name__)

__all__ = ["AUTOMATIC", "RunQueue"]

AUTOMATIC = list(decisions.AUTOMATIC_TRIGGERS)


class RunQueue:
    """The Pending runs of one cluster, and the retry of the last failed one."""

    def __init__(self, pool: asyncpg.Pool, cluster: str, *,
                 wake: asyncio.Event | None = None, backoff: Backoff | None = None) -> None:
        self.pool = pool
        self.cluster = cluster
        self.runs = RunStore(pool)
        #: set whenever a run is queued (the controller waits on it)
        self.wake = wake if wake is not None else asyncio.Event()
        self.backoff = backoff or Backoff()
        self._retry_at: float | None = None
        self._retry_of: int | None = None

    # -- adding ------------------------------------------------------------------------------

    async def enqueue(self, trigger: str, *, commit_sha: str | None = None,
                      declaration_id: int | None = None,
                      requested_by: int | None = None,
                      db: asyncpg.Connection | None = None) -> int:
        """Queue a run, merging it into a queued automatic run when possible; its id."""
        runs = RunStore(db) if db is not None else self.runs
        merged = None
        if trigger in AUTOMATIC and requested_by is None:
            merged = await runs.coalesce(self.cluster, trigger, commit_sha=commit_sha,
                                         declaration_id=declaration_id, automatic=AUTOMATIC)
        if merged is None:
            run = await runs.create(trigger=cast(Trigger, trigger), cluster=self.cluster,
                                    declaration_id=declaration_id,
                                    requested_by=requested_by, commit_sha=commit_sha)
            run_id = run.id
        else:
            run_id = merged
        log.info("run.coalesced" if merged is not None else "run.queued", run_id=run_id,
                 trigger=trigger, commit=commit_sha)
        self.wake.set()
        return run_id

    async def has_run_for_commit(self, commit_sha: str, *,
                                 db: asyncpg.Connection | None = None) -> bool:
        runs = RunStore(db) if db is not None else self.runs
        return await runs.has_run_for_commit(self.cluster, commit_sha)

    async def busy(self) -> bool:
        """A run is queued, running or waiting for approval."""
        return await self.runs.busy(self.cluster)

    # -- taking ------------------------------------------------------------------------------

    async def claim(self) -> Run | None:
        """The oldest Pending run, now Planning; None when there is none."""
        return await self.runs.claim_next_pending(self.cluster)

    async def give_back(self, run_id: int) -> None:
        await self.runs.give_back(run_id)

    async def cut(self, run_id: int, reason: str, *, status: str = "Interrupted") -> None:
        """Mark a run this process was applying; logged, never raised (the database may
        be what was lost: then the next leader marks it at takeover)."""
        try:
            cut = await asyncio.wait_for(self.runs.cut(run_id, reason, status=status), 5)
        except Exception as exc:
            log.warning("run.mark_interrupted_failed", run_id=run_id, error=str(exc))
            return
        if cut:
            log.warning("run.interrupted", run_id=run_id, reason=reason)

    async def take_over(self) -> None:
        """Just became leader: runs a dead leader left running are Interrupted, and the
        last run, if it was cut (by a crash or by a stop), is queued again."""
        cut = await self.runs.mark_interrupted(self.cluster)
        if cut:
            log.warning("runs.interrupted_at_takeover", run_ids=cut)
        last = await self.runs.latest(self.cluster)
        again = decisions.requeue_at_takeover(last)
        if again is not None and last is not None:
            await self.enqueue(again.trigger, commit_sha=last.commit_sha,
                               declaration_id=last.declaration_id,
                               requested_by=again.requested_by)

    # -- retry with backoff ------------------------------------------------------------------

    def forget(self) -> None:
        """A run succeeded: the backoff starts over and no retry is pending."""
        self.backoff.success()
        self._retry_at = None

    def drop_retry(self) -> None:
        """No retry for now (a run was cancelled, or its declaration does not compile)."""
        self._retry_at = None

    def requeue_later(self, run_id: int) -> float:
        """Queue ``run_id`` again after the backoff delay; the delay."""
        delay = self.backoff.failure()
        self._retry_at = time.monotonic() + delay
        self._retry_of = run_id
        log.warning("run.retry_scheduled", failures=self.backoff.failures,
                    retry_in=round(delay, 1))
        return delay

    @property
    def failing(self) -> bool:
        """The last run failed and its retry is still ahead (drift then queues nothing)."""
        return self.backoff.failing

    def seconds_to_retry(self) -> float | None:
        """Seconds until the scheduled retry is due (<= 0: due); None when none is."""
        return None if self._retry_at is None else self._retry_at - time.monotonic()

    async def requeue_due(self) -> None:
        """Queue the due retry of the last failed run, unless something newer is queued."""
        left = self.seconds_to_retry()
        if left is None or left > 0:
            return
        self._retry_at = None
        run_id, self._retry_of = self._retry_of, None
        if run_id is None or await self.busy():
            return
        run = await self.runs.get(run_id)
        if run is None:
            return
        await self.enqueue(run.trigger, commit_sha=run.commit_sha,
                           declaration_id=run.declaration_id, requested_by=run.requested_by)
