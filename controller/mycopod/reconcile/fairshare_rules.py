"""The fair-share rule: what one replica does in one round (pure; no I/O).

Every replica runs the same rule on what it sees at its heartbeat (every live replica
and how many clusters each says it leads) and on what it holds itself:

- its share is between ``floor(C / L)`` and ``ceil(C / L)`` clusters (``C`` clusters,
  ``L`` live replicas);
- it **gives up one** cluster per round while it holds more than ``ceil``, or, when some
  live replica holds fewer than ``floor`` and no cluster is free, while it holds more
  than ``floor`` and is the replica that holds the most (ties: the smallest id), so that
  exactly one replica makes room at a time and leadership does not flap;
- otherwise it **takes** free clusters up to ``ceil``, or only up to ``floor`` while some
  live replica is below ``floor`` (the free ones are left to it);
- it tries clusters in its own order (rendezvous hashing: a score per replica and
  cluster), so replicas starting together mostly reach for different clusters, and it
  gives up the one it likes least. A cluster it gave up is not taken back by it for
  :data:`COOL_ROUNDS` rounds, so the replica that needs it gets it.

Advisory locks make two leaders impossible whatever the rule says; the rule only decides
who *tries*. Counts read at the heartbeat are up to a round old, which can cost a round
of waiting, never a second leader.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["COOL_ROUNDS", "Decision", "decide", "score", "shares"]

#: rounds during which a replica does not take back a cluster it gave up
COOL_ROUNDS = 3


@dataclass(frozen=True)
class Decision:
    """One round's moves: give up ``release`` (or nothing), then try ``take`` in order
    until ``want`` more are held."""

    low: int
    high: int
    live: int
    release: str | None = None
    take: tuple[str, ...] = ()
    want: int = 0


def shares(clusters: int, live: int) -> tuple[int, int]:
    """``(floor, ceil)`` of ``clusters / live``; ``live`` is at least 1 (this replica)."""
    live = max(live, 1)
    return clusters // live, math.ceil(clusters / live)


def score(replica: str, cluster: str) -> int:
    """How much ``replica`` prefers ``cluster`` (rendezvous hashing): higher first."""
    digest = hashlib.sha256(f"{replica}\0{cluster}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def decide(*, me: str, clusters: Sequence[str], held: Collection[str],
           others: Mapping[str, int], cooling: Collection[str] = (),
           withdrawn: Collection[str] = ()) -> Decision:
    """What replica ``me`` does this round.

    ``clusters``: every cluster of the deployment (all replicas share the configuration);
    ``held``: the ones ``me`` leads; ``others``: every other live replica's id and the
    count it reported; ``cooling``: clusters ``me`` gave up lately; ``withdrawn``: ones
    ``me`` no longer competes for (released at shutdown)."""
    live = 1 + len(others)
    low, high = shares(len(clusters), live)
    mine = len(held)
    needy = any(count < low for count in others.values())
    free = len(clusters) - mine - sum(others.values())
    counts = [(mine, me), *((count, rid) for rid, count in others.items())]
    top = min(counts, key=lambda c: (-c[0], c[1]))[1]
    if held and (mine > high or (needy and free <= 0 and mine > low and top == me)):
        least = min(held, key=lambda c: (score(me, c), c))
        return Decision(low=low, high=high, live=live, release=least)
    target = low if needy else high
    if mine >= target:
        return Decision(low=low, high=high, live=live)
    skip = set(held) | set(cooling) | set(withdrawn)
    order = sorted((c for c in clusters if c not in skip),
                   key=lambda c: (-score(me, c), c))
    return Decision(low=low, high=high, live=live, take=tuple(order), want=target - mine)
