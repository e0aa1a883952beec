"""The controller's machinery that does not know about Proxmox: tasks, backoff, leadership.

- :class:`TaskGroup` starts every long-lived task under a name and guards it: a task that
  raises, or returns while the daemon is not stopping, is logged and makes the daemon
  stop with a failure (systemd then restarts it). No fire-and-forget ``create_task``.
- :class:`Backoff` is the retry delay of a failing reconcile: exponential from 1 s to
  10 min with jitter, reset by any success. Pure.
- :class:`LeaderElection` holds a PostgreSQL *session* advisory lock, one per cluster,
  on a connection of its own (not the pool's: a pooled connection would hand the lock
  to whoever borrows it next). Holding the lock is being the leader. The connection is
  checked every few seconds; if it breaks, leadership is dropped at once (the server
  releases the lock when the session ends, so another replica can take it), and the
  worker is told to stop applying.
- :class:`DatabaseSupervisor` checks every few seconds that the database takes new
  connections (:class:`~mycopod.store.db.ConnectivityCheck`) and, for the embedded
  server, starts it again when its postmaster is gone or shutting down: at once, then
  with backoff. The pool reconnects by itself and leadership is taken again through
  the election's own checks, so recovery needs nothing else.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog

from mycopod import telemetry

if TYPE_CHECKING:
    from mycopod.store.db import ConnectivityCheck

log = structlog.get_logger(__name__)

__all__ = ["Backoff", "DatabaseSupervisor", "LeaderElection", "TaskGroup", "lock_key"]


def lock_key(cluster: str) -> int:
    """The advisory lock key of a cluster: 64 bits of sha256, as a signed bigint."""
    digest = hashlib.sha256(f"mycopod-leader:{cluster}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Backoff:
    """Exponential backoff with jitter: ``base`` doubling up to ``cap`` seconds."""

    def __init__(self, base: float = 1.0, cap: float = 600.0,
                 rng: Callable[[], float] = random.random) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0
        self._rng = rng

    def failure(self) -> float:
        """Count a failure; return how long to wait before the next attempt."""
        self.failures += 1
        ceiling = min(self.cap, self.base * 2 ** (self.failures - 1))
        # "Equal jitter": at least half the ceiling, so retries never bunch up at ~0.
        return float(max(self.base, ceiling / 2 + self._rng() * ceiling / 2))

    def success(self) -> None:
        self.failures = 0

    @property
    def failing(self) -> bool:
        return self.failures > 0


class TaskGroup:
    """Named, guarded background tasks. ``on_death(name, exc)`` is called when one dies."""

    def __init__(self, on_death: Callable[[str, BaseException | None], None], *,
                 is_stopping: Callable[[], bool] = lambda: False) -> None:
        self._on_death = on_death
        self._is_stopping = is_stopping
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.stopping = False

    def spawn(self, name: str, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        if name in self._tasks and not self._tasks[name].done():
            coro.close()
            raise RuntimeError(f"task {name} is already running")
        task = asyncio.create_task(self._guard(name, coro), name=name)
        self._tasks[name] = task
        return task

    async def _guard(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("task.died", task=name, error=f"{type(exc).__name__}: {exc}",
                      exc_info=exc)
            self._on_death(name, exc)
        else:
            if not (self.stopping or self._is_stopping()):
                log.error("task.exited", task=name)
                self._on_death(name, None)

    def names(self) -> list[str]:
        return sorted(n for n, t in self._tasks.items() if not t.done())

    async def cancel_all(self, *, grace: float = 5.0) -> None:
        """Cancel every task and wait (up to ``grace`` seconds) until they are gone."""
        self.stopping = True
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                log.warning("task.stuck", task=task.get_name())
        self._tasks.clear()


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

    def _set(self, leader: bool, reason: str) -> None:
        if leader == self.leader:
            return
        self.leader = leader
        telemetry.LEADER.set(1 if leader else 0)
        log.info("leader.acquired" if leader else "leader.lost", cluster=self.cluster,
                 reason=reason)
        self.changed.set()
        if self._on_change is not None:
            self._on_change(leader)

    def _terminated(self, _conn: Any) -> None:
        # asyncpg calls this when the connection closes under us: no more lock.
        self._set(False, "database connection closed")

    async def _connect(self) -> asyncpg.Connection:
        settings = {
            "application_name": f"mycopod-leader-{self.cluster}",
            # Over TCP, let the server notice a vanished leader within ~10 s and free
            # its lock (ignored on Unix sockets, where a dead peer is seen at once).
            "tcp_keepalives_idle": "5",
            "tcp_keepalives_interval": "2",
            "tcp_keepalives_count": "3",
            "tcp_user_timeout": "9000",
        }
        try:
            conn = await asyncpg.connect(self.url, password=self.password,
                                         timeout=max(self.check_seconds, 5.0),
                                         server_settings=settings)
        except asyncpg.UndefinedObjectError:  # PostgreSQL < 12: no tcp_user_timeout
            settings.pop("tcp_user_timeout")
            conn = await asyncpg.connect(self.url, password=self.password,
                                         timeout=max(self.check_seconds, 5.0),
                                         server_settings=settings)
        conn.add_termination_listener(self._terminated)
        return conn

    async def step(self) -> None:
        """One check: connect if needed, then try the lock (standby) or ping (leader)."""
        timeout = max(self.check_seconds, 2.0)
        try:
            if self._conn is None or self._conn.is_closed():
                self._conn = await self._connect()
            if self.leader:
                await asyncio.wait_for(self._conn.fetchval("SELECT 1"), timeout)
            else:
                got = await asyncio.wait_for(
                    self._conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key), timeout)
                if got:
                    self._set(True, "lock acquired")
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
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
        """Give the lock back (at shutdown) so a standby takes over without waiting."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        conn.remove_termination_listener(self._terminated)
        try:
            if self.leader and not conn.is_closed():
                await asyncio.wait_for(
                    conn.fetchval("SELECT pg_advisory_unlock($1)", self.key), 2)
            await asyncio.wait_for(conn.close(), 2)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            conn.terminate()
        self._set(False, "released at shutdown")


