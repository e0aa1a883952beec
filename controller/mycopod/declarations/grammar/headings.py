"""What a Markdown heading means: a guest's name, a lead-in, a title, or an error.

A heading was once skipped as commentary, which silently lost its meaning: ``## Shut
these down`` over a list of names compiled to guests with nothing stated. A heading is
now read as one of:

- the name(s) of a guest (``## db-1``): the topic of the prose under it;
- a lead-in (``## Shut these down``, ``## Delete all of these``, ``# Make them 8
  cores``, or a lone verb such as ``## Decommission`` or ``## To remove``): it applies to
  the list under it exactly as the sentence ``Shut these down:`` would, and without a list
  under it it is an error quoting it (a paragraph under it that is a lead-in saying the
  same, ``Please get rid of these:``, takes its place);
- a setting (``## Tags``, ``## Power``, ``## Nodes``, :data:`SETTINGS`) over a list of
  ``- NAME: VALUE`` items: each item reads as ``NAME tagged VALUE``, ``NAME: stopped``;
- a place (``# Node pve1``, ``## Pool infra``, ``## VLAN 30``) or a kind (``##
  Containers``): it applies to the list items that start with names (for a kind, those
  that say no kind of their own), and prose under it is unchanged;
- a title (``## Web servers``, ``# Lab``, ``### Dev environment``, ``## dmz``): a label,
  nothing more. A title holds no number, no verb, no pronoun and no word of state;
- anything else (a number, a verb, a state, a pronoun, that is not a lead-in) would be a
  statement the grammar cannot apply to anything: an error that quotes the heading.

A leading section number (``## 2. Containers``) is part of the title's numbering, not a
number it states. Pure.
"""

from __future__ import annotations

from mycopod.declarations.grammar.leadins import LeadIn, heading_names, lead_in
from mycopod.declarations.grammar.lexicon import (
    CREATE_VERBS,
    GLUED_RE,
    IMPERATIVE_VERBS,
    KIND_WORDS,
    MULTIPLIERS,
    NUMBER_RE,
    PRONOUNS,
    ROLE_WORDS,
    SMALL_NUMBERS,
    SUBJECT_VERBS,
    TENS,
)
from mycopod.declarations.grammar.names import is_nameish
from mycopod.declarations.grammar.tokens import SentenceError, Token, sentence_text, tokenize
from mycopod.spec import NAME_RE

__all__ = ["is_title", "read_heading"]

#: words that make a heading a statement rather than a title
_STATE_WORDS = frozenset({
    "running", "stopped", "started", "deleted", "removed", "absent", "gone", "off", "down",
    "tagged", "powered", "shutdown", "halted", "cloned", "enabled", "disabled", "rid",
    "decommissioned", "retired", "needed", "nuke", "kill", "drop", "named", "called",
    "want", "wants", "would", "like", "please", "get",
    # attributes: "## Web servers on pve1", "## Lab VMs with 2 cores"
    "on", "with", "via", "labelled", "labeled",
})
_VERBS = (IMPERATIVE_VERBS | frozenset(CREATE_VERBS) | SUBJECT_VERBS | frozenset(
    {"decommission", "retire", "nuke", "drop", "kill", "shut", "turn", "switch"})) - {","}
_STATEMENT = _VERBS | _STATE_WORDS | PRONOUNS


def _numberish(low: str) -> bool:
    head = low.split("-", 1)[0]
    return (bool(NUMBER_RE.match(low)) or bool(GLUED_RE.match(low)) or low[:1].isdigit()
            or low in SMALL_NUMBERS or low in TENS or head in SMALL_NUMBERS or head in TENS
            or (head != low and head in MULTIPLIERS))


_POWER = {"on": "running", "off": "stopped", "up": "running", "down": "stopped",
          "running": "running", "stopped": "stopped", "started": "running"}
#: headings that name a setting, for a list of ``- NAME: VALUE`` items under them
#: (``## Tags`` / ``- web-1: prod, web``): the words each item's value is read after
SETTINGS: dict[str, tuple[tuple[str, ...], dict[str, str] | None]] = {
    **dict.fromkeys(("tags", "tag", "labels"), (("tagged",), None)),
    **dict.fromkeys(("power", "state", "status", "power state"), ((), _POWER)),
    **dict.fromkeys(("nodes", "node", "placement", "hosts"), (("on", "node"), None)),
    **dict.fromkeys(("pools", "pool"), (("in", "pool"), None)),
    **dict.fromkeys(("vlans", "vlan"), (("on", "vlan"), None)),
    **dict.fromkeys(("memory", "ram"), ((), None)),
    **dict.fromkeys(("descriptions", "description"), (("described", "as"), None)),
    **dict.fromkeys(("bridges", "bridge"), (("on", "bridge"), None)),
}


