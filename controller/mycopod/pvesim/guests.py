"""Guest (QEMU VM and LXC container) operations, with PVE's rules and messages.

Each public function is one API call. What PVE checks before forking a worker is
checked here synchronously and fails the HTTP call (mostly 500 with PVE's ``die``
text); what PVE does inside the worker (allocating disks, starting, moving) is a
``Job`` whose failure ends the task with that text as ``exitstatus``. Config values
are normalised as PVE writes them (see ``propstr``) so what a client reads back is
what a real cluster would show.
"""

from __future__ import annotations

import re
from typing import Any

from mycopod.pvesim import propstr, schema
from mycopod.pvesim.core import Request, Sim
from mycopod.pvesim.errors import TaskError, fail, param_error
from mycopod.pvesim.schema import format_size
from mycopod.pvesim.state import (
    NODE_MEMORY,
    Cluster,
    GiB,
    Guest,
    MiB,
    StorageFull,
    Volume,
    boot_disk_size,
    guest_cpus,
    guest_memory,
    is_disk_key,
)
from mycopod.pvesim.tasks import Job, Task

QEMU_CREATE_ONLY = frozenset(
    {
        "archive",
        "bwlimit",
        "ha-managed",
        "import-working-storage",
        "live-restore",
        "pool",
        "start",
        "storage",
        "unique",
        "force",
    }
)
LXC_CREATE_ONLY = frozenset(
    {
        "ostemplate",
        "password",
        "ssh-public-keys",
        "pool",
        "start",
        "storage",
        "unique",
        "restore",
        "ignore-unpack-errors",
        "bwlimit",
        "force",
        "ha-managed",
    }
)
CONTROL = frozenset(
    {"node", "vmid", "digest", "delete", "revert", "skiplock", "force", "background_delay"}
)
#: keys PVE applies to a running VM at once whatever ``hotplug`` says
ALWAYS_HOT = frozenset(
    {
        "name",
        "description",
        "tags",
        "onboot",
        "protection",
        "startup",
        "lock",
        "hookscript",
        "template",
    }
)
#: what PVE changes in a running container at once (the rest waits for a restart)
LXC_HOT = frozenset(
    {"cores", "cpulimit", "cpuunits", "memory", "swap", "hostname", "nameserver", "searchdomain"}
)
_NEW_DISK = re.compile(r"^([a-z][a-z0-9\-_.]*[a-z0-9]):(\d+(?:\.\d+)?)$", re.I)
_CLOUDINIT = re.compile(r"^([a-z][a-z0-9\-_.]*[a-z0-9]):cloudinit$", re.I)


def label(kind: str, vmid: int) -> str:
    return f"{'VM' if kind == 'qemu' else 'CT'} {vmid}"


# -- lookups and checks ----------------------------------------------------------------


def get_guest(sim: Sim, kind: str, node: str, vmid: int) -> Guest:
    g = sim.cluster.guests.get(vmid)
    if g is None or g.kind != kind or g.node != node:
        sub = "qemu-server" if kind == "qemu" else "lxc"
        raise fail(f"Configuration file 'nodes/{node}/{sub}/{vmid}.conf' does not exist")
    return g


def check_lock(g: Guest, params: dict[str, Any]) -> None:
    lock = g.config.get("lock")
    if lock and not params.get("skiplock"):
        raise fail(f"{g.label} is locked ({lock})")


def check_digest(g: Guest, params: dict[str, Any]) -> None:
    digest = params.get("digest")
    if digest and digest != g.digest():
        raise fail("checksum mismatch (file change by other user?)")


def check_storage(sim: Sim, kind: str, storage: str, node: str) -> None:
    sdef = sim.cluster.storages.get(storage)
    if sdef is None:
        raise fail(f"storage '{storage}' does not exist")
    if kind == "lxc" and "rootdir" not in sdef.content:
        raise param_error(
            {"storage": f"storage '{storage}' does not support container directories"}
        )
    if kind == "qemu" and "images" not in sdef.content:
        raise fail(f"storage '{storage}' does not support vm images")


# -- the config as clients see it ------------------------------------------------------


