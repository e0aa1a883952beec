"""A bare ``on NAME`` (``db-1 is a VM on pve3``), read through the cluster's names. Pure.

People write ``on pve3`` or ``on tank`` without saying whether that is a node, a storage,
a bridge or a pool; only the cluster knows. The caller passes what it knows as a plain
frozen value (:class:`Places`, built from the cluster's facts), the compile carries it on
each sentence's tokens (``SentenceTokens.places``), and this phrase reads ``on NAME`` as
``on node NAME``, ``on storage NAME``, ``on bridge NAME`` or ``in pool NAME`` when exactly
one of those lists holds NAME. A name in several lists, or in none, is an error that
lists the candidates, never a guess. Without places (the CLI, tests, an unknown cluster)
the phrase does nothing and the words stay unplaced, as before. It is tried after every
other phrase, so ``on node pve1``, ``on VLAN 30`` and ``a disk on tank`` never reach it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mycopod.declarations.grammar.names import is_nameish
from mycopod.declarations.grammar.tokens import Cursor, SentenceError, Token

__all__ = ["PHRASES", "Places", "known_not_a_node"]


@dataclass(frozen=True)
class Places:
    """The names of what a guest can be ``on`` in one cluster (empty: not known)."""

    nodes: frozenset[str] = frozenset()
    storages: frozenset[str] = frozenset()
    bridges: frozenset[str] = frozenset()
    pools: frozenset[str] = frozenset()

    def kinds_of(self, name: str) -> list[str]:
        """The kinds of place ``name`` is, in the order the phrase would read them."""
        return [kind for kind, names in (("node", self.nodes), ("storage", self.storages),
                                         ("bridge", self.bridges), ("pool", self.pools))
                if name in names]

    def listing(self) -> str:
        parts = [f"{label}: {', '.join(sorted(names))}" for label, names in (
            ("nodes", self.nodes), ("storages", self.storages), ("bridges", self.bridges),
            ("pools", self.pools)) if names]
        return "; ".join(parts) or "none known"


#: how each kind is said in full
_SAID = {"node": ("on", "node"), "storage": ("on", "storage"), "bridge": ("on", "bridge"),
         "pool": ("in", "pool")}


def _places_of(c: Cursor) -> Places | None:
    """The names the sentence's tokens carry (None for a plain token list)."""
    found = getattr(c.toks, "places", None)
    return found if isinstance(found, Places) else None


def known_not_a_node(c: Cursor) -> bool:
    """``running on NAME`` reads NAME as a node, unless the cluster's names are known and
    NAME is not one of its nodes: then :func:`p_bare_place` reads it (a storage, a
    bridge, a pool) or refuses it listing the candidates."""
    places = _places_of(c)
    name = c.tok()
    return places is not None and name is not None and name.text not in places.nodes


def p_bare_place(c: Cursor) -> Any:
    if c.w() != "on":
        return None
    name = c.tok(1)
    if not is_nameish(name) or name is None:
        return None
    places = _places_of(c)
    if places is None:
        return None
    line = c.line
    kinds = places.kinds_of(name.text)
    if not kinds:
        raise SentenceError(line, f"\"on {name.text}\": this cluster has no node, storage, "
                                  f"bridge or pool named {name.text!r} ({places.listing()})")
    if len(kinds) > 1:
        said = " or ".join(f"'{' '.join(_SAID[k])} {name.text}'" for k in kinds)
        raise SentenceError(line, f"\"on {name.text}\" is ambiguous: {name.text} is a "
                                  f"{' and a '.join(kinds)} of this cluster; write {said}")
    # read it as the full phrase would be written, by the phrase that reads that
    from mycopod.declarations.grammar import phrases

    prep, word = _SAID[kinds[0]]
    probe = Cursor([Token(prep, prep, line), Token(word, word, line), name])
    for phrase in phrases.PHRASES:
        if phrase is p_bare_place:
            continue
        probe.i = 0
        found = phrase(probe)
        if found is not None and probe.i == 3:
            c.i += 2
            return found
    return None


PHRASES: tuple[Callable[[Cursor], Any], ...] = (p_bare_place,)
