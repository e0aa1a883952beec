"""Every difference between a guest's stated settings and its config, classified before
it is planned. Pure.

The classes (docs/changes.md publishes the table):

- ``live``: applied to the running guest at once (hot-plugged, or a setting that only
  matters to Proxmox);
- ``restart``: Proxmox keeps it pending until the guest restarts;
- ``cloudinit``: written into the config at once (not pending in Proxmox's sense), but the
  guest only sees it at its next boot, so it needs a restart too;
- ``destructive``: loses something (removing a declared disk or NIC, a new EFI or TPM
  state volume, a firmware change): needs approval like a deletion;
- ``heavy``: a disk move or storage migration (not planned yet: a plan error);
- ``create_only``: Proxmox refuses to change it after creation (a plan error).

The rules mirror Proxmox's own hot-plug code: qemu-server ``PVE/QemuServer.pm``
``vmconfig_hotplug_pending`` (with ``vmconfig_update_net``, ``vmconfig_update_disk``,
``vmconfig_update_agent`` and ``$fast_plug_option``) for VMs, and pve-container
``src/PVE/LXC/Config.pm`` ``vmconfig_hotplug_pending`` (``$LXC_FASTPLUG_OPTIONS``) for
containers. On a stopped guest everything but ``destructive``, ``heavy`` and
``create_only`` simply applies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mycopod.proxmox import devices, keys, payloads
from mycopod.proxmox.keys import REDACTED, flag, parse_props
from mycopod.spec import GuestSpec, stated

ChangeClass = Literal["live", "restart", "cloudinit", "destructive", "heavy", "create_only"]

#: qemu-server $fast_plug_option (cloud-init keys are added to it there too)
VM_FASTPLUG = frozenset({"description", "hookscript", "name", "onboot", "protection",
                         "startup", "tags"})
#: qemu-server $confdesc_cloudinit: written at once, seen by the guest at its next boot
VM_CLOUDINIT_RE = re.compile(
    r"^(cicustom|cipassword|citype|ciupgrade|ciuser|nameserver|searchdomain|sshkeys"
    r"|ipconfig\d+)$")
#: pve-container $LXC_FASTPLUG_OPTIONS
CT_FASTPLUG = frozenset({"description", "onboot", "startup", "protection", "hostname",
                         "hookscript", "cores", "tags"})
#: pve-container vmconfig_hotplug_pending: applied through cgroups or update_net
CT_LIVE = frozenset({"cpulimit", "cpuunits", "memory", "swap"})
#: pve-container update_pct_config refuses these after creation
CT_CREATE_ONLY = frozenset({"unprivileged"})
#: drive options qemu cannot change on a running disk (vmconfig_update_disk)
_DRIVE_COLD = ("aio", "discard", "iothread", "queues", "product", "cache", "ssd", "vendor",
               "ro")
#: NIC options that need the device unplugged (vmconfig_update_net)
_NIC_COLD = ("model", "macaddr", "queues", "mtu")


def _hotplug(current: Mapping[str, Any]) -> set[str]:
    value = current.get("hotplug")
    return set(keys.hotplug_features(str(value) if value is not None else None))


def classify(kind: str, key: str, old: Any, new: str | None,
             current: Mapping[str, Any]) -> tuple[ChangeClass, bool]:
    """(class, applies live on a running guest) of setting ``key`` from ``old`` to ``new``
    (``None``: absent / removed), given the guest's ``current`` (not pending) config."""
    old = None if old is None else str(old)
    if kind == "ct":
        return _classify_ct(key, old, new)
    return _classify_vm(key, old, new, current)


def _classify_ct(key: str, old: str | None, new: str | None) -> tuple[ChangeClass, bool]:
    if key in CT_CREATE_ONLY:
        return "create_only", False
    if key in CT_FASTPLUG or key in CT_LIVE:
        return "live", True
    if devices.NET_RE.match(key):
        # PVE::LXC::update_net: every NIC change is live; a removal loses the NIC
        return ("destructive", True) if new is None else ("live", True)
    if re.match(r"^mp\d+$", key):
        if new is None:
            return "destructive", False
        # a new mount point is hot-plugged; one over an existing mp stays pending
        return ("live", True) if old is None else ("restart", False)
    if key == "rootfs":
        return "restart", False
    return "restart", False  # nameserver, searchdomain, features, timezone, ostype, ...