def _typed(kind: str, key: str, value: str) -> Any:
    path = (
        "/nodes/{node}/qemu/{vmid}/config" if kind == "qemu" else "/nodes/{node}/lxc/{vmid}/config"
    )
    method = schema.load().method(path, "GET")
    props = (method.returns.get("properties") or {}) if method else {}
    prop = props.get(key)
    if prop is None:
        m = re.match(r"^([a-z]+)\d+$", key)
        prop = props.get(f"{m.group(1)}[n]") if m else None
    ptype = (prop or {}).get("type")
    try:
        if ptype in ("integer", "boolean"):
            return int(value)
        if ptype == "number":
            num = float(value)
            return int(num) if num.is_integer() else num
    except ValueError:
        return value
    return value


def config_view(g: Guest, *, current: bool = False) -> dict[str, Any]:
    conf = dict(g.config)
    if not current:
        conf.update(g.pending)
        for key in g.pending_delete:
            conf.pop(key, None)
    out = {k: _typed(g.kind, k, v) for k, v in conf.items()}
    out["digest"] = g.digest()
    return out


def pending_view(g: Guest) -> list[dict[str, Any]]:
    rows = []
    for key in sorted(set(g.config) | set(g.pending) | set(g.pending_delete)):
        row: dict[str, Any] = {"key": key}
        if key in g.config:
            row["value"] = _typed(g.kind, key, g.config[key])
        if key in g.pending:
            row["pending"] = _typed(g.kind, key, g.pending[key])
        if key in g.pending_delete:
            row["delete"] = 1
        rows.append(row)
    return rows


def guest_status(sim: Sim, g: Guest) -> dict[str, Any]:
    running = g.status == "running"
    maxmem = guest_memory(g)
    out: dict[str, Any] = {
        "vmid": g.vmid,
        "name": g.name,
        "status": g.status,
        "cpus": guest_cpus(g),
        "maxmem": maxmem,
        "mem": int(maxmem * (0.2 + (g.vmid % 40) / 100)) if running else 0,
        "cpu": round(0.003 + (g.vmid % 17) / 400, 4) if running else 0,
        "maxdisk": boot_disk_size(g),
        "disk": 0,
        "uptime": int(sim.cluster.clock() - g.started_at) if running and g.started_at else 0,
        "netin": g.vmid * 1031 if running else 0,
        "netout": g.vmid * 977 if running else 0,
        "diskread": 0,
        "diskwrite": 0,
    }
    if g.config.get("template") == "1":
        out["template"] = 1
    if "tags" in g.config:
        out["tags"] = g.config["tags"]
    if "lock" in g.config:
        out["lock"] = g.config["lock"]
    if g.kind == "qemu":
        out["qmpstatus"] = g.status
        if running:
            out["pid"] = 10_000 + g.vmid
            out["running-machine"] = "pc-i440fx-9.2+pve1"
            out["running-qemu"] = "9.2.0"
    else:
        out["type"] = "lxc"
        out["maxswap"] = int(g.config.get("swap", "512")) * MiB
    return out


# -- turning request parameters into config values -------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _normalize(sim: Sim, g: Guest, key: str, value: str) -> str:
    """One config value as PVE stores it, with disks still unallocated."""
    if key == "tags":
        return propstr.normalize_tags(value)
    if key == "sshkeys":
        return propstr.normalize_sshkeys(value)
    if g.kind == "qemu" and key == "memory":
        return propstr.parse("qemu", key, value).get("current", value)
    if key.startswith("net") and key[3:].isdigit():
        data = propstr.parse(g.kind, key, value)
        if g.kind == "qemu":
            data.setdefault("macaddr", sim.cluster.new_mac())
        else:
            data.setdefault("hwaddr", sim.cluster.new_mac())
            data.setdefault("type", "veth")
        return propstr.render(g.kind, key, data)
    if is_disk_key(g.kind, key):
        return propstr.render(g.kind, key, propstr.parse(g.kind, key, value))
    return value


def _volume_key(kind: str, key: str) -> str:
    return "file" if kind == "qemu" else "volume"