def _setting(text: str, line: int) -> LeadIn | None:
    found = SETTINGS.get(" ".join(text.lower().strip(" :").split()))
    if found is None:
        return None
    words, values = found
    after = [Token(w, w, line) for w in words]
    return LeadIn([], [], after, line, heading=text, values=values if values else {})


#: "# Node pve1" over a list of names: each is on node pve1
_PLACES = {"node": ("on", "node"), "pool": ("in", "pool"), "vlan": ("on", "vlan"),
           "bridge": ("on", "bridge"), "storage": ("on", "storage")}


def _guest_like(t: Token) -> bool:
    """A word that looks like a guest's name (``c-30``, ``web-1``), not a title's word."""
    return (is_nameish(t) and t.low not in ROLE_WORDS and "-" in t.low
            and any(ch.isdigit() for ch in t.low) and bool(NAME_RE.match(t.text)))


#: words after which a name or number is the title's subject ("# Node pve1", "# Pool
#: infra-2", "## VLAN 30", "## Rack 3"), not something it states
_LABELS = frozenset({"rack", "site", "room", "cluster", "zone", "customer",
                     "project", "team", "phase", "step", "part", "section", "week", "sprint"})


def is_title(text: str, line: int) -> bool:
    """A one-line paragraph that reads as a plain title (``Database server``): at most
    five plain words, no punctuation, no kind word, nothing a heading would state."""
    try:
        tokens = tokenize(text, first_line=line)
        if not tokens or len(tokens) > 5 or any(
                t.quoted or not t.text.isalpha() or t.low in KIND_WORDS for t in tokens):
            return False
        return read_heading(text, line) is None
    except SentenceError:
        return False


def read_heading(text: str, line: int) -> list[str] | LeadIn | None:
    """A heading's meaning: the guests it names, the lead-in it is, or None for a title.

    Raises SentenceError for a heading that states something it cannot apply.
    """
    names = heading_names(text, line)
    if names:
        return names
    try:
        tokens = tokenize(text, first_line=line)
    except SentenceError:
        return None  # an unclosed quote in a title: still only a label
    if len(tokens) >= 2 and NUMBER_RE.match(tokens[0].low) and tokens[1].low in (".", ")"):
        tokens = tokens[2:]  # "## 2. Containers": the section's number
    while tokens and tokens[-1].low in (".", ":", "!") and not tokens[-1].quoted:
        tokens = tokens[:-1]
    if not tokens:
        return None
    setting = _setting(sentence_text(tokens), line)
    if setting is not None:
        return setting
    colon = Token(":", ":", line)
    found = lead_in([*tokens, colon], heading=True)
    if found is None and len(tokens) == 2 and tokens[0].low == "to" and (
            tokens[1].low in _VERBS - SUBJECT_VERBS):
        tokens = tokens[1:]  # "## To remove": the verb of the list under it
    if found is None and len(tokens) == 1 and tokens[0].low in _VERBS:
        # "## Decommission": the verb of the list under it
        found = lead_in([*tokens, Token("these", "these", line), colon])
    if found is not None:
        found.heading = text
        return found
    if len(tokens) == 2 and tokens[0].low in _PLACES and not tokens[1].quoted:
        # "# Node pve1", "## Pool infra", "## VLAN 30": the place of the names below
        where = [Token(w, w, line) for w in _PLACES[tokens[0].low]]
        return LeadIn([], [], [*where, tokens[1]], line, heading=text, optional=True)
    if tokens[-1].low in KIND_WORDS and tokens[-1].low.endswith("s") and all(
            not t.quoted and t.text.isalpha() and t.low not in _STATEMENT for t in tokens):
        # "## Containers", "## LXC containers", "## Web VMs": the kind of the names below
        kind = tokens[-1]
        are = Token("are", "are", line)
        return LeadIn([], [], [are, kind], line, heading=text, optional=True)
    stated = [t for k, t in enumerate(tokens) if t.quoted or t.low in _STATEMENT or ((
        _numberish(t.low) or _guest_like(t)) and (k == 0 or tokens[k - 1].low not in _LABELS))]
    if stated:
        raise SentenceError(
            line, f"the heading \"{sentence_text(tokens)}\" states something "
            f"(\"{stated[0].text}\") that applies to no guest: a heading is a title (like "
            "'## Web servers'), a guest's name (like '## db-1'), or a lead-in for the list "
            "under it (like '## Shut these down'); write what it says as a sentence about "
            "the guests, or make it a plain title")
    return None
