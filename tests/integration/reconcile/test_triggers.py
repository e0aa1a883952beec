"""Triggers coalesce: a burst of pushes queues one run for the newest commit, and a queued
manual run keeps its requester."""

from __future__ import annotations

import asyncpg

from mycopod.reconcile.queue import RunQueue


async def test_a_burst_of_triggers_gives_one_run_for_the_newest_commit(
    db: asyncpg.Pool,
) -> None:
    user = await db.fetchval("INSERT INTO users (username, password_hash, role_id) "
                             "VALUES ('ann', 'x', 1) RETURNING id")
    queue = RunQueue(db, "default")
    first = await queue.enqueue("commit", commit_sha="a" * 40)
    manual = await queue.enqueue("manual", requested_by=user)
    second = await queue.enqueue("webhook", commit_sha="b" * 40)
    third = await queue.enqueue("drift")
    assert first == second == third != manual

    rows = await db.fetch("SELECT id, trigger, commit_sha, requested_by FROM "
                          "reconciliation_runs WHERE status = 'Pending' ORDER BY id")
    assert [(r["trigger"], r["commit_sha"], r["requested_by"]) for r in rows] == [
        ("drift", "b" * 40, None), ("manual", None, user)]

    # Once the automatic run is taken, the next trigger queues a new one.
    await db.execute("UPDATE reconciliation_runs SET status = 'InProgress' WHERE id = $1",
                     first)
    assert await queue.enqueue("commit", commit_sha="c" * 40) not in (first, manual)
