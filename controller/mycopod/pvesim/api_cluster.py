"""Cluster-wide calls: version, login, cluster status and resources, pools, storages."""

from __future__ import annotations

from typing import Any

from mycopod.pvesim import guests, resources
from mycopod.pvesim.auth import AuthError
from mycopod.pvesim.core import Request, Sim
from mycopod.pvesim.errors import ApiError, fail, param_error
from mycopod.pvesim.routes import RawJson, route, subdirs

PVE_VERSION = "9.1.3"
PVE_RELEASE = "9.1"
PVE_REPOID = "4d1c9f6e2a8b7c3d"


# -- version, access -------------------------------------------------------------------


@route("/version", "GET")
def version(sim: Sim, req: Request) -> Any:
    return {
        "version": PVE_VERSION,
        "release": PVE_RELEASE,
        "repoid": PVE_REPOID,
        "console": "xtermjs",
    }


@route("/access", "GET")
def access_index(sim: Sim, req: Request) -> Any:
    return subdirs("ticket")


@route("/access/ticket", "GET")
def ticket_form(sim: Sim, req: Request) -> Any:
    return None


@route("/access/ticket", "POST")
def ticket(sim: Sim, req: Request) -> Any:
    p = req.params
    try:
        userid = sim.auth.login(p["username"], p["password"], p.get("realm"))
    except AuthError as exc:
        raise ApiError(401, str(exc)) from None
    caps = {"Sys.Audit": 1, "Sys.Modify": 1, "Sys.PowerMgmt": 1, "Permissions.Modify": 1}
    vm_caps = {
        k: 1
        for k in (
            "VM.Allocate",
            "VM.Audit",
            "VM.Clone",
            "VM.Config.CPU",
            "VM.Config.Disk",
            "VM.Config.Memory",
            "VM.Config.Network",
            "VM.Config.Options",
            "VM.Migrate",
            "VM.PowerMgmt",
        )
    }
    return {
        "username": userid,
        "ticket": sim.auth.make_ticket(userid),
        "CSRFPreventionToken": sim.auth.make_csrf(userid),
        "clustername": "mycopod-sim",
        "cap": {
            "vms": vm_caps,
            "storage": {
                "Datastore.Allocate": 1,
                "Datastore.AllocateSpace": 1,
                "Datastore.Audit": 1,
            },
            "access": {"User.Modify": 1, "Permissions.Modify": 1},
            "nodes": caps,
            "dc": {"Sys.Audit": 1, "Sys.Modify": 1},
            "sdn": {"SDN.Audit": 1, "SDN.Use": 1},
            "mapping": {"Mapping.Audit": 1, "Mapping.Use": 1},
        },
    }


# -- cluster ---------------------------------------------------------------------------


@route("/cluster", "GET")
def cluster_index(sim: Sim, req: Request) -> Any:
    return subdirs("nextid", "resources", "status", "tasks")


@route("/cluster/status", "GET")
def cluster_status(sim: Sim, req: Request) -> Any:
    nodes = sim.cluster.nodes
    out: list[dict[str, Any]] = [
        {
            "id": "cluster",
            "type": "cluster",
            "name": "mycopod-sim",
            "nodes": len(nodes),
            "quorate": 1,
            "version": len(nodes) + 2,
        }
    ]
    for i, n in enumerate(nodes, start=1):
        out.append(
            {
                "id": f"node/{n}",
                "type": "node",
                "name": n,
                "nodeid": i,
                "online": 1,
                "local": 1 if i == 1 else 0,
                "ip": f"10.0.0.{10 + i}",
                "level": "",
            }
        )
    return out


@route("/cluster/nextid", "GET")
def nextid(sim: Sim, req: Request) -> Any:
    vmid = req.params.get("vmid")
    if vmid is not None:
        if vmid in sim.cluster.guests:
            raise param_error({"vmid": f"VM {vmid} already exists"})
        return str(vmid)
    return str(sim.cluster.next_free_vmid())


@route("/cluster/resources", "GET")
def cluster_resources(sim: Sim, req: Request) -> Any:
    rtype = req.params.get("type")
    if rtype == "sdn":
        return []
    return RawJson(sim.resource_cache.body(sim.cluster, rtype))


@route("/cluster/tasks", "GET")
def cluster_tasks(sim: Sim, req: Request) -> Any:
    return [t.list_dict() for t in reversed(sim.tasks.tasks.values())][:1000]


# -- pools -----------------------------------------------------------------------------


