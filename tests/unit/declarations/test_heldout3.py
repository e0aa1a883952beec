"""Issue 13's held-out measurement, third set: notes written by someone the grammar was
never shown to (``heldout3/notes.jsonl``, ``heldout3/impossible.jsonl``).

152 notes in 12 styles (homelab YouTuber's video notes, school IT inventory, law firm's
outsourced IT ticket thread, Proxmox forum help post, ansible TODO list, self-hoster's
blog changelog, CTO's Slack one-liners, non-native speaker's e-mail, Markdown table
inventory, handover document, teenager's game servers, research lab notebook) and 24
requests the spec cannot express, compiled offline by the grammar alone.

Measured when the set was written (``pytest -s`` prints the figures,
``bench/heldout.py --set heldout3`` prints them with every refused and wrong note):
26 of 152 exact (17.1 %), 124 refused, 2 wrong; 24 of 24 impossible requests refused.
The two wrong notes:

- "kill the vm investor-demo, done with it" also deletes a VM named "done";
- "truenas, a VM, 8 cores, 32 GB RAM, running on pve1." states ``state: running`` as
  well as the node; the note means where it runs (the placement), not a power state.

Since then: "done" is never read as a guest's name (that note is now refused, not
wrong), and the lead accepted the grammar's reading of the second: after the guest,
"running on NAME" states the power state and the node, as the corpus and
docs/declarations.md have it (the second set's author read it so too); its expectation
now says ``state: running``. After grammar round 3 (trained on the second set, never on
this one): 48 of 152 exact (31.6 %), 104 refused, 0 wrong.

Only the two things the issue fixes are asserted: nothing compiles wrong and every
impossible request is refused. The exact rate is printed, not asserted.
"""

from __future__ import annotations

import json

import pytest

from tests.support import heldout


@pytest.fixture(scope="module")
def figures() -> heldout.Figures:
    return heldout.measure(heldout.folder("heldout3"))


def test_the_third_set_is_measured_and_its_figures_printed(figures: heldout.Figures) -> None:
    details = figures.details()
    print(json.dumps(details, indent=2, ensure_ascii=False))
    summary = details["overall"]
    assert summary["notes"] >= 150
    assert summary["exact"] + summary["refused"] + summary["wrong"] == summary["notes"]
    assert len(details["by_style"]) >= 10
    assert details["impossible"] >= 20
    # every expectation is a valid spec in stored form (judge() parses each one)
    for outcome in figures.outcomes:
        assert outcome.want == {"guests": outcome.note["expect"]}, outcome.note["text"]


def test_no_note_of_the_third_set_compiles_wrong(figures: heldout.Figures) -> None:
    wrong = [(o.note["text"], o.got, o.want) for o in figures.outcomes if o.verdict == "wrong"]
    assert wrong == []


def test_every_impossible_request_of_the_third_set_is_refused(
        figures: heldout.Figures) -> None:
    not_refused = [text for text, error in figures.impossible if error is None]
    assert not_refused == []
    for text, error in figures.impossible:
        assert error and "heldout.md:" in error, (text, error)
