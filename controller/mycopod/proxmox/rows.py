"""One ``/cluster/resources`` answer sorted into nodes, storages and guest rows, with the
guest of every unchanged row handed back as it was (the observer's steady tick, issue 17).

A guest's row is compared as the tuple of the fields an :class:`ObservedGuest` is made
of (``ROW_FIELDS``; a running guest's cpu, memory and traffic counters change at every
poll and are not compared). A row whose tuple is that of the last tick, while the
inventory entry of its vmid and whether its name is to be adopted are unchanged too,
costs that tuple, one look-up and one comparison: its last :class:`Row` (and so the
very same guest object, config included) is kept, and nothing else is made for it. Only
the other rows (new, changed, or lagging: not sampled by pvestatd yet) are made into
guests, by :func:`guest_of_row`, after the lagging ones are filled in.

Pure: no I/O (the observer reads and fills in).
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mycopod.proxmox import translate
from mycopod.proxmox.model import NodeState, ObservedGuest, StorageState, is_placeholder

__all__ = ["NAME", "ROW_FIELDS", "Row", "Sorted", "guest_of_row", "placeholder_named", "row_key",
           "sort_rows"]

#: every field of a guest's row that an :class:`ObservedGuest` is made of, compared as
#: one tuple; without the type, the config cache's fingerprint
ROW_FIELDS = ("type", "node", "status", "lock", "tags", "name", "maxcpu", "maxmem",
              "maxdisk", "template", "pool")
NAME, STATUS = ROW_FIELDS.index("name"), ROW_FIELDS.index("status")
_UNSAMPLED = (None, "unknown")


@dataclass(frozen=True, slots=True)
class Row:
    """One guest's row as last seen (its key), and the guest made of it.

    While the row's key, the inventory entry of its vmid and whether its name is to be
    adopted stay the same, the next observation hands back the very same
    :class:`ObservedGuest`, config included; the planner's memo then replays that guest
    instead of planning it again."""

    key: tuple[Any, ...]
    recorded: str | None
    adopt: bool
    guest: ObservedGuest


@dataclass(slots=True)
class Sorted:
    """What :func:`sort_rows` made of an answer."""

    nodes: list[NodeState] = field(default_factory=list)
    storages: list[StorageState] = field(default_factory=list)
    #: every guest row's guest, in the answer's order; None where the row's guest is
    #: still to be made (an entry of ``changed``)
    guests: list[ObservedGuest | None] = field(default_factory=list)
    #: the rows kept as they were, by vmid
    rows: dict[int, Row] = field(default_factory=dict)
    #: the rows whose guest is to be made: (index in ``guests``, the row)
    changed: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    #: the rows pvestatd has not sampled yet (no name, or status unknown) or sampled while
    #: being made (:func:`placeholder_named`), among ``changed``
    lagging: list[dict[str, Any]] = field(default_factory=list)


def row_key(item: Mapping[str, Any]) -> tuple[Any, ...]:
    """A guest row's fields an observed guest is made of, as one tuple."""
    return tuple(map(item.get, ROW_FIELDS))


def placeholder_named(item: Mapping[str, Any], inventory: Mapping[int, str],
                      ownership_tag: str) -> bool:
    """The row's name (pvestatd's last sample) is the placeholder a guest without a name
    is sampled under (``VM 105``, ``CT105``: qemu-server and pve-container vmstatus), and
    the guest may be ours (the inventory records its vmid, or it has the ownership tag).
    A guest sampled while being made keeps that placeholder for a round (about 10 s)
    after its create ends; taken as its name, the declared name looks missing and would
    be created again."""
    vmid = item.get("vmid")
    if not is_placeholder(item.get("name"), vmid):
        return False
    return vmid in inventory or ownership_tag in translate.parse_tags(item.get("tags"))


def sort_rows(resources: Iterable[dict[str, Any]] | None, known: Mapping[int, Row], *,
              same_context: bool, inventory: Mapping[int, str],
              adopt: Container[str], ownership_tag: str) -> Sorted:
    """Sort ``resources`` (the answer's rows) into nodes, storages and guest rows. A guest
    row whose key is that of its ``known`` row keeps that row, when ``same_context``
    (the inventory and the adoption set are those the known rows were made with) or
    its own inventory entry and adoption are unchanged; the others are ``changed``."""
    out = Sorted()
    guests, rows, changed, get_known = out.guests, out.rows, out.changed, known.get
    for item in resources or ():
        kind = item.get("type")
        if kind == "qemu" or kind == "lxc":
            key = tuple(map(item.get, ROW_FIELDS))
            if (not key[NAME] or key[STATUS] in _UNSAMPLED
                    or (str(key[NAME])[:2] in ("VM", "CT")  # cheap test first
                        and placeholder_named(item, inventory, ownership_tag))):
                out.lagging.append(item)
            else:
                vmid = int(item["vmid"])
                last = get_known(vmid)
                if last is not None and last.key == key and (
                        same_context or (last.recorded == inventory.get(vmid)
                                         and last.adopt == (key[NAME] in adopt))):
                    rows[vmid] = last
                    guests.append(last.guest)
                    continue
            changed.append((len(guests), item))
            guests.append(None)
        elif kind == "node":
            out.nodes.append(NodeState(
                name=str(item.get("node")), online=item.get("status") == "online",
                maxmem=int(item.get("maxmem") or 0), mem=int(item.get("mem") or 0),
                maxcpu=float(item.get("maxcpu") or 0)))
        elif kind == "storage":
            content = tuple(sorted(c for c in str(item.get("content") or "").split(",") if c))
            out.storages.append(StorageState(
                node=str(item.get("node")), storage=str(item.get("storage")),
                content=content, shared=bool(item.get("shared")),
                active=item.get("status", "available") == "available",
                maxdisk=int(item.get("maxdisk") or 0), disk=int(item.get("disk") or 0)))
    return out


def guest_of_row(item: Mapping[str, Any], *, ownership_tag: str,
                 inventory: Mapping[int, str]) -> ObservedGuest:
    """The observed guest of one row (without its config): what a new or changed row
    costs. Owned: not a template, and the ownership tag or an inventory row with the
    same vmid and name."""
    vmid = int(item["vmid"])
    name = str(item.get("name") or "")
    tags = translate.parse_tags(item.get("tags"))
    template = bool(item.get("template"))
    in_inventory = inventory.get(vmid) == name
    owned = not template and (ownership_tag in tags or in_inventory)
    return ObservedGuest(
        vmid=vmid, kind="vm" if item.get("type") == "qemu" else "ct", name=name,
        node=str(item.get("node")), status=str(item.get("status") or "unknown"),
        lock=item.get("lock") or None, tags=tags, template=template,
        pool=item.get("pool") or None, maxmem=int(item.get("maxmem") or 0),
        maxcpu=float(item.get("maxcpu") or 0), maxdisk=int(item.get("maxdisk") or 0),
        owned=owned, in_inventory=in_inventory, recorded_name=inventory.get(vmid))
