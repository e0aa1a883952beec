"""Commit statuses end to end: a real repository, the poller, the run worker and the
simulator, reporting to a local stand-in of GitHub's REST API."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg

from mycopod.config import DeclarationsSettings
from mycopod.config_gitops import ForgeSettings
from mycopod.declarations.source import GitSource
from mycopod.forge.client import ForgeClient
from mycopod.forge.reporter import ForgeReporter
from mycopod.reconcile.controller import Controller
from mycopod.reconcile.queue import RunQueue
from mycopod.reconcile.triggers import RepoPoller
from mycopod.runtime import RuntimeStatus
from mycopod.store.settings import SettingsStore
from tests.support.forge import FakeForge, running_forge
from tests.support.gitrepo import Remote

GOOD = "web-1 is a VM with 2 cores, 4 GB of RAM and a 32 GB disk on local-lvm.\n"
BAD = "web-1 is a VM with two hundred potatoes.\n"


async def wait_statuses(forge: FakeForge, sha: str, n: int) -> list[dict[str, Any]]:
    for _ in range(300):
        found = [body for s, body in forge.statuses if s == sha]
        if len(found) >= n:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"statuses for {sha}: {forge.statuses}")


async def test_pending_success_and_compile_failure(make_ctx: Any, db: asyncpg.Pool,
                                                   tmp_path: Path) -> None:
    ctx = await make_ctx()
    remote = Remote(tmp_path)
    source = GitSource(DeclarationsSettings(repo=str(remote.bare)), state_dir=tmp_path / "s")
    async with running_forge() as forge:
        forge.fail = [(500, {}), (403, {"X-RateLimit-Remaining": "0", "Retry-After": "0"})]
        client = ForgeClient(ForgeSettings(api_url=forge.url, repository="lab/declarations",
                                           token="forge-token"),  # type: ignore[arg-type]
                             backoff_base=0.01)
        reporter = ForgeReporter(client, public_url="https://mycopod.lab", queue_size=50)
        runtime = RuntimeStatus()
        queue = RunQueue(db, ctx.cluster, wake=runtime.wake_reconcile)
        poller = RepoPoller(source, queue, runtime=runtime, settings=lambda: ctx.settings,
                            leading=lambda: True, can_reconcile=True, hooks=reporter)
        controller = Controller(ctx, queue, runtime=runtime, settings=lambda: ctx.settings,
                                stopping=lambda: False, hooks=reporter)
        tasks = [asyncio.create_task(reporter.run(), name="forge-reporter"),
                 asyncio.create_task(controller.run(), name="run-worker")]
        try:
            good = remote.commit({"web.md": GOOD})
            await poller._queue_head(await source.fetch_async(), webhook=False)
            pending, success = await wait_statuses(forge, good, 2)
            run_id = await db.fetchval("SELECT id FROM reconciliation_runs "
                                       "WHERE commit_sha = $1", good)
            assert pending["state"] == "pending"
            assert pending["description"] == f"compiled; queued as run {run_id}"
            assert success["state"] == "success"
            assert success["target_url"] == f"https://mycopod.lab/ui/runs/{run_id}"
            assert success["description"].startswith(f"run {run_id} succeeded")

            bad = remote.commit({"web.md": BAD})
            await poller._queue_head(await source.fetch_async(), webhook=False)
            (failure,) = await wait_statuses(forge, bad, 1)
            assert failure["state"] == "failure"
            assert failure["description"].startswith("does not compile: web.md:1")
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    assert forge.invalid == []
    assert all(body["context"] == "mycopod/reconcile" for _sha, body in forge.statuses)


async def test_a_waiting_commit_superseded_by_a_newer_one_gets_a_final_status(
        make_ctx: Any, db: asyncpg.Pool, tmp_path: Path) -> None:
    ctx = await make_ctx()
    await SettingsStore(db).put("suspended", True, user_id=None)
    remote = Remote(tmp_path)
    source = GitSource(DeclarationsSettings(repo=str(remote.bare)), state_dir=tmp_path / "s")
    async with running_forge() as forge:
        client = ForgeClient(ForgeSettings(api_url=forge.url, repository="lab/declarations",
                                           token="forge-token"),  # type: ignore[arg-type]
                             backoff_base=0.01)
        reporter = ForgeReporter(client, public_url="https://mycopod.lab", queue_size=50)
        runtime = RuntimeStatus()
        queue = RunQueue(db, ctx.cluster, wake=runtime.wake_reconcile)
        poller = RepoPoller(source, queue, runtime=runtime, settings=lambda: ctx.settings,
                            leading=lambda: True, can_reconcile=True, hooks=reporter)
        controller = Controller(ctx, queue, runtime=runtime, settings=lambda: ctx.settings,
                                stopping=lambda: False, hooks=reporter)
        tasks = [asyncio.create_task(reporter.run(), name="forge-reporter"),
                 asyncio.create_task(controller.run(), name="run-worker")]
        try:
            first = remote.commit({"web.md": GOOD})
            await poller._queue_head(await source.fetch_async(), webhook=False)
            _queued, waiting = await wait_statuses(forge, first, 2)
            assert waiting["state"] == "pending" and "suspended" in waiting["description"]

            second = remote.commit({"web.md": GOOD.replace("2 cores", "4 cores")})
            await poller._queue_head(await source.fetch_async(), webhook=False)
            await wait_statuses(forge, second, 2)
            *_, final = await wait_statuses(forge, first, 3)
            first_run, second_run = [r["id"] for r in await db.fetch(
                "SELECT id FROM reconciliation_runs ORDER BY id")]
            assert final["state"] == "error"
            assert final["description"] == (
                f"run {first_run} not applied: superseded by {second[:12]} (run {second_run}), "
                "which waits instead")
            assert final["target_url"] == f"https://mycopod.lab/ui/runs/{first_run}"
            # the newer commit still waits, visibly, and nothing more is said of the first
            await asyncio.sleep(0.3)
            assert [b["state"] for s, b in forge.statuses if s == first] == [
                "pending", "pending", "error"]
            assert [b["state"] for s, b in forge.statuses if s == second] == [
                "pending", "pending"]
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    assert forge.invalid == []
