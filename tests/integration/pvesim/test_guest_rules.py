"""Locks, digests, pending changes, IDs, and the rules PVE enforces on guests."""

from __future__ import annotations

import requests

from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle
from tests.support.pvesim import Api, assert_error

# -- locks --------------------------------------------------------------------------------


def test_a_running_task_holds_the_config_lock(api: Api, sim: SimHandle) -> None:
    # PVE takes the guest's config lock (an flock, 10 s timeout) in the worker and in a
    # synchronous config update: a second operation waits, then fails "got timeout"
    # (this test used to expect an at-once 500 "VM 120 is locked (clone)")
    sim.sim.tasks.task_seconds = 0.3
    sim.sim.tasks.lock_timeout = 0.05
    timeout = "can't lock file '/var/lock/qemu-server/lock-120.conf' - got timeout"
    upid = api.data("POST", "/nodes/pve1/qemu/9000/clone", newid=120, name="c", full=1)
    assert api.data("GET", "/nodes/pve1/qemu/120/config")["lock"] == "clone"
    res = {r["id"]: r for r in api.data("GET", "/cluster/resources", type="vm")}
    assert res["qemu/120"]["lock"] == "clone"
    assert_error(api.put("/nodes/pve1/qemu/120/config", cores=2), 500, timeout)
    assert api.run("POST", "/nodes/pve1/qemu/120/status/start")["exitstatus"] == timeout
    assert api.wait(upid)["exitstatus"] == "OK"
    assert "lock" not in api.data("GET", "/nodes/pve1/qemu/120/config")


def test_a_config_update_waits_for_the_lock(api: Api, sim: SimHandle) -> None:
    sim.sim.tasks.task_seconds = 0.3
    upid = api.data(
        "POST",
        "/nodes/pve1/lxc",
        vmid=130,
        hostname="ct",
        ostemplate="local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz",
        rootfs="local-lvm:2",
    )
    assert api.data("GET", "/nodes/pve1/lxc/130/config")["lock"] == "create"
    # waits for the create's config lock (10 s at most), then finds the lock gone
    assert api.data("PUT", "/nodes/pve1/lxc/130/config", memory=256) is None
    assert api.wait(upid)["exitstatus"] == "OK"
    assert direct.config(sim.cluster, 130)["memory"] == 256
    upid = api.data("POST", "/nodes/pve1/lxc/130/migrate", target="pve2")
    r = api.put("/nodes/pve1/lxc/130/config", memory=512)
    assert_error(r, 500, "Configuration file 'nodes/pve1/lxc/130.conf' does not exist")
    api.wait(upid)
    assert direct.node_of(sim.cluster, 130) == "pve2"


def test_lock_timeouts_under_faults(api: Api, sim: SimHandle) -> None:
    sim.set_faults(fault_rate=1.0, slow_seconds=0.01)
    seen = set()
    landed = None
    for i in range(60):
        try:
            r = api.put("/nodes/pve1/qemu/100/config", description=f"write {i}")
        except requests.ConnectionError:
            continue  # a dropped connection: the write must not have landed
        if r.status_code == 200:
            landed = f"write {i}"  # a slow answer still commits
        else:
            seen.add(r.reason)
    sim.set_faults(fault_rate=0)
    assert "can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout" in seen
    # only the writes that were answered 200 took effect, the faulted ones not at all
    assert direct.config(sim.cluster, 100).get("description") == landed


# -- digest ---------------------------------------------------------------------------------


def test_digest_is_sha1_of_the_config_and_guards_writes(api: Api) -> None:
    conf = api.data("GET", "/nodes/pve1/qemu/100/config")
    assert len(conf["digest"]) == 40
    assert api.data("PUT", "/nodes/pve1/qemu/100/config", cores=3, digest=conf["digest"]) is None
    after = api.data("GET", "/nodes/pve1/qemu/100/config", current=1)
    assert after["digest"] != conf["digest"]
    r = api.put("/nodes/pve1/qemu/100/config", cores=4, digest=conf["digest"])
    assert_error(r, 500, "checksum mismatch (file change by other user?)")
    r = api.post("/nodes/pve1/qemu/100/config", cores=4, digest=conf["digest"])
    assert_error(r, 500, "checksum mismatch (file change by other user?)")


# -- pending --------------------------------------------------------------------------------


