"""The whole-guest settings written back as English, in the grammar's own phrasing.

:mod:`.render` writes the fields of the original contract; this module writes the rest
(CPU, firmware, devices, cloud-init, DNS, start-up, containers), the options of each disk
and network card, and nothing the spec does not state (:func:`mycopod.spec.stated`). Each
phrase here is one the grammar reads back to exactly the same value. Pure.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

from mycopod import spec as specmod
from mycopod.declarations import grammar

__all__ = ["disk_phrase", "net_phrases", "setting_sentences"]


def quote(value: str) -> str:
    """A double-quoted string the grammar's tokenizer reads back as ``value``."""
    text = json.dumps(value, ensure_ascii=False)
    # "<" could open an HTML comment, which Markdown parsing removes; \u003c cannot.
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace(
        "\u2029", "\\u2029").replace("\u0085", "\\u0085")


def value(text: str) -> str:
    """A value read where a grammar word could be misread (names, storages, bridges)."""
    return text if grammar.is_plain_word(text) else quote(text)


def raw(text: str) -> str:
    """A value read as the next token whatever it is (CPU type, paths, addresses)."""
    try:
        tokens = grammar.tokenize(text)
    except Exception:  # a value the tokenizer refuses is quoted
        return quote(text)
    if len(tokens) == 1 and not tokens[0].quoted and tokens[0].text == text and \
            tokens[0].low not in (".", ",", ":", "(", ")"):
        return text
    return quote(text)


def mib(amount: int) -> str:
    if amount % (1024 * 1024) == 0:
        return f"{amount // (1024 * 1024)} TB"
    if amount % 1024 == 0:
        return f"{amount // 1024} GB"
    return f"{amount} MB"


def gib(amount: int) -> str:
    return f"{amount // 1024} TB" if amount % 1024 == 0 else f"{amount} GB"


def number(amount: float) -> str:
    return f"{Decimal(repr(amount)).normalize():f}"


def join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _onoff(flag: bool, on: str, off: str) -> str:
    return on if flag else off


def disk_phrase(disk: specmod.DiskSpec, slot: str | None) -> str:
    """One disk with its stated options; ``slot`` when it must be written."""
    s = specmod.stated(disk)
    if disk.host_path is not None:
        text = f"a bind mount of {raw(disk.host_path)} at {raw(disk.path or '/')} as {disk.slot}"
    else:
        if "size_gib" in s:
            size = gib(disk.size_gib or 0)
            article = "an" if size.startswith(("8", "11 ", "18 ")) else "a"
            text = f"{article} {size} disk"
        else:  # the size is the creation default, not stated: "a disk on ceph"
            text = "a disk"
        if "storage" in s and disk.storage is not None:
            text += f" on {value(disk.storage)}"
        if slot is not None:
            text += f" as {slot}"
        if disk.path is not None:
            text += f" at {raw(disk.path)}"
    opts: list[str] = []
    if disk.iothread is not None:
        opts.append(_onoff(disk.iothread, "with an iothread", "without an iothread"))
    if disk.discard is not None:
        opts.append(_onoff(disk.discard, "with discard", "without discard"))
    if disk.ssd is not None:
        opts.append(_onoff(disk.ssd, "with SSD emulation", "without SSD emulation"))
    if disk.cache is not None:
        opts.append(f"with cache {disk.cache}")
    if disk.aio is not None:
        opts.append(f"with aio {disk.aio}")
    if disk.backup is not None:
        opts.append(_onoff(disk.backup, "included in backups", "excluded from backups"))
    if disk.replicate is not None:
        opts.append(_onoff(disk.replicate, "replicated", "not replicated"))
    if disk.ro is not None:
        opts.append(_onoff(disk.ro, "read-only", "read-write"))
    with_ = [o.removeprefix("with ") for o in opts if o.startswith("with ")]
    rest = [o for o in opts if not o.startswith("with ")]
    return " ".join([text, *([f"with {join(with_)}"] if with_ else []), *rest])


