"""Courtesy around a sentence: openers before it and thanks after it, on explicit lists.

People open a request the way they would open a message to a colleague: ``Please``,
``Kindly``, ``Could you (please)``, ``Can you``, ``hey``, ``pls``, ``Honestly``, ``So``,
``Also``, ``Finally``, ``Time to``, ``Request to``, ``Request:``, ``Ticket 1234:``,
``Step 3:``, ``PSA:``, ``2024-05-20:`` (:mod:`.labels`), ``For customer X:`` (up to
four words without digits, then a colon and a new guest:
``new``, ``a``, ``create`` ...; or, without the colon, words that say nothing
(:func:`.prefaces.plain_word`) and then ``I'd like a``, ``we need two`` ...); and close
it with ``thanks`` or a ``?``. None of it says anything about a guest, so
:func:`strip_courtesy` removes it before the sentence is read, and only what is listed
here: an opener is one of ``PHRASE_OPENERS``, one of ``OPENERS`` (optionally followed by
``,`` ``:`` or a dash), one of ``QUESTION_OPENERS`` (which also allow the ``?`` at the
end), or a ticket label (a word of ``LABELS``, optionally a ticket number or id, then
``:``); a closer is one of ``CLOSERS`` at the end, optionally after a comma. ``Can I
get`` / ``need a`` open a request for a new guest and are creation prefixes
(:data:`.lexicon.CREATE_PREFIXES`), not courtesy.

A capitalised English word that is none of these stays where it is, and the subject
reader says it is no guest name (:func:`.names.check_name`). Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.asking import reframe
from mycopod.declarations.grammar.changelog import shorthand
from mycopod.declarations.grammar.closings import problem_report, sign_off, unwrap
from mycopod.declarations.grammar.politeness import TRAILING
from mycopod.declarations.grammar.prefaces import plain_word, strip_preface
from mycopod.declarations.grammar.reports import report_to_imperative
from mycopod.declarations.grammar.tokens import Token
from mycopod.declarations.grammar.wrapping import wrapping_end

__all__ = ["CLOSERS", "LABELS", "OPENERS", "PHRASE_OPENERS", "QUESTION_OPENERS",
           "strip_courtesy"]

#: single words that open a sentence and mean nothing for the spec
OPENERS = frozenset({
    "please", "pls", "plz", "kindly", "hey", "hi", "hello", "ok", "okay", "alright",
    "so", "honestly", "basically", "anyway", "anyways", "also", "finally", "lastly",
    "additionally", "then", "next", "btw", "fyi", "oh", "well", "and",
    # greetings and hesitations of chat messages ("yo, ci-cache container -> 8 GB")
    "yo", "heya", "hiya", "howdy", "morning", "um", "uh", "umm", "hmm", "sorry",
    # "Just shut down x", "Help! ..."
    "just", "help",
})
#: words that open a request as a question ("Could you ..."); the "?" at its end is allowed
QUESTION_OPENERS: tuple[tuple[str, ...], ...] = tuple(
    (modal, who) for modal in ("could", "can", "would", "will") for who in ("you", "u"))
#: word sequences that open an imperative ("Time to decommission x", "Request to delete y")
PHRASE_OPENERS: tuple[tuple[str, ...], ...] = (
    ("time", "to"), ("it", "is", "time", "to"), ("request", "to"), ("requesting", "to"),
    ("go", "ahead", "and"), ("i", "need", "you", "to"), ("we", "need", "you", "to"),
    ("let's",), ("let", "us"), ("the", "plan", "is"), ("the", "idea", "is"), ("i", "think"))
#: ticket labels: "Request:", "Ticket 1234:", "TODO:", "JIRA OPS-12:"
LABELS = frozenset({"request", "ticket", "task", "todo", "note", "req", "issue", "change",
                    "jira", "story", "job", "item", "update"})
#: words that close a sentence and mean nothing for the spec
CLOSERS: tuple[tuple[str, ...], ...] = (
    ("thank", "you"), ("thanks",), ("thx",), ("ty",), ("cheers",), ("please",), ("pls",),
    ("plz",), ("thanks", "a", "lot"), ("many", "thanks"), ("thank", "you", "very", "much"),
    *TRAILING)  # "..., if possible" (.politeness)

#: a request that starts with one of these is a question ("Can I get a VM ...?")
_MODALS = frozenset({"could", "can", "would", "will", "may"})
#: what follows "For customer X:" for it to be an opener: a new guest
_NEW_GUEST = frozenset({"new", "a", "an", "create", "add", "please", "we", "i"})
_GREETINGS = frozenset({"hey", "hi", "hello"})
#: whom a greeting addresses ("Hey team,", "Hi all,")
_ADDRESSED = frozenset({"team", "all", "folks", "guys", "everyone", "there", "y'all"})
_PHRASE_FIRST = frozenset(words[0] for words in PHRASE_OPENERS)
_CLOSER_ENDS = frozenset(words[-1] for words in CLOSERS)
_TICKET_RE = re.compile(r"^#?[a-z0-9][a-z0-9_\-]*$")
_PUNCT = frozenset({",", ":", "-", "--", "\u2013", "\u2014"})


#: how a request for a new guest goes on after "For the kids' server" (no colon)
_ASKS: tuple[tuple[str, ...], ...] = (("i", "would", "like"), ("i", "want"), ("we", "need"),
                                      ("i", "need"), ("we", "want"), ("we", "would", "like"),
                                      ("we", "require"), ("i", "require"))
_NEW_GUEST_RE = re.compile(r"^(a|an|two|three|four|\d+)$")


def _asks_at(tokens: list[Token], j: int) -> int:
    """The length of the request words (``I'd like``) at ``j``, 0 when there are none."""
    for words in _ASKS:
        if tuple(t.low for t in tokens[j:j + len(words)]) == words:
            return len(words)
    return 0


def _opener(tokens: list[Token], i: int) -> tuple[int, bool]:
    """Where the opener at ``i`` ends (``i`` when there is none) and whether it asks."""
    w = tokens[i].low if i < len(tokens) else ""
    if tokens[i].quoted if i < len(tokens) else True:
        return i, False
    for words in QUESTION_OPENERS if w in _MODALS else ():
        if tuple(t.low for t in tokens[i:i + len(words)]) == words:
            return i + len(words), True
    for words in PHRASE_OPENERS if w in _PHRASE_FIRST else ():
        if tuple(t.low for t in tokens[i:i + len(words)]) == words and not any(
                t.quoted for t in tokens[i:i + len(words)]):
            return i + len(words), False
    if w in OPENERS:
        if w in _GREETINGS and i + 1 < len(tokens) and tokens[i + 1].low in _ADDRESSED:
            return i + 2, False  # "Hey team,"
        return i + 1, False
    if w == "for" and i == 0:
        # "For customer X: new container x-web": whom it is for, before a new guest
        j = i + 1
        while j < len(tokens) and j - i <= 4 and tokens[j].low not in (":", ",") and (
                not tokens[j].quoted and tokens[j].text.replace("-", "").replace(
                    "'", "").isalpha()) and _asks_at(tokens, j) == 0:
            j += 1
        if j > i + 1 and j + 1 < len(tokens) and tokens[j].low == ":" and tokens[
                j + 1].low in _NEW_GUEST:
            return j + 1, False
        if j > i + 1 and _asks_at(tokens, j) and all(
                plain_word(t) for t in tokens[i + 1:j]) and _NEW_GUEST_RE.match(
                tokens[j + _asks_at(tokens, j)].low if j + _asks_at(tokens, j) < len(
                    tokens) else ""):
            return j, False  # "For the kids' minecraft server I'd like a VM named ..."
    if w in LABELS:
        j = i + 1
        if j < len(tokens) and tokens[j].low != ":" and _TICKET_RE.match(tokens[j].low):
            j += 1
        if j < len(tokens) and tokens[j].low == ":":
            return j + 1, False
    return wrapping_end(tokens, i)  # "Step 3:", "Update from tech:", "Dear team," ...


#: words that open a sign-off ("Thanks, Alex", "Cheers", "Best regards, Sam")
SIGN_OFFS = frozenset({"thanks", "thx", "cheers", "regards", "best", "br", "kind", "many",
                       "thank", "you"})


def _sign_off(tokens: list[Token]) -> bool:
    """``Thanks, Alex``: sign-off words, then at most three capitalised words."""
    k = 0
    while k < len(tokens) and tokens[k].low in SIGN_OFFS and not tokens[k].quoted:
        k += 1
    if k == 0:
        return False
    rest = [t for t in tokens[k:] if t.low not in (",", "-", "--")]
    return len(rest) <= 3 and all(
        not t.quoted and t.text[:1].isupper() and t.text.isalpha() for t in rest)


def strip_courtesy(tokens: list[Token]) -> list[Token]:
    """``tokens`` without the openers before the sentence and the closers after it.

    A sentence that is only a closer (``Thanks.``), a sign-off (``Thanks, Alex``) or
    openers (``Hi!``) comes back empty; anything else keeps
    at least its words after the openers.
    """
    if _sign_off(tokens) or problem_report(tokens):
        return []
    i = 0
    asked = False
    while True:
        end, asks = _opener(tokens, i)
        if end == i:
            break
        asked = asked or asks
        while end < len(tokens) and tokens[end].low in _PUNCT:
            end += 1
        if end >= len(tokens):
            return []  # "Hi!", "Please.": courtesy only
        i = end
    out = shorthand(report_to_imperative(reframe(strip_preface(unwrap(tokens[i:])))))
    for words in CLOSERS if out and out[-1].low in _CLOSER_ENDS else ():
        n = len(words)
        if tuple(t.low for t in out) == words:
            return []  # "thx." on its own
        if len(out) > n and tuple(t.low for t in out[-n:]) == words and not any(
                t.quoted for t in out[-n:]):
            out = out[:-n]
            if len(out) > 1 and out[-1].low == ",":
                out = out[:-1]
            break
    if out and len(out) < len(tokens) - i and sign_off(out):
        return []  # "That's all, thanks."
    asked = asked or (bool(out) and out[0].low in _MODALS)
    if asked and len(out) > 1 and out[-1].low == "?":  # "Could you ...? Thanks!"
        out = out[:-1]
    return out
