"""Notifications of drift left alone and of a lost Proxmox connection, end to end: the
drift ticker and the engine against the simulator over real HTTPS, the notifier's tasks,
and a local Apprise JSON receiver (``json://``) over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from proxmoxer import ProxmoxAPI

from mycopod.config_gitops import NotifySettings
from mycopod.notify.notifier import Notifier
from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle
from mycopod.reconcile import reconciler
from mycopod.reconcile.queue import RunQueue
from mycopod.reconcile.triggers import DriftTicker
from mycopod.runtime import RuntimeStatus
from mycopod.spec import ClusterSpec, GuestSpec
from mycopod.store.runs import Run

from .conftest import reconcile
from .test_notifications import receiver, wait_for

WANT = ClusterSpec(guests=[GuestSpec.model_validate(
    {"name": "web-1", "cores": 2, "memory_mib": 2048, "tags": ["web"]})])


def api(sim: SimHandle) -> ProxmoxAPI:
    return ProxmoxAPI(sim.host, port=sim.port, user=sim.user, password=sim.password,
                      verify_ssl=False)


async def settle(sim: SimHandle) -> None:
    """Let the simulator's tasks end and /cluster/resources catch up."""
    await asyncio.sleep(0.2)
    sim.stats_round()


@asynccontextmanager
async def notifying(url: str, **notify: Any) -> AsyncIterator[Notifier]:
    config = NotifySettings.model_validate({"urls": url, **notify})
    notifier = Notifier(lambda: config, public_url="https://mycopod.lab")
    task = asyncio.create_task(notifier.run(), name="notifier")
    try:
        yield notifier
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def ticker_for(ctx: reconciler.EngineContext, db: asyncpg.Pool, runtime: RuntimeStatus,
               notifier: Notifier) -> DriftTicker:
    async def latest(run: Run | None) -> reconciler.LoadedSpec:
        return reconciler.LoadedSpec(spec=WANT)

    ctx.spec_loader = latest
    queue = RunQueue(db, ctx.cluster, wake=runtime.wake_reconcile)
    return DriftTicker(ctx, queue, runtime=runtime, settings=lambda: ctx.settings,
                       leading=lambda: True, applying=lambda: False,
                       on_observed=lambda: None, on_drift=notifier.drift_checked)


async def test_drift_left_alone_is_told_once_until_it_changes_and_again_when_back(
        make_ctx: Any, sim: SimHandle, db: asyncpg.Pool) -> None:
    ctx = await make_ctx(self_heal=False)
    assert (await reconcile(ctx, WANT)).status == "Succeeded"
    prox = api(sim)
    vmid = direct.find_guest(sim.cluster, "web-1").vmid  # type: ignore[union-attr]
    vm = prox.nodes(direct.node_of(sim.cluster, vmid)).qemu(vmid)
    async with receiver() as (url, got), notifying(url) as notifier:
        ticker = ticker_for(ctx, db, RuntimeStatus(), notifier)
        await ticker.tick(ctx)  # in sync: nothing to tell

        # drift behind MycoPod's back: stopped by hand
        await asyncio.to_thread(vm.status.stop.post)
        await settle(sim)
        for _ in range(3):
            await ticker.tick(ctx)
        await wait_for(got, 1)
        await asyncio.sleep(0.3)
        assert len(got) == 1, got
        assert got[0]["title"] == "MycoPod: drift on web-1 not self-healed"
        assert "web-1: state stopped → running" in got[0]["message"]
        assert "https://mycopod.lab/ui/guests" in got[0]["message"]
        assert got[0]["type"] == "warning"

        # the same guest drifts further: new news
        await asyncio.to_thread(vm.config.put, cores=7)
        await settle(sim)
        for _ in range(3):
            await ticker.tick(ctx)
        await wait_for(got, 2)
        await asyncio.sleep(0.3)
        assert len(got) == 2, got
        assert "cores 7 → 2" in got[1]["message"]
        assert "state stopped → running" in got[1]["message"]

        # put right by hand: nothing to tell; then the same drift again: told again
        await asyncio.to_thread(vm.config.put, cores=2)
        await asyncio.to_thread(vm.status.start.post)
        await settle(sim)
        await ticker.tick(ctx)
        await asyncio.to_thread(vm.config.put, cores=7)
        await asyncio.to_thread(vm.status.stop.post)
        await settle(sim)
        await ticker.tick(ctx)
        await ticker.tick(ctx)
        await wait_for(got, 3)
        await asyncio.sleep(0.3)
        assert len(got) == 3, got
        assert got[2]["message"] == got[1]["message"]
    # self_heal is off: the drift was only told, never corrected
    assert await db.fetchval("SELECT count(*) FROM reconciliation_runs") == 1
    assert direct.status(sim.cluster, "web-1") == "stopped"


