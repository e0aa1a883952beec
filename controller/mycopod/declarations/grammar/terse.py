"""Terse settings read as the grammar's own words: ``w/``, ``2c/4G``, ``onboot yes``, ``gw``.

Notes, inventories and chat messages state settings in the shape of a config file or a
spreadsheet cell rather than a sentence. :func:`expand` rewrites these shapes, and only
these, before the idioms are read (only a token's lower-case form changes; its written
text stays, so an error still quotes what the owner wrote):

- ``w/`` is ``with``;
- ``4c`` (a count glued to ``c``) is ``4 cores``, where a list item stands: after
  ``,``, ``:``, ``/``, ``with`` or ``and``, and before the end, ``,``, ``/`` or a size;
- ``2c/4G``, ``2 cores/4G``, ``4c/8g/64g``: a word split at ``/`` when every part is such
  a count, a size glued to its unit or a core noun (so an address ``10.0.0.5/24`` or a
  volume ``local:iso/x.iso`` never is); a size after ``/`` is a bare size, read as the
  memory once and refused the second time, as everywhere;
- ``onboot yes``, ``onboot: yes``, ``onboot=1``, ``autostart true``, ``on boot: yes``,
  ``start at boot: yes``: starts on boot; ``onboot no``/``0``/``false``: does not;
- ``vmbr1`` alone as a list item (``..., 1 GB RAM, vmbr1``, ``vmbr0 VLAN 20``) is the
  bridge;
- ``static 10.0.0.5/24`` (an address right after ``static``) is the static IP, and
  ``gw 10.0.0.1`` (or ``gw: ...``) is the gateway;
- ``ct dns-1 and ct dns-2``, ``vm a, vm b``: a kind word repeated before each name of a
  list that opens the sentence with the same kind word is dropped (the list keeps its
  kind).

Anything else is left as it was, for the parser to read or refuse. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar import compact
from mycopod.declarations.grammar.lexicon import DROPPED, GLUED_RE, KIND_WORDS
from mycopod.declarations.grammar.names import is_nameish
from mycopod.declarations.grammar.tokens import Token

__all__ = ["expand"]

_IP_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?$")
_COUNT_C_RE = re.compile(r"^(\d{1,3})c$")
_BRIDGE_RE = re.compile(r"^vmbr\d+$")
_CORE_NOUNS = frozenset({"core", "cores", "vcpu", "vcpus", "cpu", "cpus"})
_BEFORE = frozenset({",", ":", "/", "with", "and", "(", "-", "|", ")"})
_AFTER = frozenset({"", ",", ".", "/", ")", "and", "|"})
_YES = frozenset({"yes", "true", "1", "on", "enabled", "y"})
_NO = frozenset({"no", "false", "0", "off", "disabled", "n"})
_BOOT_KEYS = frozenset({"onboot", "autostart", "autoboot"})
#: a token that may start one of the shapes: only sentences with one are rewritten
_TRIGGER_RE = re.compile(r"^(\d{1,3}c|w/|static|gw|onboot|autostart|autoboot|boot"
                         r"|vmbr\d+)$|[/=]")


def _word(t: Token, low: str) -> Token:
    return Token(t.text, low, t.line)


def _slash_part(part: str) -> bool:
    return bool(_COUNT_C_RE.match(part) or GLUED_RE.match(part) or part in _CORE_NOUNS)


def _split(tokens: list[Token]) -> list[Token]:
    """``2c/4g`` -> ``2c / 4g``; ``onboot=1`` -> ``onboot 1``."""
    out: list[Token] = []
    for t in tokens:
        parts = t.low.split("/")
        key, eq, value = t.low.partition("=")
        if t.quoted:
            out.append(t)
        elif len(parts) > 1 and all(parts) and all(_slash_part(p) for p in parts) and any(
                p not in _CORE_NOUNS for p in parts):
            texts = t.text.split("/")
            for k, (text, low) in enumerate(zip(texts, parts, strict=True)):
                if k:
                    out.append(Token("/", "/", t.line))
                out.append(Token(text, low, t.line))
        elif eq and key in _BOOT_KEYS and value in _YES | _NO:
            out.extend([Token(t.text, key, t.line), Token(t.text, value, t.line)])
        else:
            out.append(t)
    return out


def _boot_switch(out: list[Token], i: int) -> int:
    """``onboot [:] yes|no`` and ``[start] on|at boot: yes|no`` at ``i``; the next index."""
    t = out[i]
    j = i + 1
    if t.low in _BOOT_KEYS:
        end = i
    elif t.low in ("on", "at") and i + 1 < len(out) and out[i + 1].low == "boot":
        end = i + 1
        j = i + 2
    else:
        return i + 1
    if j < len(out) and out[j].low in (":", "="):
        j += 1
    if j >= len(out) or out[j].quoted or out[j].low not in _YES | _NO:
        return i + 1
    if out[j].low in _YES:
        for k in range(end + 1, j + 1):
            out[k] = _word(out[k], DROPPED)
    elif t.low in _BOOT_KEYS:
        for k in range(end + 1, j):
            out[k] = _word(out[k], DROPPED)
        out[j] = _word(out[j], "off")
    else:
        return i + 1  # "start on boot: no": left for the parser to refuse
    return j + 1


def _repeated_kind(out: list[Token]) -> None:
    """``ct dns-1 and ct dns-2``: drop the kind word repeated inside the opening list."""
    if len(out) < 5 or out[0].low not in KIND_WORDS or not is_nameish(out[1]):
        return
    kind = KIND_WORDS[out[0].low]
    i = 2
    while i + 2 < len(out) and out[i].low in (",", "and"):
        if out[i + 1].low in KIND_WORDS and KIND_WORDS[out[i + 1].low] == kind and is_nameish(
                out[i + 2]):
            out[i + 1] = _word(out[i + 1], DROPPED)
            i += 3
        elif is_nameish(out[i + 1]):
            i += 2
        else:
            return


def expand(tokens: list[Token]) -> list[Token]:
    """``tokens`` with the terse settings of the module's docstring in the grammar's words
    (after :func:`.compact.expand`: ``jellyfin 4gb``, ``1x vm x``, ``'intern'``)."""
    tokens = compact.expand(tokens)
    if not (tokens and tokens[0].low in KIND_WORDS) and not any(
            _TRIGGER_RE.search(t.low) for t in tokens):
        return tokens  # most sentences: none of these shapes (a long one stays cheap)
    out = _split(tokens)
    _repeated_kind(out)
    i = 0
    while i < len(out):
        t = out[i]
        if t.quoted:
            i += 1
            continue
        before = out[i - 1].low if i else ""
        after = out[i + 1].low if i + 1 < len(out) else ""
        if t.low == "w/":
            out[i] = _word(t, "with")
        elif t.low in ("static", "gw") and _IP_RE.match(after):
            out[i] = _word(t, "ip" if t.low == "static" else "gateway")
        elif t.low == "gw" and after == ":" and i + 2 < len(out) and _IP_RE.match(out[i + 2].low):
            out[i] = _word(t, "gateway")
        elif (m := _COUNT_C_RE.match(t.low)) and before in _BEFORE and (
                after in _AFTER or GLUED_RE.match(after)):
            out[i:i + 1] = [_word(t, m.group(1)), Token("", "cores", t.line)]
            i += 1
        elif _BRIDGE_RE.match(t.low) and before in (",", ":") and after in _AFTER | {
                "vlan"} and not (i > 1 and _BRIDGE_RE.match(out[i - 2].low)):  # not a list
            out[i:i + 1] = [Token("", "bridge", t.line), t]  # "..., vmbr1": the bridge
            i += 1
        elif t.low in _BOOT_KEYS or t.low in ("on", "at"):
            i = _boot_switch(out, i)
            continue
        i += 1
    return [t for t in out if t.low != DROPPED]
