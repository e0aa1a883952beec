"""Phrases for a guest's resources: disks, memory, cores, storage, ``no disks``.

Disks, memory and cores are the phrases that can start with a number (``2 cores``,
``4 GB of RAM``, ``a 32 GB disk on local-lvm``); they are grouped with storage and
``no disks`` because they share the size reading and the disk/storage words, and because
a misread one resizes a real VM. Each phrase takes a cursor and returns effects on a
draft, or None when it does not start there.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal

from mycopod import spec as specmod
from mycopod.declarations.grammar.diskopts import read_options, read_path
from mycopod.declarations.grammar.drafts import Disk, Draft, Effect
from mycopod.declarations.grammar.lexicon import (
    CORE_NOUNS,
    DISK_NOUNS,
    MULTIPLIERS,
    NODE_WORDS,
    ORDINALS,
    ROLE_DATA,
    ROLE_ROOT,
    UNITS,
    is_vocab,
)
from mycopod.declarations.grammar.quantities import (
    format_mib,
    read_number,
    read_size,
    round_half_up,
    to_int,
    word_number,
)
from mycopod.declarations.grammar.tokens import Cursor, SentenceError


def _storage_name(c: Cursor, *, forced: bool) -> str | None:
    t = c.tok()
    if t is None:
        return None
    if t.quoted or (forced and t.low not in (".", ",")) or (
            not is_vocab(t.low) and t.low not in NODE_WORDS and t.low not in (
                ".", ",", ":", "(")):
        c.i += 1
        return t.text
    return None


def _disk_tail(c: Cursor) -> tuple[str | None, str | None, str | None]:
    """``[on [the] [storage] X] [as SLOT] [at /path]`` in any order."""
    storage: str | None = None
    slot: str | None = None
    path: str | None = None
    for _ in range(3):
        save = c.i
        if path is None and (found := read_path(c)) is not None:
            path = found
        elif storage is None and c.opt("on", "in", "at"):
            c.opt("the")
            forced = c.opt("storage", "datastore", "pool") is not None
            if forced and c.w() == "pool":
                c.i += 1
            storage = _storage_name(c, forced=forced)
            if storage is None:
                c.i = save
        elif slot is None and c.w() in ("as", "in") and c.w(1) not in ("slot",) and (
                c.tok(1) is not None and re.match(r"^(scsi|virtio|sata|ide|mp)\d+$|^rootfs$",
                                                   c.w(1))):
            slot = c.toks[c.i + 1].low
            c.i += 2
        elif slot is None and c.take("as", "slot") and c.tok() is not None:
            slot = c.value("a disk slot").low
    return storage, slot, path


def p_disk(c: Cursor) -> list[Effect] | None:
    line = c.line
    start = c.i
    role: str | None = None
    if c.w() in ("another", *ORDINALS) and c.w() != "first":
        role = "data"  # "another 32 GB disk", "a second 100 GB disk"
        c.i += 1
    elif c.w() == "first":
        role = "root"
        c.i += 1
    count = _disk_count(c)
    size = read_size(c)
    mib: Decimal | None
    if size is None and role is not None:
        c.i = start
        return None
    if size is not None:
        mib, _ = size
        w = c.w()
        if w in ROLE_ROOT and role is None:
            role = "root"
            c.i += 1
        elif w in ROLE_DATA and role is None:
            role = "data"
            c.i += 1
        if c.take("mount", "point") or c.opt("mountpoint") or (
                c.w() == "mount" and c.w(1) == "at" and c.w(2).startswith("/") and c.opt(
                    "mount")):  # "a 1TB mount at /data": a mount point, by its path
            role = role or "data"
        elif c.take("hard", "disk|drive") or c.take("root", "filesystem|fs") or c.opt(
                *DISK_NOUNS):
            pass
        elif c.take("of", "disk|storage", "space") or c.take("of", "disk|storage"):
            pass
        else:
            c.i = start
            return None
    else:
        w = c.w()
        if w in ROLE_ROOT and c.w(1) in DISK_NOUNS:
            role = "root"
            c.i += 1
        elif w in ROLE_DATA and c.w(1) in DISK_NOUNS:
            role = "data"
            c.i += 1
        if not c.opt("disk", "drive", "rootfs"):
            c.i = start
            return None
        after_noun = c.i
        c.opt("size", "of", ":")
        size = read_size(c)
        if size is None:
            # "its disk on ceph-pool", "a disk as scsi1": the size is not stated (the
            # model gives a new disk its creation default); "a disk" needs no more
            c.i = after_noun
            if c.w() in ("is", "lives") and c.w(1) in ("on", "in"):
                c.i += 1  # "its disk is on tank", "whose disk lives on ceph-pool"
            if c.w() not in _UNSIZED_NEXT:
                c.i = start
                return None
        mib = size[0] if size is not None else None
    storage, slot, path = _disk_tail(c)
    opts = read_options(c)
    if path is not None:
        opts["path"] = path
    gib = round_half_up(mib / 1024) if mib is not None else None
    if mib is not None and gib is not None and gib < specmod.DISK_MIN_GIB:
        raise SentenceError(line, f"a disk must be at least {specmod.DISK_MIN_GIB} GB "
                                  f"(got {format_mib(mib)})")

    if count > 1 and (slot is not None or path is not None):
        raise SentenceError(line, f"{count} disks cannot share one "
                                  f"{'slot' if slot is not None else 'mount path'}: write "
                                  "each disk with its own, like 'a 4 TB disk on tank as scsi1 "
                                  "and a 4 TB disk on tank as scsi2'")

    def apply(d: Draft) -> None:
        if d.no_disks is not None:
            raise SentenceError(line, f"{d.name} is said to have no disks (line "
                                      f"{d.no_disks}) and a disk (line {line})")
        for _ in range(count):
            d.disks.append(Disk(gib, storage, slot, role, line, dict(opts)))

    return [apply]


#: how many disks of one size a phrase may add ("two 4TB disks on tank")
_DISK_COUNTS = {"two": 2, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4}


def _disk_count(c: Cursor) -> int:
    """``two`` before ``4TB disks``: how many identical disks (1 when none is said)."""
    if c.w() not in _DISK_COUNTS:
        return 1
    start = c.i
    c.i += 1
    size = read_size(c)
    plural = size is not None and c.w() in ("disks", "drives")
    c.i = start + 1 if plural else start
    return _DISK_COUNTS[c.toks[start].low] if plural else 1


#: what may follow a disk written without a size ("its disk on tank", "a disk.")
_UNSIZED_NEXT = frozenset({"on", "as", "in", "at", "with", ",", "and", ".", "", "(",
                           "excluded", "included", "not", "replicated", "read-only"})


def p_memory(c: Cursor) -> list[Effect] | None:
    start = c.i
    line = c.line
    size = read_size(c)
    if size is not None:
        c.opt("of")
        if not c.opt("ram", "memory", "mem"):
            if _bare_size(c, start):
                return _bare_memory(c, start, size[0], line)
            c.i = start
            return None
    else:
        if not c.opt("ram", "memory", "mem"):
            return None
        c.opt("of", "size", "to", ":")
        size = read_size(c)
        if size is None:
            c.i = start
            return None
    mib = round_half_up(size[0])
    if mib < 1:
        raise SentenceError(line, "memory must be at least 16 MB")
    return [lambda d: d.set("memory_mib", mib, line)]


#: what may come before and after a size that says no noun for it to mean the memory
_BARE_BEFORE = frozenset({",", ":", "with", "and", "/", "|", "&", "+", "(", "-", "--", "=",
                          "\u2013", "\u2014", "gets", "get", "needs", "need"})
_BARE_AFTER = frozenset({"", ",", "/", "|", "&", "+", "and", "each", ")", "?", "-", "--"})


def _bare_size(c: Cursor, start: int) -> bool:
    """Is the size just read a bare item of a list (``VM, 4 cores, 16 GB``, ``with 4G``,
    ``2 cores 4gb``: right after a count of cores), or the object of an allocation verb
    (``gets 512MB``, ``needs 4 GB``: the memory, as ``with 4G`` is)?"""
    before = c.toks[start - 1] if start > 0 else None
    after_cores = start > 1 and before is not None and before.low in _CORE_WORDS and (
        c.toks[start - 2].low.isdigit())
    return (before is not None and (before.low in _BARE_BEFORE or after_cores)
            and c.w() in _BARE_AFTER and not before.quoted and not _unsized_disk(c, start))


def _unsized_disk(c: Cursor, start: int) -> bool:
    """``a disk on tank, 200 GB``: the clause before names a disk without its size, so a
    bare size after it may be that disk's; reading it as the memory would be a guess."""
    k = start - 2
    while k >= 0 and c.toks[k].low not in (",", ";", "and", ":"):
        k -= 1
    clause = c.toks[k + 1:start - 1]
    return any(t.low in _DISK_NOUNS for t in clause) and not any(
        t.low[:1].isdigit() for t in clause)


