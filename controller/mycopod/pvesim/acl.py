"""ACL roles and ``GET /access/permissions``, as PVE answers them.

PVE grants privileges through roles on paths (``pveum acl modify / --tokens T --roles R``);
``GET /access/permissions`` answers the effective privileges of the caller (or of
``userid``) per path, ``{"/": {"VM.Audit": 1, ...}}``, the ``1`` saying the grant
propagates below. The simulator knows two API tokens: the main one (``token_id``), and
the user, with ``Administrator`` on ``/``, and a second one (``audit_token_id``) with only
``PVEAuditor`` on ``/``, so that a client can be tested against a token that may look
but not change anything (``mycopod doctor`` names the privileges it lacks).

It also serves ``GET /nodes/{node}/time``, the node's clock (the simulator's injectable
clock), which a client compares with its own.
"""

from __future__ import annotations

from typing import Any

from mycopod.pvesim.core import Request, Sim
from mycopod.pvesim.errors import ApiError
from mycopod.pvesim.routes import route

#: PVE's built-in roles that the simulator grants (privileges as ``pveum role list`` shows)
ROLES: dict[str, frozenset[str]] = {
    "Administrator": frozenset({
        "Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate",
        "Datastore.Audit", "Group.Allocate", "Mapping.Audit", "Mapping.Modify",
        "Mapping.Use", "Permissions.Modify", "Pool.Allocate", "Pool.Audit", "Realm.Allocate",
        "Realm.AllocateUser", "SDN.Allocate", "SDN.Audit", "SDN.Use", "Sys.Audit",
        "Sys.Console", "Sys.Incoming", "Sys.Modify", "Sys.PowerMgmt", "Sys.Syslog",
        "User.Modify", "VM.Allocate", "VM.Audit", "VM.Backup", "VM.Clone", "VM.Config.CDROM",
        "VM.Config.CPU", "VM.Config.Cloudinit", "VM.Config.Disk", "VM.Config.HWType",
        "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options", "VM.Console",
        "VM.GuestAgent.Audit", "VM.GuestAgent.Unrestricted", "VM.Migrate", "VM.PowerMgmt",
        "VM.Replicate", "VM.Snapshot", "VM.Snapshot.Rollback",
    }),
    "PVEAuditor": frozenset({
        "Datastore.Audit", "Mapping.Audit", "Pool.Audit", "SDN.Audit", "Sys.Audit",
        "VM.Audit", "VM.GuestAgent.Audit",
    }),
}


def role_of(sim: Sim, userid: str) -> str | None:
    """The role granted on ``/`` to a user or token id (None: no ACL entry)."""
    o = sim.options
    if userid == o.audit_token_id:
        return "PVEAuditor"
    if userid in (o.user, o.token_id):
        return "Administrator"
    return None


def permissions(sim: Sim, userid: str, path: str | None = None) -> dict[str, dict[str, int]]:
    role = role_of(sim, userid)
    if role is None:
        return {}
    granted = {priv: 1 for priv in sorted(ROLES[role])}
    paths = ["/", "/vms", "/storage", "/nodes", "/pool", "/sdn"]
    if path is not None:
        return {path: granted}
    return {p: dict(granted) for p in paths}


@route("/access/permissions", "GET")
def access_permissions(sim: Sim, req: Request) -> Any:
    target = req.params.get("userid") or req.user
    if target != req.user and role_of(sim, req.user) != "Administrator" \
            and not target.startswith(f"{req.user}!"):
        raise ApiError(403, "Permission check failed (/access, Sys.Audit)")
    return permissions(sim, target, req.params.get("path"))


@route("/nodes/{node}/time", "GET")
def node_time(sim: Sim, req: Request) -> Any:
    now = int(sim.options.clock())
    return {"time": now, "localtime": now, "timezone": "UTC"}
