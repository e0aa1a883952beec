"""Limits and formats of every spec value, taken from the Proxmox VE 9 API schema. Pure.

A value that passes these checks is one Proxmox accepts (``shared/proxmox/pve-api-schema.json``).
"""

from __future__ import annotations

import re

#: vmid: format pve-vmid, 100 .. 999999999.
VMID_MIN, VMID_MAX = 100, 999_999_999
#: cores: qemu "1 - N", lxc "1 - 8192"; one bound for both kinds.
CORES_MIN, CORES_MAX = 1, 8192
#: sockets: qemu "1 - N"; qemu-server refuses more than 4096 vcpus in total
SOCKETS_MIN, SOCKETS_MAX = 1, 64
#: memory: qemu ``current`` and lxc ``memory`` have minimum 16 MiB; qemu-server caps
#: hot-pluggable memory at 4 TiB, which we take as the upper bound for both.
MEMORY_MIN_MIB, MEMORY_MAX_MIB = 16, 4 * 1024 * 1024
#: disk sizes in whole GiB; Proxmox's disk-size has no upper bound, 1 PiB is a sane one.
DISK_MIN_GIB, DISK_MAX_GIB = 1, 1024 * 1024
#: VLAN tag on a network device: 1 .. 4094.
VLAN_MIN, VLAN_MAX = 1, 4094
DESCRIPTION_MAX = 8192
#: lxc cpulimit 0 .. 8192 (0: no limit); cpuunits 0 .. 500000 (qemu 1 .. 262144)
CPULIMIT_MAX = 8192
CPUUNITS_MIN, CPUUNITS_MAX = 1, 262_144
#: net mtu 1 .. 65520 (qemu: 1 means "the bridge's MTU"); queues 0 .. 64; rate MB/s
MTU_MIN, MTU_MAX = 1, 65520
QUEUES_MIN, QUEUES_MAX = 1, 64
#: startup: order and delays are non-negative integers
STARTUP_MAX = 1_000_000

NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
NODE_RE = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
#: pve-storage-id
STORAGE_RE = re.compile(r"^[a-z][a-z0-9\-_.]*[a-z0-9]$")
#: pve-bridge-id (restricted to what Linux accepts as an interface name)
BRIDGE_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_.\-]{0,14}$")
#: pve-tag
TAG_RE = re.compile(r"^[a-z0-9_][a-z0-9_\-+.]*$")
#: pve-poolid
POOL_RE = re.compile(r"^[A-Za-z0-9_\-]+$")
#: storage volume ids for ISOs and LXC templates: ``storage:iso/name.iso``
ISO_RE = re.compile(r"^[a-z][a-z0-9\-_.]*[a-z0-9]:iso/[A-Za-z0-9_.\-+]+\.(iso|img)$")
OSTEMPLATE_RE = re.compile(
    r"^[a-z][a-z0-9\-_.]*[a-z0-9]:vztmpl/[A-Za-z0-9_.\-+]+\.tar(\.(gz|xz|zst|bz2))?$"
)
SSH_KEY_RE = re.compile(
    r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com"
    r"|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/=]+( [^\r\n]*)?$"
)
#: pve-vm-cpu-conf cputype: a built-in model or ``custom-NAME``
CPU_TYPE_RE = re.compile(r"^(custom-)?[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
#: one CPU flag, ``+aes`` or ``-pcid`` (qemu-server PVE/QemuServer/CPUConfig.pm)
CPU_FLAG_RE = re.compile(r"^[+-][a-z0-9_\-.]{1,40}$")
#: qemu machine: ``pc``/``q35`` or a pinned version (``pc-q35-9.0``, ``pc-i440fx-8.1+pve0``)
MACHINE_RE = re.compile(r"^(pc|q35|pc-(i440fx|q35)-\d+\.\d+(\+pve\d+)?)$")
#: qemu ``macaddr``: a unicast MAC in upper case
MAC_RE = re.compile(r"^[0-9A-F]{2}(:[0-9A-F]{2}){5}$")
#: pve-configid of a resource mapping (``hostpciN: mapping=NAME``)
MAPPING_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_\-]{0,127}$")
#: cloud-init user (a Unix login) and the name of a credential holding its password
CI_USER_RE = re.compile(r"^[a-z_][a-z0-9_\-]{0,31}$")
SECRET_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
#: a DNS search domain or host name
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
                       r"(\.[A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*$")
#: an absolute path inside a container, or on the host for a bind mount
PATH_RE = re.compile(r"^/[A-Za-z0-9_.\-+@/ ]{0,4000}$")
#: lxc timezone: an Olson name or ``host``
TIMEZONE_RE = re.compile(r"^(host|[A-Za-z]+(/[A-Za-z0-9_+\-]+){0,2}|UTC)$")

#: disk slots per kind: qemu scsi0-30, virtio0-15, sata0-5, ide0-3; lxc rootfs, mp0-255.
VM_DISK_SLOT_RE = re.compile(
    r"^(scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5])|sata[0-5]|ide[0-3])$"
)
#: CD-ROM drives sit on ide, sata or scsi slots
CDROM_SLOT_RE = re.compile(r"^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30))$")
CT_DISK_SLOT_RE = re.compile(r"^(rootfs|mp([0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5]))$")
NET_SLOT_RE = re.compile(r"^net([0-9]|[12][0-9]|3[01])$")
HOSTPCI_SLOT_RE = re.compile(r"^hostpci([0-9]|1[0-5])$")
USB_SLOT_RE = re.compile(r"^usb([0-9]|1[0-4])$")

#: enums of the PVE schema
VM_OSTYPES = ("other", "wxp", "w2k", "w2k3", "w2k8", "wvista", "win7", "win8", "win10",
              "win11", "l24", "l26", "solaris")
CT_OSTYPES = ("debian", "devuan", "ubuntu", "centos", "fedora", "opensuse", "archlinux",
              "alpine", "gentoo", "nixos", "unmanaged")
SCSI_CONTROLLERS = ("lsi", "lsi53c810", "virtio-scsi-pci", "virtio-scsi-single", "megasas",
                    "pvscsi")
NIC_MODELS = ("virtio", "e1000", "e1000e", "rtl8139", "vmxnet3")
VGA_TYPES = ("std", "cirrus", "vmware", "qxl", "virtio", "virtio-gl", "serial0", "none")
HOTPLUG_FEATURES = ("network", "disk", "cpu", "memory", "usb", "cloudinit")
CT_FEATURES_RE = re.compile(r"^(nesting|keyctl|fuse|mknod|force_rw_sys|mount=[a-z0-9;]+)$")


def slot_key(slot: str) -> tuple[str, int]:
    """Sort slots as Proxmox lists them: rootfs first, then by bus and number."""
    match = re.match(r"^([a-z]+)(\d*)$", slot)
    if match is None:
        return (slot, 0)
    bus, num = match.groups()
    return ("" if bus == "rootfs" else bus, int(num) if num else -1)

#: what a new guest gets when the text names no storage or bridge
DEFAULT_STORAGE = "local-lvm"
DEFAULT_BRIDGE = "vmbr0"
