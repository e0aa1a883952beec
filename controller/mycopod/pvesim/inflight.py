"""How many API requests the simulator is answering at once, overall and per node.

What a client's request limits look like from the cluster's side: the benchmark and the
tests read the peaks (``GET /_sim/stats``) to check that a full resync stays within
``[proxmox] max_workers`` overall and the per-node limit. A request counts from its
arrival (before the simulated latency) to its answer; its node is the one its path
names (``/api2/json/nodes/{node}/...``), none for cluster-wide paths. ``POST
/_sim/stats`` starts the peaks afresh.
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable, Iterator

NODES_PREFIX = "/api2/json/nodes/"


class InFlight:
    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self.requests = 0
        self.per_node: dict[str, int] = {}
        self.peak_per_node: dict[str, int] = {}
        #: connections that carried a request since the last reset
        self.connections = 0
        self._seen: set[Hashable] = set()

    def reset(self) -> None:
        self.peak, self.requests = self.now, 0
        self.peak_per_node = {n: c for n, c in self.per_node.items() if c}
        self.connections = 0
        self._seen = set()

    def connection(self, connection: Hashable) -> None:
        """Count ``connection`` (the client's address and port) once."""
        if connection not in self._seen:
            self._seen.add(connection)
            self.connections += 1

    @contextlib.contextmanager
    def request(self, raw_path: str) -> Iterator[None]:
        node = (raw_path[len(NODES_PREFIX):].split("/", 1)[0]
                if raw_path.startswith(NODES_PREFIX) else "")
        self.requests += 1
        self.now += 1
        self.peak = max(self.peak, self.now)
        if node:
            count = self.per_node[node] = self.per_node.get(node, 0) + 1
            self.peak_per_node[node] = max(self.peak_per_node.get(node, 0), count)
        try:
            yield
        finally:
            self.now -= 1
            if node:
                self.per_node[node] -= 1

    def stats(self) -> dict[str, object]:
        return {"requests": self.requests, "in_flight": self.now, "peak": self.peak,
                "peak_per_node": dict(sorted(self.peak_per_node.items())),
                "connections": self.connections}
