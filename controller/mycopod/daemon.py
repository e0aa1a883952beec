"""The composition root: builds the daemon's parts and runs them as named, guarded tasks.

``mycopod run`` and ``mycopod demo`` both come here (:func:`serve`), as controller-runtime's
``main`` builds a manager and adds runnables to it. :func:`serve` opens what lives as
long as the process (the database, migrated) and hands it to a :class:`Daemon`, which
builds the rest (the engine context, the declarations source, the run queue, the
controller, the triggers, the API) and runs each as a task of its
:class:`~mycopod.reconcile.supervision.TaskGroup`; a task that dies unexpectedly stops
the daemon with a failure, and systemd restarts it:

- ``database-supervisor``: checks every ``database.check_seconds`` that the database
  takes new connections (what ``/health`` reports) and restarts the embedded one, with
  backoff, when its postmaster died or was told to stop. The pool reconnects and the
  election takes the lock again by themselves; the run the outage cut is marked
  Interrupted by the next leader and queued again.
- ``leader-election``: holds this cluster's PostgreSQL advisory lock, or tries to get it
  every few seconds (:mod:`mycopod.reconcile.leader`).
- ``leadership``: **the one place leadership gates work.** Taking the lock starts the
  leader-only tasks (``run-worker``, ``retention``) and makes the poller look at the
  repository at once; losing it cancels them (the run being applied is cut and marked
  Interrupted). The triggers read :attr:`Daemon.leading` to know whether to queue what
  they find; everything else runs on every replica.
- ``repo-poller`` and ``drift-checker``: :mod:`mycopod.reconcile.triggers`.
- ``run-worker`` (leader only): :class:`~mycopod.reconcile.controller.Controller`.
- ``retention`` (leader only): :func:`mycopod.retention.run_nightly`.
- ``api``: the aiohttp application, embedded in this loop; one more runnable.
- ``forge-reporter`` (with ``[forge]``): sends commit statuses, the reconcile hooks'
  listener (:mod:`mycopod.forge.reporter`); ``pr-planner`` plans pull requests.
- ``notifier`` (with ``[notify] urls``): sends notifications through Apprise, another
  listener of the reconcile hooks (:mod:`mycopod.notify.notifier`).
- ``reloader``: SIGHUP reloads the settings ``config.py`` declares reloadable.
- ``watchdog``: ``WATCHDOG=1`` to systemd at half ``WatchdogSec``.

Signals only set flags. SIGTERM/SIGINT: stop taking work (the triggers stop), give the
running run ``grace_seconds`` to finish, cut it (marked Interrupted) if it does not,
close everything, exit 0. SIGHUP: reload the settings that can change safely and log
what changed.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import structlog

from mycopod import config, config_reload, telemetry
from mycopod.config import Settings
from mycopod.declarations.workers import CompileWorkers
from mycopod.reconcile import wakeups
from mycopod.reconcile.controller import Controller
from mycopod.reconcile.hooks import NO_HOOKS, AllHooks, RunHooks
from mycopod.reconcile.leader import LeaderElection
from mycopod.reconcile.queue import RunQueue
from mycopod.reconcile.supervision import DatabaseSupervisor, TaskGroup
from mycopod.reconcile.triggers import DriftTicker, RepoPoller, wait_for
from mycopod.runtime import RuntimeStatus
from mycopod.sdnotify import Notifier
from mycopod.store import db
from mycopod.store.db import Database
from mycopod.store.runs import RunStore

if TYPE_CHECKING:
    from mycopod.declarations.source import GitSource
    from mycopod.reconcile.reconciler import EngineContext

log = structlog.get_logger(__name__)

__all__ = ["Daemon", "serve"]

Runnable = Callable[[], Coroutine[Any, Any, None]]
#: the longest one step of the way out may take at shutdown (the compile workers, the
#: database pool, the embedded PostgreSQL) before it is cut short
STOP_STEP_SECONDS = 10.0
#: the triggers: they stop first at shutdown, so no new work is queued during the grace
TRIGGERS = ["repo-poller", "drift-checker"]


async def serve(settings: Settings, *, config_path: str | None = None,
                runtime: RuntimeStatus | None = None, install_signals: bool = True) -> int:
    """Open the database and migrate it, then run the daemon until it stops; the exit
    code. What lives as long as the process is opened here, in order, and closed in
    reverse order after the daemon stopped."""
    from mycopod.store import migrate

    notifier = Notifier()
    notifier.status("starting: opening the database")
    async with db.open_database(settings.database, state_dir=settings.state_dir) as database:
        notifier.status("starting: applying migrations")
        async with database.pool.acquire() as conn:
            await migrate.up(conn)
        # Process-wide pools the parts share open here too, around the daemon, so they
        # outlive every task that uses them: the compile workers (the poller and the API
        # compile in them, off the event loop).
        compilers = CompileWorkers(settings.compile)
        try:
            daemon = Daemon(settings, database, config_path=config_path, notifier=notifier,
                            runtime=runtime, install_signals=install_signals,
                            compilers=compilers)
            return await daemon.run()
        finally:
            # Every step of the way out is bounded (a timeout, then a kill with a
            # warning): SIGTERM must end the process well inside TimeoutStopSec.
            started = time.monotonic()
            await compilers.close(seconds=STOP_STEP_SECONDS)
            log.info("shutdown.step", step="compile workers",
                     seconds=round(time.monotonic() - started, 3))


class Daemon:
    """The daemon's parts around one database and one Proxmox cluster."""

    def __init__(self, settings: Settings, database: Database, *,
                 config_path: str | None = None, notifier: Notifier | None = None,
                 runtime: RuntimeStatus | None = None, leader_check_seconds: float = 3.0,
                 install_signals: bool = True,
                 compilers: CompileWorkers | None = None) -> None:
        self.settings = settings
        #: compile processes shared by the poller and the API (None: compile in-process)
        self.compilers = compilers
        self.database = database
        self.pool = database.pool
        self.config_path = config_path
        self.notifier = notifier or Notifier()
        self.cluster = settings.proxmox.cluster
        self.runtime = runtime or RuntimeStatus(cluster=self.cluster)
        self.runtime.cluster = self.cluster
        self.install_signals = install_signals
        self.exit_code = 0
        self.tasks = TaskGroup(self._task_died, is_stopping=lambda: self._stop.is_set())
        password = settings.database.password
        secret = password.get_secret_value() if password else None
        self.election = LeaderElection(database.url, cluster=self.cluster, password=secret,
                                       check_seconds=leader_check_seconds)
        checks = settings.database
        self.runtime.database = db.ConnectivityCheck(
            database.url, password=secret, timeout=checks.check_timeout,
            max_age=min(1.0, checks.check_seconds))
        self.database_supervisor = DatabaseSupervisor(
            self.runtime.database, check_seconds=checks.check_seconds,
            restart=(lambda: db.restart_embedded(database)) if database.embedded else None,
            after_restart=self.pool.expire_connections,
            restart_max_seconds=checks.restart_max_seconds)
        self.queue = RunQueue(self.pool, self.cluster, wake=self.runtime.wake_reconcile)
        self._runnables: dict[str, tuple[Runnable, bool]] = {}
        self._stop = asyncio.Event()
        self._reload = asyncio.Event()
        self._status_line = "starting"
        # built in _open()
        self.engine: EngineContext | None = None  # when Proxmox is set
        self.source: GitSource | None = None  # when a repo is set
        self.controller: Controller | None = None  # with the engine
        self.poller: RepoPoller | None = None
        self.drift: DriftTicker | None = None
        self.hooks: RunHooks = NO_HOOKS  # the forge reporter, with [forge]
        self.pr_plans: Any = None  # the pull-request planner, with [forge] and a repo
        self._api_runner: Any = None

    # -- flags (the only things signal handlers touch) --------------------------------------

    def request_stop(self) -> None:
        self._stop.set()

    def request_reload(self) -> None:
        self._reload.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def leading(self) -> bool:
        """This replica holds the leader lock (what the triggers ask before queueing)."""
        return self.election.leader

    def _task_died(self, name: str, exc: BaseException | None) -> None:
        self.exit_code = 1
        self._stop.set()

    # -- main --------------------------------------------------------------------------------

    def add(self, name: str, runnable: Runnable, *, needs_leader: bool = False) -> None:
        """Run ``runnable`` as task ``name``: now, or while leading if ``needs_leader``."""
        self._runnables[name] = (runnable, needs_leader)

    async def run(self) -> int:
        """Run until SIGTERM/SIGINT (exit code 0) or a task dies (exit code 1)."""
        loop = asyncio.get_running_loop()
        if self.install_signals:
            loop.add_signal_handler(signal.SIGTERM, self.request_stop)
            loop.add_signal_handler(signal.SIGINT, self.request_stop)
            loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        try:
            await self._open()
            for name, (runnable, needs_leader) in self._runnables.items():
                if not needs_leader:
                    self.tasks.spawn(name, runnable())
            self.tasks.spawn("leadership", self._lead())
            if self.engine is None:
                self._ready("no Proxmox cluster configured")
            log.info("controller.started", cluster=self.cluster, tasks=self.tasks.names())
            await self._stop.wait()
            log.info("controller.stopping", exit_code=self.exit_code)
            self.notifier.stopping("stopping: finishing the running action")
            await self.tasks.cancel(TRIGGERS)
            if self.controller is not None:
                await self.controller.finish()
        finally:
            await self.tasks.cancel_all()
            await self._close()
            if self.install_signals:
                for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                    loop.remove_signal_handler(sig)
        log.info("controller.stopped", exit_code=self.exit_code)
        return self.exit_code

    # -- building ----------------------------------------------------------------------------

    async def _open(self) -> None:
        """Build the parts and add them as runnables."""
        from mycopod import retention

        self.engine = self._engine_context()
        self.source = self._declarations_source()
        last = await RunStore(self.pool).latest(self.cluster, status="Succeeded")
        if last is not None and last.finished_at is not None:
            self.runtime.last_successful_reconcile = last.finished_at
            telemetry.LAST_SUCCESS.set(last.finished_at.timestamp())

        def settings() -> Settings:
            return self.settings

        self._forge()
        self._notifications()
        self.poller = RepoPoller(self.source, self.queue, runtime=self.runtime,
                                 settings=settings, leading=self.leading,
                                 can_reconcile=self.engine is not None,
                                 compilers=self.compilers, hooks=self.hooks)
        self.drift = DriftTicker(
            self.engine, self.queue, runtime=self.runtime, settings=settings,
            leading=self.leading,
            applying=lambda: self.controller is not None and self.controller.applying,
            on_observed=lambda: self._ready("observed the cluster; running"))
        drift = self.drift
        if self.engine is not None:
            self.controller = Controller(
                self.engine, self.queue, runtime=self.runtime, settings=settings,
                stopping=lambda: self.stopping, on_change=self._set_status,
                on_success=lambda: drift.wake(report_only=True), on_took_over=drift.wake,
                hooks=self.hooks)

        self.add("database-supervisor", self.database_supervisor.run)
        self.add("leader-election", self.election.run)
        self.add("api", self._serve_api)
        if self.controller is not None:
            self.add("run-worker", self.controller.run, needs_leader=True)
        self.add("wake-listener", lambda: wakeups.listen(self.pool, self.runtime,
                                                         cluster=self.cluster),
                 needs_leader=True)
        self.add("repo-poller", self.poller.run)
        self.add("drift-checker", self.drift.run)
        self.add("retention", lambda: retention.run_nightly(self.pool, settings=settings),
                 needs_leader=True)
        self.add("reloader", self._reloader)
        if self.notifier.watchdog_interval:
            self.add("watchdog", self._watchdog)

    def _forge(self) -> None:
        """With ``[forge]``: the reporter of commit statuses (the reconcile hooks)."""
        forge = self.settings.forge
        if not forge.enabled:
            return
        from mycopod.forge.client import ForgeClient
        from mycopod.forge.reporter import ForgeReporter

        api = self.settings.api
        public = forge.public_url or f"http://{api.host}:{api.port}"
        reporter = ForgeReporter(ForgeClient(forge), public_url=public,
                                 queue_size=forge.queue_size)
        self.hooks = reporter
        self.add("forge-reporter", reporter.run)
        if self.source is not None:
            from mycopod.forge.pr_plans import PullRequestPlanner

            self.pr_plans = PullRequestPlanner(
                source=self.source, client=ForgeClient(forge), pool=self.pool,
                settings=lambda: self.settings, engine=self.engine, compilers=self.compilers)
            self.add("pr-planner", self.pr_plans.run)

    def _notifications(self) -> None:
        """With ``[notify] urls``: the notifier, told of runs next to the forge reporter."""
        if not self.settings.notify.enabled:
            return
        from mycopod.notify.notifier import Notifier

        api = self.settings.api
        public = (self.settings.notify.public_url or self.settings.forge.public_url
                  or f"http://{api.host}:{api.port}")
        notifier = Notifier(lambda: self.settings.notify, public_url=public)
        self.hooks = notifier if self.hooks is NO_HOOKS else AllHooks(self.hooks, notifier)
        self.add("notifier", notifier.run)

    def _engine_context(self) -> EngineContext | None:
        """The engine's context, or None when no Proxmox cluster is configured. Every
        Proxmox call's outcome goes to the runtime status (what /health reports)."""
        if not self.settings.proxmox.url:
            log.warning("controller.no_proxmox", note="set proxmox.url to reconcile a cluster")
            return None
        from mycopod.reconcile.reconciler import EngineContext

        return EngineContext.create(self.pool, self.settings,
                                    on_outcome=self.runtime.proxmox_outcome)

    def _declarations_source(self) -> GitSource | None:
        if not self.settings.declarations.repo:
            log.warning("controller.no_repo", note="set declarations.repo to follow a repository")
            return None
        from mycopod.declarations.source import GitSource

        return GitSource.from_settings(self.settings)

    async def _close(self) -> None:
        runner, self._api_runner = self._api_runner, None
        if runner is not None:
            await runner.cleanup()
        await self.election.release()
        if self.engine is not None:
            await self.engine.client.aclose()

    async def _serve_api(self) -> None:
        from mycopod.api.app import create_app, start_api
        from mycopod.api.context import ApiContext

        app = create_app(ApiContext(pool=self.pool, settings=self.settings,
                                    runtime=self.runtime, source=self.source,
                                    compilers=self.compilers, pr_plans=self.pr_plans))
        self._api_runner = await start_api(app, self.settings.api)
        await asyncio.Event().wait()  # serve until cancelled; _close() stops the server

    # -- leadership: the one gate ------------------------------------------------------------

    async def _lead(self) -> None:
        """Start the leader-only runnables while this replica holds the lock."""
        leading = False
        while True:
            self.election.changed.clear()
            if self.election.leader != leading:
                leading = self.election.leader
                self.runtime.leader = leading
                if self.engine is not None and self.engine.observer is not None:
                    # another replica may have changed configs that no row shows: the
                    # next observation reads every owned guest again (a full resync)
                    self.engine.observer.invalidate()
                if leading:
                    for name, (runnable, needs_leader) in self._runnables.items():
                        if needs_leader:
                            self.tasks.spawn(name, runnable())
                    assert self.poller is not None
                    # Look at the repository now rather than at the next poll.
                    self.poller.fetch_now()
                else:
                    # Stop applying at once: a replica that lost its session lock may no
                    # longer be the only one touching the cluster.
                    if self.controller is not None:
                        self.controller.losing_leadership()
                    await self.tasks.cancel([n for n, (_r, needs) in self._runnables.items()
                                             if needs])
                self._set_status()
            await self.election.changed.wait()

    # -- status for systemd ------------------------------------------------------------------

    def _set_status(self, extra: str | None = None) -> None:
        role = "leader" if self.election.leader else "standby"
        parts = [role, f"cluster {self.cluster}"]
        if self.controller is not None and self.controller.current_run is not None:
            parts.append(f"applying run {self.controller.current_run}")
        if self.runtime.repo_head:
            parts.append(f"commit {self.runtime.repo_head[:10]}")
        if extra:
            parts.append(extra)
        line = "; ".join(parts)
        if line != self._status_line:
            self._status_line = line
            self.notifier.status(line)

    def _ready(self, status: str) -> None:
        if not self.notifier.ready_sent:
            self.notifier.ready(status)
            self._status_line = status
            log.info("controller.ready", status=status)

    async def _watchdog(self) -> None:
        interval = self.notifier.watchdog_interval or 30.0
        while True:
            self.notifier.watchdog()
            await asyncio.sleep(interval)

    # -- SIGHUP ------------------------------------------------------------------------------

    async def _reloader(self) -> None:
        while True:
            if not await wait_for(self._reload, 3600):
                continue
            self._reload.clear()
            self.notifier.reloading()
            try:
                self.reload(config.load_settings(self.config_path))
            except Exception as exc:
                log.error("reload.failed", error=str(exc), note="the old settings stay")
            if self.notifier.ready_sent:  # back from RELOADING=1 (never READY too early)
                self.notifier.send(READY=1, STATUS=self._status_line)

    def reload(self, new: Settings) -> dict[str, tuple[Any, Any]]:
        """Apply the safe part of ``new``; return what changed."""
        safe, unsafe = config_reload.reload_changes(self.settings, new)
        self.settings = config_reload.reloaded(self.settings, new)
        if "logging.level" in safe:
            telemetry.configure_logging(level=new.logging.level,
                                        fmt=self.settings.logging.format,
                                        secrets=self.settings.secret_values())
        if self.engine is not None:  # the engine reads policy and apply limits from these
            self.engine.settings = self.settings
            self.engine.policy = self.settings.policy
            if self.engine.observer is not None:
                self.engine.observer.resync_seconds = self.settings.apply.resync_seconds
        shown = {k: (["***", "***"] if telemetry.SECRET_KEY_RE.search(k) else [o, n])
                 for k, (o, n) in safe.items()}
        log.info("reload.done", changed=shown, needs_restart=unsafe)
        if self.drift is not None:
            self.drift.wake()
        if "apply.claim_poll_seconds" in safe:  # the idle worker waits the new time now
            self.runtime.wake_reconcile.set()
        return safe
