"""Descriptions around counted and named guests: ``Two analysis VMs, a-1 and a-2, ...``.

People say what a guest is for in the same breath as its name. :mod:`.objects` reads a
description after a determiner (``the staging vm staging-1``); :func:`rewrite` reads
these other shapes, and drops only the descriptive words, which must be plain words the
grammar gives no meaning to (or its role words, ``web``, ``proxy`` ...), never a
number, a size, a negation or a setting:

- a count, up to three descriptive words and a kind, then the names: ``Two analysis VMs,
  analysis-a and analysis-b, each ...``, ``three build containers named b-1 to b-3``
  (the count is still checked against the names);
- up to four descriptive words opening the sentence before a kind and its name:
  ``MIS database VM mis-db: 8 cores``, ``Old test VM old-test should be deleted``;
- ``the``/``my``/``our``, up to three descriptive words and a name that cannot be an
  English word (it holds a digit or a hyphen), then a verb: ``The reverse proxy
  haproxy-1 is a container ...``;
- up to three descriptive words, ``is a VM called|named NAME``: ``Matlab licence server
  is a VM called flexlm ...`` (the guest is the one named);
- ``host NAME ->`` (``inventory host netbox -> container``): the name of the record;
- a name followed by descriptive words in parentheses: ``the VM sage-50 (accounting)``;
- ``a container with [the] name sftp-in``: ``named sftp-in``;
- ``VM ID 4242 belongs to the VM protein-fold ...``: the VM protein-fold has that ID.

Anything else is left as it was, for the parser to read or refuse. Pure.
"""

from __future__ import annotations

from mycopod import spec as specmod
from mycopod.declarations.grammar import bracketed, titled
from mycopod.declarations.grammar.descriptions import describes
from mycopod.declarations.grammar.lexicon import (
    GENERIC_NOUNS,
    KIND_WORDS,
    ROLE_WORDS,
    SMALL_NUMBERS,
    SUBJECT_VERBS,
    is_vocab,
)
from mycopod.declarations.grammar.names import is_nameish
from mycopod.declarations.grammar.tokens import Token

__all__ = ["rewrite"]

_MAX = 4  # round 9: "Front desk PC image, VM fd-image"
_APPOSITION = frozenset({",", ":", "(", "named", "called", "\u2014", "\u2013", "-"})
_DETERMINERS = frozenset({"the", "my", "our"})
#: what may follow "<description> VM name" (round 9: a phrase's first word too)
_AFTER_NAME = frozenset({":", ",", "on", "with", "in"})
#: words of the grammar that only describe in these shapes ("the reverse proxy x")
_ALSO_DESCRIPTIVE = ROLE_WORDS | frozenset({"old", "new", "legacy", "spare", "firewall",
                                            "reverse", "licence", "license"})
_COUNT_TRIGGERS = frozenset(SMALL_NUMBERS)
_VERBS = (SUBJECT_VERBS - {","}) | frozenset({"gets"})


def _descriptive(t: Token) -> bool:
    return not t.quoted and (t.low in _ALSO_DESCRIPTIVE or describes(t) or (
        t.text.replace("-", "").isalpha() and not any(
            is_vocab(part) for part in (t.low, *t.low.split("-")) if part)))


def _name(t: Token | None) -> bool:
    return t is not None and is_nameish(t) and bool(specmod.NAME_RE.match(t.text))


def _strict_name(t: Token | None) -> bool:
    """A name that no English word is: it holds a digit or a hyphen."""
    return _name(t) and t is not None and any(ch.isdigit() or ch == "-" for ch in t.low)


def _described(toks: list[Token], i: int) -> int:
    """Where the run of at most three descriptive words at ``i`` ends."""
    j = i
    while j < len(toks) and j - i < _MAX and (
            _descriptive(toks[j]) or toks[j].low in GENERIC_NOUNS) and (
            toks[j].low not in KIND_WORDS and (toks[j].low not in GENERIC_NOUNS or (
                j + 1 < len(toks) and (toks[j + 1].low in KIND_WORDS or (
                    _descriptive(toks[j + 1])))))):  # "Guest WiFi portal container x"
        j += 1
    return j


def _count(t: Token) -> bool:
    return not t.quoted and (t.low.isdigit() or t.low in SMALL_NUMBERS)


def _counted(toks: list[Token]) -> list[Token]:
    """``Two analysis VMs, a and b``: the descriptive words after a count dropped."""
    for i in range(len(toks) - 3):
        if not _count(toks[i]):
            continue
        j = _described(toks, i + 1)
        if j > i + 1 and j + 2 < len(toks) and toks[j].low in KIND_WORDS and (
                toks[j + 1].low in _APPOSITION) and _name(toks[j + 2]):
            return [*toks[:i + 1], *toks[j:]]
    return toks


#: words that make a run before ": VM x" a remark, not a name for it ("Unused since
#: spring: VM x, ...": is it to be deleted?)
_REMARK_WORDS = frozenset({"since", "for", "from", "until", "till", "after", "before", "by",
                           "of", "to", "in", "on", "at", "without", "not", "never", "no",
                           "gone", "broken", "dead", "obsolete", "spare", "maybe", "if"})


