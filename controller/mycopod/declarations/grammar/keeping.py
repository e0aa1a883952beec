"""A stop that keeps the guest: a negated or a later deletion beside it (round 8).

Owners who switch a guest off often add that it must not go: ``shut off x but dont delete
it``, ``Shut down the sauna-timer VM for the winter, don't delete it though``, ``is to be
powered down but retained``; or that it may go one day: ``should be stopped for now, may
delete later``. Linguistically the added clause is a deletion verb under negation (``do
not``/``don't``/``dont``/``never``) or under a modal of possibility with a future time
(``may|might|will|could|maybe|probably`` ... ``later|eventually|someday|next week``), its
object the guest (``it``/``them``) or nothing; or a participle of keeping after ``but``
(``but retained|kept|preserved``, ``but keep it``), with at most a reason of plain words
after ``for`` (``(keep it for the audit)``, ``keep it for reference``).

For the spec the negated deletion states what a stop already means (the guest stays), and
the later one asks nothing now: MycoPod deletes nothing until the declaration says so. So
:func:`kept` drops the clause and reports it (``kept: '...'`` / ``not acted on: '...'``),
but only when

- it ends the sentence (after a separator or ``but``/``and``), and holds only the words
  of the shapes above;
- the rest of the sentence stops the guest (a power word of :data:`STOPS`) and neither
  deletes nor creates (a word of :data:`DELETES`): ``delete x, don't delete it`` and a
  lone ``may delete later`` stay refused.

Pure.
"""

from __future__ import annotations

from mycopod.declarations.grammar.lexicon import is_vocab
from mycopod.declarations.grammar.tokens import Token, sentence_text

__all__ = ["DELETES", "STOPS", "kept"]

#: a stop in the rest of the sentence ("off" after a power verb is enough: "shut off")
STOPS = frozenset({"stop", "stopped", "shut", "off", "down", "halt", "halted", "shutdown",
                   "powered", "stops"})
#: the rest of the sentence must not delete or create
DELETES = frozenset({"delete", "deleted", "remove", "removed", "absent", "destroy", "rid",
                     "nuke", "rm", "decommission", "purge", "wipe", "create", "make", "new",
                     "add", "deploy", "provision", "exist", "exists", "gone", "go", "drop",
                     "kill", "scrap", "trash", "retire"})
_DELETION = frozenset({"delete", "remove", "destroy", "erase", "wipe", "nuke", "rm", "kill",
                       "trash", "scrap", "purge", "drop"})
_NEGATION = (("do", "not"), ("dont",), ("don't",), ("never",), ("please", "do", "not"),
             ("please", "dont"), ("pls", "dont"))
_MODAL = frozenset({"may", "might", "will", "could", "maybe", "probably", "perhaps", "possibly",
                    "i'll", "we'll", "ill"})
_LATER = (("later",), ("eventually",), ("someday",), ("some", "day"), ("next", "week"),
          ("next", "month"), ("next", "year"), ("in", "the", "future"), ("at", "some", "point"),
          ("later", "on"))
_OBJECT = frozenset({"it", "them", "this", "that"})
_WHO = frozenset({"we", "i", "they"})
_TAIL = frozenset({"though", "tho", "yet", "please", "pls", "thanks", "thx", "!", ".", ")"})
_DETERMINERS = frozenset({"the", "a", "an", "our", "my", "their", "its"})
_KEEPING = frozenset({"retained", "kept", "preserved", "saved"})
_TRIGGERS = _DELETION | _KEEPING | {"keep"}
_OPENERS = frozenset({",", ";", "-", "--", "\u2013", "\u2014", "but", "and", "(", "just"})


def _seq(lows: list[str], i: int, options: tuple[tuple[str, ...], ...]) -> int:
    for words in options:
        if tuple(lows[i:i + len(words)]) == words:
            return i + len(words)
    return i


def _reason_end(tokens: list[Token], i: int) -> int:
    """The end of ``for`` and at most four plain words at ``i`` (``for the audit``), or
    ``i``: a word of the grammar, a number or a name-like word is no reason."""
    j = i + 1
    while j < len(tokens) and j - i <= 4 and not tokens[j].quoted and tokens[
            j].low.isalpha() and (tokens[j].low in _DETERMINERS or not is_vocab(tokens[j].low)):
        j += 1
    return j if j > i + 1 else i


def _clause(lows: list[str], i: int) -> tuple[str, int] | None:
    """What the clause at ``i`` says (``kept`` or ``later``) and where it ends."""
    j = _seq(lows, i, _NEGATION)
    if j > i and j < len(lows) and lows[j] in _DELETION:
        k = j + 1
        k += 1 if k < len(lows) and lows[k] in _OBJECT else 0
        return "kept", k
    if lows[i] in _KEEPING or (lows[i] == "keep" and i + 1 < len(lows) and lows[
            i + 1] in _OBJECT):
        return "kept", i + (1 if lows[i] in _KEEPING else 2)
    j = i + 1 if lows[i] in _WHO and i + 1 < len(lows) and lows[i + 1] in _MODAL else i
    j = j + 1 if lows[j] in _MODAL else i  # "may delete later", "we will remove it later"
    if j > i and j < len(lows) and lows[j] in _DELETION:
        k = j + 1
        k += 1 if k < len(lows) and lows[k] in _OBJECT else 0
        end = _seq(lows, k, _LATER)
        if end > k:
            return "later", end
    return None


def kept(tokens: list[Token], ignored: list[tuple[int, str]]) -> list[Token]:
    """``tokens`` without a closing negated or later deletion beside a stop (module doc),
    the clause reported in ``ignored``."""
    lows = [t.low for t in tokens]
    if _TRIGGERS.isdisjoint(lows):
        return tokens  # the common case
    for i in range(1, len(lows)):
        if lows[i - 1] not in _OPENERS or tokens[i].quoted:
            continue
        said = _clause(lows, i)
        if said is None:
            continue
        end = said[1]
        if said[0] == "kept" and end < len(lows) and lows[end] == "for":
            end = _reason_end(tokens, end)  # "keep it for the audit", "for reference"
        said_end = end
        while end < len(lows) and lows[end] in _TAIL:
            end += 1
        start = i - 1
        while start > 0 and lows[start - 1] in _OPENERS:
            start -= 1
        rest = lows[:start]
        if end != len(lows) or not any(w in STOPS for w in rest) or any(
                w in DELETES for w in rest) or any(t.quoted for t in tokens[i:end]):
            return tokens
        text = sentence_text(tokens[i:said_end])  # without the tail ("though", ")")
        if said[0] == "kept":
            note = f"kept: {text!r} (a stopped guest is kept; nothing is deleted)"
        else:
            note = (f"not acted on: {text!r} (a deletion later is not declared now; "
                    "nothing is deleted until the declaration says so)")
        ignored.append((tokens[i].line, note))
        return tokens[:start]
    return tokens