async def test_drift_healed_by_self_heal_is_not_told(make_ctx: Any, sim: SimHandle,
                                                     db: asyncpg.Pool) -> None:
    ctx = await make_ctx(self_heal=True)
    assert (await reconcile(ctx, WANT)).status == "Succeeded"
    vmid = direct.find_guest(sim.cluster, "web-1").vmid  # type: ignore[union-attr]
    vm = api(sim).nodes(direct.node_of(sim.cluster, vmid)).qemu(vmid)
    async with receiver() as (url, got), notifying(url) as notifier:
        ticker = ticker_for(ctx, db, RuntimeStatus(), notifier)
        await asyncio.to_thread(vm.status.stop.post)
        await settle(sim)
        await ticker.tick(ctx)
        await asyncio.sleep(0.5)
    assert got == []
    # a drift run was queued instead
    assert await db.fetchval(
        "SELECT count(*) FROM reconciliation_runs WHERE trigger = 'drift'") == 1


class Gate:
    """A TCP forwarder in front of the simulator that can be shut (connections
    refused, open ones cut) and opened again on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def shut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.close()
        await self.server.wait_closed()
        self.server = None

    async def _serve(self, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            self.writers.difference_update((writer, up_writer))


async def test_a_lost_proxmox_connection_is_told_once_and_its_return_once(
        make_ctx: Any, sim: SimHandle, db: asyncpg.Pool) -> None:
    gate = Gate(sim.host, sim.port)
    await gate.open()
    ctx = await make_ctx(self_heal=False,
                         proxmox={"url": f"https://127.0.0.1:{gate.port}"})
    assert (await reconcile(ctx, WANT)).status == "Succeeded"  # in sync: no drift news
    runtime = RuntimeStatus(cluster="lab", leader=True)
    ctx.client.on_outcome = runtime.proxmox_outcome
    async with receiver() as (url, got), notifying(url, lost_after_seconds=1.0) as notifier:
        ticker = ticker_for(ctx, db, runtime, notifier)
        watch = asyncio.create_task(notifier.watch(runtime, every=0.1))
        try:
            await ticker.tick(ctx)
            assert runtime.proxmox_ok is True
            await gate.shut()
            # unreachable for longer than the threshold, checked again and again
            for _ in range(6):
                await ticker.tick(ctx)
                await asyncio.sleep(0.3)
            assert runtime.proxmox_ok is False
            await wait_for(got, 1)
            assert len(got) == 1, got
            assert got[0]["title"] == "MycoPod: lost the Proxmox connection (lab)"
            assert "https://mycopod.lab/" in got[0]["message"]
            assert got[0]["type"] == "failure"
            await gate.open()
            await ticker.tick(ctx)
            assert runtime.proxmox_ok is True
            await wait_for(got, 2)
            await asyncio.sleep(0.5)
            assert len(got) == 2, got
            assert got[1]["title"] == "MycoPod: the Proxmox connection recovered (lab)"
            assert got[1]["type"] == "success"
        finally:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
            if gate.server is not None:
                await gate.shut()


async def test_a_short_blip_is_not_told(make_ctx: Any, sim: SimHandle,
                                        db: asyncpg.Pool) -> None:
    gate = Gate(sim.host, sim.port)
    await gate.open()
    ctx = await make_ctx(proxmox={"url": f"https://127.0.0.1:{gate.port}"})
    assert (await reconcile(ctx, WANT)).status == "Succeeded"
    runtime = RuntimeStatus(leader=True)
    ctx.client.on_outcome = runtime.proxmox_outcome
    async with receiver() as (url, got), notifying(url, lost_after_seconds=5.0) as notifier:
        ticker = ticker_for(ctx, db, runtime, notifier)
        watch = asyncio.create_task(notifier.watch(runtime, every=0.1))
        try:
            await gate.shut()
            await ticker.tick(ctx)
            assert runtime.proxmox_ok is False
            await asyncio.sleep(0.5)
            await gate.open()
            await ticker.tick(ctx)
            assert runtime.proxmox_ok is True
            await asyncio.sleep(0.5)
        finally:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
            if gate.server is not None:
                await gate.shut()
    assert got == []


async def test_a_run_applies_while_a_slow_receiver_is_still_sleeping(
        make_ctx: Any, sim: SimHandle, db: asyncpg.Pool) -> None:
    """A notification being sent (to a slow receiver) adds nothing to a run's apply
    phase: the run is applied and at rest before the receiver has answered (it sleeps
    3 s; Apprise's own read timeout is 4 s)."""
    from mycopod.reconcile.controller import Controller
    from mycopod.store.actions import ActionStore
    from mycopod.store.runs import RunStore

    ctx = await make_ctx(self_heal=False)
    runtime = RuntimeStatus()
    async with receiver(delay=3.0) as (url, got), notifying(url, timeout=10) as notifier:
        ticker_for(ctx, db, runtime, notifier)  # the spec the run applies: WANT
        queue = RunQueue(db, ctx.cluster, wake=runtime.wake_reconcile)
        controller = Controller(ctx, queue, runtime=runtime, settings=lambda: ctx.settings,
                                stopping=lambda: False, hooks=notifier)
        worker = asyncio.create_task(controller.run(), name="run-worker")
        try:
            loop = asyncio.get_running_loop()
            started = loop.time()
            # news in flight: the notifier task is now waiting on the slow receiver
            notifier.drift_checked({"web-1": ("state stopped → running",)}, True)
            await asyncio.sleep(0.1)
            run_id = await queue.enqueue("manual")
            row = None
            for _ in range(400):
                row = await RunStore(db).get(run_id)
                if row is not None and row.status == "Succeeded":
                    break
                await asyncio.sleep(0.01)
            at_rest = loop.time() - started
            assert row is not None and row.status == "Succeeded", row
            assert got == [] and notifier.sent == 0  # the receiver still sleeps
            assert at_rest < 3.0
            actions = await ActionStore(db).list_for_run(run_id)
            assert [a.kind for a in actions] == ["create", "start"]
            begun = min(a.started_at for a in actions if a.started_at)
            ended = max(a.finished_at for a in actions if a.finished_at)
            assert (ended - begun).total_seconds() < 2.0
            assert direct.status(sim.cluster, "web-1") == "running"
            await wait_for(got, 1)  # and the notification did arrive, later
        finally:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)


