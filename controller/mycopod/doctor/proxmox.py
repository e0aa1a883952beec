"""The checks against the Proxmox VE API: reachable with TLS, the token, its privileges,
the nodes' clocks, and whether what the declarations name exists where they need it.

The calls go through aiohttp, not the daemon's client: a doctor must tell a TLS failure
from a refused connection from a wrong secret, which the client's retries and error
wrapping rightly hide.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from mycopod.config import ProxmoxSettings
from mycopod.declarations import facts as factsmod
from mycopod.doctor.report import Finding, fail, ok, warn
from mycopod.spec import ClusterSpec

#: what MycoPod needs on ``/`` (docs/INSTALL.md's role; ``mycopod init`` prints it)
REQUIRED_PRIVILEGES = (
    "VM.Allocate", "VM.Audit", "VM.Clone", "VM.Config.CDROM", "VM.Config.CPU",
    "VM.Config.Cloudinit", "VM.Config.Disk", "VM.Config.HWType", "VM.Config.Memory",
    "VM.Config.Network", "VM.Config.Options", "VM.Migrate", "VM.PowerMgmt",
    "Datastore.Audit", "Datastore.AllocateSpace", "Datastore.AllocateTemplate",
    "Pool.Audit", "Sys.Audit", "SDN.Use",
)
MAX_CLOCK_SKEW = 30.0
FIX_ROLE = ('pveum role add MycoPod -privs "' + " ".join(REQUIRED_PRIVILEGES) + '" && '
            "pveum acl modify / --tokens TOKEN_ID --roles MycoPod")


class ApiFailure(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


@dataclass
class Api:
    """GET calls with the configured credentials; ``base`` ends in ``/api2/json``."""

    session: aiohttp.ClientSession
    base: str
    headers: dict[str, str] = field(default_factory=dict)

    async def get(self, endpoint: str, **params: Any) -> Any:
        async with self.session.get(f"{self.base}{endpoint}", params=params or None,
                                    headers=self.headers) as resp:
            if resp.status != 200:
                raise ApiFailure(resp.status, resp.reason or "")
            return (await resp.json(content_type=None))["data"]


def ssl_context(settings: ProxmoxSettings) -> ssl.SSLContext | bool:
    if not settings.verify_tls:
        return False
    return ssl.create_default_context(
        cafile=str(settings.ca_file) if settings.ca_file is not None else None)


async def check(settings: ProxmoxSettings, spec: ClusterSpec | None) -> list[Finding]:
    if not settings.url:
        return []
    timeout = aiohttp.ClientTimeout(total=min(settings.timeout, 15.0))
    connector = aiohttp.TCPConnector(ssl=ssl_context(settings))
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        api = Api(session, settings.url.rstrip("/") + "/api2/json")
        found = await _reachable(api, settings)
        if found[-1].status == "fail":
            return found
        auth = await _authenticate(api, settings)
        found.append(auth)
        if auth.status == "fail":
            return found
        found.append(await _privileges(api, settings))
        nodes = [n for n in await api.get("/nodes") if n.get("status", "online") == "online"]
        found.append(await _clocks(api, [n["node"] for n in nodes]))
        if spec is not None:
            found.append(await _references(api, [n["node"] for n in nodes], spec))
        return found


async def _reachable(api: Api, settings: ProxmoxSettings) -> list[Finding]:
    try:
        version = await api.get("/version")
    except ApiFailure as exc:
        if exc.status != 401:
            return [fail("proxmox", f"{settings.url} answers {exc}",
                         "is proxmox.url the API of a Proxmox VE node (https://HOST:8006)?")]
        version = None  # /version needs authentication: reachable, the token is checked next
    except aiohttp.ClientConnectorCertificateError as exc:
        return [fail("proxmox.tls", f"the TLS certificate of {settings.url} does not verify: "
                     f"{exc.certificate_error}",
                     "set [proxmox] ca_file to the cluster's CA (/etc/pve/pve-root-ca.pem on a "
                     "node), or verify_tls = false to turn checking off explicitly")]
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        return [fail("proxmox", f"cannot reach {settings.url}: {type(exc).__name__}: {exc}",
                     "check proxmox.url, the network and the firewall (port 8006)")]
    shown = f" (Proxmox VE {version['version']})" if isinstance(version, dict) else ""
    tls = (warn("proxmox.tls", "TLS verification is off (verify_tls = false)",
                "set ca_file to the cluster's CA and verify_tls = true")
           if not settings.verify_tls else ok("proxmox.tls", "the certificate verifies"))
    return [ok("proxmox", f"{settings.url} answers{shown}"), tls]


async def _authenticate(api: Api, settings: ProxmoxSettings) -> Finding:
    if settings.token_id and settings.token_secret is not None:
        secret = settings.token_secret.get_secret_value()
        api.headers["Authorization"] = f"PVEAPIToken={settings.token_id}={secret}"
        who = f"token {settings.token_id}"
    elif settings.user and settings.password is not None:
        try:
            async with api.session.post(f"{api.base}/access/ticket", data={
                    "username": settings.user,
                    "password": settings.password.get_secret_value()}) as resp:
                if resp.status != 200:
                    raise ApiFailure(resp.status, resp.reason or "")
                ticket = (await resp.json(content_type=None))["data"]["ticket"]
        except ApiFailure as exc:
            return fail("proxmox.auth", f"user {settings.user} cannot log in: {exc}",
                        "check proxmox.user and the proxmox_password credential")
        api.headers["Cookie"] = f"PVEAuthCookie={ticket}"
        who = f"user {settings.user}"
    else:
        return fail("proxmox.auth", "no token or user configured",
                    "set proxmox.token_id and the proxmox_token_secret credential")
    try:
        await api.get("/version")
    except ApiFailure as exc:
        return fail("proxmox.auth", f"{who} is refused: {exc}",
                    "check proxmox.token_id and the proxmox_token_secret credential "
                    "(pveum user token list USER shows the token; a new secret: "
                    "pveum user token add USER NAME --privsep 0)")
    return ok("proxmox.auth", f"{who} authenticates")


async def _privileges(api: Api, settings: ProxmoxSettings) -> Finding:
    try:
        perms = await api.get("/access/permissions", path="/")
    except ApiFailure as exc:
        return fail("proxmox.privileges", f"cannot read the privileges: {exc}",
                    "grant Sys.Audit on / (or upgrade Proxmox VE)")
    granted = set((perms or {}).get("/", {}))
    missing = [p for p in REQUIRED_PRIVILEGES if p not in granted]
    if missing:
        return fail("proxmox.privileges", f"missing on /: {', '.join(missing)}",
                    FIX_ROLE.replace("TOKEN_ID", settings.token_id or "USER@REALM!TOKEN"))
    return ok("proxmox.privileges", f"all {len(REQUIRED_PRIVILEGES)} privileges MycoPod "
              "needs are granted on /")


async def _clocks(api: Api, nodes: list[str]) -> Finding:
    skews: dict[str, float] = {}
    for node in nodes:
        before = time.time()
        answer = await api.get(f"/nodes/{node}/time")
        skews[node] = float(answer["time"]) - (before + time.time()) / 2
    off = {n: s for n, s in skews.items() if abs(s) > MAX_CLOCK_SKEW}
    if off:
        shown = ", ".join(f"{n} {s:+.0f} s" for n, s in off.items())
        return fail("clock", f"clocks differ from this machine's by more than "
                    f"{MAX_CLOCK_SKEW:.0f} s: {shown}",
                    "run NTP everywhere (timedatectl set-ntp true; chronyc tracking)")
    worst = max((abs(s) for s in skews.values()), default=0.0)
    return ok("clock", f"{len(skews)} node(s) within {worst:.0f} s of this machine")


async def _node_facts(api: Api, node: str) -> factsmod.ClusterFacts:
    storages = await api.get(f"/nodes/{node}/storage")
    network = await api.get(f"/nodes/{node}/network")
    isos: list[str] = []
    ostemplates: list[str] = []
    for s in storages:
        content = str(s.get("content", ""))
        for kind, into in (("iso", isos), ("vztmpl", ostemplates)):
            if kind in content.split(","):
                volumes = await api.get(f"/nodes/{node}/storage/{s['storage']}/content",
                                        content=kind)
                into.extend(v["volid"] for v in volumes)
    return factsmod.ClusterFacts(
        nodes=[node],
        storages=[factsmod.StorageFact(name=s["storage"],
                                       content=str(s.get("content", "")).split(","))
                  for s in storages],
        bridges=[i["iface"] for i in network if i.get("type") in ("bridge", "OVSBridge")],
        isos=isos, ostemplates=ostemplates)


async def _references(api: Api, nodes: list[str], spec: ClusterSpec) -> Finding:
    per_node = {node: await _node_facts(api, node) for node in nodes}
    resources = await api.get("/cluster/resources", type="vm")
    templates = sorted({r["name"] for r in resources if r.get("template") and r.get("name")})
    pools = {p["poolid"] for p in await api.get("/pools")}
    union = factsmod.ClusterFacts(
        nodes=nodes,
        storages=list({s.name: s for f in per_node.values() for s in f.storages}.values()),
        bridges=sorted({b for f in per_node.values() for b in f.bridges}),
        templates=templates,
        isos=sorted({i for f in per_node.values() for i in f.isos}),
        ostemplates=sorted({t for f in per_node.values() for t in f.ostemplates}),
        pools=sorted(pools))
    problems: list[str] = []
    for guest in spec.guests:
        facts = union
        if guest.node in per_node:  # pinned to a node: what it names must be on that node
            facts = per_node[guest.node].model_copy(update={"templates": templates})
        problems += factsmod.check(spec.model_copy(update={"guests": [guest]}), facts)
        if guest.state != "absent" and guest.pool and guest.pool not in pools:
            problems.append(f"guest {guest.name!r}: pool {guest.pool!r} does not exist "
                            f"(pools: {', '.join(sorted(pools)) or 'none'})")
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        return fail("references", "; ".join(problems[:3]) + more,
                    "correct the declaration, or create what it names in Proxmox")
    return ok("references", f"every node, storage, bridge, pool, template and ISO that "
              f"{len(spec.guests)} guest(s) name exists")
