"""Creating, cloning, converting and destroying guests, with PVE's checks and messages.

Checks PVE makes before forking its worker fail the call; the rest (allocating disks,
copying them) happens in the task and fails the task, after which what the request
already did (the locked placeholder config) is rolled back.
"""

from __future__ import annotations

import re

from mycopod.pvesim import capacity, guests, ha, operations, propstr, schema
from mycopod.pvesim.core import Request, Sim
from mycopod.pvesim.errors import ApiError, TaskError, fail
from mycopod.pvesim.schema import format_size
from mycopod.pvesim.state import (
    DISK_KEYS,
    Guest,
    guest_label,
    is_disk_key,
)
from mycopod.pvesim.tasks import Job, Task

#: what ``kvm -version`` reports; the same QEMU ``views`` shows as ``running-qemu``
QEMU_VERSION = "9.2.0"
#: qemu-server PVE/QemuServer/Drive.pm valid_drive_names_for_boot: the order PVE looks
#: for the first disk and the first CD-ROM
_BOOT_DRIVES = tuple(
    k for prefix in ("ide", "scsi", "virtio", "sata") for k in DISK_KEYS if re.fullmatch(
        prefix + r"\d+", k
    )
)

# -- create, clone, destroy ------------------------------------------------------------


def _check_vmid_free(sim: Sim, kind: str, vmid: int) -> None:
    other = sim.cluster.guests.get(vmid)
    if other is not None:
        raise fail(
            f"unable to create {guest_label(kind, vmid)} - {other.label} already exists on node "
            f"'{other.node}'"
        )


def _check_pool(sim: Sim, pool: str | None) -> None:
    # pve-access-control PVE/RPCEnvironment.pm check_pool_exist: raise_perm_exc (403)
    if pool and pool not in sim.cluster.pools:
        raise ApiError(403, f"Permission check failed (pool '{pool}' does not exist)")


def create(sim: Sim, kind: str, req: Request) -> str:
    p = req.params
    node, vmid = p["node"], p["vmid"]
    cl = sim.cluster
    _check_vmid_free(sim, kind, vmid)
    _check_pool(sim, p.get("pool"))
    skip = guests.QEMU_CREATE_ONLY if kind == "qemu" else guests.LXC_CREATE_ONLY
    changes = guests.config_changes(req, skip)
    if kind == "lxc":
        template = p["ostemplate"]
        if cl.find_volume(template, node) is None:
            raise fail(f"volume '{template}' does not exist")
        storage = p.get("storage", "local")
        changes.setdefault("rootfs", f"{storage}:4")
        changes.setdefault("arch", "amd64")
        distro = template.rsplit("/", 1)[-1].split("-", 1)[0]
        known = distro in ("debian", "ubuntu", "alpine", "centos", "fedora", "archlinux")
        changes.setdefault("ostype", distro if known else "unmanaged")
    guests.check_new_disks(sim, kind, changes, node)
    g = Guest(vmid=vmid, kind=kind, node=node, config={"lock": "create"}, pool=p.get("pool"))
    if kind == "qemu":
        g.config["smbios1"] = f"uuid={cl.new_uuid()}"
        g.config["vmgenid"] = cl.new_uuid()
    cl.guests[vmid] = g
    cl.touch(g)
    start = bool(p.get("start"))

    def apply(task: Task) -> None:
        try:
            if kind == "qemu":
                # qemu-server API2/Qemu.pm create_vm: MetaInfo.pm new_meta_info_string
                g.config["meta"] = f"creation-qemu={QEMU_VERSION},ctime={int(cl.clock())}"
            for key, value in changes.items():
                value = guests.normalize(sim, g, key, value)
                if guests.needs_alloc(g, key, value):
                    value = guests.allocate(sim, g, key, value)
                    task.log.append(
                        f"  {key}: successfully created disk '{value.split(',')[0]}'"
                    )
                g.config[key] = value
        except TaskError as exc:
            # qemu-server PVE/API2/Qemu.pm create_vm, pve-container PVE/API2/LXC.pm
            # create_vm: die "$emsg $err" with $emsg "unable to create VM N -"
            raise TaskError(f"unable to create {g.label} - {exc}") from None
        if kind == "qemu" and not g.config.get("boot"):
            boot = default_boot_order(g.config)
            if boot:
                g.config["boot"] = boot
        g.config.pop("lock", None)
        cl.touch(g)
        if start:
            operations.start_now(sim, g, task)

    def rollback(task: Task) -> None:
        remove_guest(sim, g)

    wtype = "qmcreate" if kind == "qemu" else "vzcreate"
    return guests.start_task(sim, req, g, wtype, apply, rollback)


