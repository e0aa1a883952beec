"""``was``/``were`` of a passive whose subject is a guest, read as ``is``/``are`` (round 9).

``The VM seq-align-01 was subsequently stopped``, ``The container x was given the tags
a and b``: a report of what was done states the guest's state, which
:data:`.narrative.NARRATIVE_IDIOMS` then read as the present does. Only after a guest's
name (or the ``)`` closing one: ``The database VM (lims-db) was assigned ...``) and
before a participle of :data:`_PARTICIPLES`; ``the server was stopped`` (which
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
#: the participles (and the adverbs before them) :func:`present` reads after ``was``
_PARTICIPLES = frozenset({
    "provisioned", "configured", "equipped", "deployed", "built", "created", "set",
    "assigned", "given", "allocated", "granted", "connected", "attached", "placed",
    "located", "hosted", "cloned", "derived", "stopped", "deleted",
    "removed", "destroyed", "decommissioned", "retired", "started", "shut", "powered",
    "turned", "switched"})
_ADVERBS = frozenset(THEN.split("|"))


_CLOSES = frozenset({",", ";", "and"})


def _too(tokens: list[Token]) -> list[Token]:
    """Without a ``too`` that closes the sentence or a clause (``start on boot too, it
    has ...``): a filler there, as ``also``; ``too small`` stays as written."""
    return [t for k, t in enumerate(tokens) if t.low != "too" or t.quoted or k < 2 or not (
        k + 1 == len(tokens) or tokens[k + 1].low in _CLOSES)]


def present(tokens: list[Token]) -> list[Token]:
    """``the VM x was stopped`` as ``the VM x is stopped``: ``was``/``were`` after a
    guest's name (or the ``)`` closing one) and before a participle of
    :data:`_PARTICIPLES`; any other ``was`` (``the server was stopped``: which server?)
    stays as written, and is refused."""
    if any(t.low == "too" for t in tokens):
        tokens = _too(tokens)
    if not any(t.low in _PRESENT for t in tokens):
        return tokens
    out = list(tokens)
    for k in range(1, len(out) - 1):
        t = out[k]
        if t.low not in _PRESENT or t.quoted:
            continue
        nxt = out[k + 2] if out[k + 1].low in _ADVERBS and k + 2 < len(out) else out[k + 1]
        if nxt.low in _PARTICIPLES and (out[k - 1].low == ")" or is_nameish(out[k - 1])):
            out[k] = Token(t.text, _PRESENT[t.low], t.line)
    return out
