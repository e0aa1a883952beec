"""Hypothesis strategies for valid ClusterSpecs (any spec the contract accepts)."""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import strategies as st

from mycopod import spec as specmod

names = st.from_regex(specmod.NAME_RE, fullmatch=True)
nodes = st.from_regex(r"\A[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?\Z")
storages = st.from_regex(r"\A[a-z][a-z0-9\-_.]{0,10}[a-z0-9]\Z")
bridges = st.from_regex(r"\A[a-zA-Z][a-zA-Z0-9_.\-]{0,14}\Z")
tags = st.from_regex(r"\A[a-z0-9_][a-z0-9_\-+.]{0,10}\Z")
pools = st.from_regex(r"\A[A-Za-z0-9_\-]{1,12}\Z")
templates = st.from_regex(r"\A[a-z0-9][a-z0-9.\-]{0,20}\Z")
isos = st.from_regex(r"\A[a-z][a-z0-9\-_.]{0,6}[a-z0-9]:iso/[A-Za-z0-9_.\-+]{1,12}\.(iso|img)\Z")
ostemplates = st.from_regex(
    r"\A[a-z][a-z0-9\-_.]{0,6}[a-z0-9]:vztmpl/[A-Za-z0-9_.\-+]{1,16}\.tar(\.(gz|xz|zst))?\Z")
ssh_keys = st.builds(
    lambda algo, body, comment: f"{algo} {body}" + (f" {comment}" if comment else ""),
    st.sampled_from(["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256"]),
    st.from_regex(r"\A[A-Za-z0-9+/]{4,40}={0,2}\Z"),
    st.one_of(st.just(""), st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
                                   max_size=20).map(lambda s: " ".join(s.split()))),
)
descriptions = st.text(max_size=60).map(str.strip)

VM_SLOTS = ([f"scsi{n}" for n in range(31)] + [f"virtio{n}" for n in range(16)]
            + [f"sata{n}" for n in range(6)] + [f"ide{n}" for n in range(4)])
CT_SLOTS = [f"mp{n}" for n in range(256)]


@st.composite
def networks(draw: st.DrawFn, kind: str = "vm") -> list[dict[str, Any]]:
    if draw(st.integers(0, 9)) == 0:
        return []
    if draw(st.booleans()):
        slots = ["net0"]
    else:
        slots = draw(st.lists(st.sampled_from([f"net{n}" for n in range(32)]), min_size=1,
                              max_size=3, unique=True))
    nets = []
    for slot in slots:
        ip = draw(st.sampled_from(["dhcp", None, "static"]))
        gateway = None
        if ip == "static":
            prefix = draw(st.integers(8, 30))
            net = ipaddress.IPv4Network((draw(st.integers(0, 2**32 - 1)), prefix), strict=False)
            hosts = net.num_addresses - 2
            host = net.network_address + draw(st.integers(1, hosts))
            ip = f"{host}/{prefix}"
            if draw(st.booleans()):
                gw = net.network_address + draw(st.integers(1, hosts))
                gateway = str(gw)
        nets.append({
            "slot": slot,
            "bridge": draw(st.one_of(st.just("vmbr0"), bridges)),
            "vlan": draw(st.one_of(st.none(), st.integers(specmod.VLAN_MIN, specmod.VLAN_MAX))),
            "ip": ip,
            "gateway": gateway,
            "firewall": draw(st.booleans()),
            **draw(nic_options(kind)),
        })
        # stated-ness is part of the spec: leave some contract keys out (unstated)
        for key in ("bridge", "ip", "firewall"):
            if draw(st.booleans()) and not (key == "ip" and (gateway or ip is None)):
                del nets[-1][key]
    return nets


def _maybe(draw: st.DrawFn, strategy: st.SearchStrategy[Any]) -> Any:
    return draw(strategy) if draw(st.integers(0, 3)) == 0 else None


