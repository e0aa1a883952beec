"""A webhook wakes the leader of every cluster its repository feeds in one round trip
(``wakeups.notify_many``, issue 17): each named cluster's listener is woken to fetch,
another cluster's is not."""

from __future__ import annotations

import asyncio

import asyncpg

from mycopod.reconcile import wakeups as listening
from mycopod.runtime import RuntimeStatus
from mycopod.store import wakeups


async def test_one_notify_wakes_each_named_cluster_and_no_other(db: asyncpg.Pool) -> None:
    runtimes = {name: RuntimeStatus(cluster=name) for name in ("a", "b", "c")}
    tasks = [asyncio.create_task(listening.listen(db, rt, cluster=name))
             for name, rt in runtimes.items()]
    try:
        async def listening_all() -> None:  # LISTEN in effect: each says so at start
            while not all(rt.wake_reconcile.is_set() for rt in runtimes.values()):
                await asyncio.sleep(0.02)

        await asyncio.wait_for(listening_all(), 10)
        await wakeups.notify_many(db, wakeups.FETCH, ["a", "b"])
        await asyncio.wait_for(runtimes["a"].wake_fetch.wait(), 5)
        await asyncio.wait_for(runtimes["b"].wake_fetch.wait(), 5)
        await asyncio.sleep(0.2)
        assert not runtimes["c"].wake_fetch.is_set()
        await wakeups.notify_many(db, wakeups.FETCH, [])  # nothing to send
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
