"""Observed clusters for planner tests, and Proxmox as a store of config strings to
apply a plan to and observe again (pure: the real payloads and parsing, no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from mycopod.config import PolicySettings
from mycopod.proxmox import model, payloads, translate
from mycopod.proxmox.model import NodeState, ObservedCluster, ObservedGuest, StorageState
from mycopod.reconcile.plan import Plan
from mycopod.spec import ClusterSpec, GuestSpec

GIB = 1024**3
NODES = ("pve1", "pve2", "pve3")
STORAGES = ("local-lvm", "local-zfs", "tank", "ceph-pool", "local")
CT_TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"


def materialize(spec: GuestSpec, vmid: int) -> dict[str, Any]:
    """The config Proxmox would store for ``spec`` (volumes allocated, MACs set)."""
    params = payloads.create_params(spec, vmid=vmid, ownership_tag="mycopod",
                                    ostemplate=CT_TEMPLATE)
    return {**_stored_create(spec.kind, vmid, params), "digest": f"d{vmid}"}


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


# --- Proxmox as a store of config strings, for "apply the plan, observe again" ----------
#
# The planner's properties apply a plan the way the executor does (the real payload
# builders make the parameters of every call), let "Proxmox" store what those calls say
# the way PVE does (volumes allocated, MACs set, what a running guest cannot take at once
# parked as pending), and read the stored strings back the way the observer does (the
# real parsing of translate). Nothing here knows the wanted state but through the calls.

#: keys PVE writes to a running guest at once, whatever ``hotplug`` says
ALWAYS_HOT = frozenset({"name", "description", "tags", "onboot"})
#: what PVE changes in a running container at once (the rest waits for a restart)
LXC_HOT = frozenset({"cores", "memory", "swap", "hostname"})
#: parameters of a create call that are not config keys
CREATE_ONLY = frozenset({"vmid", "ostemplate", "ssh-public-keys", "pool", "password",
                         "storage", "start"})
#: the template ``cluster()`` shows, as Proxmox stores it (a small cloud image)
TEMPLATE_CONFIG = {
    "name": "ubuntu-24.04", "template": "1", "cores": "1", "memory": "2048",
    "ostype": "l26", "scsihw": "virtio-scsi-single", "boot": "order=scsi0",
    "scsi0": "local-lvm:base-9000-disk-0,size=4G",
    "ide2": "local-lvm:vm-9000-cloudinit,media=cdrom",
    "net0": "virtio=BC:24:11:90:00:00,bridge=vmbr0,firewall=1", "ipconfig0": "ip=dhcp",
}


def _mac(vmid: int, slot: str) -> str:
    index = int(slot.removeprefix("net"))
    return f"BC:24:11:{vmid // 256 % 256:02X}:{vmid % 256:02X}:{index:02X}"


def _allocate(vmid: int, value: str, number: int) -> str:
    """``storage:SIZE[,opts]`` → the allocated volume, as PVE writes it back."""
    head, _, opts = value.partition(",")
    storage, _, size = head.partition(":")
    props = {"volume": f"{storage}:vm-{vmid}-disk-{number}"}
    props.update(translate.parse_props(opts))
    props["size"] = f"{size}G"
    return translate.format_props(props, "volume")


def _is_new_disk(kind: model.Kind, key: str, value: str) -> bool:
    head = value.partition(",")[0]
    return translate.is_disk_key(kind, key) and bool(re.fullmatch(r"[\w.-]+:\d+", head))


def _stored_value(kind: model.Kind, vmid: int, key: str, value: Any, config: dict[str, str]) -> str:
    """One parameter of a create or config call as PVE stores it."""
    text = str(value)
    if _is_new_disk(kind, key, text):
        used = {v.partition(",")[0] for k, v in config.items()
                if translate.is_disk_key(kind, k)}
        number = 0
        while any(u.endswith(f"vm-{vmid}-disk-{number}") for u in used):
            number += 1
        return _allocate(vmid, text, number)
    if translate.NET_RE.match(key):
        props = translate.parse_props(text, "model" if kind == "vm" else "name")
        if kind == "vm":
            if "model" not in props:  # model=MAC already
                return text
            nic = props.pop("model")
            return translate.format_props(
                {"model": f"{nic}={_mac(vmid, key)}", **props}, "model")
        props.setdefault("hwaddr", _mac(vmid, key))
        return translate.format_props(props, "name")
    return text


def _stored_create(kind: model.Kind, vmid: int, params: dict[str, Any]) -> dict[str, str]:
    config: dict[str, str] = {}
    for key, value in params.items():
        if key not in CREATE_ONLY:
            config[key] = _stored_value(kind, vmid, key, value, config)
    return config


def _param(action: Any, name: str) -> Any:
    """One parameter of a planned action, the plan's parameters being a dict or typed."""
    params = action.params
    return params.get(name) if isinstance(params, dict) else getattr(params, name, None)


