"""The parts of a guest addressed by slot or kept as a unit: disks, CD-ROMs, NICs, EFI and
TPM state, passthrough mappings, start order, the source. Pure.

Every option is ``None`` (or absent) unless the text states it; the creation defaults of
:mod:`mycopod.spec.defaults` fill in what a new guest needs.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from mycopod.spec import limits as L
from mycopod.spec.base import SpecModel

Cache = Literal["none", "writethrough", "writeback", "directsync", "unsafe"]
Aio = Literal["native", "threads", "io_uring"]


def _check(regex: re.Pattern[str], value: str | None, what: str) -> str | None:
    if value is not None and not regex.match(value):
        raise ValueError(f"{value!r} is not {what}")
    return value


class DiskSpec(SpecModel):
    """A VM disk (scsiN, virtioN, sataN, ideN) or a container volume (rootfs, mpN).

    A container mount point is a volume (``storage`` and ``size_gib``) mounted at
    ``path``, or a bind mount of ``host_path`` (no storage, no size). A volume's size may
    be left unsaid ("its disk on ceph-pool"): the guest fills in the default size without
    stating it.
    """

    slot: str
    storage: str | None = L.DEFAULT_STORAGE
    size_gib: Annotated[int, Field(ge=L.DISK_MIN_GIB, le=L.DISK_MAX_GIB)] | None = None
    #: containers: where the mount point is mounted; bind mounts: the host's directory
    path: str | None = None
    host_path: str | None = None
    iothread: bool | None = None
    discard: bool | None = None
    ssd: bool | None = None
    cache: Cache | None = None
    aio: Aio | None = None
    backup: bool | None = None
    replicate: bool | None = None
    ro: bool | None = None

    @field_validator("storage")
    @classmethod
    def _storage(cls, value: str | None) -> str | None:
        return _check(L.STORAGE_RE, value, "a valid Proxmox storage id (like local-lvm)")

    @field_validator("path", "host_path")
    @classmethod
    def _paths(cls, value: str | None) -> str | None:
        if value is not None and (not L.PATH_RE.match(value) or "/../" in value + "/"):
            raise ValueError(f"{value!r} is not an absolute path like /data")
        return value.rstrip("/") or "/" if value is not None else None

    @model_validator(mode="after")
    def _shape(self) -> DiskSpec:
        if self.host_path is not None:
            # a bind mount has no volume to allocate
            object.__setattr__(self, "storage", None)
            if self.size_gib is not None:
                raise ValueError(f"{self.slot}: a bind mount of {self.host_path} has no size")
        # a volume whose size the text leaves out gets the kind's default size from the
        # guest (spec/checks.py fill_sizes), unstated: created at that size, never compared
        return self

    @property
    def bind(self) -> bool:
        return self.host_path is not None


class CdromSpec(SpecModel):
    """A CD-ROM drive: an ISO volume in it, or empty (``iso`` None)."""

    slot: str = "ide2"
    iso: str | None = None

    @field_validator("slot")
    @classmethod
    def _slot(cls, value: str) -> str:
        if not L.CDROM_SLOT_RE.match(value):
            raise ValueError(f"{value!r} is not a CD-ROM slot (ideN, sataN or scsiN)")
        return value

    @field_validator("iso")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        return _check(L.ISO_RE, value, "an ISO volume like local:iso/debian-12.iso")


class CloudInitDriveSpec(SpecModel):
    """A VM's cloud-init drive: the CD-ROM Proxmox writes the cloud-init settings to
    (``SLOT: STORAGE:cloudinit``). Without one, ``ciuser``, ``ipconfigN`` and the other
    cloud-init keys reach no guest.

    Both options may be left unsaid: an unstated slot keeps a drive where it is (a new
    one takes the first free of ide2, ide0, ide1, ide3, sata0 ...), an unstated storage
    keeps it where it is (a new one goes on the first disk's storage)."""

    #: the slot is compared only when stated (not the slot rule of the other devices)
    _ALWAYS_STATED: ClassVar[frozenset[str]] = frozenset()

    slot: str | None = None
    storage: str | None = None

    @field_validator("slot")
    @classmethod
    def _slot(cls, value: str | None) -> str | None:
        if value is not None and not L.CDROM_SLOT_RE.match(value):
            raise ValueError(f"{value!r} is not a slot for a cloud-init drive (ideN, sataN "
                             "or scsiN)")
        return value

    @field_validator("storage")
    @classmethod
    def _storage(cls, value: str | None) -> str | None:
        return _check(L.STORAGE_RE, value, "a valid Proxmox storage id (like local-lvm)")


class NetworkSpec(SpecModel):
    slot: str = "net0"
    bridge: str = L.DEFAULT_BRIDGE
    vlan: Annotated[int, Field(ge=L.VLAN_MIN, le=L.VLAN_MAX)] | None = None
    ip: str | None = "dhcp"
    gateway: str | None = None
    firewall: bool = False
    #: VM NIC model; a container's interface name (eth0)
    model: str | None = None
    name: str | None = None
    #: the MAC address, pinned (VM ``macaddr``, container ``hwaddr``)
    mac: str | None = None
    #: IPv6: ``dhcp``, ``auto`` (SLAAC) or an address in CIDR form, and its gateway
    ip6: str | None = None
    gateway6: str | None = None
    mtu: Annotated[int, Field(ge=L.MTU_MIN, le=L.MTU_MAX)] | None = None
    #: rate limit in MB/s
    rate: Annotated[float, Field(gt=0, le=100_000)] | None = None
    queues: Annotated[int, Field(ge=L.QUEUES_MIN, le=L.QUEUES_MAX)] | None = None
    link_down: bool | None = None

    @field_validator("slot")
    @classmethod
    def _slot(cls, value: str) -> str:
        if not L.NET_SLOT_RE.match(value):
            raise ValueError(f"{value!r} is not a network slot (net0 .. net31)")
        return value

    @field_validator("bridge")
    @classmethod
    def _bridge(cls, value: str) -> str:
        if not L.BRIDGE_RE.match(value):
            raise ValueError(f"{value!r} is not a valid bridge name (like vmbr0)")
        return value

    @field_validator("model")
    @classmethod
    def _model(cls, value: str | None) -> str | None:
        if value is not None and value not in L.NIC_MODELS:
            raise ValueError(f"{value!r} is not a NIC model ({', '.join(L.NIC_MODELS)})")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return _check(re.compile(r"^[a-zA-Z][a-zA-Z0-9_.\-]{0,14}$"), value,
                      "an interface name like eth0")

    @field_validator("mac")
    @classmethod
    def _mac(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.upper().replace("-", ":")
        if not L.MAC_RE.match(value) or int(value[:2], 16) & 1:
            raise ValueError(f"{value!r} is not a unicast MAC address like BC:24:11:00:00:01")
        return value

    @field_validator("ip")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        if value is None or value == "dhcp":
            return value
        if "/" not in value:
            raise ValueError(f"{value!r} needs a prefix length, like 192.168.1.10/24, or 'dhcp'")
        try:
            iface = ipaddress.ip_interface(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an address in CIDR form like 10.0.0.5/24") from None
        if not isinstance(iface, ipaddress.IPv4Interface):
            raise ValueError(f"{value!r} is IPv6: state it as the IPv6 address (ip6)")
        return str(iface)

    @field_validator("ip6")
    @classmethod
    def _ip6(cls, value: str | None) -> str | None:
        if value is None or value in ("dhcp", "auto"):
            return value
        try:
            iface = ipaddress.ip_interface(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an IPv6 address in CIDR form like "
                             "2001:db8::5/64, 'dhcp' or 'auto'") from None
        if "/" not in value or not isinstance(iface, ipaddress.IPv6Interface):
            raise ValueError(f"{value!r} is not an IPv6 address in CIDR form like 2001:db8::5/64")
        return str(iface)

    @field_validator("gateway")
    @classmethod
    def _gateway(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(ipaddress.IPv4Address(value))
        except ValueError:
            raise ValueError(f"{value!r} is not an IPv4 gateway address like 10.0.0.1") from None

    @field_validator("gateway6")
    @classmethod
    def _gateway6(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(ipaddress.IPv6Address(value))
        except ValueError:
            raise ValueError(f"{value!r} is not an IPv6 gateway address") from None

    @model_validator(mode="after")
    def _gateway_needs_static_ip(self) -> NetworkSpec:
        if self.gateway is not None:
            if self.ip is None or self.ip == "dhcp":
                raise ValueError("a gateway needs a static IP address on the same network")
            network = ipaddress.IPv4Interface(self.ip).network
            if ipaddress.IPv4Address(self.gateway) not in network:
                raise ValueError(f"gateway {self.gateway} is not inside {network}")
        if self.gateway6 is not None and (self.ip6 is None or self.ip6 in ("dhcp", "auto")):
            raise ValueError("an IPv6 gateway needs a static IPv6 address")
        return self


class EfiDiskSpec(SpecModel):
    """``efidisk0``: where OVMF keeps its variables."""

    storage: str = "local-lvm"
    efitype: Literal["2m", "4m"] = "4m"
    pre_enrolled_keys: bool | None = None

    @field_validator("storage")
    @classmethod
    def _storage(cls, value: str) -> str:
        return _check(L.STORAGE_RE, value, "a valid Proxmox storage id") or value


class TpmSpec(SpecModel):
    """``tpmstate0``: a TPM's state volume."""

    storage: str = "local-lvm"
    version: Literal["v1.2", "v2.0"] = "v2.0"

    @field_validator("storage")
    @classmethod
    def _storage(cls, value: str) -> str:
        return _check(L.STORAGE_RE, value, "a valid Proxmox storage id") or value


class StartupSpec(SpecModel):
    """``startup``: start order and the delays after starting and before stopping."""

    order: Annotated[int, Field(ge=0, le=L.STARTUP_MAX)] | None = None
    up: Annotated[int, Field(ge=0, le=L.STARTUP_MAX)] | None = None
    down: Annotated[int, Field(ge=0, le=L.STARTUP_MAX)] | None = None


class PassthroughSpec(SpecModel):
    """A PCI (``hostpciN``) or USB (``usbN``) device through a cluster resource mapping.

    Only mappings: the mapping is the admin's, so declaring one cannot reach a device
    the admin did not hand out.
    """

    slot: str
    mapping: str
    #: PCI only: present it as PCI Express (needs q35)
    pcie: bool | None = None

    @field_validator("slot")
    @classmethod
    def _slot(cls, value: str) -> str:
        if not (L.HOSTPCI_SLOT_RE.match(value) or L.USB_SLOT_RE.match(value)):
            raise ValueError(f"{value!r} is not a passthrough slot (hostpci0..15, usb0..14)")
        return value

    @field_validator("mapping")
    @classmethod
    def _mapping(cls, value: str) -> str:
        return _check(L.MAPPING_RE, value, "a resource mapping name") or value

    @model_validator(mode="after")
    def _pcie_is_pci(self) -> PassthroughSpec:
        if self.pcie is not None and self.slot.startswith("usb"):
            raise ValueError(f"{self.slot}: pcie applies to PCI devices only")
        return self


class Source(SpecModel):
    """Where a new guest comes from; creation only (an existing guest is never rebuilt)."""

    clone: str | None = None
    iso: str | None = None
    ostemplate: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Source:
        given = [k for k in ("clone", "iso", "ostemplate") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a source is exactly one of clone, iso or ostemplate")
        if self.clone is not None and not L.NAME_RE.match(self.clone) and not re.match(
            r"^[a-z0-9][a-z0-9.\-]{0,62}$", self.clone
        ):
            raise ValueError(f"{self.clone!r} is not a valid template name")
        if self.iso is not None and not L.ISO_RE.match(self.iso):
            raise ValueError(f"{self.iso!r} is not an ISO volume like local:iso/debian-12.iso")
        if self.ostemplate is not None and not L.OSTEMPLATE_RE.match(self.ostemplate):
            raise ValueError(
                f"{self.ostemplate!r} is not an LXC template volume like "
                "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
            )
        return self

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v is not None}
