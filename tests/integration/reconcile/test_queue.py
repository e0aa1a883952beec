"""The run queue against a real PostgreSQL: requeue with backoff, forget, take over."""

from __future__ import annotations

import asyncpg

from mycopod.backoff import Backoff
from mycopod.reconcile.queue import RunQueue


async def _status(db: asyncpg.Pool, run_id: int) -> str:
    return str(await db.fetchval("SELECT status FROM reconciliation_runs WHERE id = $1",
                                 run_id))


async def test_a_failed_run_comes_back_after_its_backoff_and_success_forgets(
        db: asyncpg.Pool) -> None:
    queue = RunQueue(db, "default", backoff=Backoff(base=0.0, cap=0.0))
    run_id = await queue.enqueue("commit", commit_sha="a" * 40)
    claimed = await queue.claim()
    assert claimed is not None and claimed.id == run_id
    assert await queue.claim() is None
    await db.execute("UPDATE reconciliation_runs SET status = 'Failed' WHERE id = $1", run_id)

    queue.wake.clear()
    assert queue.requeue_later(run_id) == 0.0 and queue.failing
    left = queue.seconds_to_retry()
    assert left is not None and left <= 0
    await queue.requeue_due()
    again = await queue.claim()
    assert again is not None and again.id != run_id and again.commit_sha == "a" * 40
    assert again.trigger == "commit" and queue.wake.is_set()
    assert queue.seconds_to_retry() is None

    queue.forget()
    assert not queue.failing and queue.seconds_to_retry() is None


async def test_a_due_retry_is_dropped_when_newer_work_is_queued(db: asyncpg.Pool) -> None:
    queue = RunQueue(db, "default", backoff=Backoff(base=0.0, cap=0.0))
    failed = await queue.enqueue("commit", commit_sha="a" * 40)
    await db.execute("UPDATE reconciliation_runs SET status = 'Failed' WHERE id = $1", failed)
    queue.requeue_later(failed)
    newer = await queue.enqueue("commit", commit_sha="b" * 40)
    await queue.requeue_due()
    assert await db.fetchval("SELECT count(*) FROM reconciliation_runs WHERE status = "
                             "'Pending'") == 1
    claimed = await queue.claim()
    assert claimed is not None and claimed.id == newer


async def test_give_back_and_cut(db: asyncpg.Pool) -> None:
    queue = RunQueue(db, "default")
    run_id = await queue.enqueue("drift")
    assert await queue.claim() is not None
    await queue.give_back(run_id)
    assert await _status(db, run_id) == "Pending"
    assert await queue.claim() is not None
    await queue.cut(run_id, "interrupted: test")
    assert await _status(db, run_id) == "Interrupted"
    await queue.cut(run_id, "too late")  # a finished run stays as it is
    assert await db.fetchval("SELECT error FROM reconciliation_runs WHERE id = $1",
                             run_id) == "interrupted: test"


async def test_a_new_leader_marks_a_dead_leaders_run_and_queues_it_again(
        db: asyncpg.Pool) -> None:
    dead = RunQueue(db, "default")
    run_id = await dead.enqueue("webhook", commit_sha="c" * 40)
    assert await dead.claim() is not None  # then the leader died mid-run

    leader = RunQueue(db, "default")
    await leader.take_over()
    assert await _status(db, run_id) == "Interrupted"
    again = await leader.claim()
    assert again is not None and again.id != run_id
    assert (again.trigger, again.commit_sha) == ("webhook", "c" * 40)
