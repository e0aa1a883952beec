"""``/cluster/resources``: the one call every poller makes, built cheaply and cached.

MycoPod's observer (and every dashboard) polls this for the whole cluster, so with
thousands of guests it must stay fast. Each guest's entry is serialised once per change
of that guest (``Guest.rev``) and kept as a JSON fragment split around ``uptime``, the
only value that moves with time; the whole answer is joined from fragments at most once
per second and per cluster change, and kept gzipped for clients that accept it (as
pveproxy compresses large answers).
"""

from __future__ import annotations

import gzip
import json
import threading
from collections import defaultdict
from typing import Any

from mycopod.pvesim.state import (
    NODE_CORES,
    NODE_MEMORY,
    Cluster,
    GiB,
    Guest,
    boot_disk_size,
    guest_cpus,
    guest_memory,
)


class Body:
    """A serialised answer, with its gzip form made on first demand."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self._gz: bytes | None = None
        self._lock = threading.Lock()

    def gzipped(self) -> bytes:
        with self._lock:
            if self._gz is None:
                self._gz = gzip.compress(self.raw, compresslevel=1)
            return self._gz


def guest_usage(g: Guest) -> dict[str, Any]:
    """A guest's sizes and made-up usage figures, the same here and in ``status/current``."""
    running = g.status == "running"
    maxmem = guest_memory(g)
    return {
        "maxmem": maxmem,
        "maxdisk": boot_disk_size(g),
        "disk": 0,
        "mem": int(maxmem * (0.2 + (g.vmid % 40) / 100)) if running else 0,
        "cpu": round(0.003 + (g.vmid % 17) / 400, 4) if running else 0,
        "netin": g.vmid * 1031 if running else 0,
        "netout": g.vmid * 977 if running else 0,
        "diskread": 0,
        "diskwrite": 0,
    }


def guest_entry(g: Guest, now: float) -> dict[str, Any]:
    running = g.status == "running"
    res: dict[str, Any] = {
        "id": f"{g.kind}/{g.vmid}",
        "type": g.kind,
        "vmid": g.vmid,
        "node": g.node,
        "status": g.status,
        "name": g.name,
        "maxcpu": guest_cpus(g),
        **guest_usage(g),
        "template": 1 if g.config.get("template") == "1" else 0,
    }
    if "tags" in g.config:
        res["tags"] = g.config["tags"]
    if g.pool:
        res["pool"] = g.pool
    if "lock" in g.config:
        res["lock"] = g.config["lock"]
    res["uptime"] = int(now - g.started_at) if running and g.started_at else 0
    return res


def node_entry(cl: Cluster, node: str, now: float) -> dict[str, Any]:
    return {
        "id": f"node/{node}",
        "type": "node",
        "node": node,
        "status": "online",
        "maxcpu": NODE_CORES,
        "cpu": 0.04,
        "maxmem": NODE_MEMORY,
        "mem": cl.node_mem_used(node),
        "maxdisk": 100 * GiB,
        "disk": 12 * GiB,
        "uptime": int(now - cl.node_boot[node]),
        "level": "",
        "cgroup-mode": 2,
    }


def storage_usage(cl: Cluster) -> dict[tuple[str, str], int]:
    """Allocated bytes per (scope, storage) in one pass over the volumes (``capacity``:
    thin volumes count what was written, not their size)."""
    used: dict[tuple[str, str], int] = defaultdict(int)
    for vol in cl.volumes.values():
        used[(vol.node, vol.storage)] += vol.used
    return used


def storage_entries(
    cl: Cluster, node: str, used: dict[tuple[str, str], int]
) -> list[dict[str, Any]]:
    """One node's storages; ``used`` is ``storage_usage(cl)``, made once for all nodes."""
    out = []
    for s in cl.storages.values():
        scope = "" if s.shared else node
        out.append(
            {
                "id": f"storage/{node}/{s.storage}",
                "type": "storage",
                "node": node,
                "storage": s.storage,
                "status": "available",
                "plugintype": s.type,
                "content": ",".join(s.content),
                "shared": 1 if s.shared else 0,
                "maxdisk": s.total,
                "disk": used.get((scope, s.storage), 0),
            }
        )
    return out


class ResourceCache:
    def __init__(self) -> None:
        #: vmid -> (guest object id, rev, JSON up to the uptime value, started_at)
        self._fragments: dict[int, tuple[int, int, str, float | None]] = {}
        self._bodies: dict[str | None, tuple[int, int, Body]] = {}

    def _guest_json(self, g: Guest, now: float) -> str:
        hit = self._fragments.get(g.vmid)
        if hit is None or hit[0] != id(g) or hit[1] != g.rev:
            entry = guest_entry(g, 0)
            del entry["uptime"]
            text = json.dumps(entry, separators=(",", ":"))
            started = g.started_at if g.status == "running" else None
            hit = (id(g), g.rev, text[:-1] + ',"uptime":', started)
            self._fragments[g.vmid] = hit
        started = hit[3]
        return f"{hit[2]}{int(now - started) if started else 0}}}"

    def body(self, cl: Cluster, rtype: str | None) -> Body:
        key = (cl.version, int(cl.clock()))
        hit = self._bodies.get(rtype)
        if hit is not None and hit[:2] == key:
            return hit[2]
        now = cl.clock()
        parts: list[str] = []
        if rtype in (None, "vm"):
            parts.extend(self._guest_json(g, now) for g in cl.guests.values())
            if len(self._fragments) > 2 * len(cl.guests) + 100:
                self._fragments = {v: f for v, f in self._fragments.items() if v in cl.guests}
        extra: list[dict[str, Any]] = []
        if rtype in (None, "node"):
            extra.extend(node_entry(cl, n, now) for n in cl.nodes)
        if rtype in (None, "storage"):
            used = storage_usage(cl)
            for n in cl.nodes:
                extra.extend(storage_entries(cl, n, used))
        if rtype is None:
            extra.extend({"id": f"/pool/{p}", "type": "pool", "pool": p} for p in cl.pools)
        parts.extend(json.dumps(e, separators=(",", ":")) for e in extra)
        body = Body(('{"data":[' + ",".join(parts) + "]}").encode())
        self._bodies[rtype] = (key[0], key[1], body)
        return body
