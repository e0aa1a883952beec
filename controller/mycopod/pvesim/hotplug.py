"""Which config changes a running guest takes at once, and which wait in ``[PENDING]``.

PVE writes every change of a running guest to the pending section first, then tries to
hot-plug each changed key; what it cannot apply stays pending until the next start. The
rules are per key and depend on the old and new value, on the guest's ``hotplug``
features (VMs), and on a short list of "fast plug" options that never touch the running
guest (name, description, tags, ...). These are pure decisions over config strings;
``guests`` applies them. A decision is ``True`` (apply now), ``False`` (leave pending),
or a ``HotplugProblem`` PVE reports as a per-key error while the change stays pending.
"""

from __future__ import annotations

import re

from mycopod.pvesim import propstr
from mycopod.pvesim.state import Guest, is_disk_key

__all__ = ["HotplugProblem", "live_delete", "live_set"]


class HotplugProblem(Exception):
    """A hot-plug that PVE tries and refuses; the change stays pending."""


# qemu-server PVE/QemuServer.pm $fast_plug_option, plus every $confdesc_cloudinit key
# (ipconfigN too: see _fast_plug)
QEMU_FAST_PLUG = frozenset(
    {
        "description",
        "hookscript",
        "lock",
        "migrate_downtime",
        "migrate_speed",
        "name",
        "onboot",
        "protection",
        "shares",
        "startup",
        "tags",
        "vmstatestorage",
        "citype",
        "ciuser",
        "cipassword",
        "ciupgrade",
        "cicustom",
        "searchdomain",
        "nameserver",
        "sshkeys",
    }
)
# pve-container src/PVE/LXC/Config.pm $LXC_FASTPLUG_OPTIONS
LXC_FAST_PLUG = frozenset(
    {
        "description",
        "onboot",
        "startup",
        "protection",
        "hostname",
        "hookscript",
        "cores",
        "tags",
        "lock",
    }
)
# qemu-server QemuServer.pm vmconfig_update_disk: drive options a running disk cannot change
_DISK_COLD = ("aio", "discard", "iothread", "queues", "product", "cache", "ssd", "vendor", "ro")
# qemu-server QemuServer.pm vmconfig_update_net: options that need the NIC re-plugged
_NET_REPLUG = ("model", "macaddr", "queues", "mtu")
_NET = re.compile(r"^net\d+$")
_IPCONFIG = re.compile(r"^ipconfig\d+$")
_USB = re.compile(r"^usb\d+$")


def hotplug_features(conf: dict[str, str]) -> frozenset[str]:
    """qemu-server QemuServer.pm parse_hotplug_features: ``1`` (the default) is
    ``network,disk,usb``, ``0`` is nothing."""
    value = conf.get("hotplug", "1")
    if value == "0":
        return frozenset()
    if value == "1":
        value = "network,disk,usb"
    return frozenset(f for f in re.split(r"[,;\s]+", value) if f)


def _windows_version(ostype: str | None) -> int:
    # qemu-server PVE/QemuServer/Helpers.pm windows_version
    if ostype in ("wxp", "w2k3", "w2k"):
        return 5
    if ostype in ("w2k8", "wvista"):
        return 6
    m = re.match(r"^win(\d+)$", ostype or "")
    return int(m.group(1)) if m else 0


def _usb_hotplug(conf: dict[str, str]) -> bool:
    # qemu-server QemuServer.pm vmconfig_hotplug_pending $is_usb_hotplug_supported (the
    # simulated QEMU is newer than 7.1)
    ostype = conf.get("ostype")
    return "usb" in hotplug_features(conf) and (
        ostype == "l26" or _windows_version(ostype) > 7
    )


def _balloon_enabled(value: str | None) -> bool:
    return value is None or value != "0"


def _differs(old: dict[str, str], new: dict[str, str], keys: tuple[str, ...]) -> bool:
    return any(old.get(k) != new.get(k) for k in keys)


def _net(conf: dict[str, str], key: str, new: str, network: bool) -> bool:
    # qemu-server QemuServer.pm vmconfig_update_net: bridge, tag, trunks, firewall, rate and
    # link_down change on the live tap device; a new NIC or a model/MAC/queues/MTU change
    # needs network hot-plug (unplug and plug again)
    old = conf.get(key)
    if old is None:
        return network
    o, n = propstr.parse("qemu", key, old), propstr.parse("qemu", key, new)
    if _differs(o, n, _NET_REPLUG) or not (o.get("bridge") and n.get("bridge")):
        return network
    return True


