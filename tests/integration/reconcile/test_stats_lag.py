"""The engine against ``/cluster/resources`` as it is right after a create: pvestatd has
not sampled the new guests yet, so they have no name and status ``unknown`` there
(pve-manager PVE/API2Tools.pm extract_vm_stats; the simulator's default 10 s round).
The next pass must neither create them again nor report them as orphans or conflicts."""

from __future__ import annotations

import asyncio
from typing import Any

from mycopod.proxmox import translate
from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle
from mycopod.spec import ClusterSpec, GuestSpec

from .conftest import reconcile
from .test_e2e import api, names

GUESTS = [
    {"name": "web-1", "cores": 2, "memory_mib": 2048, "tags": ["web"]},
    {"name": "web-2", "cores": 1, "memory_mib": 1024, "state": "stopped"},
]


def _spec() -> ClusterSpec:
    return ClusterSpec(guests=[GuestSpec.model_validate(g) for g in GUESTS])


def _lagging(sim: SimHandle) -> dict[str, dict[str, Any]]:
    rows = api(sim).cluster.resources.get(type="vm")
    vmids = {direct.find_guest(sim.cluster, g["name"]).vmid: g["name"]  # type: ignore[union-attr]
             for g in GUESTS}
    return {vmids[r["vmid"]]: r for r in rows if r["vmid"] in vmids}


async def test_the_next_pass_does_not_create_a_lagging_guest_again(
        make_ctx: Any, sim: SimHandle) -> None:
    assert sim.sim.options.stats_interval == 10.0  # the faithful default
    first = await reconcile(await make_ctx(prune=True), _spec())
    assert first.status == "Succeeded", first.error
    rows = await asyncio.to_thread(_lagging, sim)
    assert all("name" not in r and r["status"] == "unknown" for r in rows.values()), rows
    second = await reconcile(await make_ctx(prune=True), _spec())
    assert second.status == "Succeeded", second.error
    plan = second.plan
    assert plan is not None
    assert plan["actions"] == [] and plan["conflicts"] == [] and plan["orphans"] == []
    assert {g["name"]: g["status"] for g in plan["guests"]} == {
        "web-1": "in-sync", "web-2": "in-sync"}
    assert names(sim).count("web-1") == 1 and names(sim).count("web-2") == 1


async def test_a_lagging_guest_without_its_tag_is_found_by_the_inventory(
        make_ctx: Any, sim: SimHandle) -> None:
    first = await reconcile(await make_ctx(prune=True), _spec())
    assert first.status == "Succeeded", first.error
    web1 = direct.find_guest(sim.cluster, "web-1")
    assert web1 is not None
    # someone drops the ownership tag before pvestatd has seen the guest
    await asyncio.to_thread(api(sim).nodes(web1.node).qemu(web1.vmid).config.put, tags="web")
    rows = await asyncio.to_thread(_lagging, sim)
    assert "name" not in rows["web-1"] and rows["web-1"]["tags"] == "web"
    second = await reconcile(await make_ctx(prune=True), _spec())
    assert second.status == "Succeeded", second.error
    plan = second.plan
    assert plan is not None
    assert [a["kind"] for a in plan["actions"]] == ["tag_adopt"]
    assert plan["conflicts"] == [] and plan["orphans"] == []
    assert names(sim).count("web-1") == 1
    tags = translate.parse_tags(direct.config(sim.cluster, "web-1")["tags"])
    assert tags == ("mycopod", "web")


async def test_a_guest_started_since_the_last_stats_round_is_not_started_again(
        make_ctx: Any, sim: SimHandle) -> None:
    stopped = ClusterSpec(guests=[GuestSpec.model_validate(GUESTS[1])])
    assert (await reconcile(await make_ctx(), stopped)).status == "Succeeded"
    await asyncio.to_thread(sim.stats_round)  # pvestatd has seen web-2 stopped
    running = ClusterSpec(guests=[GuestSpec.model_validate({**GUESTS[1], "state": "running"})])
    ctx = await make_ctx()
    first = await reconcile(ctx, running)
    assert first.status == "Succeeded", first.error
    assert [a["kind"] for a in first.plan["actions"]] == ["start"]  # type: ignore[index]
    assert direct.find_guest(sim.cluster, "web-2").status == "running"  # type: ignore[union-attr]
    vmid = direct.find_guest(sim.cluster, "web-2").vmid  # type: ignore[union-attr]
    rows = await asyncio.to_thread(api(sim).cluster.resources.get, type="vm")
    assert [r["status"] for r in rows if r["vmid"] == vmid] == ["stopped"]  # lags a round
    for again in (ctx, await make_ctx()):  # the same process, and a new one
        run = await reconcile(again, running)
        assert run.status == "Succeeded", run.error
        assert run.plan["actions"] == [], run.plan["actions"]  # type: ignore[index]
        guests = {g["name"]: g["status"] for g in run.plan["guests"]}  # type: ignore[index]
        assert guests == {"web-2": "in-sync"}


async def test_a_guest_stopped_by_hand_is_started_though_its_row_says_running(
        make_ctx: Any, sim: SimHandle) -> None:
    running = ClusterSpec(guests=[GuestSpec.model_validate({**GUESTS[1], "state": "running"})])
    assert (await reconcile(await make_ctx(), running)).status == "Succeeded"
    await asyncio.to_thread(sim.stats_round)
    web2 = direct.find_guest(sim.cluster, "web-2")
    assert web2 is not None
    await asyncio.to_thread(api(sim).nodes(web2.node).qemu(web2.vmid).status.stop.post)
    for _ in range(100):
        if direct.find_guest(sim.cluster, "web-2").status == "stopped":  # type: ignore[union-attr]
            break
        await asyncio.sleep(0.05)
    # the row still says running: the drift shows at pvestatd's next round, as in PVE
    run = await reconcile(await make_ctx(), running)
    assert run.plan["actions"] == []  # type: ignore[index]
    await asyncio.to_thread(sim.stats_round)
    run = await reconcile(await make_ctx(), running)
    assert run.status == "Succeeded", run.error
    assert [a["kind"] for a in run.plan["actions"]] == ["start"]  # type: ignore[index]
    assert direct.find_guest(sim.cluster, "web-2").status == "running"  # type: ignore[union-attr]
