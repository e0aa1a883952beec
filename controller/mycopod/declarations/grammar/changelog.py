"""Changelog shorthand: ``RAM 16G -> 32G``, ``web-3 bumped to 4 cores``, ``moved to pve2``.

A changelog records a change as the old value, an arrow and the new one, or as the
guest's name and what happened to it. The declared state is the new value, so
:func:`shorthand` rewrites, and only in these shapes:

- ``OLD -> NEW`` (or ``→``) where both sides are the same kind of amount: a number and
  the same word (``2 cores -> 4 cores``), a size glued to its unit (``16G -> 32G``), or a
  bare number (``16 -> 32 GB``): the old amount and the arrow are dropped;
- ``NAME [:] bumped|increased|raised|extended|resized|upgraded to ...``: ``NAME gets ...``;
- ``NAME [:] moved|migrated to ...``: ``NAME is on ...``.

Anything else (``name -> container``, a terse separator) is left as it was. Pure.
"""

from __future__ import annotations

from dataclasses import replace

from mycopod.declarations.grammar.lexicon import GLUED_RE, NUMBER_RE
from mycopod.declarations.grammar.names import is_nameish
from mycopod.declarations.grammar.tokens import Token

__all__ = ["ARROWS", "shorthand"]

ARROWS = frozenset({"->", "\u2192", "=>"})
_GROWN = frozenset({"bumped", "increased", "raised", "extended", "resized", "upgraded",
                    "grown", "expanded"})
_MOVED = frozenset({"moved", "migrated"})


def _amount(tokens: list[Token], start: int, end: int) -> str | None:
    """The shape of the amount ``tokens[start:end]``: "glued", "number" or its word."""
    span = tokens[start:end]
    if any(t.quoted for t in span):
        return None
    if len(span) == 1:
        return "glued" if GLUED_RE.match(span[0].low) else (
            "number" if NUMBER_RE.match(span[0].low) else None)
    if len(span) == 2 and NUMBER_RE.match(span[0].low) and span[1].low.isalpha():
        return span[1].low
    return None


def _drop_old_values(tokens: list[Token]) -> list[Token]:
    out = list(tokens)
    j = 1
    while j < len(out) - 1:
        if out[j].low not in ARROWS or out[j].quoted:
            j += 1
            continue
        for width in (2, 1):
            left = _amount(out, j - width, j) if j - width >= 0 else None
            right = _amount(out, j + 1, j + 1 + width)
            if left is not None and left == right:
                out[j - width:j + 1] = []
                j -= width
                break
        else:
            if _amount(out, j - 1, j) == "number" and _amount(out, j + 1, j + 2) == "glued":
                out[j - 1:j + 1] = []  # "16 -> 32G"
                j -= 1
        j += 1
    return out


def _word(t: Token, text: str) -> Token:
    return replace(t, text=text, low=text)


def shorthand(tokens: list[Token]) -> list[Token]:
    """``tokens`` with changelog shorthand rewritten (see the module's docstring)."""
    tokens = _drop_old_values(tokens)
    if len(tokens) < 4 or not is_nameish(tokens[0]) or tokens[0].text != tokens[0].low:
        return tokens
    k = 2 if tokens[1].low == ":" else 1
    if k + 2 >= len(tokens) or tokens[k + 1].low != "to" or tokens[k].quoted:
        return tokens
    if tokens[k].low in _GROWN:
        return [tokens[0], _word(tokens[k], "gets"), *tokens[k + 2:]]
    if tokens[k].low in _MOVED:
        return [tokens[0], _word(tokens[k], "is"), _word(tokens[k + 1], "on"),
                *tokens[k + 2:]]
    return tokens
