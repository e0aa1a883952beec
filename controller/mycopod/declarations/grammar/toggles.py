"""Small readers the whole-guest phrases share: on/off switches, values, durations.

Most settings of a whole guest are switches ("with NUMA", "no NUMA", "NUMA disabled") or
a noun followed by a value ("display type qxl"); reading them the same way everywhere
keeps the phrasings uniform, so the renderer can write one form and the owner can write
any of them. A negation is only ever read here as part of a switch, never as filler.
"""

from __future__ import annotations

from collections.abc import Sequence

from mycopod.declarations.grammar.quantities import read_number, to_int
from mycopod.declarations.grammar.tokens import Cursor, SentenceError

#: words after a switch's noun that say on or off
_ON = ("enabled", "on", "active", "allowed")
_OFF = ("disabled", "off", "inactive")


def take_any(c: Cursor, nouns: Sequence[tuple[str, ...]]) -> bool:
    """Consume the first of ``nouns`` (each a word sequence for Cursor.take) found here."""
    return any(c.take(*noun) for noun in nouns)


def switch(c: Cursor, nouns: Sequence[tuple[str, ...]], *, verbs: bool = True
           ) -> bool | None:
    """``[enable|disable|with|without|no] [the|a|an] NOUN [enabled|on|disabled|off]``.

    None (cursor unchanged) when ``NOUN`` is not here.
    """
    start = c.i
    value = True
    if verbs and c.opt("enable"):
        pass
    elif verbs and c.opt("disable"):
        value = False
    elif c.opt("without", "no"):
        value = False
    else:
        c.opt("with")
    c.opt("the", "a", "an")
    if not take_any(c, nouns):
        c.i = start
        return None
    if value and c.opt(*_OFF):
        return False
    if value:
        c.opt(*_ON)
    return value


def read_int(c: Cursor, what: str) -> int | None:
    """A whole number, or None (cursor unchanged) when no plain number is here."""
    start = c.i
    num = read_number(c)
    if num is None or num[1] is not None or num[0] != num[0].to_integral_value():
        c.i = start
        return None  # a fraction is left for the phrase it belongs to ("1.5 GB")
    return to_int(num[0], c.line, what)


def need_int(c: Cursor, what: str) -> int:
    value = read_int(c, what)
    if value is None:
        raise SentenceError(c.line, f"expected {what} (a whole number) here")
    return value


def seconds(c: Cursor, what: str) -> int:
    """``30``, ``30 seconds``, ``30 s``, ``2 minutes``."""
    value = need_int(c, what)
    if c.opt("minute", "minutes", "min", "mins"):
        return value * 60
    c.opt("second", "seconds", "s", "sec", "secs")
    return value


def value_text(c: Cursor, what: str) -> str:
    """The next token as a literal value (quoted or not), as written."""
    c.opt(":")
    return c.value(what).text
