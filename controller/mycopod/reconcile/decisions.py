"""What the controller does next: pure decisions, taken on values, tested with tables.

The loops (:mod:`mycopod.reconcile.controller`, :mod:`mycopod.reconcile.triggers`) do
the I/O and ask these functions what it means, as kopf keeps its causes apart from its
processing:

- :func:`after_run`: a run ended with this status: forget the failures, retry with
  backoff, wait for the next commit, or nothing;
- :func:`on_drift_tick`: the drift check found these guests drifted: refresh the report
  only, report the drift, queue a ``drift`` run if the queue is idle, or nothing;
- :func:`requeue_at_takeover`: a new leader found this last run: queue it again, and as
  which trigger;
- :func:`cut_reason`: why a run this process was applying was cut.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mycopod.store.runs import Run

__all__ = ["AUTOMATIC_TRIGGERS", "AfterRun", "DriftAction", "Requeue", "after_run",
           "cut_reason", "on_drift_tick", "requeue_at_takeover"]

#: triggers that merge into an automatic run still Pending (a manual one never does)
AUTOMATIC_TRIGGERS = ("commit", "webhook", "drift")


class AfterRun(enum.Enum):
    #: reset the backoff, note the success, refresh the report (no new run)
    SUCCEEDED = "succeeded"
    #: queue the run again after the backoff delay
    RETRY = "retry"
    #: the declaration does not compile: retrying cannot help, the next commit can
    WAIT_FOR_COMMIT = "wait_for_commit"
    #: a person cancelled it: drop the pending retry, keep the failure count
    DROP_RETRY = "drop_retry"
    NOTHING = "nothing"


def after_run(status: str, *, dry_run: bool, compile_failed: bool) -> AfterRun:
    """What follows a run that ended (or stopped) with ``status``."""
    if status == "Succeeded":
        return AfterRun.SUCCEEDED
    if status in ("Failed", "Interrupted") and not dry_run:
        return AfterRun.WAIT_FOR_COMMIT if compile_failed else AfterRun.RETRY
    if status == "Cancelled":
        return AfterRun.DROP_RETRY
    return AfterRun.NOTHING


class DriftAction(enum.Enum):
    #: only the report was refreshed (just after a successful run), or nothing drifted
    NOTHING = "nothing"
    #: drift without self-heal: log it, a manual or commit run corrects it
    REPORT = "report"
    #: queue a ``drift`` run, unless a run is already queued, running or waiting
    QUEUE_IF_IDLE = "queue_if_idle"


def on_drift_tick(*, drifted: bool, report_only: bool, leader: bool, self_heal: bool,
                  failing: bool) -> DriftAction:
    """What a drift check that found (or did not find) drifted guests leads to.

    ``report_only``: the check only refreshes the status page (just after a run). Only
    the leader queues or reports; a failing run's retry is left to its backoff.
    """
    if report_only or not drifted or not leader:
        return DriftAction.NOTHING
    if not self_heal:
        return DriftAction.REPORT
    if failing:
        return DriftAction.NOTHING
    return DriftAction.QUEUE_IF_IDLE


@dataclass(frozen=True)
class Requeue:
    trigger: str
    requested_by: int | None


def requeue_at_takeover(last: Run | None) -> Requeue | None:
    """A new leader found ``last`` as the cluster's newest run: queue it again if it was
    cut. A cut manual run comes back as a ``drift`` run (its requester is not waiting on
    this process); an ``api`` run keeps its submitter, whose run it is."""
    if last is None or last.status != "Interrupted" or last.dry_run:
        return None
    trigger = "drift" if last.trigger == "manual" else last.trigger
    return Requeue(trigger=trigger,
                   requested_by=last.requested_by if last.trigger == "api" else None)


def cut_reason(*, lost_leadership: bool, grace_seconds: float | None = None) -> str:
    """The error recorded on a run this process was applying when it was cut."""
    if lost_leadership:
        return "interrupted: this replica lost the leader lock"
    if grace_seconds is not None:
        return f"interrupted: the controller was stopped (grace period {grace_seconds:g}s)"
    return "interrupted: the controller was stopped"