def _disk(conf: dict[str, str], key: str, new: str, disk: bool) -> bool:
    # qemu-server QemuServer.pm vmconfig_hotplug_pending (efidisk0/tpmstate0 skip) and
    # vmconfig_update_disk
    if key in ("efidisk0", "tpmstate0"):
        return False
    n = propstr.parse("qemu", key, new)
    ide_sata = key.startswith(("ide", "sata"))
    old = conf.get(key)
    if old is None:
        return disk and not ide_sata
    o = propstr.parse("qemu", key, old)
    if o.get("media", "disk") != n.get("media", "disk"):
        raise HotplugProblem("unable to change media type")
    if o.get("media") == "cdrom":
        return True  # a medium change (or eject) in the running drive
    if o.get("file") != n.get("file"):
        return disk and not ide_sata
    return not _differs(o, n, _DISK_COLD)  # throttles, backup, replicate, size: live


def _agent(conf: dict[str, str], new: str) -> bool:
    # qemu-server QemuServer.pm vmconfig_update_agent: only fstrim_cloned_disks is live
    old = conf.get("agent")
    if not old:
        return False
    o, n = propstr.parse("qemu", "agent", old), propstr.parse("qemu", "agent", new)
    o.pop("fstrim_cloned_disks", None)
    n.pop("fstrim_cloned_disks", None)
    return o == n


def _memory(conf: dict[str, str]) -> bool:
    # qemu-server QemuServer.pm vmconfig_hotplug_pending: memory needs the memory hotplug
    # feature; QemuServer/Memory.pm config refused to start such a VM without NUMA
    return "memory" in hotplug_features(conf) and conf.get("numa") == "1"


def _fast_plug(key: str) -> bool:
    return key in QEMU_FAST_PLUG or bool(_IPCONFIG.match(key))


def live_set(g: Guest, key: str, new: str) -> bool:
    """Whether setting ``key`` to ``new`` on the running guest ``g`` applies now."""
    if g.kind == "lxc":
        return _lxc_set(g.config, key)
    conf = g.config
    feats = hotplug_features(conf)
    # qemu-server PVE/QemuServer.pm vmconfig_hotplug_pending, add/change loop
    if _fast_plug(key) or key in ("cpuunits", "cpulimit"):
        return True
    if key == "hotplug":
        return not any(f in v for v in (new, conf.get("hotplug", "")) for f in ("memory", "cpu"))
    if key == "tablet":
        return "usb" in feats
    if _USB.match(key):
        return _usb_hotplug(conf)
    if key == "vcpus":
        return "cpu" in feats
    if key == "balloon":
        return _balloon_enabled(conf.get("balloon")) == _balloon_enabled(new)
    if _NET.match(key):
        return _net(conf, key, new, "network" in feats)
    if is_disk_key("qemu", key):
        return _disk(conf, key, new, "disk" in feats)
    if key == "memory":
        return _memory(conf)
    if key == "agent":
        return _agent(conf, new)
    return False  # cores, sockets, cpu, numa, bios, machine, vga, hostpciN, ...


def live_delete(g: Guest, key: str) -> bool:
    """Whether deleting ``key`` from the running guest ``g`` applies now."""
    conf = g.config
    if g.kind == "lxc":
        # pve-container src/PVE/LXC/Config.pm vmconfig_hotplug_pending, delete loop
        return (
            key in LXC_FAST_PLUG
            or key.startswith("unused")
            or key in ("swap", "cpulimit", "cpuunits")
            or bool(_NET.match(key))
        )
    feats = hotplug_features(conf)
    # qemu-server PVE/QemuServer.pm vmconfig_hotplug_pending, pending-delete loop
    if _fast_plug(key) or key in ("cpuunits", "cpulimit"):
        return True
    if key == "hotplug":
        return not re.search(r"cpu|memory", conf.get("hotplug", ""))
    if key == "tablet":
        return "usb" in feats
    if _USB.match(key):
        return _usb_hotplug(conf)
    if key == "vcpus":
        return "cpu" in feats
    if key == "balloon":
        return conf.get("balloon") != "0"
    if _NET.match(key):
        return "network" in feats
    if is_disk_key("qemu", key):
        return "disk" in feats and not re.match(r"(efidisk|ide|sata|tpmstate)\d+", key)
    if key == "memory":
        return _memory(conf)
    return False


def _lxc_set(conf: dict[str, str], key: str) -> bool:
    # pve-container src/PVE/LXC/Config.pm vmconfig_hotplug_pending, add/change loop:
    # fast-plug options, cgroup limits, NICs, and new mount points or devices (an
    # existing one is never replaced live); nameserver, features, ... wait for a restart
    if key in LXC_FAST_PLUG or key in ("cpulimit", "cpuunits", "memory", "swap"):
        return True
    if _NET.match(key):
        return True
    if re.match(r"^(mp|dev)\d+$", key):
        return key not in conf
    return False
