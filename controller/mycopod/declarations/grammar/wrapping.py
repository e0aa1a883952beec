"""The wrapping before a statement: lead-ins, greetings and request phrases, by shape.

Tickets, e-mails, video notes and lab logs put words of their own before the statement:
``Ep. 42 build notes:``, ``Segment 2 -``, ``Update from tech:``, ``Re: Ticket #4471 -``,
``Lab log 14 Mar:``, ``Dear colleague,``, ``Good morning,``, ``as discussed``, ``I kindly
ask you to``, ``is it possible to``, ``I need that``. :func:`wrapping_end` says where such
words end; :func:`.openers.strip_courtesy` drops them, in a loop with its own openers, so
``Re: Ticket #4471 - Hi team, as discussed please create ...`` loses each in turn. Only
these shapes are dropped:

- a **lead-in**: the first word capitalised (a guest's name is lower case, so ``web-1: 4
  cores`` stays a record), then at most :data:`MAX_LEADIN_WORDS` words, then ``:`` or a
  dash (``-``, ``--``, ``–``, ``—``). Each word is a word the grammar gives no meaning to
  (:func:`.prefaces.plain_word`), one of :data:`LEADIN_WORDS` (nouns that say nothing
  about a guest there: ``update``, ``note``, ``data`` ...), a capitalised hyphenated word
  of letters (``B-roll``, ``Follow-up``), or a bare number not followed by a unit
  (``Segment 2``, ``Ticket #4471``, ``14 Mar``); lower case only with three words or
  more and no ``and``/``or``; one word only before ``:`` (a dash after one word may follow
  a storage's name: ``Tank - ...``); ``then`` (or ``, then``) also ends a lead-in
  (``Sponsor segment then create ...``). Never a condition word
  (:data:`CONDITIONS`), a word that states a state (:data:`STATE_WORDS`, any word ending
  in ``-ed``, an ``-ing`` form of a word of the grammar such as ``decommissioning``), a
  size, a guest's name, or quoted text. And what follows the separator must name a guest
  of its own (a lower-case name with a digit or a hyphen, or a name after ``called``,
  ``named`` or a kind word), so a lead-in over bare settings (``Jellyfin: 4 cores``) is
  refused rather than give the settings to another guest;
- a **description before the kind and name** (no determiner): ``MIS database VM mis-db:
  ...``, ``Cafeteria tills backend, VM till-backend, ...``, ``Print server (container)
  printsrv - ...`` (the kind in parentheses is kept and put after the name): the same
  words as a lead-in, at most :data:`MAX_DESCRIPTION_WORDS`, then an optional comma, then
  a kind word and a lower-case name, or ``is a KIND called|named NAME`` (``Matlab licence
  server is a VM called flexlm``); the phrases of :data:`LEADIN_PHRASES` (``one more
  thing:``);
- a **greeting**: ``Dear`` and one to three words then ``,`` (``Dear Sir/Madam,``);
  ``Good morning|afternoon|evening|day``; ``Greetings``; ``Team,`` (:data:`ADDRESSEES`);
  ``WORD here`` as a whole sentence (``Newbie here.``); a forum tag (``[SOLVED]``);
- an **attribution**: ``Per``, ``As per``, ``According to`` and at most three lead-in
  words, then ``,`` or ``:`` (``Per customer request,``);
- a **request phrase** of :data:`REQUEST_PHRASES` (``as discussed``, ``I kindly ask you
  to``, ``is it possible to`` ...); those of :data:`QUESTION_PHRASES` also allow the ``?``
  at the end (``is possible to stop the VM wms-test?``).

Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.framing import framing_end
from mycopod.declarations.grammar.labels import label_end, plainly_named
from mycopod.declarations.grammar.lexicon import KIND_WORDS, is_vocab
from mycopod.declarations.grammar.markers import marker_end
from mycopod.declarations.grammar.names import is_nameish
from mycopod.declarations.grammar.politeness import frame_end
from mycopod.declarations.grammar.prefaces import plain_word
from mycopod.declarations.grammar.reports import PAST_TENSE
from mycopod.declarations.grammar.tokens import Token

__all__ = [
    "ADDRESSEES",
    "ATTRIBUTIONS",
    "CONDITIONS",
    "LEADIN_WORDS",
    "MAX_DESCRIPTION_WORDS",
    "MAX_LEADIN_WORDS",
    "QUESTION_PHRASES",
    "REQUEST_PHRASES",
    "STATE_WORDS",
    "kind_after_name",
    "names_a_guest",
    "wrapping_end",
]

MAX_LEADIN_WORDS = 8
MAX_DESCRIPTION_WORDS = 4
#: words of the grammar a lead-in may hold: before a colon they say nothing about a guest
LEADIN_WORDS = frozenset({"update", "note", "notes", "config", "hardware", "data",
                          "server", "system", "card", "cut", "request", "zone", "build",
                          "ticket", "tickets", "todo",
                          "per", "from", "for", "the", "my", "our", "to", "of", "and",
                          "a", "an", "in", "with", "while", "i", "we", "new"})
#: a lead-in holding one of these states a condition: refused, never dropped
CONDITIONS = frozenset({"until", "unless", "if", "when", "whenever", "once", "during",
                        "before", "after", "till", "til"})
#: words that state a guest's state (a lead-in holding one is refused, never dropped)
STATE_WORDS = frozenset({"dead", "offline", "online", "obsolete", "deprecated", "unused",
                         "broken", "idle", "asleep", "spare", "gone", "legacy", "halted",
                         "frozen", "down", "up", "off", "on", "removal", "eol", "decom",
                         "tbd", "not", "maybe", "perhaps", "possibly", "probably",
                         "optional", "optionally", "tentative", "later", "someday",
                         "eventually", "future", "proposal", "idea", "ideas", "draft", "no",
                         "never", "stop", "delete", "remove", "keep"}) | frozenset(PAST_TENSE)
#: words of :data:`STATE_WORDS` and :data:`CONDITIONS` that also keep a label
#: (:mod:`.labels`) from being dropped ("Off: web-1 is a VM" is refused)
_STATES = (STATE_WORDS - frozenset(PAST_TENSE)) | CONDITIONS
#: a request phrase: dropped, the request follows ("as discussed please create ...")
REQUEST_PHRASES: tuple[tuple[str, ...], ...] = (
    ("as", "discussed"), ("as", "agreed"), ("as", "requested"), ("as", "promised"),
    ("as", "mentioned"), ("as", "per", "our", "call"), ("i", "kindly", "ask", "you", "to"),
    ("we", "kindly", "ask", "you", "to"), ("i", "ask", "you", "to"),
    ("i", "would", "ask", "you", "to"), ("i", "would", "like", "to", "ask", "you", "to"),
    ("i", "need", "that"), ("we", "need", "that"), ("i", "want", "that"),
    ("we", "want", "that"), ("i", "would", "like", "that"), ("i'm", "trying", "to"),
    ("i", "am", "trying", "to"), ("we're", "trying", "to"), ("we", "are", "trying", "to"),
    ("would", "you", "be", "so", "kind", "as", "to"), ("please", "be", "so", "kind", "and"),
    ("i", "would", "be", "grateful", "if", "you", "could"),
    ("we", "would", "be", "grateful", "if", "you", "could"),
    ("i", "would", "appreciate", "it", "if", "you", "could"),
    ("we", "would", "appreciate", "it", "if", "you", "could"),
    ("i", "am", "writing", "to", "ask", "you", "to"), ("i", "would", "like", "to", "request"),
    ("to", "whom", "it", "may", "concern"), ("be", "so", "kind", "as", "to"),
    ("be", "so", "kind", "and"))
#: a request asked as a question: its "?" at the end is allowed
QUESTION_PHRASES: tuple[tuple[str, ...], ...] = (
    ("is", "it", "possible", "to"), ("is", "possible", "to"), ("it", "is", "possible", "to"),
    ("would", "it", "be", "possible", "to"), *(
        (*ask, verb) for ask in (("is", "it", "possible", "to"), ("is", "possible", "to"))
        for verb in ("have", "get")), *(
        (modal, who) for modal in ("can", "could") for who in ("someone", "somebody", "anyone",
                                                                "anybody", "we")))
#: who a message is for, before a comma ("Team, the new build server ...")
ADDRESSEES = frozenset({"team", "all", "folks", "guys", "everyone", "colleagues", "people"})
#: an attribution before a comma or colon ("Per customer request,", "According to X:")
ATTRIBUTIONS: tuple[tuple[str, ...], ...] = (("per",), ("as", "per"), ("according", "to"))
#: a request for a new guest after "for ...": "Dear support, for the warehouse we need ..."
_ASKS = (("we", "need"), ("i", "need"), ("we", "want"), ("i", "want"), ("we", "would", "like"),
         ("i", "would", "like"), ("we", "require"), ("i", "require"))
_MONTHS = frozenset({"jan", "january", "feb", "february", "mar", "march", "apr", "april",
                     "may", "jun", "june", "jul", "july", "aug", "august", "sep", "sept",
                     "september", "oct", "october", "nov", "november", "dec", "december"})
_SLASHED_RE = re.compile(r"^[a-z]+(?:/[a-z]+)+$")
#: a forum tag: "[SOLVED]", "[help" before "?]" (plain letters only)
_TAG_RE = re.compile(r"^\[[a-z]+\]?$")
_GREETING_TIMES = frozenset({"morning", "afternoon", "evening", "day"})
_SEPARATORS = frozenset({":", "-", "--", "\u2013", "\u2014"})
_NUMBER_RE = re.compile(r"^#?\d{1,6}$")
_CAP_HYPHEN_RE = re.compile(r"^[A-Z][a-z]*(?:-[A-Za-z]+)+$")
_NAMED_BY = frozenset(KIND_WORDS) | {"called", "named", "name"}


def names_a_guest(rest: list[Token]) -> bool:
    """Does ``rest`` name a guest of its own (a lower-case name with a digit or a hyphen,
    a name after ``called``, ``named`` or a kind word, or ``NAME is a KIND``)?"""
    for k in range(len(rest)):
        plain = plainly_named(rest, k, _NAMED_BY)
        if plain is None:
            continue
        if plain:
            return True
        if [x.low for x in rest[k + 1:k + 3]] in (["is", "a"], ["is", "an"]) and k + 3 < len(
                rest) and rest[k + 3].low in KIND_WORDS:
            return True  # "homeassistant is a VM"
    return False


def _states(w: str) -> bool:
    """Does the word ``w`` state something about a guest in a lead-in?"""
    if w in CONDITIONS or w in STATE_WORDS or (w.endswith("ed") and not w.endswith("eed")
                                               and len(w) > 3):
        return True
    if w.endswith("ing") and len(w) > 5:
        stem = w[:-3]
        return any(is_vocab(s) for s in (stem, stem + "e", stem[:-1]))
    return False


def _leadin_word(tokens: list[Token], k: int) -> bool:
    """Is ``tokens[k]`` a word a lead-in may hold (see the module's docstring)?"""
    t = tokens[k]
    if t.quoted or _states(t.low):
        return False
    if _NUMBER_RE.match(t.low):  # "Segment 2", "Ticket #4471", "14 Mar": not a size
        nxt = tokens[k + 1].low if k + 1 < len(tokens) else ""
        return nxt in _SEPARATORS or nxt in _MONTHS or nxt in LEADIN_WORDS or (
            nxt.isalpha() and not is_vocab(nxt))
    if t.low == "may" and k and _NUMBER_RE.match(tokens[k - 1].low):
        return True  # "3 May"
    if t.low in ("(", ")"):
        return True  # "TODO (high priority):": its words are read like the others
    if _CAP_HYPHEN_RE.match(t.text):
        return True  # "B-roll", "Follow-up": capitalised, so never a guest's name
    if t.low == "one" and k and plain_word(tokens[k - 1]):
        return True  # "Quick one:": a pronoun
    return t.low in LEADIN_WORDS or plain_word(t)


def _leadin(tokens: list[Token], i: int) -> int:
    """Where a lead-in at ``i`` ends (after its separator); ``i`` when there is none."""
    if tokens[i].low == "while":
        return i
    j = i
    while j < len(tokens) and j - i < MAX_LEADIN_WORDS and _leadin_word(tokens, j):
        j += 1
    if not tokens[i].text[:1].isupper() and (j - i < 3 or any(
            t.low in ("and", "or") for t in tokens[i:j])):
        return i  # lower case: three words or more, never a list ("web and db:")
    if j - 1 > i and tokens[j - 1].low == "then":  # "Sponsor segment then create ..."
        return j if names_a_guest(tokens[j:]) else i
    if j > i and j + 1 < len(tokens) and tokens[j].low == "," and tokens[j + 1].low == "then":
        return j + 2 if names_a_guest(tokens[j + 2:]) else i  # "Show the dashboard, then"
    if j == i or j >= len(tokens) or tokens[j].low not in _SEPARATORS or tokens[j].quoted:
        return i
    if j == i + 1 and tokens[j].low != ":":
        return i  # "Tank - web-1 gets a 20 GB disk": one word before a dash may be a place
    if j + 1 < len(tokens) and tokens[j + 1].low in ("it", "it's"):
        return i  # "Game night: it is a VM named mc-2": a preface (.prefaces)
    return j + 1 if names_a_guest(tokens[j + 1:]) else i


def _description(tokens: list[Token], i: int) -> int:
    """Where a description before ``KIND NAME`` (or ``(KIND) NAME``) at ``i`` ends; ``i``
    when there is none."""
    if not tokens[i].text[:1].isupper():
        return i
    j = i
    while j < len(tokens) and j - i < MAX_DESCRIPTION_WORDS and tokens[
            j].low not in (*KIND_WORDS, "is", "(") and _leadin_word(tokens, j):
        j += 1
    if j == i or j + 1 >= len(tokens):
        return i
    if [t.low for t in tokens[j:j + 2]] in (["is", "a"], ["is", "an"]) and j + 4 < len(
            tokens) and tokens[j + 2].low in KIND_WORDS and tokens[j + 3].low in (
            "called", "named") and is_nameish(tokens[j + 4]):
        return j + 1  # "Matlab licence server is a VM called flexlm": the name is said
    k = j + 1 if tokens[j].low == "," else j
    if k + 3 < len(tokens) and tokens[k].low == "(" and tokens[k + 1].low in KIND_WORDS and (
            tokens[k + 2].low == ")" and is_nameish(tokens[k + 3])
            and tokens[k + 3].text == tokens[k + 3].low):
        return k
    if k + 1 < len(tokens) and tokens[k].low in KIND_WORDS and is_nameish(tokens[k + 1]) and (
            tokens[k + 1].text == tokens[k + 1].low):
        return k
    return i


_FIRST_WORDS: dict[int, frozenset[str]] = {}


def first_words(phrases: tuple[tuple[str, ...], ...]) -> frozenset[str]:
    """The first words of ``phrases`` (a module's constant: cached by identity)."""
    found = _FIRST_WORDS.get(id(phrases))
    if found is None:
        found = _FIRST_WORDS[id(phrases)] = frozenset(words[0] for words in phrases)
    return found


def _phrase(tokens: list[Token], i: int,
            phrases: tuple[tuple[str, ...], ...]) -> int:
    """Where the longest phrase of ``phrases`` at ``i`` ends; ``i`` when there is none."""
    if i >= len(tokens) or tokens[i].low not in first_words(phrases):
        return i  # the common case, without a look at each phrase
    end = i
    for words in phrases:
        if words[0] != tokens[i].low or i + len(words) <= end:
            continue
        if tuple(t.low for t in tokens[i:i + len(words)]) == words and not any(
                t.quoted for t in tokens[i:i + len(words)]):
            end = i + len(words)
    return end


def _greeting(tokens: list[Token], i: int) -> int:
    """Where a greeting at ``i`` ends; ``i`` when there is none."""
    w = tokens[i].low
    if w == "dear":  # "Dear colleague,", "Dear support team,", "Dear Sir/Madam,"
        j = i + 1
        while j < len(tokens) and j - i <= 3 and (plain_word(tokens[j]) or _SLASHED_RE.match(
                tokens[j].low)):
            j += 1
        return j if j > i + 1 and j < len(tokens) and tokens[j].low == "," else i
    if w == "good" and i + 1 < len(tokens) and tokens[i + 1].low in _GREETING_TIMES:
        return i + 2
    if w == "greetings" and i + 1 < len(tokens) and tokens[i + 1].low in (",", "!", ":"):
        return i + 1
    if i == 0 and len(tokens) == 2 and tokens[1].low == "here" and plain_word(tokens[0]):
        return 2  # "Newbie here."
    if w in ADDRESSEES and i + 1 < len(tokens) and tokens[i + 1].low == ",":
        return i + 1  # "Team, ..."
    if _TAG_RE.match(w) and not tokens[i].quoted:  # "[SOLVED]", "[Help?]": a forum tag
        j = i + 1 if w.endswith("]") else i + 2 if i + 2 < len(tokens) and tokens[
            i + 1].low in ("?", "!") and tokens[i + 2].low == "]" else i
        return j + 1 if j == i + 2 else j
    return i


def _attribution(tokens: list[Token], i: int) -> int:
    """Where ``Per customer request,`` / ``According to the PI:`` at ``i`` ends (at most
    three lead-in words, then ``,`` or ``:``, then a guest of its own), else ``i``."""
    j = _phrase(tokens, i, ATTRIBUTIONS)
    start = j
    while j > i and j < len(tokens) and j - start < 3 and _leadin_word(tokens, j):
        j += 1
    if j == start or j >= len(tokens) or tokens[j].low not in (",", ":"):
        return i
    return j + 1 if names_a_guest(tokens[j + 1:]) else i


def _for_whom(tokens: list[Token], i: int) -> int:
    """``for the new warehouse`` before ``we need`` (after a greeting: at the start,
    :mod:`.openers` reads it): where the request starts, else ``i``."""
    if i == 0 or tokens[i].low != "for":
        return i
    for j in range(i + 2, min(i + 6, len(tokens))):
        if _phrase(tokens, j, _ASKS) > j:
            return j if all(_leadin_word(tokens, k) for k in range(i + 1, j)) else i
    return i


#: lead-ins that are a phrase of their own, before ``:`` or ``,`` ("one more thing:")
LEADIN_PHRASES: tuple[tuple[str, ...], ...] = (
    ("one", "more", "thing"), ("another", "thing"), ("last", "thing"), ("quick", "note"),
    ("quick", "question"), ("side", "note"), ("small", "request"), ("small", "thing"), *(
        (*lead, adj, "question") for lead in (("if", "this", "is", "a"), ("for", "the"),
                                              ("if", "this", "is", "an"))
        for adj in ("dumb", "stupid", "silly", "basic", "newbie", "beginner", "obvious")))


def wrapping_end(tokens: list[Token], i: int) -> tuple[int, bool]:
    """Where the wrapping at ``i`` ends (``i`` when there is none) and whether it asks
    (then the ``?`` at the end is allowed)."""
    if i >= len(tokens) or tokens[i].quoted:
        return i, False
    end, guest_follows = marker_end(tokens, i)  # "3.2", "Step 1.", "feat(infra):", "[ ]"
    if end > i and (not guest_follows or names_a_guest(tokens[end:])):
        return end, False
    end, asks = frame_end(tokens, i, names_a_guest)  # "If possible,", "We request that"
    if end > i:
        return end, asks
    end = framing_end(tokens, i, _leadin_word, names_a_guest)  # "As a dev, I want", "Hola!"
    if end > i:
        return end, False
    end = label_end(tokens, i)
    if end > i:  # "Off: web-1 is a VM": a label that states something is read, not dropped
        return (i if any(t.low in _STATES for t in tokens[i:end]) else end), False
    for find in (_greeting, _leadin, _attribution, _for_whom):
        end = find(tokens, i)
        if end > i:
            return end, False
    end = _phrase(tokens, i, REQUEST_PHRASES)
    if end > i:
        return end, False
    end = _phrase(tokens, i, LEADIN_PHRASES)
    if end > i and end < len(tokens) and tokens[end].low in (":", ",", *_SEPARATORS):
        return end + 1, False
    end = _phrase(tokens, i, QUESTION_PHRASES)
    if end > i and not (tokens[end - 1].low == "we" and end < len(tokens)
                        and tokens[end].low in ("get", "have")):
        return end, True  # ("Could we get a container ...": a creation prefix, .lexicon)
    return _description(tokens, i), False


def kind_after_name(tokens: list[Token]) -> list[Token]:
    """``(container) printsrv - ...`` (what is left of ``Print server (container) printsrv
    - ...`` once :func:`wrapping_end` dropped the description) as ``printsrv (container)
    - ...``: the shape ``NAME (KIND)`` the parser reads; any other sentence comes back as
    it is."""
    if len(tokens) > 3 and tokens[0].low == "(" and tokens[1].low in KIND_WORDS and tokens[
            2].low == ")" and is_nameish(tokens[3]) and tokens[3].text == tokens[3].low:
        return [tokens[3], *tokens[:3], *tokens[4:]]
    return tokens
