"""What a running guest takes at once and what waits in ``[PENDING]``: qemu-server's
vmconfig_hotplug_pending and pve-container's, key by key."""

from __future__ import annotations

from typing import Any

from tests.support.pvesim import Api, assert_error

VM = "/nodes/pve1/qemu/100"  # legacy-app: running, hotplug unset (network,disk,usb)


def _pending(api: Api, path: str) -> dict[str, dict[str, Any]]:
    rows = api.data("GET", f"{path}/pending")
    return {r["key"]: r for r in rows if "pending" in r or "delete" in r}


def _current(api: Api, path: str) -> dict[str, Any]:
    return dict(api.data("GET", f"{path}/config", current=1))


def _restart_with(api: Api, path: str, **config: Any) -> None:
    api.run("POST", f"{path}/status/stop")
    api.data("PUT", f"{path}/config", **config)
    api.run("POST", f"{path}/status/start")


def test_fast_plug_and_cloud_init_keys_go_straight_into_the_config(api: Api) -> None:
    changes = {
        "ciuser": "ops",
        "sshkeys": "ssh-ed25519%20AAAAC3NzaC1lZDI1NTE5AAAAIG%20me%40x",
        "ipconfig0": "ip=dhcp",
        "nameserver": "10.0.0.1",
        "searchdomain": "lan",
        "citype": "nocloud",
        "ciupgrade": 0,
        "onboot": 0,
        "startup": "order=2,up=30",
        "protection": 1,
        "description": "d",
        "name": "legacy-app2",
    }
    api.data("PUT", f"{VM}/config", **changes)
    current = _current(api, VM)
    for key, value in changes.items():
        assert str(current[key]) == str(value), key
    assert _pending(api, VM) == {}


def test_cpu_topology_never_hot_plugs_but_vcpus_does_with_cpu_hotplug(api: Api) -> None:
    # a running VM's hotplug value that adds cpu or memory is itself pending
    api.data("PUT", f"{VM}/config", hotplug="network,disk,cpu")
    assert _pending(api, VM)["hotplug"]["pending"] == "network,disk,cpu"
    _restart_with(api, VM, sockets=2, cores=2, vcpus=2)
    api.data("PUT", f"{VM}/config", cores=4, sockets=1, vcpus=3, cpu="host", numa=1)
    current = _current(api, VM)
    assert (current["cores"], current["sockets"], current["vcpus"]) == (2, 2, 3)
    assert set(_pending(api, VM)) == {"cores", "sockets", "cpu", "numa"}


def test_memory_hot_plugs_only_with_numa_and_memory_hotplug(api: Api) -> None:
    api.data("PUT", f"{VM}/config", memory=8192)
    assert _current(api, VM)["memory"] == "4096"  # hotplug lacks memory
    api.data("PUT", f"{VM}/config", revert="memory")
    _restart_with(api, VM, hotplug="network,disk,memory")  # no NUMA
    api.data("PUT", f"{VM}/config", memory=8192)
    assert _current(api, VM)["memory"] == "4096"
    api.data("PUT", f"{VM}/config", revert="memory")
    _restart_with(api, VM, numa=1)
    api.data("PUT", f"{VM}/config", memory="current=8192")
    assert _current(api, VM)["memory"] == "current=8192"  # stored as sent


def test_balloon_changes_live_but_enabling_or_disabling_it_waits(api: Api) -> None:
    api.data("PUT", f"{VM}/config", balloon=2048)
    assert _current(api, VM)["balloon"] == 2048
    api.data("PUT", f"{VM}/config", balloon=0)
    assert _current(api, VM)["balloon"] == 2048
    assert _pending(api, VM)["balloon"]["pending"] == 0


def test_nic_changes_with_hotplug_off(api: Api) -> None:
    _restart_with(api, VM, hotplug=0)
    net0 = _current(api, VM)["net0"]
    mac = net0.split(",")[0]
    # bridge, tag, firewall, rate, link_down change on the live tap device
    api.data("PUT", f"{VM}/config", net0=f"{mac},bridge=vmbr1,tag=20,firewall=1,rate=10")
    assert _current(api, VM)["net0"] == f"{mac},bridge=vmbr1,firewall=1,rate=10,tag=20"
    api.data("PUT", f"{VM}/config", net0=f"{mac},bridge=vmbr1,link_down=1")
    assert _current(api, VM)["net0"] == f"{mac},bridge=vmbr1,link_down=1"
    # model, MAC, MTU and queues need the NIC re-plugged; a new NIC needs hotplug too
    for value in (f"{mac},bridge=vmbr1,mtu=1400", f"{mac},bridge=vmbr1,queues=2",
                  "e1000=BC:24:11:00:00:09,bridge=vmbr1"):
        api.data("PUT", f"{VM}/config", net0=value)
        assert _current(api, VM)["net0"] == f"{mac},bridge=vmbr1,link_down=1"
        assert _pending(api, VM)["net0"]["pending"] == value
    api.data("PUT", f"{VM}/config", net1="virtio,bridge=vmbr0")
    assert "net1" not in _current(api, VM)


