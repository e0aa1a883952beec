"""Request forms and e-mail structure (issue 13, round 7): the form's lines are read as
sentences about the guest it names, its metadata is reported as ignored; what cannot be
read that way stays an error that quotes it."""

from __future__ import annotations

import pytest

from tests.support.grammar import error
from tests.support.grammar import stated_and_ignored as _ignored


def test_a_form_is_read_and_its_metadata_reported() -> None:
    guests, ignored = _ignored("REQUEST FORM\nRequest type: New container\nName: rx-label\n"
                               "CPU: 2\nMemory: 2 GB\nDisk: 8 GB on local-lvm\nVLAN: 40\n"
                               "Requested by: Pharmacy\nUrgency: routine\n")
    assert guests == {"rx-label": {
        "name": "rx-label", "kind": "ct", "cores": 2, "memory_mib": 2048,
        "disks": [{"slot": "rootfs", "size_gib": 8, "storage": "local-lvm"}],
        "networks": [{"slot": "net0", "vlan": 40}]}}
    assert ignored == ["t.md:1: ignored as form metadata: 'REQUEST FORM'",
                       "t.md:8: ignored as form metadata: 'Requested by: Pharmacy'",
                       "t.md:9: ignored as form metadata: 'Urgency: routine'"]


def test_a_form_of_items_and_requests_reads_each_as_a_sentence() -> None:
    guests, ignored = _ignored("Form 7-C\nItem 1: note-a, VM, 2 cores\n"
                               "Item 2: note-b, container, 1 core\nRequester: Ward 2\n")
    assert guests == {"note-a": {"name": "note-a", "kind": "vm", "cores": 2},
                      "note-b": {"name": "note-b", "kind": "ct", "cores": 1}}
    assert ignored == ["t.md:1: ignored as form metadata: 'Form 7-C'",
                       "t.md:4: ignored as form metadata: 'Requester: Ward 2'"]


def test_a_value_the_grammar_cannot_read_is_an_error_on_its_line() -> None:
    message = error("Name: bad-x\nType: VM\nMemory: lots\n")
    assert "t.md:3:" in message and "lots" in message


@pytest.mark.parametrize("text", [
    "Name: web-y\nRequested by: Bob\n",  # a name and metadata only: nothing declared
    "Request type: Firewall change\nName: web-y\nPort: 443\n",  # not a kind, a key unknown
    "Name: web-y\nSchedule: reboot every night\n",  # a key no form list holds
    "Request type: New virtual machine\nUrgency: high\n",  # no guest
])
def test_a_form_that_is_not_one_of_a_guest_is_refused(text: str) -> None:
    assert "t.md:" in error(text)


def test_an_e_mail_reply_is_read_without_its_headers_quotes_and_signature() -> None:
    guests, ignored = _ignored("From: Ola\nSubject: old scanner\n\nOn Mon, Ola wrote:\n"
                               "> Do we still need scan-x?\n\nNo, please delete scan-x.\n\n"
                               "Regards,\nJan Berg\n")
    assert guests == {"scan-x": {"name": "scan-x", "state": "absent"}}
    assert ignored == [
        "t.md:1: ignored as e-mail header: 'From: Ola'",
        "t.md:2: ignored as e-mail header: 'Subject: old scanner'",
        "t.md:4: ignored as e-mail attribution: 'On Mon, Ola wrote:'",
        "t.md:5: ignored as quoted text: '> Do we still need scan-x?'",
        "t.md:7: ignored as the answer to the quote: 'No,'",
        "t.md:9: ignored as signature: 'Regards,'",
        "t.md:10: ignored as signature: 'Jan Berg'"]


@pytest.mark.parametrize(("text", "said"), [
    ("> Should I stop web-x?\n\nYes.\n", "'Yes.'"),
    ("> Which node should web-x go on?\n\npve-x please.\n", "'pve-x please.'"),
])
def test_an_answer_that_needs_the_quote_is_refused(text: str, said: str) -> None:
    assert f"t.md:3: {said} answers the quoted text above it" in error(text)


def test_a_quote_that_declares_a_guest_is_refused_not_dropped() -> None:
    message = error("> web-x is a VM with 2 cores\n\nweb-y is a VM.\n")
    assert "t.md:1: the quoted text 'web-x is a VM with 2 cores' declares web-x" in message


def test_a_blockquote_alone_is_still_read_as_text() -> None:
    # no reply under it, no header: not an e-mail (a Markdown note)
    guests, ignored = _ignored("> web-x is a VM with 2 cores.\n")
    assert guests == {"web-x": {"name": "web-x", "kind": "vm", "cores": 2}}
    assert ignored == []


def test_a_one_line_form_is_cut_into_its_fields() -> None:
    guests, ignored = _ignored("CHG-9 | Summary: stop the VM pay-x | Risk: low | Backout: "
                               "start it again\n")
    assert guests == {"pay-x": {"name": "pay-x", "kind": "vm", "state": "stopped"}}
    assert ignored == ["t.md:1: ignored as form metadata: 'CHG-9'",
                       "t.md:1: ignored as form metadata: 'Risk: low'",
                       "t.md:1: ignored as form metadata: 'Backout: start it again'"]
    guests, ignored = _ignored("Proposed change: delete the VM ftp-x. Justification: "
                               "unused. Risk: low.\n")
    assert guests == {"ftp-x": {"name": "ftp-x", "kind": "vm", "state": "absent"}}
    assert ignored == ["t.md:1: ignored as form metadata: 'Justification: unused.'",
                       "t.md:1: ignored as form metadata: 'Risk: low.'"]


def test_a_field_value_table_is_a_form() -> None:
    guests, ignored = _ignored("| Field | Value |\n|---|---|\n| Change | New container |\n"
                               "| Name | ntp-x |\n| Cores | 1 |\n| Urgency | low |\n")
    assert guests == {"ntp-x": {"name": "ntp-x", "kind": "ct", "cores": 1}}
    assert ignored == ["t.md:6: ignored as form metadata: 'Urgency: low'"]
