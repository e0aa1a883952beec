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
def networks(draw: st.DrawFn) -> list[dict[str, Any]]:
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
        })
    return nets


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
        data["disks"] = [
            {"slot": s, "storage": draw(storages), "size_gib": draw(sizes)} for s in slots]
    if draw(st.booleans()):
        data["networks"] = draw(networks())
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
    return data


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
