"""Issue 13, fifth round: classes of phrasing the fourth held-out set showed refused.

Structure markers before a statement (section numbers, numbered labels, commit types,
check boxes, ticket keys: grammar/markers.py). Each test compiles whole notes through
the public entry point and checks what a user would: the guests and what the text
states of them, or the refusal's text.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.grammar import error, stated


@pytest.mark.parametrize("text", [
    "3.2 Deliverables. The VM g5-a has 4 cores.",
    "3.3 The VM g5-a has 4 cores.",
    "12.4.1 Create a VM named g5-a with 4 cores.",
    "Step 7. Create a VM named g5-a with 4 cores.",
    "Lab task 3 — g5-a is a VM with 4 cores.",
    "feat(infra): add g5-a vm, 4 cores",
    "chore: give the VM g5-a 4 cores",
    "[ ] g5-a is a VM with 4 cores",
    "PROJ-1234: Create VM g5-a with 4 cores.",
    "Action (JK): create a VM named g5-a with 4 cores.",
])
def test_a_structure_marker_is_not_part_of_the_statement(text: str) -> None:
    assert stated(text) == {"g5-a": {"name": "g5-a", "kind": "vm", "cores": 4}}


def test_a_section_number_is_never_read_as_a_count_but_a_decimal_count_still_refused() -> None:
    names = set(stated("3.2 Deliverables. Three VMs named g5-1 through g5-3."))
    assert names == {"g5-1", "g5-2", "g5-3"}
    message = error("2.5 VMs named g5-a and g5-b.")
    assert "whole number, not 2.5" in message


@pytest.mark.parametrize(("text", "quoted"), [
    ("feat(vm): 4 cores and 8 GB of RAM", "feat(vm): 4 cores and 8 GB of RAM"),
    ("OPS-12: 4 cores", "OPS-12"),
    ("Step 4 - until Friday g5-c is a VM", "conditions cannot be expressed"),
    ("Step 4 - g5-c needs enough cores", "enough cores"),
])
def test_a_marker_over_no_guest_of_its_own_is_refused_quoting_it(text: str, quoted: str) -> None:
    assert quoted in error(text)


@pytest.mark.parametrize(("text", "want"), [
    ("The VM g5-v is to be created with 4 cores.", {"cores": 4}),
    ("The VM g5-v must be provisioned with 4 cores.", {"cores": 4}),
    ("The VM g5-v should be given 4 cores.", {"cores": 4}),
    ("The VM g5-v needs to be bumped to 4 cores.", {"cores": 4}),
    ("Please augment the cores of g5-v to 4. g5-v is a VM.", {"cores": 4}),
    ("The VM g5-v shall be placed in pool lab.", {"pool": "lab"}),
    ("The VM g5-v shall reside on node pve2.", {"node": "pve2"}),
    ("The machine virtual g5-v must have 4 cores.", {"cores": 4}),
    ("g5-v vm: 4 cores, tag it bots", {"cores": 4, "tags": ["bots"]}),
])
def test_verbs_of_change_and_place_state_the_value(text: str, want: dict[str, Any]) -> None:
    assert stated(text) == {"g5-v": {"name": "g5-v", "kind": "vm", **want}}


@pytest.mark.parametrize(("text", "quoted"), [
    ("The VM g5-w should be given as many cores as possible.", "as many cores as possible"),
    ("The VM g5-w is to be created with 4 cores unless it exists.", "unless"),
    ("The VM g5-w should be put on hold.", "on hold"),
    ("The VM g5-w should not stay on node pve1.", '"not"'),
])
def test_a_verb_idiom_never_hides_what_cannot_be_declared(text: str, quoted: str) -> None:
    assert quoted in error(text)


@pytest.mark.parametrize("text", [
    "As a developer, I want the VM g5-f to have 4 cores, so that I can test builds locally.",
    "I would like to create a VM named g5-f with 4 cores.",
    "We need to give the VM g5-f 4 cores.",
    "Hola! The VM g5-f has 4 cores.",
    "Bonjour, the VM g5-f has 4 cores.",
    "Our IT guy Mark says the VM g5-f should have 4 cores.",
    "PL reported that the VM g5-f needs 4 cores; approved.",
    "It was agreed that the VM g5-f gets 4 cores, effective immediately.",
    "Agreed: new VM g5-f, 4 cores.",
    "VM g5-f exists with 4 cores.",
])
def test_who_asks_or_said_it_frames_the_statement(text: str) -> None:
    assert stated(text) == {"g5-f": {"name": "g5-f", "kind": "vm", "cores": 4}}


def test_a_greeting_word_followed_by_a_statement_is_still_a_guest_name() -> None:
    assert stated("hola is a VM with 4 cores.") == {
        "hola": {"name": "hola", "kind": "vm", "cores": 4}}


@pytest.mark.parametrize(("text", "quoted"), [
    ("Mark says g5-g should be deleted if it is idle.", "if it is idle"),
    ("As a lead, I want g5-g stopped when nobody uses it.", "when nobody"),
    ("Our admin says: 4 cores.", "Our admin says"),
    ("Agreed: 4 cores.", "'Agreed' reads as an English word"),
    ("g5-g should be stopped, so it is not running at night.", "at night"),
])
def test_a_frame_never_hides_a_condition_or_a_missing_guest(text: str, quoted: str) -> None:
    assert quoted in error(text)


@pytest.mark.parametrize(("text", "kind"), [
    ("The backup computer (g5-b) has 4 cores. g5-b is a VM.", "vm"),
    ("Grandpa's video call box (g5-b) is a VM with 4 cores.", "vm"),
    ("The kids' Terraria server (g5-b) is a container: four cores.", "ct"),
    ("The accounting VM (g5-b) has 4 cores.", "vm"),
    ("Frigate NVR (container g5-b): 4 cores.", "ct"),
    ("Please make the minecraft backup thing (g5-b) a container with 4 cores.", "ct"),
])
def test_a_description_before_the_name_in_parentheses_is_the_guest(text: str,
                                                                   kind: str) -> None:
    assert stated(text) == {"g5-b": {"name": "g5-b", "kind": kind, "cores": 4}}


@pytest.mark.parametrize(("text", "quoted"), [
    ("The stopped server (g5-c) is a VM.", "The stopped server (g5-c) is a VM"),
    ("My 2 servers (g5-c) are VMs.", "My 2 servers (g5-c) are VMs"),
    ("The VM (container g5-c) has 2 cores.", "The VM (container g5-c)"),
])
def test_a_description_holding_a_setting_or_two_kinds_is_refused(text: str,
                                                                 quoted: str) -> None:
    assert quoted in error(text)


@pytest.mark.parametrize("text", [
    "Added a 1 TB disk on tank to the VM g5-d.",
    "Add a 1 TB disk on tank to the VM g5-d.",
])
def test_adding_a_disk_without_a_slot_is_refused_naming_the_fix(text: str) -> None:
    message = error(text)
    assert f'"{text[:-1]}" adds a disk but does not say which one' in message
    assert "'as scsi1'" in message


def test_adding_a_disk_with_its_slot_compiles_to_that_slot() -> None:
    got = stated("Added a 1 TB disk on tank to the VM g5-d as scsi1.")
    assert got["g5-d"]["disks"] == [{"slot": "scsi1", "storage": "tank", "size_gib": 1024}]


def test_a_count_in_a_lead_in_is_the_length_of_the_list_under_it() -> None:
    got = stated("Please remove these two:\n- g5-e1\n- g5-e2\n")
    assert {n: g["state"] for n, g in got.items()} == {"g5-e1": "absent", "g5-e2": "absent"}
    message = error("Please remove these three:\n- g5-e1\n- g5-e2\n")
    assert "announces 3 guests, but the list under it names 2" in message


@pytest.mark.parametrize(("text", "want"), [
    ("g5-s is a container, privileged: no.", {"kind": "ct", "unprivileged": True}),
    ("g5-s is a container, privileged: yes.", {"kind": "ct", "unprivileged": False}),
    ("g5-s is a VM with the address 10.0.0.5/24 (router 10.0.0.1).",
     {"kind": "vm", "networks": [{"slot": "net0", "ip": "10.0.0.5/24", "gateway": "10.0.0.1"}]}),
])
def test_settings_written_as_record_fields(text: str, want: dict[str, Any]) -> None:
    assert stated(text) == {"g5-s": {"name": "g5-s", **want}}


def test_a_word_after_a_tag_word_is_never_offered_as_a_typo() -> None:
    # ("tags are bots" reads as "tagged bots" since round 9: .narrative)
    message = error("g5-t is a VM, tags were bots")
    assert 'could not understand "bots"' in message
    assert "did you mean" not in message
    assert "did you mean 'boots' instead of 'bots'" in error("g5-t is a VM with bots")
