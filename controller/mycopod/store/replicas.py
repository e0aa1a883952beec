"""Replica heartbeats: the ``replicas`` table (migration 0010).

Every replica that competes for cluster leadership (:mod:`mycopod.reconcile.fairshare`)
upserts its row every round on the connection that holds its advisory locks, and reads
back, in the same statement, every live replica and how many clusters each says it leads.
Time is the server's (``NOW()``), so the replicas' clocks never matter.

A replica is **live** while both hold:

- its ``last_seen`` is within the heartbeat timeout (a replica that stopped beating, say
  hung, drops out of the count after the timeout);
- the session that holds its locks (``backend_pid``) is still open: a killed replica's
  session ends with it, its locks are freed and it stops counting at once, so the others'
  shares grow on their very next round instead of after the timeout.

Rows of replicas gone for an hour are deleted by the beat itself (no retention job).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import asyncpg

__all__ = ["Replica", "beat", "forget", "holders"]

BEAT = """
WITH me AS (
    INSERT INTO replicas AS r (id, host, pid, backend_pid, leads)
    VALUES ($1, $2, $3, pg_backend_pid(), $4)
    ON CONFLICT (id) DO UPDATE SET backend_pid = pg_backend_pid(), leads = $4,
                                   last_seen = NOW()
    RETURNING id, leads
), pruned AS (
    DELETE FROM replicas WHERE last_seen < NOW() - INTERVAL '1 hour' AND id <> $1
)
SELECT id, leads FROM me
UNION ALL
SELECT r.id, r.leads FROM replicas r
WHERE r.id <> $1
  AND r.last_seen > NOW() - MAKE_INTERVAL(secs => $5::float8)
  AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = r.backend_pid)"""
FORGET = "DELETE FROM replicas WHERE id = $1"
#: who holds which advisory lock right now (for checks and the bench): the lock's key
#: (a bigint split over classid and objid) and the holding replica, from its backend pid
HOLDERS = """
SELECT l.classid::text::bigint AS high, l.objid::text::bigint AS low, r.id AS replica
FROM pg_locks l JOIN replicas r ON r.backend_pid = l.pid
WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"""


@dataclass(frozen=True)
class Replica:
    """A live replica and the number of clusters it said it leads at its last beat."""

    id: str
    leading: int


def identity() -> tuple[str, int]:
    """This process's host name and pid (what the row shows an operator)."""
    return socket.gethostname(), os.getpid()


async def beat(conn: asyncpg.Connection, replica: str, *, leading: int,
               live_seconds: float) -> list[Replica]:
    """Say this replica is alive and leads ``leading`` clusters; every live replica
    (seen within ``live_seconds``), this one first."""
    host, pid = identity()
    rows = await conn.fetch(BEAT, replica, host, pid, leading, live_seconds)
    return [Replica(id=row["id"], leading=row["leads"]) for row in rows]


async def forget(conn: asyncpg.Connection | asyncpg.Pool, replica: str) -> None:
    """Remove the row at shutdown, so the others count one replica fewer at once."""
    await conn.execute(FORGET, replica)


async def holders(conn: asyncpg.Connection | asyncpg.Pool) -> list[tuple[int, str]]:
    """``(lock key, replica id)`` of every advisory lock held by a replica's session."""
    rows = await conn.fetch(HOLDERS)
    return [(_signed(row["high"], row["low"]), row["replica"]) for row in rows]


def _signed(high: int, low: int) -> int:
    """pg_locks shows a bigint key as two unsigned 32-bit halves; back to the signed key."""
    key = (high << 32) | low
    return key - (1 << 64) if key >= (1 << 63) else key
