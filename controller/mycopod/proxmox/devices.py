"""Devices addressed by slot: disks, container volumes, CD-ROMs, NICs (with a VM's
``ipconfigN``), PCI/USB mappings, and the EFI and TPM state volumes (the cloud-init
drive: :mod:`.cidrive`). Pure.

:func:`desired` gives, for a guest's stated device lists, the config keys whose value
must change (``None``: the device is removed), starting from the observed property
string so every option the text does not state (a MAC that is not pinned, a cache
mode, a throttle) is kept. A stated list is the complete set of that kind of device;
a device is matched by its slot, never by its position. With ``create`` every list is
written, unstated ones with the creation defaults the spec fills in; a new device's
unstated option is written only where its default is not Proxmox's own (no
``firewall=0``, no ``ipconfig0: ip=dhcp``). Disk growth is
reported apart (it is a ``resize`` call), and so is what MycoPod will not do: shrink
a disk, or move one to another storage.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from mycopod.proxmox import cidrive
from mycopod.proxmox.keys import bit, flag, format_props, parse_props
from mycopod.spec import CT_MOUNT_ROOT, DEFAULT_STORAGE, GuestSpec, stated

GIB = 1024**3
VM_DISK_RE = re.compile(r"^(scsi|virtio|sata|ide)\d+$")
CT_DISK_RE = re.compile(r"^(rootfs|mp\d+)$")
NET_RE = re.compile(r"^net\d+$")
QEMU_MODELS = frozenset({
    "e1000", "e1000-82540em", "e1000-82544gc", "e1000-82545em", "e1000e", "i82551",
    "i82557b", "i82559er", "ne2k_isa", "ne2k_pci", "pcnet", "rtl8139", "virtio", "vmxnet3",
})

#: an option of a device: spec field, property, observed text → spec form, spec → text
Option = tuple[str, str, Callable[[str | None], Any], Callable[[Any], str | None]]


def _b(default: bool) -> Callable[[str | None], bool]:
    return lambda v: flag(v, default)


def _t(default: str | None) -> Callable[[str | None], str | None]:
    return lambda v: v if v not in (None, "") else default


def _n(v: str | None) -> float | None:
    try:
        return float(v) if v not in (None, "") else None  # type: ignore[arg-type]
    except ValueError:
        return None


def _num(v: Any) -> str | None:
    return None if v is None else f"{v:g}"


def _ip(v: str | None) -> str | None:
    if v in (None, "", "manual"):
        return None
    if v in ("dhcp", "auto"):
        return v
    try:
        return str(ipaddress.ip_interface(v))  # type: ignore[arg-type]
    except ValueError:
        return v


def _addr(v: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(v)) if v else None
    except ValueError:
        return v


_str: Callable[[Any], str | None] = lambda v: None if v is None else str(v)  # noqa: E731

VM_DISK_OPTIONS: tuple[Option, ...] = (
    ("iothread", "iothread", _b(False), bit),
    ("discard", "discard", lambda v: v == "on", lambda v: "on" if v else "ignore"),
    ("ssd", "ssd", _b(False), bit),
    ("cache", "cache", _t("none"), _str),
    ("aio", "aio", _t("io_uring"), _str),
    ("backup", "backup", _b(True), bit),
    ("replicate", "replicate", _b(True), bit),
    ("ro", "ro", _b(False), bit),
)
CT_DISK_OPTIONS: tuple[Option, ...] = (
    ("path", "mp", _t(None), _str),
    ("backup", "backup", _b(False), bit),
    ("replicate", "replicate", _b(True), bit),
    ("ro", "ro", _b(False), bit),
)
VM_NIC_OPTIONS: tuple[Option, ...] = (
    ("bridge", "bridge", _t(None), _str),
    ("vlan", "tag", lambda v: int(v) if v else None, _str),
    ("firewall", "firewall", _b(False), bit),
    ("mtu", "mtu", lambda v: int(v) if v else None, _str),
    ("rate", "rate", _n, _num),
    ("queues", "queues", lambda v: int(v) if v else None, _str),
    ("link_down", "link_down", _b(False), bit),
)
IPCONFIG_OPTIONS: tuple[Option, ...] = (
    ("ip", "ip", _ip, _str), ("gateway", "gw", _addr, _str),
    ("ip6", "ip6", _ip, _str), ("gateway6", "gw6", _addr, _str),
)
CT_NIC_OPTIONS: tuple[Option, ...] = (
    ("name", "name", _t(None), _str),
    ("bridge", "bridge", _t(None), _str),
    ("mac", "hwaddr", lambda v: v.upper() if v else None, _str),
    ("vlan", "tag", lambda v: int(v) if v else None, _str),
    *IPCONFIG_OPTIONS,
    ("firewall", "firewall", _b(False), bit),
    ("mtu", "mtu", lambda v: int(v) if v else None, _str),
    ("rate", "rate", _n, _num),
)


@dataclass(frozen=True)
class Resize:
    slot: str
    old_bytes: int
    new_bytes: int


@dataclass
class DeviceChanges:
    #: config key → new value (``None``: remove the device)
    values: dict[str, str | None] = field(default_factory=dict)
    resizes: list[Resize] = field(default_factory=list)
    #: what MycoPod will not do (shrink, move to another storage): plan errors
    errors: list[str] = field(default_factory=list)


def _apply(props: dict[str, str], model: BaseModel, options: tuple[Option, ...],
           *, every: bool, defaults: bool = True,
           absent: Mapping[str, Any] | None = None) -> None:
    """Set each stated option whose value differs; with ``every`` (a new device) each
    stated option, and the default of an unstated one when ``defaults`` and Proxmox
    would not apply the same value itself (its value for an absent property, or
    ``absent[name]`` where Proxmox's default is not the property's)."""
    given = stated(model)
    for name, prop, norm, text in options:
        if not every and name not in given:
            continue
        want = getattr(model, name)
        if every and name not in given:
            proxmox = absent[name] if absent and name in absent else norm(None)
            if not defaults or want == proxmox:
                continue
        if not every and norm(props.get(prop)) == want:
            continue
        value = text(want) if want is not None else None
        if value is None:
            props.pop(prop, None)
        else:
            props[prop] = value


def parse_size(text: str | None) -> int:
    match = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)\s*$", text or "", re.IGNORECASE)
    if match is None:
        return 0
    units = {"": 1, "K": 1024, "M": 1024**2, "G": GIB, "T": 1024**4}
    return round(float(match.group(1)) * units[match.group(2).upper()])


def drive_kind(value: Any, key: str = "file") -> str:
    """``disk``, ``cdrom``, ``cloudinit`` or ``path`` (a host device MycoPod leaves be)."""
    return _kind_of(parse_props(str(value), key), key)


def _kind_of(props: Mapping[str, str], key: str) -> str:
    """:func:`drive_kind` of a value already parsed."""
    volume = props.get(key, "")
    if "cloudinit" in volume:
        return "cloudinit"
    if props.get("media") == "cdrom" or volume in ("none", "cdrom"):
        return "cdrom"
    return "disk" if ":" in volume else "path"


def _changed(old: Any, props: dict[str, str], default_key: str | None,
             before: dict[str, str] | None = None) -> str | None:
    """The new text when ``props`` differ from the observed value (``before``: that
    value parsed already), else None."""
    if before is None and old is not None:
        before = parse_props(str(old), default_key)
    return None if before == props else format_props(props, default_key)


def _volume(host_path: str | None, storage: str, size_gib: int | None) -> str:
    """A bind mount's host directory, or a new volume ``storage:size``."""
    return host_path if host_path is not None else f"{storage}:{size_gib}"


