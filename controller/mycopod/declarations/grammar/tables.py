"""Markdown tables of guests: one record per row, read through its header.

A README lists guests as a table::

    | name  | kind | cores | RAM  | disk   | node |
    |-------|------|-------|------|--------|------|
    | web-a | vm   | 2     | 2 GB | 32 GB  | pve1 |

:func:`table_rows` turns each row into the record a person would write for it
(``web-a: vm, 2 cores, 2 GB RAM, 32 GB disk, on node pve1``), on the row's line, and the
record is then read like any other list item. Every header cell must be one of
:data:`COLUMNS` (and ``name`` is required): an unknown header is an error quoting it,
never a column silently ignored. An empty cell says nothing. A kind as the name column's
header (``| VM | cores |``, ``| container | RAM |``) names the guests of that kind, when
no other column says the kind. A ``state`` cell is ``running``, ``stopped`` or
``absent``, anything else is an error quoting it. Headers in people's words (``RAM
(GB)``, ``start at boot``, ``status``) and tables pasted from a spreadsheet or a wiki are
:mod:`.sheets`'. A name that is a word of the grammar (``cache``) is written ``a guest
named cache: ...``. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar import sheets
from mycopod.declarations.grammar.lexicon import is_vocab
from mycopod.declarations.grammar.names import is_subject_name

__all__ = ["COLUMNS", "TableError", "is_table", "key_values", "known_column", "table_rows"]

#: header word -> how a cell's value is written in the record ("{}" is the value)
COLUMNS: dict[str, str] = {
    "name": "{}", "guest": "{}", "hostname": "{}",
    "kind": "{}", "type": "{}",
    "cores": "{} cores", "cpu": "{} cores", "cpus": "{} cores", "vcpu": "{} cores",
    "vcpus": "{} cores",
    "ram": "{} RAM", "memory": "{} RAM", "mem": "{} RAM",
    "disk": "{} disk", "storage": "on storage {}", "node": "on node {}",
    "bridge": "on bridge {}", "vlan": "VLAN {}", "pool": "in pool {}", "tags": "tagged {}",
    "ip": "IP {}", "id": "ID {}", "vmid": "ID {}",
    "gateway": "gateway {}", "gw": "gateway {}", "state": "{}", "onboot": "onboot {}",
    "autostart": "onboot {}", "address": "IP {}", "swap": "{} swap",
    "template": "cloned from template {}", "action": "{}",
    "description": 'described as "{}"', "notes": "(notes: {})",
}
#: a kind as the header of the name column: every row is a guest of that kind
KIND_HEADERS = {"vm": "vm", "vms": "vm", "container": "container", "containers": "container",
                "ct": "container", "lxc": "container"}
_STATES = frozenset({"running", "stopped", "absent"})
_NAMES = ("name", "guest", "hostname")
_SEPARATOR_RE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")


class TableError(ValueError):
    """A table whose header does not say what its columns are."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _cells(text: str) -> list[str]:
    text = text.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|"):
        text = text[:-1]
    return [cell.strip().strip("`*").strip() for cell in text.split("|")]


def known_column(name: str) -> bool:
    """Is ``name`` (a header as :func:`.sheets.column` reads it) a column of a table?"""
    return name in COLUMNS or name in KIND_HEADERS or name == "host"


def is_table(lines: tuple[tuple[int, str], ...]) -> bool:
    """A paragraph that is a table: a header row, then a separator row of dashes."""
    return (len(lines) >= 2 and lines[0][1].lstrip().startswith("|")
            and bool(_SEPARATOR_RE.match(lines[1][1].strip())))


_KEY_HEADERS = frozenset({"field", "key", "setting", "property", "item", "attribute",
                          "parameter"})
_VALUE_HEADERS = frozenset({"value", "values", "detail", "details", "answer", "entry"})


