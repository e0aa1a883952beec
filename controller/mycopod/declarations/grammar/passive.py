"""``was``/``were`` of a passive whose subject is a guest, read as ``is``/``are`` (round 9).

``The VM seq-align-01 was subsequently stopped``, ``The container x was given the tags
a and b``: a report of what was done states the guest's state: ``was provisioned|
configured with`` (has), ``was assigned|given`` (has), ``was connected|attached to``,
``was placed|located|hosted on``, ``was cloned from``, ``was [subsequently|then]
stopped|deleted|removed|shut down`` (:data:`_SHAPES`). Only after a guest's name (or
the ``)`` closing one: ``The database VM (lims-db) was assigned ...``) and before one
of these shapes; ``the server was stopped`` (which
server?), ``x was slow`` and ``it was moved`` stay as written, and are refused.

:func:`present` also drops a ``too`` that closes the sentence or a clause (``start on
boot too, it has ...``), a filler there as ``also`` is; ``too small`` stays. Pure.
"""

from __future__ import annotations

from mycopod.declarations.grammar.names import is_nameish
from mycopod.declarations.grammar.narrative import THEN
from mycopod.declarations.grammar.tokens import Token

__all__ = ["present"]

_PRESENT = {"was": "is", "were": "are"}
_HAS = frozenset({"provisioned", "configured", "equipped", "deployed", "built", "created"})
_PLACED = frozenset({"placed", "located", "hosted", "deployed", "provisioned", "created"})
_ENDED = frozenset({"stopped", "deleted", "removed", "destroyed", "decommissioned",
                    "retired", "started"})
_POWER = frozenset({"shut", "powered", "turned", "switched"})
#: after ``was`` (and an adverb of :data:`.narrative.THEN`): the words of a shape, each
#: of a set, and what each becomes ("" keeps it, "," drops it)
_SHAPES: tuple[tuple[tuple[frozenset[str], ...], tuple[str, ...]], ...] = (
    ((_HAS, frozenset({"with"})), (",", ",")),  # "was provisioned with 16 cores": has
    ((frozenset({"set"}), frozenset({"up"}), frozenset({"with"})), (",", ",", ",")),
    ((frozenset({"assigned", "given", "allocated", "granted"}),), (",",)),  # has
    ((frozenset({"connected", "attached"}), frozenset({"to"})), ("connected", "")),
    ((_PLACED, frozenset({"on"})), (",", "")),  # "was placed on node N"
    ((frozenset({"cloned", "derived"}), frozenset({"from"})), ("cloned", "")),
    ((_ENDED,), ("",)),
    ((_POWER, frozenset({"down", "off"})), ("", "")),
)
_ADVERBS = frozenset(THEN.split("|"))
_TRIGGERS = frozenset({"was", "were", "too"})


_CLOSES = frozenset({",", ";", "and"})


def _too(tokens: list[Token]) -> list[Token]:
    """Without a ``too`` that closes the sentence or a clause (``start on boot too, it
    has ...``): a filler there, as ``also``; ``too small`` stays as written."""
    return [t for k, t in enumerate(tokens) if t.low != "too" or t.quoted or k < 2 or not (
        k + 1 == len(tokens) or tokens[k + 1].low in _CLOSES)]


def _passive(out: list[Token], k: int) -> list[Token] | None:
    """The passive of ``was`` at ``k`` in the present, its participle in the grammar's
    words (:data:`_SHAPES`); ``None`` when no shape is there."""
    j = k + 1 + (out[k + 1].low in _ADVERBS)
    words = [t.low for t in out[j:j + 3]]
    for shape, meaning in _SHAPES:
        n = len(shape)
        if len(words) >= n and all(w in group for w, group in zip(words, shape, strict=False)):
            said = [Token(t.text, low or t.low, t.line)
                    for t, low in zip(out[j:j + n], meaning, strict=True) if low != ","]
            was = out[k]
            return [*out[:k], Token(was.text, _PRESENT[was.low], was.line), *said,
                    *out[j + n:]]
    return None


def present(tokens: list[Token]) -> list[Token]:
    """``the VM x was stopped`` as ``the VM x is stopped``: ``was``/``were`` after a
    guest's name (or the ``)`` closing one) and before a shape of :data:`_SHAPES`; any
    other ``was`` (``the server was stopped``: which server?) stays as written, and is
    refused."""
    found = _TRIGGERS.intersection([t.low for t in tokens])
    if not found:
        return tokens  # the common case
    if "too" in found:
        tokens = _too(tokens)
    if found == {"too"}:
        return tokens
    out = list(tokens)
    k = 1
    while k < len(out) - 1:
        t = out[k]
        if t.low in _PRESENT and not t.quoted and (
                out[k - 1].low == ")" or is_nameish(out[k - 1])):
            out = _passive(out, k) or out
        k += 1
    return out
