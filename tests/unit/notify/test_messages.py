"""Which notification a compile or a run gives, and what the notifier lets through."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mycopod.config_gitops import NotifySettings
from mycopod.notify import messages
from mycopod.notify.notifier import Notifier
from mycopod.store.runs import Run

SHA = "b" * 40


def run(status: str, **fields: Any) -> Run:
    now = datetime.now(UTC)
    data: dict[str, Any] = {
        "id": 9, "declaration_id": 1, "requested_by": None, "status": status,
        "started_at": now, "finished_at": now, "trigger": "commit", "cluster": "default",
        "commit_sha": SHA, "dry_run": False, "plan": None, "summary": None, "error": None,
        "approved_by": None, "approved_at": None, "rejected_by": None, "created_at": now,
        "updated_at": now}
    data.update(fields)
    return Run.model_validate(data)


@pytest.mark.parametrize(("row", "event", "title"), [
    (run("Failed", error="web-1: 500 storage full\nmore"), "run_failed",
     "MycoPod: run 9 failed"),
    (run("AwaitingApproval", plan={"approval_reasons": ["delete old-1"]}),
     "awaiting_approval", "MycoPod: run 9 awaits approval"),
    (run("Succeeded"), None, None),
    (run("Waiting"), None, None),
    (run("Failed", dry_run=True), None, None),
])
def test_for_run(row: Run, event: str | None, title: str | None) -> None:
    message = messages.for_run(row, base="https://mycopod.lab/")
    assert (message.event if message else None) == event
    assert (message.title if message else None) == title
    if message is not None:
        assert "https://mycopod.lab/ui/runs/9" in message.body
        assert SHA in message.body


def test_a_failed_run_names_its_first_error_and_approval_its_reasons() -> None:
    failed = messages.for_run(run("Failed", error="web-1: 500 storage full\nmore"), base="b")
    assert failed is not None and "failed: web-1: 500 storage full\n" in failed.body
    waiting = messages.for_run(run("AwaitingApproval",
                                   plan={"approval_reasons": ["delete old-1"]}), base="b")
    assert waiting is not None and "approval: delete old-1" in waiting.body


def test_a_compile_failure_names_file_and_line() -> None:
    assert messages.for_compile(SHA, ok=True, error=None) is None
    message = messages.for_compile(SHA, ok=False, error="web.md:3: no size\nweb.md:4: x")
    assert message is not None and message.event == "compile_failed"
    assert message.title == "MycoPod: commit bbbbbbbbbb does not compile"
    assert "web.md:3: no size" in message.body and "web.md:4" not in message.body


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def notifier(clock: Clock, **settings: Any) -> Notifier:
    config = NotifySettings.model_validate({"urls": "json://127.0.0.1:9/x", **settings})
    return Notifier(lambda: config, public_url="https://m", clock=clock)


def test_the_same_news_is_told_once_within_repeat_seconds_and_a_change_at_once() -> None:
    clock = Clock()
    n = notifier(clock, repeat_seconds=600)
    failed = run("Failed", error="web-1: 500 storage full")
    n.run_finished(failed)
    n.run_finished(failed.model_copy(update={"id": 10}))  # the retry, failing the same way
    assert n.queue.qsize() == 1
    n.run_finished(failed.model_copy(update={"id": 11, "error": "web-1: no such node"}))
    assert n.queue.qsize() == 2
    clock.now = 601
    n.run_finished(failed)
    assert n.queue.qsize() == 3


def test_events_not_listed_are_not_sent_and_the_rate_is_capped() -> None:
    clock = Clock()
    n = notifier(clock, events=["compile_failed"], max_per_hour=2)
    n.run_finished(run("Failed", error="x"))
    assert n.queue.qsize() == 0
    config = n.settings()
    assert [n._within_rate(config) for _ in range(3)] == [True, True, False]
    clock.now = 3600
    assert n._within_rate(config)


def test_a_full_queue_drops_the_oldest() -> None:
    n = notifier(Clock(), queue_size=1)
    n.commit_compiled("a" * 40, ok=False, error="a.md:1: x", run_id=None)
    n.commit_compiled("c" * 40, ok=False, error="a.md:1: x", run_id=None)
    assert n.queue.qsize() == 1 and n.dropped == 1
    assert n.queue.get_nowait().body.startswith("Commit " + "c" * 40)
