"""Power (start, stop, shutdown, reboot), disk resize and migration of guests.

Starting applies pending changes and needs free memory on the node; resize only grows
and needs free space; migration moves the guest's own local volumes with it.
"""

from __future__ import annotations

from mycopod.pvesim import guests, propstr, schema
from mycopod.pvesim.core import Request, Sim
from mycopod.pvesim.errors import TaskError, fail, param_error
from mycopod.pvesim.schema import format_size
from mycopod.pvesim.state import (
    NODE_MEMORY,
    GiB,
    Guest,
    guest_memory,
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
    need = guest_memory(g)
    if sim.cluster.node_mem_used(g.node) + need > NODE_MEMORY:
        if g.kind == "qemu":
            task.log.append("kvm: cannot set up guest memory 'pc.ram': Cannot allocate memory")
            raise TaskError("start failed: QEMU exited with code 1")
        task.log.append("lxc-start: cannot allocate memory")
        raise TaskError(f"startup for container '{g.vmid}' failed")
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
            free = sdef.total - sim.cluster.storage_used(vol.storage, g.node)
            if newsize - cur > free:
                raise TaskError(
                    f"{vol.storage}: unable to resize volume '{vol.volid}' - "
                    f"not enough free space ({free // GiB}G available)"
                )
            vol.size = newsize
        data["size"] = format_size(newsize)
        g.config[disk] = propstr.render(kind, disk, data)
        task.log.append(f"resize {disk} to {format_size(newsize)}")
        sim.cluster.touch(g)

    return guests.start_task(sim, req, g, "resize", apply)


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
    for key, value in g.config.items():
        if is_disk_key(kind, key) and "media=cdrom" in value:
            file = propstr.parse(kind, key, value).get("file", "")
            vol = cl.find_volume(file, g.node)
            if vol and vol.content == "iso" and vol.node and not cl.find_volume(file, target):
                raise fail(f"can't migrate local cdrom drive (referenced in '{key}')")
    if kind == "qemu" and g.status == "running" and local and not p.get("with-local-disks"):
        raise fail("can't live migrate attached local disks without with-local-disks option")
    g.config["lock"] = "migrate"
    cl.touch(g)

    def apply(task: Task) -> None:
        for vol in local:
            sdef = cl.storages[vol.storage]
            free = sdef.total - cl.storage_used(vol.storage, target)
            if vol.size > free:
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