def _allocate(sim: Sim, g: Guest, key: str, value: str, *, check: bool = True) -> str:
    """Allocate the volume a ``STORAGE:SIZE`` disk value asks for; return the new value."""
    data = propstr.parse(g.kind, key, value)
    vk = _volume_key(g.kind, key)
    file = data.get(vk, "")
    new = _NEW_DISK.match(file)
    cl = sim.cluster
    if new:
        storage, size_gib = new.group(1), float(new.group(2))
        check_storage(sim, g.kind, storage, g.node)
        try:
            vol = cl.add_volume(
                storage, g.node, g.vmid, int(size_gib * GiB), kind=g.kind, check=check
            )
        except StorageFull as exc:
            raise TaskError(str(exc)) from None
        data[vk] = vol.volid
        data["size"] = format_size(vol.size)
        return propstr.render(g.kind, key, data)
    ci = _CLOUDINIT.match(file)
    if ci and g.kind == "qemu":
        storage = ci.group(1)
        volid = f"{storage}:vm-{g.vmid}-cloudinit"
        scope = cl.storage_scope(storage, g.node) if storage in cl.storages else g.node
        cl.volumes[(scope, volid)] = Volume(
            volid, storage, scope, 4 * MiB, "images", g.vmid, "raw", int(cl.clock())
        )
        data[vk] = volid
        data["media"] = "cdrom"
        return propstr.render(g.kind, key, data)
    if file and file != "none" and ":" in file:
        found = cl.find_volume(file, g.node)
        if found is None:
            raise TaskError(f"volume '{file}' does not exist")
        data.setdefault("size", format_size(found.size))
        return propstr.render(g.kind, key, data)
    return value


def _needs_alloc(g: Guest, key: str, value: str) -> bool:
    if not is_disk_key(g.kind, key):
        return False
    file = propstr.parse(g.kind, key, value).get(_volume_key(g.kind, key), "")
    return bool(file and file != "none" and ":" in file)


def _hotpluggable(g: Guest, key: str, value: str | None = None) -> bool:
    if key in ALWAYS_HOT:
        return True
    if g.kind == "lxc":
        return key in LXC_HOT or bool(re.match(r"^net\d+$", key))
    if key == "hotplug":  # PVE applies it at once unless memory hotplug is involved
        return "memory" not in g.config.get("hotplug", "") and "memory" not in (value or "")
    hot = g.config.get("hotplug", "network,disk,usb")
    feats = (
        set(hot.split(","))
        if hot not in ("1", "0")
        else ({"network", "disk", "usb"} if hot == "1" else set())
    )
    if re.match(r"^net\d+$", key):
        return "network" in feats
    if is_disk_key("qemu", key) or key.startswith("unused"):
        return "disk" in feats
    if re.match(r"^usb\d+$", key):
        return "usb" in feats
    if key in ("cores", "vcpus", "sockets"):
        return "cpu" in feats
    if key in ("memory", "balloon"):
        return "memory" in feats
    return False


def _drop_volume(sim: Sim, g: Guest, value: str, key: str) -> None:
    file = propstr.parse(g.kind, key, value).get(_volume_key(g.kind, key), "")
    vol = sim.cluster.find_volume(file, g.node)
    if vol is not None and vol.vmid == g.vmid:
        sim.cluster.remove_volume(file, g.node)


def _next_unused(g: Guest) -> str:
    n = 0
    while f"unused{n}" in g.config:
        n += 1
    return f"unused{n}"


def _set_key(sim: Sim, g: Guest, key: str, value: str) -> None:
    """Write one key now (not pending); a replaced disk becomes ``unusedN``."""
    old = g.config.get(key)
    if old is not None and is_disk_key(g.kind, key):
        vk = _volume_key(g.kind, key)
        old_file = propstr.parse(g.kind, key, old).get(vk)
        new_file = propstr.parse(g.kind, key, value).get(vk)
        if old_file != new_file and old_file and ":" in old_file and "cloudinit" not in old_file:
            vol = sim.cluster.find_volume(old_file, g.node)
            if vol is not None and vol.content in ("images", "rootdir"):
                g.config[_next_unused(g)] = old_file
    g.config[key] = value


