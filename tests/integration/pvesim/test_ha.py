"""HA-managed guests: start, stop and migrate are requests to the HA manager, whose
tasks end before the guest changes."""

from __future__ import annotations

import time

from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle
from tests.support.pvesim import Api, assert_error


def _until(check: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached")


def test_ha_resources_api(api: Api, sim: SimHandle) -> None:
    sim.sim.options.ha_seconds = 0.2
    assert api.data("GET", "/cluster/ha/resources") == []
    api.data("POST", "/cluster/ha/resources", sid="vm:100", state="started", max_restart=2)
    rows = api.data("GET", "/cluster/ha/resources")
    assert [(r["sid"], r["type"], r["state"], r["max_restart"]) for r in rows] == [
        ("vm:100", "vm", "started", 2)
    ]
    assert api.data("GET", "/cluster/ha/resources/100")["sid"] == "vm:100"
    r = api.post("/cluster/ha/resources", sid="vm:100")
    assert_error(r, 500, "resource ID 'vm:100' already defined")
    assert api.data("GET", "/nodes/pve1/qemu/100/status/current")["ha"] == {
        "managed": 1, "state": "started"
    }
    res = {x["id"]: x for x in api.data("GET", "/cluster/resources", type="vm")}
    assert res["qemu/100"]["hastate"] == "started"
    r = api.delete("/nodes/pve1/qemu/100")
    assert_error(
        r, 500, "unable to remove VM 100 - used in HA resources and purge parameter not set."
    )
    api.data("DELETE", "/cluster/ha/resources/vm:100")
    assert api.data("GET", "/cluster/ha/resources") == []
    r = api.delete("/cluster/ha/resources/vm:100")
    assert_error(r, 500, "cannot delete service 'vm:100', not HA managed!")


def test_ha_stop_start_migrate_end_before_the_guest_changes(api: Api, sim: SimHandle) -> None:
    sim.sim.options.ha_seconds = 0.4
    api.data("POST", "/cluster/ha/resources", sid="vm:100")
    st = api.run("POST", "/nodes/pve1/qemu/100/status/stop")
    assert st["exitstatus"] == "OK" and st["type"] == "hastop"
    assert direct.status(sim.cluster, 100) == "running"  # the CRM has not acted yet
    assert api.data("GET", "/cluster/ha/resources/vm:100")["state"] == "stopped"
    _until(lambda: direct.status(sim.cluster, 100) == "stopped")
    st = api.run("POST", "/nodes/pve1/qemu/100/status/start")
    assert st["type"] == "hastart" and st["exitstatus"] == "OK"
    assert direct.status(sim.cluster, 100) == "stopped"
    _until(lambda: direct.status(sim.cluster, 100) == "running")
    # the LRM's own worker, as root@pam
    lrm = [t for t in api.data("GET", "/nodes/pve1/tasks", vmid=100) if t["type"] == "qmstart"]
    assert lrm and lrm[0]["user"] == "root@pam"
    st = api.run("POST", "/nodes/pve1/qemu/100/migrate", target="pve2", online=1,
                 **{"with-local-disks": 1})
    assert st["type"] == "hamigrate" and st["exitstatus"] == "OK"
    assert direct.node_of(sim.cluster, 100) == "pve1"
    _until(lambda: direct.node_of(sim.cluster, 100) == "pve2")
    assert direct.status(sim.cluster, 100) == "running"


def test_ha_container_and_destroy_with_purge(api: Api, sim: SimHandle) -> None:
    sim.sim.options.ha_seconds = 0.2
    st = api.run("POST", "/nodes/pve1/lxc", vmid=150, hostname="ha-ct",
                 ostemplate="local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz",
                 rootfs="local-lvm:2")
    assert st["exitstatus"] == "OK"
    api.data("POST", "/cluster/ha/resources", sid="ct:150", state="stopped")
    st = api.run("POST", "/nodes/pve1/lxc/150/status/start")
    assert st["type"] == "hastart"
    _until(lambda: direct.status(sim.cluster, 150) == "running")
    st = api.run("POST", "/nodes/pve1/lxc/150/status/shutdown")
    assert st["type"] == "hastop"
    _until(lambda: direct.status(sim.cluster, 150) == "stopped")
    r = api.delete("/nodes/pve1/lxc/150")
    assert_error(
        r, 500, "unable to remove CT 150 - used in HA resources and purge parameter not set."
    )
    assert api.run("DELETE", "/nodes/pve1/lxc/150", purge=1)["exitstatus"] == "OK"
    assert api.data("GET", "/cluster/ha/resources") == []
