"""Checks across the fields of one guest, and its canonical order. Pure.

Run by :class:`mycopod.spec.guest.GuestSpec` after the fields validate: settings of the
other kind, slots that clash, references that point nowhere. Every message names the
setting and says what would be valid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mycopod.spec import limits as L

if TYPE_CHECKING:  # pragma: no cover
    from mycopod.spec.guest import GuestSpec


def check_guest(guest: GuestSpec) -> None:
    from mycopod.spec.guest import CT_ONLY, VM_ONLY

    vm = guest.kind == "vm"
    wrong = sorted((VM_ONLY if not vm else CT_ONLY) & guest.model_fields_set)
    if wrong:
        other = "VM" if not vm else "container"
        raise ValueError(f"{', '.join(wrong)}: only for a {other}, and "
                         f"{guest.name} is a {'VM' if vm else 'container'}")
    _fill_sizes(guest)
    _check_disks(guest)
    _check_devices(guest)
    _check_cpu_memory(guest)
    if guest.ostype is not None:
        allowed = L.VM_OSTYPES if vm else L.CT_OSTYPES
        if guest.ostype not in allowed:
            raise ValueError(f"ostype {guest.ostype!r} is not one of {', '.join(allowed)}")
    if guest.source is not None:
        if not vm and guest.source.ostemplate is None:
            raise ValueError("a container can only be created from an LXC template "
                             "(ostemplate)")
        if vm and guest.source.ostemplate is not None:
            raise ValueError("an LXC template can only be used for a container")
    if guest.efidisk is not None and guest.bios != "ovmf":
        raise ValueError("an EFI disk needs UEFI firmware (bios ovmf)")
    if any(p.pcie for p in guest.pci_devices) and guest.machine is not None \
            and "q35" not in guest.machine:
        raise ValueError("PCI Express passthrough needs the q35 machine type")
    _sort(guest)


def _fill_sizes(guest: GuestSpec) -> None:
    """A volume without a stated size takes the kind's default size, left unstated, so it
    is created at that size and its size is never compared afterwards. A container mount
    point is the exception: it has no default size."""
    from mycopod.spec.guest import KIND_DEFAULTS

    for disk in guest.disks:
        if disk.bind or disk.size_gib is not None:
            continue
        if guest.kind == "ct" and disk.slot != "rootfs":
            raise ValueError(f"{disk.slot}: a mount point needs a size (like 200 GB), or a "
                             "host directory to bind-mount")
        object.__setattr__(disk, "size_gib", int(KIND_DEFAULTS[guest.kind]["disk_gib"]))


def _check_disks(guest: GuestSpec) -> None:
    vm = guest.kind == "vm"
    slot_re = L.VM_DISK_SLOT_RE if vm else L.CT_DISK_SLOT_RE
    seen: set[str] = set()
    for disk in guest.disks:
        if not slot_re.match(disk.slot):
            expected = "scsiN, virtioN, sataN or ideN" if vm else "rootfs or mpN"
            raise ValueError(f"disk slot {disk.slot!r} is not valid for a {guest.kind}; "
                             f"use {expected}")
        if disk.slot in seen:
            raise ValueError(f"disk slot {disk.slot} is given twice")
        seen.add(disk.slot)
        if vm and (disk.path is not None or disk.host_path is not None):
            raise ValueError(f"{disk.slot}: mount paths and bind mounts are for containers")
        if not vm and disk.slot == "rootfs" and (disk.host_path or disk.path):
            raise ValueError("rootfs is mounted at / and cannot be a bind mount")
        if not vm and ({"iothread", "ssd", "discard", "cache", "aio"} & disk.model_fields_set):
            raise ValueError(f"{disk.slot}: iothread, ssd, discard, cache and aio are VM disk "
                             "options")
        if not vm and "replicate" in disk.model_fields_set and disk.bind:
            raise ValueError(f"{disk.slot}: a bind mount is not replicated")
        if disk.slot.startswith(("ide", "sata")) and disk.iothread:
            raise ValueError(f"{disk.slot}: iothread needs a scsi or virtio disk")
    if not vm and "rootfs" not in seen:
        raise ValueError("a container needs a rootfs disk")
    paths = [d.path for d in guest.disks if d.path is not None]
    if len(paths) != len(set(paths)):
        raise ValueError("two mount points share a path")


def _check_devices(guest: GuestSpec) -> None:
    disks = {d.slot for d in guest.disks}
    cdroms: set[str] = set()
    for cdrom in guest.cdroms:
        if cdrom.slot in disks or cdrom.slot in cdroms:
            raise ValueError(f"slot {cdrom.slot} holds a disk and a CD-ROM; give the CD-ROM "
                             "another slot (like ide2)")
        cdroms.add(cdrom.slot)
    drive = guest.cloudinit_drive
    if drive is not None and drive.slot is not None and drive.slot in disks | cdroms:
        raise ValueError(f"slot {drive.slot} holds a disk or a CD-ROM and the cloud-init "
                         "drive; give the cloud-init drive another slot (like ide0)")
    nets: set[str] = set()
    for net in guest.networks:
        if net.slot in nets:
            raise ValueError(f"network slot {net.slot} is given twice")
        nets.add(net.slot)
        if guest.kind == "ct" and ({"model", "queues", "link_down"} & net.model_fields_set):
            raise ValueError(f"{net.slot}: model, queues and link_down are VM NIC options")
        if guest.kind == "vm" and "name" in net.model_fields_set:
            raise ValueError(f"{net.slot}: an interface name is a container NIC option")
    for group, prefix in ((guest.pci_devices, "hostpci"), (guest.usb_devices, "usb")):
        slots: set[str] = set()
        for dev in group:
            if not dev.slot.startswith(prefix) or dev.slot in slots:
                raise ValueError(f"passthrough slot {dev.slot} is wrong or given twice")
            slots.add(dev.slot)
    if guest.boot is not None:
        known = disks | cdroms | nets | {d.slot for d in guest.pci_devices}
        if drive is not None and drive.slot is not None:  # a config may list it
            known.add(drive.slot)
        for device in guest.boot:
            if device not in known:
                raise ValueError(f"boot device {device} is not one of the guest's declared "
                                 "disks, CD-ROMs or network cards")
        if len(set(guest.boot)) != len(guest.boot):
            raise ValueError("a boot device is listed twice")


def _check_cpu_memory(guest: GuestSpec) -> None:
    if guest.vcpus is not None and guest.vcpus > guest.cores * (guest.sockets or 1):
        raise ValueError(f"vcpus {guest.vcpus} is more than sockets × cores "
                         f"({(guest.sockets or 1) * guest.cores})")
    if guest.balloon_mib is not None and guest.balloon_mib > guest.memory_mib:
        raise ValueError(f"the balloon minimum {guest.balloon_mib} MiB is above the memory "
                         f"{guest.memory_mib} MiB")
    if guest.agent_fstrim and guest.agent is False:
        raise ValueError("fstrim of cloned disks needs the guest agent")


def _sort(guest: GuestSpec) -> None:
    """Canonical order: frozen model, so the sorted lists are set in place."""
    for name in ("disks", "networks", "cdroms", "pci_devices", "usb_devices"):
        items: list[Any] = getattr(guest, name)
        object.__setattr__(guest, name, sorted(items, key=lambda d: L.slot_key(d.slot)))
