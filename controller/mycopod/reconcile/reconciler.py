"""One reconcile of one run: load the spec, observe, plan, gate, apply, record.

The daemon's worker claims a run (:meth:`RunStore.claim_next_pending`, which makes it
``Planning``) and calls :func:`execute_run`. That function:

1. loads the spec: the one passed in (the CLI compiled it), else the run's declaration,
   else the one in force (the latest good declaration with no unapproved User change);
2. observes the cluster (one ``/cluster/resources`` plus config reads as needed),
   counts the guests deleted and created within the policy's budget window (the
   database's action rows), and plans (:func:`mycopod.reconcile.planner.plan`);
3. stores the plan (:class:`mycopod.reconcile.plan.Plan`, versioned JSON) in
   ``reconciliation_runs.plan`` and its status report
   (:class:`mycopod.reconcile.plan.ClusterReport`) in ``summary``;
4. ``dry_run`` → ``Succeeded`` with the plan, nothing applied;
5. destructive steps the policy does not allow, or creates and deletions over a budget,
   that nobody approved → ``AwaitingApproval`` and return. After ``POST
   /reconcile/{id}/approve`` (``RunStore.approve``: approved_by set, status back to
   Pending) the worker claims the run again; the reconciler re-observes and re-plans and goes
   ahead only if every gated action is covered by the approved plan (same kind and
   target), else it waits for approval again.
   A declaration that carries a User's change no Admin approved (see
   :mod:`mycopod.store.declarations` for the rule) waits the same way, unless the policy
   ``users_can_reconcile`` is on; the plan lists those changes (``user_changes``), and
   approving covers exactly the ones it listed. Once a run goes ahead they are marked
   approved (by the approving Admin, or by nobody when the policy let them through);
6. a plan with actions that may not apply now (the policy ``suspended``, or outside its
   maintenance ``windows``: :mod:`mycopod.reconcile.windows`) → ``Waiting`` with the
   reason, unless an Admin overrode it; the controller releases it when it may apply;
7. else ``InProgress``, apply (:class:`mycopod.reconcile.executor.Executor`), then
   ``Succeeded`` or ``Failed`` (``error`` = the first Proxmox message, or the first plan
   error such as a disk shrink).

:func:`cluster_report` is what the API's status page calls: managed guests with
observed vs declared cores/memory/state and drift marked, orphans and conflicts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
import structlog

from mycopod import gcwindow, telemetry
from mycopod.config import PolicySettings, Settings
from mycopod.declarations.errors import guest_limit_message
from mycopod.errors import MycoPodError
from mycopod.proxmox.client import OutcomeListener, ProxmoxClient
from mycopod.proxmox.errors import ProxmoxError
from mycopod.proxmox.model import ObservedCluster
from mycopod.proxmox.observer import Observer
from mycopod.reconcile import approval_rules, decisions, planner, provenance, windows
from mycopod.reconcile.executor import Executor
from mycopod.reconcile.plan import AppliedSummary, ClusterReport, Plan, PlannedUserChange
from mycopod.reconcile.plan_memo import PlanMemo
from mycopod.spec import ClusterSpec
from mycopod.store.actions import ActionStore
from mycopod.store.declarations import Declaration, DeclarationStore, UserChange
from mycopod.store.inventory import InventoryStore
from mycopod.store.runs import Run, RunStore
from mycopod.store.settings import SettingsStore

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class LoadedSpec:
    spec: ClusterSpec
    declaration_id: int | None = None
    commit_sha: str | None = None


SpecLoader = Callable[[Run | None], Awaitable[LoadedSpec | None]]


@dataclass(frozen=True)
class SpecNames:
    """The declared names observing reads: all of them, those declared as already
    existing (adopted), and the containers that would be created from the default LXC
    template if missing (their creates need the templates listed)."""

    spec: ClusterSpec
    names: tuple[str, ...]
    adopt: tuple[str, ...]
    need_ct_template: tuple[str, ...]

    @classmethod
    def of(cls, spec: ClusterSpec) -> SpecNames:
        guests = spec.guests
        return cls(spec=spec, names=tuple(g.name for g in guests),
                   adopt=tuple(g.name for g in guests if g.adopt),
                   need_ct_template=tuple(g.name for g in guests if g.kind == "ct"
                                          and g.source is None and g.state != "absent"))


@dataclass
class EngineContext:
    """Everything a reconcile needs; the daemon builds it once and reuses it.

    ``policy`` is the effective policy (config file overridden by the ``settings``
    table); :func:`execute_run` refreshes it from the database at the start of each run.
    ``observer`` keeps the config cache between runs, which is what makes a steady-state
    poll cost one request. ``spec_loader`` maps a run to its spec; the default reads the
    run's declaration, else the latest good one.
    """

    pool: asyncpg.Pool
    client: ProxmoxClient
    settings: Settings
    policy: PolicySettings | None = None
    observer: Observer | None = None
    spec_loader: SpecLoader | None = None
    #: set on SIGTERM: the running reconcile starts no new action and ends Interrupted
    stop_requested: asyncio.Event = field(default_factory=asyncio.Event)
    last_observed: ObservedCluster | None = field(default=None, repr=False)
    #: what maintenance windows are checked against (tests move it)
    clock: Callable[[], datetime] = windows.utcnow
    #: per-guest planning results of the last pass, replayed where nothing changed
    plan_memo: PlanMemo = field(default_factory=PlanMemo, repr=False)
    #: runs a parked run superseded (Cancelled), for the worker to report as final
    superseded: list[Run] = field(default_factory=list, repr=False)
    #: the last declaration loaded whole (a compiled declaration's spec never changes)
    _loaded: LoadedSpec | None = field(default=None, repr=False)
    #: the drift check's last declaration row (its files: which paragraph is the LLM's)
    origin: Declaration | None = field(default=None, repr=False)
    _spec_names: SpecNames | None = field(default=None, repr=False)
    #: one observation at a time: a run right after a takeover waits for the drift
    #: check's full resync, then reads only what changed, instead of a second resync
    observing: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.policy is None:
            self.policy = self.settings.policy
        if self.observer is None:
            self.observer = Observer(self.client, ownership_tag=self.policy.ownership_tag,
                                     resync_seconds=self.settings.apply.resync_seconds)

    @property
    def cluster(self) -> str:
        return self.settings.proxmox.cluster

    @classmethod
    def create(cls, pool: asyncpg.Pool, settings: Settings, *,
               client: ProxmoxClient | None = None,
               on_outcome: OutcomeListener | None = None, **options: Any) -> EngineContext:
        """``on_outcome`` hears how every Proxmox call ended (see ProxmoxClient)."""
        client = client or ProxmoxClient.from_settings(
            settings.proxmox, task_timeout=settings.apply.task_timeout_seconds,
            on_outcome=on_outcome)
        return cls(pool=pool, client=client, settings=settings, **options)

    def spec_names(self, spec: ClusterSpec) -> SpecNames:
        """What observing for ``spec`` needs from it, kept while the spec is the same
        object (one pass over 10,000 declared guests less at every drift tick)."""
        if self._spec_names is None or self._spec_names.spec is not spec:
            self._spec_names = SpecNames.of(spec)
        return self._spec_names

    async def refresh_policy(self) -> PolicySettings:
        """The config file's policy overridden by the ``settings`` table."""
        store = SettingsStore(self.pool, self.cluster)
        self.policy = await store.effective_policy(self.settings.policy)
        assert self.observer is not None
        self.observer.ownership_tag = self.policy.ownership_tag
        return self.policy

    async def load_spec(self, run: Run | None) -> LoadedSpec | None:
        """The spec for ``run`` (None: the latest good declaration)."""
        if self.spec_loader is not None:
            return await self.spec_loader(run)
        self._loaded = await _declaration_spec(self.pool, run, self._loaded,
                                               cluster=self.cluster)
        return self._loaded


