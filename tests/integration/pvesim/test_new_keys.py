"""Every key MycoPod manages is accepted, checked and stored as PVE 9 stores it."""

from __future__ import annotations

import re

from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle
from tests.support.pvesim import Api

SSHKEYS = "ssh-ed25519%20AAAAC3NzaC1lZDI1NTE5AAAAIG%20me%40example"


def test_a_vm_with_every_key(api: Api, sim: SimHandle) -> None:
    st = api.run(
        "POST",
        "/nodes/pve1/qemu",
        vmid=700,
        name="all",
        bios="ovmf",
        efidisk0="local-lvm:1,efitype=4m,pre-enrolled-keys=1",
        tpmstate0="local-lvm:1,version=v2.0",
        machine="pc-q35-9.0",
        cpu="cputype=x86-64-v2-AES,flags=+aes",
        numa=1,
        sockets=2,
        cores=2,
        vcpus=3,
        memory="current=4096",
        balloon=2048,
        scsihw="virtio-scsi-single",
        scsi0="local-lvm:8,iothread=1",
        scsi1="tank:4,iothread=1,discard=on,ssd=1,cache=writeback,backup=0,aio=native,ro=1",
        ide2="local:iso/debian-12.iso,media=cdrom",
        ide0="local-lvm:cloudinit",
        net0="virtio,bridge=vmbr0",
        net1="virtio=BC:24:11:00:00:01,bridge=vmbr1,mtu=1500,rate=12.5,queues=4,link_down=1",
        agent="1,fstrim_cloned_disks=1",
        serial0="socket",
        vga="serial0",
        startup="order=2,up=30",
        protection=1,
        onboot=1,
        tablet=0,
        hotplug="network,disk,usb",
        hostpci0="mapping=gpu",
        usb0="mapping=dongle",
        ostype="l26",
        ciuser="ops",
        cipassword="s3cret",
        nameserver="10.0.0.1",
        searchdomain="lan",
        ciupgrade=0,
        citype="nocloud",
        sshkeys=SSHKEYS,
        ipconfig0="ip=dhcp",
    )
    assert st["exitstatus"] == "OK"
    conf = api.data("GET", "/nodes/pve1/qemu/700/config")
    # special allocation syntax: real volumes with the sizes PVE reports
    assert conf["efidisk0"] == (
        "local-lvm:vm-700-disk-0,efitype=4m,ms-cert=2023k,pre-enrolled-keys=1,size=4M"
    )
    assert conf["tpmstate0"] == "local-lvm:vm-700-disk-1,size=4M,version=v2.0"
    assert conf["scsi0"] == "local-lvm:vm-700-disk-2,iothread=1,size=8G"
    assert conf["scsi1"] == (
        "tank:700/vm-700-disk-0.qcow2,aio=native,backup=0,cache=writeback,discard=on,"
        "iothread=1,ro=1,size=4G,ssd=1"
    )
    assert conf["ide0"] == "local-lvm:vm-700-cloudinit,media=cdrom"
    assert conf["ide2"] == "local:iso/debian-12.iso,media=cdrom,size=658M"
    assert re.fullmatch(r"virtio=BC:24:11:[0-9A-F:]{8},bridge=vmbr0", conf["net0"])
    assert conf["net1"] == (
        "virtio=BC:24:11:00:00:01,bridge=vmbr1,link_down=1,mtu=1500,queues=4,rate=12.5"
    )
    # stored exactly as sent
    for key, value in {
        "cpu": "cputype=x86-64-v2-AES,flags=+aes",
        "memory": "current=4096",
        "sshkeys": SSHKEYS,
        "agent": "1,fstrim_cloned_disks=1",
        "startup": "order=2,up=30",
        "hostpci0": "mapping=gpu",
        "usb0": "mapping=dongle",
        "machine": "pc-q35-9.0",
        "vga": "serial0",
        "serial0": "socket",
        "hotplug": "network,disk,usb",
    }.items():
        assert conf[key] == value, key
    assert (conf["numa"], conf["balloon"], conf["protection"], conf["ciupgrade"]) == (1, 2048, 1, 0)
    # written on create: meta and the default boot order (disk, CD-ROM, NIC)
    assert re.fullmatch(r"creation-qemu=9\.2\.0,ctime=\d+", conf["meta"])
    assert conf["boot"] == "order=scsi0;ide0;net0"
    # cipassword: hashed in the file, masked on every read
    assert conf["cipassword"] == "**********"
    stored = direct.guest(sim.cluster, 700)
    assert stored is not None and re.fullmatch(r"\$5\$[./0-9A-Za-z]{8}\$.{43}", stored.config[
        "cipassword"])


