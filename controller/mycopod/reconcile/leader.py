"""Leader election: which replica reconciles a cluster.

:class:`LeaderElection` holds a PostgreSQL *session* advisory lock, one per cluster, on
a connection of its own (not the pool's: a pooled connection would hand the lock to
whoever borrows it next). Holding the lock is being the leader. The connection is
checked every few seconds; if it breaks, leadership is dropped at once (the server
releases the lock when the session ends, so another replica can take it) and
:attr:`LeaderElection.changed` is set.

An asyncpg connection runs one operation at a time; a second one started meanwhile
fails with "another operation is in progress". The checks (the election's task) and the
release at shutdown (the daemon's close) come from different tasks, so every use of the
connection, connecting and dropping it included, holds :attr:`LeaderElection._busy`.

This module only says who leads. What needs leadership is decided in one place, the
composition root (:mod:`mycopod.daemon`), which starts the leader-only tasks when the
lock is taken and cancels them when it is lost (controller-runtime's
``leaderelection`` package and its manager, kopf's ``peering``). The one-shot
``mycopod reconcile`` takes the same lock (:func:`lock_key`) for its single run.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import Any

import asyncpg
import structlog

from mycopod import telemetry
from mycopod.store import locks

log = structlog.get_logger(__name__)

__all__ = ["LeaderElection", "lock_key"]


def lock_key(cluster: str) -> int:
    """The advisory lock key of a cluster: 64 bits of sha256, as a signed bigint."""
    digest = hashlib.sha256(f"mycopod-leader:{cluster}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class LeaderElection:
    """One cluster's leader lock. Run :meth:`run` as a task; read :attr:`leader`."""

    def __init__(self, url: str, *, cluster: str, password: str | None = None,
                 check_seconds: float = 3.0,
                 on_change: Callable[[bool], None] | None = None) -> None:
        self.url = url
        self.password = password
        self.cluster = cluster
        self.key = lock_key(cluster)
        self.check_seconds = check_seconds
        self.leader = False
        self.changed = asyncio.Event()
        self._on_change = on_change
        self._conn: asyncpg.Connection | None = None
        #: held by whatever uses ``_conn`` (see the module docstring)
        self._busy = asyncio.Lock()

    def _set(self, leader: bool, reason: str) -> None:
        if leader == self.leader:
            return
        self.leader = leader
        telemetry.LEADER.labels(cluster=self.cluster).set(1 if leader else 0)
        log.info("leader.acquired" if leader else "leader.lost", cluster=self.cluster,
                 reason=reason)
        self.changed.set()
        if self._on_change is not None:
            self._on_change(leader)

    def _terminated(self, _conn: Any) -> None:
        # asyncpg calls this when the connection closes under us: no more lock.
        self._set(False, "database connection closed")

    async def _connect(self) -> asyncpg.Connection:
        conn = await locks.connect(self.url, password=self.password,
                                   connect_timeout=max(self.check_seconds, 5.0),
                                   application_name=f"mycopod-leader-{self.cluster}")
        conn.add_termination_listener(self._terminated)
        return conn

    async def step(self) -> None:
        """One check: connect if needed, then try the lock (standby) or ping (leader)."""
        async with self._busy:
            await self._check()

    async def _check(self) -> None:
        timeout = max(self.check_seconds, 2.0)
        try:
            if self._conn is None or self._conn.is_closed():
                self._conn = await self._connect()
            if self.leader:
                await asyncio.wait_for(locks.ping(self._conn), timeout)
            else:
                got = await asyncio.wait_for(locks.try_lock(self._conn, self.key), timeout)
                if got:
                    self._set(True, "lock acquired")
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError,
                asyncpg.InternalClientError) as exc:
            self._set(False, f"{type(exc).__name__}: {exc}")
            log.warning("leader.check_failed", cluster=self.cluster, error=str(exc) or
                        type(exc).__name__)
            await self._drop_connection()

    async def run(self) -> None:
        while True:
            await self.step()
            await asyncio.sleep(self.check_seconds)

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.remove_termination_listener(self._terminated)
            conn.terminate()

    async def release(self) -> None:
        """Give the lock back (at shutdown) so a standby takes over without waiting.

        A check under way is waited for (its own timeouts bound it), so the two never
        share the connection."""
        async with self._busy:
            await self._release()

    async def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        conn.remove_termination_listener(self._terminated)
        try:
            if self.leader and not conn.is_closed():
                await asyncio.wait_for(locks.unlock(conn, self.key), 2)
            await asyncio.wait_for(conn.close(), 2)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError,
                asyncpg.InternalClientError):
            conn.terminate()
        self._set(False, "released at shutdown")
