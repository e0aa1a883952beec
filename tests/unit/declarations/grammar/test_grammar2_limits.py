"""Issue 13, second round: where the new readings stop, refused with the words quoted.

Each new reading (a description before the kind, a preface before a colon, a count of
disks, a bare address, ``the x template``, ``can be deleted``) is kept narrow: these are
the texts just past its edge, which must be refused with a message that names the
words and says what was expected, never compiled to a guess.
"""

from __future__ import annotations

import pytest

from mycopod.declarations.errors import CompileError
from mycopod.declarations.grammar import compile_text


def error(text: str) -> str:
    with pytest.raises(CompileError) as info:
        compile_text(text, filename="t.md")
    return str(info.value)


def test_a_vague_word_before_the_kind_is_no_description() -> None:
    # "small" is a vague size, not a description that can be dropped
    message = error("Create a small VM called x-1 with 2 cores.")
    assert "expected the kind of guest and its name" in message


def test_a_description_without_a_name_after_the_kind_is_refused() -> None:
    message = error("Create a postgres container.")
    assert message.startswith("t.md:1: ")
    assert "its name" in message


def test_a_preface_that_states_a_setting_is_not_dropped() -> None:
    # a number ("two", "2") is never part of a preface: it may be an amount
    message = error("Version 2 stuff: a VM called v-2.")
    assert '"Version 2 stuff: a VM called v-2"' in message
    assert "'Phase' reads as an English word" in error(
        "Phase two of the migration: a VM called v-2.")
    # a vague size in a preface is not dropped either
    assert "could not find which guest" in error("Big one: a VM called big-1.")


def test_a_preface_needs_a_named_new_guest_after_its_colon() -> None:
    message = error("Home automation: it needs 2 cores.")
    assert "'Home' reads as an English word" in message


def test_several_disks_cannot_share_one_slot_or_path() -> None:
    message = error("nas-1 is a VM with two 4TB disks on tank as scsi1.")
    assert "2 disks cannot share one slot" in message
    assert "as scsi1 and a 4 TB disk on tank as scsi2" in message
    message = error("files-2 is a container with two 100 GB disks at /data.")
    assert "cannot share one mount path" in message


def test_a_count_of_disks_needs_the_plural() -> None:
    message = error("nas-1 is a VM with two 4TB disk on tank.")
    assert 'could not understand "two"' in message


def test_two_bare_addresses_are_two_values_for_one_field() -> None:
    message = error("ns-3: CT, 1 core, 10.0.0.4/24, 10.0.0.5/24")
    assert '"10.0.0.4/24"' in message and '"10.0.0.5/24"' in message
    assert "given twice" in message


def test_an_address_without_its_prefix_is_not_read_as_the_ip() -> None:
    message = error("ns-3: CT, 1 core, 10.0.0.4")
    assert 'could not understand "10.0.0.4"' in message


def test_the_template_needs_a_name_that_can_be_one() -> None:
    message = error("web-3 is a VM cloned from the big template.")
    assert 'could not understand "template"' in message


def test_a_mount_needs_its_path() -> None:
    message = error("web-1: ct, 1 core, 1G, a 200 GB mount on tank")
    assert 'could not understand "200 GB mount on tank"' in message


def test_a_reason_with_a_setting_in_it_is_not_dropped() -> None:
    message = error("Stop x-1, we need 4 cores.")
    assert 'could not understand "we"' in message


def test_a_word_name_before_a_colon_needs_its_kind_next() -> None:
    # "cache: writeback" is no guest: the kind must follow the colon
    assert "could not find which guest" in error("cache: writeback")


def test_a_paragraph_lead_in_that_says_otherwise_does_not_replace_the_heading() -> None:
    # the heading says delete, the paragraph says stop: which one the list means is a
    # guess, so the heading's lead-in is reported as having no list
    message = error("# Decommission\n\nPlease shut these down:\n\n- old-nas\n")
    assert 'the heading "Decommission" announces a list of guests, but no list' in message


def test_to_with_a_verb_of_being_is_no_lead_in() -> None:
    message = error("## To do\n\n- a-1\n")
    assert 'the heading "To do" states something ("do")' in message


def test_one_bridge_is_no_list_of_network_cards() -> None:
    message = error("fw-2 is a VM with NICs on vmbr0.")
    assert 'could not understand "NICs"' in message


def test_network_cards_on_bridges_and_another_bridge_for_net0_conflict() -> None:
    message = error("fw-2 is a VM with NICs on vmbr0 and vmbr1, on bridge vmbr3.")
    assert '"vmbr0"' in message and '"vmbr3"' in message


def test_a_counted_noun_still_needs_as_many_names() -> None:
    message = error("we need 3 runners (gh-runner-1, gh-runner-2), each 4 cores")
    assert "3 guests are announced but 2 named (gh-runner-1, gh-runner-2)" in message


def test_a_for_phrase_that_states_something_is_not_dropped() -> None:
    message = error("For the stopped stuff we need a VM called s-2.")
    assert "'For' reads as an English word" in message
    message = error("For web-1 I'd like 4 cores.")
    assert '"For web-1 i would like 4 cores"' in message


def test_a_the_phrase_before_is_must_be_plain_words_and_a_named_new_guest() -> None:
    # "password" and "stopped" mean something to the grammar: not a description to drop
    assert "could not find which guest" in error("The password manager is a container "
                                                 "named vw-1.")
    assert "could not find which guest" in error("The stopped one is a VM called s-9.")


def test_a_reason_that_names_a_setting_is_not_dropped() -> None:
    message = error("Remove old-dc-2, it was replaced by the server on node pve3.")
    assert message.startswith("t.md:1: could not understand")


def test_an_application_before_runs_in_must_be_plain_words() -> None:
    # "Stopped" and "Backup" mean something to the grammar: no description to drop
    assert "'Stopped' reads as an English word" in error("Stopped runs in a VM called s-3.")
    assert "'Backup' reads as an English word" in error("Backup runs in a VM called pbs-2.")


def test_a_key_label_that_means_something_is_not_dropped() -> None:
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOq8mZpR3vT5yXb2cN7fJ1kLs4dW9eHgQ0aUiPzB6rYt"
    message = error(f"Add my root key to devbox3: {key} bob@work")
    assert 'could not understand "my root key:' in message


def test_running_on_before_a_subject_needs_its_colon_and_a_node_name() -> None:
    assert "'Running' reads as an English word" in error(
        "Running on pve2 we need a VM called x-1.")
    assert "'Running' reads as an English word" in error("Running on vmbr0: a VM called x-2.")
