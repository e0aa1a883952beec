"""Spec ⇄ Proxmox config translation, both directions, as tables."""

from __future__ import annotations

import pytest

from mycopod.proxmox import payloads, translate
from mycopod.proxmox.errors import (
    AuthError,
    ConflictError,
    NotFoundError,
    PermanentError,
    TransientError,
    classify,
    upid_node,
)
from mycopod.proxmox.model import DiskState
from mycopod.spec import GuestSpec, NetworkSpec

GIB = 1024**3


@pytest.mark.parametrize(("text", "size"), [
    ("32G", 32 * GIB), ("512M", 512 * 1024**2), ("1T", 1024 * GIB), ("4096", 4096),
    ("1.5G", int(1.5 * GIB)), ("10K", 10240), ("2g", 2 * GIB),
])
def test_parse_size(text: str, size: int) -> None:
    assert translate.parse_size(text) == size


@pytest.mark.parametrize(("size", "text"), [
    (32 * GIB, "32G"), (512 * 1024**2, "512M"), (1024 * GIB, "1T"), (1536 * 1024**2, "1536M"),
    (100, "100"),
])
def test_format_size(size: int, text: str) -> None:
    assert translate.format_size(size) == text
    assert translate.parse_size(text) == size


def test_bad_size() -> None:
    with pytest.raises(translate.TranslateError):
        translate.parse_size("lots")


@pytest.mark.parametrize(("kind", "slot", "value", "expected"), [
    ("vm", "scsi0", "local-lvm:vm-101-disk-0,size=32G",
     DiskState("scsi0", "local-lvm", 32 * GIB, "local-lvm:vm-101-disk-0")),
    ("vm", "virtio1", "file=tank:101/vm-101-disk-1.qcow2,iothread=1,size=2T",
     DiskState("virtio1", "tank", 2048 * GIB, "tank:101/vm-101-disk-1.qcow2")),
    ("vm", "ide2", "local:iso/debian-12.iso,media=cdrom", None),
    ("vm", "ide2", "local-lvm:cloudinit,media=cdrom", None),
    ("vm", "ide0", "none,media=cdrom", None),
    ("ct", "rootfs", "local-zfs:subvol-102-disk-0,size=8G",
     DiskState("rootfs", "local-zfs", 8 * GIB, "local-zfs:subvol-102-disk-0")),
    ("ct", "mp0", "volume=tank:102/vm-102-disk-1.raw,mp=/mnt/mp0,size=100G",
     DiskState("mp0", "tank", 100 * GIB, "tank:102/vm-102-disk-1.raw")),
])
def test_parse_disk(kind: str, slot: str, value: str, expected: DiskState | None) -> None:
    assert translate.parse_disk(kind, slot, value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "value", "ipconfig", "expected"), [
    ("vm", "virtio=BC:24:11:00:00:01,bridge=vmbr0", "ip=dhcp",
     dict(bridge="vmbr0", vlan=None, ip="dhcp", gateway=None, firewall=False)),
    ("vm", "virtio=BC:24:11:00:00:01,bridge=vmbr1,firewall=1,tag=30",
     "ip=10.0.0.5/24,gw=10.0.0.1",
     dict(bridge="vmbr1", vlan=30, ip="10.0.0.5/24", gateway="10.0.0.1", firewall=True)),
    ("vm", "e1000=BC:24:11:00:00:01,bridge=vmbr0,firewall=0", None,
     dict(bridge="vmbr0", vlan=None, ip=None, gateway=None, firewall=False)),
    ("ct", "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:02,ip=192.168.1.53/24,"
     "gw=192.168.1.1,type=veth", None,
     dict(bridge="vmbr0", vlan=None, ip="192.168.1.53/24", gateway="192.168.1.1",
          firewall=False)),
    ("ct", "name=eth0,bridge=vmbr2,ip=dhcp,tag=50,firewall=1", None,
     dict(bridge="vmbr2", vlan=50, ip="dhcp", gateway=None, firewall=True)),
    ("ct", "name=eth0,bridge=vmbr0,ip=manual", None,
     dict(bridge="vmbr0", vlan=None, ip=None, gateway=None, firewall=False)),
])
def test_parse_net(kind: str, value: str, ipconfig: str | None, expected: dict) -> None:
    net = translate.parse_net(kind, "net0", value, ipconfig)  # type: ignore[arg-type]
    dumped = net.model_dump()
    assert {k: dumped[k] for k in ("slot", *expected)} == {"slot": "net0", **expected}
    # what NetworkSpec.model_construct of those fields gives (values, fields set, no
    # default shared with another network's)
    made = NetworkSpec.model_construct(**{k: dumped[k] for k in ("slot", *expected)})
    assert (net, net.model_fields_set, net.__dict__) == (
        made, made.model_fields_set, made.__dict__)
    other = translate.parse_net(kind, "net1", value, ipconfig)  # type: ignore[arg-type]
    assert other.slot == "net1" and net.slot == "net0"


