"""A guest written as a block of YAML-style ``key: value`` lines.

People who write configuration write a guest the way a YAML file would::

    name: mail-relay
    kind: vm
    cores: 1
    memory: 2 GB
    onboot: true

:func:`as_sentences` reads a paragraph or a list item of two lines or more whose every
line is a lower-case key (letters, digits, ``_``), ``:`` and a value, one of them
``name`` (one guest per block). Each other line becomes a sentence about that guest on
its own line (``mail-relay: cores: 1.``), which the grammar reads as usual
(:mod:`.keyed`, :mod:`.proxkeys`): a value it cannot read is an error on its line. The
keys are the spec's field names and Proxmox's option names (:data:`KEYS`); a key that is
neither is an error that lists the known keys, never dropped. A block without ``name`` is
left as it is. Pure.
"""

from __future__ import annotations

import re

from mycopod.declarations.grammar.markdown import Block

__all__ = ["KEYS", "as_sentences"]

#: the keys a block may use: the spec's fields and Proxmox's options, as people write them
KEYS = frozenset({
    "kind", "type", "cores", "cpus", "vcpus", "cpu", "sockets", "memory", "ram", "mem",
    "disk", "disks", "storage", "node", "vmid", "id", "pool", "tags", "tag", "state",
    "status", "onboot", "autostart", "bios", "machine", "ostype", "network", "net0", "nic",
    "bridge", "vlan", "ip", "gw", "gateway", "template", "clone", "description",
    "firewall", "protection", "numa", "agent", "nesting", "swap", "unprivileged"})
_LINE_RE = re.compile(r"^\s*([a-z][a-z0-9_]{0,30})\s*:\s+(\S.*?)\s*$")
_NAME_RE = re.compile(r"^[\"']?([a-z0-9][a-z0-9\-]{0,62})[\"']?$")


def _read(block: Block, problems: list[tuple[int, str]]) -> Block | None:
    pairs = [(n, _LINE_RE.match(text)) for n, text in block.lines]
    if len(pairs) < 2 or any(m is None for _, m in pairs):
        return None
    fields = [(n, m.group(1), m.group(2)) for n, m in pairs if m is not None]
    names = [(n, v) for n, k, v in fields if k in ("name", "hostname")]
    if len(names) != 1 or not (found := _NAME_RE.match(names[0][1])):
        return None
    name = found.group(1)
    lines: list[tuple[int, str]] = []
    for number, key, value in fields:
        if key in ("name", "hostname"):
            continue
        if key not in KEYS:
            problems.append((number, (
                f"'{key}' is not a setting the grammar knows in \"{key}: {value}\"; known "
                f"keys: name, {', '.join(sorted(KEYS))}")))
            continue
        if key in ("kind", "type"):
            lines.append((number, f"{name}: {value.rstrip('.')}."))
        else:
            lines.append((number, f"{name}: {key}: {value.rstrip('.')}."))
    return Block(block.kind, tuple(lines), block.task)


def as_sentences(blocks: list[Block], problems: list[tuple[int, str]]) -> list[Block]:
    """``blocks`` with each YAML-style block read as sentences about its guest; an
    unknown key is added to ``problems`` with its line."""
    out: list[Block] = []
    for block in blocks:
        read = _read(block, problems) if block.kind != "heading" and any(
            ": " in text for _, text in block.lines[:1]) else None
        if read is None:
            out.append(block)
        elif read.lines:  # else every key was unknown, and each is a problem
            out.append(read)
    return out
