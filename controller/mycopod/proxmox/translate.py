"""Between Proxmox config strings and spec fields: reading configs, finding differences. Pure.

Proxmox describes a guest with flat key/value pairs whose values are property strings
(``scsi0: local-lvm:vm-101-disk-0,size=32G``, ``net0: virtio=BC:24:11:..,bridge=vmbr0``).
This module parses them into the canonical values of :mod:`mycopod.proxmox.model`,
formats single values back (sizes, tags, SSH keys, property strings), and compares an
observed guest with its spec. The parameters of create, config and resize calls are
built from these in :mod:`mycopod.proxmox.payloads`.

The whole config is kept too (``GuestConfig.raw``): the settings tables compare the
stated settings against it, so an unstated setting, a MAC address or a Proxmox default
never shows up as a diff.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

from mycopod.proxmox import keys
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


parse_props = keys.parse_props
format_props = keys.format_props


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


def encode_sshkeys(ssh_keys: Iterable[str]) -> str:
    return keys.encode_sshkeys(list(ssh_keys))


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
    return _NET.model_copy(update={
        "slot": slot,
        "bridge": props.get("bridge", ""),
        "vlan": int(tag) if tag else None,
        "ip": ip,
        "gateway": gateway,
        "firewall": _flag(props.get("firewall")),
    })


#: what ``NetworkSpec.model_construct(**fields)`` gives is this copied with ``fields``
#: (the same values, the same fields set), in a third of the time (a first full resync
#: parses one per network of every guest); NetworkSpec's defaults are all immutable
_NET = NetworkSpec.model_construct()


def _net_equal(a: NetworkSpec, b: NetworkSpec) -> bool:
    return (a.slot, a.bridge, a.vlan, a.ip, a.gateway, a.firewall) == (
        b.slot, b.bridge, b.vlan, b.ip, b.gateway, b.firewall
    )


# --- whole configs ----------------------------------------------------------------------


#: the first letters of every disk and NIC key, of both kinds (scsi, sata, virtio, ide,
#: rootfs, mpN, netN)
_DEVICE_INITIALS = frozenset("svirmn")


def config_to_guest(kind: Kind, config: Mapping[str, Any]) -> GuestConfig:
    """A raw config (``GET config``) in canonical form."""
    raw = {k: str(v) for k, v in config.items() if v is not None}
    disks = []
    networks = []
    disk_re = VM_DISK_RE if kind == "vm" else CT_DISK_RE
    # only the device keys, in slot order (sorting the whole config costs more than
    # the few disks and NICs it holds)
    slots = [k for k in raw if k[:1] in _DEVICE_INITIALS and (disk_re.match(k)
                                                              or NET_RE.match(k))]
    for key in sorted(slots, key=slot_sort_key):
        if disk_re.match(key):
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
        raw=raw,
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


_SLOT_RE = re.compile(r"^([a-z]+)(\d*)$")


def slot_sort_key(key: str) -> tuple[str, int]:
    """Slots in Proxmox's order: rootfs first, then by bus and number (scsi2 before scsi10)."""
    match = _SLOT_RE.match(key)
    if match is None:
        return (key, 0)
    bus, num = match.groups()
    return ("" if bus == "rootfs" else bus, int(num) if num else -1)


def desired_tags(spec: GuestSpec, ownership_tag: str) -> tuple[str, ...]:
    return tuple(sorted({*spec.tags, ownership_tag}))


# --- differences ------------------------------------------------------------------------
# What differs, setting by setting, is :func:`mycopod.proxmox.payloads.differences` (from
# the tables of :mod:`mycopod.proxmox.keys` and :mod:`mycopod.proxmox.devices`); how each
# difference reaches a running guest is :mod:`mycopod.reconcile.changes`.
