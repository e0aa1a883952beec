"""The controller's pure decisions, as tables: what follows a run, a drift check, a
takeover, and why a run was cut."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mycopod.backoff import Backoff
from mycopod.reconcile.decisions import (
    AfterRun,
    DriftAction,
    Requeue,
    after_run,
    cut_reason,
    on_drift_tick,
    requeue_at_takeover,
)
from mycopod.store.runs import Run


@pytest.mark.parametrize(("status", "dry_run", "compile_failed", "expected"), [
    ("Succeeded", False, False, AfterRun.SUCCEEDED),
    ("Succeeded", True, False, AfterRun.SUCCEEDED),
    ("Failed", False, False, AfterRun.RETRY),
    ("Interrupted", False, False, AfterRun.RETRY),
    ("Failed", False, True, AfterRun.WAIT_FOR_COMMIT),
    ("Interrupted", False, True, AfterRun.WAIT_FOR_COMMIT),
    ("Failed", True, False, AfterRun.NOTHING),  # a dry run is never retried
    ("Interrupted", True, True, AfterRun.NOTHING),
    ("Cancelled", False, False, AfterRun.DROP_RETRY),
    ("AwaitingApproval", False, False, AfterRun.NOTHING),
    ("Pending", False, False, AfterRun.NOTHING),
])
def test_what_follows_a_run(status: str, dry_run: bool, compile_failed: bool,
                            expected: AfterRun) -> None:
    assert after_run(status, dry_run=dry_run, compile_failed=compile_failed) is expected


@pytest.mark.parametrize(
    ("drifted", "report_only", "leader", "self_heal", "failing", "expected"), [
        (True, False, True, True, False, DriftAction.QUEUE_IF_IDLE),
        (True, False, True, False, False, DriftAction.REPORT),
        (True, False, True, False, True, DriftAction.REPORT),  # reported even while failing
        (True, False, True, True, True, DriftAction.NOTHING),  # the retry's backoff decides
        (True, True, True, True, False, DriftAction.NOTHING),  # just after a run: report only
        (True, False, False, True, False, DriftAction.NOTHING),  # a standby never queues
        (True, False, False, False, False, DriftAction.NOTHING),
        (False, False, True, True, False, DriftAction.NOTHING),
        (False, False, True, False, False, DriftAction.NOTHING),
    ])
def test_what_a_drift_check_leads_to(drifted: bool, report_only: bool, leader: bool,
                                     self_heal: bool, failing: bool,
                                     expected: DriftAction) -> None:
    assert on_drift_tick(drifted=drifted, report_only=report_only, leader=leader,
                         self_heal=self_heal, failing=failing) is expected


def _run(status: str, trigger: str, *, dry_run: bool = False,
         requested_by: int | None = 7) -> Run:
    now = datetime.now(UTC)
    return Run(id=1, declaration_id=3, requested_by=requested_by, status=status,  # type: ignore[arg-type]
               started_at=now, finished_at=None, trigger=trigger,  # type: ignore[arg-type]
               cluster="default", commit_sha="a" * 40, dry_run=dry_run, plan=None,
               summary=None, error=None, approved_by=None, approved_at=None,
               rejected_by=None, created_at=now, updated_at=now)


@pytest.mark.parametrize(("last", "expected"), [
    (None, None),
    (_run("Succeeded", "commit"), None),
    (_run("Failed", "commit"), None),
    (_run("Interrupted", "commit", dry_run=True), None),
    (_run("Interrupted", "commit", requested_by=None), Requeue("commit", None)),
    (_run("Interrupted", "webhook", requested_by=None), Requeue("webhook", None)),
    (_run("Interrupted", "drift", requested_by=None), Requeue("drift", None)),
    # a manual run comes back as drift: its requester is not waiting on this process
    (_run("Interrupted", "manual"), Requeue("drift", None)),
    # the run of a commit POST /declarations made stays its submitter's
    (_run("Interrupted", "api"), Requeue("api", 7)),
])
def test_what_a_new_leader_queues_again(last: Run | None, expected: Requeue | None) -> None:
    assert requeue_at_takeover(last) == expected


def test_why_a_run_was_cut() -> None:
    assert cut_reason(lost_leadership=True) == "interrupted: this replica lost the leader lock"
    assert cut_reason(lost_leadership=False) == "interrupted: the controller was stopped"
    assert cut_reason(lost_leadership=False, grace_seconds=30.0) == (
        "interrupted: the controller was stopped (grace period 30s)")


@pytest.mark.parametrize(("base", "cap", "expected"), [
    (0.2, 5.0, [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]),  # the first connection to PostgreSQL
    (10.0, 600.0, [10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 600.0]),  # the repository poller
])
def test_backoff_without_jitter_doubles_to_its_cap(base: float, cap: float,
                                                   expected: list[float]) -> None:
    backoff = Backoff(base, cap, jitter=False)
    assert backoff.delay() == 0.0 and not backoff.failing
    assert [backoff.failure() for _ in expected] == expected
    assert backoff.delay() == expected[-1]
    backoff.success()
    assert backoff.delay() == 0.0 and backoff.failure() == base


def test_backoff_survives_a_very_long_outage() -> None:
    backoff = Backoff(rng=lambda: 1.0)
    for _ in range(5000):
        backoff.failure()
    assert backoff.delay() == 600.0
