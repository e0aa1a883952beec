"""What the simulator answers has only the fields the schema says the call returns.

Real PVE returns a few fields its schema does not document; the simulator returns those
too, and they are listed here one by one so nothing else slips in unnoticed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mycopod.pvesim import schema
from mycopod.pvesim.testing import running_simulator
from tests.support.pvesim import Api

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

UPID = "UPID"  # replaced by a real task's UPID

#: fields real PVE 9 answers that its schema leaves out
UNDOCUMENTED = {
    "/cluster/tasks": {
        "endtime",
        "id",
        "node",
        "pid",
        "pstart",
        "starttime",
        "status",
        "type",
        "user",
    },
    "/nodes": {"disk", "id", "maxdisk", "type"},
    "/nodes/{node}/status": {"idle", "ksm", "kversion", "swap", "uptime", "wait"},
    "/nodes/{node}/storage/{storage}/content": {"content"},
    "/nodes/{node}/network": {"bridge_fd", "bridge_stp"},
    "/nodes/{node}/qemu": {"disk"},
    "/nodes/{node}/qemu/{vmid}/status/current": {"disk"},
    "/nodes/{node}/lxc": {"type"},
    "/nodes/{node}/lxc/{vmid}/status/current": {"type"},
}


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[Api, str]]:
    """One simulator for the whole module, with a running container (reads only)."""
    with running_simulator(task_seconds=0.01) as sim:
        api = Api(sim)
        st = api.run(
            "POST",
            "/nodes/pve1/lxc",
            vmid=200,
            hostname="ct",
            start=1,
            tags="a",
            ostemplate="local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz",
            rootfs="local-lvm:2",
            net0="name=eth0,bridge=vmbr0,ip=dhcp",
        )
        yield api, st["upid"]


def _allowed(path: str) -> tuple[str, set[str]]:
    method = schema.load().method(path, "GET")
    assert method is not None
    ret = method.returns
    if ret.get("type") == "array":
        return "array", set((ret.get("items") or {}).get("properties") or {})
    return "object", set(ret.get("properties") or {})


@pytest.mark.parametrize(
    ("schema_path", "path", "params"),
    [
        ("/version", "/version", {}),
        ("/cluster/resources", "/cluster/resources", {}),
        ("/cluster/status", "/cluster/status", {}),
        ("/cluster/tasks", "/cluster/tasks", {}),
        ("/pools", "/pools", {"poolid": "infra"}),
        ("/pools/{poolid}", "/pools/infra", {}),
        ("/nodes", "/nodes", {}),
        ("/nodes/{node}/status", "/nodes/pve1/status", {}),
        ("/nodes/{node}/storage", "/nodes/pve1/storage", {}),
        ("/nodes/{node}/storage/{storage}/content", "/nodes/pve1/storage/local/content", {}),
        ("/nodes/{node}/storage/{storage}/content", "/nodes/pve1/storage/local-lvm/content", {}),
        ("/nodes/{node}/network", "/nodes/pve1/network", {}),
        ("/nodes/{node}/tasks", "/nodes/pve1/tasks", {}),
        ("/nodes/{node}/tasks/{upid}/status", f"/nodes/pve1/tasks/{UPID}/status", {}),
        ("/nodes/{node}/tasks/{upid}/log", f"/nodes/pve1/tasks/{UPID}/log", {}),
        ("/nodes/{node}/qemu", "/nodes/pve1/qemu", {}),
        ("/nodes/{node}/qemu/{vmid}/config", "/nodes/pve1/qemu/100/config", {}),
        ("/nodes/{node}/qemu/{vmid}/config", "/nodes/pve1/qemu/9000/config", {}),
        ("/nodes/{node}/qemu/{vmid}/pending", "/nodes/pve1/qemu/100/pending", {}),
        ("/nodes/{node}/qemu/{vmid}/status/current", "/nodes/pve1/qemu/100/status/current", {}),
        ("/nodes/{node}/lxc", "/nodes/pve1/lxc", {}),
        ("/nodes/{node}/lxc/{vmid}/config", "/nodes/pve1/lxc/200/config", {}),
        ("/nodes/{node}/lxc/{vmid}/status/current", "/nodes/pve1/lxc/200/status/current", {}),
        ("/nodes/{node}/lxc/{vmid}/pending", "/nodes/pve1/lxc/200/pending", {}),
        ("/nodes/{node}/qemu/{vmid}", "/nodes/pve1/qemu/100", {}),
    ],
)
def test_fields_are_in_the_schema(
    shared: tuple[Api, str], schema_path: str, path: str, params: dict[str, Any]
) -> None:
    api, upid = shared
    data = api.data("GET", path.replace(UPID, upid), **params)
    kind, allowed = _allowed(schema_path)
    allowed |= UNDOCUMENTED.get(schema_path, set())
    rows = data if kind == "array" else [data]
    assert rows
    for row in rows:
        extra = set(row) - allowed
        # config keys are indexed (scsi0 for scsi[n])
        extra = {k for k in extra if (k.rstrip("0123456789") + "[n]") not in allowed}
        assert not extra, (schema_path, extra)
