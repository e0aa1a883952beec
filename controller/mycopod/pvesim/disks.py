"""Disk values in guest configs, and the volumes PVE allocates for them.

A disk key set to ``STORAGE:SIZE`` (``scsi1=local-lvm:8``, ``mp0=tank:200,mp=/data``,
``efidisk0=local-lvm:1,efitype=4m``) asks PVE to allocate a volume; ``STORAGE:cloudinit``
asks for the cloud-init drive. What the config then holds is the new volume with its
real size, printed as PVE prints the drive. Whether the storage has room is
``capacity``'s rule (thin storages overcommit).
"""

from __future__ import annotations

import re

from mycopod.pvesim import capacity, propstr
from mycopod.pvesim.errors import TaskError
from mycopod.pvesim.schema import format_size
from mycopod.pvesim.state import Cluster, GiB, Guest, KiB, MiB, Volume, is_disk_key

__all__ = ["allocate", "disk_file", "needs_alloc", "volume_key"]

NEW_DISK = re.compile(r"^([a-z][a-z0-9\-_.]*[a-z0-9]):(\d+(?:\.\d+)?)$", re.I)
CLOUDINIT = re.compile(r"^([a-z][a-z0-9\-_.]*[a-z0-9]):cloudinit$", re.I)

#: qemu-server PVE/QemuServer/Drive.pm TPMSTATE_DISK_SIZE
TPMSTATE_SIZE = 4 * MiB
#: the OVMF_VARS files create_efidisk copies (pve-edk2-firmware): 4m and 2m variants
EFI_VARS_SIZE = {"4m": 540672, "2m": 128 * KiB}


def volume_key(kind: str) -> str:
    return "file" if kind == "qemu" else "volume"


def disk_file(kind: str, key: str, value: str) -> str:
    """The volume (or ``STORAGE:SIZE``, ``none``, …) a disk config value refers to."""
    return propstr.parse(kind, key, value).get(volume_key(kind), "")


def needs_alloc(g: Guest, key: str, value: str) -> bool:
    if not is_disk_key(g.kind, key):
        return False
    file = disk_file(g.kind, key, value)
    return bool(file and file != "none" and ":" in file)


def _stored_size(cl: Cluster, storage: str, size: int) -> int:
    """What ``volume_size_info`` reports for a small volume: LVM rounds up to 4 MiB
    extents, ZFS and RBD to 1 MiB, files keep their size."""
    stype = cl.storages[storage].type
    unit = 4 * MiB if stype in ("lvm", "lvmthin") else MiB if stype in ("zfspool", "rbd") else 1
    return -(-size // unit) * unit


def _new_disk(
    cl: Cluster, g: Guest, key: str, data: dict[str, str], storage: str, gib: float
) -> Volume:
    sdef = cl.storages.get(storage)
    if sdef is None:
        raise TaskError(f"storage '{storage}' does not exist")
    fmt = data.pop("format", None) if sdef.path_style else None
    if not sdef.path_style:
        data.pop("format", None)
    size = int(gib * GiB)
    if key == "efidisk0":
        # qemu-server PVE/QemuServer/OVMF.pm create_efidisk: the size given is ignored, the
        # volume holds a copy of the OVMF vars file; with pre-enrolled keys PVE 9's vars
        # carry the 2023 Microsoft certificates (is_ms_2023_cert_enrolled)
        efitype = data.get("efitype", "2m")
        size = _stored_size(cl, storage, EFI_VARS_SIZE.get(efitype, EFI_VARS_SIZE["2m"]))
        if data.get("pre-enrolled-keys") == "1" and efitype == "4m":
            data["ms-cert"] = "2023k"
    elif key == "tpmstate0":
        # qemu-server PVE/API2/Qemu.pm create_disks: "A fixed size is used for TPM state"
        size, fmt = TPMSTATE_SIZE, "raw" if sdef.path_style else None
    try:
        vol = capacity.allocate(cl, storage, g.node, g.vmid, size, kind=g.kind, fmt=fmt)
    except capacity.StorageFull as exc:
        raise TaskError(str(exc)) from None
    if key in ("efidisk0", "tpmstate0"):
        vol.used = vol.size  # written at creation (the vars copy, swtpm's state)
    return vol


def allocate(sim_cluster: Cluster, g: Guest, key: str, value: str) -> str:
    """Allocate the volume a ``STORAGE:SIZE`` or ``STORAGE:cloudinit`` disk value asks
    for (qemu-server API2/Qemu.pm create_disks, pve-container LXC.pm create_disks);
    return the value PVE then stores."""
    cl = sim_cluster
    data = propstr.parse(g.kind, key, value)
    vk = volume_key(g.kind)
    file = data.get(vk, "")
    new = NEW_DISK.match(file)
    if new:
        vol = _new_disk(cl, g, key, data, new.group(1), float(new.group(2)))
        data[vk] = vol.volid
        data["size"] = format_size(vol.size)
        return propstr.render(g.kind, key, data)
    ci = CLOUDINIT.match(file)
    if ci and g.kind == "qemu":
        storage = ci.group(1)
        sdef = cl.storages.get(storage)
        if sdef is None:
            raise TaskError(f"storage '{storage}' does not exist")
        # create_disks: "vm-VMID-cloudinit", with a format suffix on file storages
        fmt = data.pop("format", "qcow2") if sdef.path_style else "raw"
        name = f"vm-{g.vmid}-cloudinit"
        volid = f"{storage}:{g.vmid}/{name}.{fmt}" if sdef.path_style else f"{storage}:{name}"
        scope = cl.storage_scope(storage, g.node)
        cl.volumes[(scope, volid)] = Volume(
            volid, storage, scope, 4 * MiB, "images", g.vmid, fmt, int(cl.clock()), used=4 * MiB
        )
        data[vk] = volid
        data["media"] = "cdrom"
        return propstr.render(g.kind, key, data)
    if file and file != "none" and ":" in file:
        found = cl.find_volume(file, g.node)
        if found is None:
            raise TaskError(f"volume '{file}' does not exist")
        data.setdefault("size", format_size(found.size))
        return propstr.render(g.kind, key, data)
    return value
