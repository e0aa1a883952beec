"""Guest names: a name, a list (``a, b and c``), a range (``web-1 through web-3``).

A name is any word the grammar gives no meaning to, so this module also answers the
renderer's questions (:func:`is_plain_word`, :func:`is_subject_name`) and tells the
attribute parser where a new clause with its own subject begins (``starts_clause``):
all three are the same test of "is this word a name?".
"""

from __future__ import annotations

import re

from mycopod import spec as specmod
from mycopod.declarations.grammar.lexicon import (
    GLUED_RE,
    KIND_WORDS,
    NAME_WORDS,
    NODE_WORDS,
    SUBJECT_VERBS,
    is_vocab,
)
from mycopod.declarations.grammar.tokens import Cursor, SentenceError, Token, memo_of, tokenize

NAMEISH_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_RANGE_RE = re.compile(r"^(.*?)(\d+)$")
#: most guests one sentence may name, in a range or a list. A range expands a few words
#: into many guests, so it is where one line could declare thousands; a sentence that
#: wants more is refused with the words quoted (the whole commit is limited separately,
#: by the setting declarations.max_guests).
MAX_NAMES = 100


def cpu_compound(low: str) -> bool:
    """``dual-core``, ``4-core``, ``eight-vcpu``: an amount of cores, never a name."""
    head, _, noun = low.rpartition("-")
    return bool(head) and noun in ("core", "cores", "cpu", "vcpu") and (
        head.isdigit() or is_vocab(head))


#: plain words that start a trailing reason ("Delete old-1, done with it") and are never a
#: guest's name: not words of the grammar (the reason is still dropped as one), only never
#: read as one more name of a list
NEVER_NAMES = frozenset({"done", "finished", "obsolete", "useless", "broken", "dead",
                         # adverbs after a noun ("the pihole container only needs ...")
                         "only", "just", "also", "still", "really", "currently", "always",
                         "usually", "normally", "probably", "definitely", "actually", "already",
                         "basically", "mostly", "simply", "again", "soon", "then", "maybe",
                         "perhaps", "certainly", "surely", "typically", "generally", "rarely",
                         "often", "sometimes", "now"})
#: a network card's slot (``net1 gets no IP``, ``vm web-1, net1 on vmbr1``) is never a guest
#: name but after ``named``; words that :mod:`.terse` and :mod:`.results` rewrite are
#: never written unquoted by the renderer
SLOT_NAME_RE = re.compile(r"^net\d+$")
_REWRITTEN_RE = re.compile(r"^(\d{1,3}c|now|got|w/|gw|static|net\d+)$")


def is_nameish(t: Token | None) -> bool:
    return (t is not None and not t.quoted and (not is_vocab(t.low) or t.low in NAME_WORDS)
            and bool(NAMEISH_RE.match(t.text)) and not GLUED_RE.match(t.low)
            and not t.low.startswith("-") and not cpu_compound(t.low)
            and t.low not in NEVER_NAMES and not SLOT_NAME_RE.match(t.low))


def is_plain_word(value: str) -> bool:
    """Does ``value`` read back unquoted as exactly itself, and as no word of the grammar?

    The renderer quotes every value for which this is false.
    """
    try:
        tokens = tokenize(value)
    except SentenceError:
        return False
    return (len(tokens) == 1 and not tokens[0].quoted and tokens[0].text == value
            and not is_vocab(tokens[0].low) and not GLUED_RE.match(tokens[0].low)
            and tokens[0].low not in NODE_WORDS and not value.startswith(("-", "#"))
            and not _REWRITTEN_RE.match(tokens[0].low))


def is_subject_name(name: str) -> bool:
    """Can ``name`` start a sentence as its subject (``name is a VM``)?"""
    return is_nameish(Token(name, name.lower(), 1))


def _check_name(t: Token) -> str:
    if re.fullmatch(r"[A-Z][a-z]+", t.text):
        raise SentenceError(
            t.line, f"{t.text!r} reads as an English word where a guest's name was expected "
            "(guest names are lower-case): start the sentence with the guest's name ('web-1 "
            "is a VM ...'), or with a request the grammar knows ('Please create a VM named "
            "web-1 ...', 'Could you ...'); a word that only opens the sentence is not "
            "understood here")
    if not specmod.NAME_RE.match(t.text):
        raise SentenceError(
            t.line, f"{t.text!r} is not a valid guest name: use lower-case letters, digits "
            "and hyphens (1-63 characters, not starting or ending with a hyphen)")
    return t.text


