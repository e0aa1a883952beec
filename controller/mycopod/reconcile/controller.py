"""The controller: the long-running process behind ``mycopod run``.

One asyncio loop runs a handful of named, guarded tasks (see
:class:`~mycopod.reconcile.supervision.TaskGroup`); a task that dies unexpectedly stops
the daemon with a failure, and systemd restarts it:

- ``database-supervisor``: checks every ``database.check_seconds`` that the database
  takes new connections (what ``/health`` reports) and restarts the embedded one, with
  backoff, when its postmaster died or was told to stop. The pool reconnects and the
  election takes the lock again by themselves; the run the outage cut is marked
  Interrupted by the next leader and queued again.
- ``leader-election``: holds this cluster's PostgreSQL advisory lock, or tries to get it
  every few seconds. Only the leader reconciles; every replica serves the API.
- ``repo-poller``: fetches the declarations repository every ``poll_seconds`` and at
  once on a webhook; a new head is compiled and queued as a run (``commit`` or
  ``webhook``; ``api``, requested by its submitter, for a commit POST /declarations
  made).
- ``drift-checker``: a cheap observe every ``drift_seconds`` (one
  ``/cluster/resources``), a full one every ``resync_seconds``; drift on owned guests
  queues a ``drift`` run when ``self_heal`` is on, and is only reported otherwise.
- ``run-worker``: claims the oldest Pending run of the cluster and hands it to the
  engine, one at a time. A failed run is retried with exponential backoff (1 s to
  10 min, jitter); a failed compile is not retried (the next commit is awaited).
- ``api``: the aiohttp application, embedded in this loop.
- ``retention``: archives old runs nightly.
- ``watchdog``: ``WATCHDOG=1`` to systemd at half ``WatchdogSec``.

Triggers coalesce in the database: an automatic trigger finding an automatic run still
Pending updates that run to the newest commit instead of queueing another, so a burst of
pushes gives one run. A manual run is never merged: it keeps its requester.

Signals only set flags. SIGTERM/SIGINT: stop taking work, give the running run
``grace_seconds`` to finish, cut it (marked Interrupted) if it does not, close
everything, exit 0. SIGHUP: reload the settings that can change safely and log what
changed.
"""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog

from mycopod import telemetry
from mycopod.config import Settings, load_settings
from mycopod.reconcile import queue, wiring
from mycopod.reconcile.supervision import (
    Backoff,
    DatabaseSupervisor,
    LeaderElection,
    TaskGroup,
)
from mycopod.runtime import RuntimeStatus
from mycopod.sdnotify import Notifier
from mycopod.store import db
from mycopod.store.db import Database
from mycopod.store.runs import Run, RunStore

if TYPE_CHECKING:
    from mycopod.declarations.source import GitSource
    from mycopod.declarations.workers import CompileWorkers
    from mycopod.reconcile.engine import EngineContext

log = structlog.get_logger(__name__)

__all__ = ["Controller", "reload_changes"]

#: database trouble a loop rides out (retrying) instead of dying
DB_ERRORS: tuple[type[BaseException], ...] = (OSError, TimeoutError, asyncpg.PostgresError,
                                              asyncpg.InterfaceError)

#: settings a SIGHUP may change (the rest needs a restart)
RELOADABLE: dict[str, tuple[str, ...]] = {
    "policy": (),  # the whole group
    "apply": ("drift_seconds", "resync_seconds", "grace_seconds", "max_parallel",
              "per_node_parallel", "task_timeout_seconds"),
    "declarations": ("poll_seconds",),
    "logging": ("level",),
    "": ("retention_days",),
}


def reload_changes(old: Settings, new: Settings) -> tuple[dict[str, tuple[Any, Any]], list[str]]:
    """(safe changes ``{"group.key": (old, new)}``, keys that changed but need a restart)."""
    safe: dict[str, tuple[Any, Any]] = {}
    unsafe: list[str] = []
    old_data = old.model_dump()
    new_data = new.model_dump()
    for group, value in new_data.items():
        if isinstance(value, dict):
            for key, new_value in value.items():
                old_value = old_data[group].get(key)
                if old_value == new_value:
                    continue
                allowed = RELOADABLE.get(group)
                if allowed is not None and (not allowed or key in allowed):
                    safe[f"{group}.{key}"] = (old_value, new_value)
                else:
                    unsafe.append(f"{group}.{key}")
        elif old_data[group] != value:
            if group in RELOADABLE[""]:
                safe[group] = (old_data[group], value)
            else:
                unsafe.append(group)
    return safe, unsafe


