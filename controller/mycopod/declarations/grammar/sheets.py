"""Tables as people paste them: spreadsheets, wiki markup, and headers in their words.

:mod:`.tables` reads a Markdown table. A table reaches a note in other shapes too:

- a spreadsheet pasted as text: every line of the paragraph has tab-separated cells, the
  first line is the header (``name<TAB>type<TAB>cores``);
- Confluence/Jira wiki markup: a header row with doubled bars (``|| Name || Type ||``),
  then rows with single bars (``| wiki-prod | VM |``), no separator row;
- comma- or semicolon-separated values (a CSV export), only when every cell of the first
  line names a known column (``name,type,cores,ram``): prose with commas is never a table.

:func:`as_markdown` rewrites both as a Markdown table (header, separator, rows, each on its
own line), so they are read exactly like one. A header cell is read the way a person
names a column (:func:`column`): case, spaces and a trailing ``:`` do not matter; a unit in
parentheses (``RAM (GB)``, ``disk (GB)``) is the unit of the column's bare numbers;
synonyms name the same column (``cpu cores``, ``disk size``, ``start at boot``,
``cloned from template``, ``vm id``, ``ip address``). A commentary column (``notes``,
``comment``, ``purpose``, ``service`` ...) is read as an aside after the row's
record (``(notes: for the wiki)``): dropped and reported when it says nothing about the
guest, refused when it does (``delete after March``). An action or status column
(``status``, ``action``) says what should become of the guest: its cell is one of
:data:`STATES` (``delete``, ``to be deleted``, ``stop``, ``start`` ...), anything else is
an error that quotes it. A header that is still unknown is refused by :mod:`.tables` with
the list of known ones. Pure.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable

__all__ = ["KEEP", "STATES", "as_markdown", "column", "state_of", "with_unit"]

#: header synonyms -> the column of :data:`.tables.COLUMNS` they name
SYNONYMS: dict[str, str] = {
    "cpu cores": "cores", "vcpu cores": "cores", "cores/vcpu": "cores", "cpu count": "cores",
    "core": "cores", "vcpus/cores": "cores", "threads": "cores",
    "memory size": "ram", "ram size": "ram", "ram/memory": "ram",
    "disk size": "disk", "disk space": "disk", "storage size": "disk", "root disk": "disk",
    "disk capacity": "disk",
    "start at boot": "onboot", "start on boot": "onboot", "boot": "onboot",
    "on boot": "onboot", "autoboot": "onboot", "start automatically": "onboot",
    "auto start": "onboot", "auto-start": "onboot", "start at startup": "onboot",
    "cloned from template": "template", "cloned from": "template", "clone of": "template",
    "clone from": "template", "source template": "template", "base template": "template",
    "os template": "template", "image": "template", "base image": "template",
    "vm id": "id", "vm-id": "id", "ct id": "id", "ctid": "id", "vmid/ctid": "id",
    "ip address": "ip", "ipv4": "ip", "ip/cidr": "ip", "vlan tag": "vlan", "vlan id": "vlan",
    "resource pool": "pool", "proxmox node": "node", "pve node": "node",
    "vm name": "name", "guest name": "name", "container name": "name", "ct name": "name",
    "server": "name", "server name": "name", "machine": "name",
    "guest type": "type", "vm/ct": "type", "ct/vm": "type", "vm or ct": "type",
    "status": "action", "todo": "action", "to do": "action", "desired state": "state",
    "power state": "state", "power": "state", "swap size": "swap", "tag": "tags",
    "labels": "tags", "network bridge": "bridge",
    # commentary: read as an aside after the row's record (.context drops what says nothing)
    # (an owner, a team or a contact is no aside: ownership cannot be expressed, refused)
    "note": "notes", "comment": "notes", "comments": "notes", "remarks": "notes",
    "remark": "notes", "purpose": "notes", "usage": "notes", "used for": "notes",
    "role": "notes", "service": "notes", "application": "notes", "app": "notes",
    "function": "notes", "desc": "description",
}
#: what a cell of an action or status column says, as a state of the spec
STATES: dict[str, str] = {
    "delete": "absent", "deleted": "absent", "to be deleted": "absent", "remove": "absent",
    "removed": "absent", "to be removed": "absent", "destroy": "absent", "decommission":
    "absent", "decommissioned": "absent", "to be decommissioned": "absent", "absent":
    "absent", "retire": "absent", "retired": "absent", "delete me": "absent",
    "stop": "stopped", "stopped": "stopped", "shut down": "stopped", "power off":
    "stopped", "powered off": "stopped", "off": "stopped", "to be stopped": "stopped",
    "start": "running", "started": "running", "running": "running", "power on": "running",
    "powered on": "running", "on": "running", "to be started": "running",
}
#: cells of an action or status column that ask for the guest as declared, no more
KEEP = frozenset({"create", "new", "add", "keep", "planned", "requested", "approved",
                  "pending", "ok", "-", "to be created", "provision", "active"})
_UNIT_RE = re.compile(r"^(?P<name>.*?)\s*(?:[(\[](?P<unit>mb|mib|gb|gib|tb|tib)[)\]]|"
                      r"\s(?:in\s)?(?P<bare>mb|mib|gb|gib|tb|tib))$")
_NUMBER_RE = re.compile(r"^\d+(?:[.,]\d+)?$")


def column(cell: str) -> tuple[str, str | None]:
    """A header cell as (column, unit of its bare numbers or None)."""
    name = " ".join(cell.lower().replace("_", " ").split()).rstrip(":").strip()
    unit = None
    found = _UNIT_RE.match(name)
    if found:  # "RAM (GB)", "ram_gb", "disk in GB"
        name, unit = found.group("name"), (found.group("unit") or found.group("bare")).upper()
    return SYNONYMS.get(name, name), unit


def with_unit(cell: str, unit: str | None) -> str:
    """``16`` under ``RAM (GB)`` as ``16 GB``; a cell that says its unit stays as it is."""
    return f"{cell} {unit}" if unit and _NUMBER_RE.match(cell) else cell


def state_of(cell: str) -> str | None:
    """The state an action/status cell says (``to be deleted``: absent), else None."""
    return STATES.get(" ".join(cell.lower().strip(" .!").split()))


def _tsv(lines: list[tuple[int, str]]) -> list[tuple[int, str]] | None:
    if len(lines) < 2 or not all("\t" in text for _, text in lines):
        return None
    rows = [(n, [c.strip() for c in text.strip().split("\t")]) for n, text in lines]
    width = len(rows[0][1])
    if width < 2 or any(len(cells) != width for _, cells in rows):
        return None
    return _markdown(rows)


def _csv(lines: list[tuple[int, str]], known: Callable[[str], bool]
         ) -> list[tuple[int, str]] | None:
    """Comma- or semicolon-separated lines whose first line names only ``known`` columns."""
    if len(lines) < 2:
        return None
    for sep in (",", ";"):
        if sep not in lines[0][1]:
            continue
        rows = [(n, [c.strip() for c in cells]) for (n, _), cells in zip(
            lines, csv.reader([text for _, text in lines], delimiter=sep), strict=True)]
        width = len(rows[0][1])
        header = [column(cell)[0] for cell in rows[0][1]]
        if width >= 2 and all(len(cells) == width for _, cells in rows) and all(
                known(name) for name in header):
            for k, name in enumerate(header):  # "ci,linux" quoted in a cell: two tags
                if name == "tags":
                    for _, cells in rows[1:]:
                        cells[k] = _tags(cells[k])
            return _markdown(rows)
    return None


def _tags(cell: str) -> str:
    """A tags cell that lists several (``ci,linux``, ``ci; linux``) as ``"ci" and
    "linux"``: each quoted, so no tag reads as another setting (``windows``)."""
    parts = [p.strip() for p in re.split(r"[,;]|\s+", cell) if p.strip()]
    return " and ".join(f'"{p}"' for p in parts) if len(parts) > 1 else cell


def _confluence(lines: list[tuple[int, str]]) -> list[tuple[int, str]] | None:
    if len(lines) < 2 or not lines[0][1].lstrip().startswith("||") or not all(
            text.lstrip().startswith("|") for _, text in lines[1:]):
        return None
    header = lines[0][1].strip().strip("|").split("||")
    rows = [(n, text.strip().strip("|").split("|")) for n, text in lines[1:]]
    return _markdown([(lines[0][0], header), *rows])


def _markdown(rows: list[tuple[int, list[str]]]) -> list[tuple[int, str]]:
    header_line, header = rows[0]
    out = [(header_line, "| " + " | ".join(c.strip() for c in header) + " |"),
           (header_line, "|" + "---|" * len(header))]
    out.extend((n, "| " + " | ".join(c.strip() for c in cells) + " |") for n, cells in rows[1:])
    return out


_KIND_CELLS = frozenset({"vm", "ct", "lxc", "container", "qemu", "virtual machine", "kvm"})
_NAME_CELL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$")


def _self_describing(lines: list[tuple[int, str]]) -> list[tuple[int, str]] | None:
    """Rows without a header whose cells say what they are (``ct,pihole,1 core,512MB``):
    each row has the same separator and width, exactly one kind cell, exactly one name
    cell (lower case, not a number), and every other cell holds a digit. Each row is read
    as ``pihole: ct, 1 core, 512MB.``; any other paragraph gives None."""
    if len(lines) < 2:
        return None
    sep = next((s for s in (";", ",", "\t") if s in lines[0][1]), None)
    if sep is None:
        return None
    out: list[tuple[int, str]] = []
    width = None
    for number, text in lines:
        cells = [c.strip() for c in next(csv.reader([text], delimiter=sep))]
        if len(cells) < 3 or (width is not None and len(cells) != width):
            return None
        width = len(cells)
        kinds = [c for c in cells if c.lower() in _KIND_CELLS]
        names = [c for c in cells if c not in kinds and _NAME_CELL_RE.match(c)
                 and not c.isdigit() and not any(ch.isdigit() for ch in c[:1])]
        rest = [c for c in cells if c not in kinds and c not in names]
        if len(kinds) != 1 or len(names) != 1 or not all(
                any(ch.isdigit() for ch in c) for c in rest):
            return None
        out.append((number, f"{names[0]}: {kinds[0]}, {', '.join(rest)}."))
    return out


def as_markdown(lines: list[tuple[int, str]], known: Callable[[str], bool]
                ) -> list[tuple[int, str]]:
    """A pasted spreadsheet or a wiki-markup table as a Markdown table; any other
    paragraph comes back as it is. ``known``: is a column name (:func:`column`'s) one
    of :mod:`.tables`'?"""
    return (_tsv(lines) or _confluence(lines) or _csv(lines, known) or _self_describing(lines)
            or lines)