def key_values(lines: tuple[tuple[int, str], ...]) -> list[tuple[int, str]] | None:
    """A two-column ``| Field | Value |`` table as ``Key: value`` lines (a form, read by
    :mod:`.forms`), or None for any other table."""
    header = [cell.lower() for cell in _cells(lines[0][1])]
    if len(header) != 2 or header[0] not in _KEY_HEADERS or header[1] not in _VALUE_HEADERS:
        return None
    rows = [(number, _cells(text)) for number, text in lines[2:]]
    return [(number, f"{cells[0]}: {cells[1]}") for number, cells in rows
            if len(cells) == 2 and cells[0]]


def table_rows(lines: tuple[tuple[int, str], ...]) -> list[tuple[int, str]]:
    """The record of each row of the table ``lines`` (see the module's docstring)."""
    header_line = lines[0][0]
    columns = [sheets.column(cell) for cell in _cells(lines[0][1])]
    header = [name for name, _ in columns]
    if "host" in header and not any(c in _NAMES or c in KIND_HEADERS for c in header):
        header[header.index("host")] = "name"  # the only column naming the guests
    elif "host" in header:
        header[header.index("host")] = "node"  # beside the guests' names: the Proxmox host
    kinds = [k for k, cell in enumerate(header) if cell in KIND_HEADERS]
    kind = None
    if len(kinds) == 1 and not any(c in _NAMES or c in ("kind", "type") for c in header):
        kind = KIND_HEADERS[header[kinds[0]]]  # "| VM | cores |": the VMs' names
        header[kinds[0]] = "name"
    unknown = [cell for cell in header if cell not in COLUMNS]
    if unknown:
        raise TableError(header_line, "this table has columns MycoPod does not know: "
                         + ", ".join(repr(c) for c in unknown) + "; the header cells can be "
                         + ", ".join(sorted(COLUMNS)) + " (or a usual name of one, like "
                         "'cpu cores', 'disk size', 'start at boot', 'status' or 'RAM (GB)')")
    name_col = next((k for k, cell in enumerate(header) if cell in _NAMES), None)
    if name_col is None:
        raise TableError(header_line, "this table has no 'name' column; add one so each "
                                      "row says which guest it is")
    rows: list[tuple[int, str]] = []
    for number, text in lines[2:]:
        cells = _cells(text)
        if len(cells) != len(header):
            raise TableError(number, f"this row has {len(cells)} cells but the header has "
                                     f"{len(header)}; give every column a cell (it may be "
                                     "empty)")
        bad = [cell for k, cell in enumerate(cells)
               if header[k] == "state" and cell and cell.lower() not in _STATES]
        if bad:
            raise TableError(number, f"the state {bad[0]!r} is not one MycoPod knows; a "
                                     "state cell is running, stopped or absent")
        cells = [_action(cell, number) if header[k] == "action" else sheets.with_unit(
            cell, columns[k][1]) for k, cell in enumerate(cells)]
        if any('"' in cell for k, cell in enumerate(cells) if header[k] == "description"):
            raise TableError(number, "a description cell cannot hold a double quote (\");"
                                     " write it with single quotes")
        parts = ([kind] if kind else []) + [COLUMNS[header[k]].format(cell)
                                            for k, cell in enumerate(cells)
                                            if cell and k != name_col and header[k] != "notes"]
        notes = [cell for k, cell in enumerate(cells) if cell and header[k] == "notes"]
        if notes:  # an aside after the record: .context drops it when it says nothing
            parts[-1:] = [f"{parts[-1]} (notes: {', '.join(notes)})"] if parts else []
        name = cells[name_col]
        if is_vocab(name.lower()) or not is_subject_name(name):
            name = f"a guest named {name}"  # "cache", "dhcp": a word of the grammar
        rows.append((number, f"{name}: " + ", ".join(parts)))
    return rows


def _action(cell: str, line: int) -> str:
    """An action/status cell as the state it asks for ("" when it asks for none)."""
    state = sheets.state_of(cell)
    if state is not None:
        return state
    if not cell or " ".join(cell.lower().split()) in sheets.KEEP:
        return ""
    raise TableError(line, f"the action {cell!r} is not one MycoPod knows; an action or "
                           "status cell is one of " + ", ".join(sorted(
                               {*sheets.STATES, *sheets.KEEP} - {"-"})))
