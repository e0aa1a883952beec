"""The desired-state model: what the owner's words compile to.

This is the contract between the compilers (grammar and LLM) and the planner, and
the shape ``mycopod compile --json`` prints (see DESIGN.md, "The spec contract").
Every field is always present with its default filled in, guests and disks are
sorted and tags are normalised, so two specs that mean the same compare equal with
``==`` and serialise to the same canonical JSON.

Limits come from the Proxmox VE API schema (``shared/proxmox/pve-api-schema.json``):
a spec that validates here is one Proxmox would accept. Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "ClusterSpec",
    "DiskSpec",
    "GuestSpec",
    "NetworkSpec",
    "SpecError",
    "ValidationError",
    "canonical_json",
    "json_schema",
    "parse_spec",
]

# --- limits taken from the Proxmox VE schema -------------------------------------------

#: vmid: format pve-vmid, 100 .. 999999999.
VMID_MIN, VMID_MAX = 100, 999_999_999
#: cores: qemu "1 - N", lxc "1 - 8192"; one bound for both kinds.
CORES_MIN, CORES_MAX = 1, 8192
#: memory: qemu ``current`` and lxc ``memory`` have minimum 16 MiB; qemu-server caps
#: hot-pluggable memory at 4 TiB, which we take as the upper bound for both.
MEMORY_MIN_MIB, MEMORY_MAX_MIB = 16, 4 * 1024 * 1024
#: disk sizes in whole GiB; Proxmox's disk-size has no upper bound, 1 PiB is a sane one.
DISK_MIN_GIB, DISK_MAX_GIB = 1, 1024 * 1024
#: VLAN tag on a network device: 1 .. 4094.
VLAN_MIN, VLAN_MAX = 1, 4094
DESCRIPTION_MAX = 8192

NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
NODE_RE = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
#: pve-storage-id
STORAGE_RE = re.compile(r"^[a-z][a-z0-9\-_.]*[a-z0-9]$")
#: pve-bridge-id (restricted to what Linux accepts as an interface name)
BRIDGE_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_.\-]{0,14}$")
#: pve-tag
TAG_RE = re.compile(r"^[a-z0-9_][a-z0-9_\-+.]*$")
#: pve-poolid
POOL_RE = re.compile(r"^[A-Za-z0-9_\-]+$")
#: storage volume ids for ISOs and LXC templates: ``storage:iso/name.iso``
ISO_RE = re.compile(r"^[a-z][a-z0-9\-_.]*[a-z0-9]:iso/[A-Za-z0-9_.\-+]+\.(iso|img)$")
OSTEMPLATE_RE = re.compile(
    r"^[a-z][a-z0-9\-_.]*[a-z0-9]:vztmpl/[A-Za-z0-9_.\-+]+\.tar(\.(gz|xz|zst|bz2))?$"
)
SSH_KEY_RE = re.compile(
    r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com"
    r"|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/=]+( [^\r\n]*)?$"
)

#: disk slots per kind: qemu scsi0-30, virtio0-15, sata0-5, ide0-3; lxc rootfs, mp0-255.
VM_DISK_SLOT_RE = re.compile(
    r"^(scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5])|sata[0-5]|ide[0-3])$"
)
CT_DISK_SLOT_RE = re.compile(r"^(rootfs|mp([0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5]))$")
NET_SLOT_RE = re.compile(r"^net([0-9]|[12][0-9]|3[01])$")

DEFAULTS: dict[str, dict[str, int | str]] = {
    "vm": {"memory_mib": 1024, "disk_slot": "scsi0", "disk_gib": 32},
    "ct": {"memory_mib": 512, "disk_slot": "rootfs", "disk_gib": 8},
}
DEFAULT_STORAGE = "local-lvm"
DEFAULT_BRIDGE = "vmbr0"

Kind = Literal["vm", "ct"]
State = Literal["running", "stopped", "absent"]


class SpecError(ValueError):
    """A spec that cannot be valid, with a message naming the guest and the field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _slot_key(slot: str) -> tuple[str, int]:
    """Sort slots as Proxmox lists them: rootfs first, then by bus and number."""
    match = re.match(r"^([a-z]+)(\d*)$", slot)
    if match is None:  # pragma: no cover - slots are validated before sorting
        return (slot, 0)
    bus, num = match.groups()
    return ("" if bus == "rootfs" else bus, int(num) if num else -1)


class DiskSpec(_Model):
    slot: str
    storage: str = DEFAULT_STORAGE
    size_gib: Annotated[int, Field(ge=DISK_MIN_GIB, le=DISK_MAX_GIB)]

    @field_validator("storage")
    @classmethod
    def _storage(cls, value: str) -> str:
        if not STORAGE_RE.match(value):
            raise ValueError(f"{value!r} is not a valid Proxmox storage id (like local-lvm)")
        return value


