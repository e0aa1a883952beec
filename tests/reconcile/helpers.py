"""Building observed clusters for planner tests, and a pure stand-in for applying a plan."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mycopod.config import PolicySettings
from mycopod.proxmox import payloads, translate
from mycopod.proxmox.model import NodeState, ObservedCluster, ObservedGuest, StorageState
from mycopod.reconcile.plan import MigrateAction, Plan
from mycopod.spec import ClusterSpec, GuestSpec

GIB = 1024**3
NODES = ("pve1", "pve2", "pve3")
STORAGES = ("local-lvm", "local-zfs", "tank", "ceph-pool", "local")
CT_TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"


def materialize(spec: GuestSpec, vmid: int) -> dict[str, Any]:
    """The config Proxmox would store for ``spec`` (volumes allocated, MACs set)."""
    params = payloads.create_params(spec, vmid=vmid, ownership_tag="mycopod",
                                    ostemplate=CT_TEMPLATE)
    config: dict[str, Any] = {}
    for key, value in params.items():
        if key in ("vmid", "ostemplate", "unprivileged", "ssh-public-keys", "pool"):
            continue
        if translate.is_disk_key(spec.kind, key):
            storage, _, rest = str(value).partition(":")
            size, _, extra = rest.partition(",")
            config[key] = f"{storage}:vm-{vmid}-disk-{key},{extra + ',' if extra else ''}" \
                          f"size={size}G"
        elif key.startswith("net") and spec.kind == "vm":
            config[key] = str(value).replace("virtio,", "virtio=BC:24:11:00:00:01,", 1)
        else:
            config[key] = str(value)
    config["digest"] = f"d{vmid}"
    return config


def observed_guest(spec: GuestSpec, vmid: int, *, node: str = "pve1", running: bool = False,
                   owned: bool = True, tags: tuple[str, ...] | None = None,
                   config: dict[str, Any] | None = None) -> ObservedGuest:
    raw = config if config is not None else materialize(spec, vmid)
    if tags is not None:
        raw = {**raw, "tags": translate.format_tags(tags)}
    if not owned:
        raw = {**raw, "tags": translate.format_tags(
            t for t in translate.parse_tags(raw.get("tags")) if t != "mycopod")}
    current = translate.config_to_guest(spec.kind, raw)
    return ObservedGuest(
        vmid=vmid, kind=spec.kind, name=spec.name, node=node,
        status="running" if running else "stopped", tags=current.tags,
        owned=owned, current=current if owned else None, digest=raw.get("digest"),
        maxmem=spec.memory_mib * 1024**2, maxcpu=spec.cores)


def template(name: str, vmid: int, node: str = "pve1") -> ObservedGuest:
    return ObservedGuest(vmid=vmid, kind="vm", name=name, node=node, status="stopped",
                         template=True)


def cluster(*guests: ObservedGuest, free_gib: dict[str, int] | None = None,
            ct_templates: tuple[str, ...] = (CT_TEMPLATE,)) -> ObservedCluster:
    free = free_gib or {}
    nodes = tuple(NodeState(name=n, online=True, maxmem=64 * GIB,
                            mem=(64 - free.get(n, 60)) * GIB) for n in NODES)
    storages = tuple(StorageState(node=n, storage=s, content=("images", "rootdir"),
                                  shared=s in ("tank", "ceph-pool"))
                     for n in NODES for s in STORAGES)
    return ObservedCluster(nodes=nodes, storages=storages,
                           guests=(template("ubuntu-24.04", 9000), *guests),
                           ct_templates=ct_templates)


def policy(**fields: Any) -> PolicySettings:
    return PolicySettings(**fields)


def apply(plan: Plan, spec: ClusterSpec, observed: ObservedCluster) -> ObservedCluster:
    """What the cluster looks like after every action of ``plan`` succeeded."""
    guests = {g.vmid: g for g in observed.guests}
    by_name = {g.name: g for g in spec.guests}
    for action in plan.actions:
        vmid = action.vmid
        assert vmid is not None
        guest = guests.get(vmid)
        want = by_name.get(action.target)
        if action.kind in ("create", "clone"):
            assert want is not None and vmid not in guests
            guests[vmid] = observed_guest(want, vmid, node=action.node or "pve1")
        elif action.kind in ("configure", "resize_disk"):
            assert guest is not None and want is not None
            before = guest.effective
            assert before is not None
            new = translate.config_to_guest(want.kind, materialize(want, vmid))
            changes = translate.config_changes(want, before, ownership_tag="mycopod")
            if guest.running and any(c.needs_restart for c in changes):
                guests[vmid] = replace(guest, pending=new)
            else:
                guests[vmid] = replace(guest, current=new, pending=None, tags=new.tags)
        elif action.kind == "tag_adopt":
            assert guest is not None
            tags = tuple(sorted({*guest.tags, "mycopod"}))
            cur = guest.current
            guests[vmid] = replace(guest, owned=True, tags=tags,
                                   current=replace(cur, tags=tags) if cur else None)
        elif action.kind == "start":
            assert guest is not None
            eff = guest.effective
            guests[vmid] = replace(guest, status="running", current=eff, pending=None)
        elif action.kind == "stop":
            assert guest is not None
            guests[vmid] = replace(guest, status="stopped")
        elif action.kind == "delete":
            assert guest is not None
            del guests[vmid]
        elif isinstance(action, MigrateAction):
            assert guest is not None
            guests[vmid] = replace(guest, node=action.params.target)
    return replace(observed, guests=tuple(guests.values()))
