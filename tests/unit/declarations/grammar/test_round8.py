"""Round 8's sentence-level classes (issue 13): politeness and request framings, second-
language grammar, verbs, a stop that keeps the guest, boot events, context clauses about
the guest, SMS shorthand. What was read and not used is reported; what could state
something else stays an error that quotes it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.grammar import error, stated, stated_and_ignored


@pytest.mark.parametrize(("text", "guest", "said"), [
    ("I am sorry to trouble you, but please delete the container q8-a.",
     {"q8-a": {"kind": "ct", "state": "absent"}},
     "t.md:1: ignored as courtesy: 'I am sorry to trouble you, but'"),  # (.greetings)
    ("We humbly request that the VM q8-b start automatically when the host boots.",
     {"q8-b": {"kind": "vm", "onboot": True}},
     "t.md:1: ignored as context: 'We humbly request that'"),
    ("We note that the virtual machine q8-c should be placed on node pve-east.",
     {"q8-c": {"kind": "vm", "node": "pve-east"}},
     "t.md:1: ignored as context: 'We note that'"),
    ("Please create the VM q8-d with 2 cores, if possible.", {"q8-d": {"kind": "vm", "cores": 2}},
     "t.md:1: ignored as context: 'if possible'"),
    ("shut off the qq-old vm but dont delete it", {"qq-old": {"kind": "vm", "state": "stopped"}},
     "t.md:1: kept: 'dont delete it' (a stopped guest is kept; nothing is deleted)"),
    ("q8-e (vm) should be stopped, may delete later.",
     {"q8-e": {"kind": "vm", "state": "stopped"}},
     "t.md:1: not acted on: 'may delete later' (a deletion later is not declared now; "
     "nothing is deleted until the declaration says so)"),
    ("hey can u make a vm for the new pos called q8-f 2 cores", {"q8-f": {"kind": "vm",
                                                                          "cores": 2}},
     "t.md:1: ignored as context: 'for the new pos'"),
    ("Please switch off the q8-g VM; the volunteers who use it are away.",
     {"q8-g": {"kind": "vm", "state": "stopped"}},
     "t.md:1: ignored as context: 'the volunteers who use it are away'"),
])
def test_what_is_dropped_is_reported(text: str, guest: dict[str, Any], said: str) -> None:
    guests, ignored = stated_and_ignored(text)
    name = next(iter(guest))
    assert {k: guests[name][k] for k in guest[name]} == guest[name]
    assert said in ignored


@pytest.mark.parametrize(("text", "quoted"), [
    # a condition is no softener: "if" before anything but the fixed words
    ("If the disk is full, delete the VM q8-h.", "If the disk is full"),
    ("If possible delete the VM q8-i when the disk is full.", "when the disk is full"),
    # a negated or later deletion beside a deletion, or with no stop, is not dropped
    ("Delete the VM q8-j, don't delete it.", "not"),
    ("q8-k is a VM with 2 cores, may delete later.", "may"),
    ("Stop q8-l, delete it later.", "later"),
    # a deletion or a resize with a time stays refused
    ("The VM q8-m should have 6 cores for Christmas.", "for Christmas"),
    ("Remove the container q8-n once the demo is recorded.", "once the demo is recorded"),
    # digits in brackets that differ from the number word are no restatement
    ("one (2) VM named q8-o", "one (2) VM named q8-o"),
])
def test_what_could_state_something_else_is_refused(text: str, quoted: str) -> None:
    assert quoted in error(text)


def test_a_fronted_plain_word_after_on_is_no_node() -> None:
    """"On approval, ..." compiled to node 'approval' before round 8."""
    assert "On approval" in error("On approval, stop the VM q8-p.")
    assert stated("On pve2 we need a container called q8-q")["q8-q"]["node"] == "pve2"


@pytest.mark.parametrize(("text", "name", "field", "value"), [
    ("The VM q8-r has 4 cores and the disk is of 200 GB.", "q8-r", "disks",
     [{"slot": "scsi0", "size_gib": 200}]),
    ("Create container q8-s with 1 core, in the node pve-sp.", "q8-s", "node", "pve-sp"),
    ("The virtual machine q8-t shall receive the identifier 700.", "q8-t", "vmid", 700),
    ("q8-u is a VM made from the template win11-base.", "q8-u", "source", {"clone": "win11-base"}),
    ("q8-v is a container based on the template local:vztmpl/alpine.tar.xz.", "q8-v", "source",
     {"ostemplate": "local:vztmpl/alpine.tar.xz"}),
    ("Start the VM q8-w when the server turn on.", "q8-w", "onboot", True),
    ("The VM q8-x should come back on by itself after a power cut.", "q8-x", "onboot", True),
    ("q8-y = container, 2gig ram", "q8-y", "memory_mib", 2048),
    ("a VM named q8-z with two (2) cores", "q8-z", "cores", 2),
])
def test_the_phrasing_states_its_value(text: str, name: str, field: str, value: Any) -> None:
    assert stated(text)[name][field] == value


@pytest.mark.parametrize(("text", "name", "field", "value"), [
    # the copula idiom leaves a disk's place as written ("its disk is on tank")
    ("q9-a is a VM. Its disk is on tank.", "q9-a", "disks", [{"slot": "scsi0", "storage": "tank"}]),
])
def test_what_was_read_before_round_8_reads_the_same(text: str, name: str, field: str,
                                                      value: Any) -> None:
    assert stated(text)[name][field] == value


def test_a_word_of_a_new_idiom_does_not_make_a_context_clause_refused() -> None:
    """'proxmox' was a word of round 8's idioms for a while: 'I'm new to Proxmox' was no
    longer context (held-out set 2 lost a note)."""
    guests, ignored = stated_and_ignored(
        "Hi, sorry if this is a dumb question, I'm new to Proxmox. "
        "I'd like a VM called q9-b with 4 cores, if that's okay?")
    assert guests["q9-b"]["cores"] == 4
    assert any("I'm new to Proxmox" in said for said in ignored)