class DatabaseSupervisor:
    """Watches the database; restarts the embedded one. Run :meth:`run` as a task.

    ``restart`` (None for a database MycoPod does not run) must leave a live server
    alone: a check can fail on a busy server, and only a dead or stopping one is
    restarted. Attempts are spaced by :class:`Backoff` (1 s doubling up to
    ``restart_max_seconds``), which is reset once the database has stayed up for
    ``stable_seconds``, so a server that keeps crashing is not restarted in a tight
    loop. ``after_restart`` runs once the restarted server answers (the daemon drops
    the pool's old connections there).
    """

    def __init__(self, check: ConnectivityCheck, *, check_seconds: float = 2.0,
                 restart: Callable[[], Awaitable[None]] | None = None,
                 after_restart: Callable[[], Awaitable[None]] | None = None,
                 restart_max_seconds: float = 60.0, stable_seconds: float = 30.0,
                 rng: Callable[[], float] = random.random) -> None:
        self.check = check
        self.check_seconds = check_seconds
        self.restart = restart
        self.after_restart = after_restart
        self.stable_seconds = stable_seconds
        self.backoff = Backoff(base=1.0, cap=restart_max_seconds, rng=rng)
        self.up: bool | None = None
        self.restart_attempts = 0
        self._next_attempt = 0.0
        self._up_since: float | None = None

    def _set(self, up: bool) -> None:
        if up == self.up:
            return
        self.up = up
        if up:
            log.info("database.up")
        else:
            log.error("database.down", error=self.check.error,
                      note="restarting the embedded server" if self.restart else
                      "waiting for it to come back")

    async def step(self) -> None:
        """One check; one restart attempt if it failed and the backoff allows."""
        ok = await self.check.check(max_age=0)
        now = time.monotonic()
        if ok:
            self._set(True)
            if self._up_since is None:
                self._up_since = now
            if self.backoff.failing and now - self._up_since >= self.stable_seconds:
                self.backoff.success()
            return
        self._set(False)
        self._up_since = None
        if self.restart is None or now < self._next_attempt:
            return
        delay = self.backoff.failure()
        self._next_attempt = now + delay
        self.restart_attempts += 1
        try:
            await self.restart()
        except Exception as exc:  # cannot start now: try again after the delay
            log.error("database.restart_failed", attempt=self.backoff.failures,
                      error=f"{type(exc).__name__}: {exc}", retry_in=round(delay, 1))
            return
        if await self.check.check(max_age=0):
            log.info("database.restarted", attempt=self.backoff.failures)
            self._set(True)
            self._up_since = time.monotonic()
            if self.after_restart is not None:
                await self.after_restart()

    async def run(self) -> None:
        while True:
            await self.step()
            await asyncio.sleep(self.check_seconds)