class NetworkSpec(_Model):
    slot: str = "net0"
    bridge: str = DEFAULT_BRIDGE
    vlan: Annotated[int, Field(ge=VLAN_MIN, le=VLAN_MAX)] | None = None
    ip: str | None = "dhcp"
    gateway: str | None = None
    firewall: bool = False

    @field_validator("slot")
    @classmethod
    def _slot(cls, value: str) -> str:
        if not NET_SLOT_RE.match(value):
            raise ValueError(f"{value!r} is not a network slot (net0 .. net31)")
        return value

    @field_validator("bridge")
    @classmethod
    def _bridge(cls, value: str) -> str:
        if not BRIDGE_RE.match(value):
            raise ValueError(f"{value!r} is not a valid bridge name (like vmbr0)")
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
            raise ValueError(f"{value!r}: only IPv4 addresses are supported")
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

    @model_validator(mode="after")
    def _gateway_needs_static_ip(self) -> NetworkSpec:
        if self.gateway is not None:
            if self.ip is None or self.ip == "dhcp":
                raise ValueError("a gateway needs a static IP address on the same network")
            network = ipaddress.IPv4Interface(self.ip).network
            if ipaddress.IPv4Address(self.gateway) not in network:
                raise ValueError(f"gateway {self.gateway} is not inside {network}")
        return self


