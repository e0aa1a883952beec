"""Structure markers before a statement, dropped by their shape: numbers, keys, boxes.

Statements of work, lab sheets, commit logs, checklists, tickets and minutes put a
marker of their structure before the statement: ``3.2 Deliverables.``, ``3.4 The legacy
server ...``, ``Step 1. Create ...``, ``Task 8 — Make ...``, ``Scope item 4: ...``,
``feat(infra): add ...``, ``chore: remove ...``, ``[ ] delete ...``, ``[x] ...``,
``OPS-418: Decommission ...``, ``OPS-420 – Create ...``, ``Action (AM): tag ...``.
A number there is the document's numbering, never a count of guests.
:func:`marker_end` says where such a marker ends, and only for these shapes:

- a **section number** (``3.2``, ``3.2.1``, or a whole number) before a capitalised word
  that is not a word of the grammar (``The``, ``Deliverables``: never ``3 VMs`` or
  ``1.5 GB``), or a dotted one before a verb of :data:`SECTION_VERBS` (``7.1.2 Create
  ...``); a section number then at most :data:`MAX_TITLE_WORDS` capitalised plain
  words as a whole sentence (``3.2 Deliverables.``) is a title, dropped whole;
- a **numbered label**: at most two capitalised plain words then one of
  :data:`LABEL_NOUNS` (``Step``, ``Scope item``, ``Task``) then a number, then ``:``, a
  dash, or the end of the sentence (``Step 1.`` is a sentence of its own, dropped whole);
  ``Action (AM):``: a word of :data:`LABEL_NOUNS` then initials in parentheses then ``:``;
- a **commit type** of :data:`COMMIT_TYPES` with an optional scope in parentheses and
  an optional ``!``, then ``:`` (``feat(infra):``, ``chore:``, ``fix!:``);
- a **check box** ``[ ]``, ``[x]`` (checked or not, the item states what should be);
- a **thread number** ``1/``, ``9/9``, ``2/5`` (a post of a numbered social-media thread);
- a **card status** of :data:`STATUSES` in capitals (``TODO``, ``DOING -``, ``DONE?``,
  ``WIP:``): where a card is on a board, never the guest's state (lower case is a word);
- a **ticket key**: upper-case letters, a hyphen and a number (``OPS-418``: upper case,
  so never a guest's name), then ``:``, a dash, or nothing.

Except for a whole-sentence title, what follows must name a guest of its own
(:func:`.wrapping.names_a_guest`'s shapes), so a marker over bare settings is refused
rather than give the settings to another guest. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.prefaces import plain_word
from mycopod.declarations.grammar.tokens import Token

__all__ = ["COMMIT_TYPES", "LABEL_NOUNS", "MAX_TITLE_WORDS", "SECTION_VERBS", "STATUSES",
           "marker_end"]

MAX_TITLE_WORDS = 3
#: nouns that number a document's parts ("Step 1", "Scope item 4", "Action (AM)")
LABEL_NOUNS = frozenset({"step", "item", "task", "section", "part", "phase", "stage",
                         "point", "lab", "exercise", "question", "chapter", "appendix",
                         "milestone", "action", "deliverable", "requirement", "change",
                         "story", "subtask", "todo", "entry"})
#: verbs a dotted section number may come before ("7.1.2 Create a VM ...")
SECTION_VERBS = frozenset({"create", "provision", "deploy", "add", "delete", "remove",
                           "decommission", "set", "make", "give", "stop", "start", "shut",
                           "move", "tag", "put", "configure", "resize", "clone"})
#: conventional-commit types ("feat(infra): add ...")
COMMIT_TYPES = frozenset({"feat", "feature", "fix", "chore", "refactor", "build", "ci",
                          "ops", "perf", "docs", "style", "test", "revert", "infra"})
_SECTION_RE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){0,3}\.?$")
_NUMBER_RE = re.compile(r"^#?\d{1,4}[a-z]?$")
_COMMIT_RE = re.compile(r"^([a-z]+)(\([a-z0-9_./-]*)?(!)?$")
_TICKET_RE = re.compile(r"^[A-Z][A-Z0-9]{1,9}-\d{1,6}$")
_INITIALS_RE = re.compile(r"^[A-Z]{1,4}$")
#: a board card's column, written in capitals before the card ("DOING - loki: ...")
STATUSES = frozenset({"TODO", "DOING", "DONE", "WIP", "BACKLOG", "BLOCKED", "REVIEW", "NEXT"})
_THREAD_RE = re.compile(r"^\d{1,2}/(?:\d{1,2})?$")
_BOXES = frozenset({"[x]", "[X]", "[]", "[ ]"})
_DASHES = frozenset({"-", "--", "\u2013", "\u2014"})


def _title_word(t: Token) -> bool:
    """A capitalised word that is no word of the grammar (``Deliverables``, ``The``)."""
    return not t.quoted and t.text[:1].isupper() and (plain_word(t) or t.low in ("the", "a"))


def _section(tokens: list[Token], i: int) -> int:
    """``3.2`` before ``The ...`` / ``Deliverables``: where the section number ends."""
    if not _SECTION_RE.match(tokens[i].text) or i + 1 >= len(tokens):
        return i
    j = i + 1
    if tokens[j].low in (".", ")"):
        j += 1
    if j < len(tokens) and "." in tokens[i].text.rstrip(".") and tokens[j].text == tokens[
            j].low.capitalize() and tokens[j].low in SECTION_VERBS:
        return j  # "7.1.2 Create a VM ...": a dotted number is never a count
    if j >= len(tokens) or not _title_word(tokens[j]):
        return i
    k = j
    while k < len(tokens) and k - j < MAX_TITLE_WORDS and _title_word(tokens[k]):
        k += 1
    return len(tokens) if k == len(tokens) else j  # "3.2 Deliverables." is a title


def _numbered(tokens: list[Token], i: int) -> int:
    """``Step 1``, ``Scope item 4:``, ``Task 8 —``, ``Action (AM):``: where it ends."""
    if not tokens[i].text[:1].isupper():
        return i
    j = i
    while j < len(tokens) and j - i < 3 and not tokens[j].quoted and (
            tokens[j].low in LABEL_NOUNS or plain_word(tokens[j])):
        j += 1
    if tokens[j - 1].low not in LABEL_NOUNS or tokens[j - 1].quoted:
        return i
    if j + 3 < len(tokens) and tokens[j].low == "(" and _INITIALS_RE.match(
            tokens[j + 1].text) and tokens[j + 2].low == ")" and tokens[j + 3].low == ":":
        return j + 4  # "Action (AM):"
    if j >= len(tokens) or not _NUMBER_RE.match(tokens[j].low):
        return i
    j += 1
    if j == len(tokens):
        return j  # "Step 1." on its own
    return j + 1 if tokens[j].low in _DASHES or tokens[j].low == ":" else i


def _commit(tokens: list[Token], i: int) -> int:
    """``feat(infra):``, ``chore:``, ``fix!:``: where the commit type ends."""
    m = _COMMIT_RE.match(tokens[i].low)
    if m is None or m.group(1) not in COMMIT_TYPES:
        return i
    j = i + 1
    if m.group(2) is not None:  # "feat(infra" then ")"
        if j >= len(tokens) or tokens[j].low != ")":
            return i
        j += 1
    if j < len(tokens) and tokens[j].low == "!":
        j += 1
    return j + 1 if j < len(tokens) and tokens[j].low == ":" else i


def _box_or_key(tokens: list[Token], i: int) -> int:
    """``[ ]``, ``[x]``, ``OPS-418:``, ``OPS-420 –``: where the box or key ends."""
    t = tokens[i]
    if t.text in _BOXES or _THREAD_RE.match(t.text):
        return i + 1
    if t.text in STATUSES:
        j = i + 1
        return j + 1 if j < len(tokens) and tokens[j].low in (":", "?", "-", "\u2013") else j
    if t.text == "[" and i + 1 < len(tokens) and tokens[i + 1].text in ("]", "x]", "X]"):
        return i + 2
    if _TICKET_RE.match(t.text):
        j = i + 1
        return j + 1 if j < len(tokens) and (tokens[j].low == ":" or tokens[
            j].low in _DASHES) else j
    return i


def marker_end(tokens: list[Token], i: int) -> tuple[int, bool]:
    """Where a structure marker at ``i`` ends (``i`` when there is none) and whether it
    must be followed by a guest of its own (False for a whole-sentence title)."""
    if i >= len(tokens) or tokens[i].quoted:
        return i, False
    for find in (_box_or_key, _commit, _numbered, _section):
        end = find(tokens, i)
        if end > i:
            return end, end < len(tokens)
    return i, False
