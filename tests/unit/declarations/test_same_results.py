"""Speed work changes nothing the grammar reads (issue 13's "1,000 sentences under 1 s").

``same_results.jsonl`` (written by :mod:`tests.support.sameresults` from main's code before
the speed work) holds what the grammar made of every note of the corpus, every held-out
set and the examples: spec, error text, ignored parts and each paragraph's "understood
as". Each stored text is compiled again and every field compared; the 1,000 sentences of
``bench/compile.py`` by digest. A grammar change meant to read more regenerates the file
(``.venv/bin/python -m tests.support.sameresults --write``) and commits the difference
it prints with the change.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support import sameresults

STORED = sameresults.load()
CASES = [r for r in STORED if "text" in r]


def test_the_file_covers_every_collection() -> None:
    sources = {r["source"].split("/")[0] for r in STORED}
    assert {"corpus", "heldout", "heldout8", "examples", "bench"} <= sources
    assert len(CASES) > 3800
    assert sum(r["error"] is not None for r in CASES) > 1000  # refusals are compared too
    assert sum(r["places"] is not None for r in CASES) > 20  # and the online reading


def _differences(stored: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    inputs = {k: stored[k] for k in ("source", "filename", "text", "places")}
    now = sameresults.result(inputs)
    return {k: (stored[k], now[k]) for k in stored if stored[k] != now[k]}


@pytest.mark.parametrize("start", range(0, len(CASES), 500))
def test_every_stored_text_compiles_to_the_same_result(start: int) -> None:
    """In slices of 500, so a failure names its slice and the rest still run."""
    changed = {}
    for stored in CASES[start:start + 500]:
        diff = _differences(stored)
        if diff:
            changed[f"{stored['source']}: {stored['text'][:80]!r}"] = diff
    assert not changed, (f"{len(changed)} results differ from main's (stored, now): "
                         f"{list(changed.items())[:3]}")


def test_the_benchmark_sentences_compile_to_the_same_spec() -> None:
    (stored,) = [r for r in STORED if r["source"] == "bench/compile.py"]
    assert sameresults.bench_result() == stored


def test_a_changed_result_is_found_and_named() -> None:
    """The comparison can fail: a stored result edited by hand differs, and the
    regeneration script names the field."""
    stored = next(r for r in CASES if r["spec"] and r["spec"]["guests"])
    edited = {**stored, "spec": {**stored["spec"], "guests": []}}
    assert set(_differences(edited)) == {"spec"}
    assert sameresults.differences([stored], [edited]) == [
        "changed spec: " + json.dumps(
            [stored["source"], stored["text"], stored["places"]])]