_DISK_NOUNS = frozenset({"disk", "disks", "rootfs", "drive", "drives", "volume", "storage"})


_CORE_WORDS = frozenset({"core", "cores", "vcpu", "vcpus", "cpu", "cpus"})


def _bare_memory(c: Cursor, start: int, mib_exact: Decimal, line: int) -> list[Effect]:
    """A size with no noun in a list of attributes: the memory, once per guest."""
    shown = " ".join(t.text for t in c.toks[start:c.i])
    mib = round_half_up(mib_exact)

    def effect(d: Draft) -> None:
        if d.bare_size is not None and d.bare_size != (shown, line):
            raise SentenceError(
                line, f"{d.name}: two sizes without a noun (\"{d.bare_size[0]}\" on line "
                f"{d.bare_size[1]} and \"{shown}\"): a first one is read as the memory, a "
                "second would be a guess; say what it is, like '16 GB of RAM' or 'a 64 GB "
                "disk'")
        d.bare_size = (shown, line)
        d.set("memory_mib", mib, line)
    return [effect]


_GLUED_CORES_RE = re.compile(r"^(\d+)(vcpus?|cpus?|cores?)$")


def p_cores(c: Cursor) -> list[Effect] | None:
    start = c.i
    line = c.line
    head, _, noun = c.w().rpartition("-")
    if head and noun in ("core", "cpu", "vcpu", "cores"):
        # "a 4-core VM", "a quad-core VM", "a dual-core container", "an eight-core VM"
        number = word_number(head)
        if number is None:
            return None
        c.i += 1
        c.opt("cpu", "processor")  # "a quad-core CPU": the noun adds nothing
        value = to_int(number, line, "the number of cores")
        return [lambda d: d.set("cores", value, line)]
    glued = _GLUED_CORES_RE.match(c.w())
    if glued or (c.w() in MULTIPLIERS and c.w(1) == "core"):
        # "4vCPU", "8cores" (the unit glued on); "quad core" (the compound without hyphen)
        c.i += 1 if glued else 2
        if not glued:
            c.opt("cpu", "processor")
        value = int(glued.group(1)) if glued else MULTIPLIERS[c.toks[c.i - 2].low]
        return [lambda d: d.set("cores", value, line)]
    num = read_number(c)
    if num is not None:
        if num[1] is not None:
            c.i = start
            return None
        if c.take("cpu", "cores|core") or c.take("virtual", "cpus|cpu|cores|core|processors"):
            pass
        elif not c.opt(*CORE_NOUNS):
            c.i = start
            return None
    else:
        if not (c.take("cpu", "cores") or c.opt("cores", "vcpus", "cpus", "cpu")):
            return None
        c.opt("of", ":")
        num = read_number(c)
        if num is None or num[1] is not None or c.w() in UNITS:
            c.i = start
            return None
    cores = to_int(num[0], line, "the number of cores")
    return [lambda d: d.set("cores", cores, line)]


