"""The controller: takes runs off the queue, one at a time, and hands them to the engine.

It is the leader's ``run-worker`` task (controller-runtime's controller around its
workqueue; kopf's processing): the composition root (:mod:`mycopod.daemon`) starts it
when this replica takes the leader lock and cancels it when the lock is lost, so nothing
here asks who leads. At each start it takes over first (:meth:`RunQueue.take_over
<mycopod.reconcile.queue.RunQueue.take_over>`: what a dead leader left running is ours
to mark Interrupted, the lock guaranteeing it runs no more), then loops: queue the due
retry, claim the oldest Pending run, apply it, and decide what follows
(:func:`~mycopod.reconcile.decisions.after_run`): a failed run is retried with
exponential backoff (1 s to 10 min, jitter); a failed compile is not retried (the next
commit is awaited).

Runs resting as ``Waiting`` (suspended, outside a maintenance window) are looked at on
each turn of the loop and set back to Pending once :func:`mycopod.reconcile.windows.hold`
lets them apply: the window opened, the cluster was resumed, the windows changed. An
Admin's override sets one Pending at once (:mod:`mycopod.reconcile.approvals`).

A run is applied in a task of its own, so that losing the lock cuts it at once (the run
is marked Interrupted, "this replica lost the leader lock") and a stop gives it
``grace_seconds`` to finish (:meth:`Controller.finish`) before cutting it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog

from mycopod import telemetry
from mycopod.reconcile import decisions, windows
from mycopod.reconcile.hooks import NO_HOOKS, RunHooks
from mycopod.reconcile.triggers import DB_ERRORS, wait_for
from mycopod.store.declarations import DeclarationStore

if TYPE_CHECKING:
    from mycopod.config import Settings
    from mycopod.reconcile.foreground import Foreground
    from mycopod.reconcile.queue import RunQueue
    from mycopod.reconcile.reconciler import EngineContext
    from mycopod.runtime import RuntimeStatus
    from mycopod.store.runs import Run

log = structlog.get_logger(__name__)

__all__ = ["Controller"]


class Controller:
    """The leader's run worker for one cluster."""

    def __init__(self, engine: EngineContext, queue: RunQueue, *, runtime: RuntimeStatus,
                 settings: Callable[[], Settings], stopping: Callable[[], bool],
                 on_change: Callable[[], None] = lambda: None,
                 on_success: Callable[[], None] = lambda: None,
                 on_took_over: Callable[[], None] = lambda: None,
                 hooks: RunHooks = NO_HOOKS) -> None:
        self.engine = engine
        #: told of each run at rest (the forge's commit statuses)
        self.hooks = hooks
        self.queue = queue
        self.runtime = runtime
        self.settings = settings
        self.stopping = stopping
        #: the run being applied changed (the daemon's status line shows it)
        self.on_change = on_change
        #: a run succeeded (the drift ticker refreshes the report)
        self.on_success = on_success
        #: the takeover is done (the drift ticker looks at the cluster at once)
        self.on_took_over = on_took_over
        self.current_run: int | None = None
        self._current_task: asyncio.Task[Any] | None = None
        #: with several clusters: a run is foreground work (reconcile/foreground.py)
        self.foreground: Foreground | None = None
        self._lost_leadership = False

    @property
    def applying(self) -> bool:
        return self._current_task is not None

    def losing_leadership(self) -> None:
        """Called by the root just before it cancels this task: the lock is gone, so a
        run cut now is recorded as such."""
        self._lost_leadership = True

    # -- the loop ----------------------------------------------------------------------------

    async def run(self) -> None:
        self._lost_leadership = False
        await self._take_over()
        self.on_took_over()
        while not self.stopping():
            try:
                await self.queue.requeue_due()
                await self._release_waiting()
                run = await self.queue.claim()
            except DB_ERRORS as exc:
                log.warning("worker.database_error", error=f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(2.0)
                continue
            if run is None:
                delay = self.settings().apply.claim_poll_seconds
                left = self.queue.seconds_to_retry()
                if left is not None:
                    delay = min(delay, left)
                await wait_for(self.queue.wake, delay)
                self.queue.wake.clear()
                continue
            try:
                if self.stopping():
                    await self.queue.give_back(run.id)  # not ours to start any more
                    continue
                await self._apply(run)
            except DB_ERRORS as exc:
                # The database went away around the run: its outcome is recorded by
                # whoever leads once it is back (the run is marked Interrupted then).
                log.warning("worker.database_error", error=f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(2.0)

    async def _take_over(self) -> None:
        """Before claiming anything, retried until the database answers."""
        while True:
            try:
                await self.queue.take_over()
                return
            except DB_ERRORS as exc:
                log.warning("worker.database_error", error=f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(2.0)

    async def _release_waiting(self) -> None:
        """Waiting runs that may apply now go back to Pending (claimed next)."""
        waiting = await self.queue.runs.waiting(self.queue.cluster)
        if not waiting:
            return
        policy = await self.engine.refresh_policy()
        for run in waiting:
            actions = (run.plan or {}).get("actions") or []
            destructive = any(isinstance(a, dict) and a.get("destructive") for a in actions)
            try:
                held = windows.hold(suspended=policy.suspended, windows=policy.windows,
                                    destructive=destructive, now=self.engine.clock())
            except ValueError as exc:  # a window croniter cannot place: let the run go
                log.warning("run.window_error", run_id=run.id, error=str(exc))
                held = None
            if held is None and await self.queue.runs.release(run.id) is not None:
                log.info("run.released", run_id=run.id, was=run.waiting_reason)

    # -- one run -----------------------------------------------------------------------------

    async def _apply(self, run: Run) -> None:
        telemetry.bind(run_id=run.id)
        try:
            started = time.monotonic()
            log.info("run.started", trigger=run.trigger, commit=run.commit_sha)
            task = await self._execute(run)
            if task.cancelled():
                reason = decisions.cut_reason(lost_leadership=self._lost_leadership)
                await self.queue.cut(run.id, reason)
                return
            exc = task.exception()
            if exc is not None:
                log.error("run.crashed", error=f"{type(exc).__name__}: {exc}", exc_info=exc)
                await self.queue.cut(run.id, "failed: internal error "
                                     f"{type(exc).__name__}: {exc}", status="Failed")
            await self._after_run(run.id, time.monotonic() - started)
        finally:
            telemetry.unbind("run_id")

    async def _execute(self, run: Run) -> asyncio.Task[Any]:
        """The engine's pass over ``run``, in a task of its own; the finished task."""
        from mycopod.reconcile import reconciler

        async def execute() -> Any:
            if self.foreground is None:
                return await reconciler.execute_run(run, ctx=self.engine)
            async with self.foreground.work(self.queue.cluster):
                return await reconciler.execute_run(run, ctx=self.engine)

        task = asyncio.create_task(execute(), name=f"run-{run.id}")
        self.current_run, self._current_task = run.id, task
        self.on_change()
        try:
            # wait() does not cancel the run when the worker is cancelled at shutdown:
            # the grace period decides about the run itself (finish()).
            await asyncio.wait([task])
        except asyncio.CancelledError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            if self._lost_leadership:  # the root cut us: no longer the only writer
                await self.queue.cut(run.id, decisions.cut_reason(lost_leadership=True))
            raise
        finally:
            self.current_run, self._current_task = None, None
            self.on_change()
        return task

    async def _after_run(self, run_id: int, seconds: float) -> None:
        run = await self.queue.runs.get(run_id)
        if run is None:
            return
        self.hooks.run_finished(run)
        while self.engine.superseded:  # older waiting runs this one replaced: final now
            self.hooks.run_finished(self.engine.superseded.pop(0))
        log.debug("worker.run_done", status=run.status, seconds=round(seconds, 3))
        compile_failed = False
        if run.status in ("Failed", "Interrupted") and run.declaration_id is not None:
            status = await DeclarationStore(self.queue.pool).compile_status(run.declaration_id)
            compile_failed = status == "error"
        after = decisions.after_run(run.status, dry_run=run.dry_run,
                                    compile_failed=compile_failed)
        if after is decisions.AfterRun.SUCCEEDED:
            self.queue.forget()
            self.runtime.last_successful_reconcile = datetime.now(UTC)
            telemetry.LAST_SUCCESS.labels(cluster=self.queue.cluster).set(time.time())
            self.on_success()
        elif after is decisions.AfterRun.WAIT_FOR_COMMIT:
            log.info("run.compile_failed", note="waiting for the next commit")
            self.queue.drop_retry()
        elif after is decisions.AfterRun.RETRY:
            self.queue.requeue_later(run_id)
        elif after is decisions.AfterRun.DROP_RETRY:
            self.queue.drop_retry()

    async def finish(self) -> None:
        """At shutdown: let the running run finish within the grace period, or cut it."""
        task, run_id = self._current_task, self.current_run
        if task is None or task.done() or run_id is None:
            return
        grace = self.settings().apply.grace_seconds
        log.info("run.grace", run_id=run_id, seconds=grace)
        self.engine.stop_requested.set()  # start no new action
        done, _ = await asyncio.wait([task], timeout=grace)
        if not done:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self.queue.cut(run_id, decisions.cut_reason(lost_leadership=False,
                                                          grace_seconds=grace))
