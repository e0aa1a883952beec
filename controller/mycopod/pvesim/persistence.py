"""The simulator's state file: the cluster saved as JSON, and loaded back at start.

With ``--state-file`` the simulator keeps its cluster across restarts (the demo's guests
survive ``make demo`` being stopped). The file holds the model as it is in memory
(nodes, volumes, guests with their config strings and pending changes, pools) under
``"format": 1``; it is written to a temporary file and renamed over the old one, so a
crash mid-write leaves the previous state, never half a file. This is the only module of
the model that touches the disk; ``state`` stays in memory.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mycopod.pvesim.state import Cluster, Guest, Pool, Volume

__all__ = ["from_json", "load_or_create", "save", "to_json"]


def to_json(cluster: Cluster) -> dict[str, Any]:
    return {
        "format": 1,
        "nodes": cluster.nodes,
        "volumes": [asdict(v) for v in cluster.volumes.values()],
        "guests": [asdict(g) for g in cluster.guests.values()],
        "pools": [asdict(p) for p in cluster.pools.values()],
        "ha": cluster.ha,
    }


def from_json(
    data: dict[str, Any],
    *,
    clock: Callable[[], float] = time.time,
    seed: int | None = None,
) -> Cluster:
    cl = Cluster(node_count=len(data["nodes"]), clock=clock, seed=seed)
    cl.nodes = list(data["nodes"])
    cl.node_boot = {n: clock() - 86400 * 3 for n in cl.nodes}
    for v in data["volumes"]:
        vol = Volume(**{"used": v["size"], **v})  # files from before ``used``: all written
        cl.volumes[(vol.node, vol.volid)] = vol
    for g in data["guests"]:
        guest = Guest(**g)
        cl.guests[guest.vmid] = guest
    for p in data["pools"]:
        cl.pools[p["poolid"]] = Pool(**p)
    cl.ha = {str(k): dict(v) for k, v in data.get("ha", {}).items()}
    return cl


def save(cluster: Cluster, path: Path) -> None:
    with cluster.lock:
        text = json.dumps(to_json(cluster), indent=1, sort_keys=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def load_or_create(
    path: Path | None,
    *,
    node_count: int,
    clock: Callable[[], float] = time.time,
    seed: int | None = None,
) -> Cluster:
    """The cluster saved at ``path``, or a fresh one (``Cluster.initial``) if there is none."""
    if path is not None and path.exists():
        return from_json(json.loads(path.read_text(encoding="utf-8")), clock=clock, seed=seed)
    return Cluster.initial(node_count=node_count, clock=clock, seed=seed)
