"""Phrases for a VM's processor, memory extras, firmware and machine.

``2 sockets of 4 cores``, ``4 cores of type host``, ``6 active vCPUs``, ``the aes CPU
flag``, ``NUMA``, ``a CPU limit of 2``, ``CPU weight 200``, ``ballooning down to 8 GB``,
``512 MB of swap``, ``a Windows 11 VM``, ``OS type l26``, ``UEFI``, ``an EFI disk on
tank``, ``a TPM``, ``the q35 machine``, ``SCSI controller virtio-scsi-single``,
``display type qxl``, ``a serial console``, ``no tablet``, ``hot-plug for disk and
network``. Each states exactly the settings it names; :mod:`mycopod.spec` validates the
values and says what would be valid.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from mycopod.declarations.grammar.drafts import Effect
from mycopod.declarations.grammar.hardware import _storage_name
from mycopod.declarations.grammar.quantities import read_number, read_size, round_half_up
from mycopod.declarations.grammar.toggles import (
    read_int,
    switch,
    value_text,
)
from mycopod.declarations.grammar.tokens import Cursor, SentenceError
from mycopod.spec import limits as L


def _set(key: str, value: Any, line: int) -> list[Effect]:
    return [lambda d: d.set(key, value, line)]


def p_sockets(c: Cursor) -> list[Effect] | None:
    """``2 sockets [of 4 cores] [of type host]``, ``sockets: 2``."""
    line = c.line
    start = c.i
    n = read_int(c, "the number of sockets")
    if n is None:
        if not c.opt("sockets", "socket"):
            return None
        n = read_int(c, "the number of sockets")
        if n is None:
            c.i = start
            return None
    elif not (c.opt("sockets", "socket") or c.take("cpu", "sockets|socket")):
        c.i = start
        return None
    effects = _set("sockets", n, line)
    if c.w() in ("of", "with") and c.w(2) in ("cores", "core"):
        save = c.i
        c.i += 1
        cores = read_int(c, "the number of cores")
        if cores is None:
            c.i = save
        else:
            c.i += 1
            effects += _set("cores", cores, line)
            if c.w() == "each":
                c.i += 1
    return effects


def p_cpu_type(c: Cursor) -> list[Effect] | None:
    """``CPU type host``, ``of type host`` (after cores), ``a host CPU`` is not read."""
    line = c.line
    start = c.i
    if c.take("cpu", "type|model") or c.take("of", "type") or c.take("of", "cpu", "type"):
        c.opt("of", ":", "is")
        value = value_text(c, "a CPU type like host or x86-64-v2-AES")
        return _set("cpu_type", value, line)
    c.i = start
    return None


_FLAG_RE = re.compile(r"^[+-][a-z0-9_\-.]+$")


def p_cpu_flags(c: Cursor) -> list[Effect] | None:
    """``CPU flags +aes and -pcid``, ``the aes CPU flag``, ``without the pcid CPU flag``."""
    start = c.i
    if c.take("cpu", "flags|flag"):
        c.opt(":")
        flags: list[str] = []
        while c.tok() is not None and _FLAG_RE.match(c.w()) and not c.toks[c.i].quoted:
            flags.append(c.w())
            c.i += 1
            save = c.i
            if not c.list_separator() or not _FLAG_RE.match(c.w()):
                c.i = save
                break
        if not flags:
            raise SentenceError(c.line, "write CPU flags with a sign, like 'CPU flags +aes "
                                        "and -pcid'")
        return [lambda d: d.extend("cpu_flags", flags)]
    sign = "-" if c.opt("without", "no") else "+"
    c.opt("the")
    t = c.tok()
    if t is not None and not t.quoted and re.match(r"^[a-z0-9_\-.]+$", t.low) and \
            c.take(t.low, "cpu", "flag"):
        flag = sign + t.low
        return [lambda d: d.extend("cpu_flags", [flag])]
    c.i = start
    return None


def p_vcpus(c: Cursor) -> list[Effect] | None:
    """``6 active vCPUs`` (the hot-plugged part of sockets × cores)."""
    line = c.line
    start = c.i
    n = read_int(c, "the number of active vCPUs")
    if n is not None and c.opt("active", "hot-plugged", "plugged") and c.opt(
            "vcpus", "vcpu", "cpus", "cpu"):
        return _set("vcpus", n, line)
    c.i = start
    return None


def p_numa(c: Cursor) -> list[Effect] | None:
    line = c.line
    value = switch(c, [("numa",)])
    return None if value is None else _set("numa", value, line)


def p_cpulimit(c: Cursor) -> list[Effect] | None:
    """``a CPU limit of 1.5`` (containers), ``no CPU limit`` (0)."""
    line = c.line
    start = c.i
    if c.take("no", "cpu", "limit"):
        return _set("cpulimit", 0.0, line)
    if not (c.take("cpu", "limit") or c.opt("cpulimit")):
        return None
    c.opt("of", ":")
    num = read_number(c)
    if num is None or num[1] is not None:
        c.i = start
        return None
    return _set("cpulimit", float(num[0]), line)


def p_cpuunits(c: Cursor) -> list[Effect] | None:
    """``CPU weight 200``, ``200 CPU units``."""
    line = c.line
    start = c.i
    if c.take("cpu", "weight|units") or c.opt("cpuunits"):
        c.opt("of", ":")
        n = read_int(c, "the CPU weight")
    else:
        n = read_int(c, "the CPU weight")
        if n is None or not (c.take("cpu", "units") or c.opt("cpuunits")):
            c.i = start
            return None
    if n is None:
        c.i = start
        return None
    return _set("cpuunits", n, line)


def p_balloon(c: Cursor) -> list[Effect] | None:
    """``ballooning down to 8 GB``, ``a balloon minimum of 8 GB``, ``no ballooning``."""
    line = c.line
    start = c.i
    if c.take("no|without", "ballooning|balloon") or c.take("ballooning", "disabled|off"):
        c.opt("device")
        return _set("balloon_mib", 0, line)
    if c.take("ballooning", "down", "to") or c.take("balloon", "minimum", "of") or c.take(
            "balloon", "minimum|target") or c.take("ballooning", "to"):
        size = read_size(c)
        if size is None:
            raise SentenceError(line, "expected a memory size after 'ballooning down to', "
                                      "like 8 GB")
        mib = round_half_up(size[0])
        return _set("balloon_mib", mib, line)
    c.i = start
    return None


def p_swap(c: Cursor) -> list[Effect] | None:
    """``512 MB of swap``, ``swap of 1 GB``, ``no swap``."""
    line = c.line
    start = c.i
    if c.take("no|without", "swap"):
        return _set("swap_mib", 0, line)
    size = read_size(c)
    if size is not None:
        c.opt("of")
        if not c.opt("swap"):
            c.i = start
            return None
    else:
        if not c.opt("swap"):
            return None
        c.opt("of", "size", ":")
        size = read_size(c)
        if size is None:
            c.i = start
            return None
    return _set("swap_mib", round_half_up(size[0]), line)


#: "Windows NN" and friends -> Proxmox ostype
_WINDOWS = {"11": "win11", "10": "win10", "8": "win8", "8.1": "win8", "7": "win7",
            "vista": "wvista", "xp": "wxp", "2000": "w2k", "2003": "w2k3", "2008": "w2k8",
            "2012": "win8", "2016": "win10", "2019": "win10", "2022": "win11",
            "2025": "win11"}


def p_ostype(c: Cursor) -> list[Effect] | None:
    """``a Windows 11 VM`` (win11), ``Windows Server 2022``, ``OS type l26``."""
    line = c.line
    start = c.i
    if c.opt("windows"):
        c.opt("server")
        version = c.w()
        if version not in _WINDOWS:
            raise SentenceError(line, f"Windows {version} is not a "
                                      "version Proxmox knows; write e.g. 'Windows 11' or "
                                      "'OS type win10'")
        c.i += 1
        return _set("ostype", _WINDOWS[version], line)
    if c.take("os|guest", "type") or c.opt("ostype"):
        c.opt("of", ":", "is")
        return _set("ostype", value_text(c, "an OS type like l26 or win11").lower(), line)
    c.i = start
    return None


def p_firmware(c: Cursor) -> list[Effect] | None:
    """``UEFI`` (OVMF), ``SeaBIOS``, ``legacy BIOS``.

    ``UEFI`` states the firmware only: the EFI disk OVMF keeps its variables on is the
    firmware's creation default (proxmox.devices adds it) unless an EFI disk is stated.
    ``UEFI without an EFI disk`` is refused: MycoPod always gives OVMF one (without it
    Proxmox boots from a temporary copy and forgets every change at the next start)."""
    line = c.line
    start = c.i
    if c.opt("uefi", "ovmf"):
        c.opt("firmware", "bios", "boot")
        save = c.i
        if c.opt("without", "no") and (c.opt("an", "a") or True) and c.take("efi", "disk"):
            raise SentenceError(
                line, "'UEFI without an EFI disk' cannot be declared: MycoPod gives every UEFI "
                "VM an EFI disk, where OVMF keeps its settings (without one Proxmox uses a "
                "temporary copy and forgets them at every start); write 'UEFI' alone")
        c.i = save
        return _set("bios", "ovmf", line)
    if c.opt("seabios") or c.take("legacy", "bios"):
        c.opt("firmware")
        return _set("bios", "seabios", line)
    if c.take("bios|firmware", "seabios|ovmf"):
        value = c.toks[c.i - 1].low
        return _set("bios", value, line)
    c.i = start
    return None


def _storage_after_on(c: Cursor) -> str | None:
    save = c.i
    if c.opt("on", "in"):
        c.opt("the")
        forced = c.opt("storage", "datastore") is not None
        name = _storage_name(c, forced=forced)
        if name is not None:
            return name
    c.i = save
    return None


def p_efidisk(c: Cursor) -> list[Effect] | None:
    """``a [4 MB] EFI disk [on tank] [with|without pre-enrolled keys]``."""
    line = c.line
    start = c.i
    efitype: str | None = None
    size = read_size(c)
    if size is not None:
        efitype = {Decimal(2): "2m", Decimal(4): "4m"}.get(size[0])
        if efitype is None:
            c.i = start
            return None
    if not c.take("efi", "disk|vars"):
        c.i = start
        return None
    items: list[tuple[str, Any]] = []
    if efitype is not None:
        items.append(("efitype", efitype))
    for _ in range(2):
        storage = _storage_after_on(c)
        if storage is not None:
            items.append(("storage", storage))
            continue
        save = c.i
        keys: bool | None = None
        if c.take("with|and", "pre-enrolled|enrolled", "keys"):
            keys = True
        elif c.take("without", "pre-enrolled|enrolled", "keys"):
            keys = False
        if keys is None:
            c.i = save
            break
        items.append(("pre_enrolled_keys", keys))
    effects: list[Effect] = [lambda d: d.set_part("efidisk", None, None, line)]
    for key, value in items:
        effects.append(_part("efidisk", key, value, line))
    return effects


def _part(part: str, key: str, value: Any, line: int) -> Effect:
    return lambda d: d.set_part(part, key, value, line)


def p_tpm(c: Cursor) -> list[Effect] | None:
    """``a TPM``, ``a TPM v1.2 on tank``, ``TPM version 2.0``."""
    line = c.line
    if not c.opt("tpm"):
        return None
    effects: list[Effect] = [lambda d: d.set_part("tpm", None, None, line)]
    c.opt("version")
    w = c.w()
    if w in ("v2.0", "2.0", "2", "v1.2", "1.2"):
        c.i += 1
        effects.append(_part("tpm", "version", "v1.2" if "1.2" in w else "v2.0", line))
    c.opt("state")
    storage = _storage_after_on(c)
    if storage is not None:
        effects.append(_part("tpm", "storage", storage, line))
    return effects


_MACHINES = {"q35": "q35", "i440fx": "pc", "pc": "pc"}


def p_machine(c: Cursor) -> list[Effect] | None:
    """``the q35 machine``, ``machine type i440fx``, ``machine pc-q35-9.0``."""
    line = c.line
    start = c.i
    if c.w() in _MACHINES and c.w(1) in ("machine", "chipset"):
        value = _MACHINES[c.w()]
        c.i += 2
        c.opt("type")
        return _set("machine", value, line)
    if c.take("machine", "type") or c.opt("machine", "chipset"):
        c.opt(":", "is", "of")
        text = value_text(c, "a machine type like q35 or pc-q35-9.0")
        return _set("machine", _MACHINES.get(text.lower(), text), line)
    c.i = start
    return None


def p_scsihw(c: Cursor) -> list[Effect] | None:
    """``SCSI controller virtio-scsi-single``, ``the lsi SCSI controller``."""
    line = c.line
    start = c.i
    if c.take("scsi", "controller") or c.opt("scsihw"):
        c.opt(":", "is", "of")
        return _set("scsihw", value_text(c, "a SCSI controller like virtio-scsi-single"),
                    line)
    t = c.tok()
    if t is not None and c.w() in L.SCSI_CONTROLLERS and c.take(c.w(), "scsi",
                                                                     "controller"):
        return _set("scsihw", t.low, line)
    c.i = start
    return None


def p_display(c: Cursor) -> list[Effect] | None:
    """``display type qxl``, ``VGA type std``, ``a serial console`` (serial0 + vga serial0),
    ``a serial port`` (serial0 only), ``no serial port``."""
    line = c.line
    start = c.i
    if c.take("display|vga|graphics", "type|card") or c.opt("display", "vga"):
        c.opt(":", "is", "of")
        return _set("vga", value_text(c, "a display type like std or qxl").lower(), line)
    value = switch(c, [("serial", "console")], verbs=False)
    if value is not None:
        effects = _set("serial_console", value, line)
        return effects + _set("vga", "serial0", line) if value else effects
    value = switch(c, [("serial", "port"), ("serial", "device")], verbs=False)
    if value is not None:
        return _set("serial_console", value, line)
    c.i = start
    return None


def p_tablet(c: Cursor) -> list[Effect] | None:
    line = c.line
    value = switch(c, [("tablet", "pointer"), ("tablet", "device"), ("tablet",)],
                   verbs=False)
    return None if value is None else _set("tablet", value, line)


_HOTPLUG_WORDS = {"network": "network", "networks": "network", "disk": "disk",
                  "disks": "disk", "cpu": "cpu", "cpus": "cpu", "memory": "memory",
                  "usb": "usb", "cloud-init": "cloudinit", "cloudinit": "cloudinit"}


def p_hotplug(c: Cursor) -> list[Effect] | None:
    """``hot-plug for disk, network and usb``, ``no hot-plug``."""
    line = c.line
    start = c.i
    if c.take("no|without", "hot-plug|hotplug|hotplugging|hot-plugging"):
        return _set("hotplug", [], line)
    if not c.opt("hot-plug", "hotplug", "hotplugging", "hot-plugging"):
        return None
    c.opt("for", "of", ":")
    items: list[str] = []
    while c.w() in _HOTPLUG_WORDS and not c.toks[c.i].quoted:
        items.append(_HOTPLUG_WORDS[c.w()])
        c.i += 1
        save = c.i
        if not c.list_separator() or c.w() not in _HOTPLUG_WORDS:
            c.i = save
            break
    if not items:
        c.i = start
        raise SentenceError(line, "say what is hot-plugged, like 'hot-plug for disk, network "
                                  "and usb' (or 'no hot-plug')")
    return _set("hotplug", items, line)


#: number-first phrases of this module, tried before the older ones
NUMBER_PHRASES: tuple[Callable[[Cursor], Any], ...] = (
    p_sockets, p_vcpus, p_cpuunits, p_swap, p_efidisk)
PHRASES: tuple[Callable[[Cursor], Any], ...] = (
    p_sockets, p_cpu_type, p_cpu_flags, p_numa, p_cpulimit, p_cpuunits, p_balloon, p_swap,
    p_ostype, p_firmware, p_efidisk, p_tpm, p_machine, p_scsihw, p_display, p_tablet,
    p_hotplug)