def _delete_key(sim: Sim, g: Guest, key: str) -> None:
    old = g.config.pop(key, None)
    if old is None:
        return
    if key.startswith("unused"):
        sim.cluster.remove_volume(
            propstr.parse(g.kind, key, old).get(_volume_key(g.kind, key), old), g.node
        )
    elif is_disk_key(g.kind, key):
        file = propstr.parse(g.kind, key, old).get(_volume_key(g.kind, key), "")
        if "cloudinit" in file:
            sim.cluster.remove_volume(file, g.node)
        elif file and ":" in file:
            vol = sim.cluster.find_volume(file, g.node)
            if vol is not None and vol.content in ("images", "rootdir"):
                g.config[_next_unused(g)] = file


def apply_pending(sim: Sim, g: Guest) -> None:
    for key in g.pending_delete:
        _delete_key(sim, g, key)
    for key, value in g.pending.items():
        _set_key(sim, g, key, value)
    g.pending.clear()
    g.pending_delete.clear()


def _config_changes(req: Request, kind: str) -> dict[str, str]:
    changes = {k: _text(req.raw[k]) for k in req.params if k not in CONTROL}
    return _cdrom_alias(changes)


def _cdrom_alias(changes: dict[str, str]) -> dict[str, str]:
    """qemu's ``cdrom`` is an alias PVE turns into ``ide2: VOLUME,media=cdrom``."""
    if "cdrom" in changes:
        changes["ide2"] = changes.pop("cdrom").split(",")[0] + ",media=cdrom"
    return changes


def _apply_update(
    sim: Sim,
    g: Guest,
    changes: dict[str, str],
    deletes: list[str],
    reverts: list[str],
    *,
    check: bool,
) -> None:
    """Apply a config update now: allocate disks, set or park in pending, delete."""
    for key in reverts:
        g.pending.pop(key, None)
        if key in g.pending_delete:
            g.pending_delete.remove(key)
    running_vm = g.status == "running"
    for key, value in changes.items():
        value = _normalize(sim, g, key, value)
        if _needs_alloc(g, key, value):
            value = _allocate(sim, g, key, value, check=check)
        if running_vm and not _hotpluggable(g, key, value):
            if g.config.get(key) == value:
                g.pending.pop(key, None)
            else:
                g.pending[key] = value
            if key in g.pending_delete:
                g.pending_delete.remove(key)
        else:
            _set_key(sim, g, key, value)
            g.pending.pop(key, None)
    for key in deletes:
        if running_vm and not _hotpluggable(g, key):
            if key in g.config and key not in g.pending_delete:
                g.pending_delete.append(key)
            g.pending.pop(key, None)
        else:
            _delete_key(sim, g, key)
            g.pending.pop(key, None)
    sim.cluster.touch(g)


def _split(value: Any) -> list[str]:
    return [x for x in re.split(r"[,;\s]+", str(value or "")) if x]


def update_config(sim: Sim, kind: str, req: Request, *, sync: bool) -> str | None:
    p = req.params
    g = get_guest(sim, kind, p["node"], p["vmid"])
    check_digest(g, p)
    check_lock(g, p)
    changes = _config_changes(req, kind)
    deletes = _split(p.get("delete"))
    reverts = _split(p.get("revert"))
    both = set(changes) & set(deletes)
    if both:
        key = sorted(both)[0]
        raise param_error({"delete": f"you can't use '-{key}' and -delete {key}' at the same time"})
    for key, value in changes.items():
        if is_disk_key(kind, key):
            file = propstr.parse(kind, key, value).get(_volume_key(kind, key), "")
            new = _NEW_DISK.match(file)
            if new:
                check_storage(sim, kind, new.group(1), g.node)
    if sync:
        try:
            _apply_update(sim, g, changes, deletes, reverts, check=True)
        except TaskError as exc:
            raise fail(str(exc)) from None
        return None

    def apply(task: Task) -> None:
        cur = sim.cluster.guests.get(g.vmid)
        if cur is None:
            raise TaskError(f"Configuration file '{g.conf_path}' does not exist")
        _apply_update(sim, cur, changes, deletes, reverts, check=True)
        task.log.append(f"update {g.label}: " + " ".join(f"-{k} {v}" for k, v in changes.items()))

    return sim.tasks.start(
        node=g.node,
        wtype="qmconfig" if kind == "qemu" else "vzconfig",
        wid=g.vmid,
        user=req.user,
        job=Job(apply, vmid=g.vmid, kind=kind, guest=g),
    )


