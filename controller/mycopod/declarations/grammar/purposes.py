"""A purpose or reason clause at the end of a statement, dropped by its shape: ``... 2 GB
of memory so it stops evicting``, ``... on VLAN 100 so the students can reach it``.

People say why in the same sentence: ``Give cache-2 4 GB so it stops swapping``,
``Protect door-2 so nobody deletes it by mistake``, ``... a 1 TB disk because the photos
are out of control``. The reason states nothing about the guest; :func:`drop_purpose`
drops it, with or without a comma before it, and only in this shape:

- it opens with ``so that``, ``so`` before a subject of :data:`SUBJECTS` (``so it``, ``so
  nobody``, ``so the students``: never ``so web-2 ...``, where ``so`` means "then"),
  ``because``, or ``in order to``, after at least two words of the statement;
- it runs to the end of the sentence and holds no number, no quoted text, no guest's
  name (a word with a digit or a hyphen), no kind word, no condition word
  (:data:`.wrapping.CONDITIONS`: ``when``, ``until`` ...) and no word of
  :data:`STATES` (``so it keeps running`` is refused, never dropped).

The same reason may open the sentence, before an order: ``We're done with the trial,
delete whisper-2``. :func:`drop_leading_reason` drops it when it opens with a subject of
:data:`LEADING_SUBJECTS` (``we``, ``we're``, ``I'm``, ``they``), holds the same words a
purpose may hold (above), ends at the first comma, and the order after it opens with a
verb of :data:`.lexicon.IMPERATIVE_VERBS` (``delete``, ``stop``, ``give`` ...).

Anything else is left for the parser, which quotes what it cannot read. Pure.
"""

from __future__ import annotations

from mycopod.declarations.grammar.lexicon import IMPERATIVE_VERBS, KIND_WORDS, UNITS
from mycopod.declarations.grammar.tokens import Token
from mycopod.declarations.grammar.wrapping import CONDITIONS

__all__ = ["LEADING_SUBJECTS", "STATES", "SUBJECTS", "drop_leading_reason", "drop_purpose"]

#: what may follow ``so`` for it to open a purpose ("so it ...", "so the students ...")
SUBJECTS = frozenset({"it", "it's", "they", "they're", "nobody", "no-one", "noone", "we",
                      "i", "the", "people", "users", "everyone", "someone", "nothing",
                      "this", "that", "our", "my", "its", "their", "you", "he", "she"})
#: words a purpose may not hold: they would state a guest's state
STATES = frozenset({"running", "stopped", "started", "online", "offline", "absent",
                    "present", "powered", "boot", "boots", "onboot", "autostart"})
_MIN_STATEMENT = 2
#: who a leading reason is about ("We're done with the trial, delete ...")
LEADING_SUBJECTS = frozenset({"we", "we're", "i", "i'm", "they", "they're"})


def _opens(tokens: list[Token], k: int) -> bool:
    w = tokens[k].low
    nxt = tokens[k + 1].low if k + 1 < len(tokens) else ""
    if w == "so":
        return nxt == "that" or nxt in SUBJECTS
    if w == "in":
        return nxt == "order" and k + 2 < len(tokens) and tokens[k + 2].low == "to"
    return w == "because"


def _reason(rest: list[Token]) -> bool:
    return len(rest) >= 2 and not any(
        t.quoted or any(ch.isdigit() for ch in t.low) or "-" in t.low.strip("-")
        or t.low in KIND_WORDS or t.low in CONDITIONS or t.low in STATES or t.low in UNITS
        for t in rest)


def drop_purpose(tokens: list[Token]) -> list[Token]:
    """``tokens`` without the purpose clause at their end (see the module's docstring)."""
    for k in range(_MIN_STATEMENT, len(tokens) - 1):
        if tokens[k].quoted or not _opens(tokens, k):
            continue
        if _reason([t for t in tokens[k + 1:] if t.low not in ("?", "!")]):
            end = k - 1 if tokens[k - 1].low in (",", "-", "\u2013", "\u2014") else k
            return tokens[:end]
        return tokens
    return tokens


def drop_leading_reason(tokens: list[Token]) -> list[Token]:
    """``tokens`` without the reason before the order (see the module's docstring)."""
    if not tokens or tokens[0].quoted or tokens[0].low not in LEADING_SUBJECTS:
        return tokens
    k = next((j for j, t in enumerate(tokens) if t.low == "," and not t.quoted), 0)
    if k < 2 or k + 1 >= len(tokens) or tokens[k + 1].quoted or tokens[
            k + 1].low not in IMPERATIVE_VERBS or not _reason(tokens[:k]):
        return tokens
    return tokens[k + 1:]
