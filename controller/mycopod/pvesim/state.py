"""The simulated cluster: nodes, storages and their volumes, guests, pools.

Guest configs are kept the way PVE keeps them, as ``key -> string`` in the form they
take in ``/etc/pve/nodes/NODE/qemu-server/VMID.conf`` (booleans ``0``/``1``, sizes
``32G``), with the pending section beside them; typing for JSON happens at the edge.
The digest is the sha1 of that file text, as in PVE, so any change changes it.

One ``threading.RLock`` guards the whole model: the simulator's event loop takes it
around each request and each task step, and test code reading the model from another
thread (``direct``) takes it too. ``version`` grows on every change so the expensive
``/cluster/resources`` answer can be cached while nothing changed. The model lives in
memory only; ``persistence`` saves it to the state file and loads it back.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mycopod.pvesim.schema import format_size, parse_size

KiB = 1024
MiB = 1024**2
GiB = 1024**3
TiB = 1024**4

NODE_CORES = 16
NODE_MEMORY = 64 * GiB
#: what the host itself uses before any guest runs
NODE_BASE_MEMORY = 2 * GiB

DISK_KEYS = tuple(
    [f"ide{i}" for i in range(4)]
    + [f"sata{i}" for i in range(6)]
    + [f"scsi{i}" for i in range(31)]
    + [f"virtio{i}" for i in range(16)]
    + ["efidisk0", "tpmstate0"]
)
DISK_KEY_SET = frozenset(DISK_KEYS)


def is_disk_key(kind: str, key: str) -> bool:
    if kind == "qemu":
        return key in DISK_KEY_SET
    return key == "rootfs" or (key.startswith("mp") and key[2:].isdigit())


@dataclass
class StorageDef:
    storage: str
    type: str
    content: list[str]
    shared: bool
    total: int
    #: zfspool only: ``sparse 1`` in storage.cfg (thin zvols, no refreservation)
    sparse: bool = False

    @property
    def path_style(self) -> bool:
        """dir/nfs storages keep images as files under ``VMID/``."""
        return self.type in ("dir", "nfs")

    @property
    def thick(self) -> bool:
        """Whether a new volume takes its full size at once (see ``capacity``)."""
        return self.type == "lvm" or (self.type == "zfspool" and not self.sparse)


@dataclass
class Volume:
    volid: str
    storage: str
    #: "" for a volume on shared storage
    node: str
    size: int
    content: str
    vmid: int | None
    format: str
    ctime: int
    #: bytes the volume takes on its storage: its size on thick storage, what was written
    #: (copied, seeded) on thin storage; see ``capacity``
    used: int = 0


def guest_label(kind: str, vmid: int) -> str:
    """How PVE names a guest in messages: ``VM 101`` or ``CT 101``."""
    return f"{'VM' if kind == 'qemu' else 'CT'} {vmid}"


def conf_path(kind: str, node: str, vmid: int) -> str:
    """The guest's config file, relative to ``/etc/pve``."""
    sub = "qemu-server" if kind == "qemu" else "lxc"
    return f"nodes/{node}/{sub}/{vmid}.conf"


@dataclass
class Guest:
    vmid: int
    kind: str  # "qemu" or "lxc"
    node: str
    config: dict[str, str]
    pending: dict[str, str] = field(default_factory=dict)
    pending_delete: list[str] = field(default_factory=list)
    status: str = "stopped"
    started_at: float | None = None
    pool: str | None = None
    rev: int = 0

    @property
    def name(self) -> str:
        key = "name" if self.kind == "qemu" else "hostname"
        return self.config.get(key, self.label)

    @property
    def label(self) -> str:
        return guest_label(self.kind, self.vmid)

    @property
    def conf_path(self) -> str:
        return conf_path(self.kind, self.node, self.vmid)

    def file_text(self) -> str:
        lines: list[str] = []
        desc = self.config.get("description")
        if desc is not None:
            lines.extend("#" + line for line in desc.split("\n"))
        lines.extend(f"{k}: {v}" for k, v in sorted(self.config.items()) if k != "description")
        if self.pending or self.pending_delete:
            lines.append("")
            lines.append("[PENDING]")
            lines.extend(f"{k}: {v}" for k, v in sorted(self.pending.items()))
            if self.pending_delete:
                lines.append("delete: " + ",".join(self.pending_delete))
        return "\n".join(lines) + "\n"

    def digest(self) -> str:
        return hashlib.sha1(self.file_text().encode()).hexdigest()  # noqa: S324 - PVE's digest


