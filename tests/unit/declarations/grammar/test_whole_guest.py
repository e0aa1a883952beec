"""The whole guest model in English: each phrasing states exactly the settings it names."""

from __future__ import annotations

from typing import Any

import pytest

from mycopod import spec as specmod
from mycopod.declarations.errors import CompileError
from mycopod.declarations.grammar import compile_text


def stated(text: str) -> dict[str, Any]:
    """The stored form (only what the text states) of the file's one guest."""
    spec = compile_text(text, filename="t.md")
    assert len(spec.guests) == 1
    data = specmod.spec_dict(spec)["guests"][0]
    del data["name"], data["kind"]
    return data


def error(text: str) -> str:
    with pytest.raises(CompileError) as info:
        compile_text(text, filename="t.md")
    return str(info.value)


@pytest.mark.parametrize(("text", "expected"), [
    ("web-1 is a VM.", {}),
    ("web-1 is a VM with a 32 GB disk.", {"disks": [{"slot": "scsi0", "size_gib": 32}]}),
    ("win is a Windows 11 VM with UEFI and a TPM.",
     {"ostype": "win11", "bios": "ovmf", "tpm": {}}),
    # UEFI states the firmware; its EFI disk is a creation default unless one is stated
    ("win is a VM with UEFI and an EFI disk.", {"bios": "ovmf", "efidisk": {}}),
    ("win is a VM with UEFI and a 4 MB EFI disk on tank without pre-enrolled keys and a "
     "TPM v1.2 on tank.",
     {"bios": "ovmf", "efidisk": {"efitype": "4m", "storage": "tank",
                                  "pre_enrolled_keys": False},
      "tpm": {"version": "v1.2", "storage": "tank"}}),
    ("web-1 is a VM with 4 cores of type host.", {"cores": 4, "cpu_type": "host"}),
    ("web-1 is a VM with the aes CPU flag.", {"cpu_flags": ["+aes"]}),
    ("web-1 is a VM. It has the CPU flags +aes and -pcid.", {"cpu_flags": ["+aes", "-pcid"]}),
    ("web-1 is a VM with 2 sockets of 4 cores, 6 active vCPUs and NUMA.",
     {"sockets": 2, "cores": 4, "vcpus": 6, "numa": True}),
    ("web-1 is a VM with 16 GB of RAM with ballooning down to 8 GB.",
     {"memory_mib": 16384, "balloon_mib": 8192}),
    ("web-1 is a VM without ballooning.", {"balloon_mib": 0}),
    ("web-1 is a VM with a 32 GB disk and a second 500 GB disk on tank with discard and SSD "
     "emulation.",
     {"disks": [{"slot": "scsi0", "size_gib": 32},
                {"slot": "scsi1", "storage": "tank", "size_gib": 500, "discard": True,
                 "ssd": True}]}),
    ("web-1 is a VM with a 32 GB disk with an iothread, cache writeback, aio io_uring, "
     "excluded from backup, not replicated and read-only.",
     {"disks": [{"slot": "scsi0", "size_gib": 32, "iothread": True, "cache": "writeback",
                 "aio": "io_uring", "backup": False, "replicate": False, "ro": True}]}),
    ("web-1 is a VM. Attach the ISO debian-12.iso as a CD-ROM.",
     {"cdroms": [{"slot": "ide2", "iso": "local:iso/debian-12.iso"}]}),
    ("web-1 is a VM with an empty CD-ROM drive.", {"cdroms": [{"slot": "ide2"}]}),
    ("web-1 is a VM with an empty CD-ROM drive. It boots from scsi0, then the CD-ROM, then "
     "the network.",
     {"cdroms": [{"slot": "ide2"}], "boot": ["scsi0", "ide2", "net0"]}),
    ("web-1 is a VM with two network cards: net0 on vmbr0 and net1 on vmbr1 with VLAN 20.",
     {"networks": [{"slot": "net0", "bridge": "vmbr0"},
                   {"slot": "net1", "bridge": "vmbr1", "vlan": 20}]}),
    # "with the ..." belongs to the card being described, never to net0 (it did once)
    ("gw-1 is a VM with two network cards: net0 on vmbr0 with DHCP and net1 on vmbr1 with "
     "the address 172.16.0.1/24.",
     {"networks": [{"slot": "net0", "bridge": "vmbr0", "ip": "dhcp"},
                   {"slot": "net1", "bridge": "vmbr1", "ip": "172.16.0.1/24"}]}),
    ("gw-1 is a VM with two network cards: net0 on vmbr0 and net1 on vmbr1 with the IP "
     "172.16.0.1/24.",
     {"networks": [{"slot": "net0", "bridge": "vmbr0"},
                   {"slot": "net1", "bridge": "vmbr1", "ip": "172.16.0.1/24"}]}),
    ("web-1 is a VM with model e1000, MAC address bc:24:11:00:00:01, MTU 9000, a rate "
     "limit of 100 MB/s, 4 queues and link down.",
     {"networks": [{"slot": "net0", "model": "e1000", "mac": "BC:24:11:00:00:01",
                    "mtu": 9000, "rate": 100.0, "queues": 4, "link_down": True}]}),
    ("web-1 is a VM. Its cloud-init user is ops with the SSH key \"ssh-ed25519 AAAA me@x\".",
     {"ci_user": "ops", "ssh_keys": ["ssh-ed25519 AAAA me@x"]}),
    ("web-1 is a VM. Its cloud-init password is the credential ops-password.",
     {"ci_password": "ops-password"}),
    ("web-1 is a VM with the IPv6 address 2001:db8::5/64 and IPv6 gateway 2001:db8::1.",
     {"networks": [{"slot": "net0", "ip6": "2001:db8::5/64", "gateway6": "2001:db8::1"}]}),
    ("web-1 is a VM with IPv6 via SLAAC.", {"networks": [{"slot": "net0", "ip6": "auto"}]}),
    ("web-1 is a VM with DHCPv6.", {"networks": [{"slot": "net0", "ip6": "dhcp"}]}),
    ("web-1 is a VM with DNS server 1.1.1.1 and search domain example.com.",
     {"nameservers": ["1.1.1.1"], "searchdomain": "example.com"}),
    ("web-1 is a VM with cloud-init upgrades enabled and cloud-init type nocloud.",
     {"ci_upgrade": True, "ci_type": "nocloud"}),
    ("web-1 is a VM. Enable the QEMU guest agent with fstrim.",
     {"agent": True, "agent_fstrim": True}),
    ("web-1 is a VM with a serial console.", {"serial_console": True, "vga": "serial0"}),
    ("web-1 is a VM with display type qxl. Protect it from deletion.",
     {"vga": "qxl", "protection": True}),
    ("web-1 is a VM. Start it on boot with startup order 2, startup delay 30 seconds and "
     "shutdown delay 60 seconds.",
     {"onboot": True, "startup": {"order": 2, "up": 30, "down": 60}}),
    ("web-1 is a VM with hot-plug for disk, network and usb, and tablet off.",
     {"hotplug": ["network", "disk", "usb"], "tablet": False}),
    ("web-1 is a VM with PCIe passthrough of the mapping gpu0 and USB passthrough of the "
     "mapping dongle.",
     {"pci_devices": [{"slot": "hostpci0", "mapping": "gpu0", "pcie": True}],
      "usb_devices": [{"slot": "usb0", "mapping": "dongle"}]}),
    ("web-1 is a VM with the q35 machine, SCSI controller virtio-scsi-single and OS type "
     "l26.", {"machine": "q35", "scsihw": "virtio-scsi-single", "ostype": "l26"}),
    ("web-1 is a VM with machine i440fx.", {"machine": "pc"}),
    ("web-1 is a VM with no tags and no SSH keys.", {"tags": [], "ssh_keys": []}),
    ("media is an unprivileged container with nesting, 512 MB of swap and a 200 GB mount "
     "point on tank at /data.",
     # the root disk is implied, its size not stated (so a rootfs grown by hand is fine)
     {"unprivileged": True, "features": ["nesting"], "swap_mib": 512,
      "disks": [{"slot": "rootfs"},
                {"slot": "mp0", "storage": "tank", "size_gib": 200, "path": "/data"}]}),
    ("media is a container with an 8 GB root disk. Bind-mount /srv/media at /media "
     "read-only.",
     {"disks": [{"slot": "rootfs", "size_gib": 8},
                {"slot": "mp0", "path": "/media", "host_path": "/srv/media", "ro": True}]}),
    ("media is a privileged container with keyctl and fuse, mounts of nfs and cifs, a CPU "
     "limit of 1.5, CPU weight 200 and time zone Europe/Berlin.",
     {"unprivileged": False, "features": ["fuse", "keyctl", "mount=nfs;cifs"],
      "cpulimit": 1.5, "cpuunits": 200, "timezone": "Europe/Berlin"}),
    ("dns is a container.", {}),
])
def test_phrasing_states_exactly(text: str, expected: dict[str, Any]) -> None:
    assert stated(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("web-1 is a VM with 16 GB of RAM with ballooning down to 32 GB.",
     "the balloon minimum 32768 MiB is above the memory 16384 MiB"),
    ("win is a Windows 11 VM with nesting.",
     "guest 'win': features: only for a container, and win is a VM"),
    ("web-1 is a VM with model e2000.",
     "'e2000' is not a NIC model (virtio, e1000, e1000e, rtl8139, vmxnet3)"),
    ("web-1 is a VM. Its cloud-init password is \"hunter2\".",
     "a password is never written in a declaration"),
    ("web-1 is a VM. Its cloud-init password is hunter2.", "store it as a credential"),
    ("web-1 is a VM with SeaBIOS and a 4 MB EFI disk.",
     "an EFI disk needs UEFI firmware (bios ovmf)"),
    ("web-1 is a VM with UEFI without an EFI disk.",
     "'UEFI without an EFI disk' cannot be declared"),
    ("web-1 is a VM with PCI passthrough of 01:00.0.", "resource mapping"),
    ("web-1 is a VM with 2 sockets of 2 cores and 6 active vCPUs.",
     "vcpus 6 is more than sockets × cores (4)"),
    ("web-1 is a VM with two network cards: net0 on vmbr0.",
     "2 network cards are announced but 1 described"),
    ("gw-1 is a VM with two network cards (net0 on vmbr0 and net1 on vmbr1) with IP "
     "10.0.0.2/24.", "'with IP 10.0.0.2/24' follows the list of network cards (net0, net1) "
     "and could belong to any of them; say which card"),
    ("gw-1 is a VM with two network cards: net0 on vmbr0 and net1 on vmbr1, and the "
     "gateway 10.0.0.1.", "could belong to any of them"),
    ("web-1 is a VM. It boots from the CD-ROM.", "needs exactly one CD-ROM drive"),
    ("web-1 is a VM with a rate limit of 100 Mbit.", "write the rate limit in MB/s"),
])
def test_errors_say_what_to_do(text: str, message: str) -> None:
    assert message in error(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("web-1 is a VM with a cloud-init drive.", {"cloudinit_drive": {}}),
    ("web-1 is a VM with a cloud-init drive on local-lvm.",
     {"cloudinit_drive": {"storage": "local-lvm"}}),
    ("web-1 is a VM. Its cloud-init drive is on local-lvm as ide0.",
     {"cloudinit_drive": {"storage": "local-lvm", "slot": "ide0"}}),
    ("web-1 is a VM with 2 cores, a cloudinit disk as sata1 on \"my.store\" and cloud-init "
     "user ops.",
     {"cores": 2, "ci_user": "ops", "cloudinit_drive": {"slot": "sata1",
                                                        "storage": "my.store"}}),
    ("web-1 is a VM with a cloud-init drive on \"ide0\".",
     {"cloudinit_drive": {"storage": "ide0"}}),
    # a CD-ROM without a slot takes the next free one, never the cloud-init drive's
    ("web-1 is a VM with a cloud-init drive as ide2 and an empty CD-ROM.",
     {"cloudinit_drive": {"slot": "ide2"}, "cdroms": [{"slot": "ide3"}]}),
])
def test_cloudinit_drive(text: str, expected: dict[str, Any]) -> None:
    assert stated(text) == expected
    spec = compile_text(text, filename="t.md")
    from mycopod.declarations import render

    assert compile_text(render.render(spec), filename="r.md") == spec


@pytest.mark.parametrize(("text", "message"), [
    ("web-1 is a VM. It has a cloud-init drive on tank. It has a cloud-init drive on ceph.",
     "storage of the cloud-init drive is given twice"),
    ("web-1 is a container with a cloud-init drive.", "only for a VM"),
    ("web-1 is a VM with a 32 GB disk as ide0 and a cloud-init drive as ide0.",
     "give the cloud-init drive another slot"),
])
def test_cloudinit_drive_errors(text: str, message: str) -> None:
    assert message in error(text)
