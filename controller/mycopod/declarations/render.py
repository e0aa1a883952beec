"""Write a spec back as declaration English, in the grammar's own phrasing.

Interface: :func:`render` ``(spec) -> str``. It lives here, with the grammar whose
phrasing it writes, so that :mod:`mycopod.spec` stays free of the compilers.

One paragraph per guest. Only what differs from the defaults is written, so a rendered
file reads like one an owner would write; everything else is exact, so that
``grammar.compile_text(render(spec)) == spec`` for every valid spec (a Hypothesis
property in the tests). This is what lets MycoPod write declarations for guests that
already exist. Values that the grammar could read as one of its own words (a tag named
``and``, a guest named ``2``) are quoted or introduced with ``named``. Pure.
"""

from __future__ import annotations

import json

from mycopod import spec as specmod
from mycopod.declarations import grammar

__all__ = ["render", "render_guest"]

_KIND = {"vm": "VM", "ct": "container"}


def quote(value: str) -> str:
    """A double-quoted string the grammar's tokenizer reads back as ``value``."""
    text = json.dumps(value, ensure_ascii=False)
    # "<" could open an HTML comment, which Markdown parsing removes; \u003c cannot.
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace(
        "\u2029", "\\u2029").replace("\u0085", "\\u0085")


def _value(value: str) -> str:
    return value if grammar.is_plain_word(value) else quote(value)


def _mib(mib: int) -> str:
    if mib % (1024 * 1024) == 0:
        return f"{mib // (1024 * 1024)} TB"
    if mib % 1024 == 0:
        return f"{mib // 1024} GB"
    return f"{mib} MB"


def _gib(gib: int) -> str:
    return f"{gib // 1024} TB" if gib % 1024 == 0 else f"{gib} GB"


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _net_phrases(net: specmod.NetworkSpec, *, inline: bool) -> list[str]:
    parts: list[str] = []
    if inline:
        if net.bridge != specmod.DEFAULT_BRIDGE:
            parts.append(f"connected to bridge {_value(net.bridge)}")
    else:
        parts.append(f"on bridge {_value(net.bridge)}")
    if net.vlan is not None:
        parts.append(f"on VLAN {net.vlan}")
    if net.ip is None:
        parts.append("with no IP address")
    elif net.ip != "dhcp":
        parts.append(f"with the static IP {net.ip}")
    elif not inline:
        parts.append("uses DHCP")
    if net.gateway is not None:
        parts.append(f"with gateway {net.gateway}")
    if net.firewall:
        parts.append("with the firewall enabled")
    return parts


def _default_disks(guest: specmod.GuestSpec) -> bool:
    d = specmod.DEFAULTS[guest.kind]
    return len(guest.disks) == 1 and guest.disks[0] == specmod.DiskSpec(
        slot=str(d["disk_slot"]), storage=specmod.DEFAULT_STORAGE, size_gib=int(d["disk_gib"]))


def render_guest(guest: specmod.GuestSpec) -> str:
    """One paragraph: the guest's declaration and, when needed, a few more sentences."""
    kind = _KIND[guest.kind]
    if grammar.is_subject_name(guest.name):
        head = f"{guest.name} is a {kind}"
    else:
        head = f"A {kind} named {guest.name}"
    parts: list[str] = []
    if guest.vmid is not None:
        parts.append(f"with ID {guest.vmid}")
    if guest.node is not None:
        parts.append(f"on node {_value(guest.node)}")
    if guest.pool is not None:
        parts.append(f"in pool {_value(guest.pool)}")
    attrs: list[str] = []
    if guest.cores != 1:
        attrs.append(f"{guest.cores} cores")
    if guest.memory_mib != specmod.DEFAULTS[guest.kind]["memory_mib"]:
        attrs.append(f"{_mib(guest.memory_mib)} of RAM")
    if not guest.disks:
        attrs.append("no disks")
    elif not _default_disks(guest):
        auto = grammar.assign_slots(guest.kind, [(None, None)] * len(guest.disks))
        explicit = auto != [d.slot for d in guest.disks]
        for disk in guest.disks:
            size = _gib(disk.size_gib)
            article = "an" if size.startswith(("8", "11 ", "18 ")) else "a"
            text = f"{article} {size} disk on {_value(disk.storage)}"
            if explicit:
                text += f" as {disk.slot}"
            attrs.append(text)
    sentences: list[str] = []
    nets = guest.networks
    net_parts: list[str] = []
    if not nets:
        attrs.append("no network")
    elif len(nets) == 1 and nets[0].slot == "net0":
        net_parts = _net_phrases(nets[0], inline=True)
    else:
        slots = [n.slot for n in nets]
        if "net0" not in slots:
            sentences.append("It has no network net0.")
        for net in nets:
            sentences.append(f"Its network {net.slot} is "
                             + _join(_net_phrases(net, inline=False)) + ".")
    if attrs:
        parts.append("with " + _join(attrs))
    parts.extend(net_parts)
    if guest.source is not None:
        if guest.source.clone is not None:
            parts.append(f"cloned from the template {_value(guest.source.clone)}")
        elif guest.source.iso is not None:
            parts.append(f"booting from the ISO {_value(guest.source.iso)}")
        elif guest.source.ostemplate is not None:
            parts.append(f"from the template {_value(guest.source.ostemplate)}")
    if guest.tags:
        parts.append("tagged " + _join([_value(t) for t in guest.tags]))
    if guest.description is not None:
        parts.append(f"described as {quote(guest.description)}")
    first = head
    if parts:
        first += (" " if parts[0].startswith("with ") else ", ") + ", ".join(parts)
    first += "."
    state = {"running": "It should be running.", "stopped": "It should be stopped.",
             "absent": "It should not exist."}[guest.state]
    tail = [state]
    if guest.onboot:
        tail.append("It starts on boot.")
    if guest.ssh_keys:
        keys = _join([quote(k) for k in guest.ssh_keys])
        noun = "key" if len(guest.ssh_keys) == 1 else "keys"
        tail.append(f"Authorize the SSH {noun} {keys}.")
    return " ".join([first, *sentences, *tail])


def render(spec: specmod.ClusterSpec) -> str:
    """The whole spec as Markdown text: one paragraph per guest, in name order."""
    if not spec.guests:
        return ""
    return "\n\n".join(render_guest(g) for g in spec.guests) + "\n"
