"""Direct access to the simulated cluster, past the HTTP API, for tests and benchmarks.

A test that has just driven the simulator through proxmoxer checks the outcome here
(``direct.config(sim.cluster, "web-1")``, ``direct.status(...)``, ``direct.node_of(...)``)
without a second client; a benchmark fills the cluster with ``add_guests`` in one step
instead of thousands of create calls. Guests are found by vmid (``int``) or by name
(``str``). Every helper takes the cluster's lock, so a test thread may call it while the
simulator's loop serves requests in another.

The simulator itself never calls this module: it sits above ``state`` and ``views``,
which keeps the model free of test concerns and of import cycles.
"""

from __future__ import annotations

from typing import Any

from mycopod.pvesim import resources, views
from mycopod.pvesim.state import Cluster, GiB, Guest

__all__ = ["add_guests", "config", "find_guest", "guest", "node_of", "status"]


def guest(cluster: Cluster, vmid: int) -> Guest | None:
    """The guest with this vmid, or None."""
    with cluster.lock:
        return cluster.guests.get(int(vmid))


def find_guest(cluster: Cluster, name: str) -> Guest | None:
    """The guest with this name, or None."""
    with cluster.lock:
        for g in cluster.guests.values():
            if g.name == name:
                return g
    return None


def _resolve(cluster: Cluster, key: int | str) -> Guest:
    g = guest(cluster, key) if isinstance(key, int) else find_guest(cluster, key)
    if g is None:
        raise KeyError(key)
    return g


def config(cluster: Cluster, key: int | str, *, current: bool = False) -> dict[str, Any]:
    """The guest's config as ``GET …/config`` answers it (by vmid or name)."""
    with cluster.lock:
        return views.config_view(_resolve(cluster, key), current=current)


def status(cluster: Cluster, key: int | str) -> str:
    """``running`` or ``stopped``."""
    with cluster.lock:
        return _resolve(cluster, key).status


def node_of(cluster: Cluster, key: int | str) -> str:
    """The node the guest is on."""
    with cluster.lock:
        return _resolve(cluster, key).node


def add_guests(
    cluster: Cluster,
    n: int,
    *,
    owned_tag: str | None = "mycopod",
    kind: str = "qemu",
    running: bool = False,
    name_prefix: str = "bulk",
    storage: str = "tank",
    disk_gib: int = 8,
    sampled: bool = True,
) -> list[int]:
    """Add ``n`` guests at once, spread over the nodes (benchmarks). Capacity is not
    checked: storages and node memory may end up overcommitted. With ``sampled``, they
    are guests pvestatd has already seen (``/cluster/resources`` shows their name and
    status at once), as in a cluster that has been running; without, they lag until the
    simulator's next stats round, as new guests do."""
    ids: list[int] = []
    with cluster.lock:
        vmid = 100
        now = cluster.clock()
        for i in range(n):
            while vmid in cluster.guests:
                vmid += 1
            node = cluster.nodes[i % len(cluster.nodes)]
            vol = cluster.add_volume(storage, node, vmid, disk_gib * GiB, kind=kind)
            conf: dict[str, str] = {"cores": "1", "memory": "1024" if kind == "qemu" else "512"}
            if owned_tag:
                conf["tags"] = owned_tag
            name = f"{name_prefix}-{vmid}"
            if kind == "qemu":
                conf.update(
                    name=name,
                    scsi0=f"{vol.volid},size={disk_gib}G",
                    net0=f"virtio={cluster.new_mac()},bridge=vmbr0",
                    ostype="l26",
                )
            else:
                conf.update(
                    hostname=name,
                    rootfs=f"{vol.volid},size={disk_gib}G",
                    net0=f"name=eth0,bridge=vmbr0,hwaddr={cluster.new_mac()},ip=dhcp,type=veth",
                    ostype="debian",
                    arch="amd64",
                )
            cluster.guests[vmid] = Guest(
                vmid=vmid,
                kind=kind,
                node=node,
                config=conf,
                status="running" if running else "stopped",
                started_at=now if running else None,
            )
            ids.append(vmid)
        if sampled:
            resources.stats_round(cluster, [cluster.guests[v] for v in ids])
        cluster.touch()
    return ids
