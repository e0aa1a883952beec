"""What wakes a reconcile: the repository poller and the drift ticker.

Both run on every replica, leader or not, because what they read is what ``/health``
and the status page show (the repository head, the cluster report). What they queue,
they queue only on the leader: ``leading`` is the composition root's answer
(:mod:`mycopod.daemon`), an input to the decisions here, never a lock of their own.

- :class:`RepoPoller` (task ``repo-poller``) fetches the declarations repository every
  ``poll_seconds`` (the source's backoff stretches that while the remote fails) and at
  once on a webhook; a new head is compiled and queued as a run: ``commit`` or
  ``webhook``, or ``api``, requested by its submitter, for a commit POST /declarations
  made. A commit that does not compile is recorded and not queued: retrying cannot fix
  a declaration, the next commit can. For a cluster that reads a folder (``path``), a
  head that changes none of its declaration files (another cluster's folder of a shared
  repository) is not recorded or run again, when its newest declaration compiled.
- :class:`DriftTicker` (task ``drift-checker``) observes cheaply every ``drift_seconds``
  (one ``/cluster/resources``, a full sweep every ``resync_seconds``) and plans the
  latest good spec: drift on owned guests queues a ``drift`` run when ``self_heal`` is
  on, and is only reported otherwise (:func:`~mycopod.reconcile.decisions.on_drift_tick`):
  logged, and handed to ``on_drift`` (the notifier, which tells new or changed drift
  while no run is queued or applying).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import asyncpg
import structlog

from mycopod import telemetry
from mycopod.reconcile import decisions
from mycopod.reconcile.hooks import NO_HOOKS, RunHooks
from mycopod.runtime import RuntimeStatus

if TYPE_CHECKING:
    from mycopod.config import Settings
    from mycopod.declarations.facts import ClusterFacts
    from mycopod.declarations.pipeline import Prepared
    from mycopod.declarations.source import GitSource
    from mycopod.declarations.workers import CompileWorkers
    from mycopod.reconcile.foreground import Foreground
    from mycopod.reconcile.queue import RunQueue
    from mycopod.reconcile.reconciler import EngineContext

log = structlog.get_logger(__name__)

__all__ = ["DB_ERRORS", "Compiled", "DriftTicker", "RepoPoller", "check_drift",
           "compile_commit", "wait_for"]

#: database trouble a loop rides out (retrying) instead of dying
DB_ERRORS: tuple[type[BaseException], ...] = (OSError, TimeoutError, asyncpg.PostgresError,
                                              asyncpg.InterfaceError)


async def wait_for(event: asyncio.Event, seconds: float) -> bool:
    """Wait for ``event`` at most ``seconds``; True if it was set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=max(0.0, seconds))
    return event.is_set()


# -- the repository poller -------------------------------------------------------------------


@dataclass(frozen=True)
class Compiled:
    declaration_id: int | None
    ok: bool
    error: str | None = None
    #: the commit was made by POST /declarations, submitted by this user
    submitted_by: int | None = None
    from_api: bool = False


async def compile_commit(settings: Settings, db: asyncpg.Pool | asyncpg.Connection,
                         source: GitSource, commit: str, *,
                         workers: CompileWorkers | None = None,
                         facts: ClusterFacts | None = None,
                         prepared: Prepared | None = None) -> Compiled:
    """Compile ``commit`` into a declaration row (errors are recorded there too);
    ``facts``: the cluster's names a bare ``on pve3`` is read with; ``prepared``: the
    commit already read and compiled (then it is only recorded)."""
    from mycopod.declarations import pipeline

    row = await pipeline.compile_commit(source, commit, pool=db, settings=settings,
                                        workers=workers, facts=facts, prepared=prepared)
    error = row.compile_error.splitlines()[0] if row.compile_error else None
    return Compiled(declaration_id=row.id, ok=row.compile_status == "ok", error=error,
                    submitted_by=row.user_id, from_api=row.source == "api")


