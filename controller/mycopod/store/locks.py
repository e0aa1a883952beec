"""Session-level PostgreSQL advisory locks and the liveness ping: the SQL in one place.

The cluster's leader lock (:mod:`mycopod.reconcile.leader`, and ``mycopod reconcile
--once``), the migration lock and the declarations submission lock are all advisory
locks held by one connection; they vanish with it, which is what makes a crashed holder
safe. Each caller keeps its own key.
"""

from __future__ import annotations

import asyncpg

__all__ = ["PING", "ping", "try_lock", "unlock"]

PING = "SELECT 1"
TRY_LOCK = "SELECT pg_try_advisory_lock($1)"
UNLOCK = "SELECT pg_advisory_unlock($1)"


async def try_lock(conn: asyncpg.Connection, key: int) -> bool:
    """Take the lock ``key`` on this connection if nobody holds it; whether it did."""
    return bool(await conn.fetchval(TRY_LOCK, key))


async def unlock(conn: asyncpg.Connection, key: int) -> bool:
    """Give the lock back; False if this connection did not hold it."""
    return bool(await conn.fetchval(UNLOCK, key))


async def ping(conn: asyncpg.Connection | asyncpg.Pool) -> bool:
    """The database answers ``SELECT 1`` on this connection (or a pool's)."""
    return bool(await conn.fetchval(PING) == 1)
