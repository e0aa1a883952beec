"""``[apply] claim_poll_seconds`` reloads on SIGHUP: the idle run worker looks for
Pending runs at the new interval (what ``Daemon.reload`` does: the reloadable settings
merged in, and the worker woken so that its wait starts afresh)."""

from __future__ import annotations

import asyncio
from typing import Any

from mycopod.config import load_settings
from mycopod.config_reload import reload_changes, reloaded
from mycopod.reconcile import reconciler
from mycopod.reconcile.controller import Controller
from mycopod.reconcile.queue import RunQueue
from mycopod.runtime import RuntimeStatus
from mycopod.spec import ClusterSpec
from mycopod.store.runs import Run, RunStore


def test_claim_poll_seconds_is_a_safe_change() -> None:
    old = load_settings(environ={})
    new = load_settings(environ={}, overrides={"apply": {"claim_poll_seconds": 0.2}})
    assert reload_changes(old, new) == ({"apply.claim_poll_seconds": (1.0, 0.2)}, [])
    assert reloaded(old, new).apply.claim_poll_seconds == 0.2


async def test_the_idle_worker_polls_at_the_reloaded_interval(make_ctx: Any) -> None:
    ctx: reconciler.EngineContext = await make_ctx()

    async def nothing_declared(_run: Run | None) -> reconciler.LoadedSpec:
        return reconciler.LoadedSpec(spec=ClusterSpec())

    ctx.spec_loader = nothing_declared
    current = [reloaded(ctx.settings, load_settings(environ={}, overrides={
        "apply": {"claim_poll_seconds": 60}}))]
    runtime = RuntimeStatus()
    queue = RunQueue(ctx.pool, ctx.cluster, wake=runtime.wake_reconcile)
    worker = Controller(ctx, queue, runtime=runtime, settings=lambda: current[0],
                        stopping=lambda: False)
    runs = RunStore(ctx.pool)

    async def claimed_within(run: Run, seconds: float) -> bool:
        for _ in range(int(seconds / 0.05)):
            row = await runs.get(run.id)
            if row is not None and row.status != "Pending":
                return True
            await asyncio.sleep(0.05)
        return False

    task = asyncio.create_task(worker.run(), name="run-worker")
    try:
        await asyncio.sleep(0.5)  # idle, waiting 60 s
        # queued without a wake-up (as a lost notification): found at the next poll only
        first = await runs.create(trigger="manual", cluster=ctx.cluster)
        assert not await claimed_within(first, 1.5)
        # SIGHUP with claim_poll_seconds = 0.2
        new = reloaded(current[0], load_settings(environ={}, overrides={
            "apply": {"claim_poll_seconds": 0.2}}))
        assert reload_changes(current[0], new)[0] == {
            "apply.claim_poll_seconds": (60.0, 0.2)}
        current[0] = new
        runtime.wake_reconcile.set()
        assert await claimed_within(first, 10)
        await asyncio.sleep(0.5)  # idle again, now at 0.2 s
        second = await runs.create(trigger="manual", cluster=ctx.cluster)
        assert await claimed_within(second, 2.0)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
