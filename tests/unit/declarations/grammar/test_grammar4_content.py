"""Issue 13, fourth round: the edges of terse settings, reports, counted names and tables.

Each new reading is narrow; these texts are just past its edge and must be refused with
a message that quotes the words and says what was expected, or read exactly as stated.
"""

from __future__ import annotations

import pytest

from mycopod.declarations.errors import CompileError
from mycopod.declarations.grammar import compile_text


def error(text: str) -> str:
    with pytest.raises(CompileError) as info:
        compile_text(text, filename="t.md")
    return str(info.value)


def test_a_third_size_after_slashes_is_refused_as_a_guess() -> None:
    message = error("vm sl-1, 4c/8g/64g")
    assert "two sizes without a noun" in message and "64g" in message


def test_a_slash_inside_an_address_is_not_split() -> None:
    spec = compile_text("vm sl-2, 10.0.0.5/24", filename="t.md")
    assert spec.guests[0].networks[0].ip == "10.0.0.5/24"


def test_start_on_boot_no_is_refused_quoting_the_no() -> None:
    message = error("vm ob-1, start on boot: no")
    assert '"no"' in message


def test_onboot_no_turns_start_on_boot_off() -> None:
    spec = compile_text("vm ob-2, onboot no\n\nvm ob-3, onboot yes", filename="t.md")
    assert [(g.name, g.onboot) for g in spec.guests] == [("ob-2", False), ("ob-3", True)]


def test_a_list_of_names_with_two_kinds_is_refused() -> None:
    message = error("ct dn-1 and vm dn-2, each 1 core")
    assert '"dn-2"' in message


def test_a_network_slot_is_never_read_as_a_guest_name() -> None:
    assert '"net1"' in error("vm nc-1, net1 on vmbr1")
    assert 'which guest this is about in "net1 gets no IP"' in error(
        "The VM nc-2 has 2 cores. net1 gets no IP.")


def test_an_ordinal_needs_a_network_card_noun() -> None:
    assert 'could not understand "second"' in error("The VM nc-3 has a second disk on vmbr1.")


def test_a_second_card_is_net1_and_leaves_net0_as_it_was() -> None:
    spec = compile_text("The VM nc-4 has a second NIC on vmbr1 and 2 cores.", filename="t.md")
    nets = [(n.slot, n.bridge) for n in spec.guests[0].networks]
    assert nets == [("net0", "vmbr0"), ("net1", "vmbr1")] and spec.guests[0].cores == 2


def test_a_service_migrated_to_a_guest_of_another_name_is_refused() -> None:
    message = error("Migrated Immich to its own VM, photos-1, with 4 cores.")
    assert "'Immich'" in message


def test_a_report_with_a_condition_is_still_refused() -> None:
    message = error("I stopped rp-3, don't start it again until Monday.")
    assert "until Monday" in message


def test_now_after_until_stays_a_condition() -> None:
    message = error("Stop rp-4 until now.")
    assert '"until now"' in message and "conditions cannot be expressed" in message


def test_for_good_without_a_power_or_deletion_word_is_not_dropped() -> None:
    assert '"for good"' in error("rp-5 is a VM with 2 cores for good.")


def test_added_cores_are_still_a_change_and_refused() -> None:
    assert "'Added' reads as an English word" in error("Added 2 cores to rp-6.")


def test_a_later_report_verb_needs_its_object() -> None:
    spec = compile_text("Moved the VM rp-7 to node pve2 and gave it 6 GB of RAM.",
                        filename="t.md")
    guest = spec.guests[0]
    assert (guest.node, guest.memory_mib) == ("pve2", 6144)


def test_a_guest_named_like_a_slot_or_a_rewritten_word_still_reads_after_named() -> None:
    spec = compile_text("A VM named net1 with 2 cores.\n\nA VM named now, tagged \"1c\".",
                        filename="t.md")
    assert [(g.name, g.tags) for g in spec.guests] == [("net1", []), ("now", ["1c"])]


def test_a_state_cell_other_than_a_state_is_refused_quoting_it() -> None:
    message = error("| name | kind | state |\n|---|---|---|\n| st-1 | vm | 4 cores |\n")
    assert message.startswith("t.md:3: ") and "'4 cores'" in message
    assert "running, stopped or absent" in message


