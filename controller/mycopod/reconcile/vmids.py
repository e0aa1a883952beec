"""Finding a free vmid at apply time, and recognising our own guest after a collision.

The planner picks a vmid from what it observed, but another client (a person in the
Proxmox UI, another tool) may take it before the create call. So the executor asks
Proxmox (``/cluster/nextid?vmid=N`` answers 400 for a taken id) and, on "already
exists", checks whether the guest holding the id is the one it has just created (a call
that went through although its answer was lost) before moving on to the next id.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from mycopod.proxmox import translate
from mycopod.proxmox.client import ProxmoxClient
from mycopod.proxmox.errors import ConflictError, NotFoundError, PermanentError, ProxmoxError
from mycopod.reconcile.planner import UNFINISHED_LOCKS

#: how many ids above the planned one are probed before giving up
PROBES = 100


async def free_vmid(client: ProxmoxClient, planned: int, *, collided: set[int],
                    used: set[int], lock: asyncio.Lock) -> int | None:
    """``planned`` if Proxmox says it is free, else the next id that is neither
    ``used`` (planned for another guest, or taken) nor known to have ``collided``; the
    id returned is added to ``used``. None when none was found within :data:`PROBES`.

    ``planned`` is returned even when it "already exists" (unless it ``collided``
    before): the guest there may be this very guest, from a call sent before (a daemon
    killed after its create call, the id reserved in the inventory since), so the
    caller's call is told "already exists" and :func:`whose` decides, never the probe."""
    async with lock:
        candidate = planned
        for _ in range(PROBES):
            if candidate not in collided and (candidate == planned or candidate not in used):
                try:
                    await client.get("/cluster/nextid", vmid=candidate)
                    used.add(candidate)
                    return candidate
                except ConflictError:
                    if candidate == planned:
                        return candidate
                    collided.add(candidate)
                except (PermanentError, NotFoundError):
                    collided.add(candidate)
            candidate += 1
        return None


#: what ``whose`` says of the guest holding a vmid after "already exists"
Owner = Literal["ours", "theirs", "unfinished", "unknown"]


async def whose(client: ProxmoxClient, vmid: int, *, name: str, ownership_tag: str) -> Owner:
    """After "already exists": is the guest ``vmid`` the one named ``name`` we created a
    moment ago (that name, and our ownership tag)?

    ``unfinished``: it is still being made (its config holds only the ``create`` or
    ``clone`` lock: qemu-server PVE/API2/Qemu.pm create_vm writes the name and tags at the
    end of the task), so it may well be ours, from a call whose answer was lost.
    ``unknown``: it could not be read. In both cases the caller must not create the
    guest under another vmid: once that guest is finished it would be a duplicate.
    ``theirs`` is only ever told from the guest's config, never from the row's name."""
    try:
        resources = await client.get("/cluster/resources", type="vm")
    except ProxmoxError:
        return "unknown"
    for item in resources or []:
        if int(item.get("vmid", -1)) != vmid:
            continue
        tags = translate.parse_tags(item.get("tags"))
        seen, lock = item.get("name"), item.get("lock")
        if str(seen or "") != name or ownership_tag not in tags:
            # the row's name is pvestatd's last sample: none yet for a guest of the last
            # seconds, or ``VM 105`` for one sampled while it was being made (its create
            # writes the name at the end). Only its config says it is someone else's.
            kind = "qemu" if item.get("type") == "qemu" else "lxc"
            try:
                config = await client.get(f"/nodes/{item.get('node')}/{kind}/{vmid}/config")
            except ProxmoxError:
                return "unknown"
            config = config or {}
            seen = config.get("name" if kind == "qemu" else "hostname")
            tags, lock = translate.parse_tags(config.get("tags")), config.get("lock")
        if str(seen or "") == name and ownership_tag in tags:
            return "ours"
        if not seen and lock in UNFINISHED_LOCKS:
            return "unfinished"
        return "theirs"
    return "unknown"  # gone again, or not listed yet: nothing to tell it by
