"""A steady drift tick (issue 17): one ``/cluster/resources`` request, and the last plan
handed back when nothing changed; a changed row or a changed declaration is planned
again. Against the simulator over HTTPS and the real database."""

from __future__ import annotations

from typing import Any

from mycopod.pvesim.testing import SimHandle
from mycopod.reconcile import reconciler, triggers
from mycopod.spec import ClusterSpec, GuestSpec
from mycopod.store.runs import Run
from tests.integration.reconcile.conftest import RECORDED, reconcile


def guest(name: str, **fields: Any) -> GuestSpec:
    return GuestSpec.model_validate(
        {"name": name, "memory_mib": 256, "state": "stopped",
         "disks": [{"slot": "scsi0", "storage": "tank", "size_gib": 1}], **fields})


async def test_a_steady_tick_is_one_request_and_a_change_is_planned(
        make_ctx: Any, sim: SimHandle) -> None:
    ctx: reconciler.EngineContext = await make_ctx()
    spec = ClusterSpec(guests=[guest("steady-a"), guest("steady-b")])
    assert (await reconcile(ctx, spec)).status == "Succeeded"
    sim.stats_round()  # pvestatd has seen the new guests
    loaded = [reconciler.LoadedSpec(spec=spec)]

    async def latest(_run: Run | None) -> reconciler.LoadedSpec:
        return loaded[0]

    ctx.spec_loader = latest
    assert await triggers.check_drift(ctx) == []

    async def tick() -> tuple[list[str], list[str]]:
        start = len(RECORDED)
        drift = await triggers.check_drift(ctx)
        return drift, [f"{m} {p}" for m, p, _ in RECORDED[start:]]

    # nothing changed: one request, and the last plan again
    assert await tick() == ([], ["GET /cluster/resources"])
    assert ctx.plan_memo.reused
    assert await tick() == ([], ["GET /cluster/resources"])
    assert ctx.plan_memo.reused

    # someone starts steady-a by hand: its row changed, so it is read and planned again,
    # and the status its stop rests on is confirmed with the node, once
    assert ctx.last_observed is not None
    a = next(g for g in ctx.last_observed.guests if g.name == "steady-a")
    upid = await ctx.client.post(f"/nodes/{a.node}/qemu/{a.vmid}/status/start")
    await ctx.client.wait_task(upid)
    sim.stats_round()
    drift, requests = await tick()
    assert drift == ["steady-a"] and not ctx.plan_memo.reused
    assert requests == ["GET /cluster/resources",
                        f"GET /nodes/{a.node}/qemu/{a.vmid}/pending",
                        f"GET /nodes/{a.node}/qemu/{a.vmid}/status/current"]
    report = ctx.plan_memo  # the guest that did not change was replayed, not planned
    assert (report.hits, report.misses) == (1, 1)
    assert await tick() == (["steady-a"], ["GET /cluster/resources"])
    assert ctx.plan_memo.reused  # the same drift, nothing new: the same plan

    # a new declaration (steady-b gets 2 cores): planned again, with no extra request
    loaded[0] = reconciler.LoadedSpec(spec=ClusterSpec(
        guests=[guest("steady-a"), guest("steady-b", cores=2)]))
    assert await tick() == (["steady-a", "steady-b"], ["GET /cluster/resources"])
    assert not ctx.plan_memo.reused
    assert ctx.plan_memo.hits == 1  # steady-a, unchanged, replayed
