"""The simulator's parts wired together: options, cluster, tasks, faults, auth, schema.

Handlers receive one ``Sim`` and the request's parameters; nothing else is global, so
several simulators can run in one process (tests start one per test).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mycopod.pvesim import persistence, resources, schema
from mycopod.pvesim.auth import Authenticator, Credentials
from mycopod.pvesim.errors import ApiError
from mycopod.pvesim.faults import Faults, FaultSettings
from mycopod.pvesim.inflight import InFlight
from mycopod.pvesim.requestlog import RequestLog
from mycopod.pvesim.resources import ResourceCache
from mycopod.pvesim.state import Cluster
from mycopod.pvesim.tasks import TaskRunner


@dataclass
class SimOptions:
    host: str = "127.0.0.1"
    port: int = 8006
    nodes: int = 3
    tls: bool = True
    cert: Path | None = None
    key: Path | None = None
    latency_ms: float = 0.0
    fault_rate: float = 0.0
    task_fail_rate: float = 0.0
    task_seconds: float = 0.2
    #: how long a second operation waits for a guest's config lock (PVE: 10 s)
    lock_timeout: float = 10.0
    #: how often pvestatd refreshes a guest's name, status and usage in
    #: ``/cluster/resources`` (PVE: about 10 s; 0: at once)
    stats_interval: float = 10.0
    #: how long the HA manager takes to act on a request (``hastart``, ``hastop``, ...)
    ha_seconds: float = 2.0
    seed: int | None = None
    state_file: Path | None = None
    #: append one JSON line per answered API request here (``requestlog``); None: off
    request_log: Path | None = None
    user: str = "root@pam"
    password: str = "mycopod"  # noqa: S105 - documented demo default
    token_id: str = "root@pam!mycopod"  # noqa: S105 - documented demo default
    token_secret: str = "mycopod-token"  # noqa: S105 - documented demo default
    #: a second API token with only the PVEAuditor role on / (see ``acl``)
    audit_token_id: str = "mycopod@pve!audit"  # noqa: S105 - documented demo default
    audit_token_secret: str = "mycopod-audit"  # noqa: S105 - documented demo default
    clock: Callable[[], float] = field(default=time.time)


@dataclass
class Request:
    """What a handler needs to know about the call besides its parameters."""

    user: str
    params: dict[str, Any]
    #: the same parameters as sent (strings, or JSON scalars), for storing in configs
    raw: dict[str, Any]
    #: made by the HA manager itself (PVE's rpcenv type 'ha'): not handed back to it
    via_ha: bool = False


class Sim:
    def __init__(self, options: SimOptions, cluster: Cluster | None = None) -> None:
        self.options = options
        self.schema = schema.load()
        self.cluster = cluster or persistence.load_or_create(
            options.state_file, node_count=options.nodes, clock=options.clock, seed=options.seed
        )
        self.faults = Faults(
            FaultSettings(
                fault_rate=options.fault_rate,
                task_fail_rate=options.task_fail_rate,
                latency_ms=options.latency_ms,
            ),
            seed=options.seed,
        )
        self.auth = Authenticator(
            Credentials(options.user, options.password, options.token_id, options.token_secret,
                        more_tokens={options.audit_token_id: options.audit_token_secret}),
            clock=options.clock,
        )
        self.resource_cache = ResourceCache(options.stats_interval)
        self.request_log = RequestLog(options.request_log) if options.request_log else None
        #: requests being answered now, and the peaks (GET /_sim/stats)
        self.in_flight = InFlight()
        # pvestatd has long been running: the guests there are have their stats
        with self.cluster.lock:
            resources.stats_round(self.cluster)
        self.tasks = TaskRunner(
            self.cluster,
            self.faults,
            task_seconds=options.task_seconds,
            lock_timeout=options.lock_timeout,
        )

    def check_node(self, node: str) -> None:
        if node not in self.cluster.nodes:
            raise ApiError(
                500,
                f"hostname lookup '{node}' failed - failed to get address info for: {node}: "
                "Name or service not known",
            )
