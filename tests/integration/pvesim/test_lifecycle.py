"""The whole life of VMs and containers driven through proxmoxer, as MycoPod drives it.

proxmoxer's https backend with ``verify_ssl=False``, once with a password (ticket and
CSRF token) and once with an API token; every asynchronous call is awaited by UPID.
"""

from __future__ import annotations

import pytest
from proxmoxer import ResourceException

from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle
from tests.support.pvesim import proxmox, wait_task


@pytest.mark.parametrize("token", [False, True], ids=["password", "token"])
def test_vm_life(sim: SimHandle, token: bool) -> None:
    px = proxmox(sim, token=token)
    vmid = int(px.cluster.nextid.get())
    assert vmid == 101

    upid = (
        px.nodes("pve1")
        .qemu(9000)
        .clone.post(newid=vmid, name="web-1", full=1, storage="local-lvm", pool="infra")
    )
    assert wait_task(px, upid)["exitstatus"] == "OK"
    conf = px.nodes("pve1").qemu(vmid).config.get()
    assert conf["name"] == "web-1"
    assert conf["scsi0"] == f"local-lvm:vm-{vmid}-disk-0,iothread=1,size=4G"
    assert "template" not in conf

    upid = (
        px.nodes("pve1")
        .qemu(vmid)
        .config.post(
            cores=2,
            memory=2048,
            net0="virtio,bridge=vmbr0,tag=20,firewall=1",
            tags="mycopod;Web",
            ipconfig0="ip=dhcp",
            digest=conf["digest"],
        )
    )
    assert wait_task(px, upid)["exitstatus"] == "OK"
    conf = px.nodes("pve1").qemu(vmid).config.get()
    assert conf["cores"] == 2 and conf["memory"] == "2048"
    assert conf["tags"] == "mycopod;web"
    assert conf["net0"].startswith("virtio=BC:24:11:")
    assert conf["net0"].endswith(",bridge=vmbr0,firewall=1,tag=20")

    upid = px.nodes("pve1").qemu(vmid).resize.put(disk="scsi0", size="+4G")
    assert wait_task(px, upid)["exitstatus"] == "OK"
    assert px.nodes("pve1").qemu(vmid).config.get()["scsi0"].endswith("size=8G")

    upid = px.nodes("pve1").qemu(vmid).status.start.post()
    assert wait_task(px, upid)["exitstatus"] == "OK"
    assert px.nodes("pve1").qemu(vmid).status.current.get()["status"] == "running"

    upid = px.nodes("pve1").qemu(vmid).status.stop.post()
    assert wait_task(px, upid)["exitstatus"] == "OK"

    upid = px.nodes("pve1").qemu(vmid).migrate.post(target="pve2")
    assert wait_task(px, upid)["exitstatus"] == "OK"
    assert direct.node_of(sim.cluster, vmid) == "pve2"
    with pytest.raises(ResourceException) as err:
        px.nodes("pve1").qemu(vmid).config.get()
    assert err.value.status_code == 500
    assert px.nodes("pve2").qemu(vmid).config.get()["name"] == "web-1"

    upid = px.nodes("pve2").qemu(vmid).delete()
    assert wait_task(px, upid)["exitstatus"] == "OK"
    assert direct.guest(sim.cluster, vmid) is None
    assert int(px.cluster.nextid.get()) == vmid


@pytest.mark.parametrize("token", [False, True], ids=["password", "token"])
def test_vm_created_from_scratch_and_started_in_place(sim: SimHandle, token: bool) -> None:
    px = proxmox(sim, token=token)
    upid = px.nodes("pve2").qemu.post(
        vmid=150,
        name="db-1",
        cores=4,
        memory=8192,
        scsi0="local-lvm:32",
        ide2="local:iso/debian-12.iso,media=cdrom",
        net0="virtio,bridge=vmbr1",
        onboot=1,
        description="the database",
        sshkeys="ssh-ed25519%20AAAAC3Nza%20me%40host",
        start=1,
    )
    status = wait_task(px, upid)
    assert status["exitstatus"] == "OK"
    assert status["type"] == "qmcreate"
    conf = direct.config(sim.cluster, "db-1")
    assert conf["scsi0"] == "local-lvm:vm-150-disk-0,size=32G"
    assert conf["ide2"] == "local:iso/debian-12.iso,media=cdrom,size=658M"
    assert conf["onboot"] == 1
    assert conf["description"] == "the database"
    assert conf["sshkeys"] == "ssh-ed25519%20AAAAC3Nza%20me%40host"
    assert direct.status(sim.cluster, 150) == "running"


@pytest.mark.parametrize("token", [False, True], ids=["password", "token"])
def test_container_life(sim: SimHandle, token: bool) -> None:
    px = proxmox(sim, token=token)
    upid = px.nodes("pve1").lxc.post(
        vmid=200,
        ostemplate="local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
        hostname="cache-1",
        cores=1,
        memory=512,
        rootfs="local-lvm:8",
        mp0="ceph-pool:16,mp=/srv",
        net0="name=eth0,bridge=vmbr0,ip=dhcp,tag=30",
        tags="mycopod",
        unprivileged=1,
        **{"ssh-public-keys": "ssh-ed25519 AAAA me@host"},
    )
    assert wait_task(px, upid)["exitstatus"] == "OK"
    conf = px.nodes("pve1").lxc(200).config.get()
    assert conf["hostname"] == "cache-1"
    assert conf["rootfs"] == "local-lvm:vm-200-disk-0,size=8G"
    assert conf["mp0"] == "ceph-pool:vm-200-disk-0,mp=/srv,size=16G"
    assert conf["net0"].startswith("name=eth0,bridge=vmbr0,hwaddr=BC:24:11:")
    assert conf["net0"].endswith(",ip=dhcp,tag=30,type=veth")
    assert conf["ostype"] == "debian"
    assert "ssh-public-keys" not in conf

    px.nodes("pve1").lxc(200).config.put(memory=1024, digest=conf["digest"])
    assert px.nodes("pve1").lxc(200).config.get()["memory"] == 1024

    upid = px.nodes("pve1").lxc(200).resize.put(disk="rootfs", size="12G")
    assert wait_task(px, upid)["exitstatus"] == "OK"
    assert px.nodes("pve1").lxc(200).config.get()["rootfs"].endswith("size=12G")

    upid = px.nodes("pve1").lxc(200).status.start.post()
    assert wait_task(px, upid)["exitstatus"] == "OK"
    upid = px.nodes("pve1").lxc(200).status.shutdown.post()
    assert wait_task(px, upid)["exitstatus"] == "OK"
    assert direct.status(sim.cluster, 200) == "stopped"

    upid = px.nodes("pve1").lxc(200).migrate.post(target="pve3")
    assert wait_task(px, upid)["exitstatus"] == "OK"
    assert direct.node_of(sim.cluster, "cache-1") == "pve3"

    px.nodes("pve3").lxc(200).template.post()
    upid = px.nodes("pve3").lxc(200).clone.post(newid=201, hostname="cache-2")
    assert wait_task(px, upid)["exitstatus"] == "OK"
    clone = px.nodes("pve3").lxc(201).config.get()
    assert clone["hostname"] == "cache-2"
    assert clone["rootfs"] == "local-lvm:base-200-disk-0/vm-201-disk-0,size=12G"

    for vmid in (201, 200):
        upid = px.nodes("pve3").lxc(vmid).delete()
        assert wait_task(px, upid)["exitstatus"] == "OK"
    assert px.nodes("pve3").lxc.get() == []