class RepoPoller:
    """Follows the declarations repository; queues a run for each new head."""

    def __init__(self, source: GitSource | None, queue: RunQueue, *, runtime: RuntimeStatus,
                 settings: Callable[[], Settings], leading: Callable[[], bool],
                 can_reconcile: bool, compilers: CompileWorkers | None = None,
                 hooks: RunHooks = NO_HOOKS,
                 compile_slot: asyncio.Semaphore | None = None) -> None:
        self.source = source
        #: shared by the pollers of one process: one new head compiles at a time, so the
        #: compile workers serve it alone and its time budget starts when it gets them
        self.compile_slot = compile_slot or asyncio.Semaphore(1)
        #: told of each head compiled (the forge's commit statuses)
        self.hooks = hooks
        self.compilers = compilers
        self.queue = queue
        self.runtime = runtime
        self.settings = settings
        self.leading = leading
        self.can_reconcile = can_reconcile
        #: the next fetch is not a webhook's (set by the root on taking leadership)
        self.poll_now = False
        #: with several clusters: a webhook's new head is foreground work
        #: (reconcile/foreground.py)
        self.foreground: Foreground | None = None

    def fetch_now(self) -> None:
        """Fetch at once (not for a webhook): this replica just became the leader."""
        self.poll_now = True
        self.runtime.wake_fetch.set()

    async def run(self) -> None:
        if self.source is None:
            await asyncio.Event().wait()  # nothing to follow; serve until cancelled
        handled: str | None = None  # the last head compiled by this process
        while True:
            webhook = self.runtime.wake_fetch.is_set() and not self.poll_now
            self.poll_now = False
            self.runtime.wake_fetch.clear()
            head = await self._fetch()
            if head and head != handled and self.leading() and self.can_reconcile:
                try:
                    if webhook and self.foreground is not None:
                        async with self.foreground.work(self.queue.cluster):
                            await self._queue_head(head, webhook=webhook)
                    else:
                        await self._queue_head(head, webhook=webhook)
                    handled = head
                except DB_ERRORS as exc:
                    log.warning("poller.database_error", error=f"{type(exc).__name__}: {exc}")
            poll = self.settings().declarations.poll_seconds
            if self.source is not None and self.source.failures:
                poll = max(poll, float(self.source.retry_delay()))
            await wait_for(self.runtime.wake_fetch, poll)

    async def _fetch(self) -> str | None:
        assert self.source is not None
        try:
            fetched = await self.source.fetch_async()
        except Exception as exc:  # an unreachable remote: keep the last good head
            self.runtime.repo_error = str(exc)
            return None
        head = str(fetched) if fetched else None
        self.runtime.repo_head = head
        self.runtime.repo_last_fetch = datetime.now(UTC)
        self.runtime.repo_error = None
        telemetry.DECLARATIONS_INFO.info({"commit": head or ""})
        return head

    async def _queue_head(self, head: str, *, webhook: bool) -> None:
        from mycopod.store.declarations import submission_lock

        assert self.source is not None
        from mycopod.declarations.pipeline import prepare_commit

        facts = await self.runtime.cluster_facts()  # read before holding the lock
        if await self.queue.has_run_for_commit(head) or await self._unchanged(head):
            return
        # Compiled before the lock (held by every replica's poller of this cluster and by
        # POST /declarations: a compile inside made them all wait), recorded inside.
        async with self.compile_slot:
            prepared = await prepare_commit(self.source, head, pool=self.queue.pool,
                                            settings=self.settings(), facts=facts,
                                            workers=self.compilers)
        # Under the submission lock: a commit POST /declarations pushed is recorded as
        # its submitter's before the poller can look at it.
        async with self.queue.pool.acquire() as conn, submission_lock(
                conn, cluster=self.queue.cluster):
            if await self.queue.has_run_for_commit(head, db=conn):
                return
            compiled = await compile_commit(self.settings(), conn, self.source, head,
                                            workers=self.compilers, facts=facts,
                                            prepared=prepared)
            self.runtime.compile_error = (None if compiled.ok else
                                          f"commit {head[:12]}: {compiled.error}")
            if not compiled.ok:
                # Retrying cannot fix a declaration: wait for the next commit.
                log.warning("declarations.compile_failed", commit=head, error=compiled.error)
                self.hooks.commit_compiled(head, ok=False, error=compiled.error, run_id=None)
                return
            if compiled.from_api:
                # A commit made by POST /declarations: the run is its submitter's
                # (whether it may apply without an Admin is the engine's decision).
                run_id = await self.queue.enqueue("api", commit_sha=head,
                                                  declaration_id=compiled.declaration_id,
                                                  requested_by=compiled.submitted_by, db=conn)
            else:
                run_id = await self.queue.enqueue("webhook" if webhook else "commit",
                                                  commit_sha=head,
                                                  declaration_id=compiled.declaration_id,
                                                  db=conn)
            self.hooks.commit_compiled(head, ok=True, error=None, run_id=run_id)


    async def _unchanged(self, head: str) -> bool:
        """No declaration file of this cluster changed since its newest declaration, which
        compiled: nothing to compile, record or run (a push to one cluster's folder of a
        shared repository is every cluster's new head). Only for a cluster that reads a
        folder (``path``): one that reads the whole repository runs every new commit, as
        an empty commit pushed to retry expects."""
        from mycopod.declarations.pipeline import content_sha256
        from mycopod.store.declarations import DeclarationStore

        assert self.source is not None
        if not self.settings().declarations.path:
            return False
        latest = await DeclarationStore(self.queue.pool, self.queue.cluster
                                        ).latest_without_spec()
        if latest is None or not latest.ok or latest.github_commit_sha == head:
            return False
        try:
            files = await asyncio.to_thread(self.source.files_at, head)
        except Exception:  # unreadable files: the compile records what is wrong
            return False
        if {p: content_sha256(t) for p, t in files.items()} != {
                f.path: f.sha256 for f in latest.files}:
            return False
        log.info("poller.unchanged", commit=head, since=latest.github_commit_sha,
                 note="no declaration file of this cluster changed; nothing to run")
        return True


