"""A purpose between the kind and the name: ``a vm for the new pos called pos-main``.

A request for a new guest often says what it is for before it names it: ``can u make a
vm for the new pos called pos-main``, ``Could you make a container for the ebook lending
proxy named ebook-proxy``. The slots: a kind word (:data:`.lexicon.KIND_WORDS`), then
``for`` and a noun phrase of at most :data:`MAX_WORDS` words, then ``called``/``named``
and the name. The noun phrase says whom or what the guest serves, nothing the spec can
hold, so :func:`drop` removes it and reports it (``ignored as context: 'for the new
pos'``), but only when each of its words is a determiner (:data:`DETERMINERS`), a word
the grammar gives no meaning to, or a noun of a role (:data:`.lexicon.ROLE_WORDS`,
:data:`.lexicon.GENERIC_NOUNS`: ``proxy``, ``server``); never a number, a quoted word, a
name-like word (a digit or a hyphen), a kind word or any other word of the grammar
(``for 2 weeks``, ``for node pve2`` stay as written). Pure.
"""

from __future__ import annotations

from mycopod.declarations.grammar.lexicon import GENERIC_NOUNS, KIND_WORDS, ROLE_WORDS, is_vocab
from mycopod.declarations.grammar.tokens import Token, sentence_text

__all__ = ["DETERMINERS", "MAX_WORDS", "drop"]

MAX_WORDS = 6
DETERMINERS = frozenset({"the", "a", "an", "our", "my", "their", "this", "new", "its"})
_NAMING = frozenset({"called", "named"})


def _plain(t: Token) -> bool:
    w = t.low
    return not t.quoted and w.replace("'", "").isalpha() and w not in KIND_WORDS and (
        w in DETERMINERS or w in ROLE_WORDS or w in GENERIC_NOUNS or not is_vocab(w))


def drop(tokens: list[Token], ignored: list[tuple[int, str]]) -> list[Token]:
    """``tokens`` without a purpose between a kind word and ``called``/``named`` (module
    doc), reported in ``ignored``."""
    lows = [t.low for t in tokens]
    if "for" not in lows or _NAMING.isdisjoint(lows):
        return tokens  # the common case
    for i in range(1, len(lows) - 2):
        if lows[i] != "for" or lows[i - 1] not in KIND_WORDS or tokens[i].quoted:
            continue
        j = i + 1
        while j < len(lows) and j - i <= MAX_WORDS and lows[j] not in _NAMING and _plain(
                tokens[j]):
            j += 1
        if j > i + 1 and j < len(lows) and lows[j] in _NAMING:
            ignored.append((tokens[i].line,
                            f"ignored as context: {sentence_text(tokens[i:j])!r}"))
            return [*tokens[:i], *tokens[j:]]
        return tokens
    return tokens
