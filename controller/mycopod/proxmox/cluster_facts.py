"""The cluster's facts as the compilers need them, read from Proxmox and kept fresh.

Interface: ``await read(client) -> ClusterFacts`` (nodes, storages with their content
types, bridges, pools and QEMU template names: one ``/cluster/resources``, one
``/pools`` and one ``/nodes/{node}/network`` per online node) and :class:`FactsKeeper`,
which the daemon holds on its :class:`~mycopod.runtime.RuntimeStatus` so every compile
path (the repository poller, ``POST /declarations``, the pull-request planner) reads a
bare ``on pve3`` with the same, recent names. ``keeper.get()`` answers the facts read
within ``max_age`` seconds, else reads them again; when Proxmox cannot be read it keeps
the last facts it has (logged as ``facts.read_failed``), or None: a bare ``on NAME`` is
then refused as before, never guessed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Protocol

import structlog

from mycopod.declarations.facts import ClusterFacts, StorageFact

__all__ = ["FactsKeeper", "read"]

log = structlog.get_logger(__name__)

#: how long read facts are used before they are read again
MAX_AGE_SECONDS = 30.0


class _Getter(Protocol):
    async def get(self, path: str, **params: Any) -> Any: ...


async def read(client: _Getter) -> ClusterFacts:
    """Nodes, storages, bridges, pools and template names, as Proxmox has them now."""
    resources = list(await client.get("/cluster/resources") or [])
    nodes = sorted({str(r["node"]) for r in resources
                    if r.get("type") == "node" and r.get("node")})
    online = [str(r["node"]) for r in resources if r.get("type") == "node"
              and r.get("node") and r.get("status", "online") == "online"]
    storages: dict[str, set[str]] = {}
    for r in resources:
        if r.get("type") == "storage" and r.get("storage"):
            content = str(r.get("content") or "")
            storages.setdefault(str(r["storage"]), set()).update(
                c for c in content.split(",") if c)
    templates = sorted({str(r["name"]) for r in resources
                        if r.get("type") == "qemu" and r.get("template") and r.get("name")})
    bridges: set[str] = set()
    for node in online:
        for iface in await client.get(f"/nodes/{node}/network") or []:
            if iface.get("type") in ("bridge", "OVSBridge") and iface.get("iface"):
                bridges.add(str(iface["iface"]))
    pools = sorted({str(p["poolid"]) for p in await client.get("/pools") or []
                    if p.get("poolid")})
    return ClusterFacts(
        nodes=nodes, bridges=sorted(bridges), pools=pools, templates=templates,
        storages=[StorageFact(name=n, content=sorted(c)) for n, c in sorted(storages.items())])


class FactsKeeper:
    """The latest facts read from one cluster, read again once ``max_age`` old."""

    def __init__(self, client: _Getter, *, max_age: float = MAX_AGE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.max_age = max_age
        self.clock = clock
        self.facts: ClusterFacts | None = None
        self._read_at: float | None = None
        self._lock = asyncio.Lock()

    def stale(self) -> bool:
        return self._read_at is None or self.clock() - self._read_at >= self.max_age

    async def get(self) -> ClusterFacts | None:
        """Fresh facts, or the last ones read when Proxmox cannot be read now."""
        async with self._lock:
            if not self.stale():
                return self.facts
            try:
                self.facts = await read(self.client)
            except Exception as exc:  # Proxmox down: keep what is known
                log.warning("facts.read_failed", error=f"{type(exc).__name__}: {exc}",
                            known=self.facts is not None)
                return self.facts
            self._read_at = self.clock()
            return self.facts
