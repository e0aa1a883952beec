"""What the observer saw: plain, frozen values the planner reads.

The observer fills these from one ``GET /cluster/resources`` plus, for owned guests,
their ``config?current=1`` and ``pending``. They hold canonical forms of the managed
fields only (see :mod:`mycopod.proxmox.translate`), so the planner never deals with
Proxmox's property strings and never sees fields MycoPod does not manage. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mycopod.spec import NetworkSpec

Kind = Literal["vm", "ct"]


def is_placeholder(name: object, vmid: object) -> bool:
    """Whether ``name`` is the placeholder pvestatd samples a guest without a name under:
    ``VM 105`` (qemu-server vmstatus), ``CT105`` (pve-container vmstatus)."""
    text = str(name)
    return text[:2] in ("VM", "CT") and text[2:].strip() == str(vmid)


@dataclass(frozen=True)
class DiskState:
    slot: str
    storage: str
    size_bytes: int
    volume: str = ""


@dataclass(frozen=True)
class GuestConfig:
    """Canonical managed fields of one guest's config (current, or with pending applied)."""

    name: str
    cores: int | None
    memory_mib: int
    disks: tuple[DiskState, ...]
    networks: tuple[NetworkSpec, ...]
    onboot: bool
    #: every tag in the config, ownership tag included, sorted
    tags: tuple[str, ...]
    description: str | None
    ssh_keys: tuple[str, ...]
    #: qemu ``hotplug`` (what changes apply to a running VM without a reboot)
    hotplug: tuple[str, ...] = ("disk", "network", "usb")
    #: the whole config as Proxmox gave it (values as text): what the settings table
    #: (:mod:`mycopod.proxmox.keys`, :mod:`mycopod.proxmox.devices`) compares
    raw: Mapping[str, Any] = field(default_factory=dict, compare=True)


@dataclass(frozen=True)
class ObservedGuest:
    vmid: int
    kind: Kind
    name: str
    node: str
    #: running, stopped, paused, ... as /cluster/resources reports it
    status: str
    lock: str | None = None
    tags: tuple[str, ...] = ()
    template: bool = False
    pool: str | None = None
    maxmem: int = 0
    maxcpu: float = 0
    maxdisk: int = 0
    #: MycoPod's: the ownership tag, or a row in the inventory (vmid and name)
    owned: bool = False
    in_inventory: bool = False
    #: the name the inventory records for this vmid, whatever the guest is called now
    #: (None: not in the inventory); names a create that Proxmox never finished
    recorded_name: str | None = None
    #: full configs, read for owned guests only
    current: GuestConfig | None = None
    pending: GuestConfig | None = None
    digest: str | None = None

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def effective(self) -> GuestConfig | None:
        """The config as it will be after a restart (pending changes applied)."""
        return self.pending if self.pending is not None else self.current


@dataclass(frozen=True)
class NodeState:
    name: str
    online: bool
    maxmem: int
    mem: int
    maxcpu: float = 0

    @property
    def free_mem(self) -> int:
        return max(0, self.maxmem - self.mem)


@dataclass(frozen=True)
class StorageState:
    node: str
    storage: str
    content: tuple[str, ...]
    shared: bool
    active: bool = True
    maxdisk: int = 0
    disk: int = 0


@dataclass(frozen=True)
class ObservedCluster:
    nodes: tuple[NodeState, ...] = ()
    storages: tuple[StorageState, ...] = ()
    guests: tuple[ObservedGuest, ...] = ()
    #: LXC template volumes (``local:vztmpl/...``), read only when a container needs one
    ct_templates: tuple[str, ...] = ()
    #: vmids recorded in the inventory whose guest is not (yet) visible
    reserved_vmids: frozenset[int] = field(default_factory=frozenset)
    #: the name the inventory records for each reserved vmid (a managed guest that is
    #: gone: rebuilt with the same vmid from its declaration)
    reserved_names: Mapping[int, str] = field(default_factory=dict)

    def guest_by_vmid(self, vmid: int) -> ObservedGuest | None:
        for guest in self.guests:
            if guest.vmid == vmid:
                return guest
        return None

    def templates(self) -> dict[str, ObservedGuest]:
        """Template guests by name (the lowest vmid wins a duplicated name)."""
        found: dict[str, ObservedGuest] = {}
        for guest in sorted(self.guests, key=lambda g: g.vmid):
            if guest.template and guest.name not in found:
                found[guest.name] = guest
        return found

    def used_vmids(self) -> set[int]:
        return {g.vmid for g in self.guests} | set(self.reserved_vmids)
