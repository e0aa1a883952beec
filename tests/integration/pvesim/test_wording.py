"""PVE's exact texts and status codes, and values as PVE stores and shows them."""

from __future__ import annotations

import time

from mycopod.pvesim import direct
from mycopod.pvesim.core import SimOptions
from mycopod.pvesim.testing import SimHandle, running_simulator
from tests.support.pvesim import TASK_SECONDS, Api, assert_error

ALPINE = "local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz"


def test_creating_into_a_missing_pool_is_403(api: Api) -> None:
    message = "Permission check failed (pool 'nope' does not exist)"
    r = api.post("/nodes/pve1/qemu", vmid=150, name="x", pool="nope")
    assert_error(r, 403, message)
    r = api.post("/nodes/pve1/lxc", vmid=151, hostname="x", ostemplate=ALPINE, pool="nope")
    assert_error(r, 403, message)
    r = api.post("/nodes/pve1/qemu/9000/clone", newid=152, name="x", pool="nope")
    assert_error(r, 403, message)


def test_a_storage_without_images_is_a_parameter_error(api: Api) -> None:
    errors = {"storage": "storage 'local' does not support vm images"}
    r = api.post("/nodes/pve1/qemu", vmid=150, name="x", scsi0="local:4")
    assert_error(r, 400, "Parameter verification failed.", errors)
    r = api.put("/nodes/pve1/qemu/100/config", scsi1="local:4")
    assert_error(r, 400, "Parameter verification failed.", errors)
    r = api.post("/nodes/pve1/qemu/9000/clone", newid=152, name="x", full=1, storage="local")
    assert_error(r, 400, "Parameter verification failed.", errors)


def test_lxc_digest_mismatch(api: Api) -> None:
    st = api.run("POST", "/nodes/pve1/lxc", vmid=130, hostname="ct", ostemplate=ALPINE,
                 rootfs="local-lvm:2")
    assert st["exitstatus"] == "OK"
    digest = api.data("GET", "/nodes/pve1/lxc/130/config")["digest"]
    api.data("PUT", "/nodes/pve1/lxc/130/config", memory=256)
    r = api.put("/nodes/pve1/lxc/130/config", memory=384, digest=digest)
    assert_error(
        r, 500, "detected modified configuration - file changed by other user? Try again."
    )
    # a VM keeps qemu-server's own text
    digest = api.data("GET", "/nodes/pve1/qemu/100/config")["digest"]
    api.data("PUT", "/nodes/pve1/qemu/100/config", description="x")
    r = api.put("/nodes/pve1/qemu/100/config", description="y", digest=digest)
    assert_error(r, 500, "checksum mismatch (file change by other user?)")


def test_task_error_prefixes(api: Api, sim: SimHandle) -> None:
    with sim.cluster.lock:  # zvols with a refreservation: ZFS checks the free space
        sim.cluster.storages["local-zfs"].sparse = False
    st = api.run("POST", "/nodes/pve1/qemu", vmid=150, name="big", scsi0="local-zfs:900")
    assert st["exitstatus"] == (
        "unable to create VM 150 - zfs error: cannot create 'rpool/data/vm-150-disk-0': "
        "out of space"
    )
    assert direct.guest(sim.cluster, 150) is None
    with sim.cluster.lock:
        sim.cluster.storages["local-zfs"].total = 1
    st = api.run("POST", "/nodes/pve1/qemu/9000/clone", newid=151, name="c", full=1,
                 storage="local-zfs")
    assert st["exitstatus"].startswith("clone failed: zfs error:")
    st = api.run("POST", "/nodes/pve1/lxc", vmid=152, hostname="c", ostemplate=ALPINE,
                 rootfs="local-zfs:2")
    assert st["exitstatus"].startswith("unable to create CT 152 - zfs error:")


def test_stopping_a_stopped_container(api: Api) -> None:
    st = api.run("POST", "/nodes/pve1/lxc", vmid=130, hostname="ct", ostemplate=ALPINE,
                 rootfs="local-lvm:2")
    assert st["exitstatus"] == "OK"
    assert_error(api.post("/nodes/pve1/lxc/130/status/stop"), 500, "CT 130 not running")


def test_pending_has_a_digest_row(api: Api) -> None:
    rows = api.data("GET", "/nodes/pve1/qemu/100/pending")
    digest = [r for r in rows if r["key"] == "digest"]
    assert digest == [{"key": "digest",
                       "value": api.data("GET", "/nodes/pve1/qemu/100/config")["digest"]}]


def test_token_tasks_show_user_and_tokenid(token_api: Api, api: Api) -> None:
    upid = token_api.data("POST", "/nodes/pve1/qemu/100/status/reboot")
    assert upid.endswith(":qmreboot:100:root@pam!mycopod:")
    st = token_api.wait(upid)
    assert (st["user"], st["tokenid"]) == ("root@pam", "mycopod")
    row = next(t for t in api.data("GET", "/nodes/pve1/tasks") if t["upid"] == upid)
    assert (row["user"], row["tokenid"]) == ("root@pam", "mycopod")
    row = next(t for t in api.data("GET", "/cluster/tasks") if t["upid"] == upid)
    assert (row["user"], row["tokenid"]) == ("root@pam", "mycopod")
    mine = api.wait(api.data("POST", "/nodes/pve1/qemu/100/status/reboot"))
    assert mine["user"] == "root@pam" and "tokenid" not in mine


def test_a_new_guest_lags_in_cluster_resources() -> None:
    assert SimOptions().stats_interval == 10.0  # pvestatd's round
    with running_simulator(task_seconds=TASK_SECONDS, stats_interval=0.5) as sim:
        api = Api(sim)
        st = api.run("POST", "/nodes/pve1/qemu", vmid=150, name="fresh", tags="mycopod")
        assert st["exitstatus"] == "OK"
        row = next(r for r in api.data("GET", "/cluster/resources", type="vm")
                   if r["vmid"] == 150)
        # pve-manager PVE/API2Tools.pm extract_vm_stats without rrd data
        assert row == {"id": "qemu/150", "type": "qemu", "vmid": 150, "node": "pve1",
                       "status": "unknown", "tags": "mycopod"}
        assert api.data("GET", "/nodes/pve1/qemu/150/status/current")["name"] == "fresh"
        deadline = time.monotonic() + 5
        while row.get("name") is None and time.monotonic() < deadline:
            time.sleep(0.05)  # the simulator's pvestatd runs every 0.5 s here
            row = next(r for r in api.data("GET", "/cluster/resources", type="vm")
                       if r["vmid"] == 150)
        assert row["name"] == "fresh" and row["status"] == "stopped"
    with running_simulator(task_seconds=TASK_SECONDS, stats_interval=0) as sim:
        api = Api(sim)
        api.run("POST", "/nodes/pve1/qemu", vmid=150, name="fresh")
        row = next(r for r in api.data("GET", "/cluster/resources", type="vm")
                   if r["vmid"] == 150)
        assert row["name"] == "fresh" and row["status"] == "stopped"