def _noun_like(w: str) -> bool:
    """May ``w`` be a word of a title before ``: VM x`` (``WSJT-X remote:``)? Not a
    preposition, a negation, a participle (``unused``, ``retired``) or a remark word."""
    return w not in _REMARK_WORDS and not w.endswith("ed") and not w.startswith("un")


def _opening(toks: list[Token]) -> list[Token]:
    """The shapes that open the sentence (see the module's docstring)."""
    low = [t.low for t in toks]
    j = _described(toks, 0)
    if j and j + 2 < len(toks) and low[j] in KIND_WORDS and _name(toks[j + 1]) and (
            low[j + 2] in _AFTER_NAME or low[j + 2] in _VERBS):
        return toks[j:]  # "MIS database VM mis-db: ...", "Guest WiFi portal container x on"
    if j and j + 3 < len(toks) and low[j] in (",", ":") and low[j + 1] in KIND_WORDS and (
            _name(toks[j + 2]) and (low[j + 3] in _AFTER_NAME or low[j + 3] in _VERBS)) and (
            all(_noun_like(w) for w in low[:j])):
        return toks[j + 1:]  # "Front desk PC image, VM fd-image: ...", "WSJT-X remote: VM x,"
    j += bool(j) and j < len(toks) and low[j] in GENERIC_NOUNS  # "... licence server is"
    if j and j + 4 < len(toks) and low[j] == "is" and low[j + 1] in ("a", "an") and (
            low[j + 2] in KIND_WORDS and low[j + 3] in ("called", "named")
            and _name(toks[j + 4])):
        return toks[j + 1:]  # "Matlab licence server is a VM called flexlm"
    k = j + (j < len(toks) and low[j] in ("host", "hostname"))
    if k > j and k + 1 < len(toks) and _name(toks[k]) and low[k + 1] == "->":
        return toks[k:]  # "inventory host netbox -> container"
    if low[0] in _DETERMINERS:
        j = _described(toks, 1)
        for k in range(2, min(j, len(toks) - 2) + 1):  # the name may end the run
            if _strict_name(toks[k]) and low[k + 1] in _VERBS:
                return toks[k:]  # "The reverse proxy haproxy-1 is a container"
        return _is_a(toks, j)
    if len(toks) > 6 and low[1] in ("id", "vmid") and low[0] in KIND_WORDS and (
            low[2].isdigit() and low[3:5] == ["belongs", "to"]):
        start = 5 + (low[5] == "the")
        start += start < len(toks) and low[start] in KIND_WORDS
        if start < len(toks) and _name(toks[start]):
            return [*toks[5:start + 1], Token(",", ",", toks[1].line), toks[1], toks[2],
                    Token(",", ",", toks[1].line), *toks[start + 1:]]
    return toks


def _is_a(toks: list[Token], j: int) -> list[Token]:
    """``The laser cutter PC is a VM, lasercut-win, with ...``: ``a VM named
    lasercut-win with ...`` (the description at ``1:j`` names what the guest is for)."""
    low = [t.low for t in toks]
    j += j < len(toks) and low[j] in GENERIC_NOUNS  # "Our main file server is now a ..."
    k = j + (j < len(toks) and low[j] == "is")
    if k == j or k + 3 >= len(toks) or low[k] not in ("a", "an") or (
            low[k + 1] not in KIND_WORDS or low[k + 2] != "," or not _name(toks[k + 3])):
        return toks
    rest = toks[k + 4 + (k + 4 < len(toks) and low[k + 4] == ","):]
    return [toks[k], toks[k + 1], Token(toks[k + 2].text, "named", toks[k + 2].line),
            toks[k + 3], *rest]


def _inline(toks: list[Token]) -> list[Token]:
    """``sage-50 (accounting)`` and ``a container with the name x``, anywhere."""
    out: list[Token] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.low == "(" and out and _name(out[-1]):
            j = _described(toks, i + 1)
            if j > i + 1 and j < len(toks) and toks[j].low == ")":
                i = j + 1  # "the VM sage-50 (accounting)"
                continue
        if t.low == "with" and out and (out[-1].low in KIND_WORDS or [
                x.low for x in out[-2:]] == ["virtual", "machine"]):  # "a virtual machine"
            k = i + 1 + (i + 1 < len(toks) and toks[i + 1].low == "the")
            if k + 1 < len(toks) and toks[k].low == "name" and _name(toks[k + 1]):
                out.append(Token(t.text, "named", t.line))
                i = k + 1
                continue
        out.append(t)
        i += 1
    return out


def rewrite(tokens: list[Token]) -> list[Token]:
    """``tokens`` with the descriptions of the module's docstring dropped."""
    if len(tokens) < 3:
        return tokens
    tokens = titled.rewrite(bracketed.rewrite(tokens))  # "The x computer (y)", "Print box p-2:"
    lows = {t.low for t in tokens}
    kinds = not lows.isdisjoint(KIND_WORDS)
    if kinds and (not lows.isdisjoint(_COUNT_TRIGGERS) or any(w.isdigit() for w in lows)):
        tokens = _counted(tokens)
    if kinds or "->" in lows or tokens[0].low in _DETERMINERS:
        tokens = _opening(tokens)
    return _inline(tokens) if "(" in lows or "name" in lows else tokens
