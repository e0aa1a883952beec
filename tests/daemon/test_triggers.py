"""Triggers coalesce: a burst of pushes queues one run for the newest commit, and a queued
manual run keeps its requester."""

from __future__ import annotations

import asyncpg

from mycopod.config import load_settings
from mycopod.reconcile.controller import Controller
from mycopod.store.db import Database


async def test_a_burst_of_triggers_gives_one_run_for_the_newest_commit(
    db: asyncpg.Pool, database_url: str
) -> None:
    user = await db.fetchval("INSERT INTO users (username, password_hash, role_id) "
                             "VALUES ('ann', 'x', 1) RETURNING id")
    controller = Controller(load_settings(environ={}),
                            Database(url=database_url, pool=db, embedded=False),
                            install_signals=False)
    first = await controller.enqueue("commit", commit_sha="a" * 40)
    manual = await controller.enqueue("manual", requested_by=user)
    second = await controller.enqueue("webhook", commit_sha="b" * 40)
    third = await controller.enqueue("drift")
    assert first == second == third != manual

    rows = await db.fetch("SELECT id, trigger, commit_sha, requested_by FROM "
                          "reconciliation_runs WHERE status = 'Pending' ORDER BY id")
    assert [(r["trigger"], r["commit_sha"], r["requested_by"]) for r in rows] == [
        ("drift", "b" * 40, None), ("manual", None, user)]

    # Once the automatic run is taken, the next trigger queues a new one.
    await db.execute("UPDATE reconciliation_runs SET status = 'InProgress' WHERE id = $1",
                     first)
    assert await controller.enqueue("commit", commit_sha="c" * 40) not in (first, manual)
