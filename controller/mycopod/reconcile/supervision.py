"""The daemon's machinery that does not know about Proxmox: guarded tasks, the database.

- :class:`TaskGroup` starts every long-lived task under a name and guards it: a task that
  raises, or returns while the daemon is not stopping, is logged and makes the daemon
  stop with a failure (systemd then restarts it). No fire-and-forget ``create_task``.
- :class:`DatabaseSupervisor` checks every few seconds that the database takes new
  connections (:class:`~mycopod.store.db.ConnectivityCheck`) and, for the embedded
  server, starts it again when its postmaster is gone or shutting down: at once, then
  with backoff. The pool reconnects by itself and leadership is taken again through
  the election's own checks, so recovery needs nothing else.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import structlog

from mycopod.backoff import Backoff

if TYPE_CHECKING:
    from mycopod.store.db import ConnectivityCheck

log = structlog.get_logger(__name__)

__all__ = ["DatabaseSupervisor", "TaskGroup"]


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

    async def cancel(self, names: list[str], *, grace: float = 5.0) -> None:
        """Cancel these tasks (a cancelled task is not a death) and wait (up to ``grace``
        seconds) until they are gone, so they can be spawned again."""
        tasks = [t for n, t in self._tasks.items() if n in names and not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                log.warning("task.stuck", task=task.get_name())

    async def cancel_all(self, *, grace: float = 5.0) -> None:
        """Cancel every task and wait (up to ``grace`` seconds) until they are gone."""
        self.stopping = True
        await self.cancel(list(self._tasks), grace=grace)
        self._tasks.clear()


class DatabaseSupervisor:
    """Watches the database; restarts the embedded one. Run :meth:`run` as a task.

    ``restart`` (None for a database MycoPod does not run) must leave a live server
    alone: a check can fail on a busy server, and only a dead or stopping one is
    restarted. Attempts are spaced by :class:`~mycopod.backoff.Backoff` (1 s doubling up to
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
