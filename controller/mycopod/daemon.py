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

Everything that belongs to one Proxmox cluster is a
:class:`~mycopod.cluster_unit.ClusterUnit`, built once per cluster (one with a single
``[proxmox]``, one per ``[[clusters]]`` entry; docs/scaling.md); its tasks carry the
cluster's name when there are several (``repo-poller[site-a]``):

- ``leader-election``: holds this cluster's PostgreSQL advisory lock, or tries to get it
  every few seconds (:mod:`mycopod.reconcile.leader`); with several clusters a lease of
  one fair share over the replicas (:mod:`mycopod.reconcile.fairshare`). Both come
  through the ``elect`` seam of :class:`Daemon`.
- ``leadership``: **the one place leadership gates work.** Taking the lock starts the
  leader-only tasks (``run-worker``, ``retention``) and makes the poller look at the
  repository at once; losing it cancels them (the run being applied is cut and marked
  Interrupted). The triggers read :attr:`Daemon.leading` to know whether to queue what
  they find; everything else runs on every replica.
- ``repo-poller`` and ``drift-checker``: :mod:`mycopod.reconcile.triggers`.
- ``run-worker`` (leader only): :class:`~mycopod.reconcile.controller.Controller`.
- ``retention`` (leader of the first cluster only): :func:`mycopod.retention.run_nightly`.
- ``api``: the aiohttp application, embedded in this loop; one more runnable.
- ``forge-reporter`` (with ``[forge]``): sends commit statuses, the reconcile hooks'
  listener (:mod:`mycopod.forge.reporter`); ``pr-planner`` plans pull requests.
- ``notifier`` (with ``[notify] urls``): sends notifications through Apprise, another
  listener of the reconcile hooks and of the drift checker (:mod:`mycopod.notify.notifier`);
  ``notify-watch`` tells a Proxmox connection or leadership lost for a while.
- ``reloader``: SIGHUP reloads the settings ``config.py`` declares reloadable.
- ``watchdog``: ``WATCHDOG=1`` to systemd at half ``WatchdogSec``.

