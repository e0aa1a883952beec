"""``/cluster/ha/resources``: listing, adding, changing and removing HA resources
(pve-ha-manager PVE/API2/HA/Resources.pm); what the HA manager then does is in ``ha``
and ``operations.ha_crm``."""

from __future__ import annotations

from typing import Any

from mycopod.pvesim import ha, operations
from mycopod.pvesim.core import Request, Sim
from mycopod.pvesim.errors import fail
from mycopod.pvesim.routes import route


@route("/cluster/ha/resources", "GET")
def ha_resources(sim: Sim, req: Request) -> Any:
    wanted = req.params.get("type")
    rows = [ha.entry(sid, conf) for sid, conf in sorted(sim.cluster.ha.items())]
    return [r for r in rows if not wanted or r["type"] == wanted]


@route("/cluster/ha/resources", "POST")
def ha_resource_add(sim: Sim, req: Request) -> Any:
    ha.add(sim, req.params, crm=operations.ha_crm)
    return None


@route("/cluster/ha/resources/{sid}", "GET")
def ha_resource(sim: Sim, req: Request) -> Any:
    sid, _kind, _vmid = ha.parse_sid(sim.cluster, str(req.params["sid"]))
    conf = sim.cluster.ha.get(sid)
    if conf is None:
        raise fail(f"no such resource '{sid}'")
    return ha.entry(sid, conf)


@route("/cluster/ha/resources/{sid}", "PUT")
def ha_resource_update(sim: Sim, req: Request) -> Any:
    ha.update(sim, req.params, crm=operations.ha_crm)
    return None


@route("/cluster/ha/resources/{sid}", "DELETE")
def ha_resource_delete(sim: Sim, req: Request) -> Any:
    ha.remove(sim, req.params)
    return None
