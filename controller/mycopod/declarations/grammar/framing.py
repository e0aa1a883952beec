"""Who asks and who said it, before a statement: dropped by shape.

User stories, minutes, office notes and people writing in a second language frame a
statement with who wants it or who said it: ``As a developer, I want ...``, ``Hola!``,
``Bonjour,``, ``I would like to create ...``, ``We need to turn off ...``, ``Our IT guy
Mark says ...``, ``PL reported that ...``, ``It was agreed that ...``. :func:`framing_end`
says where such words end, and only for these shapes:

- a **greeting** of :data:`GREETINGS` (other languages' ``hello``) then ``!``, ``,`` or
  ``.``, or as a whole sentence (``Hola!``), so a guest named ``hola`` (``hola is a VM``)
  is never dropped;
- a **role**: ``As a|an|the`` then at most :data:`MAX_FRAME_WORDS` words a lead-in may hold
  (:func:`.wrapping.leadin_word`), then ``,`` (``As a QA lead,``);
- a **wish**: :data:`WISHES` (``I want``, ``we need to``, ``I would like to``, ``I should
  like to``) before a guest of its own or a verb: ``I want the container x to have 2 GB``
  reads ``x to have`` as ``x has`` (:data:`.verbs.VERB_IDIOMS`);
- a **verdict** of :data:`VERDICTS` as a sentence of its own (``...; approved.``): the
  minutes' record that the statement before it was accepted, never a guest named
  ``approved``; a verdict then ``:`` before a statement (``Agreed: new VM vpn-gw ...``);
- **reported speech**: at most :data:`MAX_FRAME_WORDS` lead-in words (the first
  capitalised: ``Our IT guy Mark``, ``PL``, ``Dr. Patel``) then a verb of :data:`SAYS`
  (``wants`` too: ``Dr. Patel wants the container x to have ...``) and an optional
  ``that``; ``It was agreed|noted|decided that``.

What follows must name a guest of its own (:func:`.wrapping.names_a_guest`), so a frame
over bare settings is refused. A frame holding a condition or a state word is never
dropped (the words a lead-in may hold exclude them). Pure.
"""

from __future__ import annotations

from collections.abc import Callable

from mycopod.declarations.grammar.tokens import Token

__all__ = ["GREETINGS", "MAX_FRAME_WORDS", "SAYS", "VERDICTS", "WISHES", "framing_end"]

MAX_FRAME_WORDS = 5
#: "hello" in other languages, before "!", "," or "."
GREETINGS = frozenset({"hola", "bonjour", "salut", "hallo", "ciao", "ola", "olá", "moin",
                       "servus", "hej", "hei", "buongiorno", "bonsoir", "buenas", "namaste",
                       "ahoj", "privet", "konnichiwa", "aloha", "shalom", "salaam"})
#: a wish before what is wished ("I want the container x to have ...")
WISHES: tuple[tuple[str, ...], ...] = tuple(
    (who, *wish) for who in ("i", "we") for wish in (
        ("want",), ("need", "to"), ("want", "to"), ("would", "like", "to"),
        ("should", "like", "to"), ("would", "like"), ("would", "need"),
        ("would", "need", "to")))
#: verbs of reported speech ("Mark says", "PL reported that")
SAYS = frozenset({"says", "said", "reported", "confirmed", "noted", "mentioned", "writes",
                  "wrote", "asks", "asked", "suggests", "suggested", "requested", "wants",
                  "wanted"})
#: a verdict as a sentence of its own ("...; approved.", "— agreed."): never a guest
VERDICTS = frozenset({"approved", "agreed", "accepted", "confirmed", "done", "ack",
                      "acknowledged", "granted", "lgtm", "noted", "signed-off"})
_AGREED = frozenset({"agreed", "noted", "decided", "resolved", "confirmed"})


_WISH_FIRST = frozenset(words[0] for words in WISHES)


def _greeting(tokens: list[Token], i: int) -> int:
    if tokens[i].low in GREETINGS and i + 1 < len(tokens) and tokens[i + 1].low in (
            "!", ",", "."):
        return i + 2
    return i


def _wish(tokens: list[Token], i: int) -> int:
    end = i
    if i >= len(tokens) or tokens[i].low not in _WISH_FIRST:
        return end
    for words in WISHES:
        n = len(words)
        if n > end - i and tuple(t.low for t in tokens[i:i + n]) == words and not any(
                t.quoted for t in tokens[i:i + n]):
            end = i + n
    return end


def framing_end(tokens: list[Token], i: int,
                leadin_word: Callable[[list[Token], int], bool],
                names_a_guest: Callable[[list[Token]], bool]) -> int:
    """Where a frame at ``i`` ends (``i`` when there is none); ``leadin_word`` and
    ``names_a_guest`` are :mod:`.wrapping`'s (passed in: it imports this module)."""
    if i >= len(tokens) or tokens[i].quoted:
        return i
    if i + 1 == len(tokens) and (tokens[i].low in GREETINGS or tokens[i].low in VERDICTS):
        return i + 1  # "Hola!", "...; approved." as a sentence of its own
    end = _greeting(tokens, i)
    if end > i:
        return end
    if tokens[i].low in VERDICTS and i + 1 < len(tokens) and tokens[i + 1].low == ":":
        end = i + 2  # "Agreed: new VM vpn-gw ..." (minutes)
    elif tokens[i].low == "as" and i + 1 < len(tokens) and tokens[i + 1].low in (
            "a", "an", "the"):
        j = i + 2
        while j < len(tokens) and j - i - 2 < MAX_FRAME_WORDS and leadin_word(tokens, j):
            j += 1
        end = j + 1 if j > i + 2 and j < len(tokens) and tokens[j].low == "," else i
    elif i + 2 < len(tokens) and [t.low for t in tokens[i:i + 2]] == ["it", "was"] and (
            tokens[i + 2].low in _AGREED):
        end = i + 4 if i + 3 < len(tokens) and tokens[i + 3].low == "that" else i
    else:
        end = _wish(tokens, i)
        if end == i and tokens[i].text[:1].isupper():
            j = i
            while j < len(tokens) and j - i < MAX_FRAME_WORDS and tokens[
                    j].low not in SAYS and leadin_word(tokens, j):
                j += 1
            if j > i and j < len(tokens) and tokens[j].low in SAYS and not tokens[j].quoted:
                end = j + 2 if j + 1 < len(tokens) and tokens[j + 1].low == "that" else j + 1
    return end if end > i and names_a_guest(tokens[end:]) else i
