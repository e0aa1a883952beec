"""A description before a colon that opens a new guest, dropped by its shape.

People introduce a guest with a few words of their own before a colon: ``Dev box for
me: devbox, a VM with ...``, ``Finally got around to Nextcloud: it's a container called
nextcloud ...``. :func:`strip_preface` drops those words only when

- they are at most :data:`MAX_WORDS` words of plain letters (no number, no quoted text,
  no hyphen, so no guest name or size), each either a word the grammar gives no meaning
  to or one of :data:`PREFACE_WORDS` (the function words a reason may hold, ``server``,
  ``around``); and
- what follows the colon introduces a new guest by name: ``NAME, a|an KIND``,
  ``a|an [words] KIND called|named NAME``, or ``it is a|an KIND called|named NAME``
  (then ``it is`` is dropped too: it refers to nothing, the name follows).

The same holds without a colon for ``The WORDS is|will be a|an KIND called|named NAME``
(``The wiki is a container named wiki``): at most three such words after ``the``; and
for ``WORDS runs|lives|sits in|on|as a|an KIND called|named NAME`` (``Jellyfin runs in a
container called jellyfin2``): at most two such words.

Anything else is left for the parser, which quotes what it cannot read. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.idioms import REASON_WORDS
from mycopod.declarations.grammar.lexicon import KIND_WORDS, is_vocab
from mycopod.declarations.grammar.names import is_nameish
from mycopod.declarations.grammar.tokens import Token

__all__ = ["MAX_WORDS", "PREFACE_WORDS", "plain_word", "strip_preface"]

MAX_WORDS = 6
#: words of the grammar a preface may still hold: they say nothing about a guest there
PREFACE_WORDS = REASON_WORDS | frozenset({"around", "server", "servers"})
#: "Jellyfin runs in a container called jellyfin2": the application, then its guest
_RUNS = frozenset({"runs", "lives", "sits"})
_WORD_RE = re.compile(r"^[a-z]+(?:'[a-z]*)?$")


def plain_word(t: Token) -> bool:
    """A word of plain letters that says nothing about a guest here."""
    return not t.quoted and bool(_WORD_RE.match(t.low)) and (
        not is_vocab(t.low) or t.low in PREFACE_WORDS)


def _kind_then_name(toks: list[Token], i: int) -> bool:
    """``a [up to two words] KIND called|named NAME`` at ``i``."""
    if i >= len(toks) or toks[i].low not in ("a", "an"):
        return False
    j = i + 1
    while j < i + 3 and j < len(toks) and toks[j].low not in KIND_WORDS and plain_word(toks[j]):
        j += 1
    while j + 1 < len(toks) and toks[j].low in KIND_WORDS and toks[j + 1].low in KIND_WORDS:
        j += 1  # "an LXC container called ..."
    return (j + 2 < len(toks) and toks[j].low in KIND_WORDS
            and toks[j + 1].low in ("called", "named") and is_nameish(toks[j + 2]))


def strip_preface(tokens: list[Token]) -> list[Token]:
    """``tokens`` without a preface before ``:`` (see the module's docstring)."""
    if len(tokens) > 4 and tokens[0].low == "the" and not tokens[0].quoted:
        # "The wiki is a container named wiki ...": what it is, then the new guest
        k = 1
        while k < 4 and plain_word(tokens[k]) and tokens[k].low not in ("is", "will"):
            k += 1
        verb = 1 if tokens[k].low == "is" else 2 if [
            t.low for t in tokens[k:k + 2]] == ["will", "be"] else 0
        if k > 1 and verb and _kind_then_name(tokens, k + verb):
            return tokens[k + verb:]
    k = 0
    while k < 2 and k < len(tokens) and plain_word(tokens[k]) and tokens[k].low not in _RUNS:
        k += 1
    if k and len(tokens) > k + 2 and tokens[k].low in _RUNS and tokens[k + 1].low in (
            "in", "on", "as") and _kind_then_name(tokens, k + 2):
        return tokens[k + 2:]  # "Jellyfin runs in a container called jellyfin2 ..."
    colon = next((k for k, t in enumerate(tokens) if t.low == ":" and not t.quoted), None)
    if colon is None or colon == 0 or colon > MAX_WORDS:
        return tokens
    if not all(plain_word(t) for t in tokens[:colon]):
        return tokens
    rest = tokens[colon + 1:]
    if len(rest) >= 4 and is_nameish(rest[0]) and rest[1].low == "," and rest[
            2].low in ("a", "an") and rest[3].low in KIND_WORDS:
        return rest  # "devbox, a VM with ..."
    if _kind_then_name(rest, 0):
        return rest  # "a container called nextcloud ..."
    if len(rest) >= 3 and rest[0].low == "it" and rest[1].low == "is" and _kind_then_name(
            rest, 2):
        return rest[2:]  # "it's a container called nextcloud ..."
    return tokens