@dataclass
class Pool:
    poolid: str
    comment: str = ""
    storages: list[str] = field(default_factory=list)


def default_storages() -> dict[str, StorageDef]:
    return {
        s.storage: s
        for s in (
            StorageDef("local", "dir", ["iso", "vztmpl", "backup"], False, 100 * GiB),
            StorageDef("local-lvm", "lvmthin", ["images", "rootdir"], False, 500 * GiB),
            StorageDef(
                "local-zfs", "zfspool", ["images", "rootdir"], False, 500 * GiB, sparse=True
            ),
            # thick LVM (a volume group, no thin pool): the one default storage that refuses a
            # disk once its extents run out
            StorageDef("lvm-thick", "lvm", ["images", "rootdir"], False, 200 * GiB),
            StorageDef("ceph-pool", "rbd", ["images", "rootdir"], True, 2 * TiB),
            StorageDef("tank", "nfs", ["images", "rootdir"], True, 8 * TiB),
        )
    }


_LOCAL_FILES = (
    ("local:iso/debian-12.iso", "iso", 658 * MiB),
    ("local:iso/Win11.iso", "iso", 5 * GiB + 812 * MiB),
    ("local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", "vztmpl", 120 * MiB),
    ("local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz", "vztmpl", 3 * MiB),
)