def _pool_members(sim: Sim, poolid: str, mtype: str | None) -> list[dict[str, Any]]:
    now = sim.cluster.clock()
    members: list[dict[str, Any]] = []
    if mtype in (None, "qemu", "lxc"):
        members.extend(
            sim.resource_cache.entry(sim.cluster, g, now)
            for g in sim.cluster.guests.values()
            if g.pool == poolid and (mtype is None or g.kind == mtype)
        )
    if mtype in (None, "storage"):
        pool = sim.cluster.pools[poolid]
        used = resources.storage_usage(sim.cluster)
        for n in sim.cluster.nodes:
            members.extend(
                r
                for r in resources.storage_entries(sim.cluster, n, used)
                if r["storage"] in pool.storages
            )
    return members


def _get_pool(sim: Sim, poolid: str) -> Any:
    pool = sim.cluster.pools.get(poolid)
    if pool is None:
        raise fail(f"pool '{poolid}' does not exist")
    return pool


@route("/pools", "GET")
def pools_list(sim: Sim, req: Request) -> Any:
    poolid = req.params.get("poolid")
    out = []
    for p in sim.cluster.pools.values():
        if poolid and p.poolid != poolid:
            continue
        row: dict[str, Any] = {"poolid": p.poolid}
        if p.comment:
            row["comment"] = p.comment
        if poolid:
            row["members"] = _pool_members(sim, p.poolid, req.params.get("type"))
        out.append(row)
    if poolid and not out:
        raise fail(f"pool '{poolid}' does not exist")
    return out


@route("/pools", "POST")
def pools_create(sim: Sim, req: Request) -> Any:
    from mycopod.pvesim.state import Pool

    poolid = req.params["poolid"]
    if poolid in sim.cluster.pools:
        raise fail(f"create pool failed: pool '{poolid}' already exists")
    sim.cluster.pools[poolid] = Pool(poolid, req.params.get("comment", ""))
    sim.cluster.touch()
    return None


def _update_pool(sim: Sim, poolid: str, p: dict[str, Any]) -> None:
    pool = _get_pool(sim, poolid)
    cl = sim.cluster
    remove = bool(p.get("delete"))
    if "comment" in p:
        pool.comment = p["comment"]
    for vmid in (int(x) for x in guests.split_list(p.get("vms"))):
        g = cl.guests.get(vmid)
        if g is None:
            raise fail(f"no such VMID '{vmid}'")
        if remove:
            if g.pool == poolid:
                g.pool = None
        elif g.pool and g.pool != poolid and not p.get("allow-move"):
            raise fail(f"VM {vmid} belongs already to pool '{g.pool}' and 'allow-move' is not set")
        else:
            g.pool = poolid
        cl.touch(g)
    for sid in guests.split_list(p.get("storage")):
        if sid not in cl.storages:
            raise fail(f"no such storage '{sid}'")
        if remove and sid in pool.storages:
            pool.storages.remove(sid)
        elif not remove and sid not in pool.storages:
            pool.storages.append(sid)
    cl.touch()


@route("/pools", "PUT")
def pools_update(sim: Sim, req: Request) -> Any:
    _update_pool(sim, req.params["poolid"], req.params)
    return None


def _delete_pool(sim: Sim, poolid: str) -> None:
    pool = _get_pool(sim, poolid)
    if any(g.pool == poolid for g in sim.cluster.guests.values()) or pool.storages:
        raise fail(f"delete pool failed: pool '{poolid}' is not empty")
    del sim.cluster.pools[poolid]
    sim.cluster.touch()


@route("/pools", "DELETE")
def pools_delete(sim: Sim, req: Request) -> Any:
    _delete_pool(sim, req.params["poolid"])
    return None


@route("/pools/{poolid}", "GET")
def pool_get(sim: Sim, req: Request) -> Any:
    pool = _get_pool(sim, req.params["poolid"])
    out: dict[str, Any] = {"members": _pool_members(sim, pool.poolid, req.params.get("type"))}
    if pool.comment:
        out["comment"] = pool.comment
    return out


@route("/pools/{poolid}", "PUT")
def pool_put(sim: Sim, req: Request) -> Any:
    _update_pool(sim, req.params["poolid"], req.params)
    return None


@route("/pools/{poolid}", "DELETE")
def pool_delete(sim: Sim, req: Request) -> Any:
    _delete_pool(sim, req.params["poolid"])
    return None


@route("/storage", "GET")
def storage_config(sim: Sim, req: Request) -> Any:
    stype = req.params.get("type")
    return [
        {
            "storage": s.storage,
            "type": s.type,
            "content": ",".join(s.content),
            "shared": 1 if s.shared else 0,
            "digest": "0" * 40,
        }
        for s in sim.cluster.storages.values()
        if not stype or s.type == stype
    ]
