"""Guests as PVE sees them: lookups and checks, and config updates.

What PVE checks before forking a worker fails the HTTP call here (mostly 500 with PVE's
``die`` text). Config values are normalised as PVE writes them (see ``propstr``) so what
a client reads back is what a real cluster would show; changes that a running guest
cannot take at once (``hotplug`` decides) are parked as pending. Creating, cloning and
destroying guests are in ``lifecycle``; power, resize and migration in ``operations``;
what clients read back (config, pending, status) in ``views``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mycopod.pvesim import disks, hotplug, propstr
from mycopod.pvesim.core import Request, Sim
from mycopod.pvesim.disks import NEW_DISK, disk_file, needs_alloc, volume_key
from mycopod.pvesim.errors import ApiError, TaskError, fail, param_error
from mycopod.pvesim.state import (
    Guest,
    conf_path,
    is_disk_key,
)
from mycopod.pvesim.tasks import Job, Task

__all__ = ["disk_file", "needs_alloc", "volume_key"]  # re-exported for lifecycle, operations

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


# -- lookups and checks ----------------------------------------------------------------


def get_guest(sim: Sim, kind: str, node: str, vmid: int) -> Guest:
    g = sim.cluster.guests.get(vmid)
    if g is None or g.kind != kind or g.node != node:
        raise fail(f"Configuration file '{conf_path(kind, node, vmid)}' does not exist")
    return g


def lock_error(g: Guest, params: dict[str, Any]) -> str | None:
    """What PVE says of a guest whose config holds a ``lock`` (pve-guest-common
    PVE/AbstractConfig.pm check_lock: the guest type only, no vmid), or None."""
    lock = g.config.get("lock")
    if lock and not params.get("skiplock"):
        return f"{'VM' if g.kind == 'qemu' else 'CT'} is locked ({lock})"
    return None


def check_lock(g: Guest, params: dict[str, Any]) -> None:
    """``check_lock`` before the worker forks: the call fails (500)."""
    message = lock_error(g, params)
    if message:
        raise fail(message)


def task_check_lock(g: Guest, params: dict[str, Any]) -> None:
    """``check_lock`` inside the worker, under the config lock: the task fails."""
    message = lock_error(g, params)
    if message:
        raise TaskError(message)


def digest_error(g: Guest, params: dict[str, Any]) -> str | None:
    digest = params.get("digest")
    if not digest or digest == g.digest():
        return None
    if g.kind == "lxc":
        # pve-container uses pve-common PVE/Tools.pm assert_if_modified
        return "detected modified configuration - file changed by other user? Try again."
    # qemu-server PVE/API2/Qemu.pm (update_vm_api, resize_vm) dies with its own text
    return "checksum mismatch (file change by other user?)"


def check_digest(g: Guest, params: dict[str, Any]) -> None:
    message = digest_error(g, params)
    if message:
        raise fail(message)


def check_storage(sim: Sim, kind: str, storage: str, node: str) -> None:
    sdef = sim.cluster.storages.get(storage)
    if sdef is None:
        raise fail(f"storage '{storage}' does not exist")
    if kind == "lxc" and "rootdir" not in sdef.content:
        raise param_error(
            {"storage": f"storage '{storage}' does not support container directories"}
        )
    if kind == "qemu" and "images" not in sdef.content:
        # qemu-server PVE/API2/Qemu.pm $check_storage_access: raise_param_exc (400)
        raise param_error({"storage": f"storage '{storage}' does not support vm images"})


def check_new_disks(sim: Sim, kind: str, changes: dict[str, str], node: str) -> None:
    """Check the storage of every ``STORAGE:SIZE`` disk the changes ask to allocate."""
    for key, value in changes.items():
        if is_disk_key(kind, key):
            file = disk_file(kind, key, value)
            new = NEW_DISK.match(file)
            if new:
                check_storage(sim, kind, new.group(1), node)


# -- turning request parameters into config values -------------------------------------


def text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def normalize(sim: Sim, g: Guest, key: str, value: str) -> str:
    """One config value as PVE stores it, with disks still unallocated."""
    if key == "tags":
        return propstr.normalize_tags(value)
    if g.kind == "qemu" and key == "cipassword":
        return propstr.hash_password(value, g.config.get("ostype"), sim.cluster.rng)
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


def allocate(sim: Sim, g: Guest, key: str, value: str) -> str:
    new = NEW_DISK.match(disk_file(g.kind, key, value))
    if new:
        try:
            check_storage(sim, g.kind, new.group(1), g.node)
        except ApiError as exc:  # in a worker, the check's text ends the task
            raise TaskError(next(iter((exc.errors or {}).values()), exc.message)) from None
    return disks.allocate(sim.cluster, g, key, value)


def _next_unused(g: Guest) -> str:
    n = 0
    while f"unused{n}" in g.config:
        n += 1
    return f"unused{n}"


def _set_key(sim: Sim, g: Guest, key: str, value: str) -> None:
    """Write one key now (not pending); a replaced disk becomes ``unusedN``."""
    old = g.config.get(key)
    if old is not None and is_disk_key(g.kind, key):
        vk = volume_key(g.kind)
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
            propstr.parse(g.kind, key, old).get(volume_key(g.kind), old), g.node
        )
    elif is_disk_key(g.kind, key):
        file = disk_file(g.kind, key, old)
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


def config_changes(req: Request, skip: frozenset[str] = frozenset()) -> dict[str, str]:
    """The config keys a request sets, as strings: all parameters but the control ones
    (and ``skip``)."""
    changes = {k: text(req.raw[k]) for k in req.params if k not in CONTROL and k not in skip}
    return _cdrom_alias(changes)


def _cdrom_alias(changes: dict[str, str]) -> dict[str, str]:
    """qemu's ``cdrom`` is an alias PVE turns into ``ide2: VOLUME,media=cdrom``."""
    if "cdrom" in changes:
        changes["ide2"] = changes.pop("cdrom").split(",")[0] + ",media=cdrom"
    return changes


