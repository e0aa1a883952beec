"""Guest locks as PVE checks them: in the worker, under the config lock (an flock with a
10 s timeout), except where PVE checks before forking."""

from __future__ import annotations

from mycopod.pvesim import direct
from mycopod.pvesim.core import SimOptions
from mycopod.pvesim.testing import SimHandle
from tests.support.pvesim import Api, assert_error

ALPINE = "local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz"


def _lock(sim: SimHandle, vmid: int, lock: str) -> None:
    with sim.cluster.lock:
        sim.cluster.guests[vmid].config["lock"] = lock
        sim.cluster.touch(sim.cluster.guests[vmid])


def _container(api: Api, vmid: int = 130, **params: object) -> None:
    st = api.run(
        "POST", "/nodes/pve1/lxc", vmid=vmid, hostname=f"ct{vmid}", ostemplate=ALPINE,
        rootfs="local-lvm:2", **params,
    )
    assert st["exitstatus"] == "OK"


def test_qemu_start_destroy_resize_fail_in_the_task(api: Api, sim: SimHandle) -> None:
    api.run("POST", "/nodes/pve1/qemu", vmid=140, name="locked", scsi0="local-lvm:4")
    _lock(sim, 140, "backup")
    for method, path, params in (
        ("POST", "/nodes/pve1/qemu/140/status/start", {}),
        ("DELETE", "/nodes/pve1/qemu/140", {}),
        ("PUT", "/nodes/pve1/qemu/140/resize", {"disk": "scsi0", "size": "+1G"}),
    ):
        r = api.call(method, path, **params)
        assert r.status_code == 200, (path, r.reason)  # accepted: a UPID
        assert api.wait(r.json()["data"])["exitstatus"] == "VM is locked (backup)"
    assert direct.status(sim.cluster, 140) == "stopped"
    assert direct.config(sim.cluster, 140)["scsi0"].endswith("size=4G")
    # skiplock (root@pam only) passes the lock
    st = api.run("POST", "/nodes/pve1/qemu/140/status/start", skiplock=1)
    assert st["exitstatus"] == "OK"


def test_stopping_a_stopped_vm_succeeds_even_when_locked(api: Api, sim: SimHandle) -> None:
    _lock(sim, 9001, "backup")
    with sim.cluster.lock:
        del sim.cluster.guests[9001].config["template"]
    for verb in ("stop", "shutdown"):
        st = api.run("POST", f"/nodes/pve1/qemu/9001/status/{verb}")
        assert st["exitstatus"] == "OK", verb
    # but a running one is not stopped while locked
    _lock(sim, 100, "backup")
    st = api.run("POST", "/nodes/pve1/qemu/100/status/shutdown")
    assert st["exitstatus"] == "VM is locked (backup)"
    assert direct.status(sim.cluster, 100) == "running"


def test_containers(api: Api, sim: SimHandle) -> None:
    _container(api)
    for verb in ("stop", "shutdown"):
        r = api.post(f"/nodes/pve1/lxc/130/status/{verb}")
        assert_error(r, 500, "CT 130 not running")
    _lock(sim, 130, "backup")
    st = api.run("POST", "/nodes/pve1/lxc/130/status/start")
    assert st["exitstatus"] == "CT is locked (backup)"
    # destroy and resize of a container check the lock before forking too
    assert_error(api.delete("/nodes/pve1/lxc/130"), 500, "CT is locked (backup)")
    r = api.put("/nodes/pve1/lxc/130/resize", disk="rootfs", size="+1G")
    assert_error(r, 500, "CT is locked (backup)")
    _lock(sim, 130, "mounted")  # a mounted CT still starts (pve-container vm_start)
    assert api.run("POST", "/nodes/pve1/lxc/130/status/start")["exitstatus"] == "OK"
    assert_error(api.post("/nodes/pve1/lxc/130/status/start"), 500, "CT 130 already running")


def test_a_second_operation_times_out_on_the_config_lock(api: Api, sim: SimHandle) -> None:
    assert SimOptions().lock_timeout == 10.0  # PVE's lock_config
    sim.sim.tasks.task_seconds = 0.3
    sim.sim.tasks.lock_timeout = 0.05
    first = api.data("POST", "/nodes/pve1/qemu/100/status/shutdown")
    second = api.data("POST", "/nodes/pve1/qemu/100/status/stop")
    assert api.wait(second)["exitstatus"] == (
        "can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout"
    )
    assert api.wait(first)["exitstatus"] == "OK"
    _container(api)
    sim.sim.tasks.task_seconds = 0.3
    first = api.data("POST", "/nodes/pve1/lxc/130/status/start")
    r = api.put("/nodes/pve1/lxc/130/config", memory=256)
    assert_error(r, 500, "can't lock file '/run/lock/lxc/pve-config-130.lock' - got timeout")
    assert api.wait(first)["exitstatus"] == "OK"


def test_a_full_container_clone_locks_its_source(api: Api, sim: SimHandle) -> None:
    _container(api)
    sim.sim.tasks.task_seconds = 0.3
    upid = api.data("POST", "/nodes/pve1/lxc/130/clone", newid=131, hostname="copy", full=1)
    assert api.data("GET", "/nodes/pve1/lxc/130/config")["lock"] == "disk"
    assert api.data("GET", "/nodes/pve1/lxc/131/config")["lock"] == "create"
    r = api.post("/nodes/pve1/lxc/130/clone", newid=132, hostname="again", full=1)
    assert_error(r, 500, "CT is locked (disk)")
    assert api.wait(upid)["exitstatus"] == "OK"
    assert "lock" not in api.data("GET", "/nodes/pve1/lxc/130/config")
    assert "lock" not in api.data("GET", "/nodes/pve1/lxc/131/config")
    # a failed clone unlocks its source as well
    upid = api.data(
        "POST", "/nodes/pve1/lxc/130/clone", newid=133, hostname="big", full=1,
        storage="local-zfs",
    )
    with sim.cluster.lock:  # a zvol with a refreservation: ZFS checks the free space
        sim.cluster.storages["local-zfs"].sparse = False
        sim.cluster.storages["local-zfs"].total = 1
    st = api.wait(upid)
    assert st["exitstatus"].startswith("clone failed: zfs error:")
    assert "lock" not in api.data("GET", "/nodes/pve1/lxc/130/config")
    assert direct.guest(sim.cluster, 133) is None
