"""The phrase for a VM's cloud-init drive. Pure.

``a cloud-init drive``, ``a cloud-init drive on local-lvm as ide0`` (the form ``render``
writes), ``its cloud-init drive is on tank``, ``the cloudinit disk as sata1 on
"my store"``: the slot and the storage in either order, each optional (what is not
said is not managed: the drive stays where it is). A storage named like a slot is
quoted (``on "ide0"``). It is its own module so the other phrase tables stay as they
were; :mod:`.phrases` lists its PHRASES.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mycopod.declarations.grammar.drafts import Effect
from mycopod.declarations.grammar.hardware import _storage_name
from mycopod.declarations.grammar.tokens import Cursor

_SLOT_RE = re.compile(r"^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30))$")


def _part(key: str, value: str, line: int) -> Effect:
    return lambda d: d.set_part("cloudinit_drive", key, value, line)


def p_cloudinit_drive(c: Cursor) -> list[Effect] | None:
    line = c.line
    start = c.i
    c.opt("a", "an", "the")
    if not (c.opt("cloud-init", "cloudinit") and c.opt("drive", "disk", "cd-rom", "cdrom")):
        c.i = start
        return None
    effects: list[Effect] = [lambda d: d.set_part("cloudinit_drive", None, None, line)]
    c.opt("is")
    said: set[str] = set()
    for _ in range(2):
        save = c.i
        after = c.tok(1)
        if "slot" not in said and c.w() in ("as", "in", "on", "at") and after is not None \
                and not after.quoted and _SLOT_RE.match(after.low):
            c.i += 2
            effects.append(_part("slot", c.toks[c.i - 1].low, line))
            said.add("slot")
            continue
        if "storage" not in said and c.opt("on", "in"):
            c.opt("the")
            forced = c.opt("storage", "datastore") is not None
            storage = _storage_name(c, forced=forced)
            if storage is not None:
                effects.append(_part("storage", storage, line))
                said.add("storage")
                continue
        c.i = save
        break
    return effects


PHRASES: tuple[Callable[[Cursor], Any], ...] = (p_cloudinit_drive,)
