"""A guest's config written as a spec: the inverse of :mod:`mycopod.proxmox.payloads`. Pure.

``mycopod import`` describes guests that already exist. :func:`describe` states every
setting MycoPod manages that the config has (a key that is absent is left unstated, so
it stays the owner's), with the vmid, node, pool, tags (minus the ownership tag) and
every MAC address and the cloud-init drive pinned, so a rebuild keeps DHCP reservations
and its cloud-init settings reach the guest. It reads the config with the same tables
the planner compares with (:mod:`.keys` rows' ``norm`` and the device options of
:mod:`.devices`), which is what makes the round trip exact: for the
spec it returns, :func:`mycopod.proxmox.payloads.differences` against the same config
is empty but for the ownership tag (a test checks it on a varied cluster).

What cannot be stated is listed instead (:attr:`Described.left_out`): the keys MycoPod
never manages (raw ``args``, ``lxc.*`` lines, the hookscript, device nodes), a
passthrough of a raw host device, a cloud-init password (Proxmox masks it), and any
value the spec refuses. The source is never stated: the guest exists already, and
Proxmox does not reliably record which template it was cloned from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from mycopod.proxmox import cidrive, devices, keys
from mycopod.proxmox.devices import drive_kind, parse_size, vm_net_props
from mycopod.proxmox.keys import parse_props
from mycopod.spec import GuestSpec

GIB = 1024**3
_SLOT_NUM = re.compile(r"^([a-z]+)(\d*)$")


@dataclass
class Described:
    """One guest as a spec, and what of its config the spec does not say."""

    spec: GuestSpec | None
    #: ``key: value`` lines (or notes) for the HTML comment under the guest
    left_out: list[str] = field(default_factory=list)


def _slot_key(key: str) -> tuple[str, int]:
    match = _SLOT_NUM.match(key)
    if match is None:
        return (key, 0)
    bus, num = match.groups()
    return ("" if bus == "rootfs" else bus, int(num) if num else -1)


def _options(props: Mapping[str, str], options: tuple[devices.Option, ...]) -> dict[str, Any]:
    """The stated options of a device: each property the config has, read as the planner
    reads it."""
    out: dict[str, Any] = {}
    for name, prop, norm, _text in options:
        if prop in props:
            out[name] = norm(props[prop])
    return out


def _scalars(kind: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    startup: dict[str, Any] = {}
    for row in keys.rows(kind):
        if row.secret:
            continue
        have = row.observed(raw)
        if have is None:
            continue
        value = row.norm(have)
        if value is None or value == []:
            if row.field not in ("boot", "hotplug", "nameservers", "cpu_flags"):
                continue
            if value is None:
                continue
        if row.field.startswith("startup."):
            startup[row.field.split(".", 1)[1]] = value
        else:
            data[row.field] = value
    if startup:
        data["startup"] = startup
    if kind == "vm" and "machine" in data:
        data["machine"] = str(data["machine"])
    return data


def _vm_devices(raw: Mapping[str, Any], data: dict[str, Any], left: list[str]) -> None:
    disks: list[dict[str, Any]] = []
    cdroms: list[dict[str, Any]] = []
    for key in sorted((k for k in raw if devices.VM_DISK_RE.match(k)), key=_slot_key):
        value = str(raw[key])
        what = drive_kind(value)
        props = parse_props(value, "file")
        if what == "disk":
            disks.append(_disk(key, props, "file", devices.VM_DISK_OPTIONS, left))
        elif what == "cdrom":
            file = props.get("file", "none")
            cdroms.append({"slot": key, "iso": None if file in ("none", "cdrom") else file})
        elif what == "path":
            left.append(f"{key}: {value}")
    data["disks"] = disks
    if cdroms:
        data["cdroms"] = cdroms
    drive = cidrive.describe(raw)  # slot and storage pinned: a rebuild makes the same
    if drive is not None:
        data["cloudinit_drive"] = drive
    nets: list[dict[str, Any]] = []
    for key in sorted((k for k in raw if devices.NET_RE.match(k)), key=_slot_key):
        props = vm_net_props(raw[key])
        net: dict[str, Any] = {"slot": key, "model": props["model"]}
        if props.get("macaddr"):
            net["mac"] = props["macaddr"]
        net.update(_options(props, devices.VM_NIC_OPTIONS))
        ipconfig = raw.get("ipconfig" + key.removeprefix("net"))
        if ipconfig is not None:
            net.update(_options(parse_props(str(ipconfig)), devices.IPCONFIG_OPTIONS))
        nets.append(net)
    data["networks"] = nets
    for prefix, field_name in (("hostpci", "pci_devices"), ("usb", "usb_devices")):
        found = []
        for key in sorted((k for k in raw if re.match(rf"^{prefix}\d+$", k)), key=_slot_key):
            props = parse_props(str(raw[key]))
            if "mapping" not in props:
                left.append(f"{key}: {raw[key]}")
                continue
            dev: dict[str, Any] = {"slot": key, "mapping": props["mapping"]}
            if prefix == "hostpci" and "pcie" in props:
                dev["pcie"] = keys.flag(props["pcie"])
            found.append(dev)
        if found:
            data[field_name] = found
    for key, name in (("efidisk0", "efidisk"), ("tpmstate0", "tpm")):
        if raw.get(key) is None:
            continue
        props = parse_props(str(raw[key]), "file")
        state: dict[str, Any] = {"storage": props.get("file", "").split(":", 1)[0]}
        if name == "tpm":
            state["version"] = props.get("version", "v1.2")
        else:
            state["efitype"] = props.get("efitype", "2m")
            state["pre_enrolled_keys"] = keys.flag(props.get("pre-enrolled-keys"))
        data[name] = state


def _disk(slot: str, props: Mapping[str, str], key: str,
          options: tuple[devices.Option, ...], left: list[str]) -> dict[str, Any]:
    volume = props.get(key, "")
    disk: dict[str, Any] = {"slot": slot}
    if ":" not in volume:  # a container's bind mount of a host directory
        disk["host_path"] = volume
    else:
        disk["storage"] = volume.split(":", 1)[0]
        size = parse_size(props.get("size"))
        gib = max(1, math.ceil(size / GIB)) if size else 1
        if size and size % GIB:
            left.append(f"{slot}: size {props.get('size')} is not whole GiB; declared {gib} GB "
                        "(MycoPod grows it on adoption)")
        disk["size_gib"] = gib
    disk.update(_options(props, options))
    return disk


def _ct_devices(raw: Mapping[str, Any], data: dict[str, Any], left: list[str]) -> None:
    disks = []
    for key in sorted((k for k in raw if devices.CT_DISK_RE.match(k)), key=_slot_key):
        props = parse_props(str(raw[key]), "volume")
        disk = _disk(key, props, "volume", devices.CT_DISK_OPTIONS, left)
        if key == "rootfs":
            disk.pop("path", None)
        disks.append(disk)
    data["disks"] = disks
    nets: list[dict[str, Any]] = []
    for key in sorted((k for k in raw if devices.NET_RE.match(k)), key=_slot_key):
        props = parse_props(str(raw[key]))
        net: dict[str, Any] = {"slot": key}
        net.update(_options(props, devices.CT_NIC_OPTIONS))
        nets.append(net)
    data["networks"] = nets


def describe(kind: str, raw: Mapping[str, Any], *, vmid: int, node: str, status: str,
             pool: str | None, ownership_tag: str) -> Described:
    """The spec of one existing guest (see the module doc); ``raw`` is its current
    config (``config?current=1``: pending changes are not the guest's state yet)."""
    raw = {k: v for k, v in raw.items() if v is not None and k != "digest"}
    left = [f"{k}: {raw[k]}" for k in keys.unmanaged(raw)]
    name = str(raw.get("name" if kind == "vm" else "hostname", "") or "")
    data: dict[str, Any] = _scalars(kind, raw)
    data.update({"name": name, "kind": kind, "vmid": vmid, "node": node,
                 "state": "running" if status == "running" else "stopped"})
    if pool:
        data["pool"] = pool
    tags = [t for t in re.split(r"[;,\s]+", str(raw.get("tags", ""))) if t]
    data["tags"] = sorted({t.lower() for t in tags} - {ownership_tag})
    if kind == "vm":
        _vm_devices(raw, data, left)
        if raw.get("cipassword"):
            left.append("cipassword: set (declare it as 'its cloud-init password is the "
                        "credential NAME' to manage it)")
    else:
        _ct_devices(raw, data, left)
    return Described(spec=_validate(data, left), left_out=left)


def _validate(data: dict[str, Any], left: list[str]) -> GuestSpec | None:
    """The spec, leaving out (and listing) each field the spec refuses."""
    for _ in range(len(data) + 1):
        try:
            return GuestSpec.model_validate(data)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            loc = first["loc"][0] if first["loc"] else None
            if not isinstance(loc, str) or loc not in data or loc in ("name", "kind"):
                left.append(f"not imported: {first['msg']}")
                return None
            left.append(f"not declared: {loc} = {data.pop(loc)!r} ({first['msg']})")
    return None
