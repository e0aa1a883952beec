"""A list of ``key: value`` items that describes one guest, like a form.

People write a guest as a record::

    - name: pg-3
    - type: VM
    - cpu: 4
    - ram: 16 GB
    - disk: 200 GB on ceph

:func:`as_sentences` turns such a list (every item a key of :data:`KEYS` and a value,
one of them ``name``) into one sentence per item about that guest, each on its item's
line (``pg-3: VM.``, ``pg-3: 4 cores.``, ``pg-3: 16 GB of RAM.``), which the grammar
then reads as usual: a value it cannot read is an error on its line. A list with an
unknown key, or without a ``name``, is left as it is. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.markdown import Block

__all__ = ["KEYS", "as_sentences"]

_ITEM_RE = re.compile(r"^\s*([A-Za-z][A-Za-z \-]*?)\s*[:=]\s*(.+?)\s*\.?\s*$")
#: key -> how its value is written as a phrase ("{}" is the value)
KEYS: dict[str, str] = {
    **dict.fromkeys(("name", "hostname", "guest"), ""),
    **dict.fromkeys(("type", "kind"), "{}"),
    **dict.fromkeys(("cpu", "cpus", "cores", "vcpu", "vcpus"), "{} cores"),
    **dict.fromkeys(("ram", "memory", "mem"), "{} of RAM"),
    **dict.fromkeys(("disk", "disks", "storage size", "disk size"), "disk {}"),
    **dict.fromkeys(("node", "host"), "on node {}"),
    **dict.fromkeys(("vlan",), "on VLAN {}"),
    **dict.fromkeys(("bridge",), "on bridge {}"),
    **dict.fromkeys(("ip", "ip address", "address"), "IP {}"),
    **dict.fromkeys(("gateway", "gw"), "gateway {}"),
    **dict.fromkeys(("tags", "tag", "labels"), "tagged {}"),
    **dict.fromkeys(("pool",), "in pool {}"),
    **dict.fromkeys(("id", "vmid", "ctid"), "ID {}"),
    **dict.fromkeys(("state", "status", "power"), "{}"),
    **dict.fromkeys(("description", "notes"), "described as {}"),
    **dict.fromkeys(("storage",), "on storage {}"),
    **dict.fromkeys(("template", "clone of", "clone"), "cloned from {}"),
}


def _pairs(items: list[Block]) -> list[tuple[int, str, str]] | None:
    out: list[tuple[int, str, str]] = []
    for item in items:
        if len(item.lines) != 1:
            return None
        line, text = item.lines[0]
        match = _ITEM_RE.match(text)
        if match is None:
            return None
        key = " ".join(match.group(1).lower().split())
        if key not in KEYS:
            return None
        out.append((line, key, match.group(2)))
    return out


def as_sentences(blocks: list[Block]) -> list[Block]:
    """``blocks`` with each record list as one paragraph of sentences about its guest."""
    out: list[Block] = []
    k = 0
    while k < len(blocks):
        if blocks[k].kind != "item":
            out.append(blocks[k])
            k += 1
            continue
        end = k
        while end < len(blocks) and blocks[end].kind == "item":
            end += 1
        items = blocks[k:end]
        pairs = _pairs(items) if len(items) >= 2 else None
        names = [value for _, key, value in pairs or () if KEYS[key] == ""]
        if pairs is None or len(names) != 1:
            out.extend(items)
        else:
            lines = tuple((line, f"{names[0]}: {KEYS[key].format(value)}.")
                          for line, key, value in pairs if KEYS[key])
            out.append(Block("paragraph", ((pairs[0][0], f"{names[0]}."), *lines)))
        k = end
    return out