@dataclass
class StoredGuest:
    """One guest as Proxmox keeps it: its config keys and its ``[PENDING]`` section."""

    vmid: int
    kind: model.Kind
    node: str
    config: dict[str, str]
    status: str = "stopped"
    pending: dict[str, str] = field(default_factory=dict)
    pending_delete: set[str] = field(default_factory=set)
    pool: str | None = None

    def applies_now(self, key: str, value: str = "") -> bool:
        if self.status != "running" or key in ALWAYS_HOT:
            return True
        if self.kind == "ct":
            # a new mount point volume is hot-plugged (pve-container's
            # vmconfig_hotplug_pending: create_disks, then mountpoint_hotplug)
            new_mount = key.startswith("mp") and _is_new_disk("ct", key, value)
            return key in LXC_HOT or bool(translate.NET_RE.match(key)) or new_mount
        hotplug = self.config.get("hotplug", "network,disk,usb")
        if translate.NET_RE.match(key):
            return "network" in hotplug
        if translate.is_disk_key("vm", key):
            return "disk" in hotplug
        if key == "cores":
            return "cpu" in hotplug
        if key == "memory":
            return "memory" in hotplug
        return False  # cloud-init (ipconfigN, sshkeys) and the rest: at the next start

    def write(self, params: dict[str, Any]) -> None:
        """``POST/PUT config`` as PVE applies it."""
        for key in str(params.get("delete") or "").split(","):
            if not key:
                continue
            if self.applies_now(key):
                self.config.pop(key, None)
            elif key in self.config:
                self.pending_delete.add(key)
            self.pending.pop(key, None)
        for key, value in params.items():
            if key in ("delete", "digest"):
                continue
            stored = _stored_value(self.kind, self.vmid, key, value,
                                   {**self.config, **self.pending})
            if self.applies_now(key, str(value)):
                self.config[key] = stored
                self.pending.pop(key, None)
            elif self.config.get(key) == stored:
                self.pending.pop(key, None)
            else:
                self.pending[key] = stored
            self.pending_delete.discard(key)

    def resize(self, disk: str, size: str) -> None:
        """``PUT resize``: the volume grows at once, running or not."""
        props = translate.parse_props(self.config[disk], "volume")
        props["size"] = size
        self.config[disk] = translate.format_props(props, "volume")

    def start(self) -> None:
        """Starting applies the pending section."""
        for key in self.pending_delete:
            self.config.pop(key, None)
        self.config.update(self.pending)
        self.pending.clear()
        self.pending_delete.clear()
        self.status = "running"

    def pending_rows(self) -> list[dict[str, Any]]:
        """``GET pending``: each key's current value and its pending value or delete."""
        rows: list[dict[str, Any]] = []
        for key in sorted({*self.config, *self.pending, *self.pending_delete}):
            row: dict[str, Any] = {"key": key}
            if key in self.config:
                row["value"] = self.config[key]
            if key in self.pending:
                row["pending"] = self.pending[key]
            if key in self.pending_delete:
                row["delete"] = 1
            rows.append(row)
        return rows