def _apply_update(
    sim: Sim, g: Guest, changes: dict[str, str], deletes: list[str], reverts: list[str]
) -> None:
    """Apply a config update now: allocate disks, then set or delete each key at once, or
    park it in pending where the running guest cannot take it (``hotplug``). Hot-plug
    problems leave the change pending and fail the update with a per-key error, as
    qemu-server's update_vm_api does (raise_param_exc after vmconfig_hotplug_pending)."""
    for key in reverts:
        g.pending.pop(key, None)
        if key in g.pending_delete:
            g.pending_delete.remove(key)
    running = g.status == "running"
    problems: dict[str, str] = {}
    if g.kind == "qemu":
        changes, deletes = _follow_boot_order(g, changes, deletes)
    for key in deletes:
        # qemu-server update_vm_api: unused disks are freed at once, running or not
        if running and not key.startswith("unused") and not hotplug.live_delete(g, key):
            if key in g.config and key not in g.pending_delete:
                g.pending_delete.append(key)
        else:
            _delete_key(sim, g, key)
        g.pending.pop(key, None)
    for key, value in changes.items():
        value = normalize(sim, g, key, value)
        if needs_alloc(g, key, value):
            value = allocate(sim, g, key, value)
        try:
            live = not running or hotplug.live_set(g, key, value)
        except hotplug.HotplugProblem as exc:
            live = False
            label = "hotplug problem - " if g.kind == "qemu" else f"unable to hotplug {key}: "
            problems[key] = f"{label}{exc}"
        if key in g.pending_delete:
            g.pending_delete.remove(key)
        if live:
            _set_key(sim, g, key, value)
            g.pending.pop(key, None)
        elif g.config.get(key) == value:
            g.pending.pop(key, None)
        else:
            g.pending[key] = value
    sim.cluster.touch(g)
    if problems:
        raise param_error(problems)


