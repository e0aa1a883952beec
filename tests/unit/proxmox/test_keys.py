"""The settings tables: each setting written as Proxmox stores it, read back in sync, and
only stated settings (and stated options of a device) compared."""

from __future__ import annotations

from typing import Any

import pytest

from mycopod.proxmox import devices, keys, payloads
from mycopod.spec import GuestSpec


def vm(**fields: Any) -> GuestSpec:
    return GuestSpec.model_validate({"name": "web-1", **fields})


def ct(**fields: Any) -> GuestSpec:
    return GuestSpec.model_validate({"name": "c1", "kind": "ct", **fields})


@pytest.mark.parametrize(("guest", "key", "text"), [
    (vm(sockets=2), "sockets", "2"),
    (vm(cores=4, vcpus=3), "vcpus", "3"),
    (vm(cpu_type="host"), "cpu", "host"),
    (vm(cpu_type="x86-64-v2-AES", cpu_flags=["+aes", "-pcid"]), "cpu",
     "x86-64-v2-AES,flags=+aes;-pcid"),
    (vm(numa=True), "numa", "1"),
    (vm(cpuunits=200), "cpuunits", "200"),
    (vm(memory_mib=8192, balloon_mib=4096), "balloon", "4096"),
    (vm(bios="ovmf"), "bios", "ovmf"),
    (vm(machine="q35"), "machine", "q35"),
    (vm(ostype="win11"), "ostype", "win11"),
    (vm(scsihw="virtio-scsi-pci"), "scsihw", "virtio-scsi-pci"),
    (vm(boot=["scsi0", "net0"]), "boot", "order=scsi0;net0"),
    (vm(ci_user="ops"), "ciuser", "ops"),
    (vm(ci_upgrade=False), "ciupgrade", "0"),
    (vm(ci_type="nocloud"), "citype", "nocloud"),
    (vm(nameservers=["1.1.1.1", "9.9.9.9"]), "nameserver", "1.1.1.1 9.9.9.9"),
    (vm(searchdomain="example.com"), "searchdomain", "example.com"),
    (vm(agent=True, agent_fstrim=True), "agent", "1,fstrim_cloned_disks=1"),
    (vm(serial_console=True), "serial0", "socket"),
    (vm(vga="serial0"), "vga", "serial0"),
    (vm(startup={"order": 2, "up": 30}), "startup", "order=2,up=30"),
    (vm(protection=True), "protection", "1"),
    (vm(hotplug=["network", "disk", "cpu"]), "hotplug", "network,disk,cpu"),
    (vm(hotplug=[]), "hotplug", "0"),
    (vm(tablet=False), "tablet", "0"),
    (ct(swap_mib=1024), "swap", "1024"),
    (ct(unprivileged=False), "unprivileged", "0"),
    (ct(features=["nesting", "keyctl", "mount=nfs;cifs"]), "features",
     "keyctl=1,mount=nfs;cifs,nesting=1"),
    (ct(timezone="Europe/Berlin"), "timezone", "Europe/Berlin"),
    (ct(cpulimit=2), "cpulimit", "2"),
])
def test_scalar_written_and_read_back(guest: GuestSpec, key: str, text: str) -> None:
    assert keys.desired_scalars(guest, {}, create=True)[key] == text
    # as stored, nothing differs; edited, exactly that key differs
    stored = {k: v for k, v in keys.desired_scalars(guest, {}, create=True).items()
              if v is not None}
    assert keys.desired_scalars(guest, stored) == {}
    flipped = {"0": "1", "1": "0", "socket": None}.get(text, "9" if text != "9" else "8")
    edited = {**stored, key: flipped}
    assert key in keys.desired_scalars(guest, edited)


@pytest.mark.parametrize(("raw", "field", "value"), [
    ({}, "sockets", 1), ({}, "tablet", True), ({}, "ci_upgrade", True),
    ({"memory": "current=2048"}, "memory_mib", 2048), ({}, "cpu_type", "kvm64"),
    ({"hotplug": "1"}, "hotplug", ["network", "disk", "usb"]),
    ({"machine": "pc-q35-9.0+pve0"}, "machine", "pc-q35-9.0+pve0"),
    ({"sshkeys": "ssh-ed25519%20AAAA%20a%0Assh-rsa%20BBBB"}, "ssh_keys",
     ["ssh-ed25519 AAAA a", "ssh-rsa BBBB"]),
])
def test_observed_defaults(raw: dict[str, str], field: str, value: Any) -> None:
    row = next(r for r in keys.KEYS if r.field == field and "vm" in r.kinds)
    assert row.norm(row.observed(raw)) == value


def test_q35_matches_a_pinned_machine() -> None:
    assert keys.desired_scalars(vm(machine="q35"), {"machine": "pc-q35-9.0+pve0"}) == {}
    assert keys.desired_scalars(vm(machine="pc-q35-8.1"), {"machine": "pc-q35-9.0"}) == {
        "machine": "pc-q35-8.1"}