def default_boot_order(conf: dict[str, str]) -> str:
    """qemu-server QemuServer.pm get_default_bootdevices + print_bootorder: the first disk,
    the first CD-ROM, the first NIC (empty when there is none, which PVE cannot read back
    as a value, so the key is left out)."""
    devs = []
    for cdrom in (False, True):
        first = next(
            (k for k in _BOOT_DRIVES if k in conf and ("media=cdrom" in conf[k]) == cdrom), None
        )
        if first:
            devs.append(first)
    nic = next((f"net{i}" for i in range(32) if conf.get(f"net{i}")), None)
    if nic:
        devs.append(nic)
    return f"order={';'.join(devs)}" if devs else ""


def remove_guest(sim: Sim, g: Guest) -> None:
    cl = sim.cluster
    for (scope, volid), vol in list(cl.volumes.items()):
        if vol.vmid == g.vmid and (scope == "" or scope == g.node):
            del cl.volumes[(scope, volid)]
    if cl.guests.get(g.vmid) is g:
        del cl.guests[g.vmid]
    cl.touch(g)


def destroy(sim: Sim, kind: str, req: Request) -> str:
    p = req.params
    g = guests.get_guest(sim, kind, p["node"], p["vmid"])

    def early_checks() -> None:
        # qemu-server PVE/API2/Qemu.pm destroy_vm / pve-container PVE/API2/LXC.pm
        # destroy_vm $early_checks: before the fork and again in the worker
        if g.config.get("protection") == "1":
            raise fail(f"can't remove {g.label} - protection mode enabled")
        if kind == "lxc":
            guests.check_lock(g, {})
        if ha.is_managed(sim.cluster, g) and not p.get("purge"):
            raise fail(
                f"unable to remove {g.label} - used in HA resources and purge parameter not set."
            )
        if g.status == "running":
            if kind == "qemu":
                raise fail(f"VM {g.vmid} is running - destroy failed")
            if not p.get("force"):
                raise fail(f"unable to destroy CT {g.vmid} - container is running")

    early_checks()

    def apply(task: Task) -> None:
        try:
            early_checks()
        except ApiError as exc:
            raise TaskError(exc.message) from None
        # qemu-server PVE/QemuServer.pm destroy_vm: check_lock in the worker
        guests.task_check_lock(g, p)
        base = _base_in_use(sim, g)
        if base and kind == "qemu":
            # qemu-server QemuServer.pm destroy_vm (sic: "cloned")
            raise TaskError(f"base volume '{base}' is still in use by linked cloned")
        if base:
            # pve-storage Storage.pm vdisk_free, via pve-container destroy_lxc_container
            volname = base.split(":", 1)[1]
            raise TaskError(f"base volume '{volname}' is still in use by linked clones")
        task.log.append(f"destroying {g.label}")
        if p.get("purge"):
            sim.cluster.ha.pop(ha.sid_of(g), None)
        remove_guest(sim, g)

    wtype = "qmdestroy" if kind == "qemu" else "vzdestroy"
    return guests.start_task(sim, req, g, wtype, apply)


def _base_in_use(sim: Sim, g: Guest) -> str | None:
    """A template's base volume some linked clone still sits on (pve-storage
    Storage.pm volume_is_base_and_used: a clone's volid is ``STORE:BASE/CLONE``)."""
    if g.config.get("template") != "1":
        return None
    for key, value in g.config.items():
        if not (is_disk_key(g.kind, key) or key.startswith("unused")) or "media=cdrom" in value:
            continue
        file = guests.disk_file(g.kind, key, value) if is_disk_key(g.kind, key) else value
        if file and any(volid.startswith(f"{file}/") for _, volid in sim.cluster.volumes):
            return file
    return None


