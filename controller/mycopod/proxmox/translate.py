"""Between Proxmox config strings and spec fields: reading configs, finding differences. Pure.

Proxmox describes a guest with flat key/value pairs whose values are property strings
(``scsi0: local-lvm:vm-101-disk-0,size=32G``, ``net0: virtio=BC:24:11:..,bridge=vmbr0``).
This module parses them into the canonical values of :mod:`mycopod.proxmox.model`,
formats single values back (sizes, tags, SSH keys, property strings), and compares an
observed guest with its spec. The parameters of create, config and resize calls are
built from these in :mod:`mycopod.proxmox.payloads`.

Only the fields MycoPod manages are compared, in canonical form, so an unmanaged field,
a MAC address or a Proxmox default never shows up as a diff.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from mycopod.proxmox.model import DiskState, GuestConfig, Kind
from mycopod.spec import GuestSpec, NetworkSpec

KIB = 1024
MIB = 1024**2
GIB = 1024**3
TIB = 1024**4
_UNITS = {"": 1, "K": KIB, "M": MIB, "G": GIB, "T": TIB}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)\s*$", re.IGNORECASE)

VM_DISK_RE = re.compile(r"^(scsi|virtio|sata|ide)\d+$")
CT_DISK_RE = re.compile(r"^(rootfs|mp\d+)$")
NET_RE = re.compile(r"^net\d+$")
#: qemu defaults when a key is absent from the config
QEMU_DEFAULT_MEMORY = 512
QEMU_DEFAULT_HOTPLUG = ("disk", "network", "usb")
LXC_DEFAULT_MEMORY = 512


class TranslateError(ValueError):
    """A config value that cannot be read, or a spec that cannot be written."""


# --- sizes -------------------------------------------------------------------------------


def parse_size(text: str) -> int:
    """``32G`` → bytes. A bare number is bytes, as in Proxmox's disk-size format."""
    match = _SIZE_RE.match(text)
    if match is None:
        raise TranslateError(f"{text!r} is not a size like 32G or 512M")
    number, unit = match.groups()
    return round(float(number) * _UNITS[unit.upper()])


def format_size(size_bytes: int) -> str:
    """Bytes → the largest unit that divides exactly (``32G``, ``512M``, ``1T``)."""
    for unit in ("T", "G", "M", "K"):
        if size_bytes and size_bytes % _UNITS[unit] == 0:
            return f"{size_bytes // _UNITS[unit]}{unit}"
    return str(size_bytes)


def gib_text(size_bytes: int) -> str:
    """Bytes shown in GiB for reasons (``32 GiB``, ``0.5 GiB``)."""
    value = size_bytes / GIB
    return f"{value:g} GiB" if value != int(value) else f"{int(value)} GiB"


# --- property strings ---------------------------------------------------------------------


def parse_props(text: str, default_key: str | None = None) -> dict[str, str]:
    """``local-lvm:vm-1-disk-0,size=32G`` → ``{"file": "local-lvm:...", "size": "32G"}``.

    A part without ``=`` is the value of ``default_key`` (only the first such part).
    """
    props: dict[str, str] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            key, _, value = part.partition("=")
            props[key.strip()] = value.strip()
        elif default_key is not None and default_key not in props:
            props[default_key] = part
        else:
            props[part] = ""
    return props


def format_props(props: Mapping[str, str], default_key: str | None = None) -> str:
    """The inverse of :func:`parse_props`; the default key's value comes first, bare."""
    parts: list[str] = []
    if default_key is not None and default_key in props:
        parts.append(props[default_key])
    parts.extend(f"{k}={v}" for k, v in props.items() if k != default_key)
    return ",".join(parts)


