"""The held-out notes that say ``on pve2`` without saying what pve2 is (``facts_needed``),
compiled as a connected ``mycopod compile`` does: with the cluster's names known.

Offline they can only be refused (the main figures count them so). With the names known
the grammar may read them, and then it must read them right: nothing wrong.
"""

from __future__ import annotations

import pytest

from tests.support import heldout

SETS = sorted(p.name for p in heldout.HELDOUT.parent.glob("heldout*")
              if '"facts_needed": true' in (p / "notes.jsonl").read_text(encoding="utf-8"))


def test_cluster_places_holds_what_the_notes_expect() -> None:
    notes = [{"text": "", "style": "s", "expect": [
        {"name": "a", "kind": "vm", "node": "pve-x", "pool": "lab",
         "disks": [{"slot": "scsi0", "storage": "tank", "size_gib": 10}],
         "networks": [{"slot": "net0", "bridge": "vmbr7"}]}]}]
    places = heldout.cluster_places(notes)
    assert (places.nodes, places.storages, places.bridges, places.pools) == (
        {"pve-x"}, {"tank"}, {"vmbr7"}, {"lab"})


@pytest.mark.parametrize("name", SETS)
def test_facts_needed_notes_never_compile_wrong_with_the_names_known(name: str) -> None:
    figures = heldout.measured(name)
    assert len(figures.with_facts) == sum(
        1 for note in heldout.load(heldout.folder(name) / "notes.jsonl")
        if note.get("facts_needed"))
    wrong = [(o.note["text"], o.got) for o in figures.with_facts if o.verdict == "wrong"]
    assert wrong == []
    print(name, figures.facts_counts())
