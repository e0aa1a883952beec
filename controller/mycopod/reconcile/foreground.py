"""Foreground work first, in a replica that leads several clusters (issue 17).

Right after a takeover a replica runs the full resync of every cluster it took, on one
event loop; a push to one of them then waited for those thousands of reads to share the
loop with its compile and its run. Here a cluster's *foreground* work (the poller's
handling of a webhook's new head, a run being applied) holds back the *background* reads
of the other clusters (the drift check's observations, a full resync among them): each
of their readers waits before its next read until no other cluster has foreground work.

- A cluster's own background reads are never held back while it has foreground work of
  its own: its run may be waiting for that very observation (``EngineContext.observing``).
  So two clusters each waiting for the other cannot happen.
- A wait is bounded (``MAX_WAIT_SECONDS``): a stream of pushes to one cluster delays the
  others' drift checks, never stops them.

Only a deployment with several clusters builds one (:mod:`mycopod.daemon`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator

__all__ = ["MAX_WAIT_SECONDS", "Foreground"]

#: the longest a background read waits for other clusters' foreground work
MAX_WAIT_SECONDS = 15.0


class Foreground:
    """The clusters with foreground work in this process, and the wait for them."""

    def __init__(self, *, max_wait: float = MAX_WAIT_SECONDS) -> None:
        self.max_wait = max_wait
        self._busy: Counter[str] = Counter()
        self._changed = asyncio.Condition()
        #: background reads that waited (for /metrics-like checks and tests)
        self.waits = 0

    @contextlib.asynccontextmanager
    async def work(self, cluster: str) -> AsyncIterator[None]:
        """Foreground work of ``cluster`` for the duration of the block."""
        self._busy[cluster] += 1
        try:
            yield
        finally:
            self._busy[cluster] -= 1
            if not self._busy[cluster]:
                del self._busy[cluster]
            async with self._changed:
                self._changed.notify_all()

    def holds_back(self, cluster: str) -> bool:
        """Must a background read of ``cluster`` wait: another cluster has foreground
        work and this one has none?"""
        busy = self._busy
        return bool(busy) and cluster not in busy

    async def wait_turn(self, cluster: str) -> None:
        """Wait (at most ``max_wait``) until :meth:`holds_back` is false for ``cluster``."""
        if not self.holds_back(cluster):
            return
        self.waits += 1
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.max_wait), self._changed:
                await self._changed.wait_for(lambda: not self.holds_back(cluster))
