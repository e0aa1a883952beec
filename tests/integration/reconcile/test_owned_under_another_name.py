"""A declared name missing from the cluster while a guest of ours carries another name.

The guest MycoPod made for ``w`` is ours by two pieces of evidence: the inventory
records its vmid for ``w``, and it carries the ownership tag. When it shows up under
another name (pvestatd's placeholder ``VM N`` whose config cannot be read, or a rename
by hand), ``w`` looks missing; creating it would make a second ``w`` (DESIGN.md: never
create a guest twice). These runs go through the real engine: embedded PostgreSQL, the
simulator over HTTPS, config reads failed at the wire (``SimHandle.fail_guests``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from mycopod.proxmox import translate
from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle
from mycopod.store.inventory import InventoryStore

from .conftest import reconcile
from .test_e2e import api, names, spec
from .test_sampled_while_made import WANT, _being_made, _row, _until


def _rename(sim: SimHandle, vmid: int, name: str) -> None:
    """What a person does in the Proxmox UI (``qm set VMID --name``)."""
    node = direct.node_of(sim.cluster, vmid)
    api(sim).nodes(node).qemu(vmid).config.put(name=name)


async def _placeholder_row(make_ctx: Any, sim: SimHandle) -> int:
    """The daemon is killed while Proxmox makes ``w`` and pvestatd samples it then: its
    row says ``VM N`` (with our tag) once the create ends. The vmid."""
    before = set(sim.cluster.guests)
    sim.sim.tasks.task_seconds = 1.0
    first = asyncio.create_task(reconcile(await make_ctx(), spec(WANT)))
    made = await _until(lambda: _being_made(sim, before), "the create to be under way")
    vmid = int(made[0])
    await asyncio.to_thread(sim.stats_round)  # pvestatd's round falls inside the task
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    await _until(lambda: direct.find_guest(sim.cluster, "w"), "the create task to end")
    sim.sim.tasks.task_seconds = 0.02
    row = await asyncio.to_thread(_row, sim, vmid)
    assert row.get("name") == f"VM {vmid}" and "lock" not in row, row
    assert "mycopod" in translate.parse_tags(row.get("tags")), row
    return vmid


async def test_a_placeholder_row_whose_config_cannot_be_read_is_waited_for(
        make_ctx: Any, sim: SimHandle, db: asyncpg.Pool) -> None:
    """(a) Every read of the guest fails: no create (the guest is there, under its
    placeholder), the run says why; the next run with reads working plans nothing."""
    vmid = await _placeholder_row(make_ctx, sim)
    assert (await InventoryStore(db).names("default")).get(vmid) == "w"
    sim.fail_guests(vmid)
    try:
        blind = await reconcile(await make_ctx(), spec(WANT))
    finally:
        sim.fail_guests()
    assert names(sim).count("w") == 1, names(sim)
    plan = blind.plan
    assert plan is not None
    assert plan["actions"] == [], plan["actions"]
    why = (f"w (vmid {vmid}) is being sampled by Proxmox under its placeholder name "
           f"VM {vmid}; waiting to read its config (it is not created again; read "
           "again next run)")
    assert [(e["guest"], e["message"]) for e in plan["errors"]] == [("w", why)]
    assert blind.status == "Failed" and blind.error == f"w: {why}", blind.error
    assert plan["conflicts"] == [] and plan["orphans"] == [], plan
    assert [(g["name"], g["status"], g["vmid"]) for g in plan["guests"]] == [
        ("w", "locked", vmid)]

    again = await reconcile(await make_ctx(), spec(WANT))
    assert again.status == "Succeeded", again.error
    assert names(sim).count("w") == 1, names(sim)
    plan = again.plan
    assert plan is not None
    assert plan["actions"] == [] and plan["errors"] == [] and plan["conflicts"] == []
    assert [(g["name"], g["status"], g["vmid"]) for g in plan["guests"]] == [
        ("w", "in-sync", vmid)]


async def test_a_guest_of_ours_renamed_by_hand_is_a_conflict_never_a_second_guest(
        make_ctx: Any, sim: SimHandle, db: asyncpg.Pool) -> None:
    """(b) Config read fine, name differs: a conflict naming both names, the vmid and
    the fixes; nothing created, renamed or deleted (prune on, too)."""
    made = await reconcile(await make_ctx(), spec(WANT))
    assert made.status == "Succeeded", made.error
    guest = direct.find_guest(sim.cluster, "w")
    assert guest is not None
    vmid = guest.vmid
    await asyncio.to_thread(_rename, sim, vmid, "w-old")
    await asyncio.to_thread(sim.stats_round)

    run = await reconcile(await make_ctx(prune=True), spec(WANT))
    assert (names(sim).count("w"), names(sim).count("w-old")) == (0, 1), names(sim)
    assert direct.config(sim.cluster, vmid)["name"] == "w-old"
    plan = run.plan
    assert plan is not None
    assert plan["actions"] == [], plan["actions"]
    assert plan["orphans"] == [] and plan["errors"] == [], plan
    message = (f"VMID {vmid} is MycoPod's w (its inventory row and ownership tag) but is "
               "named w-old in Proxmox now: renamed out of band. MycoPod neither creates "
               f"w again nor renames or deletes VMID {vmid}: rename it back to w in "
               "Proxmox, or change the declaration to w-old, or take the mycopod tag off "
               f"VMID {vmid} (it is then someone else's guest, left alone, and w is "
               "created anew)")
    assert [(c["name"], c["vmid"], c["message"]) for c in plan["conflicts"]] == [
        ("w", vmid, message)]
    assert [(g["name"], g["status"], g["vmid"]) for g in plan["guests"]] == [
        ("w", "conflict", vmid)]
    assert run.status == "Succeeded", run.error
    assert (await InventoryStore(db).names("default")) == {vmid: "w"}

    # the first fix: renamed back, it is w again, in sync
    await asyncio.to_thread(_rename, sim, vmid, "w")
    await asyncio.to_thread(sim.stats_round)
    back = await reconcile(await make_ctx(prune=True), spec(WANT))
    assert back.plan is not None and back.plan["actions"] == [], back.plan
    assert back.plan["conflicts"] == [], back.plan["conflicts"]
    assert (names(sim).count("w"), names(sim).count("w-old")) == (1, 0), names(sim)


async def test_the_declaration_changed_to_the_new_name_manages_the_renamed_guest(
        make_ctx: Any, sim: SimHandle) -> None:
    """The second fix: the declaration follows the rename; nothing is created."""
    await reconcile(await make_ctx(), spec(WANT))
    guest = direct.find_guest(sim.cluster, "w")
    assert guest is not None
    await asyncio.to_thread(_rename, sim, guest.vmid, "w-old")
    await asyncio.to_thread(sim.stats_round)
    run = await reconcile(await make_ctx(), spec({**WANT, "name": "w-old"}))
    assert run.status == "Succeeded", run.error
    assert run.plan is not None and run.plan["actions"] == [], run.plan
    assert run.plan["conflicts"] == [], run.plan["conflicts"]
    assert (names(sim).count("w"), names(sim).count("w-old")) == (0, 1), names(sim)


async def test_an_untagged_guest_under_the_recorded_vmid_is_someone_elses_as_before(
        make_ctx: Any, sim: SimHandle, db: asyncpg.Pool) -> None:
    """(c) The inventory records the vmid for ``w``, but the guest there carries another
    name and no ownership tag: it is not positively ours, so the rule does not apply.
    As before it, ``w`` is created under a new vmid and their guest is left alone."""
    theirs = sim.cluster.next_free_vmid()
    await asyncio.to_thread(api(sim).nodes("pve1").qemu.post, vmid=theirs, name="theirs",
                            memory=128)
    await _until(lambda: direct.find_guest(sim.cluster, "theirs"), "their guest")
    await asyncio.to_thread(sim.stats_round)
    await InventoryStore(db).record("default", vmid=theirs, name="w", kind="vm",
                                    node="pve1")
    run = await reconcile(await make_ctx(prune=True), spec(WANT))
    assert run.status == "Succeeded", run.error
    plan = run.plan
    assert plan is not None
    assert plan["conflicts"] == [] and plan["orphans"] == [], plan
    assert [a["kind"] for a in plan["actions"]] == ["create"]
    assert (names(sim).count("w"), names(sim).count("theirs")) == (1, 1), names(sim)
    made = direct.find_guest(sim.cluster, "w")
    assert made is not None and made.vmid != theirs
    untouched = direct.config(sim.cluster, theirs)
    assert untouched["name"] == "theirs" and untouched.get("tags") is None, untouched


async def test_the_tag_taken_off_the_renamed_guest_makes_it_theirs_and_the_name_anew(
        make_ctx: Any, sim: SimHandle) -> None:
    """The third fix the conflict names: without our tag the renamed guest is someone
    else's (left alone, even with prune on), and the declared name is created anew."""
    await reconcile(await make_ctx(), spec(WANT))
    guest = direct.find_guest(sim.cluster, "w")
    assert guest is not None
    vmid = guest.vmid
    await asyncio.to_thread(_rename, sim, vmid, "w-old")
    node = direct.node_of(sim.cluster, vmid)
    await asyncio.to_thread(api(sim).nodes(node).qemu(vmid).config.put, delete="tags")
    await asyncio.to_thread(sim.stats_round)
    run = await reconcile(await make_ctx(prune=True), spec(WANT))
    assert run.status == "Succeeded", run.error
    assert run.plan is not None and run.plan["conflicts"] == [], run.plan["conflicts"]
    assert [a["kind"] for a in run.plan["actions"]] == ["create"]
    assert (names(sim).count("w"), names(sim).count("w-old")) == (1, 1), names(sim)
    assert direct.config(sim.cluster, vmid)["name"] == "w-old"
    await asyncio.to_thread(sim.stats_round)
    again = await reconcile(await make_ctx(prune=True), spec(WANT))
    assert again.plan is not None and again.plan["actions"] == [], again.plan
    assert again.plan["conflicts"] == [] and again.plan["orphans"] == [], again.plan
    assert direct.guest(sim.cluster, vmid) is not None  # theirs now, never pruned
