"""The identity guard against guests changed out of band: renamed, migrated by hand,
managed by HA. Each ends in a recorded conflict or a followed guest, never in a
destroyed or recreated one (the engine against the simulator with the real database)."""

from __future__ import annotations

import asyncio
from typing import Any

from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle
from mycopod.reconcile import reconciler
from mycopod.reconcile.executor import Executor
from mycopod.reconcile.plan import Plan
from mycopod.spec import ClusterSpec, parse_spec
from mycopod.store.actions import ActionStore
from mycopod.store.inventory import InventoryStore
from mycopod.store.runs import Run
from tests.integration.reconcile.conftest import reconcile
from tests.support.pvesim import proxmox, wait_task

#: policy that would destroy whatever the planner offered to destroy
RECKLESS: dict[str, Any] = {"prune": True, "auto_approve_destructive": True,
                            "max_deletions_per_run": 5, "max_deletions_per_window": 5}


def spec(**guest: Any) -> ClusterSpec:
    return parse_spec({"guests": [{"name": "app", "vmid": 150, **guest}]})


async def apply_late(ctx: reconciler.EngineContext, planned: Run, want: ClusterSpec) -> Any:
    """Execute a plan made earlier (the cluster changed in between)."""
    executor = Executor(client=ctx.client, pool=ctx.pool, cluster=ctx.cluster,
                        run_id=planned.id, ownership_tag="mycopod", apply=ctx.settings.apply)
    return await executor.execute(Plan.from_json(planned.plan), want)


def kinds(run: Run) -> list[str]:
    return [a["kind"] for a in (run.plan or {})["actions"]]




async def test_renamed_out_of_band_is_never_destroyed(make_ctx: Any, sim: SimHandle) -> None:
    """Renamed by hand: the next pass neither creates a second 'app' on its vmid nor
    prunes the renamed guest (it still carries the ownership tag); a stop planned before
    the rename is refused with a recorded Conflict."""
    ctx = await make_ctx(**RECKLESS)
    assert (await reconcile(ctx, spec(state="running"))).status == "Succeeded"
    node = direct.node_of(sim.cluster, 150)
    planned = await reconcile(ctx, spec(state="stopped"), dry_run=True)
    assert kinds(planned) == ["stop"]
    px = proxmox(sim)
    await asyncio.to_thread(px.nodes(node).qemu(150).config.put, name="app-renamed")

    result = await apply_late(ctx, planned, spec(state="stopped"))
    assert not result.ok
    rows = await ActionStore(ctx.pool).list_for_run(planned.id)
    assert [r.result for r in rows] == ["Conflict"]
    assert "named 'app-renamed'" in (rows[0].message or "")
    assert direct.status(sim.cluster, 150) == "running"  # nothing done

    # the next pass: the renamed guest carries the ownership tag but the inventory knows
    # its vmid as 'app': a conflict, reported and left alone (no prune, no second 'app')
    again = await reconcile(ctx, spec(state="stopped"))
    assert not {"create", "clone", "stop", "delete"} & set(kinds(again)), again.plan
    conflicts = (again.plan or {})["conflicts"]
    assert any("renamed out of band" in c["message"] for c in conflicts), conflicts
    rows = await ActionStore(ctx.pool).list_for_run(again.id)
    assert not [r for r in rows if r.result == "Success"]  # nothing stopped or deleted
    assert direct.find_guest(sim.cluster, "app-renamed") is not None  # never destroyed
    assert direct.guest(sim.cluster, 150).name == "app-renamed"  # type: ignore[union-attr]
    assert direct.find_guest(sim.cluster, "app") is None  # and no second guest


async def test_migrated_out_of_band_is_followed(make_ctx: Any, sim: SimHandle) -> None:
    """Migrated by hand between plan and apply: the stop follows the guest by vmid and
    identity to its new node. The next passes keep it there (no node declared), never
    recreate it; a declared node brings it back with a migration."""
    ctx = await make_ctx(**RECKLESS)
    assert (await reconcile(ctx, spec(state="running"))).status == "Succeeded"
    home = direct.node_of(sim.cluster, 150)
    away = "pve3" if home != "pve3" else "pve2"
    planned = await reconcile(ctx, spec(state="stopped"), dry_run=True)
    assert kinds(planned) == ["stop"]
    px = proxmox(sim)
    await asyncio.to_thread(wait_task, px, px.nodes(home).qemu(150).migrate.post(
        target=away, online=1, **{"with-local-disks": 1}))
    assert direct.node_of(sim.cluster, 150) == away

    result = await apply_late(ctx, planned, spec(state="stopped"))
    assert result.ok
    assert (direct.node_of(sim.cluster, 150), direct.status(sim.cluster, 150)) == (
        away, "stopped")
    row = await InventoryStore(ctx.pool).identity(ctx.cluster, vmid=150)
    assert row is not None and row.name == "app"

    steady = await reconcile(ctx, spec(state="stopped"))
    assert steady.status == "Succeeded" and kinds(steady) == [], steady.plan
    assert direct.node_of(sim.cluster, 150) == away

    back = await reconcile(ctx, spec(state="stopped", node=home))
    assert kinds(back) == ["migrate"], back.plan
    if back.status == "AwaitingApproval":
        from tests.integration.brownfield.test_adopt import approve
        back = await approve(ctx, back.id, spec(state="stopped", node=home))
    assert back.status == "Succeeded", back.error
    assert direct.node_of(sim.cluster, 150) == home
    assert direct.guest(sim.cluster, 150).name == "app"  # type: ignore[union-attr]


async def test_ha_managed_guest_is_followed_never_recreated(make_ctx: Any,
                                                            sim: SimHandle) -> None:
    """An HA-managed guest: stop is an ``hastop`` request the CRM carries out later; an
    HA relocation between plan and apply is followed; nothing is recreated or deleted."""
    sim.sim.options.ha_seconds = 0.2
    ctx = await make_ctx(**RECKLESS)
    assert (await reconcile(ctx, spec(state="running"))).status == "Succeeded"
    home = direct.node_of(sim.cluster, 150)
    away = "pve3" if home != "pve3" else "pve2"
    px = proxmox(sim)
    await asyncio.to_thread(px.cluster.ha.resources.post, sid="vm:150", state="started")

    planned = await reconcile(ctx, spec(state="stopped"), dry_run=True)
    assert kinds(planned) == ["stop"]
    # the HA manager moves it (a node maintenance, a relocation) before the stop runs
    await asyncio.to_thread(wait_task, px, px.nodes(home).qemu(150).migrate.post(
        target=away, online=1, **{"with-local-disks": 1}))
    for _ in range(200):
        if direct.node_of(sim.cluster, 150) == away:
            break
        await asyncio.sleep(0.02)
    assert direct.node_of(sim.cluster, 150) == away

    result = await apply_late(ctx, planned, spec(state="stopped"))
    assert result.ok
    rows = await ActionStore(ctx.pool).list_for_run(planned.id)
    assert [r.result for r in rows] == ["Success"]
    for _ in range(200):
        if direct.status(sim.cluster, 150) == "stopped":
            break
        await asyncio.sleep(0.02)
    assert (direct.node_of(sim.cluster, 150), direct.status(sim.cluster, 150)) == (
        away, "stopped")

    steady = await reconcile(ctx, spec(state="stopped"))
    assert steady.status == "Succeeded" and kinds(steady) == [], steady.plan
    assert direct.guest(sim.cluster, 150).name == "app"  # type: ignore[union-attr]
    assert [r["sid"] for r in px.cluster.ha.resources.get()] == ["vm:150"]