async def _declaration_spec(pool: asyncpg.Pool, run: Run | None,
                            last: LoadedSpec | None, *,
                            cluster: str = "default") -> LoadedSpec | None:
    """The run's declaration, else the latest good one (the declarations store).

    Rows are read without their spec first: when it is ``last``'s declaration, ``last``
    is returned as it is (the same spec object, which the plan memo relies on, and no
    10,000-guest JSON parsed at every drift tick)."""
    store = DeclarationStore(pool, cluster)
    row = (await store.get_without_spec(run.declaration_id)
           if run and run.declaration_id else None)
    if row is None or not row.ok:
        row = await store.latest_good_without_spec()
    if row is None:
        return None
    if last is not None and last.declaration_id == row.id:
        return last
    full = await store.get(row.id)
    if full is None or full.spec is None:
        return None
    return LoadedSpec(spec=full.spec, declaration_id=full.id,
                      commit_sha=full.github_commit_sha)


# --- observe + plan ----------------------------------------------------------------------


@gcwindow.during  # a first full resync makes 10,000 guests' objects: fewer GC walks
async def observe_and_plan(ctx: EngineContext, spec: ClusterSpec, *,
                           full: bool | None = None, origin: Declaration | None = None
                           ) -> tuple[ObservedCluster, Plan]:
    """Observe the cluster and plan ``spec`` against it under the effective policy.

    ``origin``, the declaration ``spec`` comes from, says which guests LLM-compiled
    paragraphs declare (their changes wait for approval) and whether paragraphs failed
    (then nothing is pruned: a guest of a failed paragraph is missing, not removed)."""
    policy = ctx.policy or ctx.settings.policy
    if origin is not None and origin.incomplete:
        policy = policy.model_copy(update={"prune": False})
    observer = ctx.observer
    assert observer is not None
    inventory = await InventoryStore(ctx.pool).names(ctx.cluster)
    declared = ctx.spec_names(spec)
    adopt = declared.names if policy.adopt_existing else declared.adopt
    async with ctx.observing:
        observed = await observer.observe(inventory=inventory, adopt_names=adopt, full=full)
    if declared.need_ct_template:
        names = {g.name for g in observed.guests if not g.template}
        if any(name not in names for name in declared.need_ct_template):
            observed = await observer.observe_ct_templates(observed)
    ctx.last_observed = observed
    recent = approval_rules.Recent(*await ActionStore(ctx.pool).executed_within(
        ctx.cluster, policy.budget_window_seconds))  # deletions, creates
    llm, memo = origin.llm_guests if origin else None, ctx.plan_memo
    plan = planner.plan(spec, observed, policy, recent=recent, llm_guests=llm, memo=memo)
    # a start or stop rests on a row's lagging status: confirm it, plan again if it differs
    power = {a.vmid for a in plan.actions if a.kind in ("start", "stop")}
    if power and (confirmed := await observer.confirm_status(observed, power)) is not None:
        observed = ctx.last_observed = confirmed
        plan = planner.plan(spec, observed, policy, recent=recent, llm_guests=llm, memo=memo)
    if origin is not None and plan.actions:  # each guest acted on: its paragraph
        plan.sources = provenance.trace(
            origin.files, origin.content, {g.name: g for g in spec.guests},
            {a.target for a in plan.actions}, gate=policy.llm_changes_need_approval)
    return observed, plan


