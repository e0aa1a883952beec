"""Described guests into Markdown files: one per pool, or per node when no guest is in a
pool. Pure.

Each file has a heading and one paragraph per guest, in the grammar's own phrasing
(:func:`mycopod.declarations.render.render_guest`), stating that the guest exists
already and is to be adopted. What the spec cannot say (raw ``args``, ``lxc.*`` lines,
hookscripts, device nodes) is listed in an HTML comment under the guest: Markdown
parsing drops comments, so the file compiles to exactly the spec, and a reader still
sees what MycoPod leaves alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from mycopod.declarations import render
from mycopod.spec import GuestSpec

#: the file of guests in no pool, when other guests are in pools
NO_POOL = "no-pool"


@dataclass
class ImportedGuest:
    spec: GuestSpec
    left_out: list[str] = field(default_factory=list)


def _comment_line(text: str) -> str:
    # "--" may not appear inside an HTML comment, and ">" could end it early
    return "  " + text.replace("--", "- -").replace(">", "&gt;").replace("\n", " ")


def guest_block(guest: ImportedGuest) -> str:
    """The paragraph of one guest (adoption stated), and its comment when needed."""
    spec = guest.spec
    if spec.adopt is None:
        spec = spec.model_copy(update={"adopt": True})
        object.__setattr__(spec, "__pydantic_fields_set__",
                           {*guest.spec.model_fields_set, "adopt"})
    text = render.render_guest(spec)
    if guest.left_out:
        lines = "\n".join(_comment_line(item) for item in guest.left_out)
        text += ("\n\n<!-- " + spec.name + ": left alone by MycoPod (never managed):\n"
                 + lines + "\n-->")
    return text


def _file_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", key).strip("-").lower() or "guests"


def group(guests: Iterable[ImportedGuest]) -> dict[str, str]:
    """``{file name: Markdown}``: per pool, or per node when no guest is in a pool."""
    items = sorted(guests, key=lambda g: g.spec.name)
    by_pool = any(g.spec.pool for g in items)
    groups: dict[str, list[ImportedGuest]] = {}
    titles: dict[str, str] = {}
    for guest in items:
        if by_pool:
            key = guest.spec.pool or NO_POOL
            titles[key] = (f"Pool {key}" if guest.spec.pool else "Guests in no pool")
        else:
            key = guest.spec.node or "cluster"
            titles[key] = f"Node {key}"
        groups.setdefault(key, []).append(guest)
    files: dict[str, str] = {}
    for key in sorted(groups):
        body = "\n\n".join(guest_block(g) for g in groups[key])
        intro = ("<!-- Imported from the cluster by mycopod import. Each guest exists "
                 "already: adopting it only tags it; the settings written here are then "
                 "managed. -->")
        files[f"{_file_name(key)}.md"] = f"# {titles[key]}\n\n{intro}\n\n{body}\n"
    return files