def p_storage(c: Cursor) -> list[Effect] | None:
    line = c.line
    start = c.i
    if c.take("stored", "on|in") or c.take("on|in", "storage|datastore") or c.take(
            "on|in", "the", "storage|datastore") or c.opt("storage"):
        c.opt("the")
        c.opt("storage", "datastore")
        c.opt(":")
        name = _storage_name(c, forced=True)
        if name is not None:
            value = name
            return [functools.partial(_set_storage, value, line)]
    c.i = start
    return None


def _set_storage(value: str, line: int, d: Draft) -> None:
    old = d.storage
    if old is not None and old[0] != value:
        raise SentenceError(line, f"{d.name}: storage is given twice: {old[0]} (line {old[1]})"
                                  f" and {value} (line {line})")
    d.storage = (value, line)


def p_none(c: Cursor) -> list[Effect] | None:
    line = c.line
    if c.take("no", "disks|disk") or c.take("without", "disks|disk") or c.take(
            "without", "a|any", "disk|disks") or c.opt("diskless"):
        def nodisk(d: Draft) -> None:
            if d.disks:
                raise SentenceError(line, f"{d.name} is said to have a disk (line "
                                          f"{d.disks[0].line}) and no disks (line {line})")
            d.no_disks = line
        return [nodisk]
    if c.take("no", "network|networks|nic|nics") or c.take(
            "without", "network|networks|networking") or c.take(
            "without", "a|any", "network|networks"):
        if re.match(r"^net\d+$", c.w()):
            slot = c.toks[c.i].low
            c.i += 1

            def noslot(d: Draft) -> None:
                if slot in d.nets:
                    raise SentenceError(line, f"{d.name}: network {slot} is described and "
                                              "said not to exist")
                d.removed_nets.add(slot)
            return [noslot]

        def nonet(d: Draft) -> None:
            d.no_networks = line
        return [nonet]
    return None