async def test_leadership_lost_longer_than_the_threshold_is_told_and_its_return(
        database_url: str) -> None:
    """The leader's PostgreSQL session dies and another replica takes the lock for longer
    than lost_after_seconds: the replica that lost it tells so once, and once more when
    it leads again."""
    from mycopod.reconcile.leader import LeaderElection

    runtime = RuntimeStatus(cluster="lead-test")
    a = LeaderElection(database_url, cluster="lead-test", check_seconds=0.2,
                       on_change=lambda leader: setattr(runtime, "leader", leader))
    b = LeaderElection(database_url, cluster="lead-test", check_seconds=0.2)
    async with receiver() as (url, got), notifying(url, lost_after_seconds=1.0) as notifier:
        watch = asyncio.create_task(notifier.watch(runtime, every=0.1))
        try:
            await a.step()
            assert runtime.leader
            await asyncio.sleep(0.3)
            admin = await asyncpg.connect(database_url)
            try:
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'mycopod-leader-lead-test'")
            finally:
                await admin.close()
            for _ in range(50):  # the other replica takes over
                await b.step()
                if b.leader:
                    break
                await asyncio.sleep(0.05)
            assert b.leader and not runtime.leader
            await a.step()  # a standby now
            await wait_for(got, 1)
            await asyncio.sleep(0.5)
            assert [g["title"] for g in got] == ["MycoPod: lost the leadership (lead-test)"]
            assert "another may lead" in got[0]["message"]
            await b.release()
            await a.step()
            assert runtime.leader
            await wait_for(got, 2)
            await asyncio.sleep(0.3)
            assert [g["title"] for g in got][1:] == [
                "MycoPod: the leadership recovered (lead-test)"]
        finally:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
            await a.release()
            await b.release()
