"""Power (start, stop, shutdown, reboot), disk resize and migration of guests.

Starting applies pending changes (PVE never refuses a start for lack of host memory: the
kernel overcommits, and it is QEMU or the OOM killer that fails later); resize only grows
and only thick LVM can run out of extents; migration moves the guest's own local volumes
with it and refuses a local CD-ROM image.
"""

from __future__ import annotations

import re
from typing import Any

import structlog

from mycopod.pvesim import capacity, guests, ha, propstr, schema
from mycopod.pvesim.core import Request, Sim
from mycopod.pvesim.errors import ApiError, TaskError, fail, param_error
from mycopod.pvesim.schema import format_size
from mycopod.pvesim.state import (
    Guest,
    KiB,
    Volume,
    is_disk_key,
)
from mycopod.pvesim.tasks import Task

log = structlog.get_logger(__name__)

# -- power --------------------------------------------------------------------------------


def start_now(sim: Sim, g: Guest, task: Task, *, params: dict[str, Any] | None = None) -> None:
    """Start ``g`` in a worker. With ``params`` (the request's), its lock is checked
    first, after the template check (qemu-server PVE/QemuServer.pm vm_start,
    pve-container PVE/API2/LXC/Status.pm vm_start)."""
    if g.config.get("template") == "1":
        if g.kind == "qemu":
            raise TaskError("you can't start a vm if it's a template")
        raise TaskError("you can't start a CT if it's a template")
    if params is not None and not (g.kind == "lxc" and g.config.get("lock") == "mounted"):
        guests.task_check_lock(g, params)
    if g.status == "running":
        raise TaskError(f"{g.label} already running")
    guests.apply_pending(sim, g)
    g.status = "running"
    g.started_at = sim.cluster.clock()
    sim.cluster.touch(g)


def power(sim: Sim, kind: str, action: str, req: Request) -> str:
    p = req.params
    g = guests.get_guest(sim, kind, p["node"], p["vmid"])
    running = g.status == "running"
    if kind == "lxc":
        # pve-container PVE/API2/LXC/Status.pm: checked before the worker forks
        if action == "start" and running:
            raise fail(f"CT {g.vmid} already running")
        if action in ("stop", "shutdown") and not running:
            raise fail(f"CT {g.vmid} not running")
        if action == "reboot" and not running:
            raise fail(f"VM {g.vmid} not running")  # sic: pve-container's vm_reboot
    elif action == "reboot" and not running:
        raise fail(f"VM {g.vmid} not running")  # qemu-server PVE/API2/Qemu.pm vm_reboot
    if action in ("start", "stop", "shutdown") and not req.via_ha and ha.is_managed(sim.cluster, g):
        # qemu-server vm_start/vm_stop/vm_shutdown, pve-container vm_start/vm_stop/
        # vm_shutdown: an HA-managed guest is only asked of the HA manager
        return ha.request(
            sim, req, g, "started" if action == "start" else "stopped", crm=ha_crm
        )
    return power_task(sim, req, g, action)


def ha_crm(sim: Sim, sid: str, target: str | None) -> None:
    """What the HA manager's CRM and LRM do about one service once their round comes:
    bring the guest to the requested state, or migrate it (as root@pam workers)."""
    cl = sim.cluster
    conf = cl.ha.get(sid)
    g = cl.guests.get(int(sid.split(":", 1)[1]))
    if conf is None or g is None or ha.sid_of(g) != sid:
        return
    params: dict[str, Any] = {"node": g.node, "vmid": g.vmid}
    req = Request(user=ha.HA_USER, params=params, raw={}, via_ha=True)
    try:
        if target and target != g.node:
            params["target"] = target
            if g.kind == "qemu":
                params.update({"online": int(g.status == "running"), "with-local-disks": 1})
            else:
                params["restart"] = int(g.status == "running")
            migrate(sim, g.kind, req)
        elif conf.get("state", "started") == "started" and g.status != "running":
            power_task(sim, req, g, "start")
        elif conf.get("state") == "stopped" and g.status == "running":
            power_task(sim, req, g, "stop")
    except ApiError as exc:  # the CRM logs it and tries again on a later round
        log.warning("pvesim.ha.failed", sid=sid, error=exc.message)


def power_task(sim: Sim, req: Request, g: Guest, action: str) -> str:
    """The ``qm``/``vz`` power worker; its lock and state checks run in the worker,
    under the config lock, as in PVE."""
    p = req.params

    def apply(task: Task) -> None:
        if action == "start":
            start_now(sim, g, task, params=p)
        elif action in ("stop", "shutdown"):
            # qemu-server PVE/QemuServer.pm _do_vm_stop: a stopped VM is done at once,
            # before its lock is checked
            if g.status != "running":
                return
            if not (g.kind == "lxc" and g.config.get("lock") == "mounted"):
                guests.task_check_lock(g, p if action == "stop" else {})
            g.status = "stopped"
            g.started_at = None
        elif action == "reboot":
            if g.status != "running":
                return  # qemu-server vm_reboot: only reboot if still running
            guests.task_check_lock(g, {})
            guests.apply_pending(sim, g)
            g.started_at = sim.cluster.clock()
        sim.cluster.touch(g)

    prefix = "qm" if g.kind == "qemu" else "vz"
    return guests.start_task(sim, req, g, f"{prefix}{action}", apply)


# -- resize and migrate ----------------------------------------------------------------


def resize(sim: Sim, kind: str, req: Request) -> str:
    p = req.params
    g = guests.get_guest(sim, kind, p["node"], p["vmid"])
    disk, size_text = p["disk"], p["size"]
    if kind == "lxc":
        # pve-container PVE/API2/LXC.pm resize_vm: $load_and_check runs before the fork
        # too (check_lock, then assert_if_modified)
        guests.check_lock(g, p)
        guests.check_digest(g, p)

    def apply(task: Task) -> None:
        # qemu-server PVE/API2/Qemu.pm resize_vm: $updatefn runs in the worker under
        # lock_config: digest, check_lock, then the disk
        message = guests.digest_error(g, p)
        if message:
            raise TaskError(message)
        guests.task_check_lock(g, p)
        value = g.config.get(disk)
        if value is None:
            raise TaskError(f"disk '{disk}' does not exist")
        if "media=cdrom" in value:
            raise TaskError("you can't resize a cdrom")
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
    if not req.via_ha and ha.is_managed(cl, g):
        # qemu-server PVE/API2/Qemu.pm migrate_vm (pve-container migrate_vm): hamigrate
        return ha.request(sim, req, g, "", crm=ha_crm, target=target)
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
