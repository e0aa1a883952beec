"""Attribute phrasings read as the grammar's own phrases, by rewriting words (round 9).

- **A mapping named by its bus**: ``gets the USB mapping rtl-sdr as usb0``, ``PCI
  mapping rtx3060 as hostpci0``, ``PCI mapping gpu-4070 on hostpci0``: the phrase
  ``USB|PCI passthrough of the mapping NAME [as SLOT]`` (a slot after ``on`` is the slot
  ``as`` names; only a ``usbN``/``hostpciN`` slot).
- **A container template without** ``from``: ``with template local:vztmpl/x.tar.zst``,
  ``, template local:vztmpl/...`` (only before a ``...:vztmpl/...`` volume): ``from the
  template ...``, as the source phrase reads it.
- **The first to start**: ``should be the first to start|boot``: ``startup order 1``
  (only "first": "the last to start" has no number and stays refused).
- **The noun after the name** (second-language order): ``connect to vmbr1 bridge``,
  ``disk 300GB in ceph-ssd storage``, ``on the pve2 node``: ``to|in|on|at [the] NAME
  bridge|storage|node|pool`` is ``... bridge|storage|node|pool NAME`` (only a name
  with a digit or a hyphen between them: ``the new node`` is no name).

Every word rewritten is one of these fixed shapes; nothing is dropped. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.names import is_nameish
from mycopod.declarations.grammar.tokens import Token

__all__ = ["rewrite"]

_SLOT_RE = re.compile(r"^(usb|hostpci)\d+$")
_TRIGGERS = frozenset({"mapping", "template", "first"})
_PLACE_NOUNS = frozenset({"bridge", "storage", "node", "pool"})
_PREPOSITIONS = frozenset({"to", "in", "on", "at"})


def _postposed(toks: list[Token]) -> list[Token]:
    """``to vmbr1 bridge`` as ``to bridge vmbr1`` (module doc); ``the`` between dropped."""
    lows = [t.low for t in toks]
    if _PLACE_NOUNS.isdisjoint(lows):
        return toks  # the common case
    out = list(toks)
    k = 2
    while k < len(out):
        noun, name = out[k], out[k - 1]
        k += 1
        if noun.low not in _PLACE_NOUNS or noun.quoted or not is_nameish(name) or not any(
                ch.isdigit() or ch == "-" for ch in name.low):
            continue
        at = k - 3 - (k > 3 and out[k - 3].low == "the")
        if out[at].low in _PREPOSITIONS and not out[at].quoted:
            out[at + 1:k] = [noun, name]  # "the" between them dropped
            k = at + 3
    return out


def _t(like: Token, low: str) -> Token:
    return Token(like.text, low, like.line)


def _said(like: Token, low: str) -> Token:
    """A word the rewrite adds: an error quotes it as the word it is."""
    return Token(low, low, like.line)


def _mapping(toks: list[Token], i: int) -> list[Token] | None:
    """``USB|PCI [device] mapping NAME [as|on SLOT]`` at ``i``."""
    bus = toks[i]
    j = i + 1 + (i + 1 < len(toks) and toks[i + 1].low == "device")
    if j + 1 >= len(toks) or toks[j].low != "mapping" or toks[j + 1].quoted:
        return None
    out = [bus, _said(bus, "passthrough"), _said(bus, "of"), _said(bus, "the"), toks[j],
           toks[j + 1]]
    k = j + 2
    if k + 1 < len(toks) and toks[k].low in ("as", "on") and _SLOT_RE.match(toks[k + 1].low):
        out += [_t(toks[k], "as"), toks[k + 1]]
        k += 2
    return [*toks[:i], *out, *toks[k:]]


def rewrite(tokens: list[Token]) -> list[Token]:
    """``tokens`` with the phrasings of the module's docstring in the grammar's words."""
    tokens = _postposed(tokens)
    if _TRIGGERS.isdisjoint([t.low for t in tokens]):
        return tokens  # the common case
    out = list(tokens)
    i = 0
    while i < len(out):
        t, low = out[i], out[i].low
        nxt = out[i + 1] if i + 1 < len(out) else None
        if low in ("usb", "pci") and not t.quoted and (found := _mapping(out, i)) is not None:
            out = found
            i += 6
            continue
        if low == "template" and nxt is not None and ":vztmpl/" in nxt.low and not t.quoted:
            if i and out[i - 1].low in ("with", "using"):
                out[i - 1] = _t(out[i - 1], "from")  # "with template local:vztmpl/..."
            elif not (i and out[i - 1].low in ("from", "the")):
                out[i:i] = [_said(t, "from")]  # ", template local:vztmpl/...": from it
                i += 1
        if low == "the" and [x.low for x in out[i + 1:i + 3]] == ["first", "to"] and (
                i + 3 < len(out) and out[i + 3].low in ("start", "boot")):
            first = out[i + 1]
            out[i:i + 4] = [_t(first, "startup"), _t(first, "order"), _t(first, "1")]
            i += 3
            continue
        i += 1
    return out
