"""A request form: a paragraph of ``Key: value`` lines that describes one guest.

People fill in forms::

    REQUEST FORM
    Request type: New virtual machine
    Name of machine: ward7-dash
    CPU: 2 cores
    Memory: 4 GB
    Requested by: Nurse manager, Ward 7

:func:`as_sentences` reads a paragraph of two lines or more whose every line is such a
``Key: value`` line (or a form title first: ``REQUEST FORM``, ``CR-0142``) and whose every
key is one of these lists; any other key leaves the paragraph as it is:

- :data:`NAME_KEYS` (``Name``, ``Name of machine``, ``System name`` ...): the guest;
- :data:`TYPE_KEYS` (``Request type``, ``Type``): a kind (``New virtual machine``,
  ``container``);
- :data:`SETTING_KEYS` (``CPU``, ``Cores``, ``Memory``, ``RAM``, ``Disk``, ``Network``,
  ``Node``, ``VLAN`` ...): a phrase about the guest (a bare number gets the key's noun:
  ``CPU: 2`` is ``2 cores``);
- :data:`SENTENCE_KEYS` (``Request``, ``Requested change``, ``Action``, ``Description``,
  ``Item 1`` ...): a sentence of its own, also alone on one line (``Proposed change:
  power off VM x.``);
- the fields of a one-line form are read the same way: ``CHG-1 | Summary: ... | Risk:
  low``, ``Change request: delete VM x. Justification: ... Risk: low.``;
- a yes/no question (``Patient-facing? No.``) and a title line first (``REQUEST FORM``,
  ``CR-0142``): metadata;
- after the guest's name, a line of prose (``Please give it 2 cores.``): a sentence;
- :data:`METADATA_KEYS` (``Requested by``, ``Urgency``, ``Ward``, ``Requester``, ``Form``,
  ``Approver`` ...): who asked and how urgent: nothing about a guest, so the line is
  dropped and reported as ``ignored as form metadata: 'Urgency: routine'``.

Each line becomes one sentence on its own line (``ward7-dash: 2 cores.``), which the
grammar then reads as usual: a value it cannot read is an error on its line. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.markdown import Block

__all__ = ["METADATA_KEYS", "NAME_KEYS", "SENTENCE_KEYS", "SETTING_KEYS", "TYPE_KEYS",
           "as_sentences", "in_form", "is_title"]

_LINE_RE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 ./&\-]*?)\s*[:=]\s*(.*?)\s*$")
#: a form's title line: a ticket number, or a line naming a form or a request ...
_TITLE_RE = re.compile(r"^\s*#?\s*[A-Z]{2,6}[- ]?\d+[A-Z]?\s*$|\b(?:form|request|ticket)\b",
                       re.IGNORECASE)
#: ... that names no guest (a lower-case word with a hyphen)
_GUESTISH_RE = re.compile(r"\b[a-z][a-z0-9]*-[a-z0-9-]+\b|:")
#: a yes/no question of the form ("Patient-facing? No."): metadata
_QUESTION_RE = re.compile(r"^\s*[A-Za-z][A-Za-z0-9 \-]*\?\s*(?:yes|no|n/a|none)\.?\s*$",
                          re.IGNORECASE)
NAME_KEYS = frozenset({"name", "name of machine", "name of the machine", "machine name",
                       "system name", "server name", "vm name", "container name",
                       "guest name", "hostname", "host name", "name of server",
                       "name of vm"})
TYPE_KEYS = frozenset({"request type", "type", "kind", "machine type", "guest type",
                       "system type", "type of machine"})
#: key -> how a bare number is written ("{}" is the value); a value with words is kept
SETTING_KEYS: dict[str, str] = {
    **dict.fromkeys(("cpu", "cpus", "cores", "vcpu", "vcpus", "cpu cores", "processors"),
                    "{} cores"),
    **dict.fromkeys(("memory", "ram", "mem"), "{} of RAM"),
    **dict.fromkeys(("disk", "disk size", "storage size", "disk space"), "a {} disk"),
    **dict.fromkeys(("network", "vlan", "bridge", "ip", "ip address", "gateway", "node",
                     "host node", "storage", "pool", "tags", "tag", "boot", "start on boot",
                     "state", "resources", "specs", "specifications", "sizing", "hardware"),
                    "{}"),
}
#: a bare value of these keys gets its keyword ("VLAN: 40" is "VLAN 40")
_KEYWORD = {"vlan": "VLAN {}", "bridge": "on bridge {}", "node": "on node {}",
            "host node": "on node {}", "storage": "on storage {}", "pool": "in pool {}",
            "tags": "tagged {}", "tag": "tagged {}", "ip": "IP {}", "ip address": "IP {}",
            "gateway": "gateway {}"}
SENTENCE_KEYS = frozenset({"request", "requested change", "action", "description",
                           "change", "change details", "details", "requested action",
                           "summary", "change request", "proposed change",
                           "emergency change", "standard change", "normal change"})
_ITEM_RE = re.compile(r"^(item|step|line|request|vm|guest) ?#?\d+$")
METADATA_KEYS = frozenset({
    "requested by", "requester", "requestor", "request by", "submitted by", "urgency",
    "priority", "ward", "department", "dept", "unit", "team", "form", "form id", "date",
    "date needed", "needed by", "approver", "approved by", "cost centre", "cost center",
    "contact", "phone", "email", "e-mail", "extension", "ext", "ticket", "ticket id",
    "reference", "ref", "justification", "reason", "impact", "risk", "location", "site",
    "building", "room", "signature", "signed", "manager", "ward manager", "patient-facing",
    "business owner", "category", "service", "project", "cc", "status of request",
    "backout", "backout plan", "rollback", "rollback plan", "test plan", "change window",
    "maintenance window", "cab", "cab date", "implementer", "assignee",
    # issue trackers, wikis and purchase orders
    "assignees", "milestone", "labels", "reviewer", "reviewers", "sprint", "estimate",
    "due", "due date", "deadline", "page", "owner", "owners", "author", "reporter",
    "watchers", "component", "components", "fix version", "version", "severity",
    "po", "po number", "invoice", "vendor", "supplier", "budget", "cost", "price",
    "quantity approved", "approval", "approved", "space", "last updated", "updated"})
_KINDS = {"virtual machine": "VM", "vm": "VM", "virtual server": "VM", "qemu vm": "VM",
          "kvm vm": "VM", "container": "container", "lxc container": "container",
          "lxc": "container", "ct": "container"}
_NUMBER_RE = re.compile(r"^\d+(\.\d+)?$")
#: a size first, then the rest ("40 GB on tank"): (size, its unit, the rest)
_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?\s*(mb|mib|gb|gib|g|m|tb|tib|t|gigs?|megs?)?)\b(.*)$",
                      re.IGNORECASE)


def _phrase(key: str, value: str) -> str:
    """A setting line's value as a phrase: ``CPU: 2`` is ``2 cores``, ``Memory: 4 GB`` is
    ``4 GB of RAM``, ``Disk: 40 GB on tank`` is ``a 40 GB disk on tank``, ``VLAN: 40`` is
    ``VLAN 40``; a value that says what it is (``2 cores``, ``VLAN 40``) is kept."""
    size = _SIZE_RE.match(value)
    template = SETTING_KEYS[key]
    if size is not None and template != "{}":
        amount, unit, rest = size.group(1).strip(), size.group(2), size.group(3)
        if template == "{} cores":
            return f"{amount} cores" if not unit and not rest.strip() else value
        if not rest.strip() or (template != "{} of RAM" and rest.startswith(" on ")):
            return template.format(amount) + rest
    if key in _KEYWORD and " " not in value:
        return _KEYWORD[key].format(value)
    return value


def _kind(value: str) -> str | None:
    words = [w for w in value.lower().rstrip(".").split()
             if w not in ("new", "a", "an", "request", "creation", "create")]
    return _KINDS.get(" ".join(words))


#: a field of a one-line form: after " | ", or after a sentence's end before "Key: "
_FIELD_SPLIT_RE = re.compile(r"\s+\|\s+|(?<=\.)\s+(?=[A-Z][A-Za-z ]{0,30}:\s)")


def _fields(block: Block) -> list[tuple[int, str]]:
    """The block's lines, each cut into its fields (``CHG-1 | Summary: ... | Risk: low``,
    ``Change request: Delete x. Risk: low.``), every field on its line."""
    if any(text.lstrip().startswith("|") for _, text in block.lines):
        return list(block.lines)  # a Markdown table
    return [(line, field.strip()) for line, text in block.lines
            for field in _FIELD_SPLIT_RE.split(text) if field.strip()]


def is_title(line: str) -> bool:
    """Is ``line`` a form's title (``Ticket #4410``, ``CR-0142``, ``REQUEST FORM``), which
    names no guest and is no ``Key: value`` line?"""
    return _LINE_RE.match(line) is None and _TITLE_RE.search(line) is not None and not (
        _GUESTISH_RE.search(line))


def in_form(lines: list[str], k: int) -> bool:
    """Is line ``k`` a ``Key: value`` line of :data:`SENTENCE_KEYS` in a paragraph that
    opens with a form's title? Then the form reader takes it (``Description: stop the VM
    x.`` under ``Ticket #4410``), not the card and page readers."""
    match = _LINE_RE.match(lines[k])
    if match is None or " ".join(match.group(1).lower().split()) not in SENTENCE_KEYS:
        return False
    first = k
    while first and lines[first - 1].strip():
        first -= 1
    return first < k and is_title(lines[first])


