"""Issue 13: the wrapping around a statement (grammar/wrapping.py, grammar/closings.py).

Lead-ins, greetings, request phrases, sign-offs, chatter and forum prose are dropped only
by their shape; what they would hide (a state, a condition, a size, a name) keeps them,
and the sentence is then refused with the words quoted. Each test compiles whole notes
through the public entry point and checks what a user would: the guests and what the
text states of them, or the refusal's text.
"""

from __future__ import annotations

import pytest

from tests.support.grammar import error, stated


@pytest.mark.parametrize("text", [
    "Ep 12 build notes: the VM called wr-1 has 4 cores.",
    "Segment 4 - the VM called wr-1 has 4 cores.",
    "B-roll while I talk: wr-1 is a VM with 4 cores.",
    "Re: Ticket #1234 - the VM called wr-1 has 4 cores.",
    "Lab log 14 Mar: the VM called wr-1 has 4 cores.",
    "Per PI: the VM called wr-1 has 4 cores.",
    "Per customer request, the VM wr-1 has 4 cores.",
    "Staff wiki - VM wr-1, 4 cores.",
    "Cafeteria tills backend, VM wr-1, 4 cores.",
    "MIS database VM wr-1: 4 cores.",
    "Print server (VM) wr-1 - 4 cores.",
    "Dear colleague, the VM wr-1 has 4 cores. Best regards, Giovanni",
    "Good morning, the VM wr-1 has 4 cores. Thank you very much.",
    "Hello, as discussed please create a VM called wr-1 with 4 cores. Thanks in advance",
    "I kindly ask you to create a VM called wr-1 with 4 cores.",
    "Is it possible to create a VM called wr-1 with 4 cores?",
    "I need that the VM wr-1 has 4 cores.",
    "The VM wr-1 has 4 cores. Nobody touches it, it just works.",
    "need a VM called wr-1 with 4 cores asap",
    "Setup: VM wr-1, 4 cores. Problem: slow web UI. What am I doing wrong?",
    "The VM wr-1 has 4 cores, is that too small for a wiki?",
])
def test_the_wrapping_is_dropped_and_the_statement_kept(text: str) -> None:
    assert stated(text) == {"wr-1": {"name": "wr-1", "kind": "vm", "cores": 4}}


def test_the_kind_in_parentheses_before_the_name_is_kept() -> None:
    got = stated("Print server (container) printsrv - 1 core / 512 MB RAM.")
    assert got == {"printsrv": {"name": "printsrv", "kind": "ct", "cores": 1,
                                "memory_mib": 512}}


def test_a_guest_name_before_a_colon_stays_a_record() -> None:
    assert stated("wr-2: VM, 4 cores.")["wr-2"]["cores"] == 4


def test_a_lead_in_over_bare_settings_is_refused_not_given_to_another_guest() -> None:
    message = error("Jellyfin: 4 cores, 2 GB RAM.")
    assert "'Jellyfin'" in message and "guest's name" in message


@pytest.mark.parametrize(("text", "quoted"), [
    ("Archived - the VM wr-3 has 2 cores.", "'Archived'"),
    ("Decommissioning - the VM wr-3 has 2 cores.", "'Decommissioning'"),
    ("Offline: the VM wr-3 has 2 cores.", "'Offline'"),
    ("Until Monday: the VM wr-3 has 2 cores.", "'Until'"),
    ("Before the exam: the VM wr-3 has 8 cores.", "'Before'"),
    ("While I'm away: the VM wr-3 has 2 cores.", "'While'"),
])
def test_a_lead_in_that_states_a_state_or_a_condition_is_refused(text: str,
                                                                  quoted: str) -> None:
    message = error(text)
    assert quoted in message
    assert "with the guest's name" in message


def test_a_label_that_states_something_is_read_not_dropped() -> None:
    # "Off:" was dropped as a label before: now it is read as what it says
    assert stated("Off: wr-4 is a VM.")["wr-4"]["state"] == "stopped"


@pytest.mark.parametrize("text", [
    "Stop the VM wr-5 until further notice.",
    "Could you please shut down the VM wr-5 until further notice?",
    "turn off the vm wr-5 until friday lol",
    "Stop the VM wr-5, we don't need it running during the night.",
    "Delete wr-5, done with it when the backup ends.",
])
def test_conditions_are_still_refused_around_the_wrapping(text: str) -> None:
    message = error(text)
    assert "until" in message or "during" in message or "when" in message


def test_a_not_needed_reason_is_dropped_only_after_a_stop_or_a_delete() -> None:
    assert stated("stop the VM called wr-6, we don't need it running.")["wr-6"][
        "state"] == "stopped"
    assert stated("delete the container wr-6 we never use it anymore")["wr-6"][
        "state"] == "absent"
    message = error("wr-6 is a VM with 2 cores, we don't need it running.")
    assert '"we do not"' in message


@pytest.mark.parametrize(("text", "quoted"), [
    ("The VM wr-7 has 2 cores, is that 4 cores?", '"?"'),
    ("The container wr-7 has 2 GB RAM, should it have 4 GB?", '"4 GB ?"'),
    ("Problem: wr-7 keeps crashing.", '"keeps crashing"'),
])
def test_a_question_or_problem_that_holds_a_number_or_a_name_is_refused(
        text: str, quoted: str) -> None:
    assert quoted in error(text)


def test_a_signature_that_is_a_word_of_the_grammar_is_read() -> None:
    # "- Stopped" at the end is no signature: it is read (and applies to wr-8)
    assert stated("wr-8 is a VM. - Stopped")["wr-8"]["state"] == "stopped"


def test_a_greeting_alone_or_a_sign_off_alone_declares_nothing() -> None:
    assert stated("Dear team,\n\nKind regards, Piotr\n") == {}


def test_one_word_before_a_dash_is_not_dropped_it_may_name_a_place() -> None:
    # "Tank" may be a storage: the sentence is refused, not read without it
    assert "Tank" in error("Tank - wr-9 gets a 20 GB disk.")
    assert stated("Production servers - wr-9 is a VM.") == {"wr-9": {"name": "wr-9",
                                                                     "kind": "vm"}}
