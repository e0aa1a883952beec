"""Change classes (qemu-server's and pve-container's hot-plug rules) as a table, and the
planner on whole guests: only stated settings are managed."""

from __future__ import annotations

from typing import Any

import pytest

from mycopod.reconcile import changes, planner
from mycopod.spec import ClusterSpec, GuestSpec
from tests.support.plans import cluster, materialize, observed_guest, policy

DEFAULT_HOTPLUG: dict[str, Any] = {}
ALL_HOTPLUG = {"hotplug": "network,disk,usb,cpu,memory", "numa": "1"}


@pytest.mark.parametrize(("kind", "key", "old", "new", "current", "expected"), [
    # cores and sockets are never hot-plugged, whatever hotplug says; vcpus with cpu
    ("vm", "cores", "2", "4", ALL_HOTPLUG, ("restart", False)),
    ("vm", "sockets", "1", "2", ALL_HOTPLUG, ("restart", False)),
    ("vm", "vcpus", "2", "4", ALL_HOTPLUG, ("live", True)),
    ("vm", "vcpus", "2", "4", DEFAULT_HOTPLUG, ("restart", False)),
    # memory needs memory hotplug *and* NUMA
    ("vm", "memory", "4096", "8192", ALL_HOTPLUG, ("live", True)),
    ("vm", "memory", "4096", "8192", {"hotplug": "memory"}, ("restart", False)),
    ("vm", "memory", "4096", "8192", DEFAULT_HOTPLUG, ("restart", False)),
    ("vm", "balloon", "2048", "1024", DEFAULT_HOTPLUG, ("live", True)),
    ("vm", "balloon", "0", "1024", DEFAULT_HOTPLUG, ("restart", False)),
    ("vm", "cpu", "kvm64", "host", ALL_HOTPLUG, ("restart", False)),
    ("vm", "cpulimit", None, "2", DEFAULT_HOTPLUG, ("live", True)),
    # fast-plug options and cloud-init
    ("vm", "onboot", "0", "1", DEFAULT_HOTPLUG, ("live", True)),
    ("vm", "protection", None, "1", DEFAULT_HOTPLUG, ("live", True)),
    ("vm", "startup", None, "order=2", DEFAULT_HOTPLUG, ("live", True)),
    ("vm", "ciuser", None, "ops", DEFAULT_HOTPLUG, ("cloudinit", False)),
    ("vm", "ipconfig0", "ip=dhcp", "ip=10.0.0.5/24", DEFAULT_HOTPLUG, ("cloudinit", False)),
    ("vm", "nameserver", None, "1.1.1.1", DEFAULT_HOTPLUG, ("cloudinit", False)),
    ("vm", "sshkeys", None, "ssh-ed25519%20AAAA", DEFAULT_HOTPLUG, ("cloudinit", False)),
    # firmware
    ("vm", "bios", None, "ovmf", DEFAULT_HOTPLUG, ("destructive", False)),
    ("vm", "efidisk0", None, "local-lvm:1,efitype=4m", DEFAULT_HOTPLUG, ("restart", False)),
    ("vm", "efidisk0", "local-lvm:vm-1-disk-1,efitype=2m", "local-lvm:1,efitype=4m",
     DEFAULT_HOTPLUG, ("destructive", False)),
    ("vm", "tpmstate0", None, "local-lvm:1,version=v2.0", DEFAULT_HOTPLUG, ("restart", False)),
    ("vm", "machine", "pc", "q35", DEFAULT_HOTPLUG, ("restart", False)),
    # NICs: bridge/tag/firewall live even with hotplug=0; model/mac/mtu/queues need it
    ("vm", "net0", "virtio=BC:24:11:00:00:01,bridge=vmbr0",
     "virtio=BC:24:11:00:00:01,bridge=vmbr1,tag=5,firewall=1", {"hotplug": "0"}, ("live", True)),
    ("vm", "net0", "virtio=BC:24:11:00:00:01,bridge=vmbr0",
     "e1000=BC:24:11:00:00:01,bridge=vmbr0", {"hotplug": "0"}, ("restart", False)),
    ("vm", "net0", "virtio=BC:24:11:00:00:01,bridge=vmbr0",
     "virtio=BC:24:11:00:00:01,bridge=vmbr0,mtu=9000", DEFAULT_HOTPLUG, ("live", True)),
    ("vm", "net1", None, "virtio,bridge=vmbr0", DEFAULT_HOTPLUG, ("live", True)),
    ("vm", "net1", None, "virtio,bridge=vmbr0", {"hotplug": "0"}, ("restart", False)),
    ("vm", "net1", "virtio=BC:24:11:00:00:02,bridge=vmbr0", None, DEFAULT_HOTPLUG,
     ("destructive", True)),
    # disks: IDE/SATA never hot-plug; cache & co need a restart; backup is live
    ("vm", "scsi1", None, "tank:100", DEFAULT_HOTPLUG, ("live", True)),
    ("vm", "sata1", None, "tank:100", DEFAULT_HOTPLUG, ("restart", False)),
    ("vm", "ide1", None, "tank:100", ALL_HOTPLUG, ("restart", False)),
    ("vm", "scsi1", "tank:vm-1-disk-1,size=100G", None, DEFAULT_HOTPLUG, ("destructive", True)),
    ("vm", "scsi1", "tank:vm-1-disk-1,size=100G", "tank:vm-1-disk-1,size=100G,ssd=1",
     DEFAULT_HOTPLUG, ("restart", False)),
    ("vm", "scsi1", "tank:vm-1-disk-1,size=100G", "tank:vm-1-disk-1,size=100G,backup=0",
     DEFAULT_HOTPLUG, ("live", True)),
    ("vm", "ide2", "none,media=cdrom", "local:iso/d.iso,media=cdrom", DEFAULT_HOTPLUG,
     ("live", True)),
    ("vm", "ide2", "local:iso/d.iso,media=cdrom", "tank:10", DEFAULT_HOTPLUG,
     ("destructive", False)),
    ("vm", "hostpci0", None, "mapping=gpu", ALL_HOTPLUG, ("restart", False)),
    ("vm", "usb0", None, "mapping=key", {"ostype": "l26"}, ("live", True)),
    ("vm", "agent", "1", "1,fstrim_cloned_disks=1", DEFAULT_HOTPLUG, ("live", True)),
    ("vm", "agent", None, "1", DEFAULT_HOTPLUG, ("restart", False)),
    # containers
    ("ct", "cores", "1", "2", {}, ("live", True)),
    ("ct", "memory", "512", "1024", {}, ("live", True)),
    ("ct", "swap", "512", "0", {}, ("live", True)),
    ("ct", "nameserver", None, "1.1.1.1", {}, ("restart", False)),
    ("ct", "searchdomain", None, "example.com", {}, ("restart", False)),
    ("ct", "features", None, "nesting=1", {}, ("restart", False)),
    ("ct", "mp0", None, "tank:100,mp=/data", {}, ("live", True)),
    ("ct", "mp0", "tank:vm-1-disk-1,mp=/data", "tank:vm-1-disk-1,mp=/srv", {},
     ("restart", False)),
    ("ct", "mp0", "tank:vm-1-disk-1,mp=/data", None, {}, ("destructive", False)),
    ("ct", "net0", "name=eth0,bridge=vmbr0", "name=eth0,bridge=vmbr1,tag=4", {},
     ("live", True)),
    ("ct", "unprivileged", "1", "0", {}, ("create_only", False)),
])
def test_change_classes(kind: str, key: str, old: str | None, new: str | None,
                        current: dict[str, Any], expected: tuple[str, bool]) -> None:
    assert changes.classify(kind, key, old, new, current) == expected