def test_default_boot_order(api: Api) -> None:
    api.run("POST", "/nodes/pve1/qemu", vmid=701, virtio0="local-lvm:1", sata1="local-lvm:1",
            ide2="none,media=cdrom", net3="e1000,bridge=vmbr0")
    assert api.data("GET", "/nodes/pve1/qemu/701/config")["boot"] == "order=virtio0;ide2;net3"
    api.run("POST", "/nodes/pve1/qemu", vmid=702, name="empty")
    assert "boot" not in api.data("GET", "/nodes/pve1/qemu/702/config")
    api.run("POST", "/nodes/pve1/qemu", vmid=703, scsi0="local-lvm:1", boot="order=net0")
    assert api.data("GET", "/nodes/pve1/qemu/703/config")["boot"] == "order=net0"


def test_updating_a_stopped_vm_with_the_new_keys(api: Api, sim: SimHandle) -> None:
    api.run("POST", "/nodes/pve2/qemu", vmid=710, scsi0="local-lvm:1", ostype="win11")
    api.data(
        "PUT",
        "/nodes/pve2/qemu/710/config",
        efidisk0="local-zfs:1,efitype=2m",
        tpmstate0="tank:1,version=v2.0",
        ide2="none,media=cdrom",
        cipassword="clear-for-windows",
        sshkeys=SSHKEYS,
        memory=2048,
    )
    conf = api.data("GET", "/nodes/pve2/qemu/710/config")
    assert conf["efidisk0"] == "local-zfs:vm-710-disk-0,efitype=2m,size=1M"
    assert conf["tpmstate0"] == "tank:710/vm-710-disk-0.raw,size=4M,version=v2.0"
    assert conf["ide2"] == "none,media=cdrom"
    assert (conf["sshkeys"], conf["memory"]) == (SSHKEYS, "2048")
    stored = direct.guest(sim.cluster, 710)
    assert stored is not None and stored.config["cipassword"] == "clear-for-windows"
    r = api.put("/nodes/pve2/qemu/710/config", efidisk0="local-lvm:1,efitype=3m")
    assert r.status_code == 400 and "efidisk0" in r.json()["errors"]


def test_a_container_with_every_key(api: Api) -> None:
    st = api.run(
        "POST",
        "/nodes/pve1/lxc",
        vmid=720,
        hostname="ct",
        ostemplate="local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
        rootfs="local-lvm:8",
        unprivileged=1,
        features="nesting=1,keyctl=1",
        swap=512,
        cpulimit=2,
        cpuunits=200,
        cores=2,
        memory=1024,
        mp0="tank:200,mp=/data,backup=1",
        mp1="/srv/host,mp=/mnt/host,ro=1",
        timezone="Europe/Berlin",
        ostype="debian",
        nameserver="1.1.1.1",
        searchdomain="lan",
        onboot=1,
        startup="order=3",
        protection=1,
        net0="name=eth0,bridge=vmbr0,ip=dhcp",
    )
    assert st["exitstatus"] == "OK"
    conf = api.data("GET", "/nodes/pve1/lxc/720/config")
    assert conf["rootfs"] == "local-lvm:vm-720-disk-0,size=8G"
    assert conf["mp0"] == "tank:720/vm-720-disk-0.raw,mp=/data,backup=1,size=200G"
    assert conf["mp1"] == "/srv/host,mp=/mnt/host,ro=1"
    assert (conf["unprivileged"], conf["swap"], conf["cpulimit"], conf["cpuunits"]) == (
        1, 512, 2, 200
    )
    assert (conf["features"], conf["timezone"], conf["ostype"]) == (
        "nesting=1,keyctl=1", "Europe/Berlin", "debian"
    )
    assert "meta" not in conf and "boot" not in conf
    r = api.post("/nodes/pve1/lxc", vmid=721, hostname="x", features="nesting=maybe",
                 ostemplate="local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst")
    assert r.status_code == 400 and "features" in r.json()["errors"]


def test_the_boot_order_follows_devices(api: Api) -> None:
    # qemu-server update_vm_api: deleted devices leave it, new CD-ROM drives join it
    api.run("POST", "/nodes/pve3/qemu", vmid=730, scsi0="local-lvm:1", net0="virtio,bridge=vmbr0")
    path = "/nodes/pve3/qemu/730/config"
    assert api.data("GET", path)["boot"] == "order=scsi0;net0"
    api.data("PUT", path, ide2="local:iso/debian-12.iso,media=cdrom", scsi1="local-lvm:1")
    assert api.data("GET", path)["boot"] == "order=scsi0;net0;ide2"
    api.data("PUT", path, delete="net0")
    assert api.data("GET", path)["boot"] == "order=scsi0;ide2"