# -- create, clone, destroy ------------------------------------------------------------


def _check_vmid_free(sim: Sim, kind: str, vmid: int) -> None:
    other = sim.cluster.guests.get(vmid)
    if other is not None:
        what = label(kind, vmid)
        raise fail(
            f"unable to create {what} - {label(other.kind, vmid)} already exists on node "
            f"'{other.node}'"
        )


def _check_pool(sim: Sim, pool: str | None) -> None:
    if pool and pool not in sim.cluster.pools:
        raise fail(f"pool '{pool}' does not exist")


def create(sim: Sim, kind: str, req: Request) -> str:
    p = req.params
    node, vmid = p["node"], p["vmid"]
    cl = sim.cluster
    _check_vmid_free(sim, kind, vmid)
    _check_pool(sim, p.get("pool"))
    skip = QEMU_CREATE_ONLY if kind == "qemu" else LXC_CREATE_ONLY
    changes = _cdrom_alias({k: _text(req.raw[k]) for k in p if k not in CONTROL and k not in skip})
    if kind == "lxc":
        template = p["ostemplate"]
        if cl.find_volume(template, node) is None:
            raise fail(f"volume '{template}' does not exist")
        storage = p.get("storage", "local")
        changes.setdefault("rootfs", f"{storage}:4")
        changes.setdefault("arch", "amd64")
        base = template.rsplit("/", 1)[-1]
        changes.setdefault(
            "ostype",
            base.split("-", 1)[0]
            if base.split("-", 1)[0]
            in ("debian", "ubuntu", "alpine", "centos", "fedora", "archlinux")
            else "unmanaged",
        )
    for key, value in changes.items():
        if is_disk_key(kind, key):
            file = propstr.parse(kind, key, value).get(_volume_key(kind, key), "")
            new = _NEW_DISK.match(file)
            if new:
                check_storage(sim, kind, new.group(1), node)
    g = Guest(vmid=vmid, kind=kind, node=node, config={"lock": "create"}, pool=p.get("pool"))
    if kind == "qemu":
        g.config["smbios1"] = f"uuid={cl.new_uuid()}"
        g.config["vmgenid"] = cl.new_uuid()
    cl.guests[vmid] = g
    cl.touch(g)
    start = bool(p.get("start"))

    def apply(task: Task) -> None:
        for key, value in changes.items():
            value = _normalize(sim, g, key, value)
            if _needs_alloc(g, key, value):
                value = _allocate(sim, g, key, value)
                task.log.append(f"  {key}: successfully created disk '{value.split(',')[0]}'")
            g.config[key] = value
        g.config.pop("lock", None)
        cl.touch(g)
        if start:
            _start_now(sim, g, task)

    def rollback(task: Task) -> None:
        _remove_guest(sim, g)

    wtype = "qmcreate" if kind == "qemu" else "vzcreate"
    return sim.tasks.start(
        node=node,
        wtype=wtype,
        wid=vmid,
        user=req.user,
        job=Job(apply, rollback, vmid=vmid, kind=kind, guest=g),
    )


def _remove_guest(sim: Sim, g: Guest) -> None:
    cl = sim.cluster
    for (scope, volid), vol in list(cl.volumes.items()):
        if vol.vmid == g.vmid and (scope == "" or scope == g.node):
            del cl.volumes[(scope, volid)]
    if cl.guests.get(g.vmid) is g:
        del cl.guests[g.vmid]
    cl.touch(g)


def destroy(sim: Sim, kind: str, req: Request) -> str:
    p = req.params
    g = get_guest(sim, kind, p["node"], p["vmid"])
    check_lock(g, p)
    if g.config.get("protection") == "1":
        raise fail(f"can't remove {g.label} - protection mode enabled")
    if g.status == "running":
        if kind == "qemu":
            raise fail(f"VM {g.vmid} is running - destroy failed")
        if not p.get("force"):
            raise fail(f"CT {g.vmid} is running - destroy failed")

    def apply(task: Task) -> None:
        task.log.append(f"destroying {g.label}")
        _remove_guest(sim, g)

    wtype = "qmdestroy" if kind == "qemu" else "vzdestroy"
    return sim.tasks.start(
        node=g.node,
        wtype=wtype,
        wid=g.vmid,
        user=req.user,
        job=Job(apply, vmid=g.vmid, kind=kind, guest=g),
    )


