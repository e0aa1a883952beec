"""What the running daemon knows about itself, shared by the controller and the API.

The controller's tasks write it (leadership, the last Proxmox contact, the repository
head, the last good reconcile); the API reads it for ``/health`` and the status page and
sets its events to wake the controller (a manual reconcile, a webhook push). It is plain
in-process state: other replicas learn about requests through the database instead.

Proxmox reachability is the outcome of the latest Proxmox call, whoever made it (a run,
the drift checker, the API): :meth:`RuntimeStatus.proxmox_outcome` is the Proxmox
client's listener. The database's is asked afresh (``database``), never remembered here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mycopod.declarations.facts import ClusterFacts
    from mycopod.proxmox.cluster_facts import FactsKeeper
    from mycopod.reconcile.plan import ClusterReport
    from mycopod.store.db import ConnectivityCheck


@dataclass
class RuntimeStatus:
    cluster: str = "default"
    #: this process holds the reconcile lock
    leader: bool = False
    proxmox_ok: bool | None = None
    proxmox_last_contact: datetime | None = None
    proxmox_error: str | None = None
    repo_head: str | None = None
    repo_last_fetch: datetime | None = None
    repo_error: str | None = None
    #: the newest commit's compile error (the last good spec stays in force); None when
    #: it compiled
    compile_error: str | None = None
    last_successful_reconcile: datetime | None = None
    #: the latest observed-vs-declared report, for the status page (set by the controller)
    report: ClusterReport | None = None
    #: set to wake the run worker (a run was queued)
    wake_reconcile: asyncio.Event = field(default_factory=asyncio.Event)
    #: set to fetch the declarations repository at once (a webhook push)
    wake_fetch: asyncio.Event = field(default_factory=asyncio.Event)
    #: whether the database takes new connections, asked by /health (None: the API
    #: runs without the daemon's supervisor, and asks its pool only)
    database: ConnectivityCheck | None = None
    #: the cluster's names (nodes, storages, bridges, pools) every compile reads a bare
    #: ``on pve3`` with; None without a Proxmox cluster (the daemon sets it)
    facts: FactsKeeper | None = None

    async def cluster_facts(self) -> ClusterFacts | None:
        """The cluster's recent facts, or None when none are known."""
        return await self.facts.get() if self.facts is not None else None

    def proxmox_outcome(self, reached: bool, error: str | None) -> None:
        """One Proxmox call's outcome: it answered (whatever it said), or it could not
        be reached (refused, reset, timed out, TLS failed) with ``error``."""
        self.proxmox_ok = reached
        if reached:
            self.proxmox_last_contact = datetime.now(UTC)
            self.proxmox_error = None
        else:
            self.proxmox_error = error
