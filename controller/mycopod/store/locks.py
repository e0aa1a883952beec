"""Session-level PostgreSQL advisory locks and the liveness ping: the SQL in one place.

The cluster's leader lock (:mod:`mycopod.reconcile.leader`, and ``mycopod reconcile
--once``), the migration lock and the declarations submission lock are all advisory
locks held by one connection; they vanish with it, which is what makes a crashed holder
safe. Each caller keeps its own key.
"""

from __future__ import annotations

import asyncpg

__all__ = ["PING", "connect", "ping", "try_lock", "unlock"]

PING = "SELECT 1"
TRY_LOCK = "SELECT pg_try_advisory_lock($1)"
UNLOCK = "SELECT pg_advisory_unlock($1)"


async def connect(url: str, *, password: str | None, connect_timeout: float,
                  application_name: str) -> asyncpg.Connection:
    """A connection of its own for a holder of session locks (not the pool's: a pooled
    connection would hand the locks to whoever borrows it next).

    Over TCP, the server is told to notice a vanished holder within ~10 s and free its
    locks (ignored on Unix sockets, where a dead peer is seen at once)."""
    settings = {
        "application_name": application_name,
        "tcp_keepalives_idle": "5",
        "tcp_keepalives_interval": "2",
        "tcp_keepalives_count": "3",
        "tcp_user_timeout": "9000",
    }
    try:
        return await asyncpg.connect(url, password=password, timeout=connect_timeout,
                                     server_settings=settings)
    except asyncpg.UndefinedObjectError:  # PostgreSQL < 12: no tcp_user_timeout
        settings.pop("tcp_user_timeout")
        return await asyncpg.connect(url, password=password, timeout=connect_timeout,
                                     server_settings=settings)


async def try_lock(conn: asyncpg.Connection, key: int) -> bool:
    """Take the lock ``key`` on this connection if nobody holds it; whether it did."""
    return bool(await conn.fetchval(TRY_LOCK, key))


async def unlock(conn: asyncpg.Connection, key: int) -> bool:
    """Give the lock back; False if this connection did not hold it."""
    return bool(await conn.fetchval(UNLOCK, key))


async def ping(conn: asyncpg.Connection | asyncpg.Pool) -> bool:
    """The database answers ``SELECT 1`` on this connection (or a pool's)."""
    return bool(await conn.fetchval(PING) == 1)
