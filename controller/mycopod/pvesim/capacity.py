"""Thin and thick provisioning: which storages refuse a disk for lack of space, and what
a storage reports as used.

PVE's storage plugins differ here, and a simulator that checked every allocation against
the provisioned sum would refuse disks a real cluster creates. LVM-thin pools, Ceph RBD,
sparse ZFS pools and files on dir/NFS storages (qcow2, and raw files, which are sparse)
overcommit freely: creating a volume reserves nothing. Only thick LVM (``lvcreate``
takes every extent at once) and ZFS without ``sparse`` (a zvol with a refreservation)
fail when the volume does not fit.

Usage is what is allocated, not what is provisioned: ``Volume.used``. The model, kept
simple on purpose: a volume on thick storage uses its whole size from the start; a new
volume on thin storage uses nothing (no guest in the simulator ever writes); a full clone
uses what its source used (the copy writes the same data), a linked clone nothing; the
volumes the default cluster starts with carry a plausible written amount; ISO images and
container templates are plain files, fully written.
"""

from __future__ import annotations

from mycopod.pvesim.state import Cluster, MiB, StorageDef, Volume

__all__ = ["StorageFull", "allocate", "free_bytes"]


class StorageFull(Exception):
    """A disk did not fit; the message is what PVE's storage plugin prints."""


def free_bytes(cl: Cluster, storage: str, node: str) -> int:
    return cl.storages[storage].total - cl.storage_used(storage, node)


def allocate(
    cl: Cluster,
    storage: str,
    node: str,
    vmid: int,
    size: int,
    *,
    kind: str = "qemu",
    fmt: str | None = None,
    used: int | None = None,
) -> Volume:
    """Allocate a volume as ``PVE::Storage::vdisk_alloc`` does: thick storages refuse what
    does not fit, thin ones take anything. ``used`` overrides the allocated bytes of a
    volume on thin storage (a full clone's copied data)."""
    sdef = cl.storages[storage]
    if sdef.thick:
        free = free_bytes(cl, storage, node)
        if size > free:
            name = cl.new_volname(storage, node, vmid, kind=kind).split(":", 1)[1]
            raise StorageFull(_out_of_space(sdef, name, size, free))
    vol = cl.add_volume(storage, node, vmid, size, kind=kind, fmt=fmt)
    if used is not None and not sdef.thick:
        vol.used = min(used, size)
    return vol


def _out_of_space(sdef: StorageDef, name: str, size: int, free: int) -> str:
    if sdef.type == "lvm":
        # pve-storage LVMPlugin.pm lvcreate: run_command(errmsg => "lvcreate '$vg/$name' error")
        # with LVM's own complaint about the volume group's free extents (4 MiB each)
        return (
            f"lvcreate 'pve-thick/{name}' error:   Volume group \"pve-thick\" has insufficient "
            f"free space ({free // (4 * MiB)} extents): {-(-size // (4 * MiB))} required."
        )
    # pve-storage ZFSPoolPlugin.pm zfs_create_zvol: "zfs create -V SIZEk" without "-s"
    # reserves the whole size; zfs_request dies with "zfs error: " and zfs's message
    return f"zfs error: cannot create 'rpool/data/{name}': out of space"
