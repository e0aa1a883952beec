"""Issue 13: the kinds of phrasing people write, by class, each with its stated settings.

Every row is compared with what the text *states* (the stored form: ``exclude_unset``),
so a phrase that quietly states more than it says (a size nobody wrote) fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from mycopod.declarations.grammar import compile_text
from tests.support.grammar import error, stated


def check(text: str, expected: dict[str, dict[str, Any]]) -> None:
    got = stated(text)
    assert set(got) == set(expected), got
    for name, fields in expected.items():
        assert {k: got[name].get(k) for k in fields} == fields, got[name]


DEMO = ("We also need a database server: db-1, a VM with 4 vCPUs, 8 gigs of RAM and a 100G "
        "disk on local-lvm, running on pve3.")


def test_the_demo_line() -> None:
    got = stated(DEMO)["db-1"]
    assert got == {"name": "db-1", "kind": "vm", "state": "running", "node": "pve3",
                   "cores": 4, "memory_mib": 8192,
                   "disks": [{"slot": "scsi0", "storage": "local-lvm", "size_gib": 100}]}


@pytest.mark.parametrize(("text", "expected"), [
    ("Create two VMs, ansible-1 and ansible-2, each with 2 cores and 2 GB of RAM.",
     {"ansible-1": {"kind": "vm", "cores": 2, "memory_mib": 2048},
      "ansible-2": {"kind": "vm", "cores": 2, "memory_mib": 2048}}),
    ("We need three containers \u2014 redis-a, redis-b and redis-c \u2014 each with 1 core "
     "and 512 MB of RAM.",
     {n: {"kind": "ct", "cores": 1, "memory_mib": 512} for n in ("redis-a", "redis-b",
                                                                   "redis-c")}),
    ("Deploy 2 containers (cache-1 and cache-2) with 1 GB of RAM each.",
     {"cache-1": {"kind": "ct", "memory_mib": 1024},
      "cache-2": {"kind": "ct", "memory_mib": 1024}}),
    ("Please spin up four VMs: k3s-1, k3s-2, k3s-3 and k3s-4, each with 4 cores.",
     {f"k3s-{n}": {"kind": "vm", "cores": 4} for n in range(1, 5)}),
    ("I need two web servers, web-1 and web-2, each a VM with 2 cores.",
     {"web-1": {"kind": "vm", "cores": 2}, "web-2": {"kind": "vm", "cores": 2}}),
])
def test_a_count_then_a_list_of_names(text: str, expected: dict[str, Any]) -> None:
    check(text, expected)


@pytest.mark.parametrize("text", [
    "Create three VMs, a-1 and a-2, each with 2 cores.",
    "We need two containers \u2014 r-1, r-2 and r-3 \u2014 each with 1 core.",
])
def test_a_count_that_does_not_match_the_names_is_refused(text: str) -> None:
    assert "guests are announced but" in error(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("web-1 is a quad-core VM with 4 GB of RAM.", {"cores": 4, "memory_mib": 4096}),
    ("web-1 is a dual-core VM.", {"cores": 2}),
    ("web-1 is an octa-core VM.", {"cores": 8}),
    ("web-1 is a single-core container.", {"cores": 1}),
    ("web-1 is an eight-core VM.", {"cores": 8}),
    ("web-1 is a VM with a two-terabyte disk.",
     {"disks": [{"slot": "scsi0", "size_gib": 2048}]}),
    ("web-1 is a VM with a 500-gigabyte disk on tank.",
     {"disks": [{"slot": "scsi0", "storage": "tank", "size_gib": 500}]}),
    ("web-1 is a VM with eight gigs of RAM.", {"memory_mib": 8192}),
    ("web-1 is a container with half a gig of RAM.", {"memory_mib": 512}),
    ("web-1 is a VM with sixteen gigs of RAM and a thirty-two-gig disk.",
     {"memory_mib": 16384, "disks": [{"slot": "scsi0", "size_gib": 32}]}),
])
def test_number_words_and_compounds(text: str, expected: dict[str, Any]) -> None:
    check(text, {"web-1": expected})


@pytest.mark.parametrize(("text", "expected"), [
    ("On pve2 we need a container called dns-1.", {"dns-1": {"kind": "ct", "node": "pve2"}}),
    ("On node pve1 we want a VM named app-1 with 2 cores.",
     {"app-1": {"kind": "vm", "node": "pve1", "cores": 2}}),
    ("We also need a database server: db-2, a VM with 2 cores.",
     {"db-2": {"kind": "vm", "cores": 2}}),
    ("We'll also need a mail server: mx-1, a container with 1 GB of RAM.",
     {"mx-1": {"kind": "ct", "memory_mib": 1024}}),
    ("Please make sure web-1 is a VM with 2 cores.", {"web-1": {"kind": "vm", "cores": 2}}),
    ("I want web-1 to be a VM with 4 GB of RAM.", {"web-1": {"memory_mib": 4096}}),
    ("We need app-2, a container with 2 cores, on node pve2.",
     {"app-2": {"kind": "ct", "cores": 2, "node": "pve2"}}),
    ("I would like a VM called lab-1 with 2 cores.", {"lab-1": {"kind": "vm", "cores": 2}}),
    ("web-3 is a VM that lives on pve2.", {"web-3": {"kind": "vm", "node": "pve2"}}),
])
def test_fronted_phrases_and_fillers(text: str, expected: dict[str, Any]) -> None:
    check(text, expected)


@pytest.mark.parametrize(("text", "expected"), [
    ("Get rid of old-1.", {"state": "absent"}),
    ("Please get rid of the VM old-1.", {"state": "absent", "kind": "vm"}),
    ("Decommission old-1.", {"state": "absent"}),
    ("Decommission the container old-1.", {"state": "absent", "kind": "ct"}),
    ("old-1 is no longer needed.", {"state": "absent"}),
    ("old-1 is not needed any more.", {"state": "absent"}),
    ("old-1 must not exist any more.", {"state": "absent"}),
    ("old-1 should not exist anymore.", {"state": "absent"}),
    ("old-1 is a VM. It should be decommissioned.", {"state": "absent"}),
    ("old-1 is a VM. It should be switched off.", {"state": "stopped"}),
    ("old-1 is a VM, powered down.", {"state": "stopped"}),
    ("old-1 is a VM. Leave it off.", {"state": "stopped"}),
    ("old-1 is a VM. Switch it off.", {"state": "stopped"}),
    ("old-1 is a VM. Power it down.", {"state": "stopped"}),
    ("old-1 is a VM. It should be switched on.", {"state": "running"}),
    ("old-1 is a VM cloned off debian-12.", {"source": {"clone": "debian-12"}}),
    ("old-1 is a VM cloned from debian-12.", {"source": {"clone": "debian-12"}}),
    ("old-1 is a VM. Connect it to bridge vmbr2.",
     {"networks": [{"slot": "net0", "bridge": "vmbr2"}]}),
    ("old-1 is a VM. Describe it as \"legacy wiki\".", {"description": "legacy wiki"}),
    ("old-1 is a VM. Authorise the SSH key \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBc me@host\""
     " on it.", {"ssh_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBc me@host"]}),
])
def test_verbs_and_idioms(text: str, expected: dict[str, Any]) -> None:
    check(text, {"old-1": expected})


def test_clones_of_a_template_state_the_source_only() -> None:
    got = stated("ci-1 and ci-2 are clones of ubuntu-24.04.")
    assert got == {n: {"name": n, "source": {"clone": "ubuntu-24.04"}}
                   for n in ("ci-1", "ci-2")}


@pytest.mark.parametrize(("text", "source"), [
    ("ct-1 is a container from local:vztmpl/debian-12-standard_12.2-1_amd64.tar.zst.",
     {"ostemplate": "local:vztmpl/debian-12-standard_12.2-1_amd64.tar.zst"}),
    ("ct-1 is a container using nas:vztmpl/alpine-3.19.tar.xz.",
     {"ostemplate": "nas:vztmpl/alpine-3.19.tar.xz"}),
    ("ct-1 is a VM from local:iso/debian-12.iso.", {"iso": "local:iso/debian-12.iso"}),
])
def test_a_source_without_the_word_template(text: str, source: dict[str, str]) -> None:
    assert stated(text)["ct-1"]["source"] == source


@pytest.mark.parametrize(("text", "disks"), [
    ("web-1 is a VM with its disk on ceph-pool.", [{"slot": "scsi0", "storage": "ceph-pool"}]),
    ("web-1 is a container with its root disk on tank.", [{"slot": "rootfs", "storage": "tank"}]),
    ("web-1 is a VM with a disk on fast as virtio0.",
     [{"slot": "virtio0", "storage": "fast"}]),
    ("web-1 is a VM on storage ceph.", [{"slot": "scsi0", "storage": "ceph"}]),
])
def test_a_storage_without_a_size_does_not_state_the_size(text: str, disks: list[Any]) -> None:
    """The creation default fills the size in; it is not stated, so never compared."""
    spec = compile_text(text, filename="t.md")
    assert spec.guests[0].model_dump(mode="json", exclude_unset=True)["disks"] == disks
    disk = spec.guests[0].disks[0]
    assert disk.size_gib == (8 if disk.slot == "rootfs" else 32)
    assert "size_gib" not in disk.model_fields_set


@pytest.mark.parametrize("text", [
    "web-7 has 2 cores and 2 GB of RAM.",
    "web-7 should have 2 cores. It has 2 GB of RAM.",
    "web-7 runs on node pve1 with 2 cores and 2 GB of RAM.",
])
def test_the_kind_never_said_is_a_vm_not_stated(text: str) -> None:
    spec = compile_text(text, filename="t.md")
    guest = spec.guests[0]
    assert guest.kind == "vm" and "kind" not in guest.model_fields_set


@pytest.mark.parametrize("name", ["backup", "proxy", "cache", "monitor", "dns", "git",
                                  "media", "files", "vault", "mail"])
def test_names_that_are_english_words(name: str) -> None:
    assert stated(f"{name} is a container with 2 cores.")[name]["cores"] == 2
    assert stated(f"The VM {name} should be stopped.")[name]["state"] == "stopped"
    assert stated(f"Get rid of {name}.")[name]["state"] == "absent"
    got = stated(f"web-1 is a VM, and {name} is a container.")
    assert got[name]["kind"] == "ct"


def test_words_that_are_names_keep_their_meaning_elsewhere() -> None:
    got = stated("web-1 is a VM with a 32 GB disk with cache writeback, excluded from "
                 "backups.")
    assert got["web-1"]["disks"][0]["cache"] == "writeback"
    assert got["web-1"]["disks"][0]["backup"] is False
    assert "every" in error("Backup web-1 every night.") or "schedule" in error(
        "Backup web-1 every night.")


@pytest.mark.parametrize("text", [
    "web-1 is a VM running on the pve3.",  # "the" is not a node
    "web-1 is a VM on pve3.",  # bare "on X" without a verb: node, storage or bridge?
    "web-1 is a quintuple-core VM.",
    "Get rid of.",
])
def test_what_is_still_refused(text: str) -> None:
    error(text)


@pytest.mark.parametrize("text", [
    "web-7 is a guest with 2 cores.",
    "web-7 is a web server with 2 cores.",
    "A guest named web-7 with 2 cores.",
])
def test_a_guest_of_no_said_kind(text: str) -> None:
    assert stated(text) == {"web-7": {"name": "web-7", "cores": 2}}


@pytest.mark.parametrize("text", [
    "web-7 has 2 cores.",
    "web-1 is a VM with its disk on ceph-pool.",
    "web-1 is a container on storage tank.",
])
def test_render_writes_back_only_what_was_stated(text: str) -> None:
    from mycopod.declarations import render

    spec = compile_text(text, filename="t.md")
    again = compile_text(render.render(spec), filename="r.md")
    assert [g.model_dump(exclude_unset=True) for g in again.guests] == [
        g.model_dump(exclude_unset=True) for g in spec.guests]


@pytest.mark.parametrize(("text", "expected"), [
    ("Please get rid of these:\n\n- old-1\n- old-2\n",
     {"old-1": {"state": "absent"}, "old-2": {"state": "absent"}}),
    ("The following VMs should be stopped:\n- web-1\n- web-2\n",
     {"web-1": {"state": "stopped", "kind": "vm"}, "web-2": {"state": "stopped", "kind": "vm"}}),
    ("We need these containers:\n- redis-a with 1 core\n- redis-b with 2 cores and 1 GB of "
     "RAM\n", {"redis-a": {"kind": "ct", "cores": 1},
               "redis-b": {"kind": "ct", "cores": 2, "memory_mib": 1024}}),
    ("We need the following:\n- db-1, a VM with 2 cores\n- db-2, a container with 1 core\n",
     {"db-1": {"kind": "vm", "cores": 2}, "db-2": {"kind": "ct", "cores": 1}}),
    ("These must not exist any more:\n1. old-a\n2. old-b. It is a container.\n",
     {"old-a": {"state": "absent"}, "old-b": {"state": "absent", "kind": "ct"}}),
])
def test_lists_under_a_lead_in(text: str, expected: dict[str, Any]) -> None:
    check(text, expected)


@pytest.mark.parametrize(("text", "message"), [
    ("Get rid of these:\n\nweb-1 is a VM.\n", "announces a list of guests, but no list"),
    ("Get rid of these:\n\n- the old one\n", "should start with a guest's name"),
])
def test_a_lead_in_without_its_list_is_refused(text: str, message: str) -> None:
    assert message in error(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("## db-1\n\nA VM with 4 cores and 8 GB of RAM. It runs on node pve1.\n",
     {"db-1": {"kind": "vm", "cores": 4, "memory_mib": 8192, "node": "pve1"}}),
    ("### cache\nA container with 1 GB of RAM.\n\nStart it on boot.\n",
     {"cache": {"kind": "ct", "memory_mib": 1024, "onboot": True}}),
    ("## Databases\n\ndb-1 is a VM with 4 cores.\n", {"db-1": {"kind": "vm", "cores": 4}}),
    ("## web-1\n\nHas 2 cores.\n\n## web-2\n\nA container.\n",
     {"web-1": {"cores": 2}, "web-2": {"kind": "ct"}}),
])
def test_prose_under_a_heading_that_names_a_guest(text: str, expected: dict[str, Any]) -> None:
    check(text, expected)


def test_a_heading_that_is_not_a_guest_name_is_no_topic() -> None:
    assert "does not refer to any guest" in error("## Notes\n\nIt has 4 cores.\n")
