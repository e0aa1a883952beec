"""Issue 13, sixth round: classes of phrasing the fifth held-out set showed refused.

Chat transcripts (grammar/transcripts.py), closing sentences (``That's all.``), starting
a guest when the node boots (grammar/idioms.py), thread numbers (grammar/markers.py).
Each test compiles whole notes through the public entry point and checks what a user
would: the guests and what the text states of them, or the refusal's text.
"""

from __future__ import annotations

import pytest

from tests.support.grammar import error, stated


def test_a_transcript_reads_the_users_turns_and_drops_the_bots_acknowledgements() -> None:
    note = ("User: I need a container called g6-wiki with 1 core.\n"
            "Bot: Sure! Anything else?\n"
            "User: No, that's all.")
    assert stated(note) == {"g6-wiki": {"name": "g6-wiki", "kind": "ct", "cores": 1}}


def test_each_user_turn_is_a_sentence_and_an_and_continues_the_previous_one() -> None:
    note = ("Customer: hi\n"
            "Customer: the VM g6-db needs 4 cores\n"
            "Customer: and 8 GB of RAM\n"
            "Agent: Noted.\n"
            "Customer: g6-old can be deleted")
    assert stated(note) == {
        "g6-db": {"name": "g6-db", "kind": "vm", "cores": 4, "memory_mib": 8192},
        "g6-old": {"name": "g6-old", "state": "absent"}}


@pytest.mark.parametrize("bot", [
    "Which guest should be deleted?",
    "How much memory should g6-x have?",
    "I will give it 8 cores.",
])
def test_a_bot_turn_that_asks_or_states_something_is_refused_quoting_it(bot: str) -> None:
    message = error(f"Bot: {bot}\nUser: the VM g6-x")
    assert f'the bot\'s turn "{bot[:-1].rstrip()}' in message
    assert "never read without the question it answers" in message


def test_a_user_label_in_a_paragraph_that_is_no_transcript_is_read_as_words() -> None:
    note = "The VM g6-a has 2 cores.\nUser: it has 4 GB of RAM."
    assert 'could not understand "User"' in error(note)


@pytest.mark.parametrize("text", [
    "Make a VM named g6-p with a 40 GB disk, and start it when the node boots.",
    "Make a VM named g6-p with a 40 GB disk. Start it automatically.",
    "Make a VM named g6-p with a 40 GB disk and start it at boot.",
])
def test_starting_a_guest_when_the_node_boots_is_onboot_not_running(text: str) -> None:
    assert stated(text)["g6-p"] == {"name": "g6-p", "kind": "vm", "onboot": True,
                                    "disks": [{"slot": "scsi0", "size_gib": 40}]}


def test_start_it_alone_is_still_running_and_a_condition_still_refused() -> None:
    assert stated("g6-s is a VM. Start it.")["g6-s"]["state"] == "running"
    assert "when the pitch is over" in error("g6-s is a VM. Start it when the pitch is over.")


@pytest.mark.parametrize("closing", ["That's all.", "That's it, thanks.", "No, that's it."])
def test_a_closing_sentence_states_nothing(closing: str) -> None:
    assert stated(f"g6-c is a VM with 2 cores. {closing}") == {
        "g6-c": {"name": "g6-c", "kind": "vm", "cores": 2}}


def test_that_is_it_with_more_words_is_read_and_refused() -> None:
    assert "that's it" in error("g6-c is a VM. That's it for g6-d.").lower()


@pytest.mark.parametrize("text", ["1/ g6-t is a VM with 2 cores", "3/5 g6-t is a VM with 2 cores"])
def test_a_thread_number_is_not_part_of_the_statement(text: str) -> None:
    assert stated(text) == {"g6-t": {"name": "g6-t", "kind": "vm", "cores": 2}}


def test_a_thread_number_over_bare_settings_is_refused() -> None:
    assert "2 cores" in error("2/ 2 cores and 4 GB of RAM")


@pytest.mark.parametrize("text", [
    "Give the VM g6-m 4 GB of RAM so it stops swapping.",
    "Give the VM g6-m 4 GB of RAM, so that the index fits.",
    "Give the VM g6-m 4 GB of RAM because the reports were too slow.",
    "Give the VM g6-m 4 GB of RAM in order to keep the cache warm.",
])
def test_a_purpose_clause_at_the_end_is_dropped(text: str) -> None:
    assert stated(text) == {"g6-m": {"name": "g6-m", "kind": "vm", "memory_mib": 4096}}


