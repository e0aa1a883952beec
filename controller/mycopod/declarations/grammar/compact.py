"""Compact list items read as the terse shapes the grammar knows: ``jellyfin 4gb``,
``homer ct 256mb``, ``1x vm minecraft, 4 cores``, ``bookstack (vm) 2c/4g``, ``'intern'``.

Grocery-list notes leave out the commas :mod:`.terse` and the bare-size rule read. These
shapes, and only these, are rewritten before :func:`.terse.expand` (only a token's
lower-case form changes, or a ``,`` is put in; what the owner wrote stays for errors):

- the guest's name opening the sentence, optionally its kind word or ``(KIND)``, then a
  size glued to its unit (``4gb``, ``256mb``) or a core count glued to ``c`` (``2c/4g``):
  a ``,`` is read after the name and kind, so the item reads as ``jellyfin, 4gb`` (a size
  with no noun in a list is the memory, once per guest: the rule everywhere);
- ``on the tank storage`` is ``on storage tank`` (a lower-case name between ``the`` and
  ``storage``; ``on the big storage called tank`` too, with one word of
  ``_STORAGE_WORDS``; ``the nvme pool`` stays refused: a pool is also a resource pool);
- ``1x`` before a kind word (``1x vm minecraft``): one guest, the count dropped (``2x``
  and more are refused: a count needs its names);
- a list of guests each with its kind first in parentheses, ending the sentence:
  ``a (VM, 1 core) and b (container, 512 MB)`` is ``a is a VM, 1 core and b is a
  container, 512 MB`` (two guests or more; one is read by :mod:`.bracketed`);
- a list's label (:func:`list_label`, read by :func:`.idioms.is_preface`): ``need:``,
  ``todo for saturday:``, ``list:`` announce the list under them and are dropped;
- a tag, name or value in single quotes (``'intern'``, ``‘photos’``): one word between
  the quotes is that word as a quoted value (never read as a keyword).

Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.lexicon import DROPPED, KIND_WORDS
from mycopod.declarations.grammar.names import is_nameish
from mycopod.declarations.grammar.tokens import QUOTED, Token

__all__ = ["LIST_LABELS", "expand", "list_label"]

#: a list's label before ":" ("need:", "todo for saturday:", "list:"): announces the list
LIST_LABELS = frozenset({"need", "needed", "needs", "list", "todo", "to-do", "todos",
                         "errands", "tasks", "wishlist", "plan", "stuff", "shopping"})
#: when the list is for ("todo for saturday:", "need this week:")
_WHEN = frozenset({"today", "tomorrow", "tonight", "week", "weekend", "month", "monday",
                   "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"})

#: what a storage is called before "storage called NAME" ("on the big storage called tank")
_STORAGE_WORDS = frozenset({"big", "fast", "slow", "new", "old", "main", "nas", "shared",
                            "backup", "ssd", "hdd", "nvme", "zfs", "ceph", "local", "bulk"})
_SINGLE_RE = re.compile("^['\u2018\u2019]([A-Za-z0-9][A-Za-z0-9_+.\\-]*)['\u2018\u2019]$")
_ITEM_RE = re.compile(r"^(\d{1,3}c(/.*)?|\d+(\.\d+)?[kmgt]i?b?(/.*)?)$")
_TRIGGER_RE = re.compile(r"^(\d{1,3}c|\d+(\.\d+)?[kmgt]i?b?)(/|$)|^1x$|^['\u2018\u2019]|^storage$")


def _quoted(t: Token) -> Token:
    m = _SINGLE_RE.match(t.text) if not t.quoted else None
    return Token(m.group(1), QUOTED, t.line, quoted=True) if m else t


def _comma_after_subject(toks: list[Token]) -> list[Token]:
    """``jellyfin 4gb`` -> ``jellyfin , 4gb``; ``homer ct 256mb``; ``x (vm) 2c/4g``."""
    if len(toks) < 2 or not is_nameish(toks[0]) or not toks[0].text.islower():
        return toks
    j = 1
    if toks[j].low in KIND_WORDS:
        j += 1
    elif [t.low for t in toks[1:2]] == ["("] and len(toks) > 3 and toks[2].low in (
            KIND_WORDS) and toks[3].low == ")":
        j = 4
    if j < len(toks) and _ITEM_RE.match(toks[j].low):
        return [*toks[:j], Token("", ",", toks[j].line), *toks[j:]]
    return toks


def list_label(tokens: list[Token]) -> bool:
    """``need``, ``todo for saturday``, ``list this week``: a label of :data:`LIST_LABELS`,
    then at most ``for|this|next`` and a time word of ``_WHEN`` (the ``:`` not included)."""
    low = [t.low if not t.quoted else QUOTED for t in tokens]
    if not low or low[0] not in LIST_LABELS:
        return False
    rest = low[1:]
    if rest[:1] in (["for"], ["this"], ["next"]):
        rest = rest[1 + (rest[1:2] in (["this"], ["next"], ["the"])):]
    return rest == [] or (len(rest) == 1 and rest[0] in _WHEN)


def _parenthesized(toks: list[Token]) -> list[Token]:
    """``a (VM, 1 core) and b (container, 1 GB)`` -> ``a is a VM, 1 core and b is a
    container, 1 GB``: two guests or more, each with its kind first in its parentheses,
    ending the sentence."""
    start = next((p for p in range(len(toks) - 2) if is_nameish(toks[p]) and toks[
        p + 1].low == "(" and toks[p + 2].low in KIND_WORDS), None)
    if start is None:
        return toks
    out = toks[:start]
    p = start
    count = 0
    while p + 2 < len(toks) and is_nameish(toks[p]) and toks[p + 1].low == "(" and (
            toks[p + 2].low in KIND_WORDS):
        close = next((k for k in range(p + 3, len(toks)) if toks[k].low in ("(", ")")), None)
        if close is None or toks[close].low != ")":
            return toks
        line = toks[p].line
        out += [toks[p], Token("is", "is", line), Token("a", "a", line),
                *toks[p + 2:close]]
        count += 1
        p = close + 1
        if p == len(toks):
            break
        if toks[p].low not in (",", "and") or p + 1 == len(toks):
            return toks
        out.append(Token(toks[p].text, "and", toks[p].line))
        p += 1 + (toks[p].low == "," and p + 1 < len(toks) and toks[p + 1].low == "and")
    return out if count > 1 and p == len(toks) else toks


def expand(tokens: list[Token]) -> list[Token]:
    """``tokens`` with the compact shapes of the module's docstring in the grammar's words."""
    if "(" in (t.low for t in tokens):
        tokens = _parenthesized(tokens)
    if not any(_TRIGGER_RE.search(t.low) for t in tokens if not t.quoted):
        return tokens
    out = [_quoted(t) for t in tokens]
    if len(out) > 2 and out[0].low == "1x" and out[1].low in KIND_WORDS:
        out = [Token(out[0].text, DROPPED, out[0].line), *out[1:]]  # "1x vm minecraft"
        out = [t for t in out if t.low != DROPPED]
    for i in range(len(out) - 3):  # "on the tank storage": on storage tank
        if out[i].low in ("on", "to") and out[i + 1].low == "the" and is_nameish(
                out[i + 2]) and out[i + 2].text.islower() and out[i + 3].low == "storage":
            out = [*out[:i + 1], out[i + 3], out[i + 2], *out[i + 4:]]
            break
        if out[i].low in ("on", "to") and out[i + 1].low == "the" and i + 5 < len(out) and (
                out[i + 3].low == "storage" and out[i + 4].low in ("called", "named")
                and out[i + 2].low in _STORAGE_WORDS and is_nameish(out[i + 5])):
            out = [*out[:i + 1], out[i + 3], *out[i + 5:]]  # "on the big storage called tank"
            break
    return _comma_after_subject(out)
