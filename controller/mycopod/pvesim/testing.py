"""The simulator for tests: in a background thread, on a free port, over TLS.

``running_simulator(**options)`` starts a simulator in its own thread and event loop on
127.0.0.1 and yields a ``SimHandle``; blocking clients such as proxmoxer can call it
from the test's thread. Options are the CLI flags' names (``nodes``, ``tls``,
``latency_ms``, ``fault_rate``, ``task_fail_rate``, ``task_seconds``, ``lock_timeout``,
``stats_interval``, ``ha_seconds``, ``seed``, ``state_file``, ``user``, ``password``,
``token_id``, ``token_secret``, ``clock``).
For tests that run their own loop, ``SimServer`` (re-exported here) has async
``start``/``stop``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mycopod.pvesim import resources
from mycopod.pvesim.core import Sim, SimOptions
from mycopod.pvesim.server import SimServer
from mycopod.pvesim.state import Cluster

__all__ = ["SimHandle", "SimServer", "running_simulator"]


@dataclass
class SimHandle:
    url: str
    host: str
    port: int
    cluster: Cluster
    sim: Sim
    user: str
    password: str
    token_id: str
    token_secret: str

    @property
    def token_name(self) -> str:
        """The part after ``!`` (proxmoxer's ``token_name``)."""
        return self.token_id.split("!", 1)[1]

    def set_faults(
        self,
        *,
        fault_rate: float | None = None,
        task_fail_rate: float | None = None,
        latency_ms: float | None = None,
        slow_seconds: float | None = None,
        lost_answer_rate: float | None = None,
    ) -> dict[str, Any]:
        changes = {
            k: v
            for k, v in {
                "fault_rate": fault_rate,
                "task_fail_rate": task_fail_rate,
                "latency_ms": latency_ms,
                "slow_seconds": slow_seconds,
                "lost_answer_rate": lost_answer_rate,
            }.items()
            if v is not None
        }
        settings = self.sim.faults.update(**changes)
        return dict(vars(settings))

    def fail_guests(self, *vmids: int) -> frozenset[int]:
        """Every request under these guests' paths answers 500 from now on (config
        reads included); ``fail_guests()`` ends it."""
        return self.sim.faults.fail_guests(vmids)

    def stats_round(self) -> None:
        """Run pvestatd's stats round now (``/cluster/resources`` catches up)."""
        with self.cluster.lock:
            resources.stats_round(self.cluster)
            self.cluster.touch()

    def post_faults(self, **changes: float) -> dict[str, Any]:
        """The same through ``POST /_sim/faults`` over HTTP (what a non-Python test uses)."""
        import ssl

        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        req = urllib.request.Request(  # noqa: S310 - our own simulator URL
            f"{self.url}/_sim/faults",
            data=json.dumps(changes).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:  # noqa: S310
            return dict(json.loads(resp.read()))


@contextmanager
def running_simulator(**options: Any) -> Iterator[SimHandle]:
    options.setdefault("host", "127.0.0.1")
    options.setdefault("port", 0)
    if isinstance(options.get("state_file"), str):
        options["state_file"] = Path(options["state_file"])
    opts = SimOptions(**options)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="pvesim-loop", daemon=True)
    thread.start()
    server = SimServer(opts)
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=30)
        assert server.sim is not None
        yield SimHandle(
            url=server.url,
            host=opts.host,
            port=server.port,
            cluster=server.sim.cluster,
            sim=server.sim,
            user=opts.user,
            password=opts.password,
            token_id=opts.token_id,
            token_secret=opts.token_secret,
        )
    finally:
        try:
            asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=30)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()
