"""Power (start, stop, shutdown, reboot), disk resize and migration of guests.

Starting applies pending changes (PVE never refuses a start for lack of host memory: the
kernel overcommits, and it is QEMU or the OOM killer that fails later); resize only grows
and only thick LVM can run out of extents; migration moves the guest's own local volumes
with it and refuses a local CD-ROM image.
"""

from __future__ import annotations

import re

from mycopod.pvesim import capacity, guests, propstr, schema
from mycopod.pvesim.core import Request, Sim
from mycopod.pvesim.errors import TaskError, fail, param_error
from mycopod.pvesim.schema import format_size
from mycopod.pvesim.state import (
    Guest,
    KiB,
    Volume,
    is_disk_key,
)
from mycopod.pvesim.tasks import Task

# -- power --------------------------------------------------------------------------------


def start_now(sim: Sim, g: Guest, task: Task) -> None:
    if g.config.get("template") == "1":
        if g.kind == "qemu":
            raise TaskError("you can't start a vm if it's a template")
        raise TaskError("you can't start a CT if it's a template")
    if g.status == "running":
        raise TaskError(f"{g.label} already running")
    guests.apply_pending(sim, g)
    g.status = "running"
    g.started_at = sim.cluster.clock()
    sim.cluster.touch(g)


def power(sim: Sim, kind: str, action: str, req: Request) -> str:
    p = req.params
    g = guests.get_guest(sim, kind, p["node"], p["vmid"])
    if action != "stop" or not p.get("skiplock"):
        guests.check_lock(g, p)

    def apply(task: Task) -> None:
        if action == "start":
            start_now(sim, g, task)
        elif action == "stop":
            g.status = "stopped"
            g.started_at = None
        elif action in ("shutdown", "reboot"):
            if g.status != "running":
                raise TaskError(f"{g.label} not running")
            if action == "shutdown":
                g.status = "stopped"
                g.started_at = None
            else:
                guests.apply_pending(sim, g)
                g.started_at = sim.cluster.clock()
        sim.cluster.touch(g)

    prefix = "qm" if kind == "qemu" else "vz"
    return guests.start_task(sim, req, g, f"{prefix}{action}", apply)


# -- resize and migrate ----------------------------------------------------------------


def resize(sim: Sim, kind: str, req: Request) -> str:
    p = req.params
    g = guests.get_guest(sim, kind, p["node"], p["vmid"])
    guests.check_digest(g, p)
    guests.check_lock(g, p)
    disk, size_text = p["disk"], p["size"]

    def apply(task: Task) -> None:
        value = g.config.get(disk)
        if value is None:
            raise TaskError(f"disk '{disk}' does not exist")
        if "media=cdrom" in value:
            raise TaskError(f"can't resize drive '{disk}' (cdrom)")
        data = propstr.parse(kind, disk, value)
        vk = guests.volume_key(kind)
        vol = sim.cluster.find_volume(data.get(vk, ""), g.node)
        cur = vol.size if vol else schema.parse_size(data.get("size", "0"))
        delta = size_text.startswith("+")
        amount = schema.parse_size(size_text.lstrip("+"))
        newsize = cur + amount if delta else amount
        if newsize < cur:
            raise TaskError(
                "shrinking disks is not supported"
                if kind == "qemu"
                else "unable to shrink disk size"
            )
        if vol is not None and newsize > cur:
            sdef = sim.cluster.storages[vol.storage]
            if sdef.thick:
                _check_extend(sim, vol, newsize)
                vol.used = newsize
            vol.size = newsize
        data["size"] = format_size(newsize)
        g.config[disk] = propstr.render(kind, disk, data)
        task.log.append(f"resize {disk} to {format_size(newsize)}")
        sim.cluster.touch(g)

    return guests.start_task(sim, req, g, "resize", apply)