def _classify_vm(key: str, old: str | None, new: str | None,
                 current: Mapping[str, Any]) -> tuple[ChangeClass, bool]:
    hot = _hotplug(current)
    if key in VM_FASTPLUG:
        return "live", True
    if VM_CLOUDINIT_RE.match(key):
        return "cloudinit", False
    if key == "bios":
        return "destructive", False  # seabios ⇄ ovmf: the installed OS may not boot
    if key in ("efidisk0", "tpmstate0"):
        # vmconfig_hotplug_pending skips both; replacing one loses its content
        if old is None:
            return "restart", False
        return "destructive", False
    if key in ("cpulimit", "cpuunits"):
        return "live", True
    if key == "vcpus":
        return ("live", True) if "cpu" in hot else ("restart", False)
    if key == "memory":
        # qemu_memory_hotplug: needs memory hotplug and NUMA
        live = "memory" in hot and flag(str(current.get("numa", "")))
        return ("live", True) if live else ("restart", False)
    if key == "balloon":
        # enabling or disabling the balloon device is not hot-pluggable
        was = old is None or old.strip() != "0"
        will = new is None or new.strip() != "0"
        return ("live", True) if was == will else ("restart", False)
    if key == "hotplug":
        cold = any(f in (old or "") + (new or "") for f in ("memory", "cpu"))
        return ("restart", False) if cold else ("live", True)
    if key == "tablet":
        return ("live", True) if "usb" in hot else ("restart", False)
    if key == "agent":
        before, after = parse_props(old, "enabled"), parse_props(new, "enabled")
        if not old:
            return "restart", False
        only_fstrim = all(before.get(k) == after.get(k) for k in set(before) | set(after)
                          if k != "fstrim_cloned_disks")
        return ("live", True) if only_fstrim else ("restart", False)
    if re.match(r"^usb\d+$", key):
        ostype = str(current.get("ostype") or "")
        usb = "usb" in hot and (ostype == "l26" or ostype in ("win8", "win10", "win11"))
        return ("live", True) if usb else ("restart", False)
    if devices.NET_RE.match(key):
        return _classify_nic(old, new, "network" in hot)
    if devices.VM_DISK_RE.match(key):
        return _classify_drive(key, old, new, "disk" in hot)
    # cores, sockets, cpu, numa, machine, ostype, scsihw, boot, serial0, vga, hostpciN
    return "restart", False


def _classify_nic(old: str | None, new: str | None, hot: bool) -> tuple[ChangeClass, bool]:
    if new is None:
        return "destructive", hot
    if old is None:
        return ("live", True) if hot else ("restart", False)
    before, after = devices.vm_net_props(old), devices.vm_net_props(new)
    if any(before.get(k) != after.get(k) for k in _NIC_COLD) \
            or not (before.get("bridge") and after.get("bridge")):
        return ("live", True) if hot else ("restart", False)
    return "live", True  # bridge, tag, firewall, rate, link_down: always live


def _classify_drive(key: str, old: str | None, new: str | None,
                    hot: bool) -> tuple[ChangeClass, bool]:
    cold_bus = key.startswith(("ide", "sata"))
    plug = hot and not cold_bus
    old_kind = devices.drive_kind(old) if old is not None else None
    new_kind = devices.drive_kind(new) if new is not None else None
    if "cloudinit" in (old_kind, new_kind):
        # the cloud-init drive: the guest reads a new one at its next boot; removing or
        # replacing a declared one takes the guest's cloud-init away, approved like a disk
        return ("cloudinit", False) if old is None else ("destructive", False)
    if new is None:
        if old_kind == "disk":
            return "destructive", plug
        return ("live", True) if plug else ("restart", False)
    if old is None:
        return ("live", True) if plug else ("restart", False)
    if old_kind != new_kind:
        return "destructive", False  # "unable to change media type"
    before, after = parse_props(old, "file"), parse_props(new, "file")
    if new_kind == "cdrom":
        return "live", True  # change_medium
    if before.get("file") != after.get("file"):
        return "destructive", plug
    if any(before.get(k) != after.get(k) for k in _DRIVE_COLD):
        return "restart", False
    return "live", True  # backup, replicate, throttles


