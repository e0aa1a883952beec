"""Issue 13's held-out measurement, second set: notes written by someone the grammar was
never shown to (``heldout2/notes.jsonl``, ``heldout2/impossible.jsonl``).

176 notes in 12 styles (nervous first-time homelabber, terse changelog, German admin
writing English, Reddit post, MSP runbook, Slack message, README inventory, migration
plan, onboarding checklist, ticket comment, sysadmin e-mail, forum help post) and 24
requests the spec cannot express, compiled offline by the grammar alone.

Measured when the set was written (``pytest -s`` prints the figures,
``bench/heldout.py --set heldout2`` prints them with every refused and wrong note):
29 of 176 exact (16.5 %), 146 refused, 1 wrong; 24 of 24 impossible requests refused.
The wrong note: "yo, ci-cache container -> 8 GB RAM please" also declares a container
named "yo". The issue asks for none wrong, so that assertion is marked as an expected
failure (strict: it fails loudly once the grammar stops inventing the guest, and the
mark must then go).

After the third round of grammar work, which used this set as its development set (so it
is no longer held out): 53 of 176 exact (30.1 %), 123 refused, 0 wrong; 24 of 24 refused.

Only the two things the issue fixes are asserted: nothing compiles wrong and every
impossible request is refused. The exact rate is printed, not asserted.
"""

from __future__ import annotations

import json

import pytest

from tests.support import heldout


@pytest.fixture(scope="module")
def figures() -> heldout.Figures:
    return heldout.measure(heldout.folder("heldout2"))


def test_the_second_set_is_measured_and_its_figures_printed(figures: heldout.Figures) -> None:
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


def test_no_note_of_the_second_set_compiles_wrong(figures: heldout.Figures) -> None:
    wrong = [(o.note["text"], o.got, o.want) for o in figures.outcomes if o.verdict == "wrong"]
    assert wrong == []


def test_every_impossible_request_of_the_second_set_is_refused(
        figures: heldout.Figures) -> None:
    not_refused = [text for text, error in figures.impossible if error is None]
    assert not_refused == []
    for text, error in figures.impossible:
        assert error and "heldout.md:" in error, (text, error)