def test_cpu_and_memory_changes_on_a_running_vm_are_pending(api: Api) -> None:
    assert api.data("GET", "/nodes/pve1/qemu/100/status/current")["status"] == "running"
    api.data("PUT", "/nodes/pve1/qemu/100/config", cores=4, memory=8192, description="now")
    shown = api.data("GET", "/nodes/pve1/qemu/100/config")
    current = api.data("GET", "/nodes/pve1/qemu/100/config", current=1)
    assert (shown["cores"], shown["memory"]) == (4, "8192")
    assert (current["cores"], current["memory"]) == (2, "4096")
    assert current["description"] == "now"  # applied at once
    pending = {row["key"]: row for row in api.data("GET", "/nodes/pve1/qemu/100/pending")}
    assert pending["cores"] == {"key": "cores", "value": 2, "pending": 4}
    assert pending["memory"] == {"key": "memory", "value": "4096", "pending": "8192"}
    assert "pending" not in pending["description"]
    api.run("POST", "/nodes/pve1/qemu/100/status/stop")
    api.run("POST", "/nodes/pve1/qemu/100/status/start")
    current = api.data("GET", "/nodes/pve1/qemu/100/config", current=1)
    assert (current["cores"], current["memory"]) == (4, "8192")
    assert all("pending" not in row for row in api.data("GET", "/nodes/pve1/qemu/100/pending"))


def test_revert_and_pending_delete(api: Api) -> None:
    api.data("PUT", "/nodes/pve1/qemu/100/config", cores=8)
    api.data("PUT", "/nodes/pve1/qemu/100/config", revert="cores")
    assert api.data("GET", "/nodes/pve1/qemu/100/config")["cores"] == 2
    api.data("PUT", "/nodes/pve1/qemu/100/config", delete="ostype")
    assert "ostype" not in api.data("GET", "/nodes/pve1/qemu/100/config")
    assert api.data("GET", "/nodes/pve1/qemu/100/config", current=1)["ostype"] == "l26"


# -- ids --------------------------------------------------------------------------------------


def test_nextid_is_lowest_free_as_a_string(api: Api) -> None:
    assert api.get("/cluster/nextid").json() == {"data": "101"}
    assert api.data("GET", "/cluster/nextid", vmid=150) == "150"
    r = api.get("/cluster/nextid", vmid=100)
    assert_error(r, 400, "Parameter verification failed.", {"vmid": "VM 100 already exists"})


def test_nextid_reserves_nothing_so_parallel_creates_collide(api: Api) -> None:
    first, second = api.data("GET", "/cluster/nextid"), api.data("GET", "/cluster/nextid")
    assert first == second
    api.data("POST", "/nodes/pve1/qemu", vmid=first, name="a")
    r = api.post("/nodes/pve2/qemu", vmid=second, name="b")
    assert_error(r, 500, f"unable to create VM {first} - VM {first} already exists on node 'pve1'")


def test_create_existing_vmid(api: Api) -> None:
    r = api.post("/nodes/pve2/qemu", vmid=100, name="dup")
    assert_error(r, 500, "unable to create VM 100 - VM 100 already exists on node 'pve1'")


# -- rules ---------------------------------------------------------------------------------------


def test_names_must_be_dns_names(api: Api) -> None:
    r = api.post("/nodes/pve1/qemu", vmid=300, name="bad name")
    assert_error(
        r,
        400,
        "Parameter verification failed.",
        {"name": "invalid format - value does not look like a valid DNS name\n"},
    )
    r = api.post(
        "/nodes/pve1/lxc",
        vmid=300,
        hostname="-bad",
        ostemplate="local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz",
    )
    assert_error(
        r,
        400,
        "Parameter verification failed.",
        {"hostname": "invalid format - value does not look like a valid DNS name\n"},
    )


def test_resize_only_grows(api: Api) -> None:
    assert (
        api.run("PUT", "/nodes/pve1/qemu/100/resize", disk="scsi0", size="+4G")["exitstatus"]
        == "OK"
    )
    assert (
        api.run("PUT", "/nodes/pve1/qemu/100/resize", disk="scsi0", size="40G")["exitstatus"]
        == "OK"
    )
    assert api.data("GET", "/nodes/pve1/qemu/100/config")["scsi0"].endswith(",size=40G")
    st = api.run("PUT", "/nodes/pve1/qemu/100/resize", disk="scsi0", size="8G")
    assert st["exitstatus"] == "shrinking disks is not supported"
    r = api.put("/nodes/pve1/qemu/100/resize", disk="scsi0", size="-4G")
    assert_error(
        r, 400, "Parameter verification failed.", {"size": "value does not match the regex pattern"}
    )