@pytest.mark.parametrize(("text", "quoted"), [
    ("Give the VM g6-m 4 GB of RAM so it keeps running.", "so it keeps"),
    ("Give the VM g6-m 4 GB of RAM because g6-n needs it.", "because g6-n"),
    ("Give the VM g6-m 4 GB of RAM so that it has 8 cores.", "so that it has 8 cores"),
    ("Give the VM g6-m 4 GB of RAM because of the audit until Friday.", "until Friday"),
    ("g6-m is a VM, so g6-n is a container.", "so g6-n"),
])
def test_a_purpose_that_states_something_is_refused_quoting_it(text: str, quoted: str) -> None:
    assert quoted in error(text)


def test_several_names_share_one_tag() -> None:
    assert stated("Tag g6-a, g6-b and g6-c with shop.") == {
        n: {"name": n, "tags": ["shop"]} for n in ("g6-a", "g6-b", "g6-c")}


@pytest.mark.parametrize("text", [
    "Homework upload server g6-h: container, 1 core.",
    "New weather logger g6-h, a container with 1 core.",
    "Choir rota box g6-h is a container with 1 core.",
])
def test_a_capitalised_description_before_the_name_is_dropped(text: str) -> None:
    assert stated(text) == {"g6-h": {"name": "g6-h", "kind": "ct", "cores": 1}}


@pytest.mark.parametrize(("text", "quoted"), [
    ("Patch g6-h: it is a container.", "'Patch'"),
    ("Network card box g6-h is a container.", "'Network'"),
    ("Homework server g6-h 2 cores.", "'Homework'"),
])
def test_a_description_of_one_word_or_of_grammar_words_is_not_dropped(
        text: str, quoted: str) -> None:
    assert quoted in error(text)


@pytest.mark.parametrize("said", [
    "Dr. Moreau asked me to put this here.",
    "Pastor Ann approved this.",
    "Coach wants a scrim box.",
])
def test_who_asked_as_a_whole_sentence_states_nothing(said: str) -> None:
    assert stated(f"{said} g6-w is a VM with 2 cores.") == {
        "g6-w": {"name": "g6-w", "kind": "vm", "cores": 2}}


def test_a_third_persons_wish_frames_the_statement_and_a_title_ends_no_sentence() -> None:
    assert stated("Mrs. Lee wants the container g6-b to have 2 GB of memory.") == {
        "g6-b": {"name": "g6-b", "kind": "ct", "memory_mib": 2048}}


@pytest.mark.parametrize(("text", "quoted"), [
    ("Dr. Moreau asked me to delete it. g6-w is a VM.", "'Dr'"),
    ("Mark wants 4 cores. g6-w is a VM.", "'Mark'"),
    ("Mark approved web-9. g6-w is a VM.", "'Mark'"),
])
def test_a_say_so_that_names_or_states_something_is_refused(text: str, quoted: str) -> None:
    assert quoted in error(text)



@pytest.mark.parametrize("text", [
    "g6-v: container, cores = 2, memory = 2048 MB",
    "Declare a container named g6-v with cores set to 2 and memory set to 2 GB.",
    "g6-v: kind ct, cores 2, memory 2048 MB",
    "g6-v: type: lxc, cores: 2, ram is set to 2 GB",
])
def test_settings_written_as_keys_and_values(text: str) -> None:
    assert stated(text) == {"g6-v": {"name": "g6-v", "kind": "ct", "cores": 2,
                                     "memory_mib": 2048}}


@pytest.mark.parametrize(("text", "want"), [
    ("The desired state of g6-o is stopped.", {"state": "stopped"}),
    ("The pool of g6-o should be infra.", {"pool": "infra"}),
    ("Set the pool of g6-o to infra.", {"pool": "infra"}),
    ("The memory of the container g6-o must be 2 GB.", {"kind": "ct", "memory_mib": 2048}),
    ("Desired state for g6-o: container, 2 cores.", {"kind": "ct", "cores": 2}),
])
def test_a_setting_of_a_guest_named_after_of_or_for(text: str, want: dict[str, object]) -> None:
    assert stated(text) == {"g6-o": {"name": "g6-o", **want}}


@pytest.mark.parametrize(("text", "quoted"), [
    ("g6-o is a VM with memory set to plenty.", "memory set to plenty"),
    ("The state of g6-o is whatever works.", "whatever works"),
    ("g6-o: kind vm, type ct", "type"),
    ("The state for g6-o is stopped.", "The state for g6-o is stopped"),
])
def test_a_key_with_no_value_the_grammar_reads_is_refused(text: str, quoted: str) -> None:
    assert quoted in error(text)


def test_a_key_opening_a_sentence_is_still_a_record_of_the_guest_before() -> None:
    assert stated("g6-r is a VM. Memory: 16 GB. Cores: 4.") == {
        "g6-r": {"name": "g6-r", "kind": "vm", "memory_mib": 16384, "cores": 4}}


