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
(``for 2 weeks``, ``for node pve2`` stay as written).

Round 9: the name may also follow the purpose in apposition, ``a container for the SMS
reminders, sms-remind, with ...``, ``two containers for the kids' game servers: terraria
and valheim, each ...``: read as ``named sms-remind``, ``named terraria and valheim``
(lower-case names that are no word of the grammar, or hold a digit or a hyphen, then a
comma or the end). Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.lexicon import GENERIC_NOUNS, KIND_WORDS, ROLE_WORDS, is_vocab
from mycopod.declarations.grammar.tokens import Token, sentence_text

__all__ = ["DETERMINERS", "MAX_WORDS", "drop"]

MAX_WORDS = 6
DETERMINERS = frozenset({"the", "a", "an", "our", "my", "their", "this", "new", "its"})
_NAMING = frozenset({"called", "named"})
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$")


def _plain(t: Token) -> bool:
    w = t.low
    return not t.quoted and w.replace("'", "").isalpha() and w not in KIND_WORDS and (
        w in DETERMINERS or w in ROLE_WORDS or w in GENERIC_NOUNS or not is_vocab(w))


#: the marks that may give the name after a purpose, in apposition
_APPOSED = frozenset({",", ":"})


def _apposed(tokens: list[Token], j: int) -> int:
    """Where the names given after the purpose at ``j`` end (``, sms-remind,``, ``:
    terraria and valheim,``), or ``j``: a mark of :data:`_APPOSED`, then names (lower-case,
    no word of the grammar) joined by ``and`` or ``,``, then a ``,`` or the end."""
    if j >= len(tokens) or tokens[j].low not in _APPOSED or tokens[j].quoted:
        return j
    k = j + 1
    while k < len(tokens) and _name(tokens[k]):
        k += 1
        if k + 1 < len(tokens) and tokens[k].low == "and" and _name(tokens[k + 1]):
            k += 1
    if k == j + 1 or (k < len(tokens) and tokens[k].low != ","):
        return j
    return k


def _name(t: Token) -> bool:
    return not t.quoted and t.text == t.low and bool(_NAME_RE.match(t.low)) and (
        not is_vocab(t.low) or any(ch.isdigit() or ch == "-" for ch in t.low))


def drop(tokens: list[Token], ignored: list[tuple[int, str]]) -> list[Token]:
    """``tokens`` without a purpose between a kind word and ``called``/``named`` (module
    doc), reported in ``ignored``."""
    lows = [t.low for t in tokens]
    if "for" not in lows or (_NAMING.isdisjoint(lows) and _APPOSED.isdisjoint(lows)):
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
        end = _apposed(tokens, j) if j > i + 1 else j
        if end > j:  # "a container for the SMS reminders, sms-remind, with ..."
            ignored.append((tokens[i].line,
                            f"ignored as context: {sentence_text(tokens[i:j])!r}"))
            named = Token(tokens[j].text, "named", tokens[j].line)
            rest = tokens[end + (end < len(lows) and lows[end] == "," and lows[j] == ","):]
            return [*tokens[:i], named, *tokens[j + 1:end], *rest]
        return tokens
    return tokens
