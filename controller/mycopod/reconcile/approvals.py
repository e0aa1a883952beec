"""Who may start a reconcile, and approve or reject a waiting run: the rules, once.

The JSON API (``POST /reconcile``, ``POST /reconcile/{id}/approve|reject``) and the
status page's forms both call these functions, so a rule cannot hold in one and be
missed in the other:

- a User may start a reconcile only when the policy ``users_can_reconcile`` is on; an
  Admin always may;
- only an Admin approves or rejects, and only a run that is ``AwaitingApproval``;
- with ``four_eyes`` an Admin cannot approve a run they requested themselves;
- each rule reads the policy of the run's own cluster (settings are per cluster): a
  ``PolicyOf`` takes the cluster's name;
- approving sets the run back to Pending with ``approved_by`` (the engine re-plans and
  goes ahead only if the approval covers every gated step) and wakes the worker;
  rejecting cancels it;
- only an Admin overrides a run ``Waiting`` for its window (or a resume): it is set
  Pending with ``override_by`` and applies at once, whatever the windows say.

A refusal raises an :class:`ApprovalError`, whose ``code`` names the rule; the API maps
it to its HTTP status (:func:`mycopod.api.errors.from_approval`), the status page to a
notice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
import structlog

from mycopod.config import PolicySettings
from mycopod.errors import MycoPodError
from mycopod.store.runs import Run, RunStore
from mycopod.store.users import User

log = structlog.get_logger(__name__)

PolicyGetter = Callable[[], Awaitable[PolicySettings]]
#: the effective policy of the cluster named (``ApiContext.effective_policy``)
PolicyOf = Callable[[str], Awaitable[PolicySettings]]


class ApprovalError(MycoPodError):
    """A refused start, approval or rejection; ``code`` names the rule."""

    code = "forbidden"


class NotAllowed(ApprovalError):
    """The user's role does not allow it."""


class FourEyes(ApprovalError):
    code = "four_eyes"


class RunNotFound(ApprovalError):
    code = "not_found"


class NotWaiting(ApprovalError):
    """The run is not (or no longer) AwaitingApproval; ``status``: what it is, if known."""

    code = "conflict"

    def __init__(self, message: str, *, status: str | None = None) -> None:
        super().__init__(message)
        self.status = status


async def check_may_reconcile(user: User, policy: PolicyGetter) -> None:
    """Raise :class:`NotAllowed` unless ``user`` may start a reconcile."""
    if user.is_admin:
        return
    if not (await policy()).users_can_reconcile:
        raise NotAllowed("only an Admin may start a reconcile "
                         "(an Admin can allow users with the setting users_can_reconcile)")


async def approve(db: asyncpg.Pool | asyncpg.Connection, run_id: int, *, user: User,
                  policy: PolicyOf, wake: asyncio.Event | None = None) -> Run:
    """AwaitingApproval → Pending with ``approved_by``; ``wake`` is set for the worker.
    ``policy`` is asked for the run's cluster (its ``four_eyes``)."""
    decided = await _decide(db, run_id, user=user, policy=policy, approve=True)
    if wake is not None:
        wake.set()
    return decided


async def reject(db: asyncpg.Pool | asyncpg.Connection, run_id: int, *,
                 user: User) -> Run:
    """AwaitingApproval → Cancelled with ``rejected_by``."""
    return await _decide(db, run_id, user=user, policy=None, approve=False)


async def override(db: asyncpg.Pool | asyncpg.Connection, run_id: int, *,
                   user: User | None, wake: asyncio.Event | None = None) -> Run:
    """Waiting → Pending with ``override_by``: the Admin runs it now; recorded. ``user``
    None: the command line (``mycopod override``), trusted like ``mycopod user``."""
    if user is not None and not user.is_admin:
        raise NotAllowed("this needs the Admin role")
    store = RunStore(db)
    run = await store.get(run_id)
    if run is None:
        raise RunNotFound("run not found")
    if run.status != "Waiting":
        raise NotWaiting(f"run {run_id} is {run.status}, not Waiting", status=run.status)
    user_id = user.id if user is not None else None
    decided = await store.override(run_id, user_id)
    if decided is None:
        raise NotWaiting(f"run {run_id} changed state meanwhile; reload it")
    log.info("reconcile.override", user_id=user_id, run_id=run_id, was=run.waiting_reason)
    if wake is not None:
        wake.set()
    return decided


async def _decide(db: asyncpg.Pool | asyncpg.Connection, run_id: int, *, user: User,
                  policy: PolicyOf | None, approve: bool) -> Run:
    if not user.is_admin:
        raise NotAllowed("this needs the Admin role")
    store = RunStore(db)
    run = await store.get(run_id)
    if run is None:
        raise RunNotFound("run not found")
    if run.status != "AwaitingApproval":
        raise NotWaiting(f"run {run_id} is {run.status}, not AwaitingApproval",
                         status=run.status)
    if approve:
        assert policy is not None
        if (await policy(run.cluster)).four_eyes and run.requested_by == user.id:
            raise FourEyes("four-eyes rule: another Admin must approve a run you requested")
        decided = await store.approve(run_id, user.id)
    else:
        decided = await store.reject(run_id, user.id)
    if decided is None:
        raise NotWaiting(f"run {run_id} changed state meanwhile; reload it")
    log.info("reconcile.approved" if approve else "reconcile.rejected", user_id=user.id,
             run_id=run_id)
    return decided
