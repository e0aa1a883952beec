"""Politeness and request framings around a declaration, on explicit lists (round 8).

People who write formally, or in a second language, wrap a request in words that ask
nothing of a guest: an **apology** (``I am sorry to trouble you, but please ...``,
``Sorry for the short notice,``), a **softener** that grants permission rather than sets
a condition (``If possible, please ...``, ``When you have a moment,``, ``At your
convenience,``), a **formal request clause** whose complement is the declaration in the
subjunctive (``We humbly request that the VM x start ...``, ``It is requested that the
virtual machine x be removed``, ``We note that x should be ...``), a **necessity
frame** before an imperative (``It is necessary to delete ...``, ``Is necessary to
delete ...``: the Romance order without the dummy subject), a **gratitude conditional**
(``We would be grateful if the container x could be given ...``), and an **indefinite
addressee** (``Could someone make a ...``: :data:`.wrapping.QUESTION_PHRASES`; ``hey can
u ...`` is :mod:`.openers`').

:data:`FRAMES` lists the word sequences; :func:`frame_end` says where one at ``i`` ends
(``i`` when there is none) and only when what follows names a guest of its own (the
caller's ``names_a_guest``), so a frame over bare settings is refused as before. The
dropped words are reported by :func:`.context.courtesy` (``ignored as context``).
:data:`TRAILING` holds the softeners that also close a sentence (``..., if possible.``),
read by :mod:`.openers` as closers.

What is **not** a softener: ``if`` or ``when`` before anything but these fixed words
(``if the disk is full, ...``, ``when the demo is over``) is a condition, and stays
refused (:data:`.wrapping.CONDITIONS`). The modal of the gratitude conditional
(``could be given``) is read by :data:`MODAL_IDIOMS` only before ``be given`` /
``be provided with`` (a request for what the guest has). Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import product

from mycopod.declarations.grammar.tokens import Token

__all__ = ["FRAMES", "MODAL_IDIOMS", "TRAILING", "frame_end"]


def _expand(*groups: str) -> tuple[tuple[str, ...], ...]:
    """``("we|i", "request")`` as every sequence of its alternatives; ``""`` is optional."""
    options = [g.split("|") for g in groups]
    return tuple(tuple(w for w in combo if w) for combo in product(*options))


_WHO = "i|we|i'm|we're"
#: the softeners that may open or close a request: permission, never a condition
SOFTENERS: tuple[tuple[str, ...], ...] = (
    *_expand("if", "at|", "all|", "possible"),
    *_expand("if", "you", "can|could|may"),
    *_expand("if", "you", "do", "not", "mind"),
    *_expand("if", "it", "is", "not", "too", "much", "trouble|bother"),
    *_expand("when|whenever", "you", "have|get", "a|the", "moment|minute|chance|sec|second"),
    *_expand("at", "your", "earliest|", "convenience"),
    ("when", "convenient"), ("whenever", "convenient"),
    ("sorry", "for", "the", "short", "notice"),
)
#: a softener at the end, after a comma (:mod:`.openers` drops it like ``thanks``); its
#: words become words of the grammar (a context clause holding one is no longer context),
#: so only the common ones
TRAILING: tuple[tuple[str, ...], ...] = (
    *_expand("if", "at|", "all|", "possible"),
    *_expand("when|whenever", "you", "get|have", "a", "chance|moment"),
    *_expand("at", "your", "earliest|", "convenience"),
)

#: frames before the declaration (module doc); a following comma is dropped by the caller
FRAMES: tuple[tuple[str, ...], ...] = (
    *SOFTENERS,
    # apologies: "I am sorry to trouble you, but", "sorry for the inconvenience, but"
    *_expand("i|", "am|", "sorry|apologies", "to", "trouble|bother|disturb", "you", ",|",
             "but"),
    *_expand("i'm", "sorry", "to", "trouble|bother|disturb", "you", ",|", "but"),
    *_expand("sorry|apologies", "for", "the", "trouble|bother|inconvenience", ",|", "but"),
    *_expand("sorry|apologies", "for", "the", "trouble|bother|inconvenience"),
    # after "Sorry", an opener of its own (.openers)
    *_expand("to", "trouble|bother|disturb", "you", ",|", "but"),
    *_expand("for", "the", "trouble|bother|inconvenience", ",|", "but"),
    *_expand("to", "ask", ",|", "but"), ("sorry", "to", "ask", ",", "but"),
    # formal request clauses with the declaration as their complement
    *_expand("we|i", "humbly|kindly|respectfully|hereby|", "request|ask|require", "that"),
    *_expand("it", "is", "humbly|kindly|hereby|", "requested|asked|required", "that"),
    *_expand("we|i", "note|noted", "that"),
    *_expand("please|kindly|", "note", "that"),
    *_expand("please|kindly|", "be", "advised|informed", "that"),
    *_expand("i|we", "would", "like", "to", "request|ask", "that"),
    # necessity before an imperative: "It is necessary to delete ..."
    *_expand("it|", "is", "necessary|needed|required", "to"),
    ("it's", "necessary", "to"), ("necessary", "to"),
    # gratitude before a clause: "We would be grateful if the container x could be given"
    *_expand(_WHO, "would|", "be", "grateful|thankful", "if", "you|", "could|would|can|"),
    *_expand("i|we", "would", "appreciate", "it", "if", "you|", "could|would|can|"),
    *_expand("it", "would", "be", "great|nice|good|helpful|appreciated", "if", "you|",
             "could|would|can|"),
    # "Would it be possible for the VM x to have 4 cores?" (.verbs: "x to have" is "has")
    *_expand("would", "it", "be", "possible", "for"), *_expand("is", "it", "possible", "for"),
    # Indian English request frames (round 9): "Kindly do the needful and create ...",
    # "Please do one thing, delete ...", "Revert back with confirmation after creating ..."
    *_expand("please|kindly|", "do", "the", "needful", "and|,|"),
    *_expand("please|kindly|", "do", "one", "thing", ",|:|"),
    *_expand("please|kindly|", "revert|reply|respond", "back|", "with",
             "confirmation|confirmations", "after|once|on"),
    # "Please confirm the following:" over the declaration itself
    *_expand("please|kindly|", "confirm|find|note|see", "the", "following", ":"),
)
_FIRST = frozenset(words[0] for words in FRAMES)

#: "could be given": the modal of a request after a gratitude frame (module doc)
MODAL_IDIOMS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("could|would", "be", "given|allocated|assigned"), ("should", ",", "have")),
    (("be", "allocated|assigned"), (",", "have")),  # "shall be allocated 4 cores"
    # "... if the container x could be stopped": as "could be deleted" (.idioms) is
    (("could|would", "be", "stopped|started|powered|switched|shut|turned"),
     ("should", "", "")),
    (("could|would", "be", "provided|supplied|furnished", "with"),
     ("should", ",", "have", ",")),
    # "ought to be provided with one core": what it has
    (("be", "provided|supplied|furnished", "with"), (",", "have", ",")),
)


def frame_end(tokens: list[Token], i: int,
              names_a_guest: Callable[[list[Token]], bool]) -> tuple[int, bool]:
    """Where the longest frame of :data:`FRAMES` at ``i`` ends (``i`` when there is none
    or nothing after it names a guest), and whether it asks (a ``?`` may close it)."""
    if i >= len(tokens) or tokens[i].low not in _FIRST or tokens[i].quoted:
        return i, False
    end = i
    for words in FRAMES:
        n = len(words)
        if n > end - i and words[0] == tokens[i].low and tuple(
                t.low for t in tokens[i:i + n]) == words and not any(
                t.quoted for t in tokens[i:i + n]):
            end = i + n
    if end == i or not names_a_guest(tokens[end:]):
        return i, False
    return end, tokens[i].low in ("could", "can", "would", "is")