# -- the drift ticker ------------------------------------------------------------------------


async def check_drift(ctx: EngineContext, *,
                      runtime: RuntimeStatus | None = None) -> list[str]:
    """Observe and plan the latest good spec; the guests a run would change.

    Steps an approval must cover (destructive ones, creates over a budget, any step on a
    guest an LLM-compiled paragraph declares under ``llm_changes_need_approval``) are
    left out: they follow the approval rules, so only a run (manual, or for a commit)
    proposes them, and a rejected one is not proposed again at every check.
    """
    from mycopod.reconcile import reconciler
    from mycopod.store.declarations import DeclarationStore

    await ctx.refresh_policy()
    loaded = await ctx.load_spec(None)  # the latest good declaration
    if loaded is None:
        assert ctx.observer is not None
        observed = await ctx.observer.observe(full=None)
        ctx.last_observed = observed
        return []
    origin = ctx.origin  # read once per declaration, not at every tick
    if loaded.declaration_id is None:
        origin = None
    elif origin is None or origin.id != loaded.declaration_id:
        origin = await DeclarationStore(ctx.pool).get_without_spec(loaded.declaration_id)
        ctx.origin = origin
    observed, plan = await reconciler.observe_and_plan(ctx, loaded.spec, origin=origin)
    summary = reconciler.report(plan, observed)
    reconciler.set_gauges(summary, cluster=ctx.cluster)
    if runtime is not None:
        runtime.report = summary
    gated = {target for _kind, target in plan.approval_keys()}
    return sorted({a.target for a in plan.actions if a.target not in gated})


class DriftTicker:
    """Compares the cluster with the latest good spec every ``drift_seconds``."""

    def __init__(self, engine: EngineContext | None, queue: RunQueue, *,
                 runtime: RuntimeStatus, settings: Callable[[], Settings],
                 leading: Callable[[], bool], applying: Callable[[], bool],
                 on_observed: Callable[[], None],
                 on_drift: Callable[[dict[str, tuple[str, ...]], bool], None] | None = None
                 ) -> None:
        self.engine = engine
        #: told of each check's drifted guests (→ their drift), and whether the drift
        #: is left alone (reported, not healed): the notifier's drift_checked
        self.on_drift = on_drift
        self.queue = queue
        self.runtime = runtime
        self.settings = settings
        self.leading = leading
        self.applying = applying
        self.on_observed = on_observed
        self._wake = asyncio.Event()
        #: the next check only refreshes the report (set after a successful run, so the
        #: status page shows the new state at once without queueing another run)
        self._report_only = False

    def wake(self, *, report_only: bool = False) -> None:
        """Check now (after a reload, on taking leadership; ``report_only`` after a run)."""
        self._report_only = self._report_only or report_only
        self._wake.set()

    async def run(self) -> None:
        while True:
            if self.engine is not None and not self.applying():
                await self.tick(self.engine)
            self._wake.clear()
            await wait_for(self._wake, self.settings().apply.drift_seconds)

    async def tick(self, engine: EngineContext) -> None:
        report_only, self._report_only = self._report_only, False
        try:
            # (Proxmox reachability is recorded by the client, call by call.)
            drift = await check_drift(engine, runtime=self.runtime)
            self.on_observed()
            policy = engine.policy or self.settings().policy
            action = decisions.on_drift_tick(
                drifted=bool(drift), report_only=report_only, leader=self.leading(),
                self_heal=policy.self_heal, failing=self.queue.failing)
            if action is decisions.DriftAction.REPORT:
                log.info("drift.detected", guests=drift, self_heal=False,
                         note="reported only; a manual or commit run corrects it")
            elif action is decisions.DriftAction.QUEUE_IF_IDLE and not await self.queue.busy():
                log.info("drift.found", guests=drift)
                await self.queue.enqueue("drift")
            if self.on_drift is not None:
                # drift a queued or running run is about to deal with is not news
                tell = (action is decisions.DriftAction.REPORT and not self.applying()
                        and not await self.queue.busy())
                self.on_drift(self._drifted(drift), tell)
        except Exception as exc:  # Proxmox or the database: both are retried
            log.warning("drift.check_failed", error=f"{type(exc).__name__}: {exc}")

    def _drifted(self, guests: list[str]) -> dict[str, tuple[str, ...]]:
        """Each drifted guest's drift as the report words it (``cores 7 → 2``, ...)."""
        report = self.runtime.report
        worded = {g.name: tuple(g.drift) for g in report.guests} if report else {}
        return {name: worded.get(name, ()) for name in guests}