def test_disks(api: Api) -> None:
    # a new SCSI disk hot-plugs; IDE/SATA disks and EFI/TPM state never do
    api.data("PUT", f"{VM}/config", scsi1="local-lvm:1", sata0="local-lvm:1", ide1="local-lvm:1")
    api.data("PUT", f"{VM}/config", efidisk0="local-lvm:1,efitype=4m", tpmstate0="local-lvm:1")
    current = _current(api, VM)
    assert current["scsi1"] == "local-lvm:vm-100-disk-1,size=1G"
    assert set(_pending(api, VM)) >= {"sata0", "ide1", "efidisk0", "tpmstate0"}
    # on a running disk, cache/discard/ssd/iothread/aio/ro wait; backup and throttles not
    vol = "local-lvm:vm-100-disk-1"
    api.data("PUT", f"{VM}/config", scsi1=f"{vol},backup=0,mbps=100,size=1G")
    assert _current(api, VM)["scsi1"] == f"{vol},backup=0,mbps=100,size=1G"
    api.data("PUT", f"{VM}/config", scsi1=f"{vol},discard=on,ssd=1,size=1G")
    assert _current(api, VM)["scsi1"] == f"{vol},backup=0,mbps=100,size=1G"
    # a CD-ROM's medium changes live; a disk cannot become a CD-ROM
    api.data("PUT", f"{VM}/config", ide2="none,media=cdrom")
    api.run("POST", f"{VM}/status/reboot")
    api.data("PUT", f"{VM}/config", ide2="local:iso/debian-12.iso,media=cdrom")
    assert _current(api, VM)["ide2"].startswith("local:iso/debian-12.iso,media=cdrom")
    r = api.put(f"{VM}/config", scsi0="local:iso/debian-12.iso,media=cdrom")
    assert_error(
        r,
        400,
        "Parameter verification failed.",
        {"scsi0": "hotplug problem - unable to change media type"},
    )


def test_other_vm_keys_wait_for_a_restart(api: Api) -> None:
    cold = {
        "bios": "ovmf",
        "machine": "pc-q35-9.0",
        "ostype": "win11",
        "scsihw": "virtio-scsi-pci",
        "vga": "serial0",
        "serial0": "socket",
        "hostpci0": "mapping=gpu",
        "boot": "order=scsi0",
        "cpu": "x86-64-v2-AES,flags=+aes",
    }
    api.data("PUT", f"{VM}/config", **cold)
    assert set(cold) <= set(_pending(api, VM))
    # agent: only fstrim_cloned_disks changes live
    api.data("PUT", f"{VM}/config", agent="1")
    assert _pending(api, VM)["agent"]["pending"] == "1"
    _restart_with(api, VM)
    api.data("PUT", f"{VM}/config", agent="1,fstrim_cloned_disks=1", usb0="mapping=dongle")
    current = _current(api, VM)
    assert current["agent"] == "1,fstrim_cloned_disks=1"
    assert current["usb0"] == "mapping=dongle"  # usb hotplug on, ostype win11
    api.data("PUT", f"{VM}/config", delete="usb0,agent,tablet")
    current = _current(api, VM)
    assert "usb0" not in current and "agent" in current
    assert _pending(api, VM)["agent"]["delete"] == 1


def test_container_rules(api: Api) -> None:
    ct = "/nodes/pve1/lxc/670"
    api.run(
        "POST",
        "/nodes/pve1/lxc",
        vmid=670,
        hostname="ct",
        start=1,
        unprivileged=1,
        ostemplate="local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz",
        rootfs="local-lvm:2",
    )
    api.data(
        "PUT",
        f"{ct}/config",
        cores=2,
        cpulimit=1.5,
        cpuunits=200,
        memory=1024,
        swap=256,
        hostname="ct2",
        mp0="local-lvm:3,mp=/data",
        nameserver="1.1.1.1",
        searchdomain="lan",
        features="nesting=1",
        timezone="Europe/Berlin",
    )
    current = _current(api, ct)
    assert (current["cores"], current["cpulimit"], current["cpuunits"]) == (2, 1.5, 200)
    assert (current["memory"], current["swap"], current["hostname"]) == (1024, 256, "ct2")
    assert current["mp0"] == "local-lvm:vm-670-disk-1,mp=/data,size=3G"  # hot-plugged
    assert set(_pending(api, ct)) == {"nameserver", "searchdomain", "features", "timezone"}
    # an existing mount point is never replaced live
    api.data("PUT", f"{ct}/config", mp0="local-lvm:vm-670-disk-1,mp=/srv,size=3G")
    assert _pending(api, ct)["mp0"]["pending"] == "local-lvm:vm-670-disk-1,mp=/srv,size=3G"
    assert_error(
        api.put(f"{ct}/config", unprivileged=0), 500, "unable to modify read-only option: "
        "'unprivileged'"
    )
    assert_error(
        api.put(f"{ct}/config", delete="memory"), 500, "unable to delete required option 'memory'"
    )
