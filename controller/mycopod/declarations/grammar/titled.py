"""A capitalised description opening the sentence, then the guest's name: ``Homework
server hw-submit: container, ...``, ``New HVAC logger hvac-log, a container ...``.

Notes name a guest by what it is for, without an article, before its name: ``Print
queue box pq-2 is a container``, ``Backup target nas-7: VM, 2 cores``. :func:`rewrite`
drops those words, and only in this shape:

- the sentence opens with :data:`MIN_WORDS` to :data:`MAX_WORDS` words that describe,
  the first capitalised: plain words the grammar gives no meaning to, its role words
  (``web``, ``backup`` ...), ``new``/``old``, and the nouns ``server``, ``machine``,
  ``box``, ``thing`` ...;
- then a name no English word is (lower case, with a digit or a hyphen: ``hw-submit``);
- then ``:``, ``,`` or a verb a subject takes (``is``, ``has``, ``should``, ``can`` ...).

One capitalised word alone is never a description here (``Patch web-1: ...`` may be an
order the grammar does not know); a kind word in the description (``Print VM pq-2``) is
:mod:`.described`'s shape, not this one. Anything else is left as it was. Pure.
"""

from __future__ import annotations

from mycopod import spec as specmod
from mycopod.declarations.grammar.lexicon import (
    GENERIC_NOUNS,
    KIND_WORDS,
    ROLE_WORDS,
    SUBJECT_VERBS,
    is_vocab,
)
from mycopod.declarations.grammar.names import is_nameish
from mycopod.declarations.grammar.tokens import Token

__all__ = ["MAX_WORDS", "MIN_WORDS", "rewrite"]

MIN_WORDS = 2
MAX_WORDS = 4
_NOUNS = GENERIC_NOUNS | frozenset({"box", "thing", "new", "old", "legacy", "spare"})


def _describes(t: Token) -> bool:
    w = t.low
    if t.quoted or w in KIND_WORDS:
        return False
    return w in ROLE_WORDS or w in _NOUNS or (t.text.isalpha() and not is_vocab(w))


def _strict_name(t: Token) -> bool:
    return is_nameish(t) and t.text == t.low and bool(specmod.NAME_RE.match(t.text)) and any(
        ch.isdigit() or ch == "-" for ch in t.low)


def rewrite(tokens: list[Token]) -> list[Token]:
    """``tokens`` without the description of the module's docstring."""
    if len(tokens) < MIN_WORDS + 2 or not tokens[0].text[:1].isupper():
        return tokens
    j = 0
    while j < len(tokens) and j < MAX_WORDS and _describes(tokens[j]):
        j += 1
    if j < MIN_WORDS or j + 1 >= len(tokens) or not _strict_name(tokens[j]):
        return tokens
    after = tokens[j + 1]
    if after.quoted or not (after.low in (":", ",") or after.low in SUBJECT_VERBS):
        return tokens
    return tokens[j:]
