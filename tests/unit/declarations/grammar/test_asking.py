"""Requests framed as asking (grammar/asking.py), a relative amount then its total
(grammar/comparatives.py): what they state, and the framings that stay refused."""

from __future__ import annotations

import pytest

from tests.support.grammar import error, stated


@pytest.mark.parametrize(("text", "name", "want"), [
    ("We would like to have a container named inv-ct with 2 cores.", "inv-ct",
     {"kind": "ct", "cores": 2}),
    ("I am asking you to delete the VM crm-old.", "crm-old", {"kind": "vm", "state": "absent"}),
    ("Is it possible that the VM ledger-3 gets 2 cores?", "ledger-3", {"kind": "vm", "cores": 2}),
    ("Could the container till-ct get 1 GB of RAM?", "till-ct", {"kind": "ct", "memory_mib": 1024}),
    ("For server arch-2 please give 100 GB disk on storage tank.", "arch-2",
     {"disks": [{"slot": "scsi0", "storage": "tank", "size_gib": 100}]}),
    ("For the seating plan please create a container named seat-ct with 1 core.", "seat-ct",
     {"kind": "ct", "cores": 1}),
    ("Need a VM for the invoices, call it inv-vm, 2 cores.", "inv-vm", {"kind": "vm", "cores": 2}),
    ("Our new blog for 2028 should be called blog-28, 1 core.", "blog-28", {"cores": 1}),
    ("My sister set up a container called notes-ct with 1 core.", "notes-ct",
     {"kind": "ct", "cores": 1}),
    ("Please add to VM till-3 the tag shop.", "till-3", {"kind": "vm", "tags": ["shop"]}),
    ("We do not need the promo-vm VM, shut it down.", "promo-vm",
     {"kind": "vm", "state": "stopped"}),
    ("Create a third VM named lab-3 with 1 core.", "lab-3", {"kind": "vm", "cores": 1}),
    ("delete the virtual machine tmp-9 period", "tmp-9", {"kind": "vm", "state": "absent"}),
    ("The VM acct-2 gets one core more? So 4 cores in total.", "acct-2",
     {"kind": "vm", "cores": 4}),
    ("the container docs-ct should get one more gig so three gigs of memory total", "docs-ct",
     {"kind": "ct", "memory_mib": 3072}),
])
def test_a_framed_request_states_what_it_asks_for(text: str, name: str,
                                                  want: dict[str, object]) -> None:
    assert stated(text) == {name: {"name": name, **want}}


def test_a_tag_added_on_several_guests() -> None:
    assert stated("Add clients as a tag on rsvp-2 and bloom-3.") == {
        "rsvp-2": {"name": "rsvp-2", "tags": ["clients"]},
        "bloom-3": {"name": "bloom-3", "tags": ["clients"]}}


def test_a_relative_amount_without_its_total_stays_refused() -> None:
    assert "vague amounts" in error("Is it possible that the VM acct-2 gets one core more?")
    assert "vague amounts" in error("the container docs-ct should get one more gig")


def test_a_name_after_for_is_not_dropped_as_a_purpose() -> None:
    # "For db-1" names a guest; what the new VM is for may only be plain words
    assert "could not find which guest" in error("For db-1 please create a VM named w-9.")


@pytest.mark.parametrize(("text", "name", "want"), [
    ("I need a virtual machine for the payroll, the name is pay-02, with 2 cores.", "pay-02",
     {"kind": "vm", "cores": 2}),
    ("We would like a virtual machine, to be called chess-2, with 2 cores.", "chess-2",
     {"kind": "vm", "cores": 2}),
    ("The scanner backup container is called scanbak. It has 1 core.", "scanbak",
     {"kind": "ct", "cores": 1}),
    ("the quiz server for the pupils is quiz-7, a VM, 2 cores.", "quiz-7",
     {"kind": "vm", "cores": 2}),
    ("Could the guest feed-3 be shut down?", "feed-3", {"state": "stopped"}),
    ("Please make for me a container named sftp-3 with 1 core.", "sftp-3",
     {"kind": "ct", "cores": 1}),
    ("Timesheet app: times-2, container, half a gig of ram is fine", "times-2",
     {"kind": "ct", "memory_mib": 512}),
    ("Container rota-3 must have 2 GB RAM and 1 core, it is enough.", "rota-3",
     {"kind": "ct", "cores": 1, "memory_mib": 2048}),
    ("can someone spin up a vm for me, name it sb-3, 2 cores 4gb should do.", "sb-3",
     {"kind": "vm", "cores": 2, "memory_mib": 4096}),
    ("Can the invoice-3 server have a bigger disk? 120 GB please.", "invoice-3",
     {"disks": [{"slot": "scsi0", "size_gib": 120}]}),
    ("Our new menu site should be called menu-27, one core \U0001f355", "menu-27", {"cores": 1}),
])
def test_names_given_later_and_amounts_judged(text: str, name: str,
                                              want: dict[str, object]) -> None:
    assert stated(text) == {name: {"name": name, **want}}


def test_a_described_ssh_key_is_the_ssh_key_but_a_meaningful_word_is_refused() -> None:
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk3m1xZ9v0pR2s4t6u8w0y2A4C6E8G0I2K4M6O8Q0S2"
    got = stated(f"Add the office scanner key to scan-4: {key} scan@office")
    assert got["scan-4"]["ssh_keys"] == [f"{key} scan@office"]
    assert "could not understand" in error(f"Add my root key to scan-5: {key} me@x")


def test_questions_and_plain_english_stay_refused() -> None:
    assert "'Could' reads as an English word" in error("Could web-5 be a VM?")
    assert "vague amounts" in error("web-6 has RAM, it is enough.")
    assert "could not find which guest" in error("Can the kids have 2 cores?")
