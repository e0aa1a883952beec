"""Text that declares no guest is refused, never read as one and never dropped silently.

The grammar was tuned on notes that all meant to declare guests; these checks keep it
sound on text that does not (issue 13, "0 silently wrong" and "no word is ever silently
ignored"):

- :func:`check_stated`: a clause whose subject is a plain word (``banana``, ``faster``
  in ``Make the VMs faster``, ``notes`` in ``Add notes``) and that states nothing about
  it is no evidence of a guest, so it is refused with a hint (``banana is a VM``). A
  hostname-looking name (a letter and a digit or hyphen: ``web-1``, ``pihole-2``) alone
  stays a terse inventory line; a name introduced as one (``a VM named banana``), a
  statement (``banana is a VM``) or a lead-in's list (``Get rid of these:``) is kept.
- :func:`nothing_declared`: a file that declares no guest but whose sentences were
  dropped (asides, chatter, titles) is refused, quoting them, unless every dropped
  sentence is a greeting, a closing or an acknowledgement of :data:`COURTESY_PHRASES`
  (``Hi all,``, ``Thanks!``, ``Best regards, Sam``, ``ok``).
- :func:`lone_title`: a one-line title (``Buy milk``) labels what follows it; with
  nothing under it, it labels nothing and is refused.

Pure: no I/O.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.framing import GREETINGS
from mycopod.declarations.grammar.openers import SIGN_OFFS
from mycopod.declarations.grammar.subjects import Subject
from mycopod.declarations.grammar.tokens import SentenceError, Token, sentence_text, tokenize

__all__ = ["COURTESY_PHRASES", "INDEFINITES", "check_stated", "is_courtesy", "lone_title",
           "nothing_declared"]

_HELLOS = ("hi", "hello", "hey", "yo", "heya", "hiya", "howdy", "greetings", "dear")
_ADDRESSEES = ("team", "all", "folks", "guys", "everyone", "there", "y'all")
#: the whole of a sentence that may be dropped from a file that declares no guest: a
#: greeting, a closing or an acknowledgement (punctuation aside), and nothing else
COURTESY_PHRASES: frozenset[tuple[str, ...]] = frozenset({
    *((w,) for w in _HELLOS), *((w, who) for w in _HELLOS for who in _ADDRESSEES),
    *((w,) for w in GREETINGS),
    ("good", "morning"), ("good", "afternoon"), ("good", "evening"), ("morning",),
    ("thanks",), ("thank", "you"), ("thx",), ("ty",), ("cheers",), ("many", "thanks"),
    ("thanks", "a", "lot"), ("thank", "you", "very", "much"), ("thanks", "in", "advance"),
    ("regards",), ("best", "regards"), ("kind", "regards"), ("best",), ("best", "wishes"),
    ("br",), ("bye",), ("goodbye",),
    ("ok",), ("okay",), ("alright",),
})
_PUNCT = frozenset({",", ".", "!", "?", ":", ";", "-", "--", "\u2013", "\u2014", "...", "\u2026"})
#: a name that looks like a host's: a letter, and a digit or a hyphen
_HOSTNAME_RE = re.compile(r"^(?=.*[a-z])(?=.*[0-9-])[a-z0-9][a-z0-9.-]*$")
#: words that stand for no one guest: never read as a guest's name ("Delete everything")
INDEFINITES = frozenset({"everything", "anything", "something", "nothing", "everyone",
                         "anyone", "someone", "nobody", "all", "none", "whatever", "stuff",
                         "things", "everybody", "anybody", "somebody"})
#: dropped sentences quoted in the error, at most
_SHOWN = 3


def is_courtesy(text: str) -> bool:
    """Is ``text`` one greeting, closing or acknowledgement of :data:`COURTESY_PHRASES`, or
    a sign-off with a name (``Thanks, Alex``)?"""
    try:
        tokens = tokenize(text)
    except SentenceError:
        return False
    words = tuple(t.low for t in tokens if t.low not in _PUNCT and not t.quoted)
    if not words or any(t.quoted for t in tokens):
        return False
    if words in COURTESY_PHRASES:
        return True
    k = 0
    while k < len(words) and words[k] in SIGN_OFFS:
        k += 1
    named = [t for t in tokens if t.low not in _PUNCT][k:]
    return 0 < k and len(named) <= 3 and all(
        t.text[:1].isupper() and t.text.isalpha() for t in named)  # "Thanks, Alex"


def _hint(name: str) -> str:
    if name.isalpha():
        return (f"{name!r} is a word, not a guest's name, unless a statement says so; to "
                f"declare a guest named {name}, write '{name} is a VM' (or '... a container')")
    return (f"{name!r} has no letter, so it is no guest's name; write a name with a letter "
            "and what it is, like 'web-1 is a VM'")


def check_stated(clauses: list[tuple[Subject, bool]], tokens: list[Token], *,
                 listed: bool = False) -> None:
    """Refuse a clause about a plain-word name that states nothing of it, and any clause
    whose "name" is a word that stands for no one guest (``Delete everything``).

    ``clauses``: each clause's subject and whether the clause states anything (a kind,
    a setting, a state); ``listed``: the sentence is an item of a lead-in's list, whose
    names are guests' by the lead-in. Raises SentenceError quoting the sentence.
    """
    for subject, stated in clauses:
        if not (listed or stated or (subject.introduced and not subject.bare)
                or subject.pronoun or not subject.names
                or any(_HOSTNAME_RE.match(name) for name in subject.names)):
            raise SentenceError(
                tokens[0].line, f"\"{sentence_text(tokens)}\" states nothing about a guest: "
                f"{_hint(subject.names[0])}")
        for name in subject.names:
            if name in INDEFINITES:
                raise SentenceError(
                    tokens[0].line, f"\"{sentence_text(tokens)}\": {name!r} stands for no "
                    "guest by name; write each guest's name, like 'Delete web-1 and web-2'")


def nothing_declared(dropped: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The problems of a file that declares no guest, given the sentences it dropped."""
    unread = [(line, text) for line, text in dropped if not is_courtesy(text)]
    out: list[tuple[int, str]] = []
    for line, text in unread[:_SHOWN]:
        out.append((line, f"\"{text}\" declares no guest, and nothing else in this file "
                          "does; expected a declaration such as 'web-1 is a VM with 2 cores' "
                          "(a file of notes only is refused, so none is lost silently)"))
    if len(unread) > _SHOWN:
        line = unread[_SHOWN][0]
        out.append((line, f"and {len(unread) - _SHOWN} more sentences that declare no guest"))
    return out


def lone_title(text: str) -> str:
    """The message for a one-line title that has nothing under it to label."""
    return (f"\"{text}\" reads as a title, but nothing follows it to label; expected a "
            "declaration such as 'web-1 is a VM with 2 cores' (or make it a Markdown "
            "heading, '# ...', if it is one)")
