"""Round 9's sentence-level classes (issue 13): a description before the kind and name,
context sentences and clauses, past and passive narrative, second-language phrasings,
attribute phrasings. What was read and not used is reported; what could state something
else stays an error that quotes it. (The corpus files ``r9_*.jsonl`` hold more of each.)"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.grammar import error, stated, stated_and_ignored


@pytest.mark.parametrize(("text", "guest", "said"), [
    # a description before the kind and name: never a name, a tag or an attribute
    ("Badge printer controller VM r9-a: 2 cores.", {"r9-a": {"kind": "vm", "cores": 2}},
     "t.md:1: ignored as context: 'Badge printer controller'"),
    ("Lobby display, container r9-b: 1 core.", {"r9-b": {"kind": "ct", "cores": 1}},
     "t.md:1: ignored as context: 'Lobby display'"),
    ("The parking gate controller VM r9-c must start at boot.",
     {"r9-c": {"kind": "vm", "onboot": True}},
     "t.md:1: ignored as context: 'parking gate controller'"),
    ("The sprinkler controller r9-i is a container.", {"r9-i": {"kind": "ct"}},
     "t.md:1: ignored as context: 'The sprinkler controller'"),
    # context sentences and clauses
    ("Season-end cleanup is done. Stop the VM r9-d.", {"r9-d": {"state": "stopped"}},
     "t.md:1: ignored as context: 'Season-end cleanup is done'"),
    ("pls stop the VM r9-e, exams start monday", {"r9-e": {"state": "stopped"}},
     "t.md:1: ignored as context: 'exams start monday'"),
    ("Delete the container r9-f, I don't trust it.", {"r9-f": {"state": "absent"}},
     "t.md:1: ignored as context: 'I do not trust it'"),
    ("Stop the VM r9-g, we host the mailboxes elsewhere now.", {"r9-g": {"state": "stopped"}},
     "t.md:1: ignored as context: 'we host the mailboxes elsewhere'"),
    ("Kindly do the needful and delete the VM r9-h.", {"r9-h": {"state": "absent"}},
     "t.md:1: ignored as context: 'Kindly do the needful and'"),
])
def test_what_is_dropped_is_reported(text: str, guest: dict[str, Any], said: str) -> None:
    guests, ignored = stated_and_ignored(text)
    name = next(iter(guest))
    assert {k: guests[name][k] for k in guest[name]} == guest[name]
    assert said in ignored


@pytest.mark.parametrize(("text", "want"), [
    ("The VM r9-p was provisioned with 8 cores and 32 GB of memory.",
     {"kind": "vm", "cores": 8, "memory_mib": 32768}),
    ("The VM r9-p was assigned VM ID 912 and placed on node pve-lab1.",
     {"kind": "vm", "vmid": 912, "node": "pve-lab1"}),
    ("The container r9-p was given the tags lims and db.", {"kind": "ct", "tags": ["db", "lims"]}),
    ("The VM r9-p was subsequently stopped to conserve resources.",
     {"kind": "vm", "state": "stopped"}),
    ("Following completion, the VM r9-p was deleted.", {"kind": "vm", "state": "absent"}),
    ("The analysis VM (r9-p) was cloned from the template alma9-base.",
     {"kind": "vm", "source": {"clone": "alma9-base"}}),
])
def test_past_and_passive_narrative_states_the_state(text: str, want: dict[str, Any]) -> None:
    assert stated(text)["r9-p"] == {"name": "r9-p", **want}


@pytest.mark.parametrize(("text", "want"), [
    ("VM r9-sl may be shifted to node pve3 and it should start on boot itself.",
     {"kind": "vm", "node": "pve3", "onboot": True}),
    ("Please put the VM r9-sl in VLAN 20 and firewall also enable.",
     {"kind": "vm", "networks": [{"slot": "net0", "vlan": 20, "firewall": True}]}),
    ("Container r9-sl is not using anymore, please delete.", {"kind": "ct", "state": "absent"}),
    ("VM r9-sl is connect to bridge vmbr2.",
     {"kind": "vm", "networks": [{"slot": "net0", "bridge": "vmbr2"}]}),
    ("The VM r9-sl gets the USB mapping airspy as usb1.",
     {"kind": "vm", "usb_devices": [{"slot": "usb1", "mapping": "airspy"}]}),
    ("VM r9-sl gets the PCI mapping a4000 on hostpci1.",
     {"kind": "vm", "pci_devices": [{"slot": "hostpci1", "mapping": "a4000"}]}),
    ("Container r9-sl, template local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst, 1 core.",
     {"kind": "ct", "cores": 1,
      "source": {"ostemplate": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"}}),
    ("The VM r9-sl should be the first to start.", {"kind": "vm", "startup": {"order": 1}}),
    ("The container r9-sl should start on boot too.", {"kind": "ct", "onboot": True}),
    ("The VM r9-sl stays, but switch it off and protect it against deletion.",
     {"kind": "vm", "state": "stopped", "protection": True}),
])
def test_second_language_and_attribute_phrasings(text: str, want: dict[str, Any]) -> None:
    assert stated(text)["r9-sl"] == {"name": "r9-sl", **want}


def test_the_id_said_with_a_copula() -> None:
    assert stated("The pay-db VM id is 5100.")["pay-db"] == {"name": "pay-db", "kind": "vm",
                                                            "vmid": 5100}


@pytest.mark.parametrize(("text", "quoted"), [
    # "was" reads as "is" only after a guest's name, before a participle of the list
    ("The VM r9-x was slow.", "was slow"),
    ("a-x is a VM, the server was stopped.", "was"),
    ("The VM r9-x was stopped, start it.", "state is given twice"),
    # a habit with the guest as its object may be a wanted state: refused
    ("Stop the VM r9-x, we run it from the cloud now.", "we run it from the cloud"),
    # "the last to start" has no number
    ("The VM r9-x should be the last to start.", "last"),
    # a remark before ": VM x" is no description (is it to be deleted?)
    ("Unused since spring, VM r9-x: 2 cores.", "Unused"),
    # an OS or a size is never a description
    ("Win11 VM r9-x: 4 cores.", "Win11"),
    ("8G VM r9-x: 2 cores.", "8G"),
    # "till further notice" is a decision: refused
    ("Night audit VM r9-x: stop it till further notice.", "till further notice"),
])
def test_what_could_state_something_stays_an_error(text: str, quoted: str) -> None:
    assert quoted in error(text)


def test_a_context_sentence_alone_declares_nothing_and_is_refused() -> None:
    message = error("Exams start monday.")
    assert "declares no guest" in message