@pytest.mark.parametrize(("text", "tags"), [
    ("a;b;mycopod", ("a", "b", "mycopod")), ("web,prod", ("prod", "web")),
    ("Prod mycopod", ("mycopod", "prod")), ("", ()), (None, ()), ("b;a;a", ("a", "b")),
])
def test_tags(text: str | None, tags: tuple[str, ...]) -> None:
    assert translate.parse_tags(text) == tags
    assert translate.parse_tags(translate.format_tags(tags)) == tags


@pytest.mark.parametrize("keys", [
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk1 admin@laptop",),
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk1 admin@laptop",
     "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ+/= other key (with) 'quotes'"),
])
def test_sshkeys_roundtrip(keys: tuple[str, ...]) -> None:
    encoded = translate.encode_sshkeys(keys)
    import re

    assert re.fullmatch(r"[-%a-zA-Z0-9_.!~*'()]*", encoded)
    assert translate.decode_sshkeys(encoded) == keys


def test_sshkeys_proxmox_form() -> None:
    assert translate.decode_sshkeys("ssh-ed25519%20AAAA%20me%40host%0A") == (
        "ssh-ed25519 AAAA me@host",)


@pytest.mark.parametrize(("text", "parsed"), [
    ("ip=10.0.0.5/24,gw=10.0.0.1", ("10.0.0.5/24", "10.0.0.1")),
    ("ip=dhcp", ("dhcp", None)),
    ("ip6=auto", (None, None)),
    (None, (None, None)),
])
def test_ipconfig(text: str | None, parsed: tuple[str | None, str | None]) -> None:
    assert translate.parse_ipconfig(text) == parsed
    if parsed[0] is not None:
        assert translate.parse_ipconfig(translate.format_ipconfig(*parsed)) == parsed


@pytest.mark.parametrize(("value", "kind", "mib"), [
    ("4096", "vm", 4096), ("current=2048", "vm", 2048), (None, "vm", 512), ("512", "ct", 512),
    (1024, "ct", 1024),
])
def test_memory(value: object, kind: str, mib: int) -> None:
    assert translate.parse_memory(value, kind) == mib  # type: ignore[arg-type]


def _vm(**fields: object) -> GuestSpec:
    base: dict[str, object] = {"name": "web-1", "cores": 2, "memory_mib": 4096}
    base.update(fields)
    return GuestSpec.model_validate(base)


def test_create_then_read_back_is_in_sync() -> None:
    spec = _vm(tags=["web"], onboot=True, description="front",
               networks=[{"bridge": "vmbr1", "vlan": 30, "ip": "10.0.0.5/24",
                          "gateway": "10.0.0.1", "firewall": True}],
               ssh_keys=["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk1 admin@laptop"])
    params = payloads.create_params(spec, vmid=101, ownership_tag="mycopod")
    assert params["scsi0"] == "local-lvm:32"
    assert params["net0"] == "virtio,bridge=vmbr1,tag=30,firewall=1"
    assert params["ipconfig0"] == "ip=10.0.0.5/24,gw=10.0.0.1"
    assert params["tags"] == "mycopod;web"
    # what Proxmox stores after the create
    config = {**params, "scsi0": "local-lvm:vm-101-disk-0,size=32G",
              "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr1,firewall=1,tag=30",
              "digest": "abc", "smbios1": "uuid=x", "ostype": "l26"}
    found = payloads.differences(spec, config, ownership_tag="mycopod")
    assert found.values == {} and found.resizes == [] and found.errors == []
    assert payloads.update_params(spec, config, ownership_tag="mycopod") == {}