class Source(_Model):
    clone: str | None = None
    iso: str | None = None
    ostemplate: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Source:
        given = [k for k in ("clone", "iso", "ostemplate") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a source is exactly one of clone, iso or ostemplate")
        if self.clone is not None and not NAME_RE.match(self.clone) and not re.match(
            r"^[a-z0-9][a-z0-9.\-]{0,62}$", self.clone
        ):
            raise ValueError(f"{self.clone!r} is not a valid template name")
        if self.iso is not None and not ISO_RE.match(self.iso):
            raise ValueError(f"{self.iso!r} is not an ISO volume like local:iso/debian-12.iso")
        if self.ostemplate is not None and not OSTEMPLATE_RE.match(self.ostemplate):
            raise ValueError(
                f"{self.ostemplate!r} is not an LXC template volume like "
                "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
            )
        return self

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class GuestSpec(_Model):
    name: str
    kind: Kind = "vm"
    state: State = "running"
    node: str | None = None
    vmid: Annotated[int, Field(ge=VMID_MIN, le=VMID_MAX)] | None = None
    cores: Annotated[int, Field(ge=CORES_MIN, le=CORES_MAX)] = 1
    memory_mib: Annotated[int, Field(ge=MEMORY_MIN_MIB, le=MEMORY_MAX_MIB)]
    disks: list[DiskSpec]
    networks: list[NetworkSpec]
    source: Source | None = None
    onboot: bool = False
    tags: list[str] = Field(default_factory=list)
    pool: str | None = None
    description: Annotated[str, Field(max_length=DESCRIPTION_MAX)] | None = None
    ssh_keys: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _fill_kind_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        kind = data.get("kind", "vm")
        defaults = DEFAULTS.get(kind) if isinstance(kind, str) else None
        if defaults is None:
            return data
        data.setdefault("memory_mib", defaults["memory_mib"])
        if "disks" not in data or data["disks"] is None:
            data["disks"] = [
                {"slot": defaults["disk_slot"], "storage": DEFAULT_STORAGE,
                 "size_gib": defaults["disk_gib"]}
            ]
        if "networks" not in data or data["networks"] is None:
            data["networks"] = [{}]
        return data

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(
                f"{value!r} is not a valid guest name: use lower-case letters, digits and "
                "hyphens (1-63 characters, not starting or ending with a hyphen)"
            )
        return value

    @field_validator("node")
    @classmethod
    def _node(cls, value: str | None) -> str | None:
        if value is not None and not NODE_RE.match(value):
            raise ValueError(f"{value!r} is not a valid node name")
        return value

    @field_validator("pool")
    @classmethod
    def _pool(cls, value: str | None) -> str | None:
        if value is not None and not POOL_RE.match(value):
            raise ValueError(f"{value!r} is not a valid pool id (letters, digits, - and _)")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        tags = sorted({tag.strip().lower() for tag in value})
        for tag in tags:
            if not TAG_RE.match(tag):
                raise ValueError(f"{tag!r} is not a valid tag (letters, digits, - _ + .)")
        return tags

    @field_validator("ssh_keys")
    @classmethod
    def _ssh_keys(cls, value: list[str]) -> list[str]:
        keys: list[str] = []
        for key in value:
            key = " ".join(key.split())
            if not SSH_KEY_RE.match(key):
                raise ValueError(f"{key[:40]!r}... is not an OpenSSH public key")
            if key not in keys:
                keys.append(key)
        return keys

    @model_validator(mode="after")
    def _check_devices(self) -> GuestSpec:
        slot_re = VM_DISK_SLOT_RE if self.kind == "vm" else CT_DISK_SLOT_RE
        seen: set[str] = set()
        for disk in self.disks:
            if not slot_re.match(disk.slot):
                expected = "scsiN, virtioN, sataN or ideN" if self.kind == "vm" else "rootfs or mpN"
                raise ValueError(f"disk slot {disk.slot!r} is not valid for a {self.kind}; "
                                 f"use {expected}")
            if disk.slot in seen:
                raise ValueError(f"disk slot {disk.slot} is given twice")
            seen.add(disk.slot)
        if self.kind == "ct" and "rootfs" not in seen:
            raise ValueError("a container needs a rootfs disk")
        nets: set[str] = set()
        for net in self.networks:
            if net.slot in nets:
                raise ValueError(f"network slot {net.slot} is given twice")
            nets.add(net.slot)
        if self.source is not None:
            if self.kind == "ct" and self.source.ostemplate is None:
                raise ValueError("a container can only be created from an LXC template "
                                 "(ostemplate)")
            if self.kind == "vm" and self.source.ostemplate is not None:
                raise ValueError("an LXC template can only be used for a container")
        # A container without a source is fine: Proxmox needs an ostemplate to create one,
        # but the owner may leave it unsaid and the planner picks the cluster's default.
        # Canonical order: frozen model, so rebuild the sorted lists in place.
        object.__setattr__(self, "disks", sorted(self.disks, key=lambda d: _slot_key(d.slot)))
        object.__setattr__(
            self, "networks", sorted(self.networks, key=lambda n: _slot_key(n.slot))
        )
        return self


class ClusterSpec(_Model):
    guests: list[GuestSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_sorted(self) -> ClusterSpec:
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
        return self

    def guest(self, name: str) -> GuestSpec | None:
        for guest in self.guests:
            if guest.name == name:
                return guest
        return None


def _format_error(exc: ValidationError, data: Any) -> str:
    """Turn pydantic's errors into messages naming the guest and the field."""
    messages = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ""
        if len(loc) >= 2 and loc[0] == "guests" and isinstance(loc[1], int):
            name = "?"
            try:
                name = str(data["guests"][loc[1]].get("name", "?"))
            except (KeyError, IndexError, TypeError, AttributeError):
                pass
            where = f"guest {name!r}"
            loc = loc[2:]
        field = ".".join(str(p) for p in loc)
        msg = err["msg"].removeprefix("Value error, ")
        prefix = ", ".join(p for p in (where, f"field {field}" if field else "") if p)
        messages.append(f"{prefix}: {msg}" if prefix else msg)
    return "; ".join(messages)


def parse_spec(data: Any) -> ClusterSpec:
    """Validate plain data into a ClusterSpec, raising SpecError with readable messages."""
    try:
        return ClusterSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_format_error(exc, data)) from None


def guest_dict(guest: GuestSpec) -> dict[str, Any]:
    data = guest.model_dump(mode="json")
    data["source"] = guest.source.as_dict() if guest.source is not None else None
    return data


def spec_dict(spec: ClusterSpec) -> dict[str, Any]:
    """The spec as the plain data of the contract (source without null keys)."""
    return {"guests": [guest_dict(g) for g in spec.guests]}


def canonical_json(spec: ClusterSpec, *, indent: int | None = 2) -> str:
    """Stable JSON: contract key order, sorted guests, so equal specs give equal text."""
    return json.dumps(spec_dict(spec), indent=indent, ensure_ascii=False)


_FIELD_NOTES = {
    "name": "lower-case DNS label, unique: a-z, 0-9 and '-', 1..63 characters",
    "memory_mib": "MiB, binary (4 GB = 4096); default 1024 for a vm, 512 for a ct",
    "disks": "default: one disk, scsi0 (vm) or rootfs (ct), on local-lvm, 32 (vm) or 8 (ct) "
             "GiB; slots: scsiN/virtioN/sataN/ideN for a vm, rootfs and mpN for a ct",
    "networks": "default: one, net0 on vmbr0 with ip 'dhcp'",
    "source": "one of {'clone': template name} (vm), {'iso': 'storage:iso/file.iso'} (vm), "
              "{'ostemplate': 'storage:vztmpl/file.tar.zst'} (ct)",
    "vmid": "explicit Proxmox ID, only when the text gives one",
    "node": "only when the text names a node",
}


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a ClusterSpec, as given to the LLM.

    Fields whose defaults depend on the kind (memory, disks, networks) are filled in by
    validation, so the schema marks them optional and says what the defaults are.
    """
    schema = ClusterSpec.model_json_schema()
    guest = schema["$defs"]["GuestSpec"]
    guest["required"] = ["name"]
    for name, note in _FIELD_NOTES.items():
        guest["properties"][name]["description"] = note
    return schema