def test_property_string_keeps_other_options() -> None:
    raw = {"cpu": "kvm64,flags=+aes,hidden=1"}
    assert keys.desired_scalars(vm(cpu_type="host"), raw) == {"cpu": "host,flags=+aes,hidden=1"}


def test_unmanaged_keys() -> None:
    raw = {"args": "-x", "hookscript": "local:snippets/a.pl", "lxc.apparmor.profile": "x",
           "dev0": "/dev/ttyUSB0", "cores": "1"}
    assert keys.unmanaged(raw) == ["args", "dev0", "hookscript", "lxc.apparmor.profile"]


@pytest.mark.parametrize(("guest", "key", "text"), [
    (vm(disks=[{"slot": "scsi1", "storage": "tank", "size_gib": 500, "discard": True,
                "ssd": True, "iothread": True, "cache": "writeback", "backup": False}]),
     "scsi1", "tank:500,iothread=1,discard=on,ssd=1,cache=writeback,backup=0"),
    (vm(cdroms=[{"slot": "ide2", "iso": "local:iso/debian-12.iso"}]), "ide2",
     "local:iso/debian-12.iso,media=cdrom"),
    (vm(cdroms=[{"slot": "ide0"}]), "ide0", "none,media=cdrom"),
    (vm(networks=[{"slot": "net1", "model": "e1000e", "mac": "bc:24:11:00:00:01",
                   "bridge": "vmbr1", "vlan": 5, "mtu": 9000, "rate": 12.5, "queues": 4,
                   "link_down": True}]),
     "net1", "e1000e=BC:24:11:00:00:01,bridge=vmbr1,tag=5,mtu=9000,rate=12.5,"
     "queues=4,link_down=1"),
    (vm(networks=[{"ip": "10.0.0.5/24", "gateway": "10.0.0.1", "ip6": "auto"}]),
     "ipconfig0", "ip=10.0.0.5/24,gw=10.0.0.1,ip6=auto"),
    (vm(pci_devices=[{"slot": "hostpci0", "mapping": "gpu", "pcie": True}], machine="q35"),
     "hostpci0", "mapping=gpu,pcie=1"),
    (vm(usb_devices=[{"slot": "usb0", "mapping": "yubikey"}]), "usb0", "mapping=yubikey"),
    (vm(bios="ovmf"), "efidisk0", "local-lvm:1,efitype=4m,pre-enrolled-keys=1"),
    (vm(bios="ovmf", efidisk={"storage": "tank", "efitype": "2m",
                              "pre_enrolled_keys": False}),
     "efidisk0", "tank:1,efitype=2m,pre-enrolled-keys=0"),
    (vm(tpm={}), "tpmstate0", "local-lvm:1,version=v2.0"),
    (ct(disks=[{"slot": "rootfs", "size_gib": 8},
               {"slot": "mp0", "storage": "tank", "size_gib": 200, "path": "/data",
                "backup": True}]), "mp0", "tank:200,mp=/data,backup=1"),
    (ct(disks=[{"slot": "rootfs", "size_gib": 8},
               {"slot": "mp1", "host_path": "/srv/media", "path": "/media", "ro": True}]),
     "mp1", "/srv/media,mp=/media,ro=1"),
    (ct(disks=[{"slot": "rootfs", "size_gib": 8}, {"slot": "mp2", "size_gib": 10}]),
     "mp2", "local-lvm:10,mp=/mnt/mp2"),
    (ct(networks=[{"bridge": "vmbr1", "ip": "10.0.0.9/24", "gateway": "10.0.0.1",
                   "ip6": "dhcp", "mac": "BC:24:11:00:00:03"}]),
     "net0", "name=eth0,bridge=vmbr1,hwaddr=BC:24:11:00:00:03,ip=10.0.0.9/24,gw=10.0.0.1,"
     "ip6=dhcp,type=veth"),
])
def test_device_written(guest: GuestSpec, key: str, text: str) -> None:
    assert devices.desired(guest, {}, create=True).values[key] == text


def test_stated_device_options_only() -> None:
    """A NIC whose ip is unstated keeps its IP config; a disk keeps unstated options."""
    raw = {"net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1,mtu=1400",
           "ipconfig0": "ip=192.168.1.7/24,gw=192.168.1.1",
           "scsi0": "local-lvm:vm-1-disk-0,size=32G,cache=writeback,ssd=1"}
    guest = vm(networks=[{"slot": "net0", "vlan": 3}],
               disks=[{"slot": "scsi0", "size_gib": 32, "discard": True}])
    assert devices.desired(guest, raw).values == {
        "net0": "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1,mtu=1400,tag=3",
        "scsi0": "local-lvm:vm-1-disk-0,size=32G,cache=writeback,ssd=1,discard=on"}