def _check_clone_target(
    sim: Sim, src: Guest, target: str, storage: str | None
) -> None:
    """Whether ``src`` may be cloned to another node: qemu-server API2/Qemu.pm clone_vm
    ($check_storage_access_clone: every volume, CD-ROMs and the cloud-init drive too,
    whatever ``storage`` says) and pve-container API2/LXC.pm clone_vm (rootfs and mount
    point volumes, where ``storage`` replaces the source storage)."""
    cl = sim.cluster
    shared = True
    for key, value in src.config.items():
        if not is_disk_key(src.kind, key):
            continue
        file = guests.disk_file(src.kind, key, value)
        if not file or file in ("none", "cdrom") or ":" not in file:
            continue  # no medium, a physical drive, a bind mount
        sid = file.split(":", 1)[0]
        if src.kind == "lxc" and storage:
            sid = storage
        if sid in cl.storages and not cl.storages[sid].shared:
            shared = False
    if not shared:
        what = "VM" if src.kind == "qemu" else "CT"
        raise fail(f"can't clone {what} to node '{target}' ({what} uses local storage)")


def clone(sim: Sim, kind: str, req: Request) -> str:
    p = req.params
    cl = sim.cluster
    src = guests.get_guest(sim, kind, p["node"], p["vmid"])
    newid = p["newid"]
    target = p.get("target", src.node)
    if target not in cl.nodes:
        raise fail(f"no such cluster node '{target}'")
    guests.check_lock(src, {})
    is_template = src.config.get("template") == "1"
    _check_pool(sim, p.get("pool"))
    _check_vmid_free(sim, kind, newid)
    full = bool(p.get("full", 0 if is_template else 1))
    if src.status == "running" and full and kind == "lxc":
        # pve-container PVE/API2/LXC.pm clone_vm
        raise fail("Full clone of a running container is only possible from a snapshot")
    if not full and not is_template:
        raise fail("Linked clone feature is not supported for this VM (not a template)")
    storage = p.get("storage")
    if storage:
        guests.check_storage(sim, kind, storage, target)
        if target != src.node and not cl.storages[storage].shared:
            raise fail(f"can't clone to non-shared storage '{storage}'")
        if not full:  # qemu-server and pve-container clone_vm: a die, so a 500
            raise fail("parameter 'storage' not allowed for linked clones")
    if target != src.node:
        _check_clone_target(sim, src, target, storage)
    name_key = "name" if kind == "qemu" else "hostname"
    placeholder = "clone" if kind == "qemu" else "create"
    new = Guest(
        vmid=newid, kind=kind, node=target, config={"lock": placeholder}, pool=p.get("pool")
    )
    cl.guests[newid] = new
    if kind == "lxc":
        # pve-container PVE/API2/LXC.pm clone_vm: set_lock($vmid, 'disk') on the source,
        # removed only when the worker ends, whatever its outcome
        src.config["lock"] = "disk"
        cl.touch(src)
    cl.touch(new)

    def unlock_source() -> None:
        if kind == "lxc" and src.config.get("lock") == "disk":
            del src.config["lock"]
            cl.touch(src)

    def apply(task: Task) -> None:
        conf: dict[str, str] = {}
        for key, value in src.config.items():
            if key in ("lock", "template", "smbios1", "vmgenid") or key.startswith("unused"):
                continue
            if key.startswith("net") and key[3:].isdigit():
                data = propstr.parse(kind, key, value)
                data["macaddr" if kind == "qemu" else "hwaddr"] = cl.new_mac()
                value = propstr.render(kind, key, data)
            elif is_disk_key(kind, key) and "media=cdrom" not in value:
                try:
                    # qemu-server API2/Qemu.pm clone_vm: TPM state is always copied in full
                    value = _clone_disk(
                        sim, src, new, key, value, full=full or key == "tpmstate0",
                        storage=storage, fmt_hint=p.get("format"), task=task,
                    )
                except TaskError as exc:
                    # qemu-server / pve-container clone_vm: die "clone failed: $err"
                    raise TaskError(f"clone failed: {exc}") from None
            elif is_disk_key(kind, key) and "cloudinit" in value:
                value = guests.allocate(
                    sim, new, key, value.split(",")[0].split(":")[0] + ":cloudinit"
                )
            conf[key] = value
        if kind == "qemu":
            conf["smbios1"] = f"uuid={cl.new_uuid()}"
            conf["vmgenid"] = cl.new_uuid()
        conf[name_key] = p.get(name_key) or p.get("name") or f"Copy-of-VM-{src.name}"
        if "description" in p:
            conf["description"] = p["description"]
        new.config = conf
        unlock_source()
        cl.touch(new)

    def rollback(task: Task) -> None:
        unlock_source()
        remove_guest(sim, new)

    wtype = "qmclone" if kind == "qemu" else "vzclone"
    return sim.tasks.start(
        node=src.node,
        wtype=wtype,
        wid=src.vmid,
        user=req.user,
        job=Job(apply, rollback, vmid=newid, kind=kind, guest=new),
    )