@st.composite
def nic_options(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """The newer NIC options, each stated or not, valid for ``kind``."""
    opts: dict[str, Any] = {
        "mac": _maybe(draw, st.from_regex(r"\A[0-9A-F][02468ACE](:[0-9A-F]{2}){5}\Z")),
        "mtu": _maybe(draw, st.integers(specmod.limits.MTU_MIN, specmod.limits.MTU_MAX)),
        "rate": _maybe(draw, st.integers(1, 100_000).map(lambda r: r / 4)),
    }
    ip6 = _maybe(draw, st.sampled_from(["dhcp", "auto", "2001:db8::5/64"]))
    opts["ip6"] = ip6
    if ip6 == "2001:db8::5/64" and draw(st.booleans()):
        opts["gateway6"] = "2001:db8::1"
    if kind == "vm":
        opts["model"] = _maybe(draw, st.sampled_from(specmod.limits.NIC_MODELS))
        opts["queues"] = _maybe(draw, st.integers(specmod.limits.QUEUES_MIN,
                                                  specmod.limits.QUEUES_MAX))
        opts["link_down"] = _maybe(draw, st.booleans())
    else:
        opts["name"] = _maybe(draw, st.sampled_from(["eth0", "eth1", "lan"]))
    return {k: v for k, v in opts.items() if v is not None}


@st.composite
def disk_options(draw: st.DrawFn, kind: str, slot: str) -> dict[str, Any]:
    opts: dict[str, Any] = {"backup": _maybe(draw, st.booleans()),
                            "ro": _maybe(draw, st.booleans())}
    if kind == "vm":
        opts.update(
            discard=_maybe(draw, st.booleans()), ssd=_maybe(draw, st.booleans()),
            cache=_maybe(draw, st.sampled_from(
                ["none", "writethrough", "writeback", "directsync", "unsafe"])),
            aio=_maybe(draw, st.sampled_from(["native", "threads", "io_uring"])),
            replicate=_maybe(draw, st.booleans()))
        if slot.startswith(("scsi", "virtio")):
            opts["iothread"] = _maybe(draw, st.booleans())
    else:
        opts["replicate"] = _maybe(draw, st.booleans())
    return {k: v for k, v in opts.items() if v is not None}


@st.composite
def guests(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["vm", "ct"]))
    data: dict[str, Any] = {"name": draw(names), "kind": kind}
    if draw(st.booleans()):
        data["state"] = draw(st.sampled_from(["running", "stopped", "absent"]))
    if draw(st.booleans()):
        data["node"] = draw(nodes)
    if draw(st.booleans()):
        data["vmid"] = draw(st.integers(specmod.VMID_MIN, specmod.VMID_MAX))
    if draw(st.booleans()):
        data["cores"] = draw(st.integers(specmod.CORES_MIN, specmod.CORES_MAX))
    if draw(st.booleans()):
        data["memory_mib"] = draw(st.one_of(
            st.integers(specmod.MEMORY_MIN_MIB, specmod.MEMORY_MAX_MIB),
            st.integers(1, 4096).map(lambda g: g * 1024)))
    if draw(st.booleans()):
        sizes = st.one_of(st.integers(specmod.DISK_MIN_GIB, specmod.DISK_MAX_GIB),
                          st.integers(1, 1024).map(lambda t: t * 1024))
        if kind == "vm":
            slots = draw(st.lists(st.sampled_from(VM_SLOTS), max_size=3, unique=True))
        else:
            slots = ["rootfs", *draw(st.lists(st.sampled_from(CT_SLOTS), max_size=2,
                                              unique=True))]
        data["disks"] = []
        for s in slots:
            disk: dict[str, Any] = {"slot": s, "size_gib": draw(sizes),
                                    **draw(disk_options(kind, s))}
            if draw(st.integers(0, 3)):
                disk["storage"] = draw(storages)
            if kind == "ct" and s != "rootfs":
                disk["path"] = f"/mnt/data-{s}"
                if draw(st.integers(0, 3)) == 0:
                    del disk["size_gib"]
                    disk.pop("storage", None)
                    disk.pop("replicate", None)
                    disk["host_path"] = draw(st.sampled_from(["/srv/media", "/tank/x y"]))
            data["disks"].append(disk)
    if draw(st.booleans()):
        data["networks"] = draw(networks(kind))
    if draw(st.booleans()):
        if kind == "ct":
            data["source"] = {"ostemplate": draw(ostemplates)}
        else:
            data["source"] = draw(st.one_of(
                st.builds(lambda t: {"clone": t}, templates),
                st.builds(lambda i: {"iso": i}, isos)))
    if draw(st.booleans()):
        data["onboot"] = True
    if draw(st.booleans()):
        data["tags"] = draw(st.lists(tags, max_size=4))
    if draw(st.booleans()):
        data["pool"] = draw(pools)
    if draw(st.booleans()):
        data["description"] = draw(descriptions)
    if draw(st.booleans()):
        data["ssh_keys"] = draw(st.lists(ssh_keys, max_size=2))
    if draw(st.booleans()):
        data.update(draw(vm_settings(data) if kind == "vm" else ct_settings()))
    if draw(st.booleans()):
        data.update(draw(common_settings()))
    return data


