"""A guest's status confirmed by ``status/current``, for the observer.

``/cluster/resources`` takes a guest's status from pvestatd's last sample, up to a round
(about 10 s) old (pve-manager PVE/API2Tools.pm extract_vm_stats); ``status/current`` asks
the node (qemu-server PVE/API2/Qemu.pm vm_status, pve-container PVE/API2/LXC/Status.pm
vm_status). A confirmation is remembered with the row it was made against: while that row
is unchanged the confirmed status stands and is not read again, so a guest whose drift is
real (declared stopped, running) costs one request when its row first shows it, not one
every tick.
"""

from __future__ import annotations

import asyncio
from collections.abc import Container, Mapping, Sequence
from typing import Any

import structlog

from mycopod.proxmox.client import ProxmoxClient
from mycopod.proxmox.errors import ProxmoxError
from mycopod.proxmox.model import ObservedGuest
from mycopod.proxmox.reads import api_kind

__all__ = ["StatusChecks"]

log = structlog.get_logger(__name__)


class StatusChecks:
    def __init__(self) -> None:
        #: vmid -> (the row's key when confirmed, the status status/current gave)
        self._confirmed: dict[int, tuple[tuple[Any, ...], str]] = {}

    def forget(self, vmid: int | None = None) -> None:
        """After acting on a guest (or on everything): its status is read again."""
        if vmid is None:
            self._confirmed.clear()
        else:
            self._confirmed.pop(vmid, None)

    def keep(self, live: Container[int]) -> None:
        """Drop what is remembered of guests no longer in the cluster (``live``, the
        vmids of this observation; called every tick, so nothing is copied)."""
        if any(v not in live for v in self._confirmed):
            self._confirmed = {v: c for v, c in self._confirmed.items() if v in live}

    async def confirm(self, client: ProxmoxClient, guests: Sequence[ObservedGuest],
                      vmids: set[int | None],
                      keys: Mapping[int, tuple[Any, ...]]) -> dict[int, str]:
        """The confirmed status of each guest of ``vmids`` whose status is not what its
        row says. ``keys`` are the rows' keys the guests were made from."""

        async def one(guest: ObservedGuest) -> str | None:
            known = self._confirmed.get(guest.vmid)
            key = keys.get(guest.vmid)
            if known is not None and key is not None and known[0] == key:
                return known[1]
            path = f"/nodes/{guest.node}/{api_kind(guest.kind)}/{guest.vmid}/status/current"
            try:
                current = await client.get(path)
            except ProxmoxError as exc:  # gone, or its node is down: the row stands
                log.debug("observe.status_unconfirmed", vmid=guest.vmid, error=str(exc))
                return None
            status = (current or {}).get("status")
            if not status:
                return None
            if key is not None:
                self._confirmed[guest.vmid] = (key, str(status))
            return str(status)

        targets = [g for g in guests if g.vmid in vmids]
        statuses = await asyncio.gather(*(one(g) for g in targets))
        fresh = {g.vmid: s for g, s in zip(targets, statuses, strict=True)
                 if s is not None and s != g.status}
        if fresh:
            log.debug("observe.status_lagging", guests=fresh)
        return fresh
