"""Numbers and sizes: ``4``, ``0.5``, ``thirty-two``, ``4GB``, ``2 TB``.

Reading numbers is shared by the size phrases (disks, memory), the counts (cores, VLAN,
ID) and the subject parser (``three web servers``), so it sits below all of them. Number
words are parsed with their structure checked, so "two four" is never read as six.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from mycopod.declarations.grammar.lexicon import (
    GLUED_RE,
    MULTIPLIERS,
    NUMBER_RE,
    SMALL_NUMBERS,
    TENS,
    UNITS,
)
from mycopod.declarations.grammar.tokens import Cursor, SentenceError


def read_number(c: Cursor) -> tuple[Decimal, str | None] | None:
    """A number (digits, ``0.5``, words like ``thirty-two``), maybe with a glued unit."""
    w = c.w()
    if not w or c.tok() is None or c.toks[c.i].quoted:
        return None
    if w.startswith("-") and (w[1:2].isdigit()):
        raise SentenceError(c.line, f"{c.toks[c.i].text} is negative; sizes and counts "
                                    "must be positive")
    if w == "minus":
        raise SentenceError(c.line, "negative values are not allowed")
    if NUMBER_RE.match(w):
        c.i += 1
        return _and_a_half(c, Decimal(w)), None
    glued = GLUED_RE.match(w)
    if glued:
        c.i += 1
        return Decimal(glued.group(1)), glued.group(2)
    head, _, unit = w.rpartition("-")
    if head and unit in UNITS and len(unit) > 1 and (value := word_number(head)) is not None:
        c.i += 1  # "a two-terabyte disk", "a 500-gigabyte disk", "an eight-gig disk"
        return value, unit
    if w == "single" or (w == "a" and c.w(1) == "single"):
        c.i += 2 if w == "a" else 1
        return Decimal(1), None
    if w in ("a", "an", "one") and c.w(1) in _ONE_UNIT_WORDS and not c.toks[c.i + 1].quoted:
        c.i += 1  # "a gig of RAM", "a terabyte disk": one of the unit
        return Decimal(1), None
    if w == "half" and c.w(1) in ("a", "an"):
        c.i += 2
        return Decimal("0.5"), None
    found = _number_words(c)
    return (_and_a_half(c, found[0]), found[1]) if found is not None else None


#: units written as words that ``a``/``an`` counts as one ("a gig", not "a G")
_ONE_UNIT_WORDS = frozenset({"gig", "gigabyte", "gibibyte", "meg", "megabyte", "terabyte",
                             "tebibyte"})


def _and_a_half(c: Cursor, value: Decimal) -> Decimal:
    """``one and a half``, ``2 and a half``: the half is part of the number."""
    if c.w() == "and" and c.w(1) == "a" and c.w(2) == "half":
        c.i += 3
        return value + Decimal("0.5")
    return value


def word_number(word: str) -> Decimal | None:
    """One word as a number: ``4``, ``1.5``, ``two``, ``sixteen``, ``thirty-two``, ``quad``."""
    if NUMBER_RE.match(word):
        return Decimal(word)
    if word in SMALL_NUMBERS:
        return Decimal(SMALL_NUMBERS[word])
    if word in MULTIPLIERS:
        return Decimal(MULTIPLIERS[word])
    if word in TENS:
        return Decimal(TENS[word])
    tens, _, unit = word.partition("-")
    if tens in TENS and unit in SMALL_NUMBERS and 0 < SMALL_NUMBERS[unit] < 10:
        return Decimal(TENS[tens] + SMALL_NUMBERS[unit])
    return None


def _number_words(c: Cursor) -> tuple[Decimal, str | None] | None:
    """English number words: ``sixteen``, ``thirty-two``, ``two hundred fifty-six``.

    The structure is checked (a units word cannot follow another, ``hundred`` follows
    1..9), so "two four" is not read as six: the second word is left unplaced.
    """
    total = 0
    current = 0
    last = ""  # "", "unit", "teen", "tens", "hundred", "thousand"
    while True:
        w = c.w()
        parts = w.split("-")
        if len(parts) == 2 and parts[0] in TENS and parts[1] in SMALL_NUMBERS and \
                0 < SMALL_NUMBERS[parts[1]] < 10 and last in ("", "hundred", "thousand"):
            current += TENS[parts[0]] + SMALL_NUMBERS[parts[1]]
            last = "unit"
        elif w in SMALL_NUMBERS and SMALL_NUMBERS[w] < 10 and last in (
                "", "tens", "hundred", "thousand"):
            current += SMALL_NUMBERS[w]
            last = "unit"
        elif w in SMALL_NUMBERS and last in ("", "hundred", "thousand"):
            current += SMALL_NUMBERS[w]
            last = "teen"
        elif w in TENS and last in ("", "hundred", "thousand"):
            current += TENS[w]
            last = "tens"
        elif w == "hundred" and last == "unit" and 0 < current < 10:
            current *= 100
            last = "hundred"
        elif w == "thousand" and last in ("unit", "teen", "tens", "hundred") and total == 0:
            total = current * 1000
            current = 0
            last = "thousand"
        elif w == "and" and last in ("hundred", "thousand") and (
                c.w(1) in SMALL_NUMBERS or c.w(1) in TENS or c.w(1).split("-")[0] in TENS):
            pass
        else:
            break
        c.i += 1
    if not last:
        return None
    return Decimal(total + current), None


def to_int(value: Decimal, line: int, what: str) -> int:
    if value != value.to_integral_value():
        raise SentenceError(line, f"{what} must be a whole number, not {value}")
    return int(value)


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def read_size(c: Cursor) -> tuple[Decimal, int] | None:
    """``NUM UNIT`` -> (MiB, line), or None (cursor unchanged)."""
    start = c.i
    line = c.line
    num = read_number(c)
    if num is None:
        return None
    value, unit = num
    if unit is None:
        unit = c.w()
        if unit not in UNITS:
            c.i = start
            return None
        c.i += 1
    return value * UNITS[unit], line


def format_mib(mib: Decimal) -> str:
    return f"{mib.normalize():f} MB"