def _disks(guest: GuestSpec, raw: Mapping[str, Any], out: DeviceChanges, *,
           create: bool) -> None:
    vm = guest.kind == "vm"
    key = "file" if vm else "volume"
    slot_re = VM_DISK_RE if vm else CT_DISK_RE
    options = VM_DISK_OPTIONS if vm else CT_DISK_OPTIONS
    # each disk's value parsed once (its kind, then its comparison)
    have: dict[str, Any] = {}
    parsed: dict[str, dict[str, str]] = {}
    for slot, value in raw.items():
        if value is None or not slot_re.match(slot):
            continue
        if vm:
            seen = parse_props(str(value), key)
            if _kind_of(seen, key) != "disk":
                continue
            parsed[slot] = seen
        have[slot] = value
    first = guest.disks[0].storage if guest.disks else DEFAULT_STORAGE
    for disk in guest.disks:
        old = have.get(disk.slot)
        storage: str = disk.storage or first or DEFAULT_STORAGE
        if old is None or create:
            other = raw.get(disk.slot) if vm and not create else None
            if other is not None:
                out.errors.append(f"{disk.slot} holds a {drive_kind(other)}, declared a disk; "
                                  "free the slot or declare the disk on another one")
                continue
            props: dict[str, str] = {key: _volume(disk.host_path, storage, disk.size_gib)}
            if not vm and disk.slot != "rootfs":
                props["mp"] = disk.path or f"{CT_MOUNT_ROOT}/{disk.slot}"
            _apply(props, disk, options, every=False)
            out.values[disk.slot] = format_props(props, key)
            continue
        before = parsed.get(disk.slot)
        if before is None:
            before = parse_props(str(old), key)
        props = dict(before)
        volume = props.get(key, "")
        if disk.bind or (":" not in volume):
            if disk.host_path != volume:  # another volume or host directory
                props = {key: _volume(disk.host_path, storage, disk.size_gib)}
                _apply(props, disk, options, every=False)
                out.values[disk.slot] = format_props(props, key)
                continue
        else:
            seen_storage = volume.split(":", 1)[0]
            size = parse_size(props.get("size"))
            if "storage" in stated(disk) and disk.storage != seen_storage:
                out.errors.append(
                    f"disk {disk.slot} is on storage {seen_storage}, declared {disk.storage}; "
                    f"MycoPod does not move disks yet (move it in Proxmox or declare "
                    f"{seen_storage})")
            elif disk.size_gib is not None and size and "size_gib" in stated(disk):
                want = disk.size_gib * GIB
                if size > want:
                    out.errors.append(
                        f"disk {disk.slot} is {size / GIB:g} GiB, declared {disk.size_gib} GiB; "
                        f"disks only grow (declare at least {-(-size // GIB)} GiB)")
                elif size < want:
                    out.resizes.append(Resize(disk.slot, size, want))
        _apply(props, disk, options, every=False)
        new = _changed(old, props, key, before)
        if new is not None:
            out.values[disk.slot] = new
    declared = {d.slot for d in guest.disks}
    for slot in have:
        if slot not in declared and (vm or slot != "rootfs"):
            out.values[slot] = None


