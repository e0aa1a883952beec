"""Import → adopt → nothing to change → destroyed out of band → rebuilt, and the identity
guard: the engine against the simulator with the real database."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from mycopod.proxmox import keys
from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle
from mycopod.reconcile import reconciler
from mycopod.spec import ClusterSpec
from mycopod.store.actions import ActionStore
from mycopod.store.runs import RunStore
from tests.integration.brownfield.test_import import run_import
from tests.integration.reconcile.conftest import reconcile
from tests.support import brownfield
from tests.support.pvesim import proxmox, wait_task


def untagged(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in ("tags", "digest")}


async def approve(ctx: reconciler.EngineContext, run_id: int, want: ClusterSpec) -> Any:
    runs = RunStore(ctx.pool)
    assert await runs.approve(run_id, None) is not None
    claimed = await runs.claim_next_pending(ctx.cluster)
    assert claimed is not None
    return await reconciler.execute_run(claimed, ctx=ctx, spec=want)


async def test_import_adopt_rebuild(make_ctx: Any, sim: SimHandle, tmp_path: Path) -> None:
    await asyncio.to_thread(brownfield.build, sim)
    want = await asyncio.to_thread(run_import, sim, tmp_path / "decl")
    names = [g.name for g in want.guests]
    before = {n: direct.config(sim.cluster, n, current=True) for n in names}
    direct_status = {n: direct.status(sim.cluster, n) for n in names}
    ctx = await make_ctx()
    waiting = await reconcile(ctx, want)
    assert waiting.status == "AwaitingApproval"  # adopt_needs_approval
    plan = waiting.plan or {}
    assert {a["kind"] for a in plan["actions"]} == {"adopt"}
    assert all(a["params"].get("would_change", []) == [] for a in plan["actions"]), plan
    done = await approve(ctx, waiting.id, want)
    assert done.status == "Succeeded", done.error
    for name in names:  # only the tags changed
        after = direct.config(sim.cluster, name, current=True)
        assert untagged(after) == untagged(before[name]), name
        assert "mycopod" in after["tags"]
    again = await reconcile(ctx, want)
    assert again.status == "Succeeded" and (again.plan or {})["actions"] == []

    # every guest destroyed out of band: rebuilt from the declarations, key for key
    px = proxmox(sim)
    for name in names:
        guest = direct.find_guest(sim.cluster, name)
        assert guest is not None
        node = direct.node_of(sim.cluster, name)
        api = px.nodes(node).qemu if guest.kind == "qemu" else px.nodes(node).lxc
        one = api(guest.vmid)
        if direct.config(sim.cluster, name).get("protection"):
            await asyncio.to_thread(one.config.put, delete="protection")
        if direct.status(sim.cluster, name) == "running":
            await asyncio.to_thread(wait_task, px, one.status.stop.post())
        await asyncio.to_thread(wait_task, px, one.delete())
    rebuilt = await reconcile(await make_ctx(), want)
    assert rebuilt.status == "Succeeded", rebuilt.error
    for name in names:
        after = direct.config(sim.cluster, name, current=True)
        original = before[name]
        gone = rebuild_gap(original)
        assert set(rebuild_view(after)) == set(rebuild_view(original)) - gone, name
        for key, value in rebuild_view(original).items():
            if key not in gone:
                assert props(rebuild_view(after)[key]) == props(value), (name, key)
        assert after["tags"].split(";") == sorted({*original.get("tags", "").split(";"),
                                                   "mycopod"} - {""}), name
        assert direct.status(sim.cluster, name) == direct_status[name], name
    for name in ("ci-web", "ci-clone"):  # the cloud-init drive is back, where it was
        drive = {k: rebuild_view(c)[k] for c in (before[name],) for k in c
                 if "cloudinit" in str(c[k])}
        after = rebuild_view(direct.config(sim.cluster, name, current=True))
        assert drive and {k: after.get(k) for k in drive} == drive, name
    for name, vmid in {"db-big": 103, "files": 201, "win-desk": 101, "dns": 202}.items():
        assert direct.find_guest(sim.cluster, name).vmid == vmid  # type: ignore[union-attr]


#: keys a new guest has anew whatever it is declared as: its creation time (meta), its
#: generation ID and SMBIOS UUID (no spec field pins them), and the config digest
FRESH = {"vmgenid", "smbios1", "meta", "digest"}


def rebuild_view(config: dict[str, Any]) -> dict[str, str]:
    """A config as a rebuild must reproduce it: the fresh keys and the tags aside, and a
    volume's name (``local-lvm:vm-101-disk-2``) reduced to its storage."""
    out = {}
    for key, value in config.items():
        if key in FRESH or key == "tags":
            continue
        text = str(value)
        head = text.split(",")[0]
        if ":" in head and ("size=" in text or head.endswith("-cloudinit")):
            text = ",".join([head.split(":", 1)[0]] + text.split(",")[1:])
        out[key] = text
    return out


def rebuild_gap(config: dict[str, Any]) -> set[str]:
    """What a rebuild cannot bring back, each listed in the imported file's comment: the
    keys MycoPod never manages (args, hookscript, lxc.*, device nodes). A cloud-init
    drive is not among them: the import pins its slot and storage."""
    return set(keys.unmanaged(config))


def props(text: str) -> set[str]:
    """A value's properties, in any order (``nesting=1,mount=nfs``)."""
    return set(text.split(","))


async def test_recycled_vmid_is_a_conflict_never_a_delete(make_ctx: Any, sim: SimHandle) -> None:
    """A managed guest destroyed and its vmid reused by another guest between plan and
    apply: the stop/delete is refused (Conflict) and the new guest survives."""
    from mycopod.spec import parse_spec

    ctx = await make_ctx(prune=True, auto_approve_destructive=True, max_deletions_per_run=5,
                         max_deletions_per_window=5)
    want = parse_spec({"guests": [{"name": "old", "vmid": 150, "state": "stopped"}]})
    assert (await reconcile(ctx, want)).status == "Succeeded"
    planned = await reconcile(ctx, ClusterSpec(), dry_run=True)
    assert [a["kind"] for a in (planned.plan or {})["actions"]] == ["delete"]
    px = proxmox(sim)
    await asyncio.to_thread(lambda: wait_task(px, px.nodes(direct.node_of(sim.cluster, 150))
                                              .qemu(150).delete()))
    await asyncio.to_thread(lambda: wait_task(px, px.nodes("pve1").qemu.post(
        vmid=150, name="old", memory=512)))
    from mycopod.reconcile.executor import Executor
    from mycopod.reconcile.plan import Plan

    executor = Executor(client=ctx.client, pool=ctx.pool, cluster=ctx.cluster,
                        run_id=planned.id, ownership_tag="mycopod", apply=ctx.settings.apply)
    result = await executor.execute(Plan.from_json(planned.plan), ClusterSpec())
    assert not result.ok
    assert direct.guest(sim.cluster, 150) is not None  # never destroyed
    rows = await ActionStore(ctx.pool).list_for_run(planned.id)
    assert [r.result for r in rows] == ["Conflict"]
