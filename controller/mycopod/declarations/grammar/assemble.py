"""The whole-guest settings of a draft as GuestSpec input: parts, devices, lists, boot.

:func:`~mycopod.declarations.grammar.drafts.guest_data` builds the fields of the original
contract; this adds the settings of the whole guest model. Only what the sentences stated
goes into the data: a CD-ROM or passthrough device without a written slot gets the next
free one (in order of mention), and ``boot`` words like ``the CD-ROM`` or ``the network``
are resolved against the devices declared. Defaults are the model's, never written here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mycopod.declarations.grammar.tokens import SentenceError

if TYPE_CHECKING:  # pragma: no cover
    from mycopod.declarations.grammar.drafts import Draft

#: free slots, in the order a CD-ROM or passthrough device without a slot takes them
_FREE_SLOTS = {
    "cdroms": ["ide2", "ide3", "ide0", "ide1", *(f"sata{n}" for n in range(6))],
    "pci_devices": [f"hostpci{n}" for n in range(16)],
    "usb_devices": [f"usb{n}" for n in range(15)],
}
#: boot words that stand for a device kind (see :mod:`.devices`)
BOOT_CDROM, BOOT_NET, BOOT_DISK = "@cdrom", "@net", "@disk"


def whole_guest_data(d: Draft, data: dict[str, Any], lines: dict[str, int]) -> None:
    for part, values in d.parts.items():
        data[part] = {k: v for k, (v, _) in values.items()}
        lines[part] = min((ln for _, ln in values.values()), default=d.line)
    for key, items in d.lists.items():
        data[key] = list(items)
    disk_slots = {x["slot"] for x in data.get("disks", [])}
    disk_slots |= {data.get("cloudinit_drive", {}).get("slot")} - {None}  # not a CD-ROM's
    for group, devices in d.devices.items():
        taken = {v["slot"] for v, _ in devices if v.get("slot")} | disk_slots
        out = []
        for given, line in devices:
            device = dict(given)
            if not device.get("slot"):
                free = [s for s in _FREE_SLOTS[group] if s not in taken]
                if not free:
                    raise SentenceError(line, f"{d.name}: no free slot is left for this "
                                              "device; give its slot")
                device["slot"] = free[0]
                taken.add(free[0])
            out.append(device)
            lines.setdefault(group, line)
        data[group] = out
    if "boot" in d.fields:
        items, at = d.fields["boot"]
        data["boot"] = [_boot_slot(d, data, item, at) for item in items]


def _boot_slot(d: Draft, data: dict[str, Any], item: str, line: int) -> str:
    if item == BOOT_CDROM:
        cdroms = [c["slot"] for c in data.get("cdroms", [])]
        if len(cdroms) != 1:
            raise SentenceError(line, f"{d.name}: 'the CD-ROM' in the boot order needs "
                                      "exactly one CD-ROM drive; name its slot (like ide2)")
        return str(cdroms[0])
    if item == BOOT_NET:
        nets = [n["slot"] for n in data.get("networks", [])]
        return str(nets[0]) if nets else "net0"
    if item == BOOT_DISK:
        disks = [x["slot"] for x in data.get("disks", [])]
        return str(disks[0]) if disks else "scsi0"
    return item
