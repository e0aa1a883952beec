"""A varied brownfield cluster in the simulator, made as a person would in the UI: Windows,
cloud-init and multi-disk/multi-NIC VMs, privileged and unprivileged containers with
mount points, guests in pools and with tags, a template, a guest on each node, and
settings MycoPod never manages (args, lxc.* lines, a hookscript, a device node)."""

from __future__ import annotations

from typing import Any

from mycopod.pvesim.testing import SimHandle
from tests.support.pvesim import proxmox, wait_task

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk1 ops@laptop"
# (node, kind, params): made in this order
GUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("pve1", "qemu", {"vmid": 9100, "name": "debian-tmpl", "memory": 2048,
                      "scsi0": "local-lvm:8", "net0": "virtio,bridge=vmbr0"}),
    ("pve1", "qemu", {"vmid": 101, "name": "win-desk", "cores": 4, "memory": 8192,
                      "bios": "ovmf", "machine": "pc-q35-9.0+pve0", "ostype": "win11",
                      "efidisk0": "local-lvm:1,efitype=4m,pre-enrolled-keys=1",
                      "tpmstate0": "local-lvm:1,version=v2.0",
                      "scsi0": "local-lvm:64,iothread=1,discard=on",
                      "ide2": "local:iso/Win11.iso,media=cdrom",
                      "net0": "e1000e=BC:24:11:00:01:01,bridge=vmbr0,firewall=1",
                      "scsihw": "virtio-scsi-single", "tags": "windows;desk",
                      "pool": "office", "onboot": 1, "args": "-no-hpet"}),
    ("pve2", "qemu", {"vmid": 102, "name": "ci-web", "cores": 2, "memory": 2048,
                      "scsi0": "tank:32", "net0": "virtio=BC:24:11:00:02:01,bridge=vmbr0,tag=30",
                      "ipconfig0": "ip=10.0.30.5/24,gw=10.0.30.1", "ciuser": "ops",
                      "ide0": "tank:cloudinit",
                      "nameserver": "1.1.1.1", "searchdomain": "example.com",
                      "agent": "1,fstrim_cloned_disks=1", "tags": "web;prod", "pool": "web",
                      "startup": "order=2,up=30", "protection": 1,
                      "description": "web front\nsecond line",
                      "hookscript": "local:snippets/hook.pl"}),
    ("pve3", "qemu", {"vmid": 103, "name": "db-big", "cores": 4, "sockets": 2,
                      "memory": 16384, "balloon": 8192, "numa": 1, "cpu": "host,flags=+aes",
                      "scsi0": "local-lvm:40", "scsi1": "tank:200,backup=0,cache=writeback",
                      "virtio0": "ceph-pool:100", "boot": "order=scsi0;net0",
                      "net0": "virtio=BC:24:11:00:03:01,bridge=vmbr0",
                      "net1": "virtio=BC:24:11:00:03:02,bridge=vmbr1,mtu=9000,queues=4",
                      "serial0": "socket", "vga": "serial0", "pool": "web"}),
    ("pve1", "lxc", {"vmid": 201, "hostname": "files", "cores": 2, "memory": 1024,
                     "swap": 256, "unprivileged": 0,
                     "ostemplate": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
                     "rootfs": "local-lvm:8", "mp0": "tank:100,mp=/srv/data,backup=1",
                     "net0": "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:04:01,ip=dhcp",
                     "features": "nesting=1,mount=nfs", "tags": "storage"}),
    ("pve2", "lxc", {"vmid": 202, "hostname": "dns", "cores": 1, "memory": 512,
                     "unprivileged": 1,
                     "ostemplate": "local:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz",
                     "rootfs": "local-lvm:4", "mp0": "/srv/zones,mp=/zones,ro=1",
                     "net0": "name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:05:01,"
                             "ip=10.0.0.53/24,gw=10.0.0.1",
                     "timezone": "Europe/Berlin", "pool": "web",
                     "dev0": "/dev/net/tun"}),
]


def build(sim: SimHandle) -> None:
    """Make the cluster; the template is converted, a few guests are started."""
    px = proxmox(sim)
    for pool in ("office", "web"):
        px.pools.post(poolid=pool)
    for node, kind, params in GUESTS:
        params = dict(params)
        endpoint = px.nodes(node).qemu if kind == "qemu" else px.nodes(node).lxc
        if kind == "qemu" and params["name"] == "ci-web":
            params["sshkeys"] = KEY.replace(" ", "%20").replace("@", "%40")
        wait_task(px, endpoint.post(**params))
    px.nodes("pve1").qemu(9100).template.post()
    # a cloud-init VM cloned from the simulator's ubuntu template (9000), as the UI does
    wait_task(px, px.nodes("pve1").qemu(9000).clone.post(newid=104, name="ci-clone",
                                                          full=1, storage="tank"))
    px.nodes("pve1").qemu(104).config.put(ciuser="admin", ipconfig0="ip=dhcp", cores=2)
    for node, kind, vmid in (("pve1", "qemu", 101), ("pve2", "qemu", 102), ("pve2", "lxc", 202)):
        endpoint = px.nodes(node).qemu if kind == "qemu" else px.nodes(node).lxc
        wait_task(px, endpoint(vmid).status.start.post())
