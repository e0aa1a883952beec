"""``mycopod import``: read the live cluster, describe the chosen guests, write the files.

One ``GET /cluster/resources`` lists the guests (node, pool, tags, template, status);
the chosen ones' configs are read with bounded concurrency (``config?current=1``: the
guest's state now, not changes pending a restart). Each config becomes a spec through
the pure :func:`mycopod.proxmox.describe.describe`, and the specs become Markdown
through :mod:`.files`. Templates are never imported; by default neither is a guest
MycoPod already manages (its ownership tag).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mycopod.brownfield import files as markdown
from mycopod.proxmox import describe, translate
from mycopod.proxmox.client import ProxmoxClient
from mycopod.proxmox.observer import api_kind

#: configs read at once
CONCURRENCY = 32


@dataclass(frozen=True)
class Selection:
    """Which guests to import; every given selector must match (empty: all)."""

    guests: tuple[str, ...] = ()
    pool: str | None = None
    tag: str | None = None
    node: str | None = None
    #: also guests MycoPod already manages (off: ``--all`` means "not yet managed")
    managed: bool = False

    def wants(self, item: Mapping[str, Any]) -> bool:
        """From ``/cluster/resources``: node and pool (its name and tags can lag behind
        a change, so those are checked on the config, :meth:`keeps`)."""
        if self.pool is not None and item.get("pool") != self.pool:
            return False
        return self.node is None or item.get("node") == self.node

    def keeps(self, raw: Mapping[str, Any], ownership_tag: str) -> bool:
        """From the guest's config: its name, its tags, whether MycoPod manages it."""
        tags = translate.parse_tags(raw.get("tags"))
        if not self.managed and ownership_tag in tags:
            return False
        name = str(raw.get("name") or raw.get("hostname") or "")
        if self.guests and name not in self.guests:
            return False
        return self.tag is None or self.tag.lower() in tags


@dataclass
class ImportResult:
    #: file name → Markdown
    files: dict[str, str] = field(default_factory=dict)
    guests: list[markdown.ImportedGuest] = field(default_factory=list)
    #: guests that could not be described (name: why)
    skipped: list[str] = field(default_factory=list)


async def import_cluster(client: ProxmoxClient, *, selection: Selection,
                         ownership_tag: str) -> ImportResult:
    """Describe the selected guests of the cluster as declaration files."""
    items = await client.get("/cluster/resources", type="vm")
    chosen = [i for i in items or [] if i.get("type") in ("qemu", "lxc")
              and not i.get("template") and selection.wants(i)]
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(item: Mapping[str, Any]) -> describe.Described | None:
        kind = "vm" if item["type"] == "qemu" else "ct"
        base = f"/nodes/{item['node']}/{api_kind(kind)}/{item['vmid']}"
        # /cluster/resources can lag behind (pvestatd): the status is read fresh too
        async with gate:
            raw, status = await asyncio.gather(client.get(f"{base}/config", current=1),
                                               client.get(f"{base}/status/current"))
        raw = dict(raw or {})
        if raw.get("template") or not selection.keeps(raw, ownership_tag):
            return None
        return describe.describe(
            kind, raw, vmid=int(item["vmid"]), node=str(item["node"]),
            status=str((status or {}).get("status", "stopped")),
            pool=item.get("pool") or None, ownership_tag=ownership_tag)

    described = await asyncio.gather(*(one(i) for i in chosen))
    result = ImportResult()
    for item, found in zip(chosen, described, strict=True):
        if found is None:
            continue
        if found.spec is None:
            result.skipped.append(f"{item.get('name') or item['vmid']}: "
                                  + "; ".join(found.left_out[-1:]))
            continue
        result.guests.append(markdown.ImportedGuest(spec=found.spec, left_out=found.left_out))
    result.files = markdown.group(result.guests)
    return result


def write(result: ImportResult, out: Path) -> list[Path]:
    """Write the files under ``out`` (created if needed); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in result.files.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def names(guests: Iterable[markdown.ImportedGuest]) -> list[str]:
    return [g.spec.name for g in guests]
