"""Issue 13's first rule on text that declares no guest: 0 silently wrong, no word dropped.

``corpus/not_declarations.jsonl``: one text a line, ``{"text": ..., "style": ...}``, in
many styles (chit-chat, performance complaints, vague wishes, to-do notes, questions,
single words, fragments, commit messages, emoji, URLs, code in prose, sentences that name
a guest without declaring anything, past-tense reports). None of them declares a guest,
so each must be refused with an error that quotes its words and says what was expected.
A case with ``"empty_ok"`` may instead compile to no guest: ``"courtesy"`` when the text
is a greeting, closing or acknowledgement of the grammar's explicit list
(:data:`~mycopod.declarations.grammar.soundness.COURTESY_PHRASES`), ``"commentary"`` when
it holds no declaration text at all (a fenced code block, punctuation). The figures are
printed (``pytest -s``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from mycopod.declarations import grammar
from mycopod.declarations.grammar import soundness

CASES = [json.loads(line) for line in
         (Path(__file__).parent / "corpus" / "not_declarations.jsonl").read_text().splitlines()
         if line.strip()]
#: what an error says to show what was expected
_GUIDES = re.compile(r"expected|write|start with|use |give |declare|name the guest|cannot be")


def _outcome(text: str) -> tuple[str, str]:
    """``guest`` (silently wrong), ``empty`` or ``refused``, with the guests or message."""
    try:
        spec = grammar.compile_text(text + "\n", filename="note.md")
    except grammar.CompileError as exc:
        return "refused", str(exc)
    if spec.guests:
        return "guest", ", ".join(g.name for g in spec.guests)
    return "empty", ""


@pytest.fixture(scope="module")
def outcomes() -> dict[str, tuple[str, str]]:
    result = {case["text"]: _outcome(case["text"]) for case in CASES}
    counts = {k: sum(1 for o, _ in result.values() if o == k)
              for k in ("guest", "empty", "refused")}
    print("\nnot_declarations:", json.dumps({"cases": len(CASES), **counts}))
    return result


def test_the_corpus_is_large_and_varied() -> None:
    assert len(CASES) >= 150
    assert len({case["style"] for case in CASES}) >= 10
    assert len({case["text"] for case in CASES}) == len(CASES)


def test_no_text_that_declares_no_guest_compiles_to_a_guest(
        outcomes: dict[str, tuple[str, str]]) -> None:
    wrong = {text: got for text, (outcome, got) in outcomes.items() if outcome == "guest"}
    assert wrong == {}


def test_only_courtesy_and_commentary_compile_to_nothing(
        outcomes: dict[str, tuple[str, str]]) -> None:
    silent = [c["text"] for c in CASES
              if outcomes[c["text"]][0] == "empty" and not c.get("empty_ok")]
    assert silent == []
    for case in CASES:
        if case.get("empty_ok") == "courtesy":
            assert soundness.is_courtesy(case["text"]), case["text"]


@pytest.mark.parametrize("case", [c for c in CASES if not c.get("empty_ok")],
                         ids=lambda c: c["text"][:40])
def test_each_refusal_quotes_the_words_and_says_what_was_expected(
        case: dict[str, Any], outcomes: dict[str, tuple[str, str]]) -> None:
    outcome, message = outcomes[case["text"]]
    assert outcome == "refused"
    words = [w.strip(".").lower() for w in re.findall(r"[\w@#:/.'-]+", case["text"])
             if len(w.strip(".")) >= 2]
    assert not words or any(w in message.lower() for w in words), message
    assert _GUIDES.search(message), message


@pytest.mark.parametrize(("text", "hint"), [
    ("banana", "write 'banana is a VM'"),
    ("whatever.", "write 'whatever is a VM'"),
    ("Make the VMs faster", "'faster' is a word, not a guest's name"),
    ("Add notes", "write 'notes is a VM'"),
    ("2024-11-30", "has no letter"),
])
def test_a_lone_word_is_refused_with_how_to_declare_it(text: str, hint: str) -> None:
    outcome, message = _outcome(text)
    assert outcome == "refused"
    assert hint in message


@pytest.mark.parametrize(("text", "names"), [
    ("web-1", ["web-1"]),
    ("pihole-2.", ["pihole-2"]),
    ("banana is a VM.", ["banana"]),
    ("A container named banana.", ["banana"]),
    ("Create the VM web-9.", ["web-9"]),
    ("Create these containers:\n\n- alpha\n- beta", ["alpha", "beta"]),
    ("Please get rid of these:\n\n- banana\n- apple", ["apple", "banana"]),
    ("## Containers\n\n- alpha\n- beta", ["alpha", "beta"]),
    ("We need these VMs:\n\n- alpha\n- beta", ["alpha", "beta"]),
    ("Thanks!\n\nweb-1 is a VM.", ["web-1"]),
])
def test_what_does_declare_a_guest_still_does(text: str, names: list[str]) -> None:
    spec = grammar.compile_text(text + "\n", filename="note.md")
    assert sorted(g.name for g in spec.guests) == names


def test_a_note_among_declarations_is_still_an_aside() -> None:
    spec = grammar.compile_text("web-1 is a VM.\n\nWe had a great week.\n", filename="n.md")
    assert [g.name for g in spec.guests] == ["web-1"]


def test_a_title_over_nothing_is_refused_but_a_title_over_text_is_a_label() -> None:
    with pytest.raises(grammar.CompileError, match="nothing follows it to label"):
        grammar.compile_text("web-1 is a VM.\n\nBuy milk\n", filename="n.md")
    spec = grammar.compile_text("Database server\n\ndb-1 is a VM.\n", filename="n.md")
    assert [g.name for g in spec.guests] == ["db-1"]