def _clone_disk(
    sim: Sim,
    src: Guest,
    new: Guest,
    key: str,
    value: str,
    *,
    full: bool,
    storage: str | None,
    fmt_hint: str | None,
    task: Task,
) -> str:
    cl = sim.cluster
    data = propstr.parse(src.kind, key, value)
    vk = guests.volume_key(src.kind)
    file = data.get(vk, "")
    vol = cl.find_volume(file, src.node)
    size = vol.size if vol else 0
    if not size and "size" in data:
        size = schema.parse_size(data["size"])
    sid = storage or file.split(":", 1)[0]
    if full:
        # qemu-server QemuServer.pm clone_disk/resolve_dst_disk_format: the source's format
        # (or ``format``) where the target storage holds it; copying writes what the
        # source had written
        fmt = fmt_hint or (vol.format if vol else None)
        if src.kind == "lxc" or fmt not in ("raw", "qcow2", "vmdk"):
            fmt = None  # containers: raw on file storages (pve-container LXC.pm alloc_disk)
        try:
            newvol = capacity.allocate(
                cl, sid, new.node, new.vmid, size, kind=src.kind, fmt=fmt,
                used=vol.used if vol else 0,
            )
        except capacity.StorageFull as exc:
            raise TaskError(str(exc)) from None
        task.log.append(f"create full clone of drive {key} ({file})")
        data[vk] = newvol.volid
    else:
        base = file.split(":", 1)[1]
        newvol = cl.add_volume(sid, new.node, new.vmid, size, kind=src.kind)
        cl.move_volume(newvol, volid=f"{sid}:{base}/{newvol.volid.split(':', 1)[1]}")
        task.log.append(f"create linked clone of drive {key} ({file})")
        data[vk] = newvol.volid
    data["size"] = format_size(size)
    return propstr.render(src.kind, key, data)


def template(sim: Sim, kind: str, req: Request) -> str | None:
    p = req.params
    g = guests.get_guest(sim, kind, p["node"], p["vmid"])
    guests.check_lock(g, p)
    if g.config.get("template") == "1":
        raise fail("you can't convert a template to a template")
    if g.status == "running":
        what = "VM" if kind == "qemu" else "CT"
        raise fail(f"you can't convert a {what} to template if {what} is running")

    def apply(task: Task | None) -> None:
        cl = sim.cluster
        for key, value in list(g.config.items()):
            if not is_disk_key(kind, key) or "media=cdrom" in value:
                continue
            data = propstr.parse(kind, key, value)
            vk = guests.volume_key(kind)
            vol = cl.find_volume(data.get(vk, ""), g.node)
            if (
                vol is not None
                and f"vm-{g.vmid}-" in vol.volid
                and not cl.storages[vol.storage].path_style
            ):
                cl.move_volume(vol, volid=vol.volid.replace(f"vm-{g.vmid}-", f"base-{g.vmid}-"))
                data[vk] = vol.volid
                g.config[key] = propstr.render(kind, key, data)
        g.config["template"] = "1"
        cl.touch(g)

    if kind == "lxc":
        apply(None)
        return None
    return guests.start_task(sim, req, g, "qmtemplate", apply)
