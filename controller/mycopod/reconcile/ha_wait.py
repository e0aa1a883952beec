"""Waiting for the HA manager: power and migration of HA-managed guests.

For a guest listed in ``/cluster/ha/resources``, Proxmox answers start, stop, shutdown
and migrate with an ``hastart``/``hastop``/``hamigrate`` task that only hands the request
to the HA manager (qemu-server PVE/API2/Qemu.pm vm_start, vm_stop, migrate_vm): the task
ends OK before the guest changes, and the CRM acts a few seconds later. The executor must
therefore not read the guest's state right after such a task; it polls here for a while
and otherwise leaves the guest to the next pass (which sees its real state).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from mycopod.proxmox.client import ProxmoxClient
from mycopod.proxmox.errors import ProxmoxError

#: how long to wait for the HA manager to act before leaving it to the next pass
WAIT_SECONDS = 30.0
POLL_SECONDS = 0.5

HA_TASKS = frozenset({"hastart", "hastop", "hamigrate"})


def is_ha_task(upid: str | None) -> bool:
    """Whether a UPID is an HA request (``UPID:node:pid:pstart:start:TYPE:id:user:``)."""
    parts = (upid or "").split(":")
    return len(parts) > 5 and parts[5] in HA_TASKS


async def settle(probe: Callable[[], Awaitable[str]], want: str) -> str:
    """Poll ``probe`` until it says ``want`` or ``WAIT_SECONDS`` pass; return the last
    answer."""
    deadline = time.monotonic() + WAIT_SECONDS
    seen = await probe()
    while seen != want and time.monotonic() < deadline:
        await asyncio.sleep(POLL_SECONDS)
        seen = await probe()
    return seen


async def node_of(client: ProxmoxClient, vmid: int) -> str:
    """The node ``/cluster/resources`` shows the guest on ("" if unknown)."""
    try:
        found = await client.get("/cluster/resources", type="vm")
    except ProxmoxError:
        return ""
    return next((str(r.get("node")) for r in found or [] if r.get("vmid") == vmid), "")


async def arrived(client: ProxmoxClient, upid: str | None, vmid: int, target: str) -> bool:
    """After a migrate task: True at once for an ordinary one; after an ``hamigrate``,
    whether the guest reached ``target`` within ``WAIT_SECONDS``."""
    if not is_ha_task(upid):
        return True
    return await settle(lambda: node_of(client, vmid), target) == target
