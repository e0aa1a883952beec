"""The options after a disk phrase, container mount points and bind mounts.

``a second 500 GB disk on tank with discard and SSD emulation``, ``... with an iothread``,
``with cache writeback``, ``with aio io_uring``, ``excluded from backups``, ``not
replicated``, ``read-only``; for containers ``a 200 GB mount point on tank at /data`` and
``bind-mount /srv/media at /media read-only`` (``a bind mount of /srv/media at /media``).
Options attach to the disk they follow; :mod:`mycopod.spec` checks which options a kind
of guest or a bus can have, and says so.
"""

from __future__ import annotations

import re
from typing import Any

from mycopod.declarations.grammar.drafts import Disk, Draft, Effect
from mycopod.declarations.grammar.tokens import Cursor, SentenceError

_CACHE = ("none", "writethrough", "writeback", "directsync", "unsafe")
_AIO = ("native", "threads", "io_uring")


def _option(c: Cursor) -> tuple[str, Any] | None:
    """One disk option, or None (cursor unchanged)."""
    start = c.i
    negative = c.opt("without", "no") is not None
    if not negative:
        c.opt("with")
    c.opt("an", "a", "the")
    if c.opt("iothread", "io-thread") or c.take("io", "thread"):
        return ("iothread", not negative)
    if c.opt("discard", "trim"):
        return ("discard", not negative)
    if c.take("ssd", "emulation"):
        return ("ssd", not negative)
    if not negative:
        if c.take("cache|caching", "mode") or c.opt("cache", "caching"):
            c.opt(":", "of")
            if c.w() in _CACHE:
                c.i += 1
                return ("cache", c.toks[c.i - 1].low)
            raise SentenceError(c.line, f"the cache mode is one of {', '.join(_CACHE)}")
        if c.w() in _CACHE[1:] and c.w(1) in ("cache", "caching"):
            c.i += 2
            return ("cache", c.toks[c.i - 2].low)
        if c.opt("aio") or c.take("async", "io"):
            c.opt(":", "of")
            if c.w() in _AIO:
                c.i += 1
                return ("aio", c.toks[c.i - 1].low)
            raise SentenceError(c.line, f"aio is one of {', '.join(_AIO)}")
    c.i = start
    if c.take("excluded|exempt", "from", "backup|backups") or c.take("not", "backed", "up") \
            or c.take("no|without", "backup|backups"):
        return ("backup", False)
    if c.take("included", "in", "backup|backups") or c.take("backed", "up"):
        return ("backup", True)
    if c.take("not", "replicated") or c.take("no|without", "replication"):
        return ("replicate", False)
    if c.opt("replicated"):
        return ("replicate", True)
    if c.opt("read-only", "readonly", "ro"):
        return ("ro", True)
    if c.opt("read-write", "writable"):
        return ("ro", False)
    c.i = start
    return None


def read_options(c: Cursor) -> dict[str, Any]:
    """Options after a disk, joined by ``with``, ``and`` and commas; stops before a word
    that is not an option (the separator stays for the next phrase)."""
    opts: dict[str, Any] = {}
    while not c.done():
        save = c.i
        c.list_separator()
        found = _option(c)
        if found is None:
            c.i = save
            break
        key, value = found
        if key in opts and opts[key] != value:
            raise SentenceError(c.line, f"{key} is given twice for one disk")
        opts[key] = value
    return opts


def read_path(c: Cursor) -> str | None:
    """``at /data``, ``mounted at /data``, ``on /data`` (a path starts with ``/``)."""
    save = c.i
    c.opt("mounted")
    if c.opt("at", "on", "to", "under") and c.tok() is not None and \
            c.toks[c.i].text.startswith("/"):
        c.i += 1
        return c.toks[c.i - 1].text
    c.i = save
    return None


def p_bind_mount(c: Cursor) -> list[Effect] | None:
    """``bind-mount /srv/media at /media [as mp1] [read-only]``, ``a bind mount of ...``."""
    line = c.line
    start = c.i
    c.opt("a", "an")
    if not (c.opt("bind-mount", "bind-mounts", "bind-mounted") or c.take(
            "bind", "mount|mounts") or c.take("bind", "mount", "of")):
        c.i = start
        return None
    c.opt("of", "the", "host", "directory")
    t = c.tok()
    if t is None or not t.text.startswith("/"):
        raise SentenceError(line, "write a bind mount as 'bind-mount /srv/media at /media' "
                                  "(a host directory, then where the container sees it)")
    c.i += 1
    host_path = t.text
    path = read_path(c)
    if path is None:
        raise SentenceError(line, f"say where the container sees {host_path}, like "
                                  f"'bind-mount {host_path} at /media'")
    slot: str | None = None
    if c.w() in ("as", "in") and re.match(r"^mp\d+$", c.w(1)):
        slot = c.w(1)
        c.i += 2
    opts = read_options(c)
    opts.update(host_path=host_path, path=path)

    def apply(d: Draft) -> None:
        if d.no_disks is not None:
            raise SentenceError(line, f"{d.name} is said to have no disks (line "
                                      f"{d.no_disks}) and a bind mount (line {line})")
        d.disks.append(Disk(None, None, slot, "data", line, opts))

    return [apply]
