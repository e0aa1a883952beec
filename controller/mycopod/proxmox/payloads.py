"""What MycoPod sends to Proxmox: the parameters of create, config and resize calls. Pure.

Built from a guest's spec, and for updates from the observed config too, through
:mod:`mycopod.proxmox.translate` (which reads configs and finds the differences): an
update sets only the managed keys that differ and starts from the observed property
string, so a NIC keeps its MAC and model and a disk keeps its cache options. Disk growth
is a separate ``resize`` call with an absolute size; a new disk is allocated with
``storage:size``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mycopod.proxmox import translate
from mycopod.proxmox.model import Kind
from mycopod.spec import GuestSpec, NetworkSpec

__all__ = ["CT_MOUNT_ROOT", "create_params", "resize_params", "update_params"]

#: where a container mount point other than rootfs is mounted (the spec has no path)
CT_MOUNT_ROOT = "/mnt"


def _disk_alloc(kind: Kind, slot: str, storage: str, size_gib: int) -> str:
    if kind == "ct" and slot != "rootfs":
        return f"{storage}:{size_gib},mp={CT_MOUNT_ROOT}/{slot}"
    return f"{storage}:{size_gib}"


def create_params(
    spec: GuestSpec,
    *,
    vmid: int,
    ownership_tag: str,
    ostemplate: str | None = None,
) -> dict[str, Any]:
    """Parameters of ``POST /nodes/{node}/qemu`` or ``/lxc`` for a new guest."""
    params: dict[str, Any] = {
        "vmid": vmid,
        "cores": spec.cores,
        # qemu's memory is a property string ("[current=]<integer>"), lxc's an integer
        "memory": str(spec.memory_mib) if spec.kind == "vm" else spec.memory_mib,
        "onboot": 1 if spec.onboot else 0,
        "tags": translate.format_tags(translate.desired_tags(spec, ownership_tag)),
    }
    if spec.description:
        params["description"] = spec.description
    if spec.pool:
        params["pool"] = spec.pool
    for disk in spec.disks:
        params[disk.slot] = _disk_alloc(spec.kind, disk.slot, disk.storage, disk.size_gib)
    if spec.kind == "vm":
        params["name"] = spec.name
        params["scsihw"] = "virtio-scsi-single"
        for net in spec.networks:
            params[net.slot] = _vm_net_value(net, None)
            if net.ip is not None:
                params["ipconfig" + net.slot.removeprefix("net")] = translate.format_ipconfig(
                    net.ip, net.gateway
                )
        if spec.ssh_keys:
            params["sshkeys"] = translate.encode_sshkeys(spec.ssh_keys)
        if spec.source is not None and spec.source.iso is not None:
            params["ide2"] = f"{spec.source.iso},media=cdrom"
    else:
        params["hostname"] = spec.name
        template = ostemplate or (spec.source.ostemplate if spec.source else None)
        if template is None:
            raise translate.TranslateError(
                f"{spec.name}: a container needs an LXC template; declare one "
                "(from the template local:vztmpl/...) or upload one to a storage"
            )
        params["ostemplate"] = template
        params["unprivileged"] = 1
        for net in spec.networks:
            params[net.slot] = _ct_net_value(net, None)
        if spec.ssh_keys:
            params["ssh-public-keys"] = "\n".join(spec.ssh_keys)
    return params


def update_params(
    spec: GuestSpec, raw: Mapping[str, Any], *, ownership_tag: str
) -> dict[str, Any]:
    """Parameters of ``POST/PUT config`` that bring ``raw`` (the pending-applied config)
    to the spec's managed fields; ``{}`` when nothing differs. Disk growth is not here
    (it is ``resize``); a new disk is allocated with ``storage:size``."""
    kind: Kind = spec.kind
    observed = translate.config_to_guest(kind, raw)
    diff = translate.config_changes(spec, observed, ownership_tag=ownership_tag)
    changes = {c.field for c in diff}
    params: dict[str, Any] = {}
    delete: list[str] = []
    if "cores" in changes:
        params["cores"] = spec.cores
    if "memory" in changes:
        params["memory"] = str(spec.memory_mib) if kind == "vm" else spec.memory_mib
    if "onboot" in changes:
        params["onboot"] = 1 if spec.onboot else 0
    if "tags" in changes:
        params["tags"] = translate.format_tags(translate.desired_tags(spec, ownership_tag))
    if "description" in changes:
        if spec.description:
            params["description"] = spec.description
        else:
            delete.append("description")
    if "ssh_keys" in changes:
        if spec.ssh_keys:
            params["sshkeys"] = translate.encode_sshkeys(spec.ssh_keys)
        else:
            delete.append("sshkeys")
    want = {n.slot: n for n in spec.networks}
    net_slots = {c for c in changes if translate.NET_RE.match(c)}
    for slot in sorted(net_slots, key=translate.slot_sort_key):
        net = want.get(slot)
        index = slot.removeprefix("net")
        if net is None:
            delete.append(slot)
            if kind == "vm" and f"ipconfig{index}" in raw:
                delete.append(f"ipconfig{index}")
            continue
        observed_value = raw.get(slot)
        if kind == "vm":
            params[slot] = _vm_net_value(net, str(observed_value) if observed_value else None)
            ip_key = f"ipconfig{index}"
            have_ip = translate.parse_ipconfig(str(raw[ip_key]) if raw.get(ip_key) else None)
            if net.ip is not None:
                if have_ip != (net.ip, net.gateway):
                    params[ip_key] = translate.format_ipconfig(net.ip, net.gateway)
            elif ip_key in raw:
                delete.append(ip_key)
        else:
            params[slot] = _ct_net_value(net, str(observed_value) if observed_value else None)
    for disk in spec.disks:
        if disk.slot in changes:
            params[disk.slot] = _disk_alloc(kind, disk.slot, disk.storage, disk.size_gib)
    if delete:
        params["delete"] = ",".join(delete)
    return params


def resize_params(spec: GuestSpec, raw: Mapping[str, Any]) -> list[dict[str, str]]:
    """``PUT resize`` parameters (absolute sizes) for every disk that must grow."""
    observed = translate.config_to_guest(spec.kind, raw)
    return [
        {"disk": change.slot, "size": translate.format_size(change.new_bytes)}
        for change in translate.disk_changes(spec, observed)
        if change.error is None
    ]


# --- network devices ----------------------------------------------------------------------


def _vm_net_value(net: NetworkSpec, observed: str | None) -> str:
    props = translate.parse_props(observed, "model") if observed else {"model": "virtio"}
    if "model" not in props:
        # the model is written as its own key with the MAC as value (virtio=BC:24:..)
        for key in list(props):
            if key in _QEMU_MODELS:
                break
        else:
            props = {"model": "virtio", **props}
    props["bridge"] = net.bridge
    _set_or_drop(props, "tag", str(net.vlan) if net.vlan is not None else None)
    props["firewall"] = "1" if net.firewall else "0"
    return translate.format_props(props, "model")


_QEMU_MODELS = frozenset({
    "e1000", "e1000-82540em", "e1000-82544gc", "e1000-82545em", "e1000e", "i82551",
    "i82557b", "i82559er", "ne2k_isa", "ne2k_pci", "pcnet", "rtl8139", "virtio", "vmxnet3",
})


def _ct_net_value(net: NetworkSpec, observed: str | None) -> str:
    props = translate.parse_props(observed, "name") if observed else {}
    props.setdefault("name", "eth" + net.slot.removeprefix("net"))
    props["bridge"] = net.bridge
    _set_or_drop(props, "tag", str(net.vlan) if net.vlan is not None else None)
    _set_or_drop(props, "ip", net.ip)
    _set_or_drop(props, "gw", net.gateway)
    props["firewall"] = "1" if net.firewall else "0"
    props.setdefault("type", "veth")
    name = props.pop("name")
    return translate.format_props({"name": name, **props}, None)


def _set_or_drop(props: dict[str, str], key: str, value: str | None) -> None:
    if value is None:
        props.pop(key, None)
    else:
        props[key] = value
