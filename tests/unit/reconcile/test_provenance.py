"""Each planned guest traced to its paragraph: file:line, text, rendering, compiler."""

from __future__ import annotations

import pytest

from mycopod import spec as specmod
from mycopod.declarations import pipeline
from mycopod.reconcile import provenance
from mycopod.store.declarations import FileRecord

FLEET = ("# Fleet\n\nweb-1 through web-3 are VMs with 2 cores.\n\n"
         "db-1 is a container with 4 cores.\n")
LLM_TEXT = "zcache-1 should be a beefy box, 8 cores please."


def _files() -> tuple[list[FileRecord], str, dict[str, specmod.GuestSpec]]:
    spec = specmod.parse_spec({"guests": [
        *({"name": f"web-{i}", "kind": "vm", "cores": 2} for i in (1, 2, 3)),
        {"name": "db-1", "kind": "ct", "cores": 4},
        {"name": "zcache-1", "kind": "vm", "cores": 8}]})
    records = [
        FileRecord(path="fleet.md", sha256="a", compiler="grammar",
                   guests=["web-1", "web-2", "web-3", "db-1"]),
        FileRecord(path="cache.md", sha256="b", compiler="llm", model="openai/m",
                   guests=["zcache-1"], llm_guests={"zcache-1": "openai/m"},
                   paragraphs=[{"first": 1, "last": 1, "text": LLM_TEXT, "compiler": "llm",
                                "model": "openai/m", "guests": ["zcache-1"],
                                "understood_as": "zcache-1 is a VM with 8 cores.",
                                "error": None}]),
    ]
    content = pipeline._content({"fleet.md": FLEET, "cache.md": LLM_TEXT + "\n"})
    return records, content, {g.name: g for g in spec.guests}


def test_grammar_guests_are_found_in_the_text_and_rendered_from_the_spec() -> None:
    records, content, guests = _files()
    found = {s.guest: s for s in provenance.trace(records, content, guests,
                                                  ["web-2", "db-1"], gate=True)}
    assert (found["web-2"].file, found["web-2"].line, found["web-2"].by) == (
        "fleet.md", 3, "grammar")
    assert found["web-2"].text == "web-1 through web-3 are VMs with 2 cores."
    assert found["web-2"].understood_as == "web-2 is a VM with 2 cores."
    assert found["db-1"].line == 5 and not found["db-1"].approval


def test_an_llm_paragraph_keeps_its_record_and_is_gated_by_the_policy() -> None:
    records, content, guests = _files()
    [gated] = provenance.trace(records, content, guests, ["zcache-1"], gate=True)
    assert gated.model_dump() == {
        "guest": "zcache-1", "file": "cache.md", "line": 1, "text": LLM_TEXT,
        "understood_as": "zcache-1 is a VM with 8 cores.", "compiler": "llm",
        "model": "openai/m", "approval": True, "ignored": ()}
    [free] = provenance.trace(records, content, guests, ["zcache-1"], gate=False)
    assert not free.approval and free.by == "openai/m"
    assert provenance.trace(records, content, guests, ["not-declared"], gate=True) == []


def test_past_the_limit_only_the_llm_sources_are_kept(monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    records, content, guests = _files()
    monkeypatch.setattr(provenance, "MAX_SOURCES", 1)
    found = provenance.trace(records, content, guests, list(guests), gate=True)
    assert [(s.guest, s.approval) for s in found] == [("db-1", False), ("zcache-1", True)]
