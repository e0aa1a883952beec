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
anything else.

A relative amount then the total (:func:`_total`): ``gets one core more? So 3 cores in
total``, ``should get one more gig so two gigs of memory total``: ``N NOUN more`` or ``N
more NOUN`` (``NOUN`` a core or a size word of :data:`RELATIVE`), then ``?``, ``,`` or
nothing, ``so``, the total with its own noun (``3 cores``, ``two gigs of memory``; a size
alone only when the relative noun was a size), and ``in total``/``total`` ending the
sentence: the total is the value, the relative words are dropped. A relative amount
without ``so ... total`` stays refused (the grammar never adds to what it cannot see).
Pure.
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
#: a word every lead of _LEADS has
_LEAD_WORDS = frozenset({"more", "extra", "bigger", "larger"})
_SETS: tuple[tuple[str, ...], ...] = (("make", "it"), ("set", "it", "to"), ("give", "it"),
                                      ("to",), ())
_SEPARATORS = frozenset({",", ":", "-", "--", "\u2013", "\u2014"})


def _at(low: list[str], i: int, options: tuple[tuple[str, ...], ...]) -> int:
    """The length of the first phrase of ``options`` at ``i`` (-1 when none matches)."""
    for words in options:
        if tuple(low[i:i + len(words)]) == words:
            return len(words)
    return -1


#: what a relative amount counts ("one core more", "one more gig"): cores or a size
RELATIVE = frozenset({"core", "cores", "cpu", "cpus", "vcpu", "vcpus", "gig", "gigs", "gb",
                      "g", "gib"})
_TOTAL_NOUNS = frozenset({"core", "cores", "cpu", "cpus", "vcpu", "vcpus", "ram", "memory",
                          "mem"})


def _total(tokens: list[Token], low: list[str]) -> list[Token] | None:
    """``one core more? so 3 cores in total``: the total (see the module's docstring)."""
    for i in range(len(low) - 4):
        if not (low[i].isdigit() or low[i] in _NUMBER_WORDS):
            continue
        if low[i + 1] == "more" and low[i + 2] in RELATIVE:
            noun = low[i + 2]
        elif low[i + 1] in RELATIVE and low[i + 2] == "more":
            noun = low[i + 1]
        else:
            continue
        j = i + 3 + (low[i + 3] in ("?", ",", ".", "-"))
        if j >= len(low) or low[j] != "so":
            return None
        k = len(low) - (2 if low[-2:] == ["in", "total"] else 1)
        if low[k:] not in (["in", "total"], ["total"]) or k - j < 2:
            return None
        amount = tokens[j + 1:k]
        said = [a.low for a in amount]
        if not (said[0].isdigit() or said[0] in _NUMBER_WORDS or GLUED_RE.match(said[0])):
            return None
        sized = noun not in _COUNTED | {"core", "cpu", "vcpu"}
        if said[-1] not in _TOTAL_NOUNS and not (sized and len(said) <= 2 and (
                GLUED_RE.match(said[-1]) or said[-1] in UNITS)):
            return None
        dropped = [Token(t.text, DROPPED, t.line) for t in tokens[i:j + 1]]
        return [*tokens[:i], *dropped, *amount]
    return None


_NUMBER_WORDS = frozenset({"one", "two", "three", "four", "five", "six", "eight", "half"})


def rewrite(tokens: list[Token]) -> list[Token]:
    """``tokens`` with "more X, make it N" read as "N X" (see the module's docstring)."""
    low = [t.low if not t.quoted else "\0" for t in tokens]
    if "so" in low and low[-1] == "total" and (found := _total(tokens, low)) is not None:
        return found
    if _LEAD_WORDS.isdisjoint(low):
        return tokens  # no lead of _LEADS: the common case, one set look-up
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