def report(plan: Plan, observed: ObservedCluster) -> ClusterReport:
    """The status-page view of a plan: guests (declared vs observed, drift), orphans,
    conflicts, pending restarts and plan errors, with counts."""
    managed = sum(1 for g in observed.guests if g.owned and not g.template)
    drifted = sum(1 for g in plan.guests
                  if g.status in ("drifted", "missing", "pending-restart"))
    return ClusterReport(
        managed=managed, drifted=drifted, orphaned=len(plan.orphans),
        conflicts=list(plan.conflicts), orphans=list(plan.orphans),
        pending_restart=list(plan.pending_restart), errors=list(plan.errors),
        guests=list(plan.guests), actions=len(plan.actions),
        observed_at=time.time())


def set_gauges(summary: ClusterReport, *, cluster: str) -> None:
    """The managed/drifted/orphaned gauges from a report (runs and drift checks)."""
    telemetry.MANAGED_GUESTS.labels(cluster=cluster).set(summary.managed)
    telemetry.DRIFTED_GUESTS.labels(cluster=cluster).set(summary.drifted)
    telemetry.ORPHANED_GUESTS.labels(cluster=cluster).set(summary.orphaned)


async def cluster_report(ctx: EngineContext, spec: ClusterSpec | None = None) -> ClusterReport:
    """Managed guests with observed vs declared cores/memory/state, drift marked; orphans
    and conflicts. Uses ``spec``, else the latest good declaration. Applies nothing."""
    await ctx.refresh_policy()
    if spec is None:
        loaded = await ctx.load_spec(None)
        spec = loaded.spec if loaded is not None else ClusterSpec()
    observed, plan = await observe_and_plan(ctx, spec)
    summary = report(plan, observed)
    set_gauges(summary, cluster=ctx.cluster)
    return summary