def g(**fields: Any) -> GuestSpec:
    return GuestSpec.model_validate({"name": "web-1", **fields})


def test_cloudinit_password_is_compared_by_is_set_and_never_shown() -> None:
    want = g(ci_user="ops", ci_password="ops-password")
    raw = materialize(g(), 101)
    found = changes.guest_changes(want, raw, ownership_tag="mycopod")
    password = next(c for c in found.changes if c.key == "cipassword")
    assert "(secret)" in password.reason and password.cls == "cloudinit"
    masked = {**raw, "ciuser": "ops", "cipassword": "**********"}
    assert changes.guest_changes(want, masked, ownership_tag="mycopod").changes == []


WHOLE = {"cores": 2, "sockets": 2, "memory_mib": 8192, "balloon_mib": 4096,
         "cpu_type": "host", "bios": "ovmf", "machine": "q35", "ostype": "win11",
         "tpm": {"version": "v2.0"}, "agent": True, "protection": True,
         "startup": {"order": 2}, "cdroms": [{"slot": "ide2", "iso": "local:iso/w.iso"}],
         "disks": [{"slot": "scsi0", "size_gib": 64, "iothread": True, "discard": True}],
         "networks": [{"slot": "net0", "bridge": "vmbr0", "vlan": 5}],
         "tags": ["win"]}


