"""The first full resync's parsing, made cheaper, gives what it gave before.

``parse_props`` splits a value without whitespace without stripping anything;
``config_to_guest`` sorts only the device keys; ``devices`` parses each disk's value
once (its kind and its comparison). These tests hold the results to the earlier
code's (kept here as the reference) and to literal expected values."""

from __future__ import annotations

from typing import Any

import pytest

from mycopod.proxmox import devices, keys, translate
from mycopod.spec import GuestSpec


def reference_parse_props(text: str | None, default_key: str | None = None) -> dict[str, str]:
    """parse_props as it was: every part, key and value stripped."""
    props: dict[str, str] = {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            key, _, value = part.partition("=")
            props[key.strip()] = value.strip()
        elif default_key is not None and default_key not in props:
            props[default_key] = part
        else:
            props[part] = ""
    return props


VALUES = [
    None, "", ",", ",,", "local-lvm:vm-101-disk-0,size=32G",
    "local-lvm:vm-101-disk-0, size=32G", " local-lvm:vm-101-disk-0 ,size = 32G ",
    "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,firewall=1,tag=20",
    "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth",
    "none,media=cdrom", "cdrom", "a,b,c", "a,,b=", "=x", "k==v", "ip=10.0.0.5/24,gw=10.0.0.1",
    "tank:8,ssd=1,cache=writeback,discard=on", "/dev/sdb,backup=0", "a=1,a=2", "x,file=y",
    "file=y,x", "current=4096", "4096", "a\t=b", "a=b\n", "a=\xa0b", "\u3000a=b",
]


@pytest.mark.parametrize("text", VALUES)
@pytest.mark.parametrize("default_key", [None, "file", "volume", "model", "current"])
def test_parse_props_gives_what_it_gave(text: str | None, default_key: str | None) -> None:
    assert keys.parse_props(text, default_key) == reference_parse_props(text, default_key)


def test_parse_props_strips_every_whitespace_str_strip_strips() -> None:
    spaces = [chr(c) for c in range(0x3100) if chr(c).isspace()]
    assert len(spaces) > 20  # the unicode ones too, not just " \t\n"
    for space in spaces:
        text = f"{space}file{space}={space}tank:1{space},size=8G"
        assert keys.parse_props(text) == {"file": "tank:1", "size": "8G"}, repr(space)


def test_parse_props_reads_a_disk_and_a_nic() -> None:
    assert keys.parse_props("tank:vm-101-disk-0,size=8G", "file") == {
        "file": "tank:vm-101-disk-0", "size": "8G"}
    assert keys.parse_props("virtio=BC:24:11:AA:BB:CC,bridge=vmbr0") == {
        "virtio": "BC:24:11:AA:BB:CC", "bridge": "vmbr0"}


def test_config_to_guest_keeps_the_slot_order_and_skips_what_is_not_a_device() -> None:
    config = {"scsi10": "tank:vm-1-disk-2,size=4G", "net1": "virtio=BC:24:11:00:00:02,bridge=b",
              "sata0": "tank:vm-1-disk-3,size=1G", "scsi2": "tank:vm-1-disk-1,size=2G",
              "ide2": "none,media=cdrom", "net0": "e1000=BC:24:11:00:00:01,bridge=a",
              "ipconfig0": "ip=10.0.0.5/24,gw=10.0.0.1", "memory": "2048", "name": "v",
              "smbios1": "uuid=x", "vmgenid": "y", "scsihw": "virtio-scsi-pci",
              "numa": "0", "virtio0": "tank:vm-1-disk-4,size=3G", "meta": "z"}
    guest = translate.config_to_guest("vm", config)
    assert [d.slot for d in guest.disks] == ["sata0", "scsi2", "scsi10", "virtio0"]
    assert [d.size_bytes // translate.GIB for d in guest.disks] == [1, 2, 4, 3]
    assert [(n.slot, n.bridge, n.ip) for n in guest.networks] == [
        ("net0", "a", "10.0.0.5/24"), ("net1", "b", None)]
    ct = translate.config_to_guest("ct", {
        "mp1": "tank:subvol-2-disk-2,mp=/b,size=2G", "rootfs": "tank:subvol-2-disk-0,size=8G",
        "mp0": "tank:subvol-2-disk-1,mp=/a,size=1G", "memory": "512", "hostname": "c",
        "net0": "name=eth0,bridge=vmbr0,ip=dhcp,type=veth", "nameserver": "1.1.1.1"})
    assert [d.slot for d in ct.disks] == ["rootfs", "mp0", "mp1"]
    assert [(n.slot, n.ip) for n in ct.networks] == [("net0", "dhcp")]


def _vm(**fields: Any) -> GuestSpec:
    return GuestSpec.model_validate({"name": "v", **fields})


def test_disks_compared_from_one_parse_each() -> None:
    """Drift of each kind on a VM's disks: grown, shrunk, moved, an option changed, a
    CD-ROM in a declared disk slot, an undeclared disk removed, one unchanged."""
    raw = {
        "scsi0": "tank:vm-1-disk-0,size=8G",  # unchanged
        "scsi1": "tank:vm-1-disk-1,size=8G,cache=writeback",  # grows, cache drifts
        "scsi2": "tank:vm-1-disk-2,size=16G",  # declared smaller
        "scsi3": "other:vm-1-disk-3,size=8G",  # declared on tank
        "ide2": "none,media=cdrom",  # declared a disk
        "virtio0": "tank:vm-1-disk-4,size=1G",  # not declared
        "sata0": "/dev/sdb",  # a host path: not a disk MycoPod manages
    }
    spec = _vm(disks=[
        {"slot": "scsi0", "storage": "tank", "size_gib": 8},
        {"slot": "scsi1", "storage": "tank", "size_gib": 10, "cache": "none"},
        {"slot": "scsi2", "storage": "tank", "size_gib": 8},
        {"slot": "scsi3", "storage": "tank", "size_gib": 8},
        {"slot": "ide2", "storage": "tank", "size_gib": 2},
    ])
    found = devices.desired(spec, raw)
    assert found.values == {"scsi1": "tank:vm-1-disk-1,size=8G,cache=none",
                            "virtio0": None}
    assert [(r.slot, r.old_bytes, r.new_bytes) for r in found.resizes] == [
        ("scsi1", 8 * translate.GIB, 10 * translate.GIB)]
    assert found.errors == [  # in slot order (the spec sorts its disks)
        "ide2 holds a cdrom, declared a disk; free the slot or declare the disk on another one",
        "disk scsi2 is 16 GiB, declared 8 GiB; disks only grow (declare at least 16 GiB)",
        "disk scsi3 is on storage other, declared tank; MycoPod does not move disks yet "
        "(move it in Proxmox or declare other)",
    ]
    # nothing differs: nothing to change
    same = _vm(disks=[{"slot": "scsi0", "storage": "tank", "size_gib": 8}])
    assert devices.desired(same, {"scsi0": raw["scsi0"]}).values == {}


def test_container_volumes_compared_from_one_parse_each() -> None:
    raw = {"rootfs": "tank:subvol-2-disk-0,size=8G",
           "mp0": "tank:subvol-2-disk-1,mp=/srv,size=4G,backup=1",
           "mp1": "tank:subvol-2-disk-2,mp=/old,size=1G"}
    spec = GuestSpec.model_validate({"name": "c", "kind": "ct", "disks": [
        {"slot": "rootfs", "storage": "tank", "size_gib": 8},
        {"slot": "mp0", "storage": "tank", "size_gib": 4, "path": "/data", "backup": True}]})
    found = devices.desired(spec, raw)
    assert found.values == {"mp0": "tank:subvol-2-disk-1,mp=/data,size=4G,backup=1",
                            "mp1": None}
    assert found.errors == [] and found.resizes == []


def test_an_observed_guest_with_its_read_is_what_replace_makes() -> None:
    from dataclasses import fields, replace

    from mycopod.proxmox.model import ObservedGuest
    from mycopod.proxmox.observer import Observer, _Config

    guest = ObservedGuest(vmid=101, kind="vm", name="web", node="pve2", status="running",
                          lock="backup", tags=("mycopod", "web"), template=False, pool="p",
                          maxmem=2, maxcpu=1.5, maxdisk=3, owned=True, in_inventory=True,
                          recorded_name="web")
    config = translate.config_to_guest("vm", {"name": "web", "memory": "2048"})
    pending = translate.config_to_guest("vm", {"name": "web", "memory": "4096"})
    read = _Config(current=config, pending=pending, digest="abc")
    made = Observer._with_read(guest, read)
    assert made == replace(guest, current=config, pending=pending, digest="abc")
    assert [getattr(made, f.name) for f in fields(made)][-3:] == [config, pending, "abc"]
    assert made.name == "web" and made.node == "pve2" and guest.current is None
    assert hash(made.tags) == hash(("mycopod", "web"))