async def _backfill_inventory(ctx: EngineContext, observed: ObservedCluster, *,
                              run_id: int) -> None:
    """Guests owned by tag but missing from the inventory (a crash between the create
    call and its inventory row, or an older MycoPod) are recorded, so they stay ours
    even if someone removes the tag. A vmid the inventory records under another name is
    not a missing row but a guest renamed or replaced out of band: its row (name and
    identity) is kept, so the identity guard refuses to act on it."""
    missing = [(g.vmid, g.name, g.kind, g.node) for g in observed.guests
               if g.owned and not g.in_inventory and not g.template
               and g.recorded_name is None]
    await InventoryStore(ctx.pool).record_many(ctx.cluster, missing, run_id=run_id)


# --- one run -----------------------------------------------------------------------------


def _user_changes_reason(changes: list[UserChange]) -> str:
    return ("changes submitted by a User need an Admin's approval (users_can_reconcile is "
            "off): " + "; ".join(c.describe() for c in changes))


async def execute_run(run: Run, *, ctx: EngineContext, spec: ClusterSpec | None = None,
                      declaration_id: int | None = None, commit_sha: str | None = None,
                      origin: Declaration | None = None) -> Run:
    """Carry a claimed (``Planning``) run to its next resting status; returns the run row.

    Resting statuses: Succeeded, Failed, AwaitingApproval, Waiting. Never raises for a failure
    of the run itself (Proxmox errors, plan errors, no spec): those end up in the row.
    """
    runs = RunStore(ctx.pool)
    started = time.monotonic()
    structlog.contextvars.bind_contextvars(run_id=run.id)
    try:
        final = await _execute(run, ctx=ctx, runs=runs, spec=spec,
                               declaration_id=declaration_id, commit_sha=commit_sha,
                               origin=origin)
    except Exception as exc:
        message = exc.message if isinstance(exc, ProxmoxError) else str(exc)
        if not isinstance(exc, MycoPodError):
            log.exception("run.crashed", run_id=run.id)
            message = f"internal error: {type(exc).__name__}: {exc}"
        failed = await runs.set_status(run.id, "Failed", error=message or type(exc).__name__)
        assert failed is not None
        final = failed
    finally:
        structlog.contextvars.unbind_contextvars("run_id")
    seconds = time.monotonic() - started
    if final.status in ("Succeeded", "Failed"):
        telemetry.RECONCILE_RUNS.labels(final.status, final.trigger, ctx.cluster).inc()
        telemetry.RECONCILE_DURATION.labels(cluster=ctx.cluster).observe(seconds)
    if final.status == "Succeeded":
        telemetry.LAST_SUCCESS.labels(cluster=ctx.cluster).set(time.time())
    try:
        counts = await runs.counts_by_status(ctx.cluster)
        telemetry.RUNS_AWAITING_APPROVAL.labels(cluster=ctx.cluster).set(
            counts["AwaitingApproval"])
    except Exception:  # a gauge must never fail a run
        log.warning("run.gauge_failed", run_id=run.id)
    log.info("run.finished", run_id=run.id, status=final.status, trigger=final.trigger,
             seconds=round(seconds, 3), error=final.error)
    return final


