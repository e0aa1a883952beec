"""A guest and the cluster: the whole guest model a declaration compiles to. Pure.

Fields the DESIGN.md contract has always had (cores, memory, disks, networks, ...) print
with their defaults; the fields added for whole guests print as null or ``[]`` unless the
text states them. Either way only what the text states is managed (:func:`stated`);
:mod:`mycopod.spec.defaults` is the one table of what a new guest gets otherwise.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from mycopod.spec import limits as L
from mycopod.spec.base import SpecModel
from mycopod.spec.devices import (
    CdromSpec,
    CloudInitDriveSpec,
    DiskSpec,
    EfiDiskSpec,
    NetworkSpec,
    PassthroughSpec,
    Source,
    StartupSpec,
    TpmSpec,
)

Kind = Literal["vm", "ct"]
State = Literal["running", "stopped", "absent"]

#: contract defaults that depend on the kind (printed; stated only when the text says so)
KIND_DEFAULTS: dict[str, dict[str, int | str]] = {
    "vm": {"memory_mib": 1024, "disk_slot": "scsi0", "disk_gib": 32},
    "ct": {"memory_mib": 512, "disk_slot": "rootfs", "disk_gib": 8},
}

#: settings that exist for one kind only
VM_ONLY = frozenset({
    "sockets", "vcpus", "cpu_type", "cpu_flags", "numa", "balloon_mib", "bios", "efidisk",
    "machine", "tpm", "scsihw", "cdroms", "boot", "ci_user", "ci_password", "ci_upgrade",
    "ci_type", "agent", "agent_fstrim", "serial_console", "vga", "hotplug", "tablet",
    "pci_devices", "usb_devices", "cloudinit_drive",
})
CT_ONLY = frozenset({"unprivileged", "features", "cpulimit", "swap_mib", "timezone"})


class GuestSpec(SpecModel):
    _EMPTY_IS_UNSTATED: ClassVar[frozenset[str]] = frozenset({
        "cpu_flags", "cdroms", "nameservers", "pci_devices", "usb_devices", "features"})

    name: str
    kind: Kind = "vm"
    state: State = "running"
    node: str | None = None
    vmid: Annotated[int, Field(ge=L.VMID_MIN, le=L.VMID_MAX)] | None = None
    cores: Annotated[int, Field(ge=L.CORES_MIN, le=L.CORES_MAX)] = 1
    memory_mib: Annotated[int, Field(ge=L.MEMORY_MIN_MIB, le=L.MEMORY_MAX_MIB)]
    disks: list[DiskSpec]
    networks: list[NetworkSpec]
    source: Source | None = None
    onboot: bool = False
    tags: list[str] = Field(default_factory=list)
    pool: str | None = None
    description: Annotated[str, Field(max_length=L.DESCRIPTION_MAX)] | None = None
    ssh_keys: list[str] = Field(default_factory=list)
    # --- CPU and memory
    sockets: Annotated[int, Field(ge=L.SOCKETS_MIN, le=L.SOCKETS_MAX)] | None = None
    vcpus: Annotated[int, Field(ge=1, le=L.CORES_MAX)] | None = None
    cpu_type: str | None = None
    cpu_flags: list[str] = Field(default_factory=list)
    numa: bool | None = None
    cpulimit: Annotated[float, Field(ge=0, le=L.CPULIMIT_MAX)] | None = None
    cpuunits: Annotated[int, Field(ge=L.CPUUNITS_MIN, le=L.CPUUNITS_MAX)] | None = None
    #: VM balloon target in MiB (0: ballooning off)
    balloon_mib: Annotated[int, Field(ge=0, le=L.MEMORY_MAX_MIB)] | None = None
    swap_mib: Annotated[int, Field(ge=0, le=L.MEMORY_MAX_MIB)] | None = None
    # --- firmware and machine
    bios: Literal["seabios", "ovmf"] | None = None
    efidisk: EfiDiskSpec | None = None
    machine: str | None = None
    tpm: TpmSpec | None = None
    ostype: str | None = None
    scsihw: str | None = None
    # --- devices and boot
    cdroms: list[CdromSpec] = Field(default_factory=list)
    boot: list[str] | None = None
    pci_devices: list[PassthroughSpec] = Field(default_factory=list)
    usb_devices: list[PassthroughSpec] = Field(default_factory=list)
    # --- cloud-init (VM) and DNS (both)
    ci_user: str | None = None
    #: the name of a credential the daemon reads (never the password itself)
    ci_password: str | None = None
    ci_upgrade: bool | None = None
    ci_type: Literal["nocloud", "configdrive2", "opennebula"] | None = None
    cloudinit_drive: CloudInitDriveSpec | None = None
    nameservers: list[str] = Field(default_factory=list)
    searchdomain: str | None = None
    # --- other
    agent: bool | None = None
    agent_fstrim: bool | None = None
    serial_console: bool | None = None
    vga: str | None = None
    startup: StartupSpec | None = None
    protection: bool | None = None
    hotplug: list[str] | None = None
    tablet: bool | None = None
    # --- containers
    unprivileged: bool | None = None
    features: list[str] = Field(default_factory=list)
    timezone: str | None = None
    # --- brownfield
    #: the guest exists already and is to be managed from now on (adopted, never created)
    adopt: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _fill_kind_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        kind = data.get("kind", "vm")
        defaults = KIND_DEFAULTS.get(kind) if isinstance(kind, str) else None
        if defaults is None:
            return data
        data.setdefault("memory_mib", defaults["memory_mib"])
        if data.get("memory_mib") is None:
            data["memory_mib"] = defaults["memory_mib"]
        if data.get("disks") is None:
            data["disks"] = [{"slot": defaults["disk_slot"], "storage": L.DEFAULT_STORAGE,
                              "size_gib": defaults["disk_gib"]}]
        if data.get("networks") is None:
            data["networks"] = [{}]
        return data

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not L.NAME_RE.match(value):
            raise ValueError(
                f"{value!r} is not a valid guest name: use lower-case letters, digits and "
                "hyphens (1-63 characters, not starting or ending with a hyphen)"
            )
        return value

    @field_validator("node")
    @classmethod
    def _node(cls, value: str | None) -> str | None:
        if value is not None and not L.NODE_RE.match(value):
            raise ValueError(f"{value!r} is not a valid node name")
        return value

    @field_validator("pool")
    @classmethod
    def _pool(cls, value: str | None) -> str | None:
        if value is not None and not L.POOL_RE.match(value):
            raise ValueError(f"{value!r} is not a valid pool id (letters, digits, - and _)")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        tags = sorted({tag.strip().lower() for tag in value})
        for tag in tags:
            if not L.TAG_RE.match(tag):
                raise ValueError(f"{tag!r} is not a valid tag (letters, digits, - _ + .)")
        return tags

    @field_validator("ssh_keys")
    @classmethod
    def _ssh_keys(cls, value: list[str]) -> list[str]:
        keys: list[str] = []
        for key in value:
            key = " ".join(key.split())
            if not L.SSH_KEY_RE.match(key):
                raise ValueError(f"{key[:40]!r}... is not an OpenSSH public key")
            if key not in keys:
                keys.append(key)
        return keys

    @field_validator("cpu_type")
    @classmethod
    def _cpu_type(cls, value: str | None) -> str | None:
        if value is not None and not L.CPU_TYPE_RE.match(value):
            raise ValueError(f"{value!r} is not a CPU type (like host or x86-64-v2-AES)")
        return value

    @field_validator("cpu_flags")
    @classmethod
    def _cpu_flags(cls, value: list[str]) -> list[str]:
        for flag in value:
            if not L.CPU_FLAG_RE.match(flag):
                raise ValueError(f"{flag!r} is not a CPU flag like +aes or -pcid")
        return sorted(set(value), key=lambda f: (f[1:], f[0]))

    @field_validator("machine")
    @classmethod
    def _machine(cls, value: str | None) -> str | None:
        if value is not None and not L.MACHINE_RE.match(value):
            raise ValueError(f"{value!r} is not a machine type (q35, pc, or a pinned version "
                             "like pc-q35-9.0)")
        return value

    @field_validator("scsihw")
    @classmethod
    def _scsihw(cls, value: str | None) -> str | None:
        if value is not None and value not in L.SCSI_CONTROLLERS:
            raise ValueError(f"{value!r} is not a SCSI controller "
                             f"({', '.join(L.SCSI_CONTROLLERS)})")
        return value

    @field_validator("vga")
    @classmethod
    def _vga(cls, value: str | None) -> str | None:
        if value is not None and value not in L.VGA_TYPES:
            raise ValueError(f"{value!r} is not a display type ({', '.join(L.VGA_TYPES)})")
        return value

    @field_validator("ci_user")
    @classmethod
    def _ci_user(cls, value: str | None) -> str | None:
        if value is not None and not L.CI_USER_RE.match(value):
            raise ValueError(f"{value!r} is not a Unix user name")
        return value

    @field_validator("ci_password")
    @classmethod
    def _ci_password(cls, value: str | None) -> str | None:
        if value is not None and not L.SECRET_NAME_RE.match(value):
            raise ValueError("the cloud-init password is given as the name of a credential "
                             "the daemon reads (like ops-password), never as the password")
        return value

    @field_validator("nameservers")
    @classmethod
    def _nameservers(cls, value: list[str]) -> list[str]:
        import ipaddress

        result: list[str] = []
        for server in value:
            try:
                text = str(ipaddress.ip_address(server))
            except ValueError:
                raise ValueError(f"{server!r} is not a DNS server address") from None
            if text not in result:
                result.append(text)
        return result

    @field_validator("searchdomain")
    @classmethod
    def _searchdomain(cls, value: str | None) -> str | None:
        if value is not None and not all(L.DOMAIN_RE.match(d) for d in value.split()):
            raise ValueError(f"{value!r} is not a search domain like example.com")
        return value

    @field_validator("hotplug")
    @classmethod
    def _hotplug(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for item in value:
            if item not in L.HOTPLUG_FEATURES:
                raise ValueError(f"{item!r} is not a hot-plug feature "
                                 f"({', '.join(L.HOTPLUG_FEATURES)})")
        return sorted(set(value), key=L.HOTPLUG_FEATURES.index)

    @field_validator("features")
    @classmethod
    def _features(cls, value: list[str]) -> list[str]:
        for item in value:
            if not L.CT_FEATURES_RE.match(item):
                raise ValueError(f"{item!r} is not a container feature (nesting, keyctl, "
                                 "fuse, mknod, mount=nfs;cifs)")
        return sorted(set(value))

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        if value is not None and not L.TIMEZONE_RE.match(value):
            raise ValueError(f"{value!r} is not a time zone like Europe/Berlin (or host)")
        return value

    @model_validator(mode="after")
    def _check_kind(self) -> GuestSpec:
        from mycopod.spec.checks import check_guest

        check_guest(self)
        return self


class ClusterSpec(SpecModel):
    guests: list[GuestSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_sorted(self) -> ClusterSpec:
        self._check_across()
        return self

    def _check_across(self) -> None:
        """Names and IDs unique, the guests sorted by name."""
        seen: set[str] = set()
        for guest in self.guests:
            if guest.name in seen:
                raise ValueError(f"guest {guest.name!r} is declared twice")
            seen.add(guest.name)
        ids: dict[int, str] = {}
        for guest in self.guests:
            if guest.vmid is not None:
                if guest.vmid in ids:
                    raise ValueError(
                        f"guests {ids[guest.vmid]!r} and {guest.name!r} both ask for ID "
                        f"{guest.vmid}"
                    )
                ids[guest.vmid] = guest.name
        object.__setattr__(self, "guests", sorted(self.guests, key=lambda g: g.name))

    @classmethod
    def of_guests(cls, guests: list[GuestSpec]) -> ClusterSpec:
        """The spec of guests validated already: only the checks across guests run
        (raising ValueError). ``ClusterSpec(guests=...)`` would run every guest's own
        checks a second time, for nothing: the grammar builds each guest first, so its
        errors name the guest's lines."""
        spec = cls.model_construct(guests=list(guests))
        spec._check_across()
        return spec

    def guest(self, name: str) -> GuestSpec | None:
        for guest in self.guests:
            if guest.name == name:
                return guest
        return None
