"""The parser's dispatch (:mod:`mycopod.declarations.grammar.dispatch`): at each word it
tries only the phrases that may start there, found by running each phrase once on the
next words. Leaving out a phrase must never change what a sentence compiles to, so a
phrase is left out only when its answer cannot depend on anything but those words."""

from __future__ import annotations

from typing import Any

import pytest

from mycopod.declarations import grammar, workers
from mycopod.declarations.grammar import dispatch
from mycopod.declarations.grammar.hardware import p_cores, p_memory
from mycopod.declarations.grammar.phrases import PHRASES, p_kind
from mycopod.declarations.grammar.places import p_bare_place
from mycopod.declarations.grammar.tokens import Cursor, SentenceTokens, tokenize


def _at(text: str) -> tuple[Any, ...]:
    return dispatch.phrases_at(Cursor(SentenceTokens(tokenize(text))))


def test_a_kind_is_tried_by_few_phrases_in_table_order() -> None:
    found = _at("VM with 2 cores")
    assert p_kind in found
    assert len(found) < len(PHRASES) // 3
    assert list(found) == [p for p in PHRASES if p in found]  # the table's order kept


def test_a_number_is_tried_by_every_number_phrase() -> None:
    assert _at("4 GB of RAM") == dispatch.NUMBER_PHRASES
    assert {p_memory, p_cores} <= set(_at("4 GB of RAM"))


def test_a_word_the_grammar_does_not_know_is_tried_by_every_phrase() -> None:
    assert _at("vlan30 please") == PHRASES


def _only_at_the_start(c: Cursor) -> Any:
    return [] if c.w() == "x" and c.i == 0 else None


def _only_elsewhere(c: Cursor) -> Any:
    return [] if c.w() == "x" and c.i > 0 else None


def _only_at_the_end(c: Cursor) -> Any:
    return [] if c.w() == "x" and c.i + 1 == len(c.toks) else None


def _only_with_the_clusters_names(c: Cursor) -> Any:
    return [] if c.w() == "x" and getattr(c.toks, "places", None) else None


def _only_written_so(c: Cursor) -> Any:
    t = c.tok()
    return [] if t is not None and t.text == "X" else None


def _never(c: Cursor) -> Any:
    return [] if c.w() == "y" else None


@pytest.mark.parametrize("phrase", [_only_at_the_start, _only_elsewhere, _only_at_the_end,
                                    _only_with_the_clusters_names, _only_written_so])
def test_a_phrase_whose_answer_depends_on_more_than_the_words_is_kept(phrase: Any) -> None:
    """Where the words stand, whether the sentence ends, the cluster's names and the
    written form can each change a phrase's answer: such a phrase is always tried."""
    assert not dispatch.rejects(phrase, ("x",))
    if phrase is not _only_at_the_end:
        assert not dispatch.rejects(phrase, ("x", "with"))


def test_a_phrase_that_says_no_from_the_words_alone_is_left_out() -> None:
    assert dispatch.rejects(_never, ("x",))
    assert not dispatch.rejects(_never, ("y",))
    table = dispatch.Dispatch((_never, _only_at_the_end))
    assert table.at(("x",)) == (_only_at_the_end,)
    assert table.at(("x", "with")) == ()  # the sentence goes on after x


def test_the_second_word_decides_only_when_the_phrase_reads_it() -> None:
    """``on node`` is the node phrase's; ``on`` alone might still be a bare place, read
    through the cluster's names, so that phrase stays wherever the second word is a
    name."""
    assert p_bare_place not in dispatch.Dispatch(PHRASES).at(("on", "node"))
    assert p_bare_place in dispatch.Dispatch(PHRASES).at(("on",))


def test_the_remembered_starts_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "REMEMBERED", 3)
    table = dispatch.Dispatch((_never,))
    for k in range(10):
        table.at((f"w{k}",))
    assert len(table._known) <= 3


def test_a_bare_size_after_a_comma_is_still_read_as_the_memory() -> None:
    """The memory phrase looks at the word before a bare size (a list item), reading it
    only past the start of a sentence: a dispatch that tried phrases at the start of a
    sentence only would leave it out here (numbers are not dispatched by their words)."""
    spec = grammar.compile_text("mon-3: container, 1 core, 1G, 8G disk\n")
    assert spec.guests[0].memory_mib == 1024


def test_a_compile_worker_warms_the_dispatch_with_text_that_compiles() -> None:
    """A compile worker compiles this when it starts, so that the first file's time
    budget is not spent learning the common words; it must stay valid."""
    spec = grammar.compile_text(workers._WARM_UP)
    assert [g.name for g in spec.guests] == ["db-1", "web-1"]