async def _execute(run: Run, *, ctx: EngineContext, runs: RunStore,
                   spec: ClusterSpec | None, declaration_id: int | None,
                   commit_sha: str | None, origin: Declaration | None = None) -> Run:
    policy = await ctx.refresh_policy()
    if spec is None:
        loaded = await ctx.load_spec(run)
        if loaded is None:
            done = await runs.set_status(run.id, "Failed", error=(
                "no compiled declaration to reconcile yet; push a declaration that "
                "compiles"))
            assert done is not None
            return done
        spec, declaration_id, commit_sha = loaded.spec, loaded.declaration_id, \
            loaded.commit_sha
    limit = ctx.settings.declarations.max_guests
    if len(spec.guests) > limit:
        # compiles refuse this already; a spec given whole (--spec) or stored before the
        # limit existed, or a lowered limit, must not be planned either
        done = await runs.set_status(run.id, "Failed", error=guest_limit_message(
            len(spec.guests), limit))
        assert done is not None
        return done
    # the plan a person approved (refused with a clear error if a newer MycoPod wrote it)
    previous = (Plan.from_json(run.plan)
                if run.approved_by is not None or run.approved_at is not None else None)
    approved = previous.approval_keys() if previous is not None else None
    if declaration_id is not None:  # else the files given (``mycopod reconcile FILE``)
        origin = await DeclarationStore(ctx.pool).get_without_spec(declaration_id)
    observed, plan = await observe_and_plan(ctx, spec, origin=origin)
    await _backfill_inventory(ctx, observed, run_id=run.id)
    summary = report(plan, observed)
    set_gauges(summary, cluster=ctx.cluster)
    declarations = DeclarationStore(ctx.pool, ctx.cluster)
    changes = (await declarations.unapproved_changes(declaration_id)
               if declaration_id is not None else [])
    changes_wait = bool(changes) and not policy.users_can_reconcile
    if changes_wait:
        plan.approval_reasons.append(_user_changes_reason(changes))
    plan.user_changes = [PlannedUserChange.model_validate(c.model_dump()) for c in changes]
    saved = await runs.save_plan(run.id, plan.to_json(), summary=summary.to_json(),
                                 declaration_id=declaration_id, commit_sha=commit_sha)
    assert saved is not None
    log.info("run.planned", run_id=run.id, actions=len(plan.actions),
             destructive=len(plan.destructive), errors=len(plan.errors),
             user_changes=len(changes))
    if run.dry_run:
        done = await runs.set_status(run.id, "Succeeded")
        assert done is not None
        return done
    # A User's change goes ahead only when the approved plan showed it (an Admin saw
    # exactly these submissions), or when the policy lets Users reconcile.
    changes_approved = previous is not None and {c.declaration_id for c in changes} <= {
        c.declaration_id for c in previous.user_changes}
    if approval_rules.approval_needed(plan, approved) or (changes_wait
                                                           and not changes_approved):
        if approved is not None:
            await runs.clear_approval(run.id)
        waiting = await runs.set_status(run.id, "AwaitingApproval")
        assert waiting is not None
        return waiting
    held = (windows.hold(suspended=policy.suspended, windows=policy.windows,
                         destructive=bool(plan.destructive), now=ctx.clock())
            if plan.actions and run.override_at is None else None)
    if held is not None:
        parked = await runs.park(run.id, held.reason, until=held.until,
                                 supersede=list(decisions.AUTOMATIC_TRIGGERS),
                                 superseded=ctx.superseded)
        assert parked is not None
        log.info("run.waiting", run_id=run.id, reason=held.reason, until=held.until)
        return parked
    if changes:
        # From now on the declaration is in force (DeclarationStore.latest_good).
        by = run.approved_by if changes_wait else None
        await declarations.approve_changes([c.declaration_id for c in changes], by)
        log.info("declarations.user_changes_approved", run_id=run.id, approved_by=by,
                 by_policy=not changes_wait, declarations=[c.declaration_id for c in changes])
    plan_error = (f"{plan.errors[0].guest}: {plan.errors[0].message}"
                  if plan.errors else None)
    if not plan.actions:
        done = await runs.set_status(run.id, "Failed" if plan_error else "Succeeded",
                                     error=plan_error)
        assert done is not None
        return done
    await runs.set_status(run.id, "InProgress")
    executor = Executor(
        client=ctx.client, pool=ctx.pool, cluster=ctx.cluster, run_id=run.id,
        ownership_tag=policy.ownership_tag, apply=ctx.settings.apply,
        requested_by=run.requested_by, observer=ctx.observer,
        used_vmids=observed.used_vmids(), stop=ctx.stop_requested,
        credentials=ctx.settings.credentials.read)
    result = await executor.execute(plan, spec)
    summary.applied = AppliedSummary(actions=result.actions, succeeded=result.succeeded,
                                     failed=result.failed)
    stored = summary.to_json()
    if result.stopped:
        done = await runs.set_status(run.id, "Interrupted", summary=stored, error=(
            "interrupted: the controller stopped before the run finished"))
    elif result.failed:
        done = await runs.set_status(run.id, "Failed", error=result.first_error,
                                     summary=stored)
    elif plan_error:
        done = await runs.set_status(run.id, "Failed", error=plan_error, summary=stored)
    else:
        done = await runs.set_status(run.id, "Succeeded", summary=stored)
    assert done is not None
    return done
