"""What closes a message or a statement: sign-offs, chatter, questions, by shape.

E-mails and chat messages end the way people end them: ``Thank you very much.``,
``Thanks in advance``, ``Best regards, Giovanni``, ``Greetings from Lyon``, ``- Partner
office``; chat adds ``lol`` and ``asap``; forum posts ask ``What am I doing wrong?`` and
describe a problem (``Problem: slow web UI.``, ``..., it fails with an error.``).
None of it says anything about a guest, and :func:`unwrap` removes it before the
sentence is read (:func:`.openers.strip_courtesy` calls it first), only these shapes:

- a **sign-off** (the whole sentence): a phrase of :data:`SIGN_OFF_PHRASES`, then
  optionally a comma and at most three capitalised words (a name: ``Regards, Ana``);
  ``Greetings from`` and capitalised words; a dash and one to three words, the first
  capitalised (``- Partner office``);
- **chatter** (the whole sentence): it opens with a word of :data:`CHATTER_OPENERS`
  (``Nobody touches it, it just works.``, ``Goodbye old friend.``) and is plain (below);
- a **question** (the whole sentence, ending in ``?``): it opens with a word of
  :data:`QUESTION_WORDS` (``What am I doing wrong?``) and is plain;
- a **problem report** (the whole sentence): ``Problem:``, ``Issue:``, ``Symptom:`` and
  plain words (``Problem: slow web UI.``);
- at the end of a sentence, a record in parentheses: a word, ``:`` and plain words
  holding no state word (``(owner: Sam)``; never ``(fast ones)``, ``(maybe)``, ``(VM)``);
- at the end of a sentence, after a comma or nothing: a word of :data:`TRAILING_CHATTER`
  (``lol``, ``asap``), a chat emoji (``:tada:``), a ``now`` (not ``for now``, ``until
  now`` ...); after a comma: a plain clause that opens with ``it fails``
  (:data:`FAILURE_OPENERS`), a plain question that opens with ``is that`` / ``is it`` ...
  (:data:`TRAILING_QUESTIONS`) or a question word and ends in ``?``, politeness
  (:data:`POLITENESS`: ``if possible``, ``if that's okay``), a sign-off (``thanks in
  advance``, ``thanks, Bob``), and, only when the statement stops or deletes, a "not
  needed" reason (:data:`NOT_NEEDED`: ``we don't need it running``, ``done with it``;
  also without a comma right after a guest's name: ``... mc-1 we never play it anymore``);
- whole sentences of :data:`CHATTER_PHRASES` (``I'm new to Proxmox.``, ``data archived
  already``) and ``Let me know if you need more info.`` (its ``if`` is politeness).

"Plain" means: no number, no quoted text, no guest's name (a word with a digit or a
hyphen), no condition word (:data:`.wrapping.CONDITIONS`), no negation, and no word of
the grammar but function words (:data:`.idioms.REASON_WORDS`) and the words of
:data:`CHATTER_WORDS` (``just``, ``anymore``, ``small`` ...). Anything else stays and is
read, or refused with the words quoted. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.framing import SAYS
from mycopod.declarations.grammar.idioms import REASON_WORDS
from mycopod.declarations.grammar.lexicon import is_vocab
from mycopod.declarations.grammar.purposes import drop_leading_reason, drop_purpose
from mycopod.declarations.grammar.tokens import Token
from mycopod.declarations.grammar.wrapping import (
    CONDITIONS,
    STATE_WORDS,
    first_words,
    kind_after_name,
)

__all__ = [
    "CHATTER_OPENERS",
    "CHATTER_WORDS",
    "FAILURE_OPENERS",
    "NOT_NEEDED",
    "POLITENESS",
    "QUESTION_WORDS",
    "SIGN_OFF_PHRASES",
    "TRAILING_CHATTER",
    "TRAILING_QUESTIONS",
    "sign_off",
    "unwrap",
]

#: phrases that close a message ("Thank you very much", "Kind regards")
SIGN_OFF_PHRASES: tuple[tuple[str, ...], ...] = (*(
    (*thanks, *rest) for thanks in (("thanks",), ("thank", "you"), ("many", "thanks"))
    for rest in ((), ("very", "much"), ("so", "much"), ("a", "lot"), ("in", "advance"),
                 ("again",), ("for", "the", "help"), ("for", "your", "help"),
                 ("for", "the", "help", "everyone"), ("for", "your", "time"),
                 ("for", "your", "help", "everyone"), ("everyone",), ("all",),
                 ("in", "advance", "for", "your", "help"))),
    ("regards",), ("best", "regards"), ("kind", "regards"), ("warm", "regards"),
    ("best",), ("best", "wishes"), ("sincerely",), ("yours", "sincerely"), ("cheers",),
    ("bye",), ("goodbye",), ("have", "a", "nice", "day"), ("have", "a", "good", "day"),
    ("thanks", "and", "regards"), ("with", "kind", "regards"), ("with", "best", "regards"),
    *(("have", "a", good, when) for good in ("nice", "good", "great")
      for when in ("day", "weekend")), ("sent", "from", "my"), ("talk", "soon"),
    ("greetings",), ("closing", "ticket"), ("closing", "the", "ticket"), ("ticket", "closed"),
    *((*no, *that, last) for no in ((), ("no", ",")) for that in (("that's",), ("that", "is"))
      for last in ("it", "all")))  # "No, that's it." (the end of a chat)
#: a whole sentence of chatter opens with one of these ("Nobody touches it ...")
CHATTER_OPENERS = frozenset({"nobody", "goodbye", "bye", "rip", "lol", "haha", "yay",
                             "fingers", "wish", "works", "hopefully"})
#: a whole sentence of chatter may also open with one of these ("I'm new to Proxmox.")
CHATTER_PHRASES: tuple[tuple[str, ...], ...] = (
    ("i'm", "new"), ("i", "am", "new"), ("i", "hope"), ("hope", "this"), ("hope", "that"),
    ("fingers", "crossed"), ("i", "want", "to", "try"), ("i", "would", "like", "to", "try"),
    ("i", "wanted", "to", "try"), ("any", "help"), ("help", "appreciated"),
    *(("data", *verb) for verb in (
        ("archived",), ("is", "archived"), ("backed", "up"), ("is", "backed", "up"),
        ("saved",), ("is", "saved"), ("copied",), ("is", "copied"), ("exported",))))
#: politeness at the end of a request, after a comma ("..., if that's okay?"): a fixed
#: phrase, never a condition
POLITENESS: tuple[tuple[str, ...], ...] = (
    ("if", "possible"), ("if", "you", "can"), ("if", "you", "could"),
    ("if", "you", "do", "not", "mind"), ("when", "you", "get", "a", "chance"),
    ("when", "you", "have", "time"), ("when", "you", "have", "a", "moment"),
    ("whenever", "you", "can"), ("when", "possible"), ("as", "soon", "as", "possible"), *(
        ("if", *that, ok) for that in (("that", "is"), ("that's",), ("it", "is"), ("it's",))
        for ok in ("ok", "okay", "fine", "alright", "possible")))
#: a whole question opens with one of these ("What am I doing wrong?")
QUESTION_WORDS = frozenset({"what", "why", "how", "any", "anyone", "ideas", "thoughts"})
#: words of the grammar chatter may hold (it states nothing there)
CHATTER_WORDS = frozenset({"just", "anymore", "small", "big", "large", "enough", "much",
                           "ok", "okay", "everyone", "help", "someone", "am", "already"})
#: words that end a sentence as chatter ("... asap", "..., lol")
TRAILING_CHATTER = frozenset({"lol", "lmao", "haha", "asap", "tia", "thx", "ty", "pls",
                              "plz", ":)", ":-)", ";)", ":d"})
#: a trailing clause that reports a failure ("..., it fails with an error.")
FAILURE_OPENERS: tuple[tuple[str, ...], ...] = (
    ("it", "fails"), ("it", "failed"), ("but", "it", "fails"), ("and", "it", "fails"),
    ("but", "it", "failed"), ("it", "errors"), ("it", "crashes"), ("but", "it", "crashes"))
#: a trailing question ("..., is that too small for mosquitto?")
TRAILING_QUESTIONS: tuple[tuple[str, ...], ...] = tuple(
    (verb, who) for verb in ("is", "are", "was", "would", "will", "should", "does", "do")
    for who in ("that", "this", "it", "these", "those"))
_EMOJI_RE = re.compile(r"^:[a-z0-9_+\-]+$")
_PROBLEM_LABELS = frozenset({"problem", "issue", "symptom", "symptoms", "question"})
_SEPARATORS = frozenset({",", "-", "--", "\u2013", "\u2014"})
_PUNCTUATION = frozenset({",", ":", "-", "--", "\u2013", "\u2014", "!", "?", ";", "(", ")"})
_NEGATIONS = frozenset({"not", "no", "never", "without", "don't", "nothing", "none"})


def plain(tokens: list[Token]) -> bool:
    """Do ``tokens`` state nothing the grammar could read (see the module's docstring)?"""
    for t in tokens:
        w = t.low
        if w in _PUNCTUATION and not t.quoted:
            continue
        if t.quoted or any(c.isdigit() for c in w) or "-" in w.strip("-"):
            return False
        if w in CONDITIONS or w in _NEGATIONS:
            return False
        if is_vocab(w) and w not in REASON_WORDS and w not in CHATTER_WORDS:
            return False
    return True


def _starts(tokens: list[Token], phrases: tuple[tuple[str, ...], ...]) -> int:
    """The length of the longest phrase of ``phrases`` ``tokens`` open with, else 0."""
    if not tokens or tokens[0].low not in first_words(phrases):
        return 0  # the common case, without a look at each phrase
    best = 0
    for words in phrases:
        if words[0] != tokens[0].low or len(words) <= best:
            continue
        if tuple(t.low for t in tokens[:len(words)]) == words and not any(
                t.quoted for t in tokens[:len(words)]):
            best = len(words)
    return best


def _name_words(tokens: list[Token]) -> bool:
    """At most three capitalised words (a name: ``Margaret``, ``Partner office``)."""
    return len(tokens) <= 3 and all(
        not t.quoted and t.text.isalpha() and (t.text[:1].isupper() or k) and not is_vocab(t.low)
        for k, t in enumerate(tokens))


def sign_off(tokens: list[Token]) -> bool:
    """Is the sentence ``tokens`` a sign-off (see the module's docstring)?"""
    if len(tokens) >= 2 and tokens[0].low in ("-", "--", "\u2013", "\u2014") and (
            _name_words(tokens[1:])):
        return True  # "- Partner office"
    n = _starts(tokens, SIGN_OFF_PHRASES)
    if not n:
        return False
    rest = tokens[n:]
    if rest and rest[0].low in (",", "!"):
        rest = rest[1:]
    if tokens[0].low in ("greetings", "sent") and rest and rest[0].low == "from":
        rest = rest[1:]  # "Greetings from Lyon"
    if tokens[0].low == "sent":
        return len(rest) <= 2 and plain(rest)  # "Sent from my iPhone"
    if rest and rest[0].low == "for" and plain(rest):
        return True  # "Thanks for any help!", "Thank you for your support"
    return not rest or (_name_words(rest) and rest[0].text[:1].isupper())


#: "Let me know if you need more info.": the words such an offer may hold (its "if" is
#: politeness, not a condition)
_OFFER_WORDS = frozenset({"if", "you", "need", "anything", "else", "more", "info",
                          "information", "details", "have", "any", "questions", "there",
                          "are", "problems", "issues", "further", "something", "is",
                          "unclear", "missing"})


def _whole(tokens: list[Token]) -> bool:
    """Is the sentence chatter, a question or a problem report as a whole?"""
    body = tokens[:-1] if tokens[-1].low in ("?", "!") else tokens
    if [t.low for t in body[:3]] == ["let", "me", "know"] and all(
            t.low in _OFFER_WORDS and not t.quoted for t in body[3:]):
        return True
    if not body or not plain(body[_starts(body, CHATTER_PHRASES):]):
        return False
    first = body[0].low
    if first in CHATTER_OPENERS:
        return True
    n = _starts(body, CHATTER_PHRASES)  # "data archived already": the phrase, then plain
    if n:
        return plain(body[n:])
    return first in QUESTION_WORDS and tokens[-1].low == "?"


def problem_report(tokens: list[Token]) -> bool:
    """``Problem: slow web UI.``, ``Issue: the web UI hangs.``: a problem label, then plain
    words (called before the openers, which would drop ``Issue:`` as a ticket label)."""
    return len(tokens) > 2 and tokens[0].low in _PROBLEM_LABELS and tokens[
        1].low == ":" and plain(tokens[2:])


#: "now" after one of these is part of a phrase ("for now", "until now"): kept
_NOW_PHRASES = frozenset({"for", "until", "till", "of", "from", "by", "since", "right", "named",
                          "called"})


def _now(tokens: list[Token], k: int) -> bool:
    """Is ``tokens[k]`` a ``now`` that only says "from now on" (at the end of the sentence
    or before a comma, and not in ``for now``, ``until now`` ...)? Dropped."""
    return (tokens[k].low == "now" and not tokens[k].quoted and k > 0
            and tokens[k - 1].low not in _NOW_PHRASES
            and (k + 1 == len(tokens) or tokens[k + 1].low in (",", "!", "?")))


def _aside(tokens: list[Token]) -> list[Token]:
    """``tokens`` without an aside in parentheses at their end that records who or what
    (``(owner: Sam)``, ``(status: waiting for review)``): a word, ``:``, then plain words
    and no state word (``(maybe)``); ``(fast ones)`` may qualify a setting: kept."""
    if len(tokens) < 4 or tokens[-1].low != ")" or tokens[-1].quoted:
        return tokens
    k = max(j for j, t in enumerate(tokens) if t.low == "(" and not t.quoted) if any(
        t.low == "(" and not t.quoted for t in tokens) else 0
    inside = tokens[k + 1:-1]
    if k < 2 or len(inside) < 3 or inside[1].low != ":" or any(
            t.low in ("(", ")") or t.low in STATE_WORDS for t in inside):
        return tokens
    return tokens[:k] if plain(inside) else tokens


def _trailing(tokens: list[Token]) -> list[Token]:
    """``tokens`` without the chatter, failure or question clause at their end."""
    out = _aside(tokens)
    while len(out) > 2 and out[-1].low == ":" and _EMOJI_RE.match(out[-2].low):
        out = out[:-2]  # ":tada:", ":pray:": a chat emoji
    out = [t for k, t in enumerate(out) if not _now(out, k)]
    while len(out) > 1 and out[-1].low in TRAILING_CHATTER and not out[-1].quoted:
        out = out[:-1]
        if len(out) > 1 and out[-1].low in (",", "!"):
            out = out[:-1]
    for k in range(len(out) - 2, 1, -1):  # "delete mc-creative we never play it anymore"
        if out[k].low in ("we", "i", "nobody") and "-" in out[k - 1].low and _not_needed(
                out[:k], out[k:]):
            return out[:k]
    seps = [k for k in range(len(out) - 2, 0, -1) if out[k].low in _SEPARATORS
            and not out[k].quoted][:2]
    if len(seps) == 2 and sign_off(out[seps[1] + 1:]):
        return out[:seps[1]]  # "..., thanks, Bob"
    for k in seps[:1]:
        rest = out[k + 1:]
        if _starts(rest, FAILURE_OPENERS) and plain(rest):
            return out[:k]
        if (_starts(rest, TRAILING_QUESTIONS) or rest[0].low in QUESTION_WORDS) and rest[
                -1].low == "?" and plain(rest[:-1]):
            return out[:k]
        if sign_off(rest):
            return out[:k]  # "..., thanks in advance", "..., thanks, Bob"
        n = _starts(rest, POLITENESS)
        if n and (len(rest) == n or (len(rest) == n + 1 and rest[-1].low in ("?", "!"))):
            return out[:k]
        if _not_needed(out[:k], rest):
            return out[:k]
    return out


#: a statement of one of these verbs may give "not needed" as its reason
_ENDS = frozenset({"stop", "shut", "off", "delete", "remove", "kill", "destroy", "nuke",
                   "decommission", "retire", "absent", "stopped", "deleted", "removed"})
#: "..., we don't need it running", "..., done with it", "... we never play it anymore"
NOT_NEEDED: tuple[tuple[str, ...], ...] = (
    *((who, "do", "not", "need", it) for who in ("we", "i") for it in ("it", "this", "them")),
    *(("done", "with", it) for it in ("it", "this", "them")),
    ("nobody", "uses", "it"), ("no", "one", "uses", "it"), ("not", "needed"),
    ("no", "longer", "needed"), ("we", "never"), ("i", "never"), ("nobody", "needs", "it"),
    *(("it", "is", *no, need) for no in (("not",), ("not", "more"), ("no", "longer"),
                                           ("not", "longer"))
      for need in ("needed", "required", "used", "using")))
_NOT_NEEDED_TAILS = frozenset({"running", "anymore", "any", "more", "now", "again"})


def _not_needed(statement: list[Token], rest: list[Token]) -> bool:
    """Is ``rest`` a "not needed" reason after a statement that stops or deletes?"""
    n = _starts(rest, NOT_NEEDED)
    if not n or not any(t.low in _ENDS for t in statement):
        return False
    tail = [t for t in rest[n:] if t.low not in _NOT_NEEDED_TAILS]
    return plain(tail) and not any(t.low in CONDITIONS for t in rest)


#: words a person's say-so may hold besides plain ones ("Mark asked me to put this here")
_SAID_WORDS = frozenset({"put", "me", "us", "here", "this", "approved", "okayed"})


def said_so(tokens: list[Token]) -> bool:
    """``Pastor Jim approved this.``, ``Dr. Patel asked me to put this here.``, ``Coach
    wants a replay box.``: who asked, as a whole sentence: at most three plain words, the
    first capitalised (a person), a verb of :data:`.framing.SAYS` or ``approved``, then
    plain words (and those of :data:`_SAID_WORDS`): it names no guest and states nothing."""
    j = 0
    while j < min(len(tokens), 3) and not tokens[j].quoted and tokens[j].text.isalpha() and (
            not is_vocab(tokens[j].low)) and tokens[j].low not in SAYS | {"approved"}:
        j += 1
    return 0 < j < len(tokens) and tokens[0].text[:1].isupper() and tokens[j].low in (
        SAYS | {"approved"}) and plain([t for t in tokens[j + 1:] if t.low not in _SAID_WORDS])


def unwrap(tokens: list[Token]) -> list[Token]:
    """``tokens`` without what closes them; empty when the whole sentence is a sign-off,
    chatter, a question or a problem report (see the module's docstring)."""
    if not tokens or sign_off(tokens) or _whole(tokens) or said_so(tokens):
        return []
    return kind_after_name(_trailing(drop_purpose(drop_leading_reason(tokens))))  # .purposes