@dataclass(frozen=True)
class Change:
    """One config key that differs, classified."""

    key: str
    old: str | None
    new: str | None
    cls: ChangeClass
    #: applied to a running guest at once (else it needs a restart)
    live: bool

    @property
    def reason(self) -> str:
        return f"{self.key} {_show(self.key, self.old)} → {_show(self.key, self.new)}"


_MIB_KEYS = frozenset({"memory", "balloon", "swap"})
_BOOL_KEYS = frozenset({"onboot", "protection", "numa", "ciupgrade", "unprivileged"})


def _show(key: str, value: str | None) -> str:
    if key in _BOOL_KEYS:
        return "true" if flag(value) else "false"
    if value is None:
        return "none"
    if key in _MIB_KEYS:
        return parse_props(value, "current").get("current", value) + " MiB"
    if key == "cipassword":
        return REDACTED
    if key == "sshkeys":
        return f"{len(keys.decode_sshkeys(value))} key(s)"
    if key == "description":
        return repr(value if len(value) <= 40 else value[:37] + "...")
    return value


@dataclass
class GuestChanges:
    """What differs on one guest: classified changes, disks to grow, plan errors."""

    changes: list[Change] = field(default_factory=list)
    resizes: list[devices.Resize] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def of(self, *classes: ChangeClass) -> list[Change]:
        return [c for c in self.changes if c.cls in classes]


def guest_changes(spec: GuestSpec, effective: Mapping[str, Any],
                  current: Mapping[str, Any] | None = None, *,
                  ownership_tag: str) -> GuestChanges:
    """The classified differences of ``spec`` against ``effective`` (the config with
    pending changes applied); ``current`` (the running config) decides what hot-plugs."""
    current = effective if current is None else current
    found = payloads.differences(spec, effective, ownership_tag=ownership_tag)
    out = GuestChanges(resizes=found.resizes, errors=list(found.errors))
    for key in sorted(found.values, key=devices_sort_key):
        new = found.values[key]
        old = effective.get(key)
        cls, live = classify(spec.kind, key, old, new, current)
        if cls == "create_only":
            out.errors.append(f"{key} can only be set when the guest is created "
                              f"(it is {old or 'unset'}); recreate the guest or declare "
                              "what it has")
            continue
        out.changes.append(Change(key, None if old is None else str(old), new, cls, live))
    return out


def devices_sort_key(key: str) -> tuple[str, int]:
    match = re.match(r"^([a-z]+)(\d*)$", key)
    if match is None:
        return (key, 0)
    bus, num = match.groups()
    return ("" if bus == "rootfs" else bus, int(num) if num else -1)


def pending_keys(spec: GuestSpec, current: Mapping[str, Any],
                 effective: Mapping[str, Any]) -> list[str]:
    """Keys with a pending value that this guest's declaration manages (a restart applies
    them): what MycoPod wrote earlier, or a stated setting changed by hand and left
    pending. Pending changes of settings the text does not state are the owner's."""
    given = stated(spec)
    managed = {r.key for r in keys.rows(spec.kind) if r.value(spec)[0]}
    families = [(name, rx) for name, rx in _DEVICE_FAMILIES if name in given]
    out = []
    for key in sorted(set(current) | set(effective), key=devices_sort_key):
        if key == "digest" or current.get(key) == effective.get(key):
            continue
        if str(current.get(key)) == str(effective.get(key)):
            continue
        if key in managed or any(rx.match(key) for _, rx in families) \
                or (key in ("efidisk0", "tpmstate0") and ({"efidisk", "tpm", "bios"} & given)):
            out.append(key)
    return out


_DEVICE_FAMILIES = (
    ("disks", re.compile(r"^(scsi|virtio|sata|ide)\d+$|^(rootfs|mp\d+)$")),
    ("networks", re.compile(r"^(net|ipconfig)\d+$")),
    ("cdroms", re.compile(r"^(scsi|sata|ide)\d+$")),
    ("cloudinit_drive", re.compile(r"^(scsi|sata|ide)\d+$")),
    ("pci_devices", re.compile(r"^hostpci\d+$")),
    ("usb_devices", re.compile(r"^usb\d+$")),
)
