"""Reading one guest's config: ``pending`` (what the observer reads, one request) and
``config?current=1`` plus ``pending`` (what the executor reads before a write, for the
digest), parsed into a :class:`GuestRead`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from mycopod.proxmox import translate
from mycopod.proxmox.client import ProxmoxClient
from mycopod.proxmox.model import GuestConfig, Kind

__all__ = ["GuestRead", "api_kind", "items_digest", "observe_guest", "parse_pending",
           "pending_items", "read_guest"]


@dataclass(frozen=True)
class GuestRead:
    """One fresh read of a guest's config."""

    kind: Kind
    node: str
    vmid: int
    raw: dict[str, Any]
    #: the config with pending changes applied (what update parameters are computed from)
    effective_raw: dict[str, Any]
    current: GuestConfig
    pending: GuestConfig
    digest: str | None


def api_kind(kind: str) -> str:
    """The API path segment of a guest kind: ``qemu`` for a VM, ``lxc`` for a container."""
    return "qemu" if kind == "vm" else "lxc"


async def read_guest(client: ProxmoxClient, kind: Kind, node: str, vmid: int) -> GuestRead:
    """``config?current=1`` plus ``pending`` of one guest (two requests, in parallel):
    what the executor reads before writing, since a write needs the config digest."""
    base = f"/nodes/{node}/{api_kind(kind)}/{vmid}"
    raw, pending_items = await asyncio.gather(
        client.get(f"{base}/config", current=1), client.get(f"{base}/pending"))
    raw = dict(raw or {})
    digest = raw.get("digest")
    return _from_pending(kind, node, vmid, raw, list(pending_items or []),
                         str(digest) if digest is not None else None)


async def pending_items(client: ProxmoxClient, kind: Kind, node: str,
                        vmid: int) -> list[dict[str, Any]]:
    """One ``GET pending``: its rows carry every key's current value *and* its pending
    value, which is all the planner compares, in one request instead of two."""
    return list(await client.get(f"/nodes/{node}/{api_kind(kind)}/{vmid}/pending") or [])


def items_digest(items: list[dict[str, Any]]) -> str | None:
    """The config file's digest among ``pending`` rows (None when there is none)."""
    for item in reversed(items):  # sorted by key: ``digest`` is near the end
        if item.get("key") == "digest":
            value = item.get("value")
            return str(value) if value else None
    return None


async def observe_guest(client: ProxmoxClient, kind: Kind, node: str, vmid: int) -> GuestRead:
    """One ``GET pending``, parsed (the digest is not needed to plan: the executor
    re-reads before any write)."""
    return parse_pending(kind, node, vmid, await pending_items(client, kind, node, vmid))


def parse_pending(kind: Kind, node: str, vmid: int, items: list[dict[str, Any]]) -> GuestRead:
    """A guest's ``pending`` rows as a :class:`GuestRead`."""
    raw = {str(i["key"]): i["value"] for i in items
           if "key" in i and i.get("value") is not None}
    digest = raw.pop("digest", None)
    return _from_pending(kind, node, vmid, raw, items,
                         str(digest) if digest is not None else None)


def _from_pending(kind: Kind, node: str, vmid: int, raw: dict[str, Any],
                  items: list[dict[str, Any]], digest: str | None) -> GuestRead:
    # nothing pending (the usual case): the effective config is the config, as
    # apply_pending would make it, without a pass over the items
    changes = translate.has_pending(items)
    effective = translate.apply_pending(raw, items) if changes else dict(raw)
    current = translate.config_to_guest(kind, raw)
    pending = translate.config_to_guest(kind, effective) if changes else current
    return GuestRead(kind=kind, node=node, vmid=vmid, raw=raw, effective_raw=effective,
                     current=current, pending=pending, digest=digest)


