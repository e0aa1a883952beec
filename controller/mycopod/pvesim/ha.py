"""The HA manager: HA resources (``/cluster/ha/resources``) and what the CRM does later.

A guest listed as an HA resource is not started, stopped or migrated by its own worker:
the API forks a short ``hastart``/``hastop``/``hamigrate`` task that only records the
request with the HA manager (qemu-server PVE/API2/Qemu.pm vm_start, vm_stop,
vm_shutdown, migrate_vm; pve-container PVE/API2/LXC/Status.pm and LXC.pm), and that task
ends before anything happens to the guest. The CRM and the node's LRM act on it a few
seconds later (``ha_seconds``), in ordinary ``qmstart``/``qmstop``/``qmigrate`` workers
of ``root@pam``. Clients must wait for the guest's state, not for the task.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from mycopod.pvesim.core import Request, Sim
from mycopod.pvesim.errors import fail, param_error
from mycopod.pvesim.state import Cluster, Guest
from mycopod.pvesim.tasks import Job, Task

#: the HA manager's own workers run as root@pam
HA_USER = "root@pam"


def sid_of(g: Guest) -> str:
    return f"{'vm' if g.kind == 'qemu' else 'ct'}:{g.vmid}"


def parse_sid(cl: Cluster, text: str) -> tuple[str, str, int]:
    """``vm:100``, ``ct:100`` or a bare ``100`` (pve-ha-manager PVE/HA/Config.pm
    parse_sid; a bare id takes the guest's type)."""
    kind, sep, name = text.partition(":")
    if not sep:
        kind, name = "", text
    if not name.isdigit() or kind not in ("", "vm", "ct"):
        raise param_error({"sid": f"unable to parse service id '{text}'"})
    vmid = int(name)
    if not kind:
        g = cl.guests.get(vmid)
        if g is None:
            raise fail(f"unable to find VM/CT {vmid}")  # PVE/HA/Config.pm parse_sid
        kind = "vm" if g.kind == "qemu" else "ct"
    return f"{kind}:{vmid}", kind, vmid


def is_managed(cl: Cluster, g: Guest) -> bool:
    """pve-ha-manager PVE/HA/Config.pm vm_is_ha_managed."""
    return sid_of(g) in cl.ha


def status(cl: Cluster, g: Guest) -> dict[str, Any]:
    """The ``ha`` object of ``status/current`` (PVE/HA/Config.pm get_service_status)."""
    conf = cl.ha.get(sid_of(g))
    if conf is None:
        return {"managed": 0}
    return {"managed": 1, "state": conf.get("state", "started")}


def entry(sid: str, conf: dict[str, str]) -> dict[str, Any]:
    kind = sid.split(":", 1)[0]
    out: dict[str, Any] = {"sid": sid, "type": kind, "state": "started", **conf}
    text = "".join(f"{k}={v}\n" for k, v in sorted(conf.items()))
    out["digest"] = hashlib.sha1(f"{sid}\n{text}".encode()).hexdigest()  # noqa: S324
    for key in ("max_restart", "max_relocate", "failback"):
        if key in out:
            out[key] = int(out[key])
    return out


#: what the CRM does about a service when its round comes (``operations.ha_crm``)
Crm = Callable[[Sim, str, "str | None"], None]


def request(
    sim: Sim, req: Request, g: Guest, state: str, *, crm: Crm, target: str | None = None
) -> str:
    """Fork the ``hastart``/``hastop``/``hamigrate`` worker: it ends as soon as the
    request is recorded; the guest changes ``ha_seconds`` later."""
    cl = sim.cluster
    sid = sid_of(g)
    wtype = "hamigrate" if target else ("hastart" if state == "started" else "hastop")

    def apply(task: Task) -> None:
        what = f"migration for {g.label} to node {target}" if target else (
            f"{'start' if state == 'started' else 'stop'} for {g.label}"
        )
        task.log.append(f"Requesting HA {what}")
        conf = cl.ha.get(sid)
        if conf is None:
            return
        if not target:
            conf["state"] = state
        cl.touch(g)
        sim.tasks.later(sim.options.ha_seconds, f"ha-crm-{sid}", lambda: crm(sim, sid, target))

    return sim.tasks.start(
        node=g.node, wtype=wtype, wid=g.vmid, user=req.user, job=Job(apply, kind=g.kind)
    )


def add(sim: Sim, params: dict[str, Any], *, crm: Crm) -> None:
    cl = sim.cluster
    sid, _kind, vmid = parse_sid(cl, str(params["sid"]))
    if params.get("type") and params["type"] != sid.split(":", 1)[0]:
        raise fail("types does not match")
    g = cl.guests.get(vmid)
    if g is None or sid_of(g) != sid:
        what = "VM" if sid.startswith("vm:") else "CT"
        raise fail(f"{what} {vmid} does not exist")  # PVE/HA/Resources/PVE{VM,CT}.pm exists
    if sid in cl.ha:
        raise fail(f"resource ID '{sid}' already defined")
    conf = {k: str(v) for k, v in params.items() if k not in ("sid", "type") and v is not None}
    cl.ha[sid] = conf
    cl.touch(g)
    sim.tasks.later(sim.options.ha_seconds, f"ha-crm-{sid}", lambda: crm(sim, sid, None))


def update(sim: Sim, params: dict[str, Any], *, crm: Crm) -> None:
    cl = sim.cluster
    sid, _kind, _vmid = parse_sid(cl, str(params["sid"]))
    conf = cl.ha.get(sid)
    if conf is None:
        raise fail(f"no such resource '{sid}'")
    for key in str(params.get("delete") or "").replace(";", ",").split(","):
        conf.pop(key.strip(), None)
    for key, value in params.items():
        if key not in ("sid", "delete", "digest") and value is not None:
            conf[key] = str(value)
    cl.touch()
    sim.tasks.later(sim.options.ha_seconds, f"ha-crm-{sid}", lambda: crm(sim, sid, None))


def remove(sim: Sim, params: dict[str, Any]) -> None:
    cl = sim.cluster
    sid, _kind, _vmid = parse_sid(cl, str(params["sid"]))
    if sid not in cl.ha:
        raise fail(f"cannot delete service '{sid}', not HA managed!")
    del cl.ha[sid]
    cl.touch()