def _read(block: Block) -> tuple[list[tuple[int, str]], list[tuple[int, str]]] | None:
    """(sentences, metadata lines) of a form paragraph, or None when it is not one."""
    lines = _fields(block)
    metadata: list[tuple[int, str]] = []
    if lines and is_title(lines[0][1]):
        metadata.append(lines.pop(0))
    name: str | None = None
    kind: str | None = None
    said: list[tuple[int, str, str]] = []  # (line, key, value)
    for line, text in lines:
        if _QUESTION_RE.match(text):
            metadata.append((line, text))
            continue
        match = _LINE_RE.match(text)
        if match is None and name is not None:  # prose about it after the form's lines
            said.append((line, "", text.rstrip(".")))
            continue
        if match is None:
            return None
        key = " ".join(match.group(1).lower().split())
        value = match.group(2).strip()
        if key in METADATA_KEYS:
            metadata.append((line, text))
        elif key in NAME_KEYS and name is None and value:
            name = value.rstrip(".")
        elif (key in TYPE_KEYS or key in SENTENCE_KEYS) and kind is None and _kind(value):
            kind = _kind(value)
        elif (key in SETTING_KEYS or key in SENTENCE_KEYS or _ITEM_RE.match(key)) and value:
            said.append((line, key, value.rstrip(".")))
        else:
            return None
    if (len(lines) + len(metadata) < 2 and not (said and said[0][1] in SENTENCE_KEYS)) or (
            not said and (kind is None or name is None)) or (
            name is None and any(k in SETTING_KEYS for _, k, _ in said)):
        return None
    out: list[tuple[int, str]] = []
    if name is not None:
        out.append((block.line, f"{name} is a {kind}." if kind else f"{name}."))
    elif kind is not None:
        return None  # "Request type: New VM" and no name: whose kind?
    for line, key, value in said:
        if key in SETTING_KEYS:
            out.append((line, f"{name}: {_phrase(key, value)}."))
        else:
            out.append((line, f"{value}."))
    return out, metadata


def as_sentences(blocks: list[Block], ignored: list[tuple[int, str]]) -> list[Block]:
    """``blocks`` with each form paragraph as sentences; its metadata lines are reported
    in ``ignored``."""
    out: list[Block] = []
    for block in blocks:
        read = _read(block) if block.kind == "paragraph" else None
        if read is None:
            out.append(block)
            continue
        sentences, metadata = read
        ignored.extend((line, f"ignored as form metadata: {text!r}") for line, text in metadata)
        by_line: dict[int, str] = {}
        for line, text in sentences:  # the name's sentence may share the first line
            by_line[line] = f"{by_line[line]} {text}" if line in by_line else text
        out.append(Block("paragraph", tuple(  # one line each, so errors name their line
            (line, by_line.get(line, "")) for line in range(block.line, block.lines[-1][0] + 1))))
    return out