def _follow_boot_order(
    g: Guest, changes: dict[str, str], deletes: list[str]
) -> tuple[dict[str, str], list[str]]:
    """qemu-server API2/Qemu.pm update_vm_api: a deleted device leaves the boot order, a
    new CD-ROM drive joins it (a change to ``boot`` like any other, so pending on a
    running VM)."""
    found = re.search(r"(?:^|,)order=([^,]*)", g.config.get("boot", ""))
    order = [d for d in re.split(r"[;\s]+", found.group(1)) if d] if found else []
    if not order or "boot" in changes or "boot" in deletes:
        return changes, deletes
    new = [d for d in order if d not in deletes]
    for key, value in changes.items():
        media = propstr.parse("qemu", key, value).get("media") if is_disk_key("qemu", key) else None
        if media == "cdrom" and key not in new:
            new.append(key)
    if new == order:
        return changes, deletes
    if not new:  # print_bootorder gives "", which PVE cannot read back: no boot key
        return changes, [*deletes, "boot"]
    return {**changes, "boot": f"order={';'.join(new)}"}, deletes


def _check_lxc_update(g: Guest, changes: dict[str, str], deletes: list[str]) -> None:
    # pve-container src/PVE/LXC/Config.pm update_pct_config
    for key in deletes:
        if key in ("memory", "rootfs", "ostype"):
            raise fail(f"unable to delete required option '{key}'")
        if key == "unprivileged":
            raise fail(f"unable to delete read-only option: '{key}'")
        if re.match(r"^(unused|mp)\d+$", key) and g.config.get("protection") == "1":
            raise fail(f"can't remove CT {g.vmid} drive '{key}' - protection mode enabled")
    for key in sorted(changes):
        if (key == "rootfs" or re.match(r"^mp\d+$", key)) and g.config.get("protection") == "1":
            raise fail(f"can't update CT {g.vmid} drive '{key}' - protection mode enabled")
        if key == "unprivileged":
            raise fail(f"unable to modify read-only option: '{key}'")


def start_task(
    sim: Sim,
    req: Request,
    g: Guest,
    wtype: str,
    apply: Callable[[Task], None],
    rollback: Callable[[Task], None] | None = None,
) -> str:
    """Start a worker task on ``g``'s node that works on ``g``: it waits for the guest's
    other tasks and fails if the guest is gone by then."""
    return sim.tasks.start(
        node=g.node,
        wtype=wtype,
        wid=g.vmid,
        user=req.user,
        job=Job(apply, rollback, vmid=g.vmid, kind=g.kind, guest=g),
    )


def split_list(value: Any) -> list[str]:
    return [x for x in re.split(r"[,;\s]+", str(value or "")) if x]


def update_config(sim: Sim, kind: str, req: Request, *, sync: bool) -> str | None:
    p = req.params
    g = get_guest(sim, kind, p["node"], p["vmid"])
    if kind == "lxc":
        # pve-container PVE/API2/LXC/Config.pm update_vm: check_lock, then the digest
        check_lock(g, p)
        check_digest(g, p)
    else:
        check_digest(g, p)
        check_lock(g, p)
    changes = config_changes(req)
    deletes = split_list(p.get("delete"))
    reverts = split_list(p.get("revert"))
    both = set(changes) & set(deletes)
    if both:
        key = sorted(both)[0]
        raise param_error({"delete": f"you can't use '-{key}' and -delete {key}' at the same time"})
    check_new_disks(sim, kind, changes, g.node)
    if kind == "lxc":
        _check_lxc_update(g, changes, deletes)
    if sync:
        try:
            _apply_update(sim, g, changes, deletes, reverts)
        except TaskError as exc:
            raise fail(str(exc)) from None
        return None

    def apply(task: Task) -> None:
        # the task runner fails the task first if the guest is gone (Job.guest)
        try:
            _apply_update(sim, g, changes, deletes, reverts)
        except ApiError as exc:
            task.log.extend(f"{k}: {v}" for k, v in (exc.errors or {}).items())
            raise TaskError(exc.message) from None
        task.log.append(f"update {g.label}: " + " ".join(f"-{k} {v}" for k, v in changes.items()))

    return start_task(sim, req, g, "qmconfig" if kind == "qemu" else "vzconfig", apply)