def _cdroms(guest: GuestSpec, raw: Mapping[str, Any], out: DeviceChanges, *,
            create: bool) -> None:
    have = {k: v for k, v in raw.items() if VM_DISK_RE.match(k) and v is not None
            and drive_kind(v) == "cdrom"}
    for cdrom in guest.cdroms:
        file = cdrom.iso or "none"
        old = have.get(cdrom.slot)
        if old is None:
            if raw.get(cdrom.slot) is not None and not create:
                out.errors.append(f"{cdrom.slot} holds a {drive_kind(raw[cdrom.slot])}, "
                                  "declared a CD-ROM; give the CD-ROM another slot")
                continue
            out.values[cdrom.slot] = f"{file},media=cdrom"
            continue
        props = parse_props(str(old), "file")
        if props.get("file") != file:
            props["file"] = file
            out.values[cdrom.slot] = format_props(props, "file")
    declared = {c.slot for c in guest.cdroms}
    for slot in have:
        if slot not in declared:
            out.values[slot] = None


def vm_net_props(text: Any) -> dict[str, str]:
    """A qemu ``netN`` in one form: ``{"model": ..., "macaddr": ..., other options}``
    (Proxmox writes the model as a key holding the MAC, ``virtio=BC:24:11:...``)."""
    props = parse_props(str(text)) if text is not None else {}
    model = props.pop("model", None)
    for key in list(props):
        if key in QEMU_MODELS:
            model, mac = key, props.pop(key)
            if mac:
                props["macaddr"] = mac.upper()
            break
    return {"model": model or "virtio", **props}


def vm_net_text(props: Mapping[str, str]) -> str:
    rest = {k: v for k, v in props.items() if k not in ("model", "macaddr")}
    mac = props.get("macaddr")
    head = f"{props['model']}={mac}" if mac else props["model"]
    return ",".join([head, *(f"{k}={v}" for k, v in rest.items())])


def _networks(guest: GuestSpec, raw: Mapping[str, Any], out: DeviceChanges, *,
              create: bool, defaults: bool = True) -> None:
    vm = guest.kind == "vm"
    have = {k: v for k, v in raw.items() if NET_RE.match(k) and v is not None}
    for net in guest.networks:
        old = have.get(net.slot)
        every = old is None or create
        given = stated(net)
        if vm:
            before = vm_net_props(old) if not every else None
            props = dict(before) if before is not None else {"model": net.model or "virtio"}
            if "model" in given and net.model:
                props["model"] = net.model
            if "mac" in given and net.mac:
                props["macaddr"] = net.mac
            _apply(props, net, VM_NIC_OPTIONS, every=every, defaults=defaults)
            if props != before:
                out.values[net.slot] = vm_net_text(props)
            ipkey = "ipconfig" + net.slot.removeprefix("net")
            ipold = raw.get(ipkey) if not create else None
            ipprops = parse_props(str(ipold)) if ipold is not None else {}
            # cloud-init: "neither an IPv4 nor an IPv6 address specified" is DHCP on IPv4
            _apply(ipprops, net, IPCONFIG_OPTIONS, every=every, defaults=defaults,
                   absent=None if "ip6" in given else {"ip": "dhcp"})
            if ipprops and _changed(ipold, ipprops, None) is not None:
                out.values[ipkey] = format_props(ipprops)
        else:
            before = parse_props(str(old)) if not every else None
            props = dict(before) if before is not None else {
                "name": "eth" + net.slot.removeprefix("net")}
            _apply(props, net, CT_NIC_OPTIONS, every=every, defaults=defaults)
            if every:
                props.setdefault("name", "eth" + net.slot.removeprefix("net"))
                props.setdefault("type", "veth")
            if props != before:
                head = {"name": props.pop("name")} if "name" in props else {}
                out.values[net.slot] = format_props({**head, **props})
    declared = {n.slot for n in guest.networks}
    for slot in have:
        if slot not in declared:
            out.values[slot] = None
            ipkey = "ipconfig" + slot.removeprefix("net")
            if vm and ipkey in raw:
                out.values[ipkey] = None


