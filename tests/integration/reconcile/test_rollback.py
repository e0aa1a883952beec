"""Rollback end to end: a real repository, the poller, the run worker and the simulator.
The rollback is a new commit on the branch, and its run restores the earlier spec."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from mycopod.config import DeclarationsSettings
from mycopod.declarations.rollback import commit_rollback
from mycopod.declarations.source import GitSource, SourceError
from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle
from mycopod.reconcile.controller import Controller
from mycopod.reconcile.queue import RunQueue
from mycopod.reconcile.triggers import RepoPoller
from mycopod.runtime import RuntimeStatus
from mycopod.store.runs import Run, RunStore
from tests.support.gitrepo import Remote


def web(cores: int) -> str:
    return f"web-1 is a VM with {cores} cores, 4 GB of RAM and a 32 GB disk on local-lvm.\n"


async def run_of(db: asyncpg.Pool, sha: str) -> Run:
    for _ in range(400):
        run_id = await db.fetchval("SELECT id FROM reconciliation_runs WHERE commit_sha = $1 "
                                   "ORDER BY id DESC LIMIT 1", sha)
        run = await RunStore(db).get(run_id) if run_id else None
        if run is not None and run.finished:
            return run
        await asyncio.sleep(0.05)
    raise AssertionError(f"no finished run for {sha}")


async def test_a_rollback_commit_restores_the_earlier_spec(
        make_ctx: Any, sim: SimHandle, db: asyncpg.Pool, tmp_path: Path) -> None:
    ctx = await make_ctx()
    remote = Remote(tmp_path)
    source = GitSource(DeclarationsSettings(repo=str(remote.bare)), state_dir=tmp_path / "s")
    runtime = RuntimeStatus()
    queue = RunQueue(db, ctx.cluster, wake=runtime.wake_reconcile)
    poller = RepoPoller(source, queue, runtime=runtime, settings=lambda: ctx.settings,
                        leading=lambda: True, can_reconcile=True)
    controller = Controller(ctx, queue, runtime=runtime, settings=lambda: ctx.settings,
                            stopping=lambda: False)
    task = asyncio.create_task(controller.run(), name="run-worker")

    async def push_and_run(sha: str) -> Run:
        await poller._queue_head(await source.fetch_async(), webhook=False)
        return await run_of(db, sha)

    try:
        two = remote.commit({"web.md": web(2)}, "two cores")
        assert (await push_and_run(two)).status == "Succeeded"
        four = remote.commit({"web.md": web(4), "notes.md": "# notes\n"}, "four cores")
        assert (await push_and_run(four)).status == "Succeeded"
        assert int(direct.config(sim.cluster, "web-1")["cores"]) == 4

        sha, target = await asyncio.to_thread(
            commit_rollback, source, two[:10], author_name="alice",
            author_email="alice@users.mycopod.invalid")
        assert target == two
        done = await push_and_run(sha)
        assert done.status == "Succeeded", done.error
        assert int(direct.config(sim.cluster, "web-1")["cores"]) == 2
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    # a new commit on top: history kept, the tree as it was, authored by the caller
    bare = ["--git-dir", str(remote.bare)]
    assert remote.git(*bare, "rev-parse", "main") == sha
    assert remote.git(*bare, "log", "-1", "--format=%an|%P|%s", sha) == (
        f"alice|{four}|Roll back to {two[:12]} (requested by alice)")
    assert (remote.git(*bare, "rev-parse", f"{sha}^{{tree}}")
            == remote.git(*bare, "rev-parse", f"{two}^{{tree}}"))
    # nothing to roll back to at the head, nor outside the branch's history
    with pytest.raises(SourceError, match="head of 'main' already"):
        commit_rollback(source, sha, author_name="alice", author_email="a@b")
    with pytest.raises(SourceError, match="not in the declarations repository"):
        commit_rollback(source, "0" * 40, author_name="alice", author_email="a@b")
