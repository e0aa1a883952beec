"""The leader's ear: ``LISTEN`` for wake-ups other replicas send (task ``wake-listener``).

Any replica serves the API, but only the leader claims runs and queues commits. A
``POST /reconcile``, an approval, a webhook or a ``POST /declarations`` that lands on a
standby is recorded there and announced with ``pg_notify``
(:mod:`mycopod.store.wakeups`); this task, run only while leading (the composition root
gates it), holds one pooled connection that ``LISTEN``s and turns each notification for
its cluster into the same in-process event a local request sets: ``wake_reconcile`` for
the run worker, ``wake_fetch`` for the repository poller (which then treats the fetch as
a webhook's). If that connection is lost, it listens again on a new one after a short
pause; meanwhile the worker's and the poller's own polls still find the work.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg
import structlog

from mycopod.runtime import RuntimeStatus
from mycopod.store import wakeups

log = structlog.get_logger(__name__)

__all__ = ["listen"]

#: how often the listening connection is checked (a lost one is replaced)
CHECK_SECONDS = 2.0


def _wake(runtime: RuntimeStatus, cluster: str, payload: str) -> None:
    what, target = wakeups.parse(payload)
    if target != cluster:
        return
    if what == wakeups.RECONCILE:
        runtime.wake_reconcile.set()
    elif what == wakeups.FETCH:
        runtime.wake_fetch.set()
    log.debug("wakeup.received", what=what, cluster=target)


async def listen(pool: asyncpg.Pool, runtime: RuntimeStatus, *, cluster: str) -> None:
    """Listen until cancelled; re-listen on a new connection when one is lost."""
    def received(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
        _wake(runtime, cluster, payload)

    while True:
        conn: Any = None
        try:
            conn = await pool.acquire(timeout=CHECK_SECONDS * 5)
            await conn.add_listener(wakeups.CHANNEL, received)
            # anything announced before LISTEN took effect: the worker looks now
            runtime.wake_reconcile.set()
            while True:
                await asyncio.sleep(CHECK_SECONDS)
                # a dead socket shows here, within a bound
                await conn.execute("SELECT 1", timeout=CHECK_SECONDS * 2)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError,
                asyncpg.InternalClientError) as exc:
            log.warning("wakeup.listen_failed", error=f"{type(exc).__name__}: {exc}")
        finally:
            if conn is not None:
                # the LISTEN dies with the socket; closing it never waits (a database that
                # went away, or a leadership given up, must not hold this task: the
                # composition root restarts it when leading again)
                # (the pool may have taken it back already, when the database restarted)
                with contextlib.suppress(Exception):
                    conn.terminate()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(pool.release(conn), CHECK_SECONDS)
        await asyncio.sleep(CHECK_SECONDS)