def clone(sim: Sim, kind: str, req: Request) -> str:
    p = req.params
    cl = sim.cluster
    src = get_guest(sim, kind, p["node"], p["vmid"])
    newid = p["newid"]
    target = p.get("target", src.node)
    if target not in cl.nodes:
        raise fail(f"no such cluster node '{target}'")
    check_lock(src, {})
    if src.status == "running" and src.config.get("template") != "1" and kind == "lxc":
        raise fail(f"unable to clone running CT {src.vmid}")
    _check_vmid_free(sim, kind, newid)
    _check_pool(sim, p.get("pool"))
    is_template = src.config.get("template") == "1"
    full = bool(p.get("full", 0 if is_template else 1))
    if not full and not is_template:
        raise fail("Linked clone feature is not supported for this VM (not a template)")
    storage = p.get("storage")
    if storage:
        if not full:
            raise param_error({"storage": "parameter 'storage' not allowed for linked clones"})
        check_storage(sim, kind, storage, target)
    disks = {k: v for k, v in src.config.items() if is_disk_key(kind, k)}
    if target != src.node:
        for key, value in disks.items():
            file = propstr.parse(kind, key, value).get(_volume_key(kind, key), "")
            sid = storage or file.split(":", 1)[0]
            if "media=cdrom" in value or sid not in cl.storages:
                continue
            if not cl.storages[sid].shared:
                raise fail(
                    f"can't clone {src.label} to node '{target}' ({src.label} uses local storage)"
                )
    name_key = "name" if kind == "qemu" else "hostname"
    new = Guest(vmid=newid, kind=kind, node=target, config={"lock": "clone"}, pool=p.get("pool"))
    cl.guests[newid] = new
    cl.touch(new)

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
                value = _clone_disk(
                    sim, src, new, key, value, full=full, storage=storage, task=task
                )
            elif is_disk_key(kind, key) and "cloudinit" in value:
                value = _allocate(sim, new, key, value.split(",")[0].split(":")[0] + ":cloudinit")
            conf[key] = value
        if kind == "qemu":
            conf["smbios1"] = f"uuid={cl.new_uuid()}"
            conf["vmgenid"] = cl.new_uuid()
        conf[name_key] = p.get(name_key) or p.get("name") or f"Copy-of-VM-{src.name}"
        if "description" in p:
            conf["description"] = p["description"]
        new.config = conf
        cl.touch(new)

    def rollback(task: Task) -> None:
        _remove_guest(sim, new)

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
    task: Task,
) -> str:
    cl = sim.cluster
    data = propstr.parse(src.kind, key, value)
    vk = _volume_key(src.kind, key)
    file = data.get(vk, "")
    vol = cl.find_volume(file, src.node)
    size = vol.size if vol else 0
    if not size and "size" in data:
        size = schema.parse_size(data["size"])
    sid = storage or file.split(":", 1)[0]
    if full:
        try:
            newvol = cl.add_volume(sid, new.node, new.vmid, size, kind=src.kind, check=True)
        except StorageFull as exc:
            raise TaskError(str(exc)) from None
        task.log.append(f"create full clone of drive {key} ({file})")
        data[vk] = newvol.volid
    else:
        base = file.split(":", 1)[1]
        newvol = cl.add_volume(sid, new.node, new.vmid, size, kind=src.kind)
        del cl.volumes[(newvol.node, newvol.volid)]
        newvol.volid = f"{sid}:{base}/{newvol.volid.split(':', 1)[1]}"
        cl.volumes[(newvol.node, newvol.volid)] = newvol
        task.log.append(f"create linked clone of drive {key} ({file})")
        data[vk] = newvol.volid
    data["size"] = format_size(size)
    return propstr.render(src.kind, key, data)


