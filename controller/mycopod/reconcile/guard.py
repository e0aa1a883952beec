"""The executor's identity guard and the adopt step (mixed into the Executor).

Before a destructive or power action the guest is re-read and compared with the
identity the inventory recorded (:mod:`mycopod.proxmox.identity`). A guest that moved to
another node (HA, a migration by hand) is followed there by its vmid, if it is still
the same guest; a different name or identity (a recycled vmid, a guest renamed or
replaced out of band) is an :class:`IdentityConflict`: the action is refused, its row
ends ``Conflict``, and nothing is done. Adopting writes the ownership tag (the guest's
other tags are kept) and the inventory row with the identity, and nothing else.
"""

from __future__ import annotations

from typing import Any

import structlog

from mycopod.proxmox import identity, translate
from mycopod.proxmox.errors import NotFoundError
from mycopod.proxmox.observer import GuestRead
from mycopod.reconcile.config_steps import ActionFailed, ConfigSteps, _Guest
from mycopod.reconcile.plan import Action, AdoptAction

log = structlog.get_logger(__name__)

#: the kinds whose guest is re-read and checked first (and a destructive configure)
GUARDED = frozenset({"start", "stop", "delete", "migrate", "remove_device"})


class IdentityConflict(ActionFailed):
    """The guest is not the one MycoPod manages any more: nothing was done."""


class Guard(ConfigSteps):
    async def _locate(self, guest: _Guest, *, gone_ok: bool = False) -> dict[str, Any] | None:
        """The guest's current config, following it to the node it is on now (None: it
        is gone, with ``gone_ok``)."""
        assert guest.vmid is not None
        try:
            return dict(await self.client.get(f"{self._base(guest)}/config") or {})
        except NotFoundError:
            pass
        for item in await self.client.get("/cluster/resources", type="vm") or []:
            if int(item.get("vmid", -1)) == guest.vmid and item.get("node") != guest.node:
                log.info("guard.followed", guest=guest.name, vmid=guest.vmid,
                         old=guest.node, new=item.get("node"))
                guest.node = str(item["node"])
                return dict(await self.client.get(f"{self._base(guest)}/config") or {})
        if gone_ok:
            return None
        raise IdentityConflict(f"VMID {guest.vmid} is gone from the cluster; nothing done")

    async def _guard(self, action: Action, guest: _Guest) -> None:
        if guest.vmid is None or not (action.kind in GUARDED or action.destructive):
            return
        node = guest.node
        raw = await self._locate(guest, gone_ok=action.kind == "delete")
        if raw is None:  # a delete of a guest already gone: the delete says so
            return
        seen = identity.of_config(guest.kind, raw)
        recorded = await self.inventory.identity(self.cluster, vmid=guest.vmid)
        why = (identity.mismatch(recorded, seen) if recorded is not None else
               None if seen.name == guest.name else
               f"named {seen.name!r}, planned as {guest.name!r}")
        if why is not None:
            log.warning("guard.conflict", guest=guest.name, vmid=guest.vmid, why=why)
            raise IdentityConflict(f"identity conflict on VMID {guest.vmid}: {why}; "
                                   f"{action.kind} refused, nothing done")
        if recorded is None or recorded != seen or node != guest.node:
            await self.inventory.record_identity(
                self.cluster, vmid=guest.vmid, kind=guest.kind, node=guest.node,
                identity=seen if recorded is None or recorded.name == seen.name
                else recorded, run_id=self.run_id)

    async def _record_identity(self, guest: _Guest) -> None:
        """After a create or clone: what Proxmox gave the new guest."""
        assert guest.vmid is not None
        raw = dict(await self.client.get(f"{self._base(guest)}/config") or {})
        await self.inventory.record_identity(
            self.cluster, vmid=guest.vmid, kind=guest.kind, node=guest.node,
            identity=identity.of_config(guest.kind, raw), run_id=self.run_id)

    async def _do_adopt(self, action: AdoptAction, guest: _Guest) -> tuple[str, str | None]:
        raw = await self._locate(guest)
        assert raw is not None
        seen = identity.of_config(guest.kind, raw)
        if seen.name != guest.name:
            raise IdentityConflict(f"VMID {guest.vmid} is named {seen.name!r} now, planned "
                                   f"to adopt {guest.name!r}; nothing done")

        def compute(read: GuestRead) -> dict[str, Any]:
            have = translate.parse_tags(read.effective_raw.get("tags"))
            want = translate.format_tags({*have, self.tag})
            return {} if self.tag in have else {"tags": want}

        message, upid = await self._write_config(guest, compute)
        assert guest.vmid is not None
        await self.inventory.record_identity(self.cluster, vmid=guest.vmid, kind=guest.kind,
                                             node=guest.node, identity=seen,
                                             run_id=self.run_id)
        return f"adopted VMID {guest.vmid} on {guest.node} ({message})", upid
