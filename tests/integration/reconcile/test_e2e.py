"""End to end: the engine against the simulator over real HTTPS (proxmoxer), with the real
database. Each test asserts what an owner would check in Proxmox and in the run rows."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from proxmoxer import ProxmoxAPI

from mycopod.proxmox import translate
from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle
from mycopod.reconcile import planner, reconciler
from mycopod.spec import ClusterSpec, GuestSpec
from mycopod.store.actions import ActionStore
from mycopod.store.inventory import InventoryStore
from mycopod.store.runs import RunStore

from .conftest import EXAMPLES, example, reconcile

EXAMPLE_NAMES = sorted(p.stem for p in EXAMPLES.glob("*.json"))


def api(sim: SimHandle) -> ProxmoxAPI:
    return ProxmoxAPI(sim.host, port=sim.port, user=sim.user, password=sim.password,
                      verify_ssl=False)


def names(sim: SimHandle) -> list[str]:
    with sim.cluster.lock:
        return sorted(g.name for g in sim.cluster.guests.values())


def spec(*guests: dict[str, Any]) -> ClusterSpec:
    return ClusterSpec(guests=[GuestSpec.model_validate(g) for g in guests])


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
async def test_example_converges_and_second_run_plans_nothing(name: str, make_ctx: Any,
                                                              sim: SimHandle) -> None:
    ctx = await make_ctx()
    want = example(name)
    first = await reconcile(ctx, want)
    assert first.status == "Succeeded", first.error
    for guest in want.guests:
        if guest.state == "absent":
            assert guest.name not in names(sim)
            continue
        config = direct.config(sim.cluster, guest.name)
        assert "mycopod" in translate.parse_tags(config.get("tags"))
        assert direct.status(sim.cluster, guest.name) == guest.state
        assert int(config["cores"]) == guest.cores
    fresh = await make_ctx()  # a new process: no cache, full reads
    second = await reconcile(fresh, want)
    assert second.status == "Succeeded"
    assert second.plan is not None and second.plan["actions"] == []
    rows = await ActionStore(ctx.pool).list_for_run(first.id)
    assert len(rows) == len(first.plan["actions"])  # type: ignore[index]
    assert all(r.result == "Success" and r.finished_at for r in rows)


BASE = {"name": "web-1", "cores": 2, "memory_mib": 2048, "tags": ["web"]}


@pytest.mark.parametrize(("change", "check"), [
    ({"cores": 4}, lambda c, s: c["cores"] in (4, "4")),
    ({"memory_mib": 4096}, lambda c, s: str(c["memory"]) in ("4096", "current=4096")),
    ({"disks": [{"slot": "scsi0", "size_gib": 40}]}, lambda c, s: "size=40G" in c["scsi0"]),
    ({"tags": ["web", "prod"]},
     lambda c, s: translate.parse_tags(c["tags"]) == ("mycopod", "prod", "web")),
    ({"onboot": True}, lambda c, s: int(c.get("onboot", 0)) == 1),
    ({"state": "stopped"}, lambda c, s: s == "stopped"),
    ({"networks": [{"bridge": "vmbr1"}]}, lambda c, s: "bridge=vmbr1" in c["net0"]),
    ({"networks": [{"vlan": 42}]}, lambda c, s: "tag=42" in c["net0"]),
    ({"networks": [{"ip": "10.0.0.5/24", "gateway": "10.0.0.1"}]},
     lambda c, s: translate.parse_ipconfig(c["ipconfig0"]) == ("10.0.0.5/24", "10.0.0.1")),
])
async def test_changes_converge(change: dict, check: Any, make_ctx: Any,
                                sim: SimHandle) -> None:
    ctx = await make_ctx(restart_on_change=True)
    assert (await reconcile(ctx, spec(BASE))).status == "Succeeded"
    changed = await reconcile(ctx, spec({**BASE, **change}))
    assert changed.status == "Succeeded", changed.error
    assert changed.plan is not None and changed.plan["actions"]
    assert check(direct.config(sim.cluster, "web-1"), direct.status(sim.cluster, "web-1"))
    again = await reconcile(await make_ctx(restart_on_change=True), spec({**BASE, **change}))
    assert again.plan is not None and again.plan["actions"] == []


async def test_change_needing_restart_is_reported_pending(make_ctx: Any,
                                                          sim: SimHandle) -> None:
    ctx = await make_ctx()
    assert (await reconcile(ctx, spec(BASE))).status == "Succeeded"
    run = await reconcile(ctx, spec({**BASE, "cores": 6}))
    assert run.status == "Succeeded"
    again = await reconcile(await make_ctx(), spec({**BASE, "cores": 6}))
    assert again.plan is not None and again.plan["actions"] == []
    # the simulator keeps a change a running VM cannot hotplug pending, like PVE
    assert [p["name"] for p in again.plan["pending_restart"]] == ["web-1"]
    assert int(direct.config(sim.cluster, "web-1", current=True)["cores"]) == 2
    assert int(direct.config(sim.cluster, "web-1")["cores"]) == 6


async def test_out_of_band_drift_is_corrected(make_ctx: Any, sim: SimHandle) -> None:
    ctx = await make_ctx()
    want = spec(BASE)
    assert (await reconcile(ctx, want)).status == "Succeeded"
    prox = api(sim)
    vmid = direct.find_guest(sim.cluster, "web-1").vmid  # type: ignore[union-attr]
    node = direct.node_of(sim.cluster, vmid)
    await asyncio.to_thread(prox.nodes(node).qemu(vmid).status.stop.post)
    await asyncio.sleep(0.2)
    await asyncio.to_thread(prox.nodes(node).qemu(vmid).config.put, cores=7, tags="mycopod;web")
    run = await reconcile(ctx, want)  # same process: the summary changed, so re-read
    assert run.status == "Succeeded", run.error
    kinds = [a["kind"] for a in run.plan["actions"]]  # type: ignore[index]
    assert kinds == ["configure", "start"]
    assert int(direct.config(sim.cluster, "web-1")["cores"]) == 2
    assert direct.status(sim.cluster, "web-1") == "running"


async def test_unowned_guests_are_reported_and_untouched(make_ctx: Any,
                                                         sim: SimHandle) -> None:
    prox = api(sim)
    upid = await asyncio.to_thread(prox.nodes("pve2").qemu.post, vmid=555, name="dup",
                                   cores=1, memory=512)
    assert upid
    await asyncio.sleep(0.3)
    before_legacy = direct.config(sim.cluster, "legacy-app")
    before_dup = direct.config(sim.cluster, "dup")
    ctx = await make_ctx()
    run = await reconcile(ctx, spec({"name": "legacy-app", "cores": 8},
                                    {"name": "dup", "cores": 4}))
    assert run.status == "Succeeded"
    assert run.plan is not None and run.plan["actions"] == []
    assert sorted(c["name"] for c in run.plan["conflicts"]) == ["dup", "legacy-app"]
    assert direct.config(sim.cluster, "legacy-app") == before_legacy
    assert direct.config(sim.cluster, "dup") == before_dup
    assert names(sim).count("dup") == 1
    report = await reconciler.cluster_report(ctx, spec({"name": "legacy-app"}))
    assert [c.name for c in report.conflicts] == ["legacy-app"]


async def test_prune_waits_for_approval_then_deletes(make_ctx: Any, sim: SimHandle) -> None:
    ctx = await make_ctx()
    both = spec({"name": "a"}, {"name": "b"})
    assert (await reconcile(ctx, both)).status == "Succeeded"
    only_a = spec({"name": "a"})
    kept = await reconcile(ctx, only_a)
    assert kept.status == "Succeeded"
    assert [o["name"] for o in kept.plan["orphans"]] == ["b"]  # type: ignore[index]
    assert "b" in names(sim)

    ctx = await make_ctx(prune=True)
    waiting = await reconcile(ctx, only_a)
    assert waiting.status == "AwaitingApproval"
    assert {a["kind"] for a in waiting.plan["actions"]} == {"stop", "delete"}  # type: ignore[index]
    assert "b" in names(sim)
    runs = RunStore(ctx.pool)
    approved = await runs.approve(waiting.id, None)
    assert approved is not None and approved.status == "Pending"
    claimed = await runs.claim_next_pending(ctx.cluster)
    assert claimed is not None and claimed.id == waiting.id
    done = await reconciler.execute_run(claimed, ctx=ctx, spec=only_a)
    assert done.status == "Succeeded", done.error
    assert "b" not in names(sim)
    assert set((await InventoryStore(ctx.pool).names(ctx.cluster)).values()) == {"a"}


async def test_approval_does_not_cover_new_destructive_steps(make_ctx: Any,
                                                             sim: SimHandle) -> None:
    ctx = await make_ctx(prune=True, max_deletions_per_run=5)
    assert (await reconcile(ctx, spec({"name": "a"}, {"name": "b"}, {"name": "c"}))
            ).status == "Succeeded"
    waiting = await reconcile(ctx, spec({"name": "a"}, {"name": "c"}))
    assert waiting.status == "AwaitingApproval"
    runs = RunStore(ctx.pool)
    await runs.approve(waiting.id, None)
    claimed = await runs.claim_next_pending(ctx.cluster)
    assert claimed is not None
    # meanwhile the spec lost c as well: deleting c was never approved
    again = await reconciler.execute_run(claimed, ctx=ctx, spec=spec({"name": "a"}))
    assert again.status == "AwaitingApproval"
    assert again.approved_by is None and again.approved_at is None
    assert {"b", "c"} <= set(names(sim))


async def test_reject_cancels(make_ctx: Any) -> None:
    ctx = await make_ctx(prune=True)
    assert (await reconcile(ctx, spec({"name": "a"}, {"name": "b"}))).status == "Succeeded"
    waiting = await reconcile(ctx, spec({"name": "a"}))
    rejected = await RunStore(ctx.pool).reject(waiting.id, None)
    assert rejected is not None and rejected.status == "Cancelled"


async def test_dry_run_applies_nothing(make_ctx: Any, sim: SimHandle) -> None:
    ctx = await make_ctx()
    run = await reconcile(ctx, spec(BASE), dry_run=True)
    assert run.status == "Succeeded" and run.plan and run.plan["actions"]
    assert "web-1" not in names(sim)


async def test_shrink_fails_the_run_with_the_reason(make_ctx: Any) -> None:
    ctx = await make_ctx()
    assert (await reconcile(ctx, spec({**BASE, "disks": [{"slot": "scsi0", "size_gib": 40}]}))
            ).status == "Succeeded"
    run = await reconcile(ctx, spec({**BASE, "cores": 3,
                                     "disks": [{"slot": "scsi0", "size_gib": 20}]}))
    assert run.status == "Failed"
    assert run.error is not None and "disks only grow" in run.error


async def test_proxmox_error_fails_the_run_with_its_message(make_ctx: Any,
                                                            sim: SimHandle) -> None:
    ctx = await make_ctx()
    sim.set_faults(task_fail_rate=1.0)
    run = await reconcile(ctx, spec(BASE))
    sim.set_faults(task_fail_rate=0.0)
    assert run.status == "Failed"
    assert run.error is not None and run.error.startswith("web-1: ")
    rows = await ActionStore(ctx.pool).list_for_run(run.id)
    assert rows[0].result == "Error" and rows[0].message
    assert all(r.result == "Skipped" for r in rows[1:])


async def test_faults_converge_without_duplicates(make_ctx: Any, sim: SimHandle) -> None:
    # a "slow" fault answers after the client gave up, though the call took effect
    ctx = await make_ctx(proxmox={"timeout": 1.0})
    sim.set_faults(slow_seconds=1.5)
    want = spec(*[{"name": f"g-{i:02d}", "memory_mib": 256,
                   "disks": [{"slot": "scsi0", "storage": "tank", "size_gib": 1}]}
                  for i in range(30)])
    sim.set_faults(fault_rate=0.1, task_fail_rate=0.05)
    statuses = []
    for _ in range(8):
        run = await reconcile(ctx, want)
        statuses.append(run.status)
        if run.status == "Succeeded" and not run.plan["actions"]:  # type: ignore[index]
            break
    sim.set_faults(fault_rate=0.0, task_fail_rate=0.0)
    final = await reconcile(await make_ctx(), want)
    assert final.status == "Succeeded" and final.plan["actions"] == [], statuses  # type: ignore[index]
    all_names = names(sim)
    assert len(all_names) == len(set(all_names)), "duplicate guests"
    assert {f"g-{i:02d}" for i in range(30)} <= set(all_names)
    pending = await ctx.pool.fetchval(
        "SELECT count(*) FROM reconciliation_actions WHERE result = 'Pending'")
    assert pending == 0
    errors = await ctx.pool.fetch(
        "SELECT message FROM reconciliation_actions WHERE result = 'Error'")
    assert all(r["message"] for r in errors)


async def test_plan_reasons_are_readable(make_ctx: Any) -> None:
    ctx = await make_ctx()
    assert (await reconcile(ctx, spec(BASE))).status == "Succeeded"
    run = await reconcile(ctx, spec({**BASE, "cores": 4}), dry_run=True)
    plan = planner.Plan.from_json(run.plan or {})
    assert [a.reason for a in plan.actions] == ["cores 2 → 4"]
    report = run.summary or {}
    assert report["managed"] == 1 and "cores 2 → 4" in report["guests"][0]["drift"]
    assert report["guests"][0]["declared"]["cores"] == 4
    assert report["guests"][0]["observed"]["cores"] == 2


async def test_guest_that_lost_its_tag_is_still_ours(make_ctx: Any, sim: SimHandle) -> None:
    ctx = await make_ctx()
    want = spec(BASE)
    assert (await reconcile(ctx, want)).status == "Succeeded"
    vmid = direct.find_guest(sim.cluster, "web-1").vmid  # type: ignore[union-attr]
    node = direct.node_of(sim.cluster, vmid)
    await asyncio.to_thread(api(sim).nodes(node).qemu(vmid).config.put, tags="web")
    run = await reconcile(await make_ctx(), want)
    assert run.status == "Succeeded", run.error
    assert [a["kind"] for a in run.plan["actions"]] == ["tag_adopt"]  # type: ignore[index]
    assert translate.parse_tags(direct.config(sim.cluster, "web-1")["tags"]) == ("mycopod", "web")
    assert names(sim).count("web-1") == 1
