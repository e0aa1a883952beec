"""Phrases for a VM's CD-ROM drives, boot order and passthrough devices.

``the ISO debian-12.iso as a CD-ROM``, ``an empty CD-ROM drive``, ``a CD-ROM with the ISO
local:iso/x.iso as ide2``, ``boot from scsi0, then the CD-ROM, then the network``,
``boot order scsi0, ide2 and net0``, ``PCI passthrough of the mapping gpu0``, ``PCIe
passthrough of the mapping gpu0 as hostpci1``, ``USB passthrough of the mapping dongle``.

An ISO named without its storage (``debian-12.iso``) is on ``local``, the storage every
Proxmox node has for ISO images; write ``nas:iso/debian-12.iso`` for another one.
Passthrough is only through cluster resource mappings: the mapping is the admin's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mycopod.declarations.grammar.assemble import BOOT_CDROM, BOOT_DISK, BOOT_NET
from mycopod.declarations.grammar.drafts import Effect
from mycopod.declarations.grammar.toggles import value_text
from mycopod.declarations.grammar.tokens import Cursor, SentenceError

#: the storage of an ISO written without one
ISO_STORAGE = "local"
_CDROM = ("cd-rom", "cdrom", "cd", "dvd", "cd-rom-drive", "optical")
_CDROM_SLOT_RE = re.compile(r"^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30))$")


def iso_volume(text: str, line: int) -> str:
    if ":" in text:
        return text
    if not re.match(r"^[A-Za-z0-9_.\-+]+\.(iso|img)$", text):
        raise SentenceError(line, f"{text!r} is not an ISO file name like debian-12.iso "
                                  "(or a volume like local:iso/debian-12.iso)")
    return f"{ISO_STORAGE}:iso/{text}"


def _cdrom_noun(c: Cursor) -> bool:
    if c.opt(*_CDROM):
        c.opt("drive", "drives", "rom")
        return True
    return False


def _cdrom_slot(c: Cursor) -> str | None:
    if c.w() in ("as", "in", "on", "at") and _CDROM_SLOT_RE.match(c.w(1)):
        c.i += 2
        return c.toks[c.i - 1].low
    return None


def _cdrom_effect(iso: str | None, slot: str | None, line: int) -> list[Effect]:
    values: dict[str, Any] = {"iso": iso}
    if slot is not None:
        values["slot"] = slot
    return [lambda d: d.add_device("cdroms", values, line)]


def p_cdrom(c: Cursor) -> list[Effect] | None:
    line = c.line
    start = c.i
    c.opt("attach", "insert", "mount")
    c.opt("the", "an", "a")
    if c.take("iso", "image|file") or c.opt("iso"):
        iso = iso_volume(value_text(c, "an ISO file like debian-12.iso"), line)
        slot = _cdrom_slot(c)
        if not (c.take("as|in", "a|an|the") or c.opt("as", "in")) or not _cdrom_noun(c):
            c.i = start
            return None
        return _cdrom_effect(iso, slot or _cdrom_slot(c), line)
    empty = c.opt("empty") is not None
    if not _cdrom_noun(c):
        c.i = start
        return None
    iso: str | None = None  # type: ignore[no-redef]
    slot = _cdrom_slot(c)
    if not empty and (c.take("with", "the", "iso") or c.take("with", "iso")):
        c.opt("image", "file")
        iso = iso_volume(value_text(c, "an ISO file like debian-12.iso"), line)
        slot = slot or _cdrom_slot(c)
    elif not empty:
        c.i = start
        return None
    return _cdrom_effect(iso, slot, line)


_BOOT_WORDS = {**{w: BOOT_CDROM for w in _CDROM}, "network": BOOT_NET, "net": BOOT_NET,
               "nic": BOOT_NET, "pxe": BOOT_NET, "disk": BOOT_DISK, "hard": BOOT_DISK}
_BOOT_SLOT_RE = re.compile(r"^(scsi|virtio|sata|ide|net|hostpci)\d+$")


def _boot_item(c: Cursor) -> str | None:
    save = c.i
    c.opt("the")
    w = c.w()
    if _BOOT_SLOT_RE.match(w):
        c.i += 1
        return w
    if w in _BOOT_WORDS:
        c.i += 1
        c.opt("drive", "disk", "card")
        return _BOOT_WORDS[w]
    c.i = save
    return None


def p_boot(c: Cursor) -> list[Effect] | None:
    """``boot from scsi0, then the CD-ROM, then the network``, ``boot order: scsi0, net0``,
    ``no boot devices``."""
    line = c.line
    start = c.i
    if c.take("no", "boot", "devices|device|order"):
        return [lambda d: d.set("boot", [], line)]
    if not (c.take("boot|boots|booting", "from") or c.take("boot", "order") or c.take(
            "boot", "devices")):
        return None
    c.opt(":", "of", "is")
    items: list[str] = []
    while True:
        item = _boot_item(c)
        if item is None:
            break
        items.append(item)
        save = c.i
        sep = c.list_separator()
        then = c.opt("then") is not None
        if not (sep or then) or _boot_item(Cursor(c.toks, c.i)) is None:
            c.i = save
            break
    if not items:
        c.i = start
        return None  # "boot from the ISO ...": the source phrase reads it
    return [lambda d: d.set("boot", items, line)]


def p_passthrough(c: Cursor) -> list[Effect] | None:
    """``[plain] PCI|PCIe|USB passthrough of the mapping NAME [as hostpciN|usbN]``."""
    line = c.line
    start = c.i
    plain = c.opt("plain", "conventional") is not None
    bus = c.opt("pci", "pcie", "usb")
    if bus is None or not c.opt("passthrough", "pass-through"):
        c.i = start
        return None
    if plain and bus != "pci":
        c.i = start
        return None
    c.opt("of", "for", "from")
    c.opt("the")
    if not c.opt("mapping", "mapped"):
        raise SentenceError(line, "passthrough is declared through a cluster resource "
                                  "mapping: write e.g. 'PCI passthrough of the mapping gpu0' "
                                  "(an admin creates the mapping in Datacenter > Resource "
                                  "Mappings)")
    c.opt("device", "named", ":")
    values: dict[str, Any] = {"mapping": value_text(c, "a resource mapping name")}
    if bus == "pcie":
        values["pcie"] = True
    elif plain:
        values["pcie"] = False
    if c.w() in ("as", "in", "on", "at") and re.match(r"^(hostpci|usb)\d+$", c.w(1)):
        values["slot"] = c.w(1)
        c.i += 2
    group = "usb_devices" if bus == "usb" else "pci_devices"
    return [lambda d: d.add_device(group, values, line)]


PHRASES: tuple[Callable[[Cursor], Any], ...] = (p_cdrom, p_boot, p_passthrough)