def _check_extend(sim: Sim, vol: Volume, newsize: int) -> None:
    """Thin volumes grow without a check; thick LVM must find the extents (pve-storage
    LVMPlugin.pm volume_resize: ``lvextend`` under run_command's errmsg)."""
    if newsize - vol.size <= capacity.free_bytes(sim.cluster, vol.storage, vol.node or ""):
        return
    if sim.cluster.storages[vol.storage].type != "lvm":
        raise TaskError(
            f"zfs error: cannot set property for 'rpool/data/{vol.volid.split(':', 1)[1]}': "
            "size is greater than available space"
        )
    path = f"/dev/pve-thick/{vol.volid.split(':', 1)[1]}"
    raise TaskError(
        f"error resizing volume '{path}': command '/sbin/lvextend -L {newsize // KiB}k {path}' "
        "failed: exit code 5"
    )


def _local_cdrom_images(sim: Sim, g: Guest) -> list[str]:
    """The VM's CD-ROM images on local storage (ISOs; the cloud-init drive is regenerated
    on the target and does not count)."""
    found = []
    for key, value in g.config.items():
        if not is_disk_key("qemu", key):
            continue
        data = propstr.parse("qemu", key, value)
        file = data.get("file", "")
        if data.get("media") != "cdrom" or file in ("", "none", "cdrom") or ":" not in file:
            continue
        sdef = sim.cluster.storages.get(file.split(":", 1)[0])
        if sdef is not None and not sdef.shared and not re.search(r"vm-\d+-cloudinit", file):
            found.append(file)
    return sorted(found)


def migrate(sim: Sim, kind: str, req: Request) -> str:
    p = req.params
    cl = sim.cluster
    g = guests.get_guest(sim, kind, p["node"], p["vmid"])
    target = p["target"]
    if target == g.node:
        raise param_error({"target": "target is local node."})
    if target not in cl.nodes:
        raise fail(f"no such cluster node '{target}'")
    guests.check_lock(g, p)
    online = bool(p.get("online"))
    if g.status == "running":
        if kind == "qemu" and not online:
            raise fail("can't migrate running VM without --online")
        if kind == "lxc" and online:
            raise fail("lxc live migration is currently not implemented")
        if kind == "lxc" and not p.get("restart"):
            raise fail("can't migrate running container without --online or --restart")
    local = [
        v
        for v in (
            cl.find_volume(guests.disk_file(kind, k, val), g.node)
            for k, val in g.config.items()
            if is_disk_key(kind, k) or k.startswith("unused")
        )
        if v is not None and v.node and v.vmid == g.vmid
    ]
    if kind == "qemu" and g.status == "running" and local and not p.get("with-local-disks"):
        raise fail("can't live migrate attached local disks without with-local-disks option")
    g.config["lock"] = "migrate"
    cl.touch(g)

    def apply(task: Task) -> None:
        isos = _local_cdrom_images(sim, g) if kind == "qemu" else []
        if isos:
            # qemu-server QemuMigrate.pm scan_local_volumes ("local cdrom image", then
            # "can't migrate VM - check log"); pve-guest-common AbstractMigrate.pm migrate
            # turns the phase 1 error into "migration aborted"
            task.log.extend(
                f"WARN: can't migrate local disk '{iso}': local cdrom image" for iso in isos
            )
            task.log.append("ERROR: migration aborted (duration 00:00:00): "
                            "can't migrate VM - check log")
            raise TaskError("migration aborted")
        for vol in local:
            sdef = cl.storages[vol.storage]
            if sdef.thick and vol.size > capacity.free_bytes(cl, vol.storage, target):
                raise TaskError(
                    f"migration aborted: storage '{vol.storage}' on node '{target}' "
                    f"has not enough free space"
                )
        for vol in local:
            cl.move_volume(vol, node=target)
        task.log.append(f"migration of {g.label} to node '{target}' finished successfully")
        g.node = target
        g.config.pop("lock", None)
        if kind == "lxc" and g.status == "running":
            g.started_at = cl.clock()
        cl.touch(g)

    def rollback(task: Task) -> None:
        if g.config.get("lock") == "migrate":
            g.config.pop("lock")
        cl.touch(g)

    wtype = "qmigrate" if kind == "qemu" else "vzmigrate"
    return guests.start_task(sim, req, g, wtype, apply, rollback)