Signals only set flags. SIGTERM/SIGINT: stop taking work (the triggers stop), give the
running run ``grace_seconds`` to finish, cut it (marked Interrupted) if it does not,
close everything, exit 0. SIGHUP: reload the settings that can change safely and log
what changed.
"""

from __future__ import annotations

import asyncio
import functools
import signal
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import structlog

from mycopod import config, config_reload, telemetry
from mycopod.cluster_unit import ClusterUnit, Election
from mycopod.config import Settings
from mycopod.declarations.workers import CompileWorkers
from mycopod.reconcile.foreground import Foreground
from mycopod.reconcile.hooks import NO_HOOKS, AllHooks, RunHooks
from mycopod.reconcile.leader import LeaderElection
from mycopod.reconcile.supervision import DatabaseSupervisor, TaskGroup
from mycopod.reconcile.triggers import wait_for
from mycopod.runtime import RuntimeStatus
from mycopod.sdnotify import Notifier
from mycopod.store import abandoned, db
from mycopod.store.db import Database

if TYPE_CHECKING:
    from mycopod.declarations.source import GitSource
    from mycopod.reconcile.controller import Controller
    from mycopod.reconcile.reconciler import EngineContext

log = structlog.get_logger(__name__)

__all__ = ["Daemon", "serve"]

Runnable = Callable[[], Coroutine[Any, Any, None]]
#: the longest one step of the way out may take at shutdown (the compile workers, the
#: database pool, the embedded PostgreSQL) before it is cut short
STOP_STEP_SECONDS = 10.0
#: makes a cluster's leadership (the seam a fair-share election plugs into)
ElectionFactory = Callable[[str], Election]


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
    """The daemon's parts around one database and its Proxmox clusters (one unit each)."""

    def __init__(self, settings: Settings, database: Database, *,
                 config_path: str | None = None, notifier: Notifier | None = None,
                 runtime: RuntimeStatus | None = None, leader_check_seconds: float = 3.0,
                 install_signals: bool = True,
                 compilers: CompileWorkers | None = None,
                 elect: ElectionFactory | None = None) -> None:
        self.settings = settings
        #: compile processes shared by the poller and the API (None: compile in-process)
        self.compilers = compilers
        self.database = database
        self.pool = database.pool
        self.config_path = config_path
        self.notifier = notifier or Notifier()
        self.install_signals = install_signals
        self.exit_code = 0
        self.tasks = TaskGroup(self._task_died, is_stopping=lambda: self._stop.is_set())
        password = settings.database.password
        secret = password.get_secret_value() if password else None

        def plain_lock(cluster: str) -> Election:
            return LeaderElection(database.url, cluster=cluster, password=secret,
                                  check_seconds=leader_check_seconds)

        per_cluster = settings.per_cluster()
        if elect is None and len(per_cluster) > 1:
            # several clusters: spread over the replicas, each holding its fair share
            # (docs/scaling.md); one cluster: the plain lock, one leader and standbys
            from mycopod.reconcile.fairshare import FairShare

            share = FairShare(database.url, [s.proxmox.cluster for s in per_cluster],
                              password=secret)
            elect = share.lease
        # the clusters' new heads compile one at a time (the workers are the process's);
        # with several clusters a push's and a run's work go before the others' reads
        slot = asyncio.Semaphore(1)
        foreground = Foreground() if len(per_cluster) > 1 else None
        self.units = [ClusterUnit(s, pool=self.pool, election=(elect or plain_lock)(
                          s.proxmox.cluster), tasks=self.tasks, multi=len(per_cluster) > 1,
                          stopping=lambda: self.stopping, compilers=compilers,
                          runtime=runtime if i == 0 else None, compile_slot=slot,
                          foreground=foreground)
                      for i, s in enumerate(per_cluster)]
        first = self.units[0]
        #: the first cluster's (the only one's, with a single [proxmox])
        self.cluster = first.name
        self.runtime = first.runtime
        self.election = first.election
        self.queue = first.queue
        checks = settings.database
        self.runtime.database = db.ConnectivityCheck(
            database.url, password=secret, timeout=checks.check_timeout,
            max_age=min(1.0, checks.check_seconds))
        self.database_supervisor = DatabaseSupervisor(
            self.runtime.database, check_seconds=checks.check_seconds,
            restart=(lambda: db.restart_embedded(database)) if database.embedded else None,
            after_restart=self.pool.expire_connections,
            restart_max_seconds=checks.restart_max_seconds)
        for unit in self.units[1:]:
            unit.runtime.database = self.runtime.database
        self._runnables: dict[str, tuple[Runnable, bool]] = {}
        self._stop = asyncio.Event()
        self._reload = asyncio.Event()
        self._status_line = "starting"
        # built in _open()
        self.hooks: RunHooks = NO_HOOKS  # the forge reporter, with [forge]
        self.pr_plans: Any = None  # the pull-request planner, with [forge] and a repo
        self.cluster_pr_plans: dict[str, Any] = {}  # of clusters' own repositories, by name
        self.notify: Any = None  # the notifier, with [notify] urls
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
        """This replica leads the first (or only) cluster."""
        return self.election.leader

    # the first (or only) cluster's parts
    @property
    def engine(self) -> EngineContext | None:
        return self.units[0].engine

    @property
    def source(self) -> GitSource | None:
        return self.units[0].source

    @property
    def controller(self) -> Controller | None:
        return self.units[0].controller

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
        abandoned.install(loop)
        if self.install_signals:
            loop.add_signal_handler(signal.SIGTERM, self.request_stop)
            loop.add_signal_handler(signal.SIGINT, self.request_stop)
            loop.add_signal_handler(signal.SIGHUP, self.request_reload)
        try:
            await self._open()
            for name, (runnable, needs_leader) in self._runnables.items():
                if not needs_leader:
                    self.tasks.spawn(name, runnable())
            # the process's leader-only tasks (retention) follow the first cluster's lead
            extra = {n: r for n, r in self._runnables.items() if r[1]}
            for i, unit in enumerate(self.units):
                unit.start()
                self.tasks.spawn(unit.task("leadership"), unit.lead(
                    extra=extra if i == 0 else {}, on_change=self._set_status))
            if all(unit.engine is None for unit in self.units):
                self._ready("no Proxmox cluster configured")
            log.info("controller.started", cluster=self.cluster,
                     clusters=[u.name for u in self.units], tasks=self.tasks.names())
            await self._stop.wait()
            log.info("controller.stopping", exit_code=self.exit_code)
            self.notifier.stopping("stopping: finishing the running action")
            await self.tasks.cancel([n for u in self.units for n in u.triggers])
            await asyncio.gather(*(u.controller.finish() for u in self.units
                                   if u.controller is not None))
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

        def settings() -> Settings:
            return self.settings

        self._forge()
        self._notifications()
        from mycopod.forge.pr_own import own_repo_hooks  # a cluster's own repo, own statuses

        own = own_repo_hooks(self.settings, self.units, notify=self.notify, add=self.add)
        for unit in self.units:
            await unit.open(hooks=own.get(unit.name, self.hooks), on_change=self._set_status,
                            on_observed=lambda: self._ready("observed the cluster; running"),
                            on_drift=self.notify.drift_checked if self.notify is not None
                            else None)
            if self.notify is not None:  # a Proxmox connection or leadership lost a while
                self.add(unit.task("notify-watch"),
                         functools.partial(self.notify.watch, unit.runtime))
        self._pr_planner()
        self.add("database-supervisor", self.database_supervisor.run)
        self.add("api", self._serve_api)
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
        from mycopod.forge.reporter import ForgeReporter

        reporter = ForgeReporter.for_forge(forge, self.settings.api)
        self.hooks = reporter
        self.add("forge-reporter", reporter.run)

    def _pr_planner(self) -> None:
        """With ``[forge]`` and a repository: pull requests planned against the one
        cluster, or (``[[clusters]]``) against each cluster reading the ``[declarations]``
        repository whose folder they touch (:mod:`mycopod.forge.pr_clusters`)."""
        from mycopod.forge.pr_clusters import PlanTarget, targets
        from mycopod.forge.pr_own import own_repo_planners

        # clusters with their own repository and [clusters.forge] (mycopod.forge.pr_own)
        self.cluster_pr_plans = own_repo_planners(self.settings, self.units, pool=self.pool,
                                                  compilers=self.compilers)
        for name, planner in {id(p): (n, p) for n, p in self.cluster_pr_plans.items()}.values():
            self.add(f"pr-planner[{name}]", planner.run)
        unit = self.units[0]
        several: list[PlanTarget] = []
        if self.settings.clusters:
            planned = {s.proxmox.cluster for s in targets(self.settings)}
            several = [PlanTarget(u.name, u.source, u.current, u.engine) for u in self.units
                       if u.name in planned and u.source is not None]
            unit = next((u for u in self.units if u.name in planned), unit)
        if not self.settings.forge.enabled or unit.source is None:
            return
        if self.settings.clusters and not several:
            return
        from mycopod.forge.client import ForgeClient
        from mycopod.forge.pr_plans import PullRequestPlanner

        self.pr_plans = PullRequestPlanner(
            source=unit.source, client=ForgeClient(self.settings.forge), pool=self.pool,
            settings=unit.current, engine=unit.engine, compilers=self.compilers,
            clusters=several)
        self.add("pr-planner", self.pr_plans.run)

    def _notifications(self) -> None:
        """With ``[notify] urls``: the notifier, told of runs next to the forge reporter."""
        if not self.settings.notify.enabled:
            return
        from mycopod.notify.notifier import Notifier

        api = self.settings.api
        public = (self.settings.notify.public_url or self.settings.forge.public_url
                  or f"http://{api.host}:{api.port}")
        notifier = self.notify = Notifier(lambda: self.settings.notify, public_url=public)
        self.hooks = notifier if self.hooks is NO_HOOKS else AllHooks(self.hooks, notifier)
        self.add("notifier", notifier.run)

    async def _close(self) -> None:
        runner, self._api_runner = self._api_runner, None
        if runner is not None:
            await runner.cleanup()
        for unit in self.units:
            await unit.close()

    async def _serve_api(self) -> None:
        from mycopod.api.app import create_app, start_api
        from mycopod.api.context import ApiContext, ClusterView

        views = {u.name: ClusterView(settings=u.settings, runtime=u.runtime, source=u.source)
                 for u in self.units} if len(self.units) > 1 else {}
        # the API's single-cluster parts follow the first cluster (its settings)
        app = create_app(ApiContext(pool=self.pool, settings=self.units[0].settings,
                                    runtime=self.runtime, source=self.source,
                                    compilers=self.compilers, pr_plans=self.pr_plans,
                                    cluster_pr_plans=self.cluster_pr_plans,
                                    clusters=views))
        self._api_runner = await start_api(app, self.settings.api)
        await asyncio.Event().wait()  # serve until cancelled; _close() stops the server

    # -- status for systemd ------------------------------------------------------------------

    def _set_status(self, extra: str | None = None) -> None:
        parts = []
        for unit in self.units:
            role = "leader" if unit.election.leader else "standby"
            parts += [role, f"cluster {unit.name}"]
            if unit.controller is not None and unit.controller.current_run is not None:
                parts.append(f"applying run {unit.controller.current_run}")
            if unit.runtime.repo_head:
                parts.append(f"commit {unit.runtime.repo_head[:10]}")
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
        reloaded = {s.proxmox.cluster: s for s in self.settings.per_cluster()}
        for unit in self.units:
            unit.reload(reloaded.get(unit.name, unit.settings))
        shown = {k: (["***", "***"] if telemetry.SECRET_KEY_RE.search(k) else [o, n])
                 for k, (o, n) in safe.items()}
        log.info("reload.done", changed=shown, needs_restart=unsafe)
        if "apply.claim_poll_seconds" in safe:  # the idle workers wait the new time now
            for unit in self.units:
                unit.runtime.wake_reconcile.set()
        return safe