def test_start_does_not_check_host_memory(api: Api) -> None:
    # qemu-server vm_start has no admission check: the host overcommits (64 GiB here)
    api.run("POST", "/nodes/pve2/qemu", vmid=320, name="m1", memory=40000)
    api.run("POST", "/nodes/pve2/qemu", vmid=321, name="m2", memory=40000)
    assert api.run("POST", "/nodes/pve2/qemu/320/status/start")["exitstatus"] == "OK"
    assert api.run("POST", "/nodes/pve2/qemu/321/status/start")["exitstatus"] == "OK"
    node = api.data("GET", "/nodes/pve2/status")["memory"]
    assert node["used"] > node["total"]


def test_templates_cannot_start(api: Api) -> None:
    st = api.run("POST", "/nodes/pve1/qemu/9001/status/start")
    assert st["exitstatus"] == "you can't start a vm if it's a template"


def test_destroying_a_running_guest_fails(api: Api) -> None:
    assert_error(api.delete("/nodes/pve1/qemu/100"), 500, "VM 100 is running - destroy failed")


def test_clone_from_template_copies_disks_to_target_storage_and_pool(
    api: Api, sim: SimHandle
) -> None:
    st = api.run(
        "POST",
        "/nodes/pve1/qemu/9001/clone",
        newid=400,
        name="from-tpl",
        full=1,
        storage="ceph-pool",
        pool="infra",
    )
    assert st["exitstatus"] == "OK"
    assert st["type"] == "qmclone" and st["id"] == "9001"
    conf = api.data("GET", "/nodes/pve1/qemu/400/config")
    assert conf["scsi0"] == "ceph-pool:vm-400-disk-0,iothread=1,size=4G"
    assert conf["name"] == "from-tpl"
    template = api.data("GET", "/nodes/pve1/qemu/9001/config")
    assert conf["net0"] != template["net0"]  # a fresh MAC
    assert direct.guest(sim.cluster, 400).pool == "infra"  # type: ignore[union-attr]
    content = api.data("GET", "/nodes/pve3/storage/ceph-pool/content", vmid=400)
    assert [c["volid"] for c in content] == ["ceph-pool:vm-400-disk-0"]


def test_clone_to_another_node_needs_shared_storage(api: Api) -> None:
    r = api.post("/nodes/pve1/qemu/9000/clone", newid=401, target="pve2", full=1)
    assert_error(r, 500, "can't clone VM to node 'pve2' (VM uses local storage)")


def test_migrate_rules(api: Api, sim: SimHandle) -> None:
    r = api.post("/nodes/pve1/qemu/100/migrate", target="pve2")
    assert_error(r, 500, "can't migrate running VM without --online")
    r = api.post("/nodes/pve1/qemu/100/migrate", target="pve1")
    assert_error(r, 400, "Parameter verification failed.", {"target": "target is local node."})
    r = api.post("/nodes/pve1/qemu/100/migrate", target="pve2", online=1)
    assert_error(r, 500, "can't live migrate attached local disks without with-local-disks option")
    st = api.run(
        "POST", "/nodes/pve1/qemu/100/migrate", target="pve2", online=1, **{"with-local-disks": 1}
    )
    assert st["exitstatus"] == "OK"
    assert direct.node_of(sim.cluster, 100) == "pve2"
    assert direct.status(sim.cluster, 100) == "running"
    pve2 = api.data("GET", "/nodes/pve2/storage/local-lvm/content", vmid=100)
    assert [c["volid"] for c in pve2] == ["local-lvm:vm-100-disk-0"]
    assert api.data("GET", "/nodes/pve1/storage/local-lvm/content", vmid=100) == []


def test_tags_are_normalised(api: Api) -> None:
    api.data("PUT", "/nodes/pve1/qemu/100/config", tags="Web,mycopod;web db")
    assert api.data("GET", "/nodes/pve1/qemu/100/config")["tags"] == "db;mycopod;web"


def test_deleting_a_disk_keeps_it_as_unused(api: Api) -> None:
    api.data("PUT", "/nodes/pve1/qemu/100/config", scsi1="local-lvm:2")
    conf = api.data("GET", "/nodes/pve1/qemu/100/config")
    assert conf["scsi1"] == "local-lvm:vm-100-disk-1,size=2G"
    api.data("PUT", "/nodes/pve1/qemu/100/config", delete="scsi1")
    conf = api.data("GET", "/nodes/pve1/qemu/100/config")
    assert "scsi1" not in conf and conf["unused0"] == "local-lvm:vm-100-disk-1"
    api.data("PUT", "/nodes/pve1/qemu/100/config", delete="unused0")
    assert api.data("GET", "/nodes/pve1/storage/local-lvm/content", vmid=100)[-1]["volid"] == (
        "local-lvm:vm-100-disk-0"
    )


