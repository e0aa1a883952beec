"""Config steps of the executor: configure, tag, resize, remove devices, set the pool.

The half of :class:`mycopod.reconcile.executor.Executor` that writes configs, split off
to keep each module small. Each step re-reads the guest, computes concrete parameters
from its fresh config (:mod:`mycopod.proxmox.payloads`) restricted to the config keys
the plan named, and writes them with the config ``digest``. A cloud-init password is
read from the daemon's credentials here, sent to Proxmox, and never logged or stored:
the action row and the message carry key names only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from mycopod.proxmox import payloads, translate
from mycopod.proxmox.client import ProxmoxClient
from mycopod.proxmox.errors import ConflictError, ProxmoxError
from mycopod.proxmox.observer import GuestRead, api_kind, read_guest
from mycopod.reconcile import changes
from mycopod.reconcile.plan import (
    ConfigureAction,
    ConfigureParams,
    RemoveDeviceAction,
    ResizeDiskAction,
    SetPoolAction,
    TagAdoptAction,
)
from mycopod.spec import GuestSpec
from mycopod.store.inventory import InventoryStore

log = structlog.get_logger(__name__)

#: how often a digest conflict is re-read and retried before giving up
DIGEST_RETRIES = 3


class ActionFailed(Exception):
    def __init__(self, message: str, *, upid: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.upid = upid



@dataclass
class _Guest:
    name: str
    kind: str
    vmid: int | None
    node: str | None
    spec: GuestSpec | None



class ConfigSteps:
    """The executor's config-writing steps (mixed into the Executor)."""

    client: ProxmoxClient
    tag: str
    inventory: InventoryStore
    cluster: str
    run_id: int
    #: credential name → value (``[credentials]``); None: none can be read
    credentials: Callable[[str], str] | None = None

    def _base(self, guest: _Guest) -> str:
        return f"/nodes/{guest.node}/{api_kind(guest.kind)}/{guest.vmid}"

    async def _read(self, guest: _Guest) -> GuestRead:
        assert guest.vmid is not None and guest.node is not None
        return await read_guest(self.client, guest.kind, guest.node, guest.vmid)  # type: ignore[arg-type]

    async def _status(self, guest: _Guest) -> str:
        status = await self.client.get(f"{self._base(guest)}/status/current")
        return str((status or {}).get("status", "unknown"))

    async def _wait(self, result: Any) -> str | None:
        upid = result if isinstance(result, str) and result.startswith("UPID:") else None
        try:
            await self.client.wait_task(result)
        except ProxmoxError as exc:
            raise ActionFailed(exc.message, upid=upid) from None
        return upid

    def _need_spec(self, guest: _Guest) -> GuestSpec:
        if guest.spec is None:
            raise ActionFailed(f"{guest.name} is not in the spec; cannot compute its config")
        return guest.spec

    async def _accepted(self, guest: _Guest) -> None:
        assert guest.vmid is not None
        await self.inventory.record(self.cluster, vmid=guest.vmid, name=guest.name,
                                    kind=guest.kind, node=guest.node, run_id=self.run_id)

    async def _write_config(self, guest: _Guest, compute: Any) -> tuple[str, str | None]:
        """Re-read, compute params, write with the digest; on a mismatch, start over."""
        upid: str | None = None
        for attempt in range(DIGEST_RETRIES + 1):
            read = await self._read(guest)
            params: dict[str, Any] = compute(read)
            if not params:
                return "nothing to change", None
            params["digest"] = read.digest
            method = "POST" if guest.kind == "vm" else "PUT"
            try:
                result = await self.client.request(method, f"{self._base(guest)}/config",
                                                   params)
            except ConflictError as exc:
                if exc.checksum_mismatch and attempt < DIGEST_RETRIES:
                    log.info("configure.digest_changed", guest=guest.name, vmid=guest.vmid)
                    continue
                raise
            upid = await self._wait(result)
            changed = ", ".join(sorted(k for k in params if k != "digest"))
            return f"set {changed}", upid
        raise ActionFailed("the config kept changing under us (digest mismatch)")

    def _secret(self, name: str) -> str:
        """The value of a credential a declaration names (never logged or stored)."""
        if self.credentials is None:
            raise ActionFailed(f"credential {name!r}: this MycoPod reads no credentials")
        try:
            return self.credentials(name)
        except (OSError, ValueError) as exc:
            raise ActionFailed(str(exc)) from None

    def _keys(self, spec: GuestSpec, params: ConfigureParams,
              raw: dict[str, Any]) -> list[str] | None:
        """The config keys a configure may write: the planned ones; for a plan of an
        older version, every non-destructive difference; for a fresh clone, all."""
        if params.keys is not None:
            return list(params.keys)
        if params.fresh:
            return None
        found = changes.guest_changes(spec, raw, ownership_tag=self.tag)
        return [c.key for c in found.changes if c.cls != "destructive"]

    async def _do_configure(self, action: ConfigureAction,
                            guest: _Guest) -> tuple[str, str | None]:
        spec = self._need_spec(guest)
        p = action.params

        def compute(read: GuestRead) -> dict[str, Any]:
            only = self._keys(spec, p, read.effective_raw)
            return payloads.update_params(spec, read.effective_raw, ownership_tag=self.tag,
                                          only=only, secret=self._secret)

        message, upid = await self._write_config(guest, compute)
        grown: list[str] = []
        read = await self._read(guest)
        if p.fresh:
            for resize in payloads.resize_params(spec, read.effective_raw):
                result = await self.client.put(f"{self._base(guest)}/resize", **resize,
                                               digest=None)
                await self._wait(result)
                grown.append(f"{resize['disk']} to {resize['size']}")
            if grown:
                read = await self._read(guest)
        left = payloads.update_params(spec, read.effective_raw, ownership_tag=self.tag,
                                      only=self._keys(spec, p, read.effective_raw))
        if left:
            raise ActionFailed("Proxmox accepted the change but the config still differs: "
                               + ", ".join(sorted(left)), upid=upid)
        if grown:
            message += "; grew " + ", ".join(grown)
        return message, upid

    async def _do_remove_device(self, action: RemoveDeviceAction,
                                guest: _Guest) -> tuple[str, str | None]:
        """``delete=`` the devices (a qemu disk becomes ``unusedN``; its volume stays)."""
        wanted = action.params.keys

        def compute(read: GuestRead) -> dict[str, Any]:
            there = [k for k in wanted if k in read.effective_raw]
            return {"delete": ",".join(there)} if there else {}

        message, upid = await self._write_config(guest, compute)
        return message.replace("set delete", "removed " + ", ".join(wanted)), upid

    async def _do_set_pool(self, action: SetPoolAction,
                           guest: _Guest) -> tuple[str, str | None]:
        """``PUT /pools`` (PVE 8.1+; ``/pools/{poolid}`` is deprecated) with
        ``allow-move``: a guest is in one pool at most."""
        assert guest.vmid is not None
        pool = action.params.pool
        await self.client.put("/pools", poolid=pool, vms=str(guest.vmid),
                              **{"allow-move": 1})
        return f"moved to pool {pool}", None

    async def _do_tag_adopt(self, action: TagAdoptAction,
                            guest: _Guest) -> tuple[str, str | None]:
        tags = action.params.tags or self.tag

        def compute(read: GuestRead) -> dict[str, Any]:
            have = translate.parse_tags(read.effective_raw.get("tags"))
            return {} if self.tag in have else {"tags": tags}

        message, upid = await self._write_config(guest, compute)
        await self._accepted(guest)
        return message, upid

    async def _do_resize_disk(self, action: ResizeDiskAction,
                              guest: _Guest) -> tuple[str, str | None]:
        disk, size = action.params.disk, action.params.size
        read = await self._read(guest)
        current = next((d for d in read.pending.disks if d.slot == disk), None)
        if current is None:
            raise ActionFailed(f"disk {disk} does not exist any more")
        want = translate.parse_size(size)
        if current.size_bytes >= want:
            return f"{disk} already {translate.format_size(current.size_bytes)}", None
        result = await self.client.put(f"{self._base(guest)}/resize", disk=disk, size=size,
                                       digest=read.digest)
        upid = await self._wait(result)
        read = await self._read(guest)
        after = next((d for d in read.pending.disks if d.slot == disk), None)
        if after is None or after.size_bytes < want:
            raise ActionFailed(f"{disk} is still smaller than {size} after the resize",
                               upid=upid)
        return f"{disk} grown to {size}", upid

