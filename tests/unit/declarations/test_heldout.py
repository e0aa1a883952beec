"""Issue 13's held-out measurement: notes about machines that nobody on the grammar's team
saw, compiled offline by the grammar alone (``tests/support/heldout.py``).

``heldout/notes.jsonl`` (178 notes in 8 styles: terse and chatty homelab notes,
small-business tickets, Markdown headings and lists, ops hand-over prose, developers'
requests, MSP technicians' notes, changelog lines) and ``heldout/impossible.jsonl`` (28
requests the spec cannot express) were written by someone who was not shown the grammar,
its corpus or its docs, from the spec model and the issue only.

Only two things are asserted: no note compiles to a spec other than the one it states
(0 wrong), and every impossible request is refused. The exact rate is reported, not
asserted (``pytest -s`` prints the figures; ``bench/heldout.py`` lists every refused and
wrong note). Measured on main at db9bd49 (29 Nov 2026): 59 of 178 exact (0.331),
118 refused, 1 wrong (a Markdown heading "Shut these down ..." over a list of names: the
heading was dropped and the names declared with nothing stated); 28 of 28 impossible
requests refused.

Changed expectations (30 Nov 2026): four notes saying "UEFI" expected ``efidisk: {}`` as
well as ``bios: ovmf``, the grammar's reading then. Three later writers (sets 4, 8 and 9)
expected ``bios: ovmf`` alone, and the two specs act the same (OVMF gets its EFI disk as
a creation default either way), so the grammar now reads "UEFI" as the firmware alone and
these four expectations say so; "an EFI disk" still states one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from mycopod.spec import parse_spec, spec_dict
from tests.support import heldout


@pytest.fixture(scope="module")
def figures() -> heldout.Figures:
    return heldout.measure()


def _canonical(guests: list[dict[str, Any]]) -> str:
    return json.dumps(sorted(guests, key=lambda g: g["name"]), sort_keys=True)


def test_the_held_out_notes_are_many_varied_and_state_valid_specs() -> None:
    notes = heldout.load(heldout.NOTES)
    impossible = heldout.load(heldout.IMPOSSIBLE)
    assert len(notes) >= 150
    assert len(impossible) >= 20
    assert len({note["style"] for note in notes}) >= 6
    assert len({note["text"] for note in notes}) == len(notes), "a note is listed twice"
    for note in notes:
        assert set(note) == {"text", "expect", "style"}, note
        assert note["expect"], f"{note['text']!r} expects no guest"
        # each expectation is a valid spec, written in the stored form: only what is stated
        stored = spec_dict(parse_spec({"guests": note["expect"]}))
        assert _canonical(stored["guests"]) == _canonical(note["expect"]), note["text"]
    for item in impossible:
        assert set(item) == {"text"} and item["text"].strip(), item


def test_the_measurement_tells_exact_refused_and_wrong_apart(
        figures: heldout.Figures) -> None:
    exact = next(o for o in figures.outcomes if o.verdict == "exact")
    guest = dict(exact.note["expect"][0])
    guest["cores"] = int(guest.get("cores", 1)) + 1
    mistaken = {**exact.note, "expect": [guest, *exact.note["expect"][1:]]}
    assert heldout.judge(exact.note).verdict == "exact"
    assert heldout.judge(mistaken).verdict == "wrong"
    gibberish = {"text": "web-1 flibbers the quux.", "expect": [{"name": "web-1",
                                                                "kind": "vm"}], "style": "x"}
    outcome = heldout.judge(gibberish)
    assert outcome.verdict == "refused" and outcome.error and "flibbers" in outcome.error


def test_no_held_out_note_compiles_wrong(figures: heldout.Figures) -> None:
    print(json.dumps(figures.summary(), indent=2))
    wrong = figures.details()["wrong_notes"]
    assert wrong == [], "held-out notes compiled to a spec they do not state:\n" + "\n".join(
        f"- {w['text']!r}\n  got  {json.dumps(w['got'])}\n  want {json.dumps(w['want'])}"
        for w in wrong)


def test_every_impossible_request_is_refused(figures: heldout.Figures) -> None:
    compiled = figures.details()["impossible_not_refused"]
    assert compiled == [], f"impossible requests that were not refused: {compiled}"
    assert all(error for _, error in figures.impossible)