def _flag(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("1", "yes", "on", "true")


# --- tags, ssh keys, ipconfig -------------------------------------------------------------


def parse_tags(text: str | None) -> tuple[str, ...]:
    """``a;b;mycopod`` (also ``,`` or space separated) → sorted unique lower-case tags."""
    if not text:
        return ()
    return tuple(sorted({t.lower() for t in re.split(r"[;,\s]+", text) if t}))


def format_tags(tags: Iterable[str]) -> str:
    return ";".join(sorted(set(tags)))


def decode_sshkeys(text: str | None) -> tuple[str, ...]:
    """qemu ``sshkeys`` is URL-encoded, one key per line."""
    if not text:
        return ()
    lines = unquote(text).splitlines()
    return tuple(" ".join(line.split()) for line in lines if line.strip())


def encode_sshkeys(keys: Iterable[str]) -> str:
    """Keys joined by newlines and URL-encoded the way Proxmox's format ``urlencoded``
    accepts (``[-%a-zA-Z0-9_.!~*'()]``, like JavaScript's encodeURIComponent)."""
    return quote("\n".join(keys), safe="!~*'()")


def parse_ipconfig(text: str | None) -> tuple[str | None, str | None]:
    """``ip=10.0.0.5/24,gw=10.0.0.1`` → ``("10.0.0.5/24", "10.0.0.1")``."""
    if not text:
        return None, None
    props = parse_props(text)
    return _canonical_ip(props.get("ip")), props.get("gw") or None


def format_ipconfig(ip: str | None, gateway: str | None) -> str:
    parts = []
    if ip is not None:
        parts.append(f"ip={ip}")
    if gateway is not None:
        parts.append(f"gw={gateway}")
    return ",".join(parts)


def _canonical_ip(ip: str | None) -> str | None:
    if ip is None or ip == "" or ip == "manual":
        return None
    if ip == "dhcp":
        return "dhcp"
    try:
        return str(ipaddress.ip_interface(ip))
    except ValueError:
        return ip


def parse_memory(value: object, kind: Kind) -> int:
    """qemu ``memory`` may be ``4096`` or ``current=4096``; lxc is a plain integer."""
    if value is None or value == "":
        return QEMU_DEFAULT_MEMORY if kind == "vm" else LXC_DEFAULT_MEMORY
    text = str(value)
    props = parse_props(text, "current")
    return int(props.get("current", text))


# --- disks and networks -------------------------------------------------------------------


def is_disk_key(kind: Kind, key: str) -> bool:
    return bool((VM_DISK_RE if kind == "vm" else CT_DISK_RE).match(key))


def parse_disk(kind: Kind, slot: str, value: str) -> DiskState | None:
    """A disk slot's value, or None for a CD-ROM, an empty drive or a passthrough path."""
    key = "file" if kind == "vm" else "volume"
    props = parse_props(value, key)
    volume = props.get(key, "")
    if props.get("media") == "cdrom" or volume in ("", "none", "cdrom"):
        return None
    if ":" not in volume:
        return None  # a host path (/dev/...), not a storage volume
    storage = volume.split(":", 1)[0]
    size = parse_size(props["size"]) if "size" in props else 0
    return DiskState(slot=slot, storage=storage, size_bytes=size, volume=volume)


def parse_net(kind: Kind, slot: str, value: str, ipconfig: str | None = None) -> NetworkSpec:
    """A ``netN`` value (and, for a VM, its ``ipconfigN``) as a canonical NetworkSpec."""
    props = parse_props(value, "model" if kind == "vm" else "name")
    if kind == "vm":
        ip, gateway = parse_ipconfig(ipconfig)
    else:
        ip, gateway = _canonical_ip(props.get("ip")), props.get("gw") or None
    tag = props.get("tag")
    return NetworkSpec.model_construct(
        slot=slot,
        bridge=props.get("bridge", ""),
        vlan=int(tag) if tag else None,
        ip=ip,
        gateway=gateway,
        firewall=_flag(props.get("firewall")),
    )


def _net_equal(a: NetworkSpec, b: NetworkSpec) -> bool:
    return (a.slot, a.bridge, a.vlan, a.ip, a.gateway, a.firewall) == (
        b.slot, b.bridge, b.vlan, b.ip, b.gateway, b.firewall
    )


# --- whole configs ----------------------------------------------------------------------


def config_to_guest(kind: Kind, config: Mapping[str, Any]) -> GuestConfig:
    """A raw config (``GET config``) in canonical form."""
    raw = {k: str(v) for k, v in config.items() if v is not None}
    disks = []
    networks = []
    for key in sorted(raw, key=slot_sort_key):
        if is_disk_key(kind, key):
            disk = parse_disk(kind, key, raw[key])
            if disk is not None:
                disks.append(disk)
        elif NET_RE.match(key):
            ipconfig = raw.get("ipconfig" + key.removeprefix("net")) if kind == "vm" else None
            networks.append(parse_net(kind, key, raw[key], ipconfig))
    cores = raw.get("cores")
    hotplug = raw.get("hotplug")
    return GuestConfig(
        name=raw.get("name" if kind == "vm" else "hostname", ""),
        cores=int(cores) if cores else (1 if kind == "vm" else None),
        memory_mib=parse_memory(raw.get("memory"), kind),
        disks=tuple(disks),
        networks=tuple(networks),
        onboot=_flag(raw.get("onboot")),
        tags=parse_tags(raw.get("tags")),
        description=(raw.get("description") or "").strip() or None,
        ssh_keys=decode_sshkeys(raw.get("sshkeys")) if kind == "vm" else (),
        hotplug=_parse_hotplug(hotplug) if kind == "vm" else (),
    )


def _parse_hotplug(value: str | None) -> tuple[str, ...]:
    if value is None:
        return QEMU_DEFAULT_HOTPLUG
    if value.strip() in ("0", ""):
        return ()
    if value.strip() == "1":
        return QEMU_DEFAULT_HOTPLUG
    return tuple(sorted(p.strip() for p in value.split(",") if p.strip()))


def apply_pending(
    config: Mapping[str, Any], pending: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """The config as it will be after a restart, from ``GET pending``'s items."""
    result = dict(config)
    for item in pending:
        key = str(item.get("key", ""))
        if not key or key == "digest":
            continue
        if item.get("delete"):
            result.pop(key, None)
        elif "pending" in item and item["pending"] is not None:
            result[key] = item["pending"]
    return result


def has_pending(pending: Iterable[Mapping[str, Any]]) -> bool:
    return any(item.get("delete") or "pending" in item for item in pending)


def slot_sort_key(key: str) -> tuple[str, int]:
    """Slots in Proxmox's order: rootfs first, then by bus and number (scsi2 before scsi10)."""
    match = re.match(r"^([a-z]+)(\d*)$", key)
    if match is None:
        return (key, 0)
    bus, num = match.groups()
    return ("" if bus == "rootfs" else bus, int(num) if num else -1)


def desired_tags(spec: GuestSpec, ownership_tag: str) -> tuple[str, ...]:
    return tuple(sorted({*spec.tags, ownership_tag}))


# --- differences ------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One managed field that differs, with a human reason like ``cores 2 → 4``."""

    field: str
    old: str
    new: str
    #: a running qemu guest only picks it up after a restart
    needs_restart: bool = False

    @property
    def reason(self) -> str:
        return f"{self.field} {self.old} → {self.new}"


def _net_text(net: NetworkSpec | None) -> str:
    if net is None:
        return "none"
    parts = [f"bridge={net.bridge}"]
    if net.vlan is not None:
        parts.append(f"vlan={net.vlan}")
    if net.ip is not None:
        parts.append(f"ip={net.ip}")
    if net.gateway is not None:
        parts.append(f"gw={net.gateway}")
    if net.firewall:
        parts.append("firewall")
    return ",".join(parts)


def config_changes(
    spec: GuestSpec, observed: GuestConfig, *, ownership_tag: str
) -> list[Change]:
    """The configure changes (disk growth and shrink excluded: see :func:`disk_changes`)."""
    changes: list[Change] = []
    vm = spec.kind == "vm"
    hotplug = set(observed.hotplug)
    if observed.cores != spec.cores:
        changes.append(Change("cores", str(observed.cores), str(spec.cores),
                              needs_restart=vm and "cpu" not in hotplug))
    if observed.memory_mib != spec.memory_mib:
        changes.append(Change("memory", f"{observed.memory_mib} MiB", f"{spec.memory_mib} MiB",
                              needs_restart=vm and "memory" not in hotplug))
    if observed.onboot != spec.onboot:
        changes.append(Change("onboot", str(observed.onboot).lower(), str(spec.onboot).lower()))
    want_tags = desired_tags(spec, ownership_tag)
    if observed.tags != want_tags:
        changes.append(Change("tags", ";".join(observed.tags) or "none", ";".join(want_tags)))
    if (observed.description or None) != (spec.description or None):
        changes.append(Change("description", repr(observed.description),
                              repr(spec.description)))
    if vm and observed.ssh_keys != tuple(spec.ssh_keys):
        # cloud-init settings reach a running VM only with its next start
        changes.append(Change("ssh_keys", f"{len(observed.ssh_keys)} key(s)",
                              f"{len(spec.ssh_keys)} key(s)", needs_restart=True))
    have = {n.slot: n for n in observed.networks}
    want = {n.slot: n for n in spec.networks}
    for slot in sorted(set(have) | set(want), key=slot_sort_key):
        old, new = have.get(slot), want.get(slot)
        if old is None or new is None or not _net_equal(old, new):
            ip_changed = (old.ip, old.gateway) != (new.ip, new.gateway) \
                if old is not None and new is not None else False
            changes.append(Change(slot, _net_text(old), _net_text(new), needs_restart=vm and (
                ip_changed or "network" not in hotplug)))
    have_disks = {d.slot for d in observed.disks}
    for disk in spec.disks:
        if disk.slot not in have_disks:
            changes.append(Change(disk.slot, "none",
                                  f"{disk.size_gib} GiB on {disk.storage}",
                                  needs_restart=vm and "disk" not in hotplug))
    return changes


@dataclass(frozen=True)
class DiskChange:
    slot: str
    old_bytes: int
    new_bytes: int
    #: growing is an action; anything else is a plan error
    error: str | None = None

    @property
    def reason(self) -> str:
        return f"{self.slot} {gib_text(self.old_bytes)} → {gib_text(self.new_bytes)}"


def disk_changes(spec: GuestSpec, observed: GuestConfig) -> list[DiskChange]:
    """Disks to grow, and disks that would shrink or move (errors, never actions)."""
    have = {d.slot: d for d in observed.disks}
    result: list[DiskChange] = []
    for disk in spec.disks:
        seen = have.get(disk.slot)
        if seen is None:
            continue
        want = disk.size_gib * GIB
        if seen.storage != disk.storage:
            result.append(DiskChange(
                disk.slot, seen.size_bytes, want,
                error=f"disk {disk.slot} is on storage {seen.storage}, declared "
                f"{disk.storage}; MycoPod does not move disks (move it in Proxmox or "
                f"declare {seen.storage})",
            ))
        elif seen.size_bytes > want:
            result.append(DiskChange(
                disk.slot, seen.size_bytes, want,
                error=f"disk {disk.slot} is {gib_text(seen.size_bytes)}, declared "
                f"{disk.size_gib} GiB; disks only grow (declare at least "
                f"{-(-seen.size_bytes // GIB)} GiB)",
            ))
        elif seen.size_bytes < want:
            result.append(DiskChange(disk.slot, seen.size_bytes, want))
    return result
