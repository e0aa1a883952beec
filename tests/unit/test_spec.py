"""The spec contract: defaults, canonical form, validation messages naming guest and field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mycopod import spec as specmod


def guest(**fields: Any) -> dict[str, Any]:
    return {"name": "web-1", **fields}


def test_defaults_sorting_and_normalisation() -> None:
    spec = specmod.parse_spec({"guests": [
        guest(name="zeta", kind="ct", tags=["Web", "a", "web"]),
        guest(name="alpha", disks=[{"slot": "scsi1", "size_gib": 5},
                                   {"slot": "scsi0", "size_gib": 10}],
              ssh_keys=["ssh-ed25519   AAAA  me@host", "ssh-ed25519 AAAA me@host"]),
    ]})
    alpha, zeta = spec.guests
    assert (alpha.name, zeta.name) == ("alpha", "zeta")
    assert [d.slot for d in alpha.disks] == ["scsi0", "scsi1"]
    assert alpha.ssh_keys == ["ssh-ed25519 AAAA me@host"]
    assert zeta.tags == ["a", "web"]
    assert (zeta.memory_mib, zeta.disks[0].slot, zeta.disks[0].size_gib) == (512, "rootfs", 8)
    assert (alpha.memory_mib, alpha.networks[0].ip) == (1024, "dhcp")
    data = json.loads(specmod.canonical_json(spec))
    keys = list(data["guests"][0])
    # the contract of DESIGN.md first, in its order; the whole-guest settings after it,
    # null or [] because the text did not state them
    assert keys[:15] == [
        "name", "kind", "state", "node", "vmid", "cores", "memory_mib", "disks", "networks",
        "source", "onboot", "tags", "pool", "description", "ssh_keys"]
    assert all(data["guests"][0][k] in (None, []) for k in keys[15:])
    assert specmod.parse_spec(data) == spec


def test_only_what_is_stated_is_managed_and_stored() -> None:
    spec = specmod.parse_spec({"guests": [guest(cores=2, sockets=2, balloon_mib=None,
                                                cdroms=[], networks=[{"bridge": "vmbr1"}])]})
    web = spec.guests[0]
    assert specmod.stated(web) == {"name", "cores", "sockets", "networks"}
    assert specmod.stated(web.networks[0]) == {"slot", "bridge"}
    stored = specmod.spec_dict(spec)
    assert stored == {"guests": [{"name": "web-1", "kind": "vm", "cores": 2, "sockets": 2,
                                  "networks": [{"slot": "net0", "bridge": "vmbr1"}]}]}
    again = specmod.parse_spec(stored).guests[0]
    assert again == web
    assert specmod.stated(again) == specmod.stated(web) | {"kind"}


@pytest.mark.parametrize(("data", "message"), [
    (guest(name="Web_1"), "guest 'Web_1', field name: 'Web_1' is not a valid guest name"),
    (guest(cores=0), "guest 'web-1', field cores: Input should be greater than or equal to 1"),
    (guest(memory_mib=8), "guest 'web-1', field memory_mib: Input should be greater than or "
                          "equal to 16"),
    (guest(vmid=99), "guest 'web-1', field vmid: Input should be greater than or equal to 100"),
    (guest(disks=[{"slot": "scsi0", "storage": "Bad Store", "size_gib": 1}]),
     "guest 'web-1', field disks.0.storage: 'Bad Store' is not a valid Proxmox storage id"),
    (guest(disks=[{"slot": "scsi0", "size_gib": 0}]),
     "guest 'web-1', field disks.0.size_gib: Input should be greater than or equal to 1"),
    (guest(disks=[{"slot": "rootfs", "size_gib": 1}]),
     "guest 'web-1': disk slot 'rootfs' is not valid for a vm; use scsiN, virtioN, sataN or "
     "ideN"),
    (guest(kind="ct", disks=[{"slot": "mp0", "size_gib": 1}]),
     "guest 'web-1': a container needs a rootfs disk"),
    (guest(kind="ct", disks=[]), "guest 'web-1': a container needs a rootfs disk"),
    (guest(networks=[{"vlan": 4095}]),
     "guest 'web-1', field networks.0.vlan: Input should be less than or equal to 4094"),
    (guest(networks=[{"bridge": "0bad"}]),
     "guest 'web-1', field networks.0.bridge: '0bad' is not a valid bridge name"),
    (guest(networks=[{"ip": "10.0.0.300/24"}]),
     "guest 'web-1', field networks.0.ip: '10.0.0.300/24' is not an address in CIDR form"),
    (guest(networks=[{"ip": "dhcp", "gateway": "10.0.0.1"}]),
     "guest 'web-1', field networks.0: a gateway needs a static IP address"),
    (guest(source={"iso": "Win11.iso"}), "'Win11.iso' is not an ISO volume"),
    (guest(source={"clone": "x", "iso": "local:iso/a.iso"}),
     "a source is exactly one of clone, iso or ostemplate"),
    (guest(tags=["bad tag"]), "guest 'web-1', field tags: 'bad tag' is not a valid tag"),
    (guest(pool="in/fra"), "guest 'web-1', field pool: 'in/fra' is not a valid pool id"),
    (guest(ssh_keys=["hello"]), "guest 'web-1', field ssh_keys: 'hello'... is not an OpenSSH"),
    (guest(colour="red"), "guest 'web-1', field colour: Extra inputs are not permitted"),
])
def test_validation_messages_name_guest_and_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(specmod.SpecError) as info:
        specmod.parse_spec({"guests": [data]})
    assert message in str(info.value)


def test_duplicates_in_one_spec() -> None:
    with pytest.raises(specmod.SpecError, match="guest 'web-1' is declared twice"):
        specmod.parse_spec({"guests": [guest(), guest()]})
    with pytest.raises(specmod.SpecError, match="guests 'a' and 'b' both ask for ID 100"):
        specmod.parse_spec({"guests": [guest(name="a", vmid=100), guest(name="b", vmid=100)]})


def test_json_schema_for_the_llm() -> None:
    schema = specmod.json_schema()
    guest_schema = schema["$defs"]["GuestSpec"]
    assert guest_schema["required"] == ["name"]
    assert "default 1024 for a vm" in guest_schema["properties"]["memory_mib"]["description"]
    assert guest_schema["additionalProperties"] is False


def test_a_volume_without_a_stated_size_gets_the_default_size_unstated() -> None:
    spec = specmod.parse_spec({"guests": [
        guest(disks=[{"slot": "scsi0", "storage": "ceph"}]),
        guest(name="box", kind="ct", disks=[
            {"slot": "rootfs"}, {"slot": "mp0", "storage": "tank", "size_gib": 200,
                                 "path": "/data"}]),
    ]})
    box, web = spec.guests
    assert (web.disks[0].size_gib, specmod.stated(web.disks[0])) == (32, {"slot", "storage"})
    assert (box.disks[0].size_gib, specmod.stated(box.disks[0])) == (8, {"slot"})
    assert specmod.spec_dict(specmod.parse_spec(specmod.spec_dict(spec))) == \
        specmod.spec_dict(spec)
    with pytest.raises(specmod.SpecError, match="mp0: a mount point needs a size"):
        specmod.parse_spec({"guests": [guest(kind="ct", disks=[
            {"slot": "rootfs", "size_gib": 8}, {"slot": "mp0", "path": "/data"}])]})
