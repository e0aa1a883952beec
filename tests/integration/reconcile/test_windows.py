"""Suspend and maintenance windows end to end: the run worker, the engine, the simulator
over HTTPS and the real database. The engine's clock is moved, so "the window opens"
happens in a test's time; each window is computed relative to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from mycopod.pvesim.testing import SimHandle
from mycopod.reconcile import approvals, reconciler
from mycopod.reconcile.controller import Controller
from mycopod.reconcile.queue import RunQueue
from mycopod.runtime import RuntimeStatus
from mycopod.spec import ClusterSpec, GuestSpec
from mycopod.store.runs import Run, RunStore
from mycopod.store.settings import SettingsStore
from mycopod.store.users import UserStore


def small(*guest_names: str) -> ClusterSpec:
    return ClusterSpec(guests=[GuestSpec.model_validate(
        {"name": n, "memory_mib": 256, "state": "stopped",
         "disks": [{"slot": "scsi0", "storage": "tank", "size_gib": 1}]})
        for n in guest_names])


def names(sim: SimHandle) -> set[str]:
    with sim.cluster.lock:
        return {g.name for g in sim.cluster.guests.values()}


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(second=30, microsecond=0)

    def __call__(self) -> datetime:
        return self.now


def starting_in(clock: Clock, minutes: int, kind: str = "allow",
                duration: str = "1h") -> dict[str, Any]:
    """A daily window opening ``minutes`` after the clock (UTC)."""
    start = clock.now + timedelta(minutes=minutes)
    return {"kind": kind, "schedule": f"{start.minute} {start.hour} * * *",
            "duration": duration}


@asynccontextmanager
async def worker(ctx: reconciler.EngineContext, spec: ClusterSpec
                 ) -> AsyncIterator[RunQueue]:
    async def loader(run: Run | None) -> reconciler.LoadedSpec:
        return reconciler.LoadedSpec(spec=spec)

    ctx.spec_loader = loader
    runtime = RuntimeStatus()
    queue = RunQueue(ctx.pool, ctx.cluster, wake=runtime.wake_reconcile)
    controller = Controller(ctx, queue, runtime=runtime, settings=lambda: ctx.settings,
                            stopping=lambda: False)
    task = asyncio.create_task(controller.run(), name="run-worker")
    try:
        yield queue
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def wait_run(pool: asyncpg.Pool, run_id: int, done: Callable[[Run], bool]) -> Run:
    run = None
    for _ in range(400):
        run = await RunStore(pool).get(run_id)
        if run is not None and done(run):
            return run
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id}: {run}")


def status(name: str) -> Callable[[Run], bool]:
    return lambda run: run.status == name


async def test_a_suspended_cluster_queues_but_applies_nothing_until_resumed(
        make_ctx: Any, sim: SimHandle, db: asyncpg.Pool) -> None:
    ctx = await make_ctx()
    settings = SettingsStore(db)
    await settings.put("suspended", True, user_id=None)
    async with worker(ctx, small("held-1")) as queue:
        first = await queue.enqueue("commit", commit_sha="a" * 40)
        run = await wait_run(db, first, status("Waiting"))
        assert run.waiting_reason is not None and run.waiting_reason.startswith("suspended")
        assert run.plan is not None and run.plan["actions"], "planned, to show what waits"
        # a newer commit's run waits instead of the older one
        second = await queue.enqueue("commit", commit_sha="b" * 40)
        await wait_run(db, second, status("Waiting"))
        older = await RunStore(db).get(first)
        assert older is not None and older.status == "Cancelled"
        assert older.error == f"superseded by {'b' * 12} (run {second}), which waits instead"
        await asyncio.sleep(0.3)
        assert "held-1" not in names(sim)
        await settings.put("suspended", False, user_id=None)
        done = await wait_run(db, second, status("Succeeded"))
        assert done.waiting_reason is None and done.override_by is None
    assert "held-1" in names(sim)


async def test_a_run_outside_its_window_waits_and_runs_when_the_window_opens(
        make_ctx: Any, sim: SimHandle, db: asyncpg.Pool) -> None:
    ctx = await make_ctx()
    ctx.clock = clock = Clock()
    window = starting_in(clock, 10)
    await SettingsStore(db).put("windows", [window], user_id=None)
    opens = clock.now + timedelta(minutes=10)
    async with worker(ctx, small("late-1")) as queue:
        run_id = await queue.enqueue("commit", commit_sha="c" * 40)
        run = await wait_run(db, run_id, status("Waiting"))
        assert run.waiting_reason == (
            f"waiting for the window {opens.strftime('%a %H:%M')} UTC")
        assert run.wait_until == opens.replace(second=0)
        await asyncio.sleep(0.3)
        assert "late-1" not in names(sim)
        clock.now += timedelta(minutes=11)
        done = await wait_run(db, run_id, status("Succeeded"))
        assert done.error is None
    assert "late-1" in names(sim)


async def test_destructive_only_windows_let_other_runs_through(
        make_ctx: Any, sim: SimHandle, db: asyncpg.Pool) -> None:
    ctx = await make_ctx()
    ctx.clock = clock = Clock()
    await SettingsStore(db).put("windows", [{**starting_in(clock, 30),
                                             "applies_to": "destructive"}], user_id=None)
    async with worker(ctx, small("free-1")) as queue:
        run_id = await queue.enqueue("commit", commit_sha="d" * 40)
        done = await wait_run(db, run_id, lambda r: r.finished)
        assert done.status == "Succeeded", (done.status, done.waiting_reason, done.error)
    assert "free-1" in names(sim)


async def test_an_admins_override_runs_it_at_once_and_is_recorded(
        make_ctx: Any, sim: SimHandle, db: asyncpg.Pool) -> None:
    ctx = await make_ctx()
    ctx.clock = clock = Clock()
    # a deny window that opened a minute ago and lasts two hours
    await SettingsStore(db).put("windows", [starting_in(clock, -1, "deny", "2h")],
                                user_id=None)
    admin = await UserStore(db).add("admin-w", "a long password here", "admin")
    async with worker(ctx, small("now-1")) as queue:
        run_id = await queue.enqueue("commit", commit_sha="e" * 40)
        run = await wait_run(db, run_id, status("Waiting"))
        assert run.waiting_reason is not None
        assert run.waiting_reason.startswith("inside a deny window until")
        assert "now-1" not in names(sim)
        overridden = await approvals.override(db, run_id, user=admin,
                                              wake=queue.wake)
        assert overridden.status == "Pending" and overridden.override_by == admin.id
        done = await wait_run(db, run_id, lambda r: r.finished)
        assert done.status == "Succeeded", done.error
        assert done.override_by == admin.id and done.override_at is not None
    assert "now-1" in names(sim)
