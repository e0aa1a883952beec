"""Which commit status a compile or a run gives (context ``mycopod/reconcile``). Pure.

- a commit that compiles and is queued: ``pending``, "compiled; queued as run N";
- a commit that does not compile: ``failure`` at once, naming the first ``file:line``;
- a run at rest: ``success`` (Succeeded), ``failure`` (Failed, rejected), ``pending``
  with the reason while it waits (approval, a window, suspension) or will be retried;
- a waiting run superseded by a newer commit's run: ``error``, "run N not applied:
  superseded by <commit> (run M), which waits instead" (GitHub has no "cancelled"
  state; ``error`` is final and does not blame the commit as ``failure`` would).

Every status links to the run's page (``/ui/runs/{id}``) when there is a run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mycopod.forge.models import CommitStatus

if TYPE_CHECKING:
    from mycopod.store.runs import Run

__all__ = ["CONTEXT", "PLAN_CONTEXT", "for_compile", "for_run", "run_url"]

CONTEXT = "mycopod/reconcile"
PLAN_CONTEXT = "mycopod/plan"


def run_url(base: str, run_id: int) -> str:
    return f"{base.rstrip('/')}/ui/runs/{run_id}"


def for_compile(*, ok: bool, error: str | None, run_id: int | None,
                base: str) -> CommitStatus:
    """The status of a commit just compiled: queued as ``run_id``, or failing."""
    if not ok:
        first = (error or "unknown error").strip().splitlines()[0]
        return CommitStatus.make("failure", f"does not compile: {first}", context=CONTEXT)
    if run_id is None:
        return CommitStatus.make("pending", "compiled; waiting for a run", context=CONTEXT)
    return CommitStatus.make("pending", f"compiled; queued as run {run_id}", context=CONTEXT,
                             target_url=run_url(base, run_id))


def _applied(run: Run) -> str:
    applied = (run.summary or {}).get("applied") if isinstance(run.summary, dict) else None
    if isinstance(applied, dict) and applied.get("actions"):
        return f"{applied.get('succeeded', 0)} of {applied['actions']} actions applied"
    return "nothing to change"


def for_run(run: Run, *, base: str) -> CommitStatus | None:
    """The status of ``run``'s commit now that the run rests; None for a run without a
    commit or one still moving (Pending, Planning, InProgress)."""
    if not run.commit_sha:
        return None
    url = run_url(base, run.id)
    error = (run.error or "").strip().splitlines()[0] if run.error else ""
    if run.status == "Succeeded":
        what = "planned only (dry run)" if run.dry_run else _applied(run)
        return CommitStatus.make("success", f"run {run.id} succeeded: {what}",
                                 context=CONTEXT, target_url=url)
    if run.status == "Failed":
        return CommitStatus.make("failure", f"run {run.id} failed: {error or 'see the run'}",
                                 context=CONTEXT, target_url=url)
    if run.status == "Cancelled" and (run.error or "").startswith("superseded by"):
        # never applied, and never will be: final, though not the commit's failure
        return CommitStatus.make("error", f"run {run.id} not applied: {error}",
                                 context=CONTEXT, target_url=url)
    if run.status == "Cancelled":
        return CommitStatus.make("failure", f"run {run.id} was rejected", context=CONTEXT,
                                 target_url=url)
    if run.status == "AwaitingApproval":
        return CommitStatus.make("pending", f"run {run.id} awaits an Admin's approval",
                                 context=CONTEXT, target_url=url)
    if run.status == "Waiting":
        return CommitStatus.make("pending", f"run {run.id}: "
                                 f"{run.waiting_reason or 'waiting for its window'}",
                                 context=CONTEXT, target_url=url)
    if run.status == "Interrupted":
        return CommitStatus.make("pending", f"run {run.id} was interrupted; it will be "
                                 "queued again", context=CONTEXT, target_url=url)
    return None
