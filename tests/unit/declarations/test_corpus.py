"""The phrasing corpus of issue 13: notes as homelab and small-business admins write them.

``corpus/*.jsonl``: one file per phrasing class, one case a line, ``{"text": ...,
"expect": [guest, ...]}`` where each guest lists only what the text states (the form
:func:`mycopod.spec.spec_dict` stores); ``corpus/impossible.jsonl`` holds requests the
spec cannot express, each of which must be refused. The figures the issue asks for are
computed over the whole corpus and printed (``pytest -s`` shows them): at least 95%
compile exactly, none compiles to anything else (a refusal is not wrong, a wrong compile
is), every impossible request is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mycopod import spec as specmod
from mycopod.declarations import grammar

CORPUS = Path(__file__).parent / "corpus"
#: not_declarations.jsonl: text that declares no guest (test_not_declarations.py)
CLASSES = sorted(p for p in CORPUS.glob("*.jsonl")
                 if p.stem not in ("impossible", "not_declarations"))


def _cases(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _normal(guests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(guests, key=lambda g: str(g["name"]))


def _outcome(case: dict[str, Any]) -> str:
    """``exact``, ``refused`` or ``wrong`` (compiled to a spec other than the expected)."""
    try:
        spec = grammar.compile_text(case["text"] + "\n", filename="corpus.md")
    except grammar.CompileError:
        return "refused"
    got = _normal(specmod.spec_dict(spec)["guests"])
    want = _normal(specmod.spec_dict(specmod.parse_spec({"guests": case["expect"]}))["guests"])
    return "exact" if got == want else "wrong"


def _figures() -> dict[str, Any]:
    by_class: dict[str, dict[str, int]] = {}
    wrong: list[str] = []
    for path in CLASSES:
        counts = {"exact": 0, "refused": 0, "wrong": 0}
        for case in _cases(path):
            outcome = _outcome(case)
            counts[outcome] += 1
            if outcome == "wrong":
                wrong.append(case["text"])
        by_class[path.stem] = counts
    impossible = _cases(CORPUS / "impossible.jsonl")
    accepted = [c["text"] for c in impossible if _outcome({**c, "expect": []}) != "refused"]
    total = sum(sum(c.values()) for c in by_class.values())
    exact = sum(c["exact"] for c in by_class.values())
    return {"cases": total, "exact": exact, "exact_ratio": exact / total,
            "wrong": wrong, "by_class": by_class, "impossible": len(impossible),
            "impossible_accepted": accepted}


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    result = _figures()
    print("\ncorpus:", json.dumps(result, indent=1))
    return result


def test_the_corpus_is_large_enough(figures: dict[str, Any]) -> None:
    assert figures["cases"] >= 400
    assert figures["impossible"] >= 30


def test_at_least_95_percent_compile_exactly(figures: dict[str, Any]) -> None:
    assert figures["exact_ratio"] >= 0.95, figures["by_class"]


def test_nothing_compiles_to_a_different_spec(figures: dict[str, Any]) -> None:
    assert figures["wrong"] == []


def test_every_impossible_request_is_refused(figures: dict[str, Any]) -> None:
    assert figures["impossible_accepted"] == []


@pytest.mark.parametrize("path", CLASSES, ids=lambda p: p.stem)
def test_every_class_is_mostly_understood(path: Path) -> None:
    outcomes = [_outcome(c) for c in _cases(path)]
    assert outcomes.count("wrong") == 0
    assert outcomes.count("exact") >= 0.85 * len(outcomes), path.stem