def test_a_kind_header_with_a_kind_column_too_is_an_unknown_column() -> None:
    message = error("| VM | kind | RAM |\n|---|---|---|\n| st-2 | ct | 256 MB |\n")
    assert "'vm'" in message and "the header cells can be" in message


def test_an_onboot_cell_that_is_no_yes_or_no_is_refused() -> None:
    message = error("| name | kind | onboot |\n|---|---|---|\n| st-3 | ct | maybe |\n")
    assert '"maybe"' in message and message.startswith("t.md:3: ")


def test_a_described_count_is_still_checked_against_the_names() -> None:
    message = error("Two analysis VMs, dc-1, dc-2 and dc-3, each 8 cores.")
    assert "2 guests are announced but 3 named" in message


def test_a_vague_word_is_no_description() -> None:
    # "big" is a word of the grammar (a vague size), so it is never dropped as a description
    assert "expected the kind of guest and its name here" in error("Two big VMs, dc-4 and dc-5.")


def test_a_described_name_that_could_be_a_word_is_refused() -> None:
    message = error("The reverse proxy haproxy is a container with 2 cores.")
    assert '"The reverse proxy haproxy is a container with 2 cores"' in message


def test_a_setting_in_parentheses_after_a_name_is_read_not_dropped() -> None:
    spec = compile_text("The VM dc-6 (stopped) has 2 cores.", filename="t.md")
    assert (spec.guests[0].state, spec.guests[0].cores) == ("stopped", 2)


def test_a_size_in_parentheses_after_a_name_is_not_a_description() -> None:
    spec = compile_text("The VM dc-7 (4 GB RAM) has 2 cores.", filename="t.md")
    assert spec.guests[0].memory_mib == 4096


def test_a_bare_place_offline_is_refused_naming_each_way_to_write_it() -> None:
    message = error("Container bp-1: 1 core, on pve-b, 30 GB disk on ceph-rbd.")
    assert 'could not understand "on pve-b"' in message
    assert "write 'on node pve-b', 'on storage pve-b', 'on bridge pve-b' or 'in pool pve-b'" in (
        message)


def test_stays_switched_off_until_is_still_a_condition() -> None:
    assert '"until the auditors are done"' in error(
        "The VM sw-1 stays switched off until the auditors are done.")


def test_an_added_word_is_never_quoted_as_the_owners() -> None:
    message = error("vm aw-1, 4c, vmbr1, foo")
    assert '"vm aw-1, 4c, vmbr1, foo"' in message


@pytest.mark.parametrize("adverb", ["only", "usually", "probably", "actually", "again"])
def test_an_adverb_after_a_kind_noun_is_never_the_guests_name(adverb: str) -> None:
    # "the pihole container only needs 1 core" once declared a container named "only"
    try:
        spec = compile_text(f"the pihole container {adverb} needs 1 core", filename="t.md")
    except CompileError as exc:
        assert f'"the container pihole {adverb} needs 1 core"' in str(exc)
        return
    assert [g.name for g in spec.guests] == ["pihole"]


def test_only_before_a_number_adds_nothing() -> None:
    spec = compile_text("the pihole container only needs 1 core and 256 MB of RAM",
                        filename="t.md")
    assert [(g.name, g.memory_mib) for g in spec.guests] == [("pihole", 256)]


def test_a_pronoun_is_never_a_template_name() -> None:
    # "So I have a template called t (...). Can I get a VM named x cloned from it?"
    message = error("Can I get a VM named ph-1 cloned from it, with 4 cores?")
    assert "'it' is a pronoun; name the template" in message


def test_a_date_label_over_plain_words_is_still_refused() -> None:
    # the label is dropped only when what follows names a guest ("the grocy container")
    assert "2026-03-09" in error("2026-03-09: Bumped the memory to 2 GB.")


def test_a_present_report_with_a_condition_or_a_change_is_refused() -> None:
    assert '"until monday"' in error("Stopping x-4 until monday.")
    assert "'Adding' reads as an English word" in error("Adding 2 cores to x-7.")


def test_a_report_verb_before_a_dash_is_a_lead_in_not_a_report() -> None:
    assert "'Decommissioning'" in error("Decommissioning - the VM wr-3 has 2 cores.")