@dataclass
class StoredCluster:
    """The guests of ``cluster()`` as Proxmox stores them; observed and changed only
    through Proxmox's strings."""

    guests: dict[int, StoredGuest] = field(default_factory=lambda: {
        9000: StoredGuest(9000, "vm", "pve1", dict(TEMPLATE_CONFIG))})
    ownership_tag: str = "mycopod"

    def create(self, spec: GuestSpec, vmid: int, *, node: str = "pve1", running: bool = False,
               owned: bool = True) -> StoredGuest:
        """A guest made by the real create parameters of ``spec`` (then, when not
        ``owned``, its ownership tag taken off by hand)."""
        params = payloads.create_params(spec, vmid=vmid, ownership_tag=self.ownership_tag,
                                        ostemplate=CT_TEMPLATE)
        guest = StoredGuest(vmid, spec.kind, node, _stored_create(spec.kind, vmid, params),
                            status="running" if running else "stopped")
        if not owned:
            guest.config["tags"] = translate.format_tags(
                t for t in translate.parse_tags(guest.config.get("tags"))
                if t != self.ownership_tag)
        self.guests[vmid] = guest
        return guest

    def observe(self) -> ObservedCluster:
        """What the observer makes of it: the summary of ``/cluster/resources`` for every
        guest, and for owned ones the configs read back from ``GET pending``."""
        observed: list[ObservedGuest] = []
        for stored in self.guests.values():
            config = stored.config
            tags = translate.parse_tags(config.get("tags"))
            template = config.get("template") == "1"
            owned = not template and self.ownership_tag in tags
            guest = ObservedGuest(
                vmid=stored.vmid, kind=stored.kind, node=stored.node, status=stored.status,
                name=config.get("name" if stored.kind == "vm" else "hostname", ""),
                tags=tags, template=template, owned=owned, pool=stored.pool,
                maxmem=translate.parse_memory(config.get("memory"), stored.kind) * 1024**2,
                maxcpu=float(config.get("cores") or 1))
            if owned:
                rows = stored.pending_rows()
                raw = {r["key"]: r["value"] for r in rows if "value" in r}
                current = translate.config_to_guest(stored.kind, raw)
                pending = translate.config_to_guest(
                    stored.kind, translate.apply_pending(raw, rows)) \
                    if translate.has_pending(rows) else current
                guest = replace(guest, current=current,
                                pending=pending if pending != current else None)
            observed.append(guest)
        return replace(cluster(), guests=tuple(sorted(observed, key=lambda g: g.vmid)))

    def apply(self, plan: Plan, spec: ClusterSpec) -> None:
        """Every action of ``plan`` as the executor makes its calls, each succeeding."""
        by_name = {g.name: g for g in spec.guests}
        for action in plan.actions:
            vmid = action.vmid
            assert vmid is not None
            want = by_name.get(action.target)
            guest = self.guests.get(vmid)
            if action.kind == "create":
                assert want is not None and guest is None
                params = payloads.create_params(
                    want, vmid=vmid, ownership_tag=self.ownership_tag,
                    ostemplate=_param(action, "ostemplate"))
                self.guests[vmid] = StoredGuest(vmid, want.kind, action.node or "pve1",
                                                _stored_create(want.kind, vmid, params),
                                                pool=want.pool)
            elif action.kind == "clone":
                assert want is not None and guest is None
                self.guests[vmid] = self._clone(
                    self.guests[int(_param(action, "template_vmid"))], vmid, name=want.name,
                    node=action.node or "pve1", storage=_param(action, "storage"))
            elif action.kind == "configure":
                assert guest is not None and want is not None
                effective = translate.apply_pending(guest.config, guest.pending_rows())
                only = _param(action, "keys")
                guest.write(payloads.update_params(want, effective, only=only,
                                                   ownership_tag=self.ownership_tag))
                if _param(action, "fresh"):
                    effective = translate.apply_pending(guest.config, guest.pending_rows())
                    for resize in payloads.resize_params(want, effective):
                        guest.resize(resize["disk"], resize["size"])
            elif action.kind == "resize_disk":
                assert guest is not None
                guest.resize(str(_param(action, "disk")), str(_param(action, "size")))
            elif action.kind == "tag_adopt":
                assert guest is not None
                if self.ownership_tag not in translate.parse_tags(guest.config.get("tags")):
                    guest.write({"tags": _param(action, "tags") or self.ownership_tag})
            elif action.kind == "start":
                assert guest is not None
                guest.start()
            elif action.kind == "stop":
                assert guest is not None
                guest.status = "stopped"
            elif action.kind == "delete":
                assert guest is not None
                del self.guests[vmid]
            elif action.kind == "migrate":
                assert guest is not None
                guest.node = str(_param(action, "target"))
            elif action.kind == "remove_device":
                assert guest is not None
                guest.write({"delete": ",".join(_param(action, "keys"))})
            elif action.kind == "set_pool":
                assert guest is not None
                guest.pool = str(_param(action, "pool"))
            else:  # pragma: no cover - a new action kind needs its calls here
                raise AssertionError(f"no calls known for action {action.kind}")

    def _clone(self, source: StoredGuest, vmid: int, *, name: str, node: str,
               storage: str | None) -> StoredGuest:
        """A full clone: the template's config with new volumes, MACs and name."""
        config: dict[str, str] = {}
        number = 0
        for key, value in source.config.items():
            if key == "template":
                continue
            if translate.NET_RE.match(key):
                first, _, rest = value.partition(",")
                nic = first.partition("=")[0]
                value = f"{nic}={_mac(vmid, key)}" + (f",{rest}" if rest else "")
            elif translate.is_disk_key(source.kind, key) and "cloudinit" in value:
                store = value.partition(":")[0]
                value = f"{store}:vm-{vmid}-cloudinit,media=cdrom"
            elif translate.is_disk_key(source.kind, key):
                props = translate.parse_props(value, "volume")
                target = storage or props["volume"].partition(":")[0]
                props["volume"] = f"{target}:vm-{vmid}-disk-{number}"
                number += 1
                value = translate.format_props(props, "volume")
            config[key] = value
        config["name" if source.kind == "vm" else "hostname"] = name
        return StoredGuest(vmid, source.kind, node, config)