def _passthrough(guest: GuestSpec, raw: Mapping[str, Any], out: DeviceChanges,
                 prefix: str) -> None:
    devices = guest.pci_devices if prefix == "hostpci" else guest.usb_devices
    have = {k: v for k, v in raw.items() if re.match(rf"^{prefix}\d+$", k) and v is not None}
    for dev in devices:
        old = have.get(dev.slot)
        props = parse_props(str(old)) if old is not None else {}
        props["mapping"] = dev.mapping
        if "pcie" in stated(dev):
            props["pcie"] = bit(dev.pcie)
        new = _changed(old, props, None)
        if new is not None:
            out.values[dev.slot] = new
    declared = {d.slot for d in devices}
    for slot in have:
        if slot not in declared:
            out.values[slot] = None


def _state_volume(guest: GuestSpec, raw: Mapping[str, Any], out: DeviceChanges, *,
                  create: bool, tpm: bool) -> None:
    """``efidisk0`` (declared, or the default of UEFI firmware) and ``tpmstate0``.

    Only stated options are compared; one that differs needs a new state volume (the
    old one's content, the EFI variables or the TPM's keys, is lost: destructive)."""
    from mycopod.spec import EfiDiskSpec

    key = "tpmstate0" if tpm else "efidisk0"
    spec: Any = guest.tpm if tpm else guest.efidisk
    old = raw.get(key)
    if spec is None:
        if tpm or guest.bios != "ovmf" or not (create or "bios" in stated(guest)) \
                or (old is not None and not create):
            return
        spec = EfiDiskSpec.model_validate({})  # UEFI firmware's default EFI disk
    given = stated(spec)
    first = guest.disks[0].storage if guest.disks and guest.disks[0].storage else None
    storage = spec.storage if "storage" in given else first or DEFAULT_STORAGE
    if tpm:
        opts = {"version": spec.version}
        defaults = {"version": "v1.2"}
        fields = {"version": "version"}
    else:
        keys = spec.pre_enrolled_keys
        opts = {"efitype": spec.efitype,
                "pre-enrolled-keys": bit(keys if keys is not None else True)}
        defaults = {"efitype": "2m", "pre-enrolled-keys": "0"}
        fields = {"efitype": "efitype", "pre-enrolled-keys": "pre_enrolled_keys"}
    fresh = format_props({"file": f"{storage}:1", **opts}, "file")
    if old is None or create:
        out.values[key] = fresh
        return
    props = parse_props(str(old), "file")
    seen = props.get("file", "").split(":", 1)[0]
    if "storage" in given and seen != storage:
        out.errors.append(f"{key} is on storage {seen}, declared {storage}; MycoPod does not "
                          "move disks yet")
    elif any(props.get(k, defaults[k]) != v for k, v in opts.items() if fields[k] in given):
        out.values[key] = fresh


def desired(guest: GuestSpec, raw: Mapping[str, Any], *, create: bool = False,
            defaults: bool = True) -> DeviceChanges:
    """The device keys to change (see the module doc); ``create``: a new guest;
    ``defaults``: a new device's unstated options get their creation defaults where
    Proxmox would not apply the same (off: a rebuilt adopted guest, stated only)."""
    out = DeviceChanges()
    given = stated(guest)
    if create or "disks" in given:
        _disks(guest, raw, out, create=create)
    if create or "networks" in given:
        _networks(guest, raw, out, create=create, defaults=defaults)
    if guest.kind == "vm":
        if "cdroms" in given:
            _cdroms(guest, raw, out, create=create)
        elif create and guest.source is not None and guest.source.iso is not None:
            out.values["ide2"] = f"{guest.source.iso},media=cdrom"
        cidrive.desired(guest, raw, out, create=create)  # after the CD-ROMs: free slots
        if "pci_devices" in given:
            _passthrough(guest, raw, out, "hostpci")
        if "usb_devices" in given:
            _passthrough(guest, raw, out, "usb")
        _state_volume(guest, raw, out, create=create, tpm=False)
        _state_volume(guest, raw, out, create=create, tpm=True)
    return out
