"""A create whose answer is lost on the way (a proxy that gives up, a connection cut)
while Proxmox goes on making the guest.

The client sends the call again and is told the vmid "already exists": the guest there
is still being made (its config holds only the ``create`` lock: qemu-server
PVE/API2/Qemu.pm create_vm writes the name and tags at the end of the task), so nothing
tells whether it is ours. Taking the next vmid would make the guest twice once that task
ends; a SIGKILL in the middle of creates under load showed exactly that (two w-15).
"""

from __future__ import annotations

import asyncio
from typing import Any

from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle

from .conftest import reconcile
from .test_e2e import names, spec


async def test_a_create_whose_answer_is_lost_is_never_made_twice(
        make_ctx: Any, sim: SimHandle) -> None:
    want = spec({"name": "w", "memory_mib": 256, "state": "stopped"})
    before = set(sim.cluster.guests)
    sim.sim.tasks.task_seconds = 3.0  # the guest is still being made when the call is sent again
    sim.set_faults(lost_answer_rate=1.0)
    try:
        first = await reconcile(await make_ctx(), want)
    finally:
        sim.set_faults(lost_answer_rate=0.0)
    assert first.status == "Failed", first.error
    assert "is still being made" in (first.error or "")
    assert "not made under another VMID" in (first.error or "")
    with sim.cluster.lock:
        made = [(g.vmid, g.config.get("lock")) for v, g in sim.cluster.guests.items()
                if v not in before]
    assert len(made) == 1 and made[0][1] == "create", made
    # while it is being made, the next run neither creates it again nor touches it
    second = await reconcile(await make_ctx(), want)
    assert [a["kind"] for a in second.plan["actions"]] == []  # type: ignore[index]
    assert any(c["name"] == "w" for c in second.plan["conflicts"])  # type: ignore[index]
    for _ in range(100):  # the create task ends
        if direct.find_guest(sim.cluster, "w") is not None:
            break
        await asyncio.sleep(0.1)
    third = await reconcile(await make_ctx(), want)
    assert third.status == "Succeeded", third.error
    assert third.plan["actions"] == [] and third.plan["conflicts"] == []  # type: ignore[index]
    assert names(sim).count("w") == 1 and len(names(sim)) == len(set(names(sim)))
    assert direct.find_guest(sim.cluster, "w").vmid == made[0][0]  # type: ignore[union-attr]
