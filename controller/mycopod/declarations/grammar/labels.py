"""Labels before a statement, dropped by their shape: ``Step 3:``, ``Phase 1:``, ``PSA:``.

Runbooks, changelogs and forum posts put a label before a plain statement: ``Step 3:
Provision client VM acme-dc1 ...``, ``Phase 3: delete legacy-lb and legacy-db.``,
``Final step: legacy-app1 can be deleted``, ``Resolved: shop-web ...``, ``Mine: web-7 has
2 cores``, ``2024-03-02: web-3 ...``, ``v1.4: ...``, ``@ops staging-db ...``.
:func:`label_end` finds where such a label ends, and only for these shapes:

- one to three words of plain letters (:func:`.prefaces.plain_word`: none of them a word
  of the grammar such as ``RAM`` or ``disk``, whose colon starts a setting), the first
  capitalised (a guest's name is lower case, so ``web-1: 4 cores`` stays a record),
  optionally followed by a number (``Step 3``), then ``:``;
- a date ``YYYY-MM-DD`` or a version ``v1.4`` then ``:``, or a date alone;
- a mention ``@team``;

and only when what follows names a guest of its own (a lower-case name with a digit or
a hyphen, or a name after ``called``, ``named`` or a kind word): a label over bare
settings (``Jellyfin: 4 cores``) is left for the parser, which refuses it rather than
give the settings to another guest. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.lexicon import KIND_WORDS
from mycopod.declarations.grammar.names import is_nameish
from mycopod.declarations.grammar.prefaces import plain_word
from mycopod.declarations.grammar.tokens import Token

__all__ = ["MAX_LABEL_WORDS", "label_end"]

MAX_LABEL_WORDS = 3
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_VERSION_RE = re.compile(r"^v\d+(\.\d+){0,3}$")
_NUMBER_RE = re.compile(r"^#?\d{1,6}[a-z]?$")
_MENTION_RE = re.compile(r"^@[a-z][a-z0-9_\-]*$")
_NAMED_BY = frozenset(KIND_WORDS) | {"called", "named"}


def plainly_named(rest: list[Token], k: int, named_by: frozenset[str]) -> bool | None:
    """Is ``rest[k]`` plainly a guest's name: a lower-case name with a digit or a hyphen,
    or one after a word of ``named_by``? None when it cannot be a name at all."""
    t = rest[k]
    if not is_nameish(t) or t.text != t.low:
        return None
    return ((any(c.isdigit() or c == "-" for c in t.low) and t.low[:1].isalpha())
            or (k > 0 and rest[k - 1].low in named_by))


def _names_a_guest(rest: list[Token]) -> bool:
    """Does ``rest`` name a guest of its own (see the module's docstring)?"""
    for k in range(len(rest)):
        plain = plainly_named(rest, k, _NAMED_BY)
        if plain is None:
            continue
        if plain:
            return True
        if (k and rest[k - 1].low == "the" and k + 1 < len(rest) and rest[k + 1].low in (
                KIND_WORDS)) or (k > 1 and rest[k - 1].low == "," and rest[k - 2].low in (
                KIND_WORDS)):
            return True  # "the paperless container", "its own VM, immich"
    return False


def label_end(tokens: list[Token], i: int) -> int:
    """Where a label at ``i`` ends (after its colon); ``i`` when there is none."""
    if i >= len(tokens) or tokens[i].quoted:
        return i
    first = tokens[i]
    if _MENTION_RE.match(first.low) and i + 1 < len(tokens):
        end = i + 1
    elif (_DATE_RE.match(first.low) or _VERSION_RE.match(first.low)) and i + 1 < len(tokens):
        end = i + 2 if tokens[i + 1].low == ":" else i + 1 if _DATE_RE.match(first.low) else i
    elif first.text[:1].isupper():
        j = i
        while j < i + MAX_LABEL_WORDS and j < len(tokens) and plain_word(tokens[j]):
            j += 1
        if j > i and j < len(tokens) and _NUMBER_RE.match(tokens[j].low):
            j += 1  # "Step 3:"
        end = j + 1 if j > i and j < len(tokens) and tokens[j].low == ":" else i
    else:
        return i
    if end < len(tokens) and tokens[end].low == "it":
        return i  # "Game night: it is a VM named mc-2": a preface (.prefaces)
    return end if end > i and _names_a_guest(tokens[end:]) else i