@pytest.mark.parametrize(("key", "value", "corrected"), [
    # stated settings edited by hand are corrected...
    ("cores", "4", True), ("cpu", "kvm64", True), ("balloon", "0", True),
    ("protection", "0", True), ("startup", "order=9", True),
    ("net0", "virtio=BC:24:11:00:00:09,bridge=vmbr0,tag=7", True),
    # ...unstated ones (and unstated options of stated devices) are left alone
    ("numa", "1", False), ("vga", "qxl", False), ("tablet", "0", False),
    ("description", "edited by hand", False), ("onboot", "1", False),
    ("net0", "virtio=BC:24:11:00:00:09,bridge=vmbr0,tag=5,firewall=1,mtu=9000", False),
    ("scsi0", "local-lvm:vm-101-disk-0,size=64G,iothread=1,discard=on,cache=writeback", False),
    ("args", "-cpu host", False), ("hookscript", "local:snippets/h.pl", False),
])
def test_undeclared_setting_left_alone_declared_one_corrected(key: str, value: str,
                                                               corrected: bool) -> None:
    want = g(**WHOLE)
    raw = {**materialize(want, 101), key: value}
    seen = observed_guest(want, 101, running=True, config=raw)
    plan = planner.plan(ClusterSpec(guests=[want]), cluster(seen), policy())
    planned = {k for a in plan.actions for k in (getattr(a.params, "keys", None) or ())}
    assert (key in planned) is corrected, plan.actions
    if key in ("args", "hookscript"):
        assert plan.guests[0].left_alone == [key]


def test_in_sync_whole_guest_plans_nothing() -> None:
    want = g(**WHOLE)
    seen = observed_guest(want, 101, running=True)
    plan = planner.plan(ClusterSpec(guests=[want]), cluster(seen), policy())
    assert plan.actions == [] and plan.errors == [], plan


def test_removing_a_declared_disk_is_destructive_and_waits_for_approval() -> None:
    before = g(disks=[{"slot": "scsi0", "size_gib": 32}, {"slot": "scsi1", "size_gib": 100}])
    after = g(disks=[{"slot": "scsi0", "size_gib": 32}])
    seen = observed_guest(before, 101, running=True)
    plan = planner.plan(ClusterSpec(guests=[after]), cluster(seen), policy())
    assert [(a.kind, a.destructive) for a in plan.actions] == [("remove_device", True)]
    assert plan.actions[0].params.keys == ("scsi1",)  # type: ignore[union-attr]
    assert any("remove_device" in r for r in plan.approval_reasons)


def test_firmware_change_is_destructive_configure() -> None:
    seen = observed_guest(g(), 101)
    plan = planner.plan(ClusterSpec(guests=[g(bios="ovmf")]), cluster(seen), policy())
    kinds = [(a.kind, a.destructive) for a in plan.actions]
    assert ("configure", True) in kinds and plan.approval_reasons


@pytest.mark.parametrize(("restart_on_change", "expected"), [
    (False, ["configure"]), (True, ["configure", "stop", "start"]),
])
def test_pending_restart_or_restart(restart_on_change: bool, expected: list[str]) -> None:
    seen = observed_guest(g(), 101, running=True)
    plan = planner.plan(ClusterSpec(guests=[g(cores=4, ci_user="ops")]), cluster(seen),
                        policy(restart_on_change=restart_on_change))
    assert [a.kind for a in plan.actions] == expected
    if not restart_on_change:
        assert plan.pending_restart[0].changes == ("ciuser none → ops", "cores none → 4")


def test_pool_change_is_an_action() -> None:
    seen = observed_guest(g(), 101, running=True)
    plan = planner.plan(ClusterSpec(guests=[g(pool="prod")]), cluster(seen), policy())
    assert [a.kind for a in plan.actions] == ["set_pool"]


def test_unprivileged_change_is_a_plan_error() -> None:
    want = g(kind="ct", unprivileged=False)
    seen = observed_guest(g(kind="ct"), 101, running=True)
    plan = planner.plan(ClusterSpec(guests=[want]), cluster(seen), policy())
    assert plan.actions == [] and "only be set when the guest is created" in \
        plan.errors[0].message
