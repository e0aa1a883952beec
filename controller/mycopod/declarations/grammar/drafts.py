"""Drafts: what the sentences of one file say about each guest, and their GuestSpec input.

Phrases do not build specs directly: each returns effects that write into a ``Draft``,
which records the line of every value so that two sentences giving different values is
an error naming both lines. Once the file is read, ``guest_data`` turns a draft into
the input ``GuestSpec`` validates (disk slots, default storage, net0), and
:func:`assign_slots` is shared with the renderer so both place disks the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mycopod import spec as specmod
from mycopod.declarations.grammar.assemble import whole_guest_data
from mycopod.declarations.grammar.tokens import SentenceError


@dataclass
class Disk:
    size_gib: int | None  # None: not stated (a bind mount has none; a disk gets the default)
    storage: str | None
    slot: str | None
    role: str | None  # "root", "data" or None
    line: int
    #: the options the text states (discard, ssd, path, host_path ...), by spec key
    opts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Draft:
    name: str
    line: int
    declared: int | None = None
    declared_in: int = -1
    kind: tuple[str, int] | None = None
    fields: dict[str, tuple[Any, int]] = field(default_factory=dict)
    disks: list[Disk] = field(default_factory=list)
    no_disks: int | None = None
    storage: tuple[str, int] | None = None
    nets: dict[str, dict[str, tuple[Any, int]]] = field(default_factory=dict)
    no_networks: int | None = None
    removed_nets: set[str] = field(default_factory=set)
    tags: list[str] = field(default_factory=list)
    ssh_keys: list[str] = field(default_factory=list)
    #: sub-objects stated key by key (efidisk, tpm, startup, cloudinit_drive):
    #: part -> key -> (value, line)
    parts: dict[str, dict[str, tuple[Any, int]]] = field(default_factory=dict)
    #: devices in order of mention (cdroms, pci_devices, usb_devices): (fields, line)
    devices: dict[str, list[tuple[dict[str, Any], int]]] = field(default_factory=dict)
    #: lists that grow sentence by sentence (cpu_flags, features, nameservers)
    lists: dict[str, list[str]] = field(default_factory=dict)
    #: a size given with no noun ("nas-2: VM, 4 cores, 16 GB") read as the memory:
    #: (as written, line); a second one would be a guess, so it is an error
    bare_size: tuple[str, int] | None = None

    def set(self, key: str, value: Any, line: int) -> None:
        old = self.fields.get(key)
        if old is not None and old[0] != value:
            raise SentenceError(
                line, f"{self.name}: {key} is given twice with different values: "
                f"{_show(old[0])} (line {old[1]}) and {_show(value)} (line {line})")
        self.fields[key] = (value, line)

    def set_kind(self, kind: str, line: int) -> None:
        if self.kind is not None and self.kind[0] != kind:
            raise SentenceError(
                line, f"{self.name} is said to be a {_KIND_NAME[self.kind[0]]} "
                f"(line {self.kind[1]}) and a {_KIND_NAME[kind]} (line {line})")
        self.kind = (kind, line)

    def set_net(self, slot: str, key: str, value: Any, line: int) -> None:
        net = self.nets.setdefault(slot, {})
        old = net.get(key)
        if old is not None and old[0] != value:
            raise SentenceError(
                line, f"{self.name}: {key} of {slot} is given twice with different values: "
                f"{_show(old[0])} (line {old[1]}) and {_show(value)} (line {line})")
        net[key] = (value, line)

    def set_part(self, part: str, key: str | None, value: Any, line: int) -> None:
        """Say the guest has ``part`` (efidisk, tpm, startup), with ``key`` if given."""
        values = self.parts.setdefault(part, {})
        if key is None:
            return
        old = values.get(key)
        if old is not None and old[0] != value:
            raise SentenceError(
                line, f"{self.name}: {key} of the {_PART_NAME.get(part, part)} is given twice "
                f"with different values: {_show(old[0])} (line {old[1]}) and {_show(value)} "
                f"(line {line})")
        values[key] = (value, line)

    def add_device(self, group: str, values: dict[str, Any], line: int) -> None:
        self.devices.setdefault(group, []).append((values, line))

    def extend(self, key: str, values: list[str]) -> None:
        self.lists.setdefault(key, []).extend(values)


_PART_NAME = {"efidisk": "EFI disk", "tpm": "TPM", "startup": "start-up order",
              "cloudinit_drive": "cloud-init drive"}
_KIND_NAME = {"vm": "VM", "ct": "container"}


def _show(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (str, bool)) or value is None else str(value)


#: an effect of a phrase, applied to every guest of the clause's subject
Effect = Callable[[Draft], None]


# network phrases carry an optional slot: None means "the guest's first network" (net0)
NetEffect = Callable[[Draft, str], None]


# --- from drafts to guests ---------------------------------------------------------------


_VM_SLOTS = [f"scsi{n}" for n in range(31)]
_CT_SLOTS = ["rootfs"] + [f"mp{n}" for n in range(256)]


def assign_slots(kind: str, disks: list[tuple[str | None, str | None]]) -> list[str]:
    """Slots for disks given as (explicit slot, role), in order; shared with the renderer.

    Explicit slots are kept; a root-role disk takes the first slot; the others take the
    next free slot in order (scsi0, scsi1, ... for a VM; rootfs, mp0, mp1, ... for a
    container). A data-role disk never takes the first slot.
    """
    order = _VM_SLOTS if kind == "vm" else _CT_SLOTS
    taken = {slot for slot, _ in disks if slot is not None}
    result: list[str] = []
    for slot, role in disks:
        if slot is None and role == "root":
            slot = order[0]
            taken.add(slot)
        result.append(slot or "")
    for k, (_, role) in enumerate(disks):
        if result[k]:
            continue
        for candidate in order:
            if candidate in taken or (role == "data" and candidate == order[0]):
                continue
            result[k] = candidate
            taken.add(candidate)
            break
    return result


def guest_data(d: Draft) -> tuple[dict[str, Any], dict[str, int]]:
    """The draft as GuestSpec input, and the line where each field was set."""
    lines: dict[str, int] = {"name": d.line}
    data: dict[str, Any] = {"name": d.name}
    if d.kind is not None:
        data["kind"] = d.kind[0]
        lines["kind"] = d.kind[1]
    # a kind never said is the contract's default (a VM), not stated: the planner reports
    # an existing guest of the other kind as a conflict, never replaces it
    kind = data.get("kind", "vm")
    for key, (value, line) in d.fields.items():
        data[key] = value
        lines[key] = line
    if d.no_disks is not None:
        data["disks"] = []
        lines["disks"] = d.no_disks
    elif d.disks:
        slots = assign_slots(kind, [(x.slot, x.role) for x in d.disks])
        # only a storage the text names is stated; the model's default fills the rest
        default = d.storage[0] if d.storage else None
        if kind == "ct" and "rootfs" not in slots:
            # the model needs a rootfs in a stated disk list: a container that states only
            # its mount points gets the default root disk (docs/declarations.md says so)
            # (its size unstated: created at the default, never compared)
            d.disks.insert(0, Disk(None, None, "rootfs", "root", d.disks[0].line))
            slots.insert(0, "rootfs")
        if kind == "vm" and "scsi0" not in slots and any(x.role == "data" for x in d.disks):
            raise SentenceError(d.disks[0].line, f"{d.name}: a data disk is declared but no "
                                                 "system disk; add e.g. 'a 32 GB system disk'")
        data["disks"] = [
            {"slot": slot, "size_gib": x.size_gib, **x.opts}
            | ({"storage": x.storage or default} if "host_path" not in x.opts and
               (x.storage or default) else {})
            for slot, x in zip(slots, d.disks, strict=True)
        ]
        lines["disks"] = d.disks[0].line
    elif d.storage is not None:
        default_disk = specmod.DEFAULTS[kind]
        # "on storage ceph" states the storage of the default disk, not its size
        data["disks"] = [{"slot": default_disk["disk_slot"], "storage": d.storage[0]}]
        lines["disks"] = d.storage[1]
    if d.no_networks is not None:
        if d.nets:
            raise SentenceError(d.no_networks, f"{d.name} is said to have no network and "
                                               "network settings")
        data["networks"] = []
        lines["networks"] = d.no_networks
    elif d.nets:
        for slot in d.removed_nets:
            if slot in d.nets:
                raise SentenceError(d.line, f"{d.name}: network {slot} is described and "
                                            "said not to exist")
        if "net0" not in d.nets and "net0" not in d.removed_nets:
            d.nets["net0"] = {}
        nets = []
        for slot in sorted(d.nets, key=lambda s: int(s[3:])):
            values = {k: v for k, (v, _) in d.nets[slot].items()}
            nets.append({"slot": slot, **values})
            lines.setdefault("networks", min((ln for _, ln in d.nets[slot].values()),
                                             default=d.line))
        data["networks"] = nets
    if d.tags:
        if "tags" in d.fields:
            raise SentenceError(d.fields["tags"][1], f"{d.name} is said to have no tags and "
                                                     "tags")
        data["tags"] = d.tags
    if d.ssh_keys:
        if "ssh_keys" in d.fields:
            raise SentenceError(d.fields["ssh_keys"][1], f"{d.name} is said to have no SSH "
                                                         "keys and SSH keys")
        data["ssh_keys"] = d.ssh_keys
    whole_guest_data(d, data, lines)
    return data, lines
