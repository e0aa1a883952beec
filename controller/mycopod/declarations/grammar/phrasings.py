"""Second-language grammar, verbs and SMS shorthand, read as the grammar's own words.

Round 8's sentence-level classes, each a fixed sequence of words (the form of
:data:`.idioms.IDIOMS`, which registers :data:`PHRASING_IDIOMS` before
:data:`.verbs.VERB_IDIOMS`) rewritten to what it means; a ``,`` meaning drops the word,
so every dropped word is on this explicit list. Pure.
"""

from __future__ import annotations

from mycopod.declarations.grammar.politeness import MODAL_IDIOMS, TRAILING

__all__ = ["PHRASING_IDIOMS", "PHRASING_WORDS"]

PHRASING_IDIOMS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    *MODAL_IDIOMS,
)

#: every word of :data:`PHRASING_IDIOMS` and of the closing softeners of
#: :data:`.politeness.TRAILING` (:mod:`.lexicon` counts them as the grammar's)
PHRASING_WORDS = frozenset(w for words, _ in PHRASING_IDIOMS for group in words
                           for w in group.split("|") if w.isalpha() and w != "NAME") | (
    frozenset(w for words in TRAILING for w in words))
