"""Which commit status a compile or a run gives, and what a forge's "later" means."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mycopod.forge import statuses
from mycopod.forge.client import retry_delay
from mycopod.forge.models import CommitStatus
from mycopod.store.runs import Run

BASE = "https://mycopod.lab"
SHA = "a" * 40


def run(status: str, **fields: Any) -> Run:
    now = datetime.now(UTC)
    data: dict[str, Any] = {
        "id": 7, "declaration_id": 1, "requested_by": None, "status": status,
        "started_at": now, "finished_at": now, "trigger": "commit", "cluster": "default",
        "commit_sha": SHA, "dry_run": False, "plan": None, "summary": None, "error": None,
        "approved_by": None, "approved_at": None, "rejected_by": None, "created_at": now,
        "updated_at": now}
    data.update(fields)
    return Run.model_validate(data)


@pytest.mark.parametrize(("row", "state", "description"), [
    (run("Succeeded", summary={"applied": {"actions": 3, "succeeded": 3, "failed": 0}}),
     "success", "run 7 succeeded: 3 of 3 actions applied"),
    (run("Succeeded"), "success", "run 7 succeeded: nothing to change"),
    (run("Failed", error="web-1: 500 storage full\nmore"), "failure",
     "run 7 failed: web-1: 500 storage full"),
    (run("Cancelled"), "failure", "run 7 was rejected"),
    (run("Cancelled", error="superseded by abc1234abc12 (run 9), which waits instead"),
     "error", "run 7 not applied: superseded by abc1234abc12 (run 9), which waits instead"),
    (run("AwaitingApproval"), "pending", "run 7 awaits an Admin's approval"),
    (run("Interrupted"), "pending", "run 7 was interrupted; it will be queued again"),
    (run("Waiting", waiting_reason="waiting for the window Sat 02:00 UTC"), "pending",
     "run 7: waiting for the window Sat 02:00 UTC"),
])
def test_a_run_at_rest_gives_its_commit_a_status(row: Run, state: str,
                                                 description: str) -> None:
    status = statuses.for_run(row, base=BASE)
    assert status is not None
    assert (status.state, status.description) == (state, description)
    assert status.context == "mycopod/reconcile"
    assert status.target_url == "https://mycopod.lab/ui/runs/7"


@pytest.mark.parametrize("row", [run("InProgress"), run("Pending"),
                                 run("Succeeded", commit_sha=None)])
def test_no_status_for_a_moving_run_or_one_without_a_commit(row: Run) -> None:
    assert statuses.for_run(row, base=BASE) is None


def test_compile_results() -> None:
    queued = statuses.for_compile(ok=True, error=None, run_id=4, base=BASE + "/")
    assert (queued.state, queued.description, queued.target_url) == (
        "pending", "compiled; queued as run 4", "https://mycopod.lab/ui/runs/4")
    failed = statuses.for_compile(ok=False, error="web.md:3: 'cores' needs a number\nx",
                                  run_id=None, base=BASE)
    assert (failed.state, failed.target_url) == ("failure", None)
    assert failed.description == "does not compile: web.md:3: 'cores' needs a number"


def test_descriptions_are_one_line_within_the_forge_limit() -> None:
    status = CommitStatus.make("failure", "x" * 300 + "\nsecond line")
    assert len(status.description) == 140 and "\n" not in status.description


@pytest.mark.parametrize(("status", "headers", "wait"), [
    (500, {}, None),  # a 5xx: the caller's backoff decides
    (404, {}, None),
    (403, {}, None),  # forbidden, not limited: never retried
    (429, {"Retry-After": "7"}, 7.0),
    (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1030"}, 30.0),
    (403, {"Retry-After": "2"}, 2.0),  # GitHub's secondary rate limit
    (429, {}, 60.0),
])
def test_retry_delay(status: int, headers: dict[str, str], wait: float | None) -> None:
    assert retry_delay(status, headers, now=1000.0) == wait
