"""Storage rules as PVE's plugins have them: thin storages overcommit, thick ones refuse;
usage is what is allocated; cross-node clones need shared storage; templates with linked
clones stay."""

from __future__ import annotations

from mycopod.pvesim import direct
from mycopod.pvesim.state import GiB, MiB
from mycopod.pvesim.testing import SimHandle
from tests.support.pvesim import Api, assert_error


def _used(api: Api, node: str, storage: str) -> int:
    return int(api.data("GET", f"/nodes/{node}/storage/{storage}/status")["used"])


def test_thin_storages_overcommit_and_count_what_is_written(api: Api) -> None:
    for storage in ("local-lvm", "local-zfs", "ceph-pool", "tank"):
        before = _used(api, "pve2", storage)
        total = api.data("GET", f"/nodes/pve2/storage/{storage}/status")["total"]
        size_gib = total // GiB + 1  # more than the whole storage, twice over
        for vmid in (600, 601):
            st = api.run("POST", "/nodes/pve2/qemu", vmid=vmid, scsi0=f"{storage}:{size_gib}")
            assert st["exitstatus"] == "OK", (storage, st)
        assert _used(api, "pve2", storage) == before  # nothing written yet
        rows = api.data("GET", f"/nodes/pve2/storage/{storage}/content", vmid=600)
        assert rows[0]["size"] == size_gib * GiB and rows[0]["used"] == 0
        for vmid in (600, 601):
            api.run("DELETE", f"/nodes/pve2/qemu/{vmid}")


def test_resize_of_a_thin_disk_does_not_check_free_space(api: Api) -> None:
    st = api.run("PUT", "/nodes/pve1/qemu/100/resize", disk="scsi0", size="+2000G")
    assert st["exitstatus"] == "OK"
    assert api.data("GET", "/nodes/pve1/qemu/100/config")["scsi0"].endswith(",size=2032G")


def test_thick_lvm_takes_the_whole_size_and_refuses_what_does_not_fit(api: Api) -> None:
    row = api.data("GET", "/nodes/pve1/storage/lvm-thick/status")
    assert (row["type"], row["shared"], row["used"]) == ("lvm", 0, 0)
    assert api.run("POST", "/nodes/pve1/qemu", vmid=610, scsi0="lvm-thick:150")["exitstatus"] == (
        "OK"
    )
    assert _used(api, "pve1", "lvm-thick") == 150 * GiB
    assert _used(api, "pve2", "lvm-thick") == 0  # a local volume group per node
    resources = api.data("GET", "/cluster/resources", type="storage")
    row = next(r for r in resources if r["id"] == "storage/pve1/lvm-thick")
    assert (row["disk"], row["maxdisk"]) == (150 * GiB, 200 * GiB)
    st = api.run("POST", "/nodes/pve1/qemu", vmid=611, scsi0="lvm-thick:60")
    assert st["exitstatus"] == (
        "unable to create VM 611 - lvcreate 'pve-thick/vm-611-disk-0' error:   "
        "Volume group \"pve-thick\" has "
        "insufficient free space (12800 extents): 15360 required."
    )
    st = api.run("PUT", "/nodes/pve1/qemu/610/resize", disk="scsi0", size="+60G")
    assert st["exitstatus"].startswith("error resizing volume '/dev/pve-thick/vm-610-disk-0'")
    assert api.run("PUT", "/nodes/pve1/qemu/610/resize", disk="scsi0", size="+40G")[
        "exitstatus"
    ] == "OK"
    assert _used(api, "pve1", "lvm-thick") == 190 * GiB


def test_non_sparse_zfs_reserves_the_size(api: Api, sim: SimHandle) -> None:
    with sim.cluster.lock:
        sim.cluster.storages["local-zfs"].sparse = False
    assert api.run("POST", "/nodes/pve3/qemu", vmid=620, scsi0="local-zfs:300")["exitstatus"] == (
        "OK"
    )
    assert _used(api, "pve3", "local-zfs") == 300 * GiB
    st = api.run("POST", "/nodes/pve3/qemu", vmid=621, scsi0="local-zfs:300")
    assert st["exitstatus"] == (
        "unable to create VM 621 - zfs error: cannot create 'rpool/data/vm-621-disk-0': "
        "out of space")
    assert direct.guest(sim.cluster, 621) is None


