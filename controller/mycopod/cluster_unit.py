"""One cluster's part of the daemon: what the composition root builds once per cluster.

A :class:`ClusterUnit` owns everything that belongs to one Proxmox cluster (issue 17,
docs/scaling.md): its settings (``Settings.per_cluster``: its ``[clusters.proxmox]``,
its declarations folder or repository, its policy), its
:class:`~mycopod.runtime.RuntimeStatus`, its leadership, its run queue, its Proxmox
client (the engine), its declarations source, its
:class:`~mycopod.reconcile.controller.Controller` and its two triggers. The daemon
(:mod:`mycopod.daemon`) runs the units' tasks in its one task group, next to what the
process has once (the database supervisor, the API, the forge reporter, the notifier,
the reloader).

Leadership sits behind a seam: ``elect(cluster)`` gives an object with the surface of
:class:`~mycopod.reconcile.leader.LeaderElection` (``leader``, ``changed``, ``run()``,
``release()``), one per cluster: the plain advisory lock with one cluster, a lease of
:class:`~mycopod.reconcile.fairshare.FairShare` with several (the daemon decides).

Task names: with one cluster they are today's (``repo-poller``, ``run-worker``, ...);
with several, each carries its cluster (``repo-poller[site-a]``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from mycopod import telemetry
from mycopod.reconcile import wakeups
from mycopod.reconcile.controller import Controller
from mycopod.reconcile.hooks import RunHooks
from mycopod.reconcile.queue import RunQueue
from mycopod.reconcile.supervision import TaskGroup
from mycopod.reconcile.triggers import DriftTicker, RepoPoller
from mycopod.runtime import RuntimeStatus
from mycopod.store.runs import RunStore

if TYPE_CHECKING:
    import asyncpg

    from mycopod.config import Settings
    from mycopod.declarations.source import GitSource
    from mycopod.declarations.workers import CompileWorkers
    from mycopod.reconcile.foreground import Foreground
    from mycopod.reconcile.reconciler import EngineContext

log = structlog.get_logger(__name__)

__all__ = ["ClusterUnit", "Election", "Runnable"]

Runnable = Callable[[], Coroutine[Any, Any, None]]


class Election(Protocol):
    """What a unit needs of its leadership (LeaderElection's surface)."""

    leader: bool
    changed: asyncio.Event

    async def run(self) -> None: ...

    async def release(self) -> None: ...


class ClusterUnit:
    """The parts of one cluster. Build with :meth:`open`, run :meth:`lead` as a task."""

    def __init__(self, settings: Settings, *, pool: asyncpg.Pool, election: Election,
                 tasks: TaskGroup, multi: bool, stopping: Callable[[], bool],
                 compilers: CompileWorkers | None = None,
                 runtime: RuntimeStatus | None = None,
                 compile_slot: asyncio.Semaphore | None = None,
                 foreground: Foreground | None = None) -> None:
        self.settings = settings
        self.name = settings.proxmox.cluster
        self.pool = pool
        self.election = election
        self.tasks = tasks
        self.multi = multi
        self.stopping = stopping
        self.compilers = compilers
        #: one new head compiles at a time in this process, whichever cluster's
        self.compile_slot = compile_slot
        #: with several clusters: a push's and a run's work before other clusters' reads
        self.foreground = foreground
        self.runtime = runtime or RuntimeStatus(cluster=self.name)
        self.runtime.cluster = self.name
        self.queue = RunQueue(pool, self.name, wake=self.runtime.wake_reconcile)
        self.runnables: dict[str, tuple[Runnable, bool]] = {}
        self.engine: EngineContext | None = None  # when Proxmox is set
        self.source: GitSource | None = None  # when a repo is set
        self.controller: Controller | None = None  # with the engine
        self.poller: RepoPoller | None = None
        self.drift: DriftTicker | None = None

    def task(self, base: str) -> str:
        """The task name of ``base`` for this cluster."""
        return f"{base}[{self.name}]" if self.multi else base

    def leading(self) -> bool:
        return self.election.leader

    def add(self, base: str, runnable: Runnable, *, needs_leader: bool = False) -> None:
        self.runnables[self.task(base)] = (runnable, needs_leader)

    def current(self) -> Settings:
        return self.settings

    async def open(self, *, hooks: RunHooks, on_change: Callable[[], None],
                   on_observed: Callable[[], None], on_drift: Any = None) -> None:
        """Build the parts and add their runnables (started by :meth:`start`).
        ``on_drift``: the notifier's drift listener (with ``[notify] urls``)."""
        self.engine = self._engine_context()
        if self.engine is not None:  # the names every compile reads "on pve3" with
            from mycopod.proxmox.cluster_facts import FactsKeeper
            self.runtime.facts = FactsKeeper(self.engine.client)
        self.source = self._declarations_source()
        last = await RunStore(self.pool).latest(self.name, status="Succeeded")
        if last is not None and last.finished_at is not None:
            self.runtime.last_successful_reconcile = last.finished_at
            telemetry.LAST_SUCCESS.labels(cluster=self.name).set(last.finished_at.timestamp())
        self.poller = RepoPoller(self.source, self.queue, runtime=self.runtime,
                                 settings=self.current, leading=self.leading,
                                 can_reconcile=self.engine is not None,
                                 compilers=self.compilers, hooks=hooks,
                                 compile_slot=self.compile_slot)
        self.drift = DriftTicker(
            self.engine, self.queue, runtime=self.runtime, settings=self.current,
            leading=self.leading,
            applying=lambda: self.controller is not None and self.controller.applying,
            on_observed=on_observed, on_drift=on_drift)
        drift = self.drift
        if self.engine is not None:
            self.controller = Controller(
                self.engine, self.queue, runtime=self.runtime, settings=self.current,
                stopping=self.stopping, on_change=on_change,
                on_success=lambda: drift.wake(report_only=True), on_took_over=drift.wake,
                hooks=hooks)
        if self.foreground is not None:
            self._share_foreground(self.foreground)
        self.add("leader-election", self.election.run)
        if self.controller is not None:
            self.add("run-worker", self.controller.run, needs_leader=True)
        self.add("wake-listener", lambda: wakeups.listen(self.pool, self.runtime,
                                                         cluster=self.name),
                 needs_leader=True)
        self.add("repo-poller", self.poller.run)
        # With several clusters a standby does not observe what it does not lead: each
        # replica would otherwise hold every cluster's guests (issue 17's memory bound);
        # its pages read the cluster's newest run report instead.
        self.add("drift-checker", self.drift.run, needs_leader=self.multi)

    def _share_foreground(self, foreground: Foreground) -> None:
        """A webhook's new head and a run are this cluster's foreground work; the drift
        check's reads wait while other clusters have some (reconcile/foreground.py)."""
        assert self.poller is not None
        self.poller.foreground = foreground
        if self.controller is not None:
            self.controller.foreground = foreground
        if self.engine is not None and self.engine.observer is not None:
            self.engine.observer.foreground = (foreground, self.name)

    def _engine_context(self) -> EngineContext | None:
        """The engine's context, or None when no Proxmox cluster is configured. Every
        Proxmox call's outcome goes to the runtime status (what /health reports)."""
        if not self.settings.proxmox.url:
            log.warning("controller.no_proxmox", cluster=self.name,
                        note="set proxmox.url to reconcile a cluster")
            return None
        from mycopod.reconcile.reconciler import EngineContext

        return EngineContext.create(self.pool, self.settings,
                                    on_outcome=self.runtime.proxmox_outcome)

    def _declarations_source(self) -> GitSource | None:
        if not self.settings.declarations.repo:
            log.warning("controller.no_repo", cluster=self.name,
                        note="set declarations.repo to follow a repository")
            return None
        from mycopod.declarations.source import GitSource

        return GitSource.from_settings(self.settings)

    @property
    def triggers(self) -> list[str]:
        """The tasks that stop first at shutdown (no new work during the grace)."""
        return [self.task("repo-poller"), self.task("drift-checker")]

    def start(self) -> None:
        """Start the runnables that run on every replica."""
        for name, (runnable, needs_leader) in self.runnables.items():
            if not needs_leader:
                self.tasks.spawn(name, runnable())

    async def lead(self, *, extra: dict[str, tuple[Runnable, bool]],
                   on_change: Callable[[], None]) -> None:
        """Start the leader-only runnables (this unit's, and ``extra``: the process's
        leader-only tasks this unit carries) while this replica leads the cluster."""
        leading = False
        runnables = {**self.runnables, **extra}
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
                    for name, (runnable, needs_leader) in runnables.items():
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
                    await self.tasks.cancel([n for n, (_r, needs) in runnables.items()
                                             if needs])
                on_change()
            await self.election.changed.wait()

    def reload(self, new: Settings) -> None:
        """Take this cluster's reloaded settings (the safe part, already merged)."""
        self.settings = new
        if self.engine is not None:  # the engine reads policy and apply limits from these
            self.engine.settings = new
            self.engine.policy = new.policy
            if self.engine.observer is not None:
                self.engine.observer.resync_seconds = new.apply.resync_seconds
        if self.drift is not None:
            self.drift.wake()

    async def close(self) -> None:
        await self.election.release()
        if self.engine is not None:
            await self.engine.client.aclose()
