"""How many requests one client has in flight at once: overall, and per node.

``[proxmox] max_workers`` requests at once, reads and writes together, and ``per_node``
of them (by default half of that, rounded up) on one node's paths
(``/nodes/{node}/...``): a node answers for its own guests (Proxmox proxies such a call
to that node), so a full resync that reads 10,000 configs is spread over the nodes
instead of piling onto whichever node's guests come first. A request waits for its two
slots before it is sent. The counters (the most in flight at once, overall and per
node) let the benchmark and the tests check that the limits hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator

__all__ = ["RequestLimits", "node_of"]


def node_of(path: str) -> str | None:
    """The node a path belongs to: ``/nodes/pve1/qemu/101/config`` → ``pve1``."""
    if not path.startswith("/nodes/"):
        return None
    return path.split("/", 3)[2] or None


class RequestLimits:
    def __init__(self, total: int, per_node: int | None = None) -> None:
        if total < 1 or (per_node is not None and per_node < 1):
            raise ValueError("request limits must be at least 1")
        self.total = total
        self.per_node = min(total, per_node or max(1, math.ceil(total / 2)))
        self._slots = asyncio.Semaphore(total)
        self._node_slots: dict[str, asyncio.Semaphore] = {}
        self._node_in_flight: dict[str, int] = {}
        #: requests in flight now, and the most there were at once (overall, per node)
        self.in_flight = 0
        self.max_in_flight = 0
        self.max_in_flight_per_node: dict[str, int] = {}

    def reset_peaks(self) -> None:
        """Start counting the most in flight afresh (the benchmark, per phase)."""
        self.max_in_flight = self.in_flight
        self.max_in_flight_per_node = {n: c for n, c in self._node_in_flight.items() if c}

    @contextlib.asynccontextmanager
    async def slot(self, path: str) -> AsyncIterator[None]:
        """A place among the requests in flight: overall, and on the path's node."""
        node = node_of(path)
        if node is None:
            async with self._slots:
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    yield
                finally:
                    self.in_flight -= 1
            return
        node_slots = self._node_slots.get(node)
        if node_slots is None:
            node_slots = self._node_slots[node] = asyncio.Semaphore(self.per_node)
        # the node's slot first: a request waiting for a busy node holds no overall slot
        # that a request for another node could use
        async with node_slots, self._slots:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            count = self._node_in_flight[node] = self._node_in_flight.get(node, 0) + 1
            if count > self.max_in_flight_per_node.get(node, 0):
                self.max_in_flight_per_node[node] = count
            try:
                yield
            finally:
                self.in_flight -= 1
                self._node_in_flight[node] -= 1
