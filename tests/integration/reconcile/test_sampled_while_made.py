"""A guest pvestatd sampled while Proxmox was still making it.

A guest's name in ``/cluster/resources`` is pvestatd's last sample (pve-manager
PVE/API2Tools.pm extract_vm_stats), and a guest sampled while its create task runs has
no name in its config yet: the sample names it ``VM 105`` (qemu-server vmstatus:
``$conf->{name} || "VM $vmid"``). Once the task ends, the row shows the guest's tags
(read live from its config) under that placeholder name until the next round, about
10 s later. Taken as the guest's name, the declared name looks missing and is created
again: the daemon acceptance test (SIGKILL during a 20-guest apply, restart) once ended
with two ``node-10`` (no logs were kept); run with 2 s simulator tasks it made
``web-1`` twice this way, the change run planning a create where the guest was ``VM N``.

Both places that read a name from the row are covered: the observer (what a fresh
daemon plans from) and the executor's check after "already exists" (``vmids.whose``).
The last tests cover a killed daemon's create call that Proxmox handles late: the fresh
daemon creates under the vmid the inventory reserves for the name, so the two calls
compete for one vmid.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from proxmoxer.core import ResourceException

from mycopod.proxmox import payloads, translate
from mycopod.pvesim import direct, resources
from mycopod.pvesim.testing import SimHandle
from mycopod.store.inventory import InventoryStore

from .conftest import reconcile
from .test_e2e import api, names, spec

WANT = {"name": "w", "memory_mib": 256, "state": "stopped"}


def _being_made(sim: SimHandle, before: set[int]) -> list[int]:
    with sim.cluster.lock:
        return [v for v, g in sim.cluster.guests.items()
                if v not in before and g.config.get("lock") == "create"]


def _row(sim: SimHandle, vmid: int) -> dict[str, Any]:
    rows = api(sim).cluster.resources.get(type="vm")
    return next(r for r in rows if r["vmid"] == vmid)


async def _until(check: Any, what: str, seconds: float = 10.0) -> Any:
    for _ in range(int(seconds / 0.02)):
        if found := check():
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_guest_sampled_while_being_made_is_not_created_again_after_a_kill(
        make_ctx: Any, sim: SimHandle) -> None:
    """The acceptance test's interleaving, forced: the daemon dies while Proxmox makes
    the guest, pvestatd samples it meanwhile, and a fresh daemon plans before the next
    round."""
    before = set(sim.cluster.guests)
    sim.sim.tasks.task_seconds = 1.0
    first = asyncio.create_task(reconcile(await make_ctx(), spec(WANT)))
    made = await _until(lambda: _being_made(sim, before), "the create to be under way")
    assert len(made) == 1
    vmid = made[0]
    await asyncio.to_thread(sim.stats_round)  # pvestatd's round falls inside the task
    first.cancel()  # the daemon is killed; Proxmox goes on making the guest
    await asyncio.gather(first, return_exceptions=True)
    await _until(lambda: direct.find_guest(sim.cluster, "w"), "the create task to end")
    # what the fresh daemon is shown: the placeholder name, with our tag
    row = await asyncio.to_thread(_row, sim, vmid)
    assert row.get("name") == f"VM {vmid}" and "lock" not in row, row
    assert "mycopod" in translate.parse_tags(row.get("tags")), row

    second = await reconcile(await make_ctx(), spec(WANT))
    assert second.status == "Succeeded", second.error
    assert names(sim).count("w") == 1, names(sim)
    plan = second.plan
    assert plan is not None
    assert plan["actions"] == [] and plan["conflicts"] == [] and plan["orphans"] == []
    assert [(g["name"], g["status"], g["vmid"]) for g in plan["guests"]] == [
        ("w", "in-sync", vmid)]


async def test_after_already_exists_a_sampled_placeholder_name_is_not_someone_elses(
        make_ctx: Any, sim: SimHandle) -> None:
    """A create's answer is lost and its retry told "already exists"; pvestatd sampled
    the guest at its creation, so its row says ``VM N``. That is no one else's guest:
    the executor must not move on to the next vmid (a second ``w`` once the first task
    ends)."""
    before = set(sim.cluster.guests)

    def sample_new_guests() -> None:  # under the cluster lock (an RLock), at every change
        fresh = [g for v, g in sim.cluster.guests.items()
                 if v not in before and g.config.get("lock") == "create"
                 and v not in sim.cluster.rrd]
        if fresh:
            resources.stats_round(sim.cluster, fresh)

    sim.sim.tasks.task_seconds = 1.0
    sim.cluster.listeners.append(sample_new_guests)
    sim.set_faults(lost_answer_rate=1.0)
    try:
        first = await reconcile(await make_ctx(), spec(WANT))
    finally:
        sim.set_faults(lost_answer_rate=0.0)
        sim.cluster.listeners.remove(sample_new_guests)
    with sim.cluster.lock:
        made = sorted(v for v in sim.cluster.guests if v not in before)
    assert len(made) == 1, f"a create went on under another vmid: {made}; {first.error}"
    assert first.status == "Failed", first.error
    assert "is still being made" in (first.error or ""), first.error
    await _until(lambda: direct.find_guest(sim.cluster, "w"), "the create task to end")
    again = await reconcile(await make_ctx(), spec(WANT))
    assert again.status == "Succeeded", again.error
    assert names(sim).count("w") == 1, names(sim)
    assert direct.find_guest(sim.cluster, "w").vmid == made[0]  # type: ignore[union-attr]


async def test_a_create_call_of_a_killed_daemon_handled_late_makes_no_second_guest(
        make_ctx: Any, sim: SimHandle, db: asyncpg.Pool) -> None:
    """The killed daemon recorded the vmid in the inventory and sent its create call,
    which Proxmox handles only after the fresh daemon planned (a call queued in a busy
    pvedaemon). The fresh daemon creates the guest under the reserved vmid, so the late
    call is told "already exists" instead of making a second guest."""
    want = spec(WANT)
    vmid = sim.cluster.next_free_vmid()
    await InventoryStore(db).record("default", vmid=vmid, name="w", kind="vm", node="pve1")
    late_call = payloads.create_params(want.guests[0], vmid=vmid, ownership_tag="mycopod")

    fresh = await reconcile(await make_ctx(), want)
    assert fresh.status == "Succeeded", fresh.error
    try:  # the killed daemon's call arrives now
        await asyncio.to_thread(api(sim).nodes("pve1").qemu.post, **late_call)
        answer = "made"
    except ResourceException as exc:
        answer = str(exc)
    await asyncio.sleep(0.2)  # a create it had started would have ended by now
    assert names(sim).count("w") == 1, names(sim)
    assert "already exists" in answer, answer
    assert direct.find_guest(sim.cluster, "w").vmid == vmid  # type: ignore[union-attr]
    again = await reconcile(await make_ctx(), want)
    assert again.status == "Succeeded", again.error
    assert again.plan["actions"] == [] and again.plan["orphans"] == []  # type: ignore[index]


async def test_a_reserved_vmid_taken_by_the_late_call_is_checked_not_skipped(
        make_ctx: Any, sim: SimHandle, db: asyncpg.Pool) -> None:
    """The late call lands between the fresh daemon's plan and its create: the planned
    (reserved) vmid "already exists", and that guest is ours, so it is used; moving on
    to the next free vmid would make a second guest."""
    want = spec(WANT)
    vmid = sim.cluster.next_free_vmid()
    await InventoryStore(db).record("default", vmid=vmid, name="w", kind="vm", node="pve1")
    late_call = payloads.create_params(want.guests[0], vmid=vmid, ownership_tag="mycopod")
    ctx = await make_ctx()
    original = ctx.client.request

    async def late_call_lands_first(method: str, path: str, *args: Any, **kw: Any) -> Any:
        if path == "/cluster/nextid" and not late_call.get("sent"):
            await asyncio.to_thread(api(sim).nodes("pve1").qemu.post, **late_call)
            late_call["sent"] = 1
            await _until(lambda: direct.find_guest(sim.cluster, "w"), "the late create")
        return await original(method, path, *args, **kw)

    ctx.client.request = late_call_lands_first  # type: ignore[method-assign]
    run = await reconcile(ctx, want)
    assert late_call.get("sent"), "the executor did not probe the vmid"
    assert names(sim).count("w") == 1, names(sim)
    assert direct.find_guest(sim.cluster, "w").vmid == vmid  # type: ignore[union-attr]
    assert run.status == "Succeeded", run.error


async def test_a_planned_vmid_someone_else_took_since_is_left_to_them(
        make_ctx: Any, sim: SimHandle, db: asyncpg.Pool) -> None:
    """Someone makes a guest of their own under the planned vmid between the plan and
    the create: it is not ours (its config says so), so the guest is made under the
    next free vmid, theirs is untouched and the inventory does not claim it."""
    want = spec(WANT)
    ctx = await make_ctx()
    original = ctx.client.request
    taken: list[int] = []

    async def someone_takes_it(method: str, path: str, *args: Any, **kw: Any) -> Any:
        if path == "/cluster/nextid" and not taken:
            vmid = int(kw.get("vmid") or (args[0] or {}).get("vmid"))
            taken.append(vmid)
            await asyncio.to_thread(api(sim).nodes("pve1").qemu.post, vmid=vmid,
                                    name="theirs", memory=128)
            await _until(lambda: direct.find_guest(sim.cluster, "theirs"), "their guest")
        return await original(method, path, *args, **kw)

    ctx.client.request = someone_takes_it  # type: ignore[method-assign]
    run = await reconcile(ctx, want)
    assert run.status == "Succeeded", run.error
    assert taken, "the executor did not probe the vmid"
    assert names(sim).count("w") == 1 and names(sim).count("theirs") == 1, names(sim)
    theirs = direct.find_guest(sim.cluster, "theirs")
    assert theirs is not None and theirs.vmid == taken[0]
    assert theirs.config.get("tags") is None  # untouched
    assert direct.find_guest(sim.cluster, "w").vmid > taken[0]  # type: ignore[union-attr]
    recorded = await InventoryStore(db).names("default")
    assert taken[0] not in recorded and "w" in recorded.values(), recorded
