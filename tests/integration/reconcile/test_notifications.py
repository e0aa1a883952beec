"""Notifications end to end: the run worker and the database, the notifier task, and a
local Apprise JSON receiver (``json://``) over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from aiohttp import web

from mycopod.config_gitops import NotifySettings
from mycopod.notify.notifier import Notifier
from mycopod.reconcile import reconciler
from mycopod.reconcile.controller import Controller
from mycopod.reconcile.hooks import AllHooks, NoHooks
from mycopod.reconcile.queue import RunQueue
from mycopod.runtime import RuntimeStatus
from mycopod.store.runs import RunStore


@asynccontextmanager
async def receiver(delay: float = 0.0) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """An Apprise JSON receiver: what json://host:port/notify posts, kept in order."""
    got: list[dict[str, Any]] = []

    async def notify(request: web.Request) -> web.Response:
        await asyncio.sleep(delay)
        got.append(await request.json())
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/notify", notify)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"json://127.0.0.1:{port}/notify", got
    finally:
        await runner.cleanup()


async def wait_for(got: list[Any], n: int) -> None:
    for _ in range(200):
        if len(got) >= n:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(got)


async def test_a_failed_run_is_told_once_and_a_waiting_one_too(make_ctx: Any,
                                                                db: asyncpg.Pool) -> None:
    async with receiver() as (url, got):
        config = NotifySettings.model_validate({"urls": url})
        notifier = Notifier(lambda: config, public_url="https://mycopod.lab")
        # with no compiled declaration, every run fails at once
        engine: reconciler.EngineContext = await make_ctx()
        settings = engine.settings
        runtime = RuntimeStatus()
        queue = RunQueue(db, engine.cluster, wake=runtime.wake_reconcile)
        controller = Controller(engine, queue, runtime=runtime, settings=lambda: settings,
                                stopping=lambda: False, hooks=AllHooks(NoHooks(), notifier))
        tasks = [asyncio.create_task(notifier.run(), name="notifier"),
                 asyncio.create_task(controller.run(), name="run-worker")]
        try:
            first = await queue.enqueue("manual")
            await wait_for(got, 1)
            # the retry (after its backoff) fails the same way: not told again
            for _ in range(100):
                if await db.fetchval("SELECT count(*) FROM reconciliation_runs") >= 2:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            assert len(got) == 1
            told = got[0]
            assert told["title"] == f"MycoPod: run {first} failed"
            assert "no compiled declaration to reconcile yet" in told["message"]
            assert f"https://mycopod.lab/ui/runs/{first}" in told["message"]
            assert told["type"] == "failure"
            waiting = await RunStore(db).create(trigger="commit", commit_sha="c" * 40)
            await RunStore(db).save_plan(waiting.id, {"approval_reasons": ["delete old-1"]})
            row = await RunStore(db).set_status(waiting.id, "AwaitingApproval")
            assert row is not None
            notifier.run_finished(row)
            await wait_for(got, 2)
            assert got[1]["title"] == f"MycoPod: run {waiting.id} awaits approval"
            assert "delete old-1" in got[1]["message"] and got[1]["type"] == "warning"
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    assert notifier.sent == 2 and notifier.failed == 0


async def test_a_slow_or_dead_receiver_never_holds_the_caller() -> None:
    async with receiver(delay=5.0) as (url, got):
        config = NotifySettings.model_validate({"urls": f"{url} json://127.0.0.1:9/dead",
                                                "timeout": 0.5})
        notifier = Notifier(lambda: config, public_url="https://m")
        task = asyncio.create_task(notifier.run(), name="notifier")
        try:
            loop = asyncio.get_running_loop()
            started = loop.time()
            notifier.commit_compiled("d" * 40, ok=False, error="web.md:2: what", run_id=None)
            assert loop.time() - started < 0.01
            for _ in range(100):
                if notifier.failed:
                    break
                await asyncio.sleep(0.05)
            assert notifier.failed == 1 and notifier.sent == 0
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