def net_phrases(net: specmod.NetworkSpec, *, inline: bool) -> list[str]:
    """A network card's stated settings (and a missing IP, which only a phrase can say)."""
    s = specmod.stated(net)
    parts: list[str] = []
    if "bridge" in s:
        parts.append(f"{'connected to' if inline else 'on'} bridge {value(net.bridge)}")
    if net.vlan is not None:
        parts.append(f"on VLAN {net.vlan}")
    if net.ip is None:
        parts.append("with no IP address")
    elif "ip" in s:
        parts.append("uses DHCP" if net.ip == "dhcp" else f"with the static IP {net.ip}")
    if net.gateway is not None:
        parts.append(f"with gateway {net.gateway}")
    if "firewall" in s:
        parts.append(_onoff(net.firewall, "with the firewall enabled", "with no firewall"))
    if net.model is not None:
        parts.append(f"model {raw(net.model)}")
    if net.mac is not None:
        parts.append(f"MAC address {net.mac}")
    if net.name is not None:
        parts.append(f"interface name {raw(net.name)}")
    if net.ip6 is not None:
        parts.append({"dhcp": "IPv6 via DHCP", "auto": "IPv6 via SLAAC"}.get(
            net.ip6, f"the IPv6 address {net.ip6}"))
    if net.gateway6 is not None:
        parts.append(f"IPv6 gateway {net.gateway6}")
    if net.mtu is not None:
        parts.append(f"MTU {net.mtu}")
    if net.rate is not None:
        parts.append(f"a rate limit of {number(net.rate)} MB/s")
    if net.queues is not None:
        parts.append(f"{net.queues} queues")
    if net.link_down is not None:
        parts.append(_onoff(net.link_down, "link down", "link up"))
    return parts


def _cpu_memory(g: specmod.GuestSpec) -> list[str]:
    out: list[str] = []
    if g.sockets is not None:
        out.append(f"{g.sockets} sockets")
    if g.vcpus is not None:
        out.append(f"{g.vcpus} active vCPUs")
    if g.cpu_type is not None:
        out.append(f"CPU type {raw(g.cpu_type)}")
    if g.numa is not None:
        out.append(_onoff(g.numa, "NUMA enabled", "NUMA disabled"))
    if g.cpulimit is not None:
        out.append(f"a CPU limit of {number(g.cpulimit)}")
    if g.cpuunits is not None:
        out.append(f"CPU weight {g.cpuunits}")
    if g.balloon_mib is not None:
        out.append(f"ballooning down to {mib(g.balloon_mib)}" if g.balloon_mib
                   else "no ballooning")
    if g.swap_mib is not None:
        out.append(f"{mib(g.swap_mib)} of swap" if g.swap_mib else "no swap")
    return out


def _firmware(g: specmod.GuestSpec) -> list[str]:
    out: list[str] = []
    if g.bios == "seabios":
        out.append("SeaBIOS")
    elif g.bios == "ovmf":
        out.append("UEFI")
    if g.efidisk is not None:
        s = specmod.stated(g.efidisk)
        text = ""
        if "efitype" in s:
            text += f" {g.efidisk.efitype[0]} MB"
        text += " EFI disk"
        if "storage" in s:
            text += f" on {value(g.efidisk.storage)}"
        if g.efidisk.pre_enrolled_keys is not None:
            text += _onoff(g.efidisk.pre_enrolled_keys, " with pre-enrolled keys",
                           " without pre-enrolled keys")
        out.append(("an" if text == " EFI disk" else "a") + text)
    if g.tpm is not None:
        s = specmod.stated(g.tpm)
        text = "a TPM"
        if "version" in s:
            text += f" {g.tpm.version}"
        if "storage" in s:
            text += f" on {value(g.tpm.storage)}"
        out.append(text)
    if g.machine is not None:
        out.append(f"machine type {raw(g.machine)}")
    if g.ostype is not None:
        out.append(f"OS type {raw(g.ostype)}")
    if g.scsihw is not None:
        out.append(f"SCSI controller {raw(g.scsihw)}")
    return out


def _console(g: specmod.GuestSpec) -> list[str]:
    out: list[str] = []
    vga = g.vga
    if g.serial_console is True and vga == "serial0":
        out.append("a serial console")
        vga = None
    elif g.serial_console is not None:
        out.append(_onoff(g.serial_console, "a serial port", "no serial port"))
    if vga is not None:
        out.append(f"display type {raw(vga)}")
    if g.tablet is not None:
        out.append(_onoff(g.tablet, "a tablet", "no tablet"))
    return out