def _secretish(key: str) -> bool:
    return bool(telemetry.SECRET_KEY_RE.search(key))


class Controller:
    """The daemon's tasks around one database and one Proxmox cluster."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        config_path: str | None = None,
        notifier: Notifier | None = None,
        runtime: RuntimeStatus | None = None,
        leader_check_seconds: float = 3.0,
        install_signals: bool = True,
    ) -> None:
        self.settings = settings
        self.database = database
        self.pool = database.pool
        self.config_path = config_path
        self.notifier = notifier or Notifier()
        self.cluster = settings.proxmox.cluster
        self.runtime = runtime or RuntimeStatus(cluster=self.cluster)
        self.runtime.cluster = self.cluster
        self.install_signals = install_signals
        self.tasks = TaskGroup(self._task_died, is_stopping=lambda: self._stop.is_set())
        password = settings.database.password
        self.election = LeaderElection(
            database.url, cluster=self.cluster,
            password=password.get_secret_value() if password else None,
            check_seconds=leader_check_seconds, on_change=self._leadership_changed)
        checks = settings.database
        self.runtime.database = db.ConnectivityCheck(
            database.url, password=password.get_secret_value() if password else None,
            timeout=checks.check_timeout, max_age=min(1.0, checks.check_seconds))
        self.database_supervisor = DatabaseSupervisor(
            self.runtime.database, check_seconds=checks.check_seconds,
            restart=(lambda: db.restart_embedded(database)) if database.embedded else None,
            after_restart=self.pool.expire_connections,
            restart_max_seconds=checks.restart_max_seconds)
        self.backoff = Backoff()
        self.exit_code = 0
        self._stop = asyncio.Event()
        self._reload = asyncio.Event()
        self._wake_drift = asyncio.Event()
        #: the next drift check only refreshes the report (set after a successful run,
        #: so the status page shows the new state at once without queueing another run)
        self._report_only = False
        self._lost_leadership = asyncio.Event()
        self._poll_now = False
        self._retry_at: float | None = None
        self._retry_of: int | None = None
        self._current_run: int | None = None
        self._current_task: asyncio.Task[Any] | None = None
        self._status_line = "starting"
        self.engine: EngineContext | None = None  # when Proxmox is set
        self.source: GitSource | None = None  # when a repo is set
        #: compile processes (opened in _open), shared by the poller and the API
        self.compilers: CompileWorkers | None = None
        self._api_runner: Any = None

    # -- flags (the only things signal handlers touch) --------------------------------------

    def request_stop(self) -> None:
        self._stop.set()

    def request_reload(self) -> None:
        self._reload.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _task_died(self, name: str, exc: BaseException | None) -> None:
        self.exit_code = 1
        self._stop.set()

    def _leadership_changed(self, leader: bool) -> None:
        self.runtime.leader = leader
        if leader:
            # Look at the repository now rather than at the next poll (not a webhook).
            self._poll_now = True
            self.runtime.wake_fetch.set()
        else:
            # Stop applying at once: a replica that lost its session lock may no longer
            # be the only one touching the cluster.
            self._lost_leadership.set()
            task = self._current_task
            if task is not None and not task.done():
                task.cancel()
        self._set_status()

    def _set_status(self, extra: str | None = None) -> None:
        role = "leader" if self.election.leader else "standby"
        parts = [role, f"cluster {self.cluster}"]
        if self._current_run is not None:
            parts.append(f"applying run {self._current_run}")
        if self.runtime.repo_head:
            parts.append(f"commit {self.runtime.repo_head[:10]}")
        if extra:
            parts.append(extra)
        line = "; ".join(parts)
        if line != self._status_line:
            self._status_line = line
            self.notifier.status(line)

    # -- main --------------------------------------------------------------------------------

    async def run(self) -> int:
        """Run until SIGTERM/SIGINT (exit code 0) or a task dies (exit code 1)."""
        loop = asyncio.get_running_loop()
        if self.install_signals:
            loop.add_signal_handler(signal.SIGTERM, self.request_stop)
            loop.add_signal_handler(signal.SIGINT, self.request_stop)
            loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        try:
            await self._open()
            self.tasks.spawn("database-supervisor", self.database_supervisor.run())
            self.tasks.spawn("leader-election", self.election.run())
            self.tasks.spawn("api", self._api_task())
            self.tasks.spawn("run-worker", self._worker())
            self.tasks.spawn("repo-poller", self._poller())
            self.tasks.spawn("drift-checker", self._drift_checker())
            self.tasks.spawn("retention", self._retention())
            self.tasks.spawn("reloader", self._reloader())
            if self.notifier.watchdog_interval:
                self.tasks.spawn("watchdog", self._watchdog())
            if self.engine is None:
                self._ready("no Proxmox cluster configured")
            log.info("controller.started", cluster=self.cluster, tasks=self.tasks.names())
            await self._stop.wait()
            log.info("controller.stopping", exit_code=self.exit_code)
            self.notifier.stopping("stopping: finishing the running action")
            await self._finish_current_run()
        finally:
            await self.tasks.cancel_all()
            await self._close()
            if self.install_signals:
                for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                    loop.remove_signal_handler(sig)
        log.info("controller.stopped", exit_code=self.exit_code)
        return self.exit_code

    def _ready(self, status: str) -> None:
        if not self.notifier.ready_sent:
            self.notifier.ready(status)
            self._status_line = status
            log.info("controller.ready", status=status)

    # -- resources ---------------------------------------------------------------------------

    async def _open(self) -> None:
        self.engine = await wiring.engine_context(self.settings, self.pool,
                                                  runtime=self.runtime)
        self.source = await wiring.declarations_source(self.settings)
        self.compilers = wiring.compile_workers(self.settings)
        last = await RunStore(self.pool).latest(self.cluster, status="Succeeded")
        if last is not None and last.finished_at is not None:
            self.runtime.last_successful_reconcile = last.finished_at
            telemetry.LAST_SUCCESS.set(last.finished_at.timestamp())

    async def _close(self) -> None:
        runner, self._api_runner = self._api_runner, None
        if runner is not None:
            await runner.cleanup()
        await self.election.release()
        await wiring.close_engine_context(self.engine)
        compilers, self.compilers = self.compilers, None
        if compilers is not None:
            await compilers.close()

    # -- API ---------------------------------------------------------------------------------

    async def _api_task(self) -> None:
        self._api_runner = await wiring.start_api(self.settings, self.pool,
                                                  runtime=self.runtime, source=self.source,
                                                  compilers=self.compilers)
        await asyncio.Event().wait()  # serve until cancelled

    # -- run worker --------------------------------------------------------------------------

    async def _wait(self, event: asyncio.Event, seconds: float) -> bool:
        """Wait for ``event`` (or stop) at most ``seconds``; True if it was set."""
        waiters = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(self._stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=max(0.0, seconds),
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return event.is_set()

    async def _worker(self) -> None:
        runs = RunStore(self.pool)
        leading = False
        while not self.stopping:
            if not self.election.leader or self.engine is None:
                leading = False
                self.election.changed.clear()
                await self._wait(self.election.changed, 1.0)
                continue
            try:
                if not leading:
                    # Before claiming anything: what a dead leader left running is ours
                    # to mark Interrupted (the lock guarantees it is not running anymore).
                    await self._on_leadership()
                    leading = True
                if self._retry_at is not None and time.monotonic() >= self._retry_at:
                    await self._queue_retry()
                run = await runs.claim_next_pending(self.cluster)
            except DB_ERRORS as exc:
                log.warning("worker.database_error", error=f"{type(exc).__name__}: {exc}")
                await self._wait(asyncio.Event(), 2.0)
                continue
            if run is None:
                delay = 1.0
                if self._retry_at is not None:
                    delay = min(delay, self._retry_at - time.monotonic())
                await self._wait(self.runtime.wake_reconcile, delay)
                self.runtime.wake_reconcile.clear()
                continue
            try:
                if self.stopping or not self.election.leader:
                    await queue.give_back(self.pool, run.id)  # not ours to start any more
                    continue
                await self._apply(run)
            except DB_ERRORS as exc:
                # The database went away around the run: its outcome is recorded by
                # whoever leads once it is back (the run is marked Interrupted then).
                log.warning("worker.database_error", error=f"{type(exc).__name__}: {exc}")
                await self._wait(asyncio.Event(), 2.0)

    async def _apply(self, run: Run) -> None:
        self._lost_leadership.clear()
        self._current_run = run.id
        self._set_status()
        telemetry.bind(run_id=run.id)
        started = time.monotonic()
        log.info("run.started", trigger=run.trigger, commit=run.commit_sha)
        assert self.engine is not None  # the worker claims runs only with an engine
        task = asyncio.create_task(wiring.execute_run(self.engine, run), name=f"run-{run.id}")
        self._current_task = task
        try:
            # wait() does not cancel the run when the worker is cancelled: shutdown
            # decides about the run itself (grace period), in _finish_current_run.
            await asyncio.wait([task])
        except asyncio.CancelledError:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise
        finally:
            self._current_task = None
            self._current_run = None
        try:
            if task.cancelled():
                reason = ("interrupted: this replica lost the leader lock"
                          if self._lost_leadership.is_set() else
                          "interrupted: the controller was stopped")
                await self._mark_cut(run.id, reason)
            elif task.exception() is not None:
                exc = task.exception()
                log.error("run.crashed", error=f"{type(exc).__name__}: {exc}", exc_info=exc)
                await self._mark_cut(run.id, "failed: internal error "
                                     f"{type(exc).__name__}: {exc}", status="Failed")
                await self._after_run(run.id, time.monotonic() - started)
            else:
                await self._after_run(run.id, time.monotonic() - started)
        finally:
            telemetry.unbind("run_id")
            self._set_status()

    async def _after_run(self, run_id: int, seconds: float) -> None:
        row = await queue.status_of(self.pool, run_id)
        if row is None:
            return
        status = row["status"]
        log.debug("worker.run_done", status=status, seconds=round(seconds, 3))
        if status == "Succeeded":
            self.backoff.success()
            self._retry_at = None
            self.runtime.last_successful_reconcile = datetime.now(UTC)
            telemetry.LAST_SUCCESS.set(time.time())
            self._report_only = True
            self._wake_drift.set()
        elif status in ("Failed", "Interrupted") and not row["dry_run"]:
            if await wiring.compile_failed(self.pool, row):
                log.info("run.compile_failed", note="waiting for the next commit")
                self._retry_at = None
                return
            delay = self.backoff.failure()
            self._retry_at = time.monotonic() + delay
            self._retry_of = run_id
            log.warning("run.retry_scheduled", failures=self.backoff.failures,
                        retry_in=round(delay, 1))
        elif status in ("Cancelled",):
            self._retry_at = None

    async def _queue_retry(self) -> None:
        """Queue the retry of the last failed run, unless something newer is queued."""
        self._retry_at = None
        run_id, self._retry_of = self._retry_of, None
        if run_id is None or await queue.busy(self.pool, self.cluster):
            return
        row = await queue.status_of(self.pool, run_id)
        if row is None:
            return
        await self.enqueue(row["trigger"], commit_sha=row["commit_sha"],
                           declaration_id=row["declaration_id"],
                           requested_by=row["requested_by"])

    async def _mark_cut(self, run_id: int, reason: str, *, status: str = "Interrupted") -> None:
        try:
            cut = await asyncio.wait_for(queue.cut(self.pool, run_id, reason, status=status), 5)
        except Exception as exc:  # the database may be what we lost; the next leader marks it
            log.warning("run.mark_interrupted_failed", run_id=run_id, error=str(exc))
            return
        if cut:
            log.warning("run.interrupted", run_id=run_id, reason=reason)

    async def _finish_current_run(self) -> None:
        """At shutdown: let the running run finish within the grace period, or cut it."""
        task = self._current_task
        run_id = self._current_run
        if task is None or task.done() or run_id is None:
            return
        grace = self.settings.apply.grace_seconds
        log.info("run.grace", run_id=run_id, seconds=grace)
        wiring.request_engine_stop(self.engine)
        done, _ = await asyncio.wait([task], timeout=grace)
        if not done:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self._mark_cut(run_id, "interrupted: the controller was stopped "
                             f"(grace period {grace:g}s)")

    # -- queueing ----------------------------------------------------------------------------

    async def enqueue(self, trigger: str, *, commit_sha: str | None = None,
                      declaration_id: int | None = None,
                      requested_by: int | None = None,
                      db: asyncpg.Connection | None = None) -> int:
        """Queue a run, merging it into a queued automatic run when possible."""
        run_id, merged = await queue.enqueue(
            db or self.pool, self.cluster, trigger, commit_sha=commit_sha,
            declaration_id=declaration_id, requested_by=requested_by)
        log.info("run.coalesced" if merged else "run.queued", run_id=run_id, trigger=trigger,
                 commit=commit_sha)
        self.runtime.wake_reconcile.set()
        return run_id

    async def _on_leadership(self) -> None:
        """Just became leader: runs a dead leader left running are Interrupted, and the
        last run, if it was cut (by a crash or by a stop), is queued again."""
        runs = RunStore(self.pool)
        cut = await runs.mark_interrupted(self.cluster)
        if cut:
            log.warning("runs.interrupted_at_takeover", run_ids=cut)
        last = await runs.latest(self.cluster)
        if last is not None and last.status == "Interrupted" and not last.dry_run:
            await self.enqueue("drift" if last.trigger == "manual" else last.trigger,
                               commit_sha=last.commit_sha,
                               declaration_id=last.declaration_id,
                               requested_by=last.requested_by if last.trigger == "api"
                               else None)
        self._wake_drift.set()

    # -- repo poller -------------------------------------------------------------------------

    async def _poller(self) -> None:
        handled: str | None = None  # the last head compiled by this process
        while not self.stopping:
            if self.source is None:
                await self._wait(asyncio.Event(), 3600)
                continue
            webhook = self.runtime.wake_fetch.is_set() and not self._poll_now
            self._poll_now = False
            self.runtime.wake_fetch.clear()
            try:
                head = await wiring.fetch(self.source)
                self.runtime.repo_head = head
                self.runtime.repo_last_fetch = datetime.now(UTC)
                self.runtime.repo_error = None
                telemetry.DECLARATIONS_INFO.info({"commit": head or ""})
            except Exception as exc:  # an unreachable remote: keep the last good head
                self.runtime.repo_error = str(exc)
                head = None
            if (head and head != handled and self.election.leader
                    and self.engine is not None):
                try:
                    # Under the submission lock: a commit POST /declarations pushed is
                    # recorded as its submitter's before the poller can look at it.
                    async with wiring.submission_lock(self.pool) as conn:
                        if not await queue.has_run_for_commit(conn, self.cluster, head):
                            await self._compile_and_queue(conn, head, webhook=webhook)
                    handled = head
                except DB_ERRORS as exc:
                    log.warning("poller.database_error", error=f"{type(exc).__name__}: {exc}")
            poll = self.settings.declarations.poll_seconds
            if self.source is not None and self.source.failures:
                poll = max(poll, float(self.source.retry_delay()))
            await self._wait(self.runtime.wake_fetch, poll)

    async def _compile_and_queue(self, conn: asyncpg.Connection, head: str, *,
                                 webhook: bool) -> None:
        assert self.source is not None  # the poller fetched ``head`` from it
        compiled = await wiring.compile_commit(self.settings, conn, self.source, head,
                                               workers=self.compilers)
        self.runtime.compile_error = (None if compiled.ok else
                                      f"commit {head[:12]}: {compiled.error}")
        if not compiled.ok:
            # Retrying cannot fix a declaration: wait for the next commit.
            log.warning("declarations.compile_failed", commit=head, error=compiled.error)
            return
        if compiled.from_api:
            # A commit made by POST /declarations: the run is its submitter's (whether it
            # may apply without an Admin is the engine's decision, on the declaration).
            await self.enqueue("api", commit_sha=head, declaration_id=compiled.declaration_id,
                               requested_by=compiled.submitted_by, db=conn)
            return
        await self.enqueue("webhook" if webhook else "commit", commit_sha=head,
                           declaration_id=compiled.declaration_id, db=conn)

    # -- drift checker -----------------------------------------------------------------------

    async def _drift_checker(self) -> None:
        while not self.stopping:
            if self.engine is not None and self._current_task is None:
                report_only, self._report_only = self._report_only, False
                try:
                    # (Proxmox reachability is recorded by the client, call by call.)
                    drift = await wiring.check_drift(self.engine, runtime=self.runtime)
                    self._ready("observed the cluster; running")
                    policy = self.engine.policy or self.settings.policy
                    if report_only:
                        pass  # just after a successful run: refresh what /health and / show
                    elif drift and self.election.leader and not policy.self_heal:
                        log.info("drift.detected", guests=drift, self_heal=False,
                                 note="reported only; a manual or commit run corrects it")
                    elif (drift and self.election.leader and not self.backoff.failing
                            and not await queue.busy(self.pool, self.cluster)):
                        log.info("drift.found", guests=drift)
                        await self.enqueue("drift")
                except Exception as exc:  # Proxmox or the database: both are retried
                    log.warning("drift.check_failed", error=f"{type(exc).__name__}: {exc}")
            self._wake_drift.clear()
            await self._wait(self._wake_drift, self.settings.apply.drift_seconds)

    # -- retention ---------------------------------------------------------------------------

    async def _retention(self) -> None:
        from mycopod import retention

        while not self.stopping:
            now = datetime.now().astimezone()
            nightly = now.replace(hour=3, minute=17, second=0, microsecond=0)
            if nightly <= now:
                nightly += timedelta(days=1)
            await self._wait(asyncio.Event(), (nightly - now).total_seconds())
            if self.stopping or not self.election.leader:
                continue
            try:
                result = await retention.archive_old_runs(
                    self.pool, archive_dir=self.settings.state_dir / "archive",
                    retention_days=self.settings.retention_days)
                log.info("retention.done", runs=result.runs, actions=result.actions)
            except Exception as exc:  # a full disk must not stop reconciling; try tomorrow
                log.error("retention.failed", error=f"{type(exc).__name__}: {exc}")

    # -- SIGHUP ------------------------------------------------------------------------------

    async def _reloader(self) -> None:
        while not self.stopping:
            await self._wait(self._reload, 3600)
            if not self._reload.is_set():
                continue
            self._reload.clear()
            self.notifier.reloading()
            try:
                self.reload(load_settings(self.config_path))
            except Exception as exc:
                log.error("reload.failed", error=str(exc), note="the old settings stay")
            if self.notifier.ready_sent:  # back from RELOADING=1 (never READY too early)
                self.notifier.send(READY=1, STATUS=self._status_line)

    def reload(self, new: Settings) -> dict[str, tuple[Any, Any]]:
        """Apply the safe part of ``new``; return what changed."""
        safe, unsafe = reload_changes(self.settings, new)
        update: dict[str, Any] = {"policy": new.policy}
        apply = self.settings.apply.model_copy(update={
            k: getattr(new.apply, k) for k in RELOADABLE["apply"]})
        update["apply"] = apply
        update["declarations"] = self.settings.declarations.model_copy(
            update={"poll_seconds": new.declarations.poll_seconds})
        update["logging"] = self.settings.logging.model_copy(update={"level": new.logging.level})
        update["retention_days"] = new.retention_days
        self.settings = self.settings.model_copy(update=update)
        if "logging.level" in safe:
            telemetry.configure_logging(level=new.logging.level,
                                        fmt=self.settings.logging.format,
                                        secrets=self.settings.secret_values())
        wiring.update_engine_settings(self.engine, self.settings)
        shown = {k: (["***", "***"] if _secretish(k) else [o, n])
                 for k, (o, n) in safe.items()}
        log.info("reload.done", changed=shown, needs_restart=unsafe)
        self._wake_drift.set()
        return safe

    # -- watchdog ----------------------------------------------------------------------------

    async def _watchdog(self) -> None:
        interval = self.notifier.watchdog_interval or 30.0
        while True:
            self.notifier.watchdog()
            await asyncio.sleep(interval)

