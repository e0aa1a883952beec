"""Per-node calls: node status, storages and content, network, tasks, and the guests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mycopod.pvesim import guests, ha, lifecycle, operations, resources, views
from mycopod.pvesim.api_cluster import PVE_REPOID, PVE_VERSION
from mycopod.pvesim.core import Request, Sim
from mycopod.pvesim.errors import fail, param_error
from mycopod.pvesim.routes import ROUTES, Handler, route, subdirs
from mycopod.pvesim.state import (
    NODE_CORES,
    NODE_MEMORY,
    GiB,
)
from mycopod.pvesim.tasks import parse_upid

# -- nodes ---------------------------------------------------------------------------


@route("/nodes", "GET")
def nodes_list(sim: Sim, req: Request) -> Any:
    now = sim.cluster.clock()
    return [
        {
            "node": n,
            "status": "online",
            "cpu": 0.04,
            "maxcpu": NODE_CORES,
            "maxmem": NODE_MEMORY,
            "mem": sim.cluster.node_mem_used(n),
            "uptime": int(now - sim.cluster.node_boot[n]),
            "level": "",
            "type": "node",
            "id": f"node/{n}",
            "maxdisk": 100 * GiB,
            "disk": 12 * GiB,
            "ssl_fingerprint": ":".join(["5A"] * 32),
        }
        for n in sim.cluster.nodes
    ]


@route("/nodes/{node}", "GET")
def node_index(sim: Sim, req: Request) -> Any:
    return subdirs("lxc", "network", "qemu", "status", "storage", "tasks")


@route("/nodes/{node}/status", "GET")
def node_status(sim: Sim, req: Request) -> Any:
    node = req.params["node"]
    used = sim.cluster.node_mem_used(node)
    return {
        "cpu": 0.04,
        "cpuinfo": {
            "cpus": NODE_CORES,
            "cores": NODE_CORES // 2,
            "sockets": 1,
            "model": "Simulated CPU @ 3.00GHz",
            "mhz": "3000.000",
            "hvm": "1",
            "flags": "",
            "user_hz": 100,
        },
        "memory": {
            "total": NODE_MEMORY,
            "used": used,
            "free": NODE_MEMORY - used,
            "available": NODE_MEMORY - used,
        },
        "swap": {"total": 8 * GiB, "used": 0, "free": 8 * GiB},
        "rootfs": {"total": 100 * GiB, "used": 12 * GiB, "free": 88 * GiB, "avail": 88 * GiB},
        "uptime": int(sim.cluster.clock() - sim.cluster.node_boot[node]),
        "loadavg": ["0.12", "0.10", "0.09"],
        "idle": 0,
        "wait": 0,
        "kversion": "Linux 6.14.8-2-pve #1 SMP PREEMPT_DYNAMIC PMX 6.14.8-2",
        "current-kernel": {
            "sysname": "Linux",
            "release": "6.14.8-2-pve",
            "machine": "x86_64",
            "version": "#1 SMP PREEMPT_DYNAMIC PMX 6.14.8-2",
        },
        "boot-info": {"mode": "efi", "secureboot": 0},
        "pveversion": f"pve-manager/{PVE_VERSION}/{PVE_REPOID}",
        "ksm": {"shared": 0},
    }


@route("/nodes/{node}/status", "POST")
def node_command(sim: Sim, req: Request) -> Any:
    raise fail("rebooting or shutting down a simulated node is not supported")


@route("/nodes/{node}/network", "GET")
def node_network(sim: Sim, req: Request) -> Any:
    ifaces = [
        {
            "iface": "eno1",
            "type": "eth",
            "method": "manual",
            "active": 1,
            "exists": 1,
            "families": ["inet"],
            "priority": 3,
        },
        {
            "iface": "vmbr0",
            "type": "bridge",
            "method": "static",
            "active": 1,
            "autostart": 1,
            "families": ["inet"],
            "bridge_ports": "eno1",
            "bridge_stp": "off",
            "bridge_fd": "0",
            "bridge_vlan_aware": 1,
            "bridge_vids": "2-4094",
            "address": "10.0.0.11",
            "netmask": "24",
            "cidr": "10.0.0.11/24",
            "gateway": "10.0.0.1",
            "priority": 4,
        },
        {
            "iface": "vmbr1",
            "type": "bridge",
            "method": "manual",
            "active": 1,
            "autostart": 1,
            "families": ["inet"],
            "bridge_ports": "",
            "bridge_stp": "off",
            "bridge_fd": "0",
            "bridge_vlan_aware": 1,
            "bridge_vids": "2-4094",
            "priority": 5,
        },
    ]
    wanted = req.params.get("type")
    if wanted in ("bridge", "any_bridge"):
        return [i for i in ifaces if i["type"] == "bridge"]
    if wanted:
        return [i for i in ifaces if i["type"] == wanted]
    return ifaces


@route("/nodes/{node}/network/{iface}", "GET")
def node_iface(sim: Sim, req: Request) -> Any:
    for i in node_network(sim, Request(req.user, {"node": req.params["node"]}, {})):
        if i["iface"] == req.params["iface"]:
            return i
    raise fail("interface does not exist")


def _storage_row(
    sim: Sim, node: str, sid: str, usage: dict[tuple[str, str], int]
) -> dict[str, Any]:
    """``usage`` is ``resources.storage_usage``, made once for all rows of an answer."""
    s = sim.cluster.storages[sid]
    used = usage.get((sim.cluster.storage_scope(sid, node), sid), 0)
    return {
        "storage": sid,
        "type": s.type,
        "content": ",".join(s.content),
        "active": 1,
        "enabled": 1,
        "shared": 1 if s.shared else 0,
        "total": s.total,
        "used": used,
        "avail": s.total - used,
        "used_fraction": round(used / s.total, 6),
    }


@route("/nodes/{node}/storage", "GET")
def node_storage(sim: Sim, req: Request) -> Any:
    p = req.params
    usage = resources.storage_usage(sim.cluster)
    rows = [_storage_row(sim, p["node"], sid, usage) for sid in sim.cluster.storages]
    if p.get("storage"):
        rows = [r for r in rows if r["storage"] == p["storage"]]
    if p.get("content"):
        wanted = set(guests.split_list(p["content"]))
        rows = [r for r in rows if wanted & set(r["content"].split(","))]
    return rows


def _storage_or_fail(sim: Sim, sid: str) -> None:
    if sid not in sim.cluster.storages:
        raise fail(f"storage '{sid}' does not exist")


@route("/nodes/{node}/storage/{storage}", "GET")
def storage_index(sim: Sim, req: Request) -> Any:
    _storage_or_fail(sim, req.params["storage"])
    return subdirs("content", "status")


@route("/nodes/{node}/storage/{storage}/status", "GET")
def storage_status(sim: Sim, req: Request) -> Any:
    _storage_or_fail(sim, req.params["storage"])
    usage = resources.storage_usage(sim.cluster)
    return _storage_row(sim, req.params["node"], req.params["storage"], usage)


def _content_row(v: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "volid": v.volid,
        "content": v.content,
        "format": v.format,
        "size": v.size,
        "ctime": v.ctime,
    }
    if v.vmid is not None:
        row["vmid"] = v.vmid
        row["used"] = v.used
    return row


@route("/nodes/{node}/storage/{storage}/content", "GET")
def storage_content(sim: Sim, req: Request) -> Any:
    p = req.params
    _storage_or_fail(sim, p["storage"])
    rows = [_content_row(v) for v in sim.cluster.volumes_on(p["storage"], p["node"])]
    if p.get("content"):
        rows = [r for r in rows if r["content"] == p["content"]]
    if p.get("vmid"):
        rows = [r for r in rows if r.get("vmid") == p["vmid"]]
    return sorted(rows, key=lambda r: r["volid"])


@route("/nodes/{node}/storage/{storage}/content/{volume}", "GET")
def volume_info(sim: Sim, req: Request) -> Any:
    p = req.params
    volid = p["volume"] if ":" in p["volume"] else f"{p['storage']}:{p['volume']}"
    v = sim.cluster.find_volume(volid, p["node"])
    if v is None:
        raise fail(f"volume '{volid}' does not exist")
    return {"path": f"/dev/sim/{volid}", "size": v.size, "used": v.used, "format": v.format}


# -- tasks -----------------------------------------------------------------------------


@route("/nodes/{node}/tasks", "GET")
def node_tasks(sim: Sim, req: Request) -> Any:
    p = req.params
    rows = [t for t in reversed(sim.tasks.tasks.values()) if t.node == p["node"]]
    if p.get("vmid"):
        rows = [t for t in rows if t.id == str(p["vmid"])]
    if p.get("typefilter"):
        rows = [t for t in rows if t.type == p["typefilter"]]
    if p.get("userfilter"):
        rows = [t for t in rows if p["userfilter"] in t.user]
    source = p.get("source", "archive")
    if source == "active":
        rows = [t for t in rows if t.status == "running"]
    elif source == "archive":
        rows = [t for t in rows if t.status == "stopped"]
    if p.get("errors"):
        rows = [t for t in rows if t.exitstatus not in (None, "OK")]
    start = p.get("start", 0)
    limit = p.get("limit", 50)
    return [t.list_dict() for t in rows[start : start + limit]]


def _task(sim: Sim, req: Request) -> Any:
    # pve-manager PVE/API2/Tasks.pm read_task_status / stop_task: both are
    # raise_param_exc, so a 400 with an ``errors`` object
    upid = req.params["upid"]
    if parse_upid(upid) is None:
        raise param_error({"upid": "unable to parse worker upid"})
    task = sim.tasks.tasks.get(upid)
    if task is None or task.node != req.params["node"]:
        raise param_error({"upid": "no such task"})
    return task


@route("/nodes/{node}/tasks/{upid}", "GET")
def task_index(sim: Sim, req: Request) -> Any:
    # pve-manager PVE/API2/Tasks.pm upid_index: an index, no check at all
    return [{"name": "log"}, {"name": "status"}]


@route("/nodes/{node}/tasks/{upid}/status", "GET")
def task_status(sim: Sim, req: Request) -> Any:
    return _task(sim, req).status_dict()


@route("/nodes/{node}/tasks/{upid}/log", "GET")
def task_log(sim: Sim, req: Request) -> Any:
    # pve-manager PVE/API2/Tasks.pm read_task_log: an unknown task's log is PVE::Tools
    # dump_logfile's one line about the missing file
    if parse_upid(req.params["upid"]) is None:
        raise param_error({"upid": "unable to parse worker upid"})
    task = sim.tasks.tasks.get(req.params["upid"])
    if task is None or task.node != req.params["node"]:
        return [{"n": 1, "t": "unable to open file - No such file or directory"}]
    start = req.params.get("start", 0)
    limit = req.params.get("limit", 50)
    lines = task.log[start : start + limit]
    return [{"n": start + i + 1, "t": line} for i, line in enumerate(lines)]


@route("/nodes/{node}/tasks/{upid}", "DELETE")
def task_stop(sim: Sim, req: Request) -> Any:
    sim.tasks.stop(_task(sim, req).upid)
    return None


# -- guests ----------------------------------------------------------------------------


def _guest_routes(kind: str) -> None:
    base = f"/nodes/{{node}}/{kind}"

    def listing(sim: Sim, req: Request) -> Any:
        node = req.params["node"]
        return [
            views.guest_status(sim, g)
            for g in sim.cluster.guests.values()
            if g.node == node and g.kind == kind
        ]

    def index(sim: Sim, req: Request) -> Any:
        guests.get_guest(sim, kind, req.params["node"], req.params["vmid"])
        return subdirs("clone", "config", "migrate", "pending", "resize", "status", "template")

    def get_config(sim: Sim, req: Request) -> Any:
        g = guests.get_guest(sim, kind, req.params["node"], req.params["vmid"])
        if req.params.get("snapshot"):
            raise fail(f"snapshot '{req.params['snapshot']}' does not exist")
        return views.config_view(g, current=bool(req.params.get("current")))

    def post_config(sim: Sim, req: Request) -> Any:
        return guests.update_config(sim, kind, req, sync=False)

    def put_config(sim: Sim, req: Request) -> Any:
        return guests.update_config(sim, kind, req, sync=True)

    def pending(sim: Sim, req: Request) -> Any:
        return views.pending_view(
            guests.get_guest(sim, kind, req.params["node"], req.params["vmid"])
        )

    def status_index(sim: Sim, req: Request) -> Any:
        guests.get_guest(sim, kind, req.params["node"], req.params["vmid"])
        return subdirs("current", "reboot", "shutdown", "start", "stop")

    def current(sim: Sim, req: Request) -> Any:
        g = guests.get_guest(sim, kind, req.params["node"], req.params["vmid"])
        return {**views.guest_status(sim, g), "ha": ha.status(sim.cluster, g)}

    def power(action: str) -> Handler:
        return lambda sim, req: operations.power(sim, kind, action, req)

    def for_kind(fn: Callable[[Sim, str, Request], Any]) -> Handler:
        return lambda sim, req: fn(sim, kind, req)

    def migrate_check(sim: Sim, req: Request) -> Any:
        g = guests.get_guest(sim, kind, req.params["node"], req.params["vmid"])
        others = [n for n in sim.cluster.nodes if n != g.node]
        return {
            "running": 1 if g.status == "running" else 0,
            "allowed_nodes": others,
            "not_allowed_nodes": {},
            "local_disks": [],
            "local_resources": [],
        }

    ROUTES[(base, "GET")] = listing
    ROUTES[(base, "POST")] = for_kind(lifecycle.create)
    ROUTES[(f"{base}/{{vmid}}", "GET")] = index
    ROUTES[(f"{base}/{{vmid}}", "DELETE")] = for_kind(lifecycle.destroy)
    ROUTES[(f"{base}/{{vmid}}/config", "GET")] = get_config
    if kind == "qemu":
        ROUTES[(f"{base}/{{vmid}}/config", "POST")] = post_config
    ROUTES[(f"{base}/{{vmid}}/config", "PUT")] = put_config
    ROUTES[(f"{base}/{{vmid}}/pending", "GET")] = pending
    ROUTES[(f"{base}/{{vmid}}/status", "GET")] = status_index
    ROUTES[(f"{base}/{{vmid}}/status/current", "GET")] = current
    for action in ("start", "stop", "shutdown", "reboot"):
        ROUTES[(f"{base}/{{vmid}}/status/{action}", "POST")] = power(action)
    ROUTES[(f"{base}/{{vmid}}/clone", "POST")] = for_kind(lifecycle.clone)
    ROUTES[(f"{base}/{{vmid}}/resize", "PUT")] = for_kind(operations.resize)
    ROUTES[(f"{base}/{{vmid}}/template", "POST")] = for_kind(lifecycle.template)
    ROUTES[(f"{base}/{{vmid}}/migrate", "POST")] = for_kind(operations.migrate)
    ROUTES[(f"{base}/{{vmid}}/migrate", "GET")] = migrate_check


_guest_routes("qemu")
_guest_routes("lxc")