def template(sim: Sim, kind: str, req: Request) -> str | None:
    p = req.params
    g = get_guest(sim, kind, p["node"], p["vmid"])
    check_lock(g, p)
    if g.config.get("template") == "1":
        raise fail("you can't convert a template to a template")
    if g.status == "running":
        raise fail(
            f"you can't convert a {'VM' if kind == 'qemu' else 'CT'} to template if "
            f"{'VM' if kind == 'qemu' else 'CT'} is running"
        )

    def apply(task: Task | None) -> None:
        cl = sim.cluster
        for key, value in list(g.config.items()):
            if not is_disk_key(kind, key) or "media=cdrom" in value:
                continue
            data = propstr.parse(kind, key, value)
            vk = _volume_key(kind, key)
            vol = cl.find_volume(data.get(vk, ""), g.node)
            if (
                vol is not None
                and f"vm-{g.vmid}-" in vol.volid
                and not cl.storages[vol.storage].path_style
            ):
                del cl.volumes[(vol.node, vol.volid)]
                vol.volid = vol.volid.replace(f"vm-{g.vmid}-", f"base-{g.vmid}-")
                cl.volumes[(vol.node, vol.volid)] = vol
                data[vk] = vol.volid
                g.config[key] = propstr.render(kind, key, data)
        g.config["template"] = "1"
        cl.touch(g)

    if kind == "lxc":
        apply(None)
        return None
    return sim.tasks.start(
        node=g.node,
        wtype="qmtemplate",
        wid=g.vmid,
        user=req.user,
        job=Job(apply, vmid=g.vmid, kind=kind, guest=g),
    )


# -- power -----------------------------------------------------------------------------


def _start_now(sim: Sim, g: Guest, task: Task) -> None:
    if g.config.get("template") == "1":
        if g.kind == "qemu":
            raise TaskError("you can't start a vm if it's a template")
        raise TaskError("you can't start a CT if it's a template")
    if g.status == "running":
        raise TaskError(f"{g.label} already running")
    apply_pending(sim, g)
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
    g = get_guest(sim, kind, p["node"], p["vmid"])
    if action != "stop" or not p.get("skiplock"):
        check_lock(g, p)

    def apply(task: Task) -> None:
        if action == "start":
            _start_now(sim, g, task)
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
                apply_pending(sim, g)
                g.started_at = sim.cluster.clock()
        sim.cluster.touch(g)

    prefix = "qm" if kind == "qemu" else "vz"
    return sim.tasks.start(
        node=g.node,
        wtype=f"{prefix}{action}",
        wid=g.vmid,
        user=req.user,
        job=Job(apply, vmid=g.vmid, kind=kind, guest=g),
    )


# -- resize and migrate ----------------------------------------------------------------


def resize(sim: Sim, kind: str, req: Request) -> str:
    p = req.params
    g = get_guest(sim, kind, p["node"], p["vmid"])
    check_digest(g, p)
    check_lock(g, p)
    disk, size_text = p["disk"], p["size"]

    def apply(task: Task) -> None:
        value = g.config.get(disk)
        if value is None:
            raise TaskError(f"disk '{disk}' does not exist")
        if "media=cdrom" in value:
            raise TaskError(f"can't resize drive '{disk}' (cdrom)")
        data = propstr.parse(kind, disk, value)
        vk = _volume_key(kind, disk)
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

    return sim.tasks.start(
        node=g.node,
        wtype="resize",
        wid=g.vmid,
        user=req.user,
        job=Job(apply, vmid=g.vmid, kind=kind, guest=g),
    )


def migrate(sim: Sim, kind: str, req: Request) -> str:
    p = req.params
    cl = sim.cluster
    g = get_guest(sim, kind, p["node"], p["vmid"])
    target = p["target"]
    if target == g.node:
        raise param_error({"target": "target is local node."})
    if target not in cl.nodes:
        raise fail(f"no such cluster node '{target}'")
    check_lock(g, p)
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
            cl.find_volume(propstr.parse(kind, k, val).get(_volume_key(kind, k), ""), g.node)
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
            del cl.volumes[(vol.node, vol.volid)]
            vol.node = target
            cl.volumes[(target, vol.volid)] = vol
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
    return sim.tasks.start(
        node=g.node,
        wtype=wtype,
        wid=g.vmid,
        user=req.user,
        job=Job(apply, rollback, vmid=g.vmid, kind=kind, guest=g),
    )


def cluster_of(sim: Sim) -> Cluster:
    return sim.cluster
