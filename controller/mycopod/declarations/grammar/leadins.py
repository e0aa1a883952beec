"""Text that borrows its subject: a list under a lead-in, prose under a heading.

People write ``Please get rid of these:`` and then a list of names, or a heading that
names a guest and prose under it (``## db-1`` / ``A VM with 4 cores.``). Neither is a
sentence the clause parser can read alone, so this module rewrites them into the
sentences they mean, keeping every token (and its line) the owner wrote: the lead-in's
placeholder (``these``, ``the following VMs``) is replaced by each item's names, and the
rest of the item follows after a comma. Nothing is dropped: an item that does not start
with a guest's name is an error naming the lead-in. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from mycopod.declarations.grammar.lexicon import (
    GENERIC_NOUNS,
    KIND_WORDS,
    ROLE_WORDS,
    SMALL_NUMBERS,
)
from mycopod.declarations.grammar.names import is_nameish, read_names
from mycopod.declarations.grammar.tokens import (
    Cursor,
    SentenceError,
    Token,
    sentence_text,
    tokenize,
)

__all__ = ["LeadIn", "fill", "heading_names", "lead_in", "only_names"]

#: words that stand for the list that follows
_PLACEHOLDERS = frozenset({"these", "those", "following"})
#: a heading may also say "them" for the list under it ("## Make them 8 cores")
_HEADING_PLACEHOLDERS = _PLACEHOLDERS | {"them"}
#: words before a placeholder that only say "every one of" ("Delete all of these")
_EVERY = frozenset({"all", "each", "every", "both"})
#: what a count after a placeholder may count ("these two VMs"), or "," before a reason
_COUNTED = frozenset(KIND_WORDS) | GENERIC_NOUNS | ROLE_WORDS | {","}


@dataclass
class LeadIn:
    """A sentence ending in ``:`` that announces a list: its tokens around the placeholder."""

    before: list[Token]
    kind: list[Token]
    after: list[Token]
    line: int
    #: a list item was read under it
    used: bool = False
    #: the heading it was written as (``## Shut these down``), quoted in its errors
    heading: str | None = None
    #: a setting heading's words for an item's value (``## Power`` / ``- game: off``)
    values: dict[str, str] | None = None
    #: a title that names a kind (``## Containers``): it applies to the items that are
    #: only names, and no list under it is no error
    optional: bool = False
    #: the count it says ("Please remove these two:"): the list must name that many
    count: int | None = None
    #: the names the list under it named
    filled: int = 0

    @property
    def text(self) -> str:
        if self.heading is not None:
            return self.heading
        return sentence_text([*self.before, Token("these", "these", self.line), *self.after])


def lead_in(sentence: list[Token], *, heading: bool = False) -> LeadIn | None:
    """The lead-in ``sentence`` is (``Get rid of these:``), or None when it is not one."""
    if len(sentence) < 2 or sentence[-1].low != ":" or sentence[-1].quoted:
        return None
    body = sentence[:-1]
    placeholders = _HEADING_PLACEHOLDERS if heading else _PLACEHOLDERS
    for k, t in enumerate(body):
        if t.quoted or t.low not in placeholders:
            continue
        start = k - 1 if t.low == "following" and k > 0 and body[k - 1].low == "the" else k
        # "all of these", "each of the following": the list itself
        if start >= 2 and body[start - 1].low == "of" and body[start - 2].low in _EVERY:
            start -= 2
        elif start >= 1 and body[start - 1].low in _EVERY:
            start -= 1
        end = k + 1
        count = None
        if t.low != "them" and end < len(body) and not body[end].quoted and (
                body[end].low in SMALL_NUMBERS or body[end].low.isdigit()) and (
                end + 1 == len(body) or body[end + 1].low in _COUNTED):  # never "8 cores"
            count = SMALL_NUMBERS.get(body[end].low) or int(body[end].low)
            end += 1  # "these two": the list's length, checked when it ends
        while end < len(body) and (body[end].low in ROLE_WORDS and end + 1 < len(body)
                                   and (body[end + 1].low in KIND_WORDS or
                                        body[end + 1].low in GENERIC_NOUNS)):
            end += 1
        kind: list[Token] = []
        if end < len(body) and body[end].low in KIND_WORDS:
            kind = [body[end]]
            end += 1
        elif end < len(body) and body[end].low in GENERIC_NOUNS:
            end += 1  # "the following servers": no kind said
        the = [body[start]] if body[start].low == "the" and kind else []
        if body[start].low in _EVERY:
            the = []
        return LeadIn(body[:start] + the, kind, body[end:], sentence[0].line, count=count)
    return None


def fill(lead: LeadIn, item: list[Token]) -> list[Token]:
    """One list item under ``lead`` as the sentence it means."""
    c = Cursor(item)
    names_at = c.i
    named = read_names(c, first_literal=False) if is_nameish(c.tok()) else []
    if not named:
        line = item[0].line if item else lead.line
        raise SentenceError(line, f"this list item should start with a guest's name: the "
                                  f"line above (\"{lead.text}:\") announces a list of guests")
    names = item[names_at:c.i]
    lead.filled += len(named)
    rest = item[c.i:]
    if lead.values is not None and lead.after and rest and rest[0].low == ":":
        rest = rest[1:]  # "- web-1: pve1" under "## Nodes": "web-1 on node pve1"
    if lead.values is not None and len(rest) == 2 and rest[0].low == ":" and (
            rest[1].low in lead.values):  # "- game: off" under "## Power"
        rest = [rest[0], Token(rest[1].text, lead.values[rest[1].low], rest[1].line)]
    comma = [Token(",", ",", rest[0].line)] if rest and rest[0].low not in (",", ":") and (
        lead.values is None) else []
    return [*lead.before, *lead.kind, *names, *lead.after, *comma, *rest]


def only_names(item: list[Token], *, kind: bool) -> bool:
    """Does the list item start with guests' names (``- pihole``, ``- a-1, 2 cores``)
    and, for a heading that names a kind (``kind``), say no kind of its own?"""
    c = Cursor(item)
    try:
        if not (is_nameish(c.tok()) and read_names(c, first_literal=False)):
            return False
    except SentenceError:
        return False
    return not (kind and any(t.low in KIND_WORDS for t in item[c.i:]))


def heading_names(text: str, line: int) -> list[str] | None:
    """The guests a heading names (``## db-1``, ``### web-1 and web-2``), else None."""
    try:
        tokens = tokenize(text, first_line=line)
        c = Cursor(tokens)
        names = read_names(c, first_literal=False) if is_nameish(c.tok()) else []
    except SentenceError:
        return None
    return names if names and c.done() else None