def test_devices_by_slot_never_by_position() -> None:
    raw = {"scsi0": "local-lvm:vm-1-disk-0,size=32G", "scsi1": "tank:vm-1-disk-1,size=100G",
           "ide2": "local-lvm:vm-1-cloudinit,media=cdrom"}
    reordered = vm(disks=[{"slot": "scsi1", "storage": "tank", "size_gib": 100},
                          {"slot": "scsi0", "size_gib": 32}])
    assert devices.desired(reordered, raw).values == {}
    # a cloud-init drive is neither a disk nor a CD-ROM
    assert devices.desired(vm(cdroms=[{"slot": "ide0"}]), raw).values == {
        "ide0": "none,media=cdrom"}


def test_state_volume_changes() -> None:
    raw = {"bios": "ovmf", "efidisk0": "local-lvm:vm-1-disk-1,efitype=2m,size=128K"}
    assert devices.desired(vm(bios="ovmf"), raw).values == {}  # unstated efidisk: kept
    new = devices.desired(vm(bios="ovmf", efidisk={"efitype": "4m"}), raw).values
    assert new == {"efidisk0": "local-lvm:1,efitype=4m,pre-enrolled-keys=1"}


def test_create_params_whole_windows_vm() -> None:
    guest = vm(bios="ovmf", machine="q35", ostype="win11", tpm={}, cores=4,
               cdroms=[{"slot": "ide2", "iso": "local:iso/Win11.iso"}],
               disks=[{"slot": "scsi0", "storage": "tank", "size_gib": 64}])
    params = payloads.create_params(guest, vmid=100, ownership_tag="mycopod")
    assert params["efidisk0"] == "tank:1,efitype=4m,pre-enrolled-keys=1"
    assert params["tpmstate0"] == "tank:1,version=v2.0"
    assert (params["bios"], params["machine"], params["ostype"]) == ("ovmf", "q35", "win11")
    assert params["scsihw"] == "virtio-scsi-single"


def test_create_params_secret_resolved_only_when_asked() -> None:
    guest = vm(ci_user="ops", ci_password="ops-password")
    assert payloads.create_params(guest, vmid=100, ownership_tag="m")["cipassword"] == \
        keys.REDACTED
    sent = payloads.create_params(guest, vmid=100, ownership_tag="m",
                                  secret=lambda name: f"value-of-{name}")
    assert sent["cipassword"] == "value-of-ops-password"


def test_create_params_container_defaults() -> None:
    guest = ct(source={"ostemplate": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"})
    params = payloads.create_params(guest, vmid=100, ownership_tag="mycopod")
    # unprivileged is MycoPod's default, not Proxmox's; 512 MB of swap and one core
    # would be Proxmox's own... but a container without cores has every host core
    assert (params["unprivileged"], params["cores"]) == ("1", "1")
    assert "swap" not in params and "onboot" not in params and "memory" not in params
    stated = ct(unprivileged=False, swap_mib=0, features=["nesting"],
                source={"ostemplate": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"})
    params = payloads.create_params(stated, vmid=100, ownership_tag="mycopod")
    assert (params["unprivileged"], params["swap"], params["features"]) == ("0", "0",
                                                                            "nesting=1")


def test_create_sends_no_default_proxmox_applies_itself() -> None:
    """A new VM gets no ``firewall=0``, no ``ipconfig0: ip=dhcp`` (cloud-init's own
    default), no ``onboot=0``, no ``cores=1``: only what Proxmox would not do itself."""
    params = payloads.create_params(vm(), vmid=100, ownership_tag="mycopod")
    assert params["net0"] == "virtio,bridge=vmbr0"
    assert not {"ipconfig0", "onboot", "cores", "sockets"} & set(params)
    assert (params["memory"], params["scsihw"], params["ostype"]) == (
        "1024", "virtio-scsi-single", "l26")
    ipv6 = vm(networks=[{"ip6": "auto"}])  # IPv6 stated: no DHCP on IPv4 by itself
    assert payloads.create_params(ipv6, vmid=100, ownership_tag="m")["ipconfig0"] == \
        "ip=dhcp,ip6=auto"


def test_create_of_an_adopted_guest_sends_only_what_is_stated() -> None:
    """A rebuilt adopted guest: its declaration states the keys its config had; what it
    leaves out was Proxmox's default, so no creation default is sent."""
    guest = vm(adopt=True, cores=1, onboot=False, networks=[{"bridge": "vmbr0",
                                                             "firewall": False}])
    params = payloads.create_params(guest, vmid=100, ownership_tag="mycopod")
    assert (params["cores"], params["onboot"]) == ("1", "0")  # stated: written
    assert params["net0"] == "virtio,bridge=vmbr0,firewall=0"
    assert not {"scsihw", "ostype", "ipconfig0", "memory"} & set(params)
    container = ct(adopt=True, networks=[{"bridge": "vmbr0"}],
                   source={"ostemplate": "local:vztmpl/debian-12.tar.zst"})
    params = payloads.create_params(container, vmid=100, ownership_tag="mycopod")
    assert params["net0"] == "name=eth0,bridge=vmbr0,type=veth"  # no ip=dhcp
    assert not {"unprivileged", "cores", "swap"} & set(params)