def test_container_create_params() -> None:
    spec = GuestSpec.model_validate({
        "name": "pihole", "kind": "ct", "disks": [{"slot": "rootfs", "storage": "local-zfs",
                                                   "size_gib": 8},
                                                  {"slot": "mp0", "storage": "tank",
                                                   "size_gib": 100}],
        "networks": [{"ip": "192.168.1.53/24", "gateway": "192.168.1.1"}],
        "source": {"ostemplate": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"}})
    params = payloads.create_params(spec, vmid=102, ownership_tag="mycopod")
    assert params["hostname"] == "pihole"
    assert params["rootfs"] == "local-zfs:8"
    assert params["mp0"] == "tank:100,mp=/mnt/mp0"
    assert params["net0"] == ("name=eth0,bridge=vmbr0,ip=192.168.1.53/24,gw=192.168.1.1,"
                              "type=veth")
    assert "ssh-public-keys" not in params


def test_container_needs_template() -> None:
    spec = GuestSpec.model_validate({"name": "c", "kind": "ct"})
    with pytest.raises(translate.TranslateError, match="LXC template"):
        payloads.create_params(spec, vmid=102, ownership_tag="mycopod")


OBSERVED = {
    "name": "web-1", "cores": "2", "memory": "4096", "onboot": "0",
    "scsi0": "local-lvm:vm-101-disk-0,cache=writeback,size=32G",
    "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=0",
    "ipconfig0": "ip=dhcp", "tags": "mycopod", "digest": "d1", "ostype": "l26",
    "vmgenid": "x", "boot": "order=scsi0",
}


@pytest.mark.parametrize(("change", "params"), [
    ({"cores": 4}, {"cores": "4"}),
    ({"memory_mib": 8192}, {"memory": "8192"}),
    ({"onboot": True}, {"onboot": "1"}),
    ({"tags": ["web"]}, {"tags": "mycopod;web"}),
    ({"description": "hi"}, {"description": "hi"}),
    ({"networks": [{"bridge": "vmbr1"}]},
     {"net0": "virtio=BC:24:11:00:00:01,bridge=vmbr1,firewall=0"}),
    ({"networks": [{"vlan": 30}]},
     {"net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0,tag=30,firewall=0"}),
    # only the stated IP: the NIC itself (bridge, firewall unstated) is left as it is
    ({"networks": [{"ip": "10.0.0.5/24", "gateway": "10.0.0.1"}]},
     {"ipconfig0": "ip=10.0.0.5/24,gw=10.0.0.1"}),
    ({"disks": [{"slot": "scsi0", "size_gib": 32}, {"slot": "scsi1", "storage": "tank",
                                                    "size_gib": 100}]},
     {"scsi1": "tank:100"}),
])
def test_update_changes_only_managed_keys(change: dict, params: dict) -> None:
    spec = _vm(networks=[{}], **change) if "networks" not in change else _vm(**change)
    found = payloads.differences(spec, OBSERVED, ownership_tag="mycopod")
    assert found.values.keys() == params.keys()
    got = payloads.update_params(spec, OBSERVED, ownership_tag="mycopod")
    assert got.keys() == params.keys()
    for key, value in params.items():
        assert translate.parse_props(str(got[key])) == translate.parse_props(str(value))


def test_unmanaged_fields_and_defaults_are_no_diff() -> None:
    spec = _vm()
    config = {**OBSERVED, "agent": "1", "cpu": "host", "balloon": "0", "smbios1": "uuid=1",
              "ide2": "local-lvm:cloudinit,media=cdrom", "unused0": "local-lvm:vm-101-disk-9"}
    assert payloads.update_params(spec, config, ownership_tag="mycopod") == {}


@pytest.mark.parametrize(("size", "want", "error"), [
    (32, 64, None), (64, 32, "disks only grow"), (32, 32, "none"),
])
def test_disk_changes(size: int, want: int, error: str | None) -> None:
    spec = _vm(disks=[{"slot": "scsi0", "size_gib": want}])
    found = payloads.differences(
        spec, {**OBSERVED, "scsi0": f"local-lvm:vm-101-disk-0,size={size}G"},
        ownership_tag="mycopod")
    if error == "none":
        assert found.resizes == [] and found.errors == []
    elif error is None:
        assert [(r.slot, r.old_bytes, r.new_bytes) for r in found.resizes] == [
            ("scsi0", 32 * GIB, 64 * GIB)]
    else:
        assert found.errors and error in found.errors[0] and found.resizes == []


def test_storage_change_is_an_error() -> None:
    spec = _vm(disks=[{"slot": "scsi0", "storage": "tank", "size_gib": 32}])
    found = payloads.differences(spec, OBSERVED, ownership_tag="mycopod")
    assert found.errors and "does not move disks" in found.errors[0]


def test_resize_params_absolute() -> None:
    spec = _vm(disks=[{"slot": "scsi0", "size_gib": 40}])
    assert payloads.resize_params(spec, OBSERVED) == [{"disk": "scsi0", "size": "40G"}]


def test_apply_pending() -> None:
    config = {"cores": "2", "memory": "2048", "onboot": "1"}
    pending = [{"key": "cores", "value": "2", "pending": "4"},
               {"key": "memory", "value": "2048"},
               {"key": "onboot", "value": "1", "delete": 1}]
    assert translate.apply_pending(config, pending) == {"cores": "4", "memory": "2048"}
    assert translate.has_pending(pending)
    assert not translate.has_pending([{"key": "cores", "value": "2"}])


def test_net_slot_removed_and_ct_net_kept_mac() -> None:
    spec = GuestSpec.model_validate({"name": "c", "kind": "ct",
                                     "networks": [{"bridge": "vmbr1"}]})
    raw = {"hostname": "c", "cores": "1", "memory": "512", "tags": "mycopod",
           "rootfs": "local-lvm:vm-1-disk-0,size=8G",
           "net0": "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:02,ip=dhcp,type=veth",
           "net1": "name=eth1,bridge=vmbr0,ip=dhcp"}
    params = payloads.update_params(spec, raw, ownership_tag="mycopod")
    # firewall is not stated: not written
    assert params["net0"] == "name=eth0,bridge=vmbr1,hwaddr=BC:24:11:00:00:02,ip=dhcp,type=veth"
    assert params["delete"] == "net1"


def test_network_spec_equal_ignores_mac() -> None:
    a = translate.parse_net("vm", "net0", "virtio=AA:AA:AA:AA:AA:AA,bridge=vmbr0", "ip=dhcp")
    assert a == NetworkSpec(slot="net0")


@pytest.mark.parametrize(("status", "message", "cls"), [
    (500, "VM 101 is locked (create)", TransientError),
    (500, "got timeout", TransientError),
    (500, "got no worker upid - start worker failed", TransientError),
    (503, "Service Unavailable", TransientError),
    (596, "Broken pipe", TransientError),
    (None, "Connection refused", TransientError),
    (500, "Configuration file 'nodes/pve1/qemu-server/101.conf' does not exist",
     NotFoundError),
    (500, "unable to create VM 101 - VM 101 already exists on node 'pve1'", ConflictError),
    (500, "detected modified configuration - file changed by other user? Try again. "
     "(checksum mismatch)", ConflictError),
    (500, "detected modified configuration - file changed by other user? Try again.",
     ConflictError),
    (500, "checksum missmatch (file change by other user?)", ConflictError),
    (400, "Parameter verification failed.", PermanentError),
    (500, "storage 'nope' does not support content-type 'images'", PermanentError),
    (401, "authentication failure", AuthError),
    (404, "Not Found", NotFoundError),
])
def test_classify(status: int | None, message: str, cls: type) -> None:
    assert classify(status, message) is cls


def test_upid_node() -> None:
    assert upid_node("UPID:pve2:000A1B2C:0012F00D:6543ABCD:qmcreate:101:root@pam:") == "pve2"