def _range_bounds(first: Token, last: Token, joiner: str = "through") -> tuple[str, int, int, int]:
    """A range's shared prefix, first and last number and zero-padded width, checked.

    Every name of the range is checked without writing them all out: the names share
    their prefix and end in digits, so they differ only in length, which grows with the
    number's digits. The first name of each digit count (the first number, then 10, 100,
    ... inside the range) stands for all names of its length; checking those in order
    finds the same first bad name as checking every name would.
    """
    a, b = _RANGE_RE.match(first.text), _RANGE_RE.match(last.text)
    if a is None or b is None or a.group(1) != b.group(1):
        raise SentenceError(
            first.line, f"{first.text} through {last.text} is not a range: both ends need "
            "the same name with a number at the end (web-1 through web-3)")
    lo, hi = int(a.group(2)), int(b.group(2))
    width = len(a.group(2)) if a.group(2).startswith("0") else 0
    if hi < lo:
        raise SentenceError(first.line, f"the range {first.text} through {last.text} runs "
                                        "backwards")
    if hi - lo >= MAX_NAMES:
        raise SentenceError(
            first.line, f"\"{first.text} {joiner} {last.text}\" names {hi - lo + 1} guests; "
            f"one sentence may name at most {MAX_NAMES}: split the range over several "
            f"sentences ({first.text} through {a.group(1)}{lo + MAX_NAMES - 1:0{width}d}, ...)")
    prefix = a.group(1)
    for n in (lo, *(10**k for k in range(len(str(lo)), len(str(hi))))):
        name = f"{prefix}{n:0{width}d}"
        _check_name(Token(name, name, first.line))
    return prefix, lo, hi, width


def _same_prefix(first: str, last: str) -> bool:
    """``web-1 to web-3`` is a range; ``vault-2 to vmbr5`` is not (a name, then a place)."""
    a, b = _RANGE_RE.match(first), _RANGE_RE.match(last)
    return a is not None and b is not None and a.group(1) == b.group(1)


def _range(first: Token, last: Token, joiner: str = "through") -> list[str]:
    prefix, lo, hi, width = _range_bounds(first, last, joiner)
    return [f"{prefix}{n:0{width}d}" for n in range(lo, hi + 1)]


def read_names(c: Cursor, *, first_literal: bool, walked: list[int] | None = None) -> list[str]:
    """A list of names: ``a``, ``a and b``, ``a, b and c``, ``web-1 through web-3``.

    With ``walked`` (a probe that only wants to know where the list ends), the position
    of each item is appended to it and ranges are checked but not written out.
    """
    names: list[str] = []
    first = True
    while True:
        if walked is not None:
            walked.append(c.i)
        t = c.tok()
        if t is None or t.low in (".", ","):
            break
        if not (first and first_literal) and not is_nameish(t):
            break
        if first and first_literal and t.low == ":":  # "." and "," ended the list above
            break
        c.i += 1
        if c.w() in ("through", "thru", "to", "-", "..") and is_nameish(c.tok(1)):
            last = c.toks[c.i + 1]
            if c.w() != "to" or _same_prefix(t.text, last.text):
                joiner = c.toks[c.i].text
                c.i += 2
                if walked is None:
                    names.extend(_range(t, last, joiner))
                else:
                    _range_bounds(t, last, joiner)
            else:
                names.append(_check_name(t))
        else:
            names.append(_check_name(t))
        if len(names) > MAX_NAMES:
            raise SentenceError(
                t.line, f"the names \"{names[0]} ... {names[-1]}\" are more than {MAX_NAMES} "
                f"guests; one sentence may name at most {MAX_NAMES}: split them over several "
                "sentences")
        first = False
        save = c.i
        if not c.list_separator():
            break
        if not is_nameish(c.tok()):
            c.i = save
            break
        # "a and b is ..." continues the list; "a, tagged b" does not.
    return names


def list_end(c: Cursor) -> int | None:
    """Where the list of names at the cursor ends; None when it is not a valid list.

    Walking a list remembers nothing but its position (``first_literal`` is off), so the
    walk from any item ends where the walk from the first one does: every item passed
    is remembered with that answer, and probing each item of a long list costs one walk
    in all, not one per item.
    """
    memo = memo_of(c.toks)
    known = memo.get(("names", c.i), -1)
    if known != -1:
        return known
    probe = Cursor(c.toks, c.i)
    walked: list[int] = []
    end: int | None
    try:
        read_names(probe, first_literal=False, walked=walked)
        end = probe.i
    except SentenceError:
        end = None
    for position in walked:
        memo[("names", position)] = end
    return end


def starts_clause(c: Cursor) -> bool:
    """Does a new clause with its own subject start here (``web-2 is a container``)?"""
    probe = Cursor(c.toks, c.i)
    if probe.w() == "the" and probe.w(1) in KIND_WORDS and probe.w(2) not in ("guest", "agent"):
        return True
    if not is_nameish(probe.tok()):
        return False
    end = list_end(probe)
    if end is None:
        return False
    probe.i = end
    return probe.w() in SUBJECT_VERBS and probe.w() != ","
