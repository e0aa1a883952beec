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
