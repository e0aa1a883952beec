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


def sample(g: Guest) -> dict[str, Any]:
    """What pvestatd samples of a guest into the rrd, the only source of these values in
    ``/cluster/resources`` (pve-manager PVE/API2Tools.pm extract_vm_stats)."""
    return {
        "status": g.status,
        "name": g.name,
        "maxcpu": guest_cpus(g),
        **guest_usage(g),
        "template": 1 if g.config.get("template") == "1" else 0,
    }


def guest_entry(
    g: Guest,
    now: float,
    sampled: dict[str, Any] | None,
    started_at: float | None,
    *,
    hastate: str | None = None,
) -> dict[str, Any]:
    """One guest's row. ``sampled`` is the last stats round's ``sample(g)``, None if
    pvestatd has not seen the guest yet: then the row has no name, no figures and status
    ``unknown`` (pve-manager PVE/API2Tools.pm extract_vm_stats without rrd data); the
    node, lock, tags, pool and HA state are always current (vmlist, config, user.cfg)."""
    res: dict[str, Any] = {
        "id": f"{g.kind}/{g.vmid}",
        "type": g.kind,
        "vmid": g.vmid,
        "node": g.node,
    }
    if sampled is None:
        res["status"] = "unknown"
    else:
        res.update(sampled)
    if "tags" in g.config:
        res["tags"] = g.config["tags"]
    if g.pool:
        res["pool"] = g.pool
    if "lock" in g.config:
        res["lock"] = g.config["lock"]
    if hastate is not None:
        res["hastate"] = hastate
    if sampled is not None:
        running = sampled["status"] == "running"
        res["uptime"] = int(now - started_at) if running and started_at else 0
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
    """The ``/cluster/resources`` answer, and pvestatd's stats rounds behind it.

    With a ``stats_interval``, guests' sampled values (``sample``) change only at each
    ``stats_round`` (the server runs one every ``stats_interval`` seconds, as pvestatd
    does about every 10 s); with 0 they are read live.
    """

    def __init__(self, stats_interval: float = 0.0) -> None:
        self.stats_interval = stats_interval
        #: vmid -> (guest object id, rev, round, JSON before the uptime value, started_at)
        self._fragments: dict[int, tuple[int, int, int, str, float | None]] = {}
        self._bodies: dict[str | None, tuple[int, int, int, Body]] = {}

    def sample_of(self, cl: Cluster, g: Guest) -> tuple[dict[str, Any] | None, float | None]:
        if self.stats_interval <= 0:
            return sample(g), g.started_at
        hit = cl.rrd.get(g.vmid)
        if hit is None or hit[0] != id(g):
            return None, None
        return hit[1], hit[2]

    def entry(self, cl: Cluster, g: Guest, now: float) -> dict[str, Any]:
        sampled, started = self.sample_of(cl, g)
        return guest_entry(g, now, sampled, started, hastate=hastate(cl, g))

    def _guest_json(self, cl: Cluster, g: Guest, now: float) -> str:
        hit = self._fragments.get(g.vmid)
        if hit is None or hit[:3] != (id(g), g.rev, cl.rrd_round):
            sampled, started = self.sample_of(cl, g)
            entry = guest_entry(g, 0, sampled, started, hastate=hastate(cl, g))
            if "uptime" in entry:
                del entry["uptime"]
                text = json.dumps(entry, separators=(",", ":"))[:-1] + ',"uptime":'
                running = sampled is not None and sampled["status"] == "running"
                hit = (id(g), g.rev, cl.rrd_round, text, started if running else None)
            else:
                text = json.dumps(entry, separators=(",", ":"))
                hit = (id(g), g.rev, cl.rrd_round, text, None)
            self._fragments[g.vmid] = hit
        text, started = hit[3], hit[4]
        if not text.endswith(':'):
            return text
        return f"{text}{int(now - started) if started else 0}}}"

    def body(self, cl: Cluster, rtype: str | None) -> Body:
        key = (cl.version, int(cl.clock()), cl.rrd_round)
        hit = self._bodies.get(rtype)
        if hit is not None and hit[:3] == key:
            return hit[3]
        now = cl.clock()
        parts: list[str] = []
        if rtype in (None, "vm"):
            parts.extend(self._guest_json(cl, g, now) for g in cl.guests.values())
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
        self._bodies[rtype] = (key[0], key[1], key[2], body)
        return body


#: every config key ``sample`` reads (name, sizes, template)
_SAMPLED = ("name", "hostname", "memory", "cores", "sockets", "vcpus", "rootfs", "scsi0",
            "virtio0", "sata0", "ide0", "template")


def stats_round(cl: Cluster, guests: list[Guest] | None = None) -> None:
    """pvestatd's round: sample every guest (or just ``guests``) now. Call with the
    cluster lock held.

    A guest's sample is a function of the guest alone: its status, start and the config
    keys ``sample`` reads (``_SAMPLED``). A guest whose are all as at its last sample
    keeps that sample instead of being sampled again (parsing sizes and all), however it
    was changed: a round over 10,000 idle guests is then a pass over a dict."""
    seen = cl.rrd_keys
    for g in cl.guests.values() if guests is None else guests:
        key = (id(g), g.status, g.started_at, *map(g.config.get, _SAMPLED))
        last = cl.rrd.get(g.vmid)
        if last is not None and seen.get(g.vmid) == key:
            continue
        seen[g.vmid] = key
        cl.rrd[g.vmid] = (id(g), sample(g), g.started_at if g.status == "running" else None)
    if guests is None and len(cl.rrd) != len(cl.guests):
        cl.rrd = {v: s for v, s in cl.rrd.items() if v in cl.guests}
        cl.rrd_keys = {v: k for v, k in seen.items() if v in cl.guests}
    cl.rrd_round += 1


def hastate(cl: Cluster, g: Guest) -> str | None:
    """The guest's HA state (pve-manager PVE/API2/Cluster.pm resources: ``hastate``)."""
    conf = cl.ha.get(f"{'vm' if g.kind == 'qemu' else 'ct'}:{g.vmid}")
    return None if conf is None else conf.get("state", "started")