def test_full_clone_copies_the_written_data_and_keeps_the_format(api: Api) -> None:
    # the template's raw 4 GiB disk holds 1.5 GiB; on a dir/nfs storage it stays raw
    st = api.run("POST", "/nodes/pve1/qemu/9001/clone", newid=630, full=1, storage="tank")
    assert st["exitstatus"] == "OK"
    conf = api.data("GET", "/nodes/pve1/qemu/630/config")
    assert conf["scsi0"] == "tank:630/vm-630-disk-0.raw,iothread=1,size=4G"
    row = api.data("GET", "/nodes/pve1/storage/tank/content", vmid=630)[0]
    assert (row["format"], row["used"]) == ("raw", 1536 * MiB)
    st = api.run(
        "POST", "/nodes/pve1/qemu/9001/clone", newid=631, full=1, storage="tank", format="qcow2"
    )
    assert api.data("GET", "/nodes/pve1/qemu/631/config")["scsi0"].startswith(
        "tank:631/vm-631-disk-0.qcow2,"
    )
    # a new qemu disk on a file storage defaults to qcow2, a container's to raw
    api.run("POST", "/nodes/pve1/qemu", vmid=632, scsi0="tank:1", scsi1="tank:1,format=raw")
    conf = api.data("GET", "/nodes/pve1/qemu/632/config")
    assert conf["scsi0"] == "tank:632/vm-632-disk-0.qcow2,size=1G"
    assert conf["scsi1"] == "tank:632/vm-632-disk-1.raw,size=1G"


def test_cross_node_clone_needs_every_volume_shared(api: Api) -> None:
    # the template's disk is on local-lvm: refused whatever the target storage
    path = "/nodes/pve1/qemu/9001/clone"
    r = api.post(path, newid=640, target="pve2", storage="ceph-pool", full=1)
    assert_error(r, 500, "can't clone VM to node 'pve2' (VM uses local storage)")
    r = api.post(path, newid=640, target="pve2", storage="local-zfs", full=1)
    assert_error(r, 500, "can't clone to non-shared storage 'local-zfs'")
    r = api.post(path, newid=640, target="pve2", storage="ceph-pool")
    assert_error(r, 500, "parameter 'storage' not allowed for linked clones")
    # shared disks, but a local ISO in the CD-ROM drive: still local
    api.run(
        "POST",
        "/nodes/pve1/qemu",
        vmid=641,
        scsi0="ceph-pool:1",
        ide2="local:iso/debian-12.iso,media=cdrom",
    )
    r = api.post("/nodes/pve1/qemu/641/clone", newid=642, target="pve2")
    assert_error(r, 500, "can't clone VM to node 'pve2' (VM uses local storage)")
    # so is a cloud-init drive on local storage
    api.data(
        "PUT", "/nodes/pve1/qemu/641/config", ide2="none,media=cdrom", ide0="local-lvm:cloudinit"
    )
    r = api.post("/nodes/pve1/qemu/641/clone", newid=642, target="pve2")
    assert_error(r, 500, "can't clone VM to node 'pve2' (VM uses local storage)")
    api.data("PUT", "/nodes/pve1/qemu/641/config", delete="ide0")
    st = api.run("POST", "/nodes/pve1/qemu/641/clone", newid=642, target="pve2", name="c")
    assert st["exitstatus"] == "OK"
    assert api.data("GET", "/nodes/pve2/qemu/642/config")["scsi0"].startswith(
        "ceph-pool:vm-642-disk-0,"
    )


def test_cross_node_container_clone_follows_the_storage_parameter(api: Api) -> None:
    tpl = "local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz"
    api.run("POST", "/nodes/pve1/lxc", vmid=650, ostemplate=tpl, rootfs="local-lvm:2")
    r = api.post("/nodes/pve1/lxc/650/clone", newid=651, target="pve2")
    assert_error(r, 500, "can't clone CT to node 'pve2' (CT uses local storage)")
    # pve-container: the target storage replaces the source's in the check
    st = api.run(
        "POST", "/nodes/pve1/lxc/650/clone", newid=651, target="pve2", storage="tank", full=1
    )
    assert st["exitstatus"] == "OK"
    assert api.data("GET", "/nodes/pve2/lxc/651/config")["rootfs"].startswith(
        "tank:651/vm-651-disk-0.raw,"
    )


def test_a_template_with_linked_clones_cannot_be_destroyed(api: Api, sim: SimHandle) -> None:
    st = api.run("POST", "/nodes/pve1/qemu/9000/clone", newid=660, name="linked")
    assert st["exitstatus"] == "OK"
    assert api.data("GET", "/nodes/pve1/qemu/660/config")["scsi0"].startswith(
        "local-lvm:base-9000-disk-0/vm-660-disk-0,"
    )
    st = api.run("DELETE", "/nodes/pve1/qemu/9000")
    assert st["exitstatus"] == (
        "base volume 'local-lvm:base-9000-disk-0' is still in use by linked cloned"
    )
    assert direct.guest(sim.cluster, 9000) is not None
    api.run("DELETE", "/nodes/pve1/qemu/660")
    assert api.run("DELETE", "/nodes/pve1/qemu/9000")["exitstatus"] == "OK"
