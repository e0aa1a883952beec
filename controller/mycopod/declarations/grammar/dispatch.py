"""Which attribute phrases the parser tries at a word: the phrases that may start there.

Why: trying every phrase of :data:`.phrases.PHRASES` at every word made a comma cost as
much as a phrase, and most phrases know from the first word or two that they do not
start there: ``a VM`` is no disk, no CPU flag and no network card; ``32 GB`` is no core
count. On the 1,000 sentences of ``bench/compile.py`` the attempts that failed cost ten
times the ones that matched (issue 13 asks for 1,000 sentences in under a second).

Which phrases reject a start is found by running each phrase once on those words, not
written by hand, so the list cannot drift from what the phrases do
(:func:`rejects`): a phrase run on the sentence's next one or two words, with tokens
it cannot know before and after them and without, that answers None, raises nothing,
reads no token but those words, only their lower-case forms and not the cluster's
names, says no wherever those words stand (a phrase depends on nothing but the tokens it
reads and whether the sentence starts or ends there; line numbers only place its
messages). Leaving it out changes nothing the parser does.

Interface: :func:`phrases_at` ``(cursor) -> phrases``, the phrases in table order
without those that reject the cursor's next words; :func:`is_numberish`. The answers are
remembered by the words' lower-case forms, at most :data:`REMEMBERED` of them per table
(the cache starts again when full: a file of 40,000 different numbers costs no memory).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from mycopod.declarations.grammar.lexicon import MULTIPLIERS, SMALL_NUMBERS, TENS, VOCABULARY
from mycopod.declarations.grammar.phrases import NUMBER_PHRASES, PHRASES
from mycopod.declarations.grammar.tokens import Cursor, Token

__all__ = ["REMEMBERED", "Dispatch", "is_numberish", "phrases_at", "rejects"]

Phrase = Callable[[Cursor], Any]
#: how many starts each table remembers
REMEMBERED = 4096
#: a word after which more phrases than this may start is looked at with the next word
#: (fewer are tried one by one sooner than probed again)
_REFINED = 4


def is_numberish(w: str) -> bool:
    """A number (digits, "4GB", "4-core", "-2", number words): only sizes and counts."""
    head = w.split("-", 1)[0]
    return w[:1].isdigit() or w[:1] == "-" or w in SMALL_NUMBERS or w in TENS or (
        head in TENS) or (head != w and (head in SMALL_NUMBERS or head in MULTIPLIERS))


class _Watched(list[Token]):
    """Tokens that remember whether a phrase read any but those from ``lo`` to ``hi``
    (excluded), changed them, or asked for the cluster's names."""

    looked_beyond = False

    def __init__(self, tokens: list[Token], lo: int, hi: int) -> None:
        super().__init__(tokens)
        self.lo, self.hi = lo, hi

    def __getitem__(self, index: Any) -> Any:
        if not isinstance(index, int) or not self.lo <= index < self.hi:
            self.looked_beyond = True
        return super().__getitem__(index)

    def __iter__(self) -> Iterator[Token]:
        self.looked_beyond = True
        return super().__iter__()

    def __setitem__(self, index: Any, value: Any) -> None:
        self.looked_beyond = True
        super().__setitem__(index, value)

    def __delitem__(self, index: Any) -> None:
        self.looked_beyond = True
        super().__delitem__(index)

    @property
    def places(self) -> None:
        """What a sentence's tokens carry (:class:`.tokens.SentenceTokens`): asked for,
        the answer depends on the cluster, not on the words."""
        self.looked_beyond = True
        return None


class _WatchedToken(Token):
    """A token that remembers whether its written form was read (not only ``low``)."""

    __slots__ = ("text_read",)

    def __init__(self, word: str) -> None:
        super().__init__(word, word, 1)
        object.__setattr__(self, "text_read", False)

    def __getattribute__(self, name: str) -> Any:
        if name == "text":
            object.__setattr__(self, "text_read", True)
        return super().__getattribute__(name)


def _unknown(where: str) -> list[Token]:
    return [Token(f"\x00{where}{k}", f"\x00{where}{k}", 1) for k in range(8)]


#: unknowable tokens put before and after the words a phrase is tried on
_BEFORE, _AFTER = _unknown("b"), _unknown("a")


def _says_no(phrase: Phrase, words: tuple[str, ...], *, first: bool, last: bool) -> bool:
    """Does ``phrase`` answer None at ``words`` from them alone, the words opening the
    sentence (``first``) or not, ending it (``last``) or not?"""
    firsts = [_WatchedToken(w) for w in words]
    before = () if first else _BEFORE
    toks = _Watched([*before, *firsts, *(() if last else _AFTER)],
                    len(before), len(before) + len(words))
    try:
        found = phrase(Cursor(toks, len(before)))
    except Exception:  # a phrase that raises here is kept: skip only what is certain
        return False
    return found is None and not toks.looked_beyond and not any(t.text_read for t in firsts)


def rejects(phrase: Phrase, words: tuple[str, ...]) -> bool:
    """Does ``phrase`` say no at ``words`` (lower-case forms) whatever comes before and
    after them? Tried with words before them and without (a phrase may look back, or
    ask whether the sentence starts there), and with words after them and without (it
    may ask whether the sentence ends)."""
    return all(_says_no(phrase, words, first=first, last=last)
               for first in (False, True) for last in (False, True))


class Dispatch:
    """A table of phrases, and which of them may start at given words (remembered)."""

    def __init__(self, phrases: tuple[Phrase, ...]) -> None:
        self.phrases = phrases
        self._known: dict[tuple[str, ...], tuple[Phrase, ...]] = {}

    def at(self, words: tuple[str, ...]) -> tuple[Phrase, ...]:
        found = self._known.get(words)
        if found is None:
            # a phrase that rejects the first word alone rejects it before any second one
            pool = self.at(words[:1]) if len(words) > 1 else self.phrases
            found = tuple(p for p in pool if not rejects(p, words))
            if len(self._known) >= REMEMBERED:
                self._known.clear()
            self._known[words] = found
        return found


_WORDS = Dispatch(PHRASES)
_NUMBERS = Dispatch(NUMBER_PHRASES)


def phrases_at(c: Cursor) -> tuple[Phrase, ...]:
    """The phrases, in table order, that may start at the cursor: the number phrases at a
    number, every phrase at a word the grammar does not know (a name, ``vlan30``), and at
    a word of the vocabulary those that do not reject it, nor the word after it when that
    is a word of the vocabulary (and more than a few phrases remain)."""
    w, after = c.w(), c.w(1)
    if is_numberish(w):
        return NUMBER_PHRASES
    if w not in VOCABULARY:
        return PHRASES
    found = _WORDS.at((w,))
    if len(found) > _REFINED and after in VOCABULARY and not is_numberish(after):
        return _WORDS.at((w, after))
    return found
