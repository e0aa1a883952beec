""""More", then the exact amount: ``needs more memory, make it 4 gigs``, ``needs a bigger
disk please, 500 GB should do``.

People ask for more of something and then say how much: the amount is what they want,
and "more" only says which way it changes. :func:`rewrite` reads this shape, and only
this one, as the amount and its noun (``needs 4 gigs memory``, ``needs 500 GB disk``):

- ``more``, ``extra``, ``a bigger`` or ``a larger``, then a noun of :data:`NOUNS`
  (``memory``, ``RAM``, ``disk``, ``cores`` ...), optionally ``please``;
- then ``,``, ``:`` or a dash, optionally ``make it``, ``set it to``, ``give it`` or
  ``to``;
- then the amount (a number and a unit, or a number glued to its unit; for cores a
  number), optionally followed by a phrase of :data:`ENOUGH` (``should do``, ``is
  enough``, ``please``), and the end of the sentence.

"More memory" without an amount stays vague and is refused, as is an amount followed by
anything else. Pure.
"""

from __future__ import annotations

from mycopod.declarations.grammar.lexicon import DROPPED, GLUED_RE, UNITS
from mycopod.declarations.grammar.tokens import Token

__all__ = ["ENOUGH", "NOUNS", "rewrite"]

#: what "more" may be of here (sizes and counts the grammar reads after an amount)
NOUNS = frozenset({"memory", "ram", "disk", "storage", "space", "cores", "cpus", "vcpus"})
_COUNTED = frozenset({"cores", "cpus", "vcpus"})
#: what may follow the amount ("500 GB should do")
ENOUGH: tuple[tuple[str, ...], ...] = (
    ("should", "do"), ("will", "do"), ("would", "do"), ("is", "enough"),
    ("should", "be", "enough"), ("would", "be", "enough"), ("please",), ())
_LEADS: tuple[tuple[str, ...], ...] = (("more",), ("extra",), ("a", "bigger"), ("a", "larger"))
_SETS: tuple[tuple[str, ...], ...] = (("make", "it"), ("set", "it", "to"), ("give", "it"),
                                      ("to",), ())
_SEPARATORS = frozenset({",", ":", "-", "--", "\u2013", "\u2014"})


def _at(low: list[str], i: int, options: tuple[tuple[str, ...], ...]) -> int:
    """The length of the first phrase of ``options`` at ``i`` (-1 when none matches)."""
    for words in options:
        if tuple(low[i:i + len(words)]) == words:
            return len(words)
    return -1


def rewrite(tokens: list[Token]) -> list[Token]:
    """``tokens`` with "more X, make it N" read as "N X" (see the module's docstring)."""
    low = [t.low if not t.quoted else "\0" for t in tokens]
    for i in range(len(low)):
        n = _at(low, i, _LEADS)
        if n < 1 or i + n >= len(low) or low[i + n] not in NOUNS:
            continue
        noun, j = tokens[i + n], i + n + 1
        j += low[j:j + 1] == ["please"]
        if j >= len(low) or low[j] not in _SEPARATORS:
            return tokens
        j += 1
        j += max(_at(low, j, _SETS), 0)
        if j < len(low) and GLUED_RE.match(low[j]):
            amount = [tokens[j]]
        elif j + 1 < len(low) and low[j].replace(".", "", 1).isdigit() and (
                low[j + 1] in UNITS) and noun.low not in _COUNTED:
            amount = tokens[j:j + 2]
        elif j < len(low) and low[j].isdigit() and noun.low in _COUNTED:
            amount = [tokens[j]]
        else:
            return tokens
        end = j + len(amount)
        tail = _at(low, end, ENOUGH)
        if tail < 0 or end + tail != len(low):
            return tokens
        said = [Token(t.text, DROPPED, t.line) for t in tokens[i:i + n]]
        return [*tokens[:i], *said, *amount, noun]
    return tokens