class Cluster:
    """The whole simulated cluster. Mutate only while holding ``lock``."""

    def __init__(
        self,
        *,
        node_count: int = 3,
        clock: Callable[[], float] = time.time,
        seed: int | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.rng = random.Random(seed)  # noqa: S311 - simulation, not security
        self.nodes = [f"pve{i}" for i in range(1, node_count + 1)]
        self.node_boot = {n: clock() - 86400 * 3 for n in self.nodes}
        self.storages = default_storages()
        self.volumes: dict[tuple[str, str], Volume] = {}  # (node or "", volid) -> volume
        self.guests: dict[int, Guest] = {}
        self.pools: dict[str, Pool] = {}
        #: HA resources by service id (``vm:100``): their options as strings
        self.ha: dict[str, dict[str, str]] = {}
        #: pvestatd's last sample of each guest (PVE's rrd data): vmid -> (guest object
        #: id, sampled values, started_at); see ``resources.stats_round``
        self.rrd: dict[int, tuple[int, dict[str, Any], float | None]] = {}
        self.rrd_round = 0
        #: what each guest was when last sampled (see ``resources.stats_round``)
        self.rrd_keys: dict[int, tuple[Any, ...]] = {}
        self.version = 0
        self.listeners: list[Callable[[], None]] = []

    # -- change tracking ---------------------------------------------------------------

    def touch(self, guest: Guest | None = None) -> None:
        self.version += 1
        if guest is not None:
            guest.rev += 1
        for listener in self.listeners:
            listener()

    # -- the cluster a fresh simulator starts with --------------------------------------

    @classmethod
    def initial(
        cls, *, node_count: int = 3, clock: Callable[[], float] = time.time, seed: int | None = None
    ) -> Cluster:
        cl = cls(node_count=node_count, clock=clock, seed=seed)
        now = int(clock())
        for node in cl.nodes:
            for volid, content, size in _LOCAL_FILES:
                fmt = "iso" if content == "iso" else volid.rsplit(".", 1)[-1]
                cl.volumes[(node, volid)] = Volume(
                    volid, "local", node, size, content, None, fmt, now, used=size
                )
        cl.pools["infra"] = Pool("infra", "Infrastructure")
        for vmid, name in ((9000, "ubuntu-24.04"), (9001, "debian-12")):
            # a cloud image written to the thin pool: ~1.5 GiB of the 4 GiB
            disk = cl.add_volume("local-lvm", "pve1", vmid, 4 * GiB, base=True)
            disk.used = 1536 * MiB
            ci = f"local-lvm:vm-{vmid}-cloudinit"
            cl.volumes[("pve1", ci)] = Volume(
                ci, "local-lvm", "pve1", 4 * MiB, "images", vmid, "raw", now, used=4 * MiB
            )
            cl.guests[vmid] = Guest(
                vmid=vmid,
                kind="qemu",
                node="pve1",
                config={
                    "name": name,
                    "cores": "2",
                    "memory": "2048",
                    "ostype": "l26",
                    "scsihw": "virtio-scsi-single",
                    "scsi0": f"{disk.volid},iothread=1,size=4G",
                    "ide2": f"{ci},media=cdrom",
                    "net0": f"virtio={cl.new_mac()},bridge=vmbr0",
                    "boot": "order=scsi0",
                    "agent": "1",
                    "template": "1",
                    "smbios1": f"uuid={cl.new_uuid()}",
                    "vmgenid": cl.new_uuid(),
                    "description": f"{name} cloud image template",
                },
            )
        disk = cl.add_volume("local-lvm", "pve1", 100, 32 * GiB)
        disk.used = 9 * GiB  # a day of running has written to it
        cl.guests[100] = Guest(
            vmid=100,
            kind="qemu",
            node="pve1",
            config={
                "name": "legacy-app",
                "cores": "2",
                "memory": "4096",
                "ostype": "l26",
                "scsihw": "virtio-scsi-single",
                "scsi0": f"{disk.volid},iothread=1,size=32G",
                "net0": f"virtio={cl.new_mac()},bridge=vmbr0",
                "boot": "order=scsi0;net0",
                "onboot": "1",
                "smbios1": f"uuid={cl.new_uuid()}",
                "vmgenid": cl.new_uuid(),
            },
            status="running",
            started_at=clock() - 3600 * 26,
        )
        return cl

    # -- identifiers --------------------------------------------------------------------

    def new_mac(self) -> str:
        tail = ":".join(f"{self.rng.randrange(256):02X}" for _ in range(3))
        return f"BC:24:11:{tail}"

    def new_uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def next_free_vmid(self) -> int:
        vmid = 100
        while vmid in self.guests:
            vmid += 1
        return vmid

    # -- storage -----------------------------------------------------------------------

    def storage_scope(self, storage: str, node: str) -> str:
        return "" if self.storages[storage].shared else node

    def storage_used(self, storage: str, node: str) -> int:
        scope = self.storage_scope(storage, node)
        return sum(
            v.used for (n, _), v in self.volumes.items() if n == scope and v.storage == storage
        )

    def volumes_on(self, storage: str, node: str) -> list[Volume]:
        scope = self.storage_scope(storage, node)
        return [v for (n, _), v in self.volumes.items() if n == scope and v.storage == storage]

    def find_volume(self, volid: str, node: str) -> Volume | None:
        storage = volid.split(":", 1)[0]
        if storage not in self.storages:
            return None
        return self.volumes.get((self.storage_scope(storage, node), volid))

    def new_volname(
        self, storage: str, node: str, vmid: int, *, kind: str = "qemu", fmt: str = "qcow2"
    ) -> str:
        sdef = self.storages[storage]
        prefix = "subvol" if kind == "lxc" and sdef.type == "zfspool" else "vm"
        scope = self.storage_scope(storage, node)
        volumes = self.volumes  # looked up by key: a cluster of 10,000 guests has as many
        n = 0
        while True:
            name = f"{prefix}-{vmid}-disk-{n}"
            volid = f"{storage}:{vmid}/{name}.{fmt}" if sdef.path_style else f"{storage}:{name}"
            # pve-storage Plugin.pm find_free_diskname: a name is taken in any format
            taken = (volid, f"{storage}:base-{vmid}-disk-{n}",
                     *(f"{storage}:{vmid}/{name}.{ext}" for ext in ("raw", "qcow2", "vmdk")))
            if not any((scope, vid) in volumes for vid in taken):
                return volid
            n += 1

    def add_volume(
        self,
        storage: str,
        node: str,
        vmid: int,
        size: int,
        *,
        kind: str = "qemu",
        base: bool = False,
        fmt: str | None = None,
    ) -> Volume:
        """Add a new disk volume, unchecked (``capacity.allocate`` checks the space first).

        ``fmt`` is the image format on dir/nfs storage: qemu's default is qcow2, a
        container's raw (pve-container LXC.pm alloc_disk); block storages hold raw only.
        """
        sdef = self.storages[storage]
        file_fmt = fmt or ("raw" if kind == "lxc" else "qcow2")
        volid = self.new_volname(storage, node, vmid, kind=kind, fmt=file_fmt)
        if base:
            volid = volid.replace(f"vm-{vmid}-", f"base-{vmid}-")
        vol = Volume(
            volid=volid,
            storage=storage,
            node=self.storage_scope(storage, node),
            size=size,
            content="rootdir" if kind == "lxc" else "images",
            vmid=vmid,
            format=file_fmt if sdef.path_style else ("subvol" if "subvol-" in volid else "raw"),
            ctime=int(self.clock()),
            used=size if sdef.thick else 0,
        )
        self.volumes[(vol.node, volid)] = vol
        return vol

    def move_volume(
        self, vol: Volume, *, volid: str | None = None, node: str | None = None
    ) -> None:
        """Rename a volume or move it to another node, keeping ``volumes`` keyed by both."""
        del self.volumes[(vol.node, vol.volid)]
        if volid is not None:
            vol.volid = volid
        if node is not None:
            vol.node = node
        self.volumes[(vol.node, vol.volid)] = vol

    def remove_volume(self, volid: str, node: str) -> None:
        storage = volid.split(":", 1)[0]
        if storage in self.storages:
            self.volumes.pop((self.storage_scope(storage, node), volid), None)

    # -- node accounting ---------------------------------------------------------------

    def node_mem_used(self, node: str) -> int:
        return NODE_BASE_MEMORY + sum(
            guest_memory(g)
            for g in self.guests.values()
            if g.node == node and g.status == "running"
        )


def guest_memory(g: Guest) -> int:
    raw = g.config.get("memory")
    if raw is None:
        return 512 * MiB
    raw = raw.split(",")[0].removeprefix("current=")
    try:
        return int(raw) * MiB
    except ValueError:
        return 512 * MiB


def guest_cpus(g: Guest) -> int:
    if g.kind == "lxc":
        return int(g.config.get("cores", NODE_CORES))
    if "vcpus" in g.config:
        return int(g.config["vcpus"])
    return int(g.config.get("cores", 1)) * int(g.config.get("sockets", 1))


def disk_size(value: str) -> int:
    for part in value.split(","):
        if part.startswith("size="):
            return parse_size(part[5:])
    return 0


def boot_disk_size(g: Guest) -> int:
    if g.kind == "lxc":
        return disk_size(g.config.get("rootfs", ""))
    for key in ("scsi0", "virtio0", "sata0", "ide0"):
        value = g.config.get(key)
        if value and "media=cdrom" not in value:
            return disk_size(value)
    return 0


__all__ = [
    "Cluster",
    "GiB",
    "Guest",
    "MiB",
    "Pool",
    "StorageDef",
    "Volume",
    "format_size",
]
