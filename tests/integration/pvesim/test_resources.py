"""/cluster/resources: every type, the schema's fields, values that agree with configs."""

from __future__ import annotations

from mycopod.pvesim import direct, schema
from mycopod.pvesim.state import GiB, MiB
from mycopod.pvesim.testing import SimHandle
from tests.support.pvesim import Api

GUEST_FIELDS = {
    "id",
    "type",
    "vmid",
    "node",
    "status",
    "name",
    "maxcpu",
    "maxmem",
    "maxdisk",
    "mem",
    "cpu",
    "uptime",
    "template",
}


def test_every_type_is_listed(api: Api, sim: SimHandle) -> None:
    rows = api.data("GET", "/cluster/resources")
    assert {r["type"] for r in rows} == {"qemu", "node", "storage", "pool"}
    api.run(
        "POST",
        "/nodes/pve1/lxc",
        vmid=200,
        hostname="ct",
        ostemplate="local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz",
        rootfs="local-lvm:2",
    )
    rows = api.data("GET", "/cluster/resources")
    assert {r["type"] for r in rows} == {"qemu", "lxc", "node", "storage", "pool"}
    assert {r["id"] for r in rows if r["type"] == "node"} == {"node/pve1", "node/pve2", "node/pve3"}
    assert {"id": "/pool/infra", "type": "pool", "pool": "infra"} in rows
    storages = {r["id"] for r in rows if r["type"] == "storage"}
    assert "storage/pve2/ceph-pool" in storages and len(storages) == 18


def test_fields_are_the_schema_ones(api: Api) -> None:
    method = schema.load().method("/cluster/resources", "GET")
    assert method is not None
    allowed = set(method.returns["items"]["properties"])
    for row in api.data("GET", "/cluster/resources"):
        assert set(row) <= allowed, set(row) - allowed
        if row["type"] in ("qemu", "lxc"):
            assert GUEST_FIELDS <= set(row)


def test_type_filter(api: Api) -> None:
    assert {r["type"] for r in api.data("GET", "/cluster/resources", type="vm")} == {"qemu"}
    assert {r["type"] for r in api.data("GET", "/cluster/resources", type="node")} == {"node"}
    assert {r["type"] for r in api.data("GET", "/cluster/resources", type="storage")} == {"storage"}


def test_values_agree_with_configs(api: Api, sim: SimHandle) -> None:
    api.data("PUT", "/nodes/pve1/qemu/100/config", tags="mycopod;web")
    api.data("PUT", "/pools", poolid="infra", vms="100")
    res = {r["id"]: r for r in api.data("GET", "/cluster/resources", type="vm")}
    legacy = res["qemu/100"]
    assert legacy["name"] == "legacy-app" and legacy["node"] == "pve1"
    assert legacy["status"] == "running" and legacy["uptime"] > 0
    assert legacy["maxcpu"] == 2 and legacy["maxmem"] == 4096 * MiB
    assert legacy["maxdisk"] == 32 * GiB
    assert legacy["tags"] == "mycopod;web" and legacy["pool"] == "infra"
    assert legacy["template"] == 0 and 0 < legacy["mem"] <= legacy["maxmem"]
    tpl = res["qemu/9000"]
    assert tpl["template"] == 1 and tpl["status"] == "stopped" and tpl["mem"] == 0
    assert tpl["name"] == "ubuntu-24.04"
    current = api.data("GET", "/nodes/pve1/qemu/100/status/current")
    for key in ("maxmem", "maxdisk", "mem", "cpu", "netin", "netout"):
        assert current[key] == legacy[key], key
    api.run("POST", "/nodes/pve1/qemu/100/status/stop")
    # the status comes from pvestatd's stats, so it changes at its next round
    res = {r["id"]: r for r in api.data("GET", "/cluster/resources", type="vm")}
    assert res["qemu/100"]["status"] == "running"
    sim.stats_round()
    res = {r["id"]: r for r in api.data("GET", "/cluster/resources", type="vm")}
    assert res["qemu/100"]["status"] == "stopped" and res["qemu/100"]["uptime"] == 0


def test_many_guests(sim: SimHandle, api: Api) -> None:
    ids = direct.add_guests(sim.cluster, 300, owned_tag="mycopod")
    rows = api.data("GET", "/cluster/resources", type="vm")
    assert len(rows) == 303
    assert {r["node"] for r in rows if r["vmid"] in ids} == {"pve1", "pve2", "pve3"}
    some = direct.config(sim.cluster, ids[-1])
    assert some["tags"] == "mycopod"
    assert direct.find_guest(sim.cluster, some["name"]) is not None


def test_pools_crud(api: Api) -> None:
    assert api.data("POST", "/pools", poolid="web", comment="front") is None
    r = api.post("/pools", poolid="web")
    assert r.status_code == 500 and r.reason == "create pool failed: pool 'web' already exists"
    api.data("PUT", "/pools", poolid="web", vms="100")
    pool = api.data("GET", "/pools", poolid="web")[0]
    assert [m["vmid"] for m in pool["members"]] == [100]
    r = api.delete("/pools", poolid="web")
    assert r.status_code == 500 and r.reason == "delete pool failed: pool 'web' is not empty"
    api.data("PUT", "/pools", poolid="web", vms="100", delete=1)
    assert api.data("DELETE", "/pools", poolid="web") is None
    assert [p["poolid"] for p in api.data("GET", "/pools")] == ["infra"]


def test_pool_storage_members(api: Api) -> None:
    assert api.run("POST", "/nodes/pve2/qemu", vmid=310, scsi0="tank:3")["exitstatus"] == "OK"
    api.data("PUT", "/pools/infra", storage="tank")

    def tank_use() -> list[int]:
        members = api.data("GET", "/pools/infra")["members"]
        tank = [m for m in members if m["type"] == "storage"]
        assert {m["id"] for m in tank} == {f"storage/pve{i}/tank" for i in (1, 2, 3)}
        return [m["disk"] for m in tank]

    assert tank_use() == [0] * 3  # a new sparse image holds nothing yet
    # a full clone copies what the template's disk holds (1.5 GiB of its 4 GiB);
    # shared storage: every node shows the same use
    api.run("POST", "/nodes/pve1/qemu/9001/clone", newid=311, full=1, storage="tank")
    assert tank_use() == [1536 * 1024**2] * 3


def test_inventory_endpoints(api: Api) -> None:
    nodes = api.data("GET", "/nodes")
    assert [n["node"] for n in nodes] == ["pve1", "pve2", "pve3"]
    assert nodes[0]["maxcpu"] == 16 and nodes[0]["maxmem"] == 64 * GiB
    assert api.data("GET", "/nodes/pve2/status")["memory"]["total"] == 64 * GiB
    storages = {s["storage"]: s for s in api.data("GET", "/nodes/pve1/storage")}
    assert storages["local"]["content"] == "iso,vztmpl,backup"
    assert storages["tank"]["shared"] == 1 and storages["tank"]["total"] == 8 * 1024 * GiB
    assert storages["local-zfs"]["type"] == "zfspool"
    isos = api.data("GET", "/nodes/pve1/storage/local/content", content="iso")
    assert [c["volid"] for c in isos] == ["local:iso/Win11.iso", "local:iso/debian-12.iso"]
    bridges = api.data("GET", "/nodes/pve1/network", type="bridge")
    assert [b["iface"] for b in bridges] == ["vmbr0", "vmbr1"]
    assert all(b["bridge_vlan_aware"] == 1 for b in bridges)
    status = api.data("GET", "/cluster/status")
    assert status[0]["type"] == "cluster" and status[0]["quorate"] == 1