@st.composite
def common_settings(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {
        "cpuunits": _maybe(draw, st.integers(specmod.limits.CPUUNITS_MIN, 262_144)),
        "nameservers": _maybe(draw, st.lists(st.sampled_from(
            ["1.1.1.1", "9.9.9.9", "2606:4700::1111"]), min_size=1, max_size=2, unique=True)),
        "searchdomain": _maybe(draw, st.sampled_from(["example.com", "a.example b.example"])),
        "protection": _maybe(draw, st.booleans()),
        "ostype": None,
    }
    if draw(st.booleans()):
        data["startup"] = {k: draw(st.integers(0, 1000)) for k in
                           draw(st.lists(st.sampled_from(["order", "up", "down"]), min_size=1,
                                         unique=True))}
    return {k: v for k, v in data.items() if v is not None}


@st.composite
def vm_settings(draw: st.DrawFn, guest: dict[str, Any]) -> dict[str, Any]:
    """VM settings, valid together and with the guest drawn so far."""
    cores = guest.get("cores", 1)
    sockets = _maybe(draw, st.integers(1, 4))
    memory = guest.get("memory_mib", 1024)
    data: dict[str, Any] = {
        "sockets": sockets,
        "vcpus": _maybe(draw, st.integers(1, min(cores * (sockets or 1), 64))),
        "cpu_type": _maybe(draw, st.sampled_from(["host", "x86-64-v2-AES", "kvm64"])),
        "cpu_flags": _maybe(draw, st.lists(st.from_regex(r"\A[+-][a-z][a-z0-9_]{0,8}\Z"),
                                           min_size=1, max_size=3)),
        "numa": _maybe(draw, st.booleans()),
        "balloon_mib": _maybe(draw, st.sampled_from([0, memory, max(16, memory // 2)])),
        "machine": _maybe(draw, st.sampled_from(["q35", "pc", "pc-q35-9.0"])),
        "ostype": _maybe(draw, st.sampled_from(specmod.limits.VM_OSTYPES)),
        "scsihw": _maybe(draw, st.sampled_from(specmod.limits.SCSI_CONTROLLERS)),
        "ci_user": _maybe(draw, st.sampled_from(["ops", "root", "ip"])),
        "ci_password": _maybe(draw, st.sampled_from(["ops-password", "ci.pw"])),
        "ci_upgrade": _maybe(draw, st.booleans()),
        "ci_type": _maybe(draw, st.sampled_from(["nocloud", "configdrive2", "opennebula"])),
        "agent": _maybe(draw, st.booleans()),
        "serial_console": _maybe(draw, st.booleans()),
        "vga": _maybe(draw, st.sampled_from(specmod.limits.VGA_TYPES)),
        "hotplug": _maybe(draw, st.lists(st.sampled_from(specmod.limits.HOTPLUG_FEATURES),
                                         unique=True, max_size=3)),
        "tablet": _maybe(draw, st.booleans()),
    }
    if data["agent"] is not False:
        data["agent_fstrim"] = _maybe(draw, st.booleans())
    bios = _maybe(draw, st.sampled_from(["seabios", "ovmf"]))
    data["bios"] = bios
    if bios == "ovmf" and draw(st.booleans()):
        efi: dict[str, Any] = {}
        if draw(st.booleans()):
            efi["storage"] = draw(storages)
        if draw(st.booleans()):
            efi["efitype"] = draw(st.sampled_from(["2m", "4m"]))
        if draw(st.booleans()):
            efi["pre_enrolled_keys"] = draw(st.booleans())
        data["efidisk"] = efi
    if draw(st.integers(0, 3)) == 0:
        tpm: dict[str, Any] = {}
        if draw(st.booleans()):
            tpm["storage"] = draw(storages)
        if draw(st.booleans()):
            tpm["version"] = draw(st.sampled_from(["v1.2", "v2.0"]))
        data["tpm"] = tpm
    disk_slots = {d["slot"] for d in guest.get("disks", [])}
    free = [s for s in ("ide2", "ide3", "sata5") if s not in disk_slots]
    data["cdroms"] = [{"slot": s, "iso": draw(st.one_of(st.none(), isos))}
                      for s in draw(st.lists(st.sampled_from(free), max_size=2, unique=True))]
    if draw(st.integers(0, 2)) == 0:
        drive: dict[str, Any] = {}
        if draw(st.booleans()):
            drive["storage"] = draw(st.one_of(storages, st.sampled_from(["ide0", "sata1"])))
        taken = disk_slots | {c["slot"] for c in data["cdroms"]}
        slots = [s for s in ("ide0", "ide2", "sata1", "scsi7") if s not in taken]
        if slots and draw(st.booleans()):
            drive["slot"] = draw(st.sampled_from(slots))
        data["cloudinit_drive"] = drive
    pcie_ok = data["machine"] is None or "q35" in data["machine"]
    data["pci_devices"] = [
        {"slot": s, "mapping": draw(st.sampled_from(["gpu0", "nic-a"])),
         **({"pcie": draw(st.booleans())} if pcie_ok and draw(st.booleans()) else {})}
        for s in draw(st.lists(st.sampled_from(["hostpci0", "hostpci3"]), max_size=2,
                               unique=True))]
    data["usb_devices"] = [{"slot": s, "mapping": "dongle"} for s in draw(
        st.lists(st.sampled_from(["usb0", "usb2"]), max_size=1, unique=True))]
    if draw(st.integers(0, 3)) == 0:
        nets = guest.get("networks")
        known = ([d["slot"] for d in guest.get("disks", [])] if "disks" in guest else ["scsi0"])
        known += [c["slot"] for c in data["cdroms"]]
        known += [n["slot"] for n in nets] if nets is not None else ["net0"]
        data["boot"] = draw(st.lists(st.sampled_from(known), unique=True)) if known else []
    return {k: v for k, v in data.items() if v is not None}


@st.composite
def ct_settings(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {
        "unprivileged": _maybe(draw, st.booleans()),
        "cpulimit": _maybe(draw, st.integers(0, 64).map(lambda n: n / 4)),
        "swap_mib": _maybe(draw, st.sampled_from([0, 512, 2048, 100])),
        "timezone": _maybe(draw, st.sampled_from(["host", "Europe/Berlin", "UTC"])),
        "ostype": _maybe(draw, st.sampled_from(specmod.limits.CT_OSTYPES)),
        "features": _maybe(draw, st.lists(st.sampled_from(
            ["nesting", "keyctl", "fuse", "mknod", "mount=nfs;cifs", "mount=nfs"]),
            min_size=1, max_size=3, unique_by=lambda f: f.split("=")[0])),
    }
    return {k: v for k, v in data.items() if v is not None}


@st.composite
def cluster_specs(draw: st.DrawFn, max_guests: int = 4) -> specmod.ClusterSpec:
    items = draw(st.lists(guests(), max_size=max_guests, unique_by=lambda g: g["name"]))
    vmids: set[int] = set()
    for item in items:
        if "vmid" in item:
            if item["vmid"] in vmids:
                del item["vmid"]
            else:
                vmids.add(item["vmid"])
    return specmod.parse_spec({"guests": items})
