"""Wake-ups between replicas: PostgreSQL ``NOTIFY`` on one channel, no table.

A run queued or approved, a webhook or a ``POST /declarations`` on a replica that is not
the leader must reach the leader at once, not at its next poll. Every replica already
shares the database, so it is the messenger (as procrastinate's workers are woken):
the sender runs ``pg_notify``, the leader ``LISTEN``s on a connection of its own
(:mod:`mycopod.reconcile.wakeups`). A notification sent inside a transaction is
delivered at its commit, so the leader never wakes before the row it is to claim is
visible. Notifications are a nudge, not a queue: the rows remain the truth, and the
leader's fallback poll still finds anything a lost notification would have announced.

The payload is ``<what>:<cluster>``; ``what`` is :data:`RECONCILE` (a Pending run to
claim) or :data:`FETCH` (fetch the declarations repository now).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import asyncpg

__all__ = ["CHANNEL", "FETCH", "RECONCILE", "notify", "notify_many", "parse"]

CHANNEL = "mycopod_wake"
Wake = Literal["reconcile", "fetch"]
RECONCILE: Wake = "reconcile"
FETCH: Wake = "fetch"

NOTIFY = "SELECT pg_notify($1, $2)"
NOTIFY_MANY = "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload"


async def notify(db: asyncpg.Pool | asyncpg.Connection, what: Wake, cluster: str) -> None:
    """Tell the leader of ``cluster`` (whichever replica it is) to act now."""
    await db.execute(NOTIFY, CHANNEL, f"{what}:{cluster}")


async def notify_many(db: asyncpg.Pool | asyncpg.Connection, what: Wake,
                      clusters: Sequence[str]) -> None:
    """:func:`notify` for each of ``clusters``, in one round trip (a webhook wakes every
    cluster a repository feeds: ten round trips on a busy event loop took seconds)."""
    if clusters:
        await db.execute(NOTIFY_MANY, CHANNEL, [f"{what}:{c}" for c in clusters])


def parse(payload: str) -> tuple[str, str]:
    """``(what, cluster)`` of a payload; a payload without a cluster is the default one's."""
    what, _, cluster = payload.partition(":")
    return what, cluster or "default"
