"""Write a spec back as declaration English, in the grammar's own phrasing.

Interface: :func:`render` ``(spec) -> str``. It lives here, with the grammar whose
phrasing it writes, so that :mod:`mycopod.spec` stays free of the compilers.

One paragraph per guest. Only what the spec states is written (and all of it, the
whole-guest settings through :mod:`.render_settings`), so that
``grammar.compile_text(render(spec)) == spec`` with the same stated settings, for every
valid spec (a Hypothesis property in the tests). This is what lets MycoPod write
declarations for guests that already exist. Values that the grammar could read as one
of its own words (a tag named ``and``, a guest named ``2``) are quoted or introduced with
``named``. Pure.
"""

from __future__ import annotations

from mycopod import spec as specmod
from mycopod.declarations import grammar
from mycopod.declarations import render_settings as RS
from mycopod.declarations.render_settings import join as _join
from mycopod.declarations.render_settings import mib as _mib
from mycopod.declarations.render_settings import quote
from mycopod.declarations.render_settings import value as _value

__all__ = ["quote", "render", "render_guest"]

_KIND = {"vm": "VM", "ct": "container"}


_DISK_ROLE = {True: "data", False: None}


def _implied_root(guest: specmod.GuestSpec, disk: specmod.DiskSpec) -> bool:
    """A container's rootfs that states nothing but its slot, beside mount points: the
    grammar adds it itself when the text names only mount points."""
    return (guest.kind == "ct" and disk.slot == "rootfs" and len(guest.disks) > 1
            and specmod.stated(disk) <= {"slot", "storage"})


def render_guest(guest: specmod.GuestSpec) -> str:
    """One paragraph: the guest's declaration and, when needed, a few more sentences.

    Only stated settings are written (:func:`mycopod.spec.stated`), so the text read
    back manages exactly what this guest's spec manages."""
    stated = specmod.stated(guest)
    # a kind never stated is written as "guest" (read back: a VM, not stated)
    kind = _KIND[guest.kind] if "kind" in stated else "guest"
    in_head: frozenset[str] = frozenset()
    if grammar.is_subject_name(guest.name):
        head = f"{guest.name} is a {kind}"
        if guest.unprivileged is not None:
            # "media is an unprivileged container"
            head = f"{guest.name} is " + ("an unprivileged " if guest.unprivileged
                                          else "a privileged ") + kind
            in_head = frozenset({"unprivileged"})
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
    if "cores" in stated:
        attrs.append(f"{guest.cores} cores")
    if "memory_mib" in stated:
        attrs.append(f"{_mib(guest.memory_mib)} of RAM")
    disks = [d for d in guest.disks if not _implied_root(guest, d)]
    if len(disks) < len(guest.disks) and "storage" in specmod.stated(guest.disks[0]):
        parts.append(f"on storage {_value(guest.disks[0].storage or '')}")
    if "disks" in stated and len(disks) == 1 and specmod.stated(disks[0]) == {
            "slot", "storage"} and disks[0].slot == specmod.DEFAULTS[guest.kind]["disk_slot"]:
        # only the storage is stated ("web-1 is a VM on storage ceph")
        parts.append(f"on storage {_value(disks[0].storage or '')}")
    elif "disks" in stated:
        if not guest.disks:
            attrs.append("no disks")
        else:
            roles: list[tuple[str | None, str | None]] = [
                (None, _DISK_ROLE[d.bind]) for d in disks]
            auto = grammar.assign_slots(guest.kind, roles)
            # slots are written when the grammar's own placement would differ anywhere
            explicit = auto != [d.slot for d in disks]
            for disk in disks:
                attrs.append(RS.disk_phrase(disk, disk.slot if explicit else None))
    sentences: list[str] = []
    nets = guest.networks
    net_parts: list[str] = []
    if "networks" not in stated:
        pass
    elif not nets:
        attrs.append("no network")
    elif len(nets) == 1 and nets[0].slot == "net0" and RS.net_phrases(nets[0], inline=True):
        net_parts = RS.net_phrases(nets[0], inline=True)
    else:
        slots = [n.slot for n in nets]
        if "net0" not in slots:
            sentences.append("It has no network net0.")
        for net in nets:
            said = RS.net_phrases(net, inline=False) or ["present"]
            sentences.append(f"Its network {net.slot} is {_join(said)}.")
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
    elif "tags" in stated:
        parts.append("with no tags")
    if guest.description is not None:
        parts.append(f"described as {quote(guest.description)}")
    first = head
    if parts:
        first += (" " if parts[0].startswith("with ") else ", ") + ", ".join(parts)
    first += "."
    tail: list[str] = []
    if "adopt" in stated:
        tail.append("It already exists; manage it from now on." if guest.adopt else
                    "It is not adopted.")
    if "state" in stated:
        tail.append({"running": "It should be running.", "stopped": "It should be stopped.",
                     "absent": "It should not exist."}[guest.state])
    if "onboot" in stated:
        tail.append("It starts on boot." if guest.onboot else "It should not start on boot.")
    if guest.ssh_keys:
        keys = _join([quote(k) for k in guest.ssh_keys])
        noun = "key" if len(guest.ssh_keys) == 1 else "keys"
        tail.append(f"Authorize the SSH {noun} {keys}.")
    elif "ssh_keys" in stated:
        tail.append("It has no SSH keys.")
    tail.extend(RS.setting_sentences(guest, in_head=in_head))
    return " ".join([first, *sentences, *tail])


def render(spec: specmod.ClusterSpec) -> str:
    """The whole spec as Markdown text: one paragraph per guest, in name order."""
    if not spec.guests:
        return ""
    return "\n\n".join(render_guest(g) for g in spec.guests) + "\n"