def test_container_storage_must_hold_containers(api: Api) -> None:
    r = api.post(
        "/nodes/pve1/lxc",
        vmid=500,
        hostname="ct",
        ostemplate="local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz",
    )
    assert_error(
        r,
        400,
        "Parameter verification failed.",
        {"storage": "storage 'local' does not support container directories"},
    )


def test_tasks_on_the_same_guest_run_in_order_and_fail_once_it_is_gone(api: Api) -> None:
    api.run("POST", "/nodes/pve1/qemu", vmid=330, name="gone")
    destroy = api.data("DELETE", "/nodes/pve1/qemu/330")
    start = api.data("POST", "/nodes/pve1/qemu/330/status/start")
    assert api.wait(destroy)["exitstatus"] == "OK"
    assert api.wait(start)["exitstatus"] == (
        "Configuration file 'nodes/pve1/qemu-server/330.conf' does not exist"
    )


def test_a_local_iso_blocks_migration(api: Api, sim: SimHandle) -> None:
    # qemu-server QemuMigrate.pm scan_local_volumes: "local cdrom image", even though
    # every node has a local:iso/Win11.iso of its own
    api.run(
        "POST",
        "/nodes/pve1/qemu",
        vmid=340,
        name="iso",
        scsi0="local-lvm:1",
        ide2="local:iso/Win11.iso,media=cdrom",
    )
    st = api.run("POST", "/nodes/pve1/qemu/340/migrate", target="pve3")
    assert st["exitstatus"] == "migration aborted"
    log = [line["t"] for line in api.data("GET", f"/nodes/pve1/tasks/{st['upid']}/log")]
    assert "WARN: can't migrate local disk 'local:iso/Win11.iso': local cdrom image" in log
    assert direct.node_of(sim.cluster, 340) == "pve1"
    assert "lock" not in api.data("GET", "/nodes/pve1/qemu/340/config")
    api.data("PUT", "/nodes/pve1/qemu/340/config", ide2="none,media=cdrom")
    assert api.run("POST", "/nodes/pve1/qemu/340/migrate", target="pve3")["exitstatus"] == "OK"


def test_running_container_takes_memory_at_once_and_the_rest_on_restart(api: Api) -> None:
    api.run(
        "POST",
        "/nodes/pve1/lxc",
        vmid=350,
        hostname="ct",
        start=1,
        ostemplate="local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz",
        rootfs="local-lvm:2",
    )
    api.data("PUT", "/nodes/pve1/lxc/350/config", memory=1024, features="nesting=1")
    current = api.data("GET", "/nodes/pve1/lxc/350/config", current=1)
    assert current["memory"] == 1024 and "features" not in current
    pending = {r["key"]: r for r in api.data("GET", "/nodes/pve1/lxc/350/pending")}
    assert pending["features"] == {"key": "features", "pending": "nesting=1"}
    api.run("POST", "/nodes/pve1/lxc/350/status/reboot")
    assert api.data("GET", "/nodes/pve1/lxc/350/config", current=1)["features"] == "nesting=1"


def test_ipconfig_is_stored_as_given(api: Api) -> None:
    api.data("PUT", "/nodes/pve1/qemu/100/config", ipconfig0="ip=10.0.0.5/24,gw=10.0.0.1")
    assert api.data("GET", "/nodes/pve1/qemu/100/config")["ipconfig0"] == (
        "ip=10.0.0.5/24,gw=10.0.0.1"
    )
    r = api.put("/nodes/pve1/qemu/100/config", ipconfig0="ip=10.0.0.5")
    assert r.status_code == 400
    assert r.json()["errors"]["ipconfig0"].startswith("invalid format - format error\n")


def test_cdrom_is_an_alias_for_ide2(api: Api) -> None:
    api.run("POST", "/nodes/pve1/qemu", vmid=360, name="inst", cdrom="local:iso/debian-12.iso")
    conf = api.data("GET", "/nodes/pve1/qemu/360/config")
    assert conf["ide2"] == "local:iso/debian-12.iso,media=cdrom,size=658M"
    assert "cdrom" not in conf
    st = api.run("POST", "/nodes/pve1/qemu", vmid=361, name="x", cdrom="local:iso/nope.iso")
    missing = "volume 'local:iso/nope.iso' does not exist"
    assert st["exitstatus"] == f"unable to create VM 361 - {missing}"


def test_delete_takes_config_keys_only(api: Api) -> None:
    r = api.put("/nodes/pve1/qemu/100/config", delete="tags,1bad")
    assert_error(
        r,
        400,
        "Parameter verification failed.",
        {"delete": "invalid format - invalid configuration ID '1bad'\n"},
    )