def _devices(g: specmod.GuestSpec) -> list[str]:
    out: list[str] = []
    for cd in g.cdroms:
        if cd.iso is None:
            out.append(f"an empty CD-ROM as {cd.slot}")
        else:
            out.append(f"a CD-ROM as {cd.slot} with the ISO {raw(cd.iso)}")
    if g.cloudinit_drive is not None:
        out.append(_cloudinit_drive(g.cloudinit_drive))
    for dev in g.pci_devices:
        bus = {True: "PCIe", False: "plain PCI", None: "PCI"}[dev.pcie]
        out.append(f"{bus} passthrough of the mapping {raw(dev.mapping)} as {dev.slot}")
    for dev in g.usb_devices:
        out.append(f"USB passthrough of the mapping {raw(dev.mapping)} as {dev.slot}")
    return out


def _cloudinit_drive(drive: specmod.CloudInitDriveSpec) -> str:
    given = specmod.stated(drive)
    text = "a cloud-init drive"
    if "storage" in given and drive.storage is not None:
        storage = drive.storage
        # a storage named like a slot ("on ide0") is quoted, or it would read as the slot
        text += f" on {quote(storage) if _SLOT_LIKE.match(storage) else value(storage)}"
    if "slot" in given and drive.slot is not None:
        text += f" as {drive.slot}"
    return text


_SLOT_LIKE = re.compile(r"^(ide|sata|scsi)\d+$", re.IGNORECASE)


def _guest_other(g: specmod.GuestSpec, *, in_head: bool = False) -> list[str]:
    out: list[str] = []
    if g.ci_user is not None:
        out.append(f"cloud-init user {raw(g.ci_user)}")
    if g.ci_password is not None:
        out.append(f"cloud-init password from the credential {raw(g.ci_password)}")
    if g.ci_upgrade is not None:
        out.append(_onoff(g.ci_upgrade, "cloud-init upgrades enabled",
                          "cloud-init upgrades disabled"))
    if g.ci_type is not None:
        out.append(f"cloud-init type {g.ci_type}")
    if g.searchdomain is not None:
        out.append(f"search domain {raw(g.searchdomain)}")
    if g.agent is not None:
        out.append(_onoff(g.agent, "the QEMU guest agent enabled",
                          "the QEMU guest agent disabled"))
    if g.agent_fstrim is not None:
        out.append(_onoff(g.agent_fstrim, "fstrim enabled", "fstrim disabled"))
    if g.startup is not None:
        st = g.startup
        if st.order is not None:
            out.append(f"startup order {st.order}")
        if st.up is not None:
            out.append(f"startup delay {st.up} seconds")
        if st.down is not None:
            out.append(f"shutdown delay {st.down} seconds")
    if g.protection is not None:
        out.append(_onoff(g.protection, "protection from deletion", "no protection"))
    if g.unprivileged is not None and not in_head:
        out.append(_onoff(g.unprivileged, "unprivileged", "privileged"))
    if g.timezone is not None:
        out.append(f"time zone {raw(g.timezone)}")
    return out


def _list_sentences(g: specmod.GuestSpec) -> list[str]:
    """Settings that are lists: each in a sentence of its own, so no list reads on."""
    out: list[str] = []
    if g.cpu_flags:
        out.append(f"It has the CPU flags {join(g.cpu_flags)}.")
    if g.nameservers:
        noun = "server" if len(g.nameservers) == 1 else "servers"
        out.append(f"It has the DNS {noun} {join(g.nameservers)}.")
    if g.hotplug is not None:
        names = [{"cloudinit": "cloud-init"}.get(h, h) for h in g.hotplug]
        out.append(f"It has hot-plug for {join(names)}." if names else "It has no hot-plug.")
    plain = [f for f in g.features if not f.startswith("mount=")]
    if plain:
        out.append(f"It has the features {join(plain)}.")
    for feature in g.features:
        if feature.startswith("mount="):
            out.append(f"It has mounts of {join(feature[6:].split(';'))}.")
    if g.boot is not None:
        out.append(f"It boots from {', then '.join(g.boot)}." if g.boot
                   else "It has no boot devices.")
    return out


def setting_sentences(g: specmod.GuestSpec, *, in_head: frozenset[str] = frozenset()
                      ) -> list[str]:
    """Sentences for every stated whole-guest setting of ``g`` (none when none is), but
    those ``in_head`` (already said in the guest's first words, like "unprivileged")."""
    phrases = [*_cpu_memory(g), *_firmware(g), *_console(g), *_devices(g),
               *_guest_other(g, in_head="unprivileged" in in_head)]
    out = [f"It has {join(phrases)}."] if phrases else []
    return out + _list_sentences(g)