@pytest.mark.parametrize(("text", "mib"), [
    ("g6-u is a VM with 8 giga of ram.", 8192),
    ("g6-u is a VM with 2 gigas of RAM.", 2048),
    ("g6-u is a VM with 512 mega of memory.", 512),
])
def test_a_unit_prefix_alone_is_the_unit(text: str, mib: int) -> None:
    assert stated(text)["g6-u"]["memory_mib"] == mib


def test_a_would_need_wish_and_a_virtual_machine_with_name() -> None:
    assert stated("I would need a virtual machine with name g6-n, with 2 core.") == {
        "g6-n": {"name": "g6-n", "kind": "vm", "cores": 2}}
    assert stated("We would need to stop g6-n.") == {"g6-n": {"name": "g6-n",
                                                              "state": "stopped"}}


def test_a_unit_without_a_number_is_refused() -> None:
    assert 'could not understand "giga"' in error("g6-u is a VM with a giga disk.")


@pytest.mark.parametrize("text", [
    "g6-p is a VM with 2 cores (status: waiting for review).",
    "g6-p is a VM with 2 cores (owner: Sam).",
])
def test_a_record_in_parentheses_at_the_end_is_dropped(text: str) -> None:
    assert stated(text) == {"g6-p": {"name": "g6-p", "kind": "vm", "cores": 2}}


@pytest.mark.parametrize(("text", "quoted"), [
    ("g6-p is a VM (maybe).", "maybe"),
    ("g6-p is a VM with 2 cores (fast ones).", "fast ones"),
    ("g6-p is a VM (owner: maybe Sam).", "maybe"),
    ("g6-p is a VM (until Friday).", "until Friday"),
])
def test_an_aside_that_qualifies_the_statement_is_refused(text: str, quoted: str) -> None:
    assert quoted in error(text)


@pytest.mark.parametrize("text", ["DONE: g6-s is a container.", "TODO g6-s is a container",
                                  "WIP - g6-s is a container"])
def test_a_card_status_in_capitals_is_not_part_of_the_statement(text: str) -> None:
    assert stated(text) == {"g6-s": {"name": "g6-s", "kind": "ct"}}


def test_a_card_status_over_bare_settings_is_refused() -> None:
    assert "'DONE'" in error("DONE - 4 cores")


@pytest.mark.parametrize(("text", "want"), [
    ("g6-g goes on VLAN 40.", {"networks": [{"slot": "net0", "vlan": 40}]}),
    ("g6-g should go on node pve2.", {"node": "pve2"}),
    ("g6-g goes in the pool infra.", {"pool": "infra"}),
])
def test_goes_on_or_in_is_where_the_guest_is(text: str, want: dict[str, object]) -> None:
    assert stated(text) == {"g6-g": {"name": "g6-g", **want}}


@pytest.mark.parametrize("text", ["g6-g can go in pool infra.", "g6-g can go to node pve2.",
                                  "g6-g may go on VLAN 20."])
def test_can_go_before_a_place_is_never_a_deletion(text: str) -> None:
    assert "could not understand" in error(text)
    assert stated("g6-g can go.") == {"g6-g": {"name": "g6-g", "state": "absent"}}


@pytest.mark.parametrize(("text", "want"), [
    ("g6-e needs more memory, make it 4 gigs", {"memory_mib": 4096}),
    ("g6-e needs a bigger disk please, 500 GB should do.", {
        "disks": [{"slot": "scsi0", "size_gib": 500}]}),
    ("g6-e needs more cores - make it 8.", {"cores": 8}),
])
def test_more_then_the_exact_amount_is_the_amount(text: str, want: dict[str, object]) -> None:
    assert stated(text) == {"g6-e": {"name": "g6-e", **want}}


@pytest.mark.parametrize("text", ["g6-e needs more memory.",
                                  "g6-e needs more memory, 4 GB when it is busy.",
                                  "g6-e needs more memory, make it 4 gigs or so."])
def test_more_without_an_exact_amount_alone_is_still_vague(text: str) -> None:
    assert "vague amounts cannot be compiled" in error(text)


def test_a_reason_before_an_order_is_dropped() -> None:
    assert stated("We're done with the pilot, delete the VM g6-l.") == {
        "g6-l": {"name": "g6-l", "kind": "vm", "state": "absent"}}


@pytest.mark.parametrize(("text", "quoted"), [
    ("We are done until Friday, stop g6-l.", "until Friday"),
    ("We moved g6-m to node pve2, delete g6-l.", "g6-l"),
])
def test_a_leading_reason_that_states_something_is_refused(text: str, quoted: str) -> None:
    assert quoted in error(text)
