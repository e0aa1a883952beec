"""The steps of one existing guest's settings: what the planner adds for the stated
settings that differ. Pure.

Split from :mod:`mycopod.reconcile.planner` (which decides *which* guests to create,
change, delete or leave alone); this module turns the classified differences of one
guest (:mod:`mycopod.reconcile.changes`) into ordered, typed actions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from mycopod.proxmox import keys, payloads, translate
from mycopod.proxmox.model import GuestConfig, ObservedGuest
from mycopod.reconcile import changes
from mycopod.reconcile.plan import (
    Action,
    ActionKind,
    ConfigureParams,
    GuestReport,
    Params,
    RemoveDeviceParams,
    ResizeDiskParams,
    SetPoolParams,
    make_action,
)
from mycopod.spec import GuestSpec, stated


class Builder:
    def __init__(self, guest: GuestSpec | ObservedGuest, kind: Literal["vm", "ct"]) -> None:
        self.name = guest.name
        self.kind = kind
        self.actions: list[Action] = []

    def add(self, kind: ActionKind, *, vmid: int | None, node: str | None, reason: str,
            params: Params | None = None, destructive: bool = False) -> None:
        depends = (self.actions[-1].id,) if self.actions else ()
        self.actions.append(make_action(
            kind, id=f"{self.name}#{len(self.actions) + 1}:{kind}", target=self.name,
            guest_kind=self.kind, vmid=vmid, node=node, params=params, reason=reason,
            depends_on=depends, destructive=destructive))


def plan_settings(guest: GuestSpec, seen: ObservedGuest, config: GuestConfig,
                 builder: Builder, report: GuestReport, *, node: str,
                  ownership_tag: str) -> Settings:
    """Plan the stated settings of ``guest`` that differ from ``config`` (the effective
    config of ``seen``), classified by :mod:`mycopod.reconcile.changes`: one configure of
    the safe changes, a destructive configure of replaced state volumes or firmware, a
    remove_device of removed devices, a resize per disk to grow, a set_pool. Returns
    what a restart would still apply and the plan errors (shrinks, moves, create-only)."""
    vmid = seen.vmid
    current = seen.current.raw if seen.current is not None else config.raw
    found = changes.guest_changes(guest, config.raw, current, ownership_tag=ownership_tag)
    report.left_alone = keys.unmanaged(config.raw)
    if builder.actions and builder.actions[0].kind == "tag_adopt":
        found.changes = [c for c in found.changes if c.key != "tags"]
    for error in found.errors:
        report.drift.append(error)
    lossy = found.of("destructive")
    gone_nets = {c.key.removeprefix("net") for c in lossy if c.new is None
                 and c.key.startswith("net")}
    # a removed NIC's ipconfigN goes with it, in the same (approved) step
    with_nic = [c for c in found.changes if c.new is None and c.key.startswith("ipconfig")
                and c.key.removeprefix("ipconfig") in gone_nets]
    safe = [c for c in found.of("live", "restart", "cloudinit") if c not in with_nic]
    if safe:
        builder.add("configure", vmid=vmid, node=node, reason=_reasons(safe),
                    params=ConfigureParams(fields=tuple(c.key for c in safe),
                                           keys=tuple(c.key for c in safe)))
    replaced = [c for c in lossy if c.new is not None]
    if replaced:
        builder.add("configure", vmid=vmid, node=node, destructive=True,
                    reason="destructive: " + _reasons(replaced),
                    params=ConfigureParams(fields=tuple(c.key for c in replaced),
                                           keys=tuple(c.key for c in replaced)))
    removed = [c for c in lossy if c.new is None] + with_nic
    if removed:
        builder.add("remove_device", vmid=vmid, node=node,
                    reason="remove " + ", ".join(f"{c.key} ({c.old})" for c in removed),
                    params=RemoveDeviceParams(keys=tuple(c.key for c in removed)))
    for disk in found.resizes:
        builder.add("resize_disk", vmid=vmid, node=node,
                    params=ResizeDiskParams(
                        disk=disk.slot, size=translate.format_size(disk.new_bytes)),
                    reason=f"{disk.slot} {translate.gib_text(disk.old_bytes)} → "
                    f"{translate.gib_text(disk.new_bytes)}")
    if guest.pool is not None and guest.pool != seen.pool:
        builder.add("set_pool", vmid=vmid, node=node,
                    params=SetPoolParams(pool=guest.pool, old=seen.pool),
                    reason=f"pool {seen.pool or 'none'} → {guest.pool}")
    restart = [c.reason for c in found.changes if not c.live]
    if seen.current is not None and seen.pending is not None:
        restart += [f"{k} (pending)" for k in changes.pending_keys(
            guest, seen.current.raw, seen.pending.raw)]
    return Settings(restart=restart, errors=found.errors)


@dataclass
class Settings:
    #: reasons of the changes a restart still has to apply
    restart: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _reasons(found: list[changes.Change]) -> str:
    return ", ".join(c.reason for c in found)


def would_change(guest: GuestSpec, seen: ObservedGuest, *, ownership_tag: str) -> tuple[str, ...]:
    """What reconciling would change on an existing guest once it is adopted: the config
    keys of its stated settings that differ (the ownership tag aside), disks to grow, a
    pool, node or state. Empty for a declaration ``mycopod import`` wrote."""
    config = seen.effective
    if config is None:
        return ("(config not read)",)
    found = payloads.differences(guest, config.raw, ownership_tag=ownership_tag)
    have = set(translate.parse_tags(config.raw.get("tags"))) - {ownership_tag}
    out = {k for k in found.values if k != "tags"}
    if "tags" in stated(guest) and set(guest.tags) != have:
        out.add("tags")
    out |= {f"{r.slot} size" for r in found.resizes}
    out |= {f"error: {e}" for e in found.errors}
    if "pool" in stated(guest) and guest.pool != seen.pool:
        out.add("pool")
    if guest.node is not None and guest.node != seen.node:
        out.add("node")
    if (guest.state == "running") != seen.running:
        out.add("state")
    return tuple(sorted(out, key=translate.slot_sort_key))
