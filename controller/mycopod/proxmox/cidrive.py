"""A VM's cloud-init drive (``SLOT: STORAGE:cloudinit``) ⇄ the spec. Pure.

Proxmox writes the cloud-init settings (``ciuser``, ``ipconfigN`` ...) onto this drive,
a CD-ROM (``media=cdrom``) it regenerates from the config; a VM without one ignores
them. A guest has at most one. Its own module so that :mod:`.devices` stays the table
of the devices that come in lists.

Only what the text states is compared: an unstated slot or storage keeps the drive
where it is. A drive that is declared and absent is created (``STORAGE:cloudinit``);
one on another storage or slot than declared is replaced (its content is regenerated,
so nothing is lost, but the old drive is removed: that removal is classified like a
removed disk, see docs/changes.md). An undeclared drive is the owner's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mycopod.proxmox.keys import parse_props
from mycopod.spec import DEFAULT_STORAGE, GuestSpec, stated

if TYPE_CHECKING:  # pragma: no cover
    from mycopod.proxmox.devices import DeviceChanges

#: where a new drive goes when the text names no slot: Proxmox's own habit first (ide2),
#: then the other IDE and SATA slots (never SCSI, which needs a controller that takes it)
FREE_SLOTS = ("ide2", "ide0", "ide1", "ide3", *(f"sata{n}" for n in range(6)))


def drives(raw: Mapping[str, Any]) -> dict[str, str]:
    """The cloud-init drives of a VM config: slot → its value."""
    from mycopod.proxmox import devices

    return {k: str(v) for k, v in raw.items() if devices.VM_DISK_RE.match(k) and v is not None
            and devices.drive_kind(v) == "cloudinit"}


def storage_of(value: str) -> str:
    """``local-lvm`` from ``local-lvm:vm-101-cloudinit,media=cdrom``."""
    return parse_props(value, "file").get("file", "").split(":", 1)[0]


def describe(raw: Mapping[str, Any]) -> dict[str, str] | None:
    """The drive as spec data, slot and storage pinned (an import states both), or None;
    a second drive (Proxmox makes one only by hand) is left out."""
    found = drives(raw)
    if not found:
        return None
    from mycopod.proxmox.translate import slot_sort_key

    slot = min(found, key=slot_sort_key)
    return {"slot": slot, "storage": storage_of(found[slot])}


def desired(guest: GuestSpec, raw: Mapping[str, Any], out: DeviceChanges, *,
            create: bool) -> None:
    """Add to ``out`` the keys that bring ``raw`` to the declared drive (nothing when the
    guest declares none)."""
    spec = guest.cloudinit_drive
    if spec is None:
        return
    given = stated(spec)
    have = {} if create else drives(raw)
    keep = [slot for slot, value in sorted(have.items())
            if ("slot" not in given or slot == spec.slot)
            and ("storage" not in given or storage_of(value) == spec.storage)]
    if keep:  # the declared drive is there: any other one goes
        for slot in have:
            if slot != keep[0]:
                out.values[slot] = None
        return
    for slot in have:
        out.values[slot] = None
    where = spec.slot if "slot" in given else _free_slot(guest, raw, out, create=create)
    if where is None:
        out.errors.append(f"{guest.name}: no free IDE or SATA slot is left for the cloud-init "
                          "drive; declare its slot (like scsi5)")
        return
    if not create and where not in have and raw.get(where) is not None:
        from mycopod.proxmox.devices import drive_kind

        out.errors.append(f"{where} holds a {drive_kind(raw[where])}, declared the cloud-init "
                          "drive; give the cloud-init drive another slot")
        return
    first = guest.disks[0].storage if guest.disks and guest.disks[0].storage else None
    storage = spec.storage if "storage" in given else first or DEFAULT_STORAGE
    out.values[where] = f"{storage}:cloudinit"


def _free_slot(guest: GuestSpec, raw: Mapping[str, Any], out: DeviceChanges, *,
               create: bool) -> str | None:
    taken = {d.slot for d in guest.disks} | {c.slot for c in guest.cdroms}
    taken |= {k for k, v in out.values.items() if v is not None}
    if not create:
        taken |= {k for k, v in raw.items() if v is not None and k not in drives(raw)}
    return next((s for s in FREE_SLOTS if s not in taken), None)
