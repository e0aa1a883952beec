"""The one table of creation defaults: what a new guest gets for what the text leaves out.

These values are written when MycoPod creates a guest and never afterwards: a setting
the text does not state is the owner's from then on (:func:`mycopod.spec.base.stated`).
docs/declarations.md prints this table. Pure.
"""

from __future__ import annotations

from typing import Any

from mycopod.spec import limits as L

#: per kind: spec field → creation default (``None``: Proxmox's own default, not sent)
CREATION_DEFAULTS: dict[str, dict[str, Any]] = {
    "vm": {
        "state": "running",
        "cores": 1,
        "sockets": None,
        "memory_mib": 1024,
        "disks": [{"slot": "scsi0", "storage": L.DEFAULT_STORAGE, "size_gib": 32}],
        "networks": [{"slot": "net0", "bridge": L.DEFAULT_BRIDGE, "model": "virtio",
                      "ip": "dhcp", "firewall": False}],
        "scsihw": "virtio-scsi-single",
        "onboot": False,
        "ostype": "l26",
        "bios": None,
        "machine": None,
        "agent": None,
        "efidisk": {"storage": "the first disk's storage", "efitype": "4m",
                    "pre_enrolled_keys": True},
        "tpm": {"storage": "the first disk's storage", "version": "v2.0"},
        "cdroms": "ide2 with the source ISO, when the source is an ISO",
        "cloudinit_drive": {"slot": "the first free of ide2, ide0, ide1, ide3, sata0 ...",
                            "storage": "the first disk's storage"},
    },
    "ct": {
        "state": "running",
        "cores": 1,
        "memory_mib": 512,
        "swap_mib": 512,
        "disks": [{"slot": "rootfs", "storage": L.DEFAULT_STORAGE, "size_gib": 8}],
        "networks": [{"slot": "net0", "name": "eth0", "bridge": L.DEFAULT_BRIDGE,
                      "ip": "dhcp", "firewall": False}],
        "unprivileged": True,
        "onboot": False,
        "mount point path": "/mnt/<slot> (mp0 → /mnt/mp0)",
        "source": "the cluster's Debian LXC template when none is declared",
    },
}

#: where a container mount point is mounted when the text gives no path
CT_MOUNT_ROOT = "/mnt"


def creation_default(kind: str, field: str) -> Any:
    return CREATION_DEFAULTS[kind].get(field)
