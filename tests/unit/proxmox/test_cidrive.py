"""A VM's cloud-init drive: the spec field, its config key both ways (import and
reconcile), and how a change to it reaches a running VM."""

from __future__ import annotations

from typing import Any

import pytest

from mycopod.proxmox import describe, devices, payloads
from mycopod.reconcile import changes
from mycopod.spec import GuestSpec, ValidationError, parse_spec, stated

DISK = "local-lvm:vm-101-disk-0,size=32G"
DRIVE = "tank:vm-101-cloudinit,media=cdrom"


def vm(**fields: Any) -> GuestSpec:
    return GuestSpec.model_validate({"name": "web-1", **fields})


def test_only_what_is_said_is_stated() -> None:
    drive = vm(cloudinit_drive={}).cloudinit_drive
    assert drive is not None and stated(drive) == frozenset()
    drive = vm(cloudinit_drive={"slot": "ide0", "storage": "tank"}).cloudinit_drive
    assert drive is not None and stated(drive) == {"slot", "storage"}
    assert "cloudinit_drive" not in stated(vm())


@pytest.mark.parametrize(("fields", "message"), [
    ({"cloudinit_drive": {"slot": "scsi0"}}, "slot scsi0 holds a disk or a CD-ROM"),
    ({"cloudinit_drive": {"slot": "ide2"}, "cdroms": [{"slot": "ide2"}]},
     "slot ide2 holds a disk or a CD-ROM"),
    ({"cloudinit_drive": {"slot": "net0"}}, "not a slot for a cloud-init drive"),
    ({"cloudinit_drive": {"storage": "bad storage"}}, "not a valid Proxmox storage id"),
    ({"kind": "ct", "cloudinit_drive": {}}, "only for a VM"),
])
def test_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        vm(**fields)


def test_stored_form_keeps_only_what_was_stated() -> None:
    spec = parse_spec({"guests": [{"name": "a", "cloudinit_drive": {"storage": "tank"}}]})
    again = parse_spec(spec.model_dump(exclude_unset=True))
    drive = again.guests[0].cloudinit_drive
    assert drive is not None and stated(drive) == {"storage"} and drive.slot is None


@pytest.mark.parametrize(("declared", "raw", "expected"), [
    # unstated: the owner's drive is kept, even with other cloud-init keys declared
    (None, {"ide2": DRIVE}, {}),
    # stated and there (any slot, any storage): nothing to do
    ({}, {"ide2": DRIVE}, {}),
    ({"slot": "ide2", "storage": "tank"}, {"ide2": DRIVE}, {}),
    ({"storage": "tank"}, {"sata1": DRIVE.replace("vm-101", "vm-9")}, {}),
    # absent: created on the first disk's storage, in the first free slot
    ({}, {}, {"ide2": "local-lvm:cloudinit"}),
    ({}, {"ide2": "none,media=cdrom"}, {"ide0": "local-lvm:cloudinit"}),
    ({"slot": "scsi5", "storage": "tank"}, {}, {"scsi5": "tank:cloudinit"}),
    # on another storage or slot than declared: replaced
    ({"storage": "ceph"}, {"ide2": DRIVE}, {"ide2": "ceph:cloudinit"}),
    ({"slot": "ide0"}, {"ide2": DRIVE}, {"ide2": None, "ide0": "local-lvm:cloudinit"}),
    # a second drive (made by hand) goes: a guest has one
    ({}, {"ide2": DRIVE, "ide0": DRIVE}, {"ide2": None}),
])
def test_desired(declared: dict[str, str] | None, raw: dict[str, str],
                 expected: dict[str, str | None]) -> None:
    guest = vm(cloudinit_drive=declared, disks=[{"slot": "scsi0", "size_gib": 32}])
    found = devices.desired(guest, {"scsi0": DISK, **raw})
    assert found.values == expected and found.errors == []


def test_a_declared_slot_holding_something_else_is_a_plan_error() -> None:
    found = devices.desired(vm(cloudinit_drive={"slot": "ide2"}),
                            {"ide2": "local:iso/x.iso,media=cdrom"})
    assert found.values == {}
    assert found.errors == ["ide2 holds a cdrom, declared the cloud-init drive; give the "
                            "cloud-init drive another slot"]


def test_create_sends_storage_cloudinit() -> None:
    guest = vm(cloudinit_drive={"slot": "ide0", "storage": "tank"}, ci_user="ops")
    params = payloads.create_params(guest, vmid=101, ownership_tag="mycopod")
    assert params["ide0"] == "tank:cloudinit" and params["ciuser"] == "ops"
    # an ISO source takes ide2: the drive goes to the next free slot
    guest = vm(cloudinit_drive={}, source={"iso": "local:iso/x.iso"})
    params = payloads.create_params(guest, vmid=101, ownership_tag="mycopod")
    assert params["ide2"] == "local:iso/x.iso,media=cdrom"
    assert params["ide0"] == "local-lvm:cloudinit"


def test_import_pins_it_and_compares_equal() -> None:
    raw = {"name": "web-1", "scsi0": DISK, "ide2": DRIVE, "ciuser": "ops",
           "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0"}
    found = describe.describe("vm", raw, vmid=101, node="pve1", status="running", pool=None,
                              ownership_tag="mycopod")
    assert found.spec is not None
    assert found.spec.cloudinit_drive is not None
    assert found.spec.cloudinit_drive.model_dump() == {"slot": "ide2", "storage": "tank"}
    assert not any("cloud-init drive" in line for line in found.left_out)
    assert payloads.differences(found.spec, raw, ownership_tag="mycopod").values == {
        "tags": "mycopod"}
    # the guest rebuilt from it gets the same drive
    params = payloads.create_params(found.spec, vmid=101, ownership_tag="mycopod")
    assert params["ide2"] == "tank:cloudinit"


@pytest.mark.parametrize(("key", "old", "new", "expected"), [
    ("ide2", None, "local-lvm:cloudinit", ("cloudinit", False)),
    ("scsi5", None, "local-lvm:cloudinit", ("cloudinit", False)),
    ("ide2", DRIVE, None, ("destructive", False)),
    ("ide2", DRIVE, "ceph:cloudinit", ("destructive", False)),
])
def test_change_class(key: str, old: str | None, new: str | None,
                      expected: tuple[str, bool]) -> None:
    hot = {"hotplug": "network,disk,usb"}
    assert changes.classify("vm", key, old, new, hot) == expected
