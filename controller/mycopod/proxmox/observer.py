"""The observer: what the cluster looks like now, as cheaply as possible.

Each cycle makes one ``GET /cluster/resources``: every guest with its current node
(guests migrate), status, lock and tags, and node and storage capacity. Full configs of
owned guests are read with bounded concurrency only when needed, with one ``GET
pending`` per guest: its rows hold each key's current value (what ``config?current=1``
returns) and its pending value, so one request gives both views. (The executor reads
``config?current=1`` as well before a write, for the digest.) They are read:

- on a full resync (every ``[apply] resync_seconds``, or when asked);
- when a guest's summary changed since the last read (a different fingerprint);
- before any action on that guest (the executor re-reads; ``/cluster/resources`` can be
  stale), which also invalidates the cached entry.

So a steady-state poll of a converged cluster costs one request. The cache lives in the
Observer object: keep one per process (the daemon's ``EngineContext`` holds it).

A config read is always made where one is due (a full resync reads every owned guest),
but its answer is parsed only when the config changed: the ``digest`` row of ``pending``
is the SHA-1 of the guest's whole config file, pending section included (qemu-server
and pve-container ``load_config``), so a read whose digest and guest type are those of
the config last parsed for that vmid gives that parsed config again, and, when its
``/cluster/resources`` row is unchanged too, the very same :class:`ObservedGuest` as
last time (so the planner replays it). A full resync of a cluster where nothing
changed thus costs its requests, not 10,000 parses and plans; a read without a digest
is always parsed.

Ownership is the ownership tag **or** an inventory row with the same vmid and name (the
name check keeps a vmid that was freed and reused by someone else from becoming ours).
Templates are never owned.
"""

from __future__ import annotations

import asyncio
import itertools
import operator
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

import structlog

from mycopod.proxmox import rows as rowsmod
from mycopod.proxmox.client import ProxmoxClient
from mycopod.proxmox.errors import NotFoundError, ProxmoxError
from mycopod.proxmox.model import (
    GuestConfig,
    Kind,
    ObservedCluster,
    ObservedGuest,
)
from mycopod.proxmox.reads import (
    GuestRead,
    api_kind,
    items_digest,
    observe_guest,
    parse_pending,
    pending_items,
    read_guest,
)
from mycopod.proxmox.status_checks import StatusChecks

if TYPE_CHECKING:
    from mycopod.reconcile.foreground import Foreground

__all__ = ["GuestRead", "Observer", "api_kind", "observe_guest", "read_guest"]

log = structlog.get_logger(__name__)


_NAME = rowsmod.NAME
_NEW = object.__new__
_Row = rowsmod.Row


@dataclass(frozen=True, slots=True)
class _Config:
    """What an observed guest keeps of a read of its config."""

    current: GuestConfig
    #: None when nothing is pending
    pending: GuestConfig | None
    digest: str | None

    @classmethod
    def of(cls, read: GuestRead) -> _Config:
        pending = read.pending
        same = pending is read.current or pending == read.current
        return cls(current=read.current, pending=None if same else pending,
                   digest=read.digest)


class Observer:
    """Observes one cluster; keeps the config cache between cycles."""

    def __init__(self, client: ProxmoxClient, *, ownership_tag: str,
                 resync_seconds: float = 600.0, concurrency: int | None = None) -> None:
        self.client = client
        self.ownership_tag = ownership_tag
        self.resync_seconds = resync_seconds
        #: config reads at once; by default as many as the client lets be in flight
        self.concurrency = concurrency or client.limits.total
        #: per owned guest: its row's fingerprint when its config was read, and what of
        #: the read a guest keeps (not the raw config dicts: 10,000 of them weigh tens
        #: of MB, and planning reads the parsed configs only)
        self._cache: dict[int, tuple[tuple[Any, ...], _Config]] = {}
        #: the last tick's guest rows and what was made of them (see _Row)
        self._rows: dict[int, _Row] = {}
        #: the same, kept through invalidate() and full resyncs: a fresh read whose
        #: digest is that of the guest's config here is not parsed again
        self._last: dict[int, _Row] = {}
        self._rows_tag = ownership_tag
        #: the inventory and adoption set the rows were made with, and the guests tuple
        #: of the last observation (handed back as it is while no row changed)
        self._rows_inventory: dict[int, str] = {}
        self._rows_adopt: set[str] = set()
        self._guests: tuple[ObservedGuest, ...] = ()
        self._last_full: float | None = None
        self._statuses = StatusChecks()
        self.last_observed_at: float | None = None
        self.last_config_reads = 0
        #: guests made of their rows in the last observation: the rows new or changed
        #: since (an unchanged row keeps its guest)
        self.last_rows_changed = 0
        #: with several clusters: the process's foreground work and this cluster's name;
        #: a read waits while other clusters have some (reconcile/foreground.py)
        self.foreground: tuple[Foreground, str] | None = None

    def invalidate(self, vmid: int | None = None) -> None:
        """Forget a guest's cached config (after acting on it), or everything."""
        if vmid is None:
            self._cache.clear()
            self._rows = {}  # not clear(): self._last may be the same dict
            self._last_full = None
        else:
            self._cache.pop(vmid, None)
            self._rows.pop(vmid, None)
            self._last.pop(vmid, None)
        self._statuses.forget(vmid)

    async def observe(
        self,
        *,
        inventory: Mapping[int, str] | None = None,
        adopt_names: Iterable[str] = (),
        full: bool | None = None,
    ) -> ObservedCluster:
        """One observation. ``inventory`` maps vmid → name of the inventory rows;
        ``adopt_names`` are declared names whose unowned guests' configs are read too
        (only with ``adopt_existing``)."""
        inventory = dict(inventory or {})
        adopt = set(adopt_names)
        now = time.monotonic()
        if full is None:
            full = self._last_full is None or now - self._last_full >= self.resync_seconds
        resources = await self.client.get("/cluster/resources")
        if full or self._rows_tag != self.ownership_tag:
            self._rows = {}
            if self._rows_tag != self.ownership_tag:
                self._last = {}  # ownership is part of every guest
            self._rows_tag = self.ownership_tag
        known_rows = self._rows
        # the inventory and the adoption set as last tick: then a row whose tuple is the
        # same needs no look-up of its own in either (the common case, checked once)
        same_context = inventory == self._rows_inventory and adopt == self._rows_adopt
        # the unchanged rows keep their row and guest (the same objects): only the others
        # are made into guests, below
        found = rowsmod.sort_rows(resources, known_rows, same_context=same_context,
                                  inventory=inventory, adopt=adopt,
                                  ownership_tag=self.ownership_tag)
        prefetched = await self._fill_lagging(found.lagging)
        guests, rows = found.guests, found.rows
        to_read: list[tuple[ObservedGuest, tuple[Any, ...]]] = []
        remade = 0
        for index, item in found.changed:
            vmid = int(item["vmid"])
            key = rowsmod.row_key(item)  # a lagging row's as filled in since
            known = known_rows.get(vmid)
            if (known is not None and known.key == key and vmid not in prefetched
                    and (same_context or (known.recorded == inventory.get(vmid)
                                          and known.adopt == (key[_NAME] in adopt)))):
                rows[vmid] = known  # lagging still, and its config could not be read
                guests[index] = known.guest
                continue
            guest = rowsmod.guest_of_row(item, ownership_tag=self.ownership_tag,
                                         inventory=inventory)
            remade += 1
            name, template = guest.name, guest.template
            wanted = guest.owned or (not template and name in adopt)
            if wanted:
                fingerprint = key[1:]
                cached = self._cache.get(vmid)
                early = prefetched.get(vmid)
                if early is not None:
                    self._cache[vmid] = (fingerprint, _Config.of(early))
                    guest = self._with_read(guest, self._cache[vmid][1])
                elif not full and cached is not None and cached[0] == fingerprint:
                    guest = self._with_read(guest, cached[1])
                else:
                    to_read.append((guest, fingerprint))
            rows[vmid] = _Row(key=key, recorded=inventory.get(vmid), adopt=name in adopt,
                              guest=guest)
            guests[index] = guest
        # every guest row has its row and guest now: the vmids seen are the rows' keys
        made = cast(list[ObservedGuest], guests)
        seen_ids = rows.keys()
        if not self._cache.keys() <= seen_ids:
            for vmid in [v for v in self._cache if v not in seen_ids]:
                del self._cache[vmid]
        self._statuses.keep(seen_ids)
        reserved = frozenset(inventory.keys() - seen_ids)
        reads = await self._read_all([g for g, _ in to_read])
        by_vmid = {g.vmid: i for i, g in enumerate(made)} if to_read else {}
        last_rows = self._last
        for (guest, fingerprint), read in zip(to_read, reads, strict=True):
            if read is None:
                rows.pop(guest.vmid, None)  # read again next time
                continue
            self._cache[guest.vmid] = (fingerprint, read)
            last, row = last_rows.get(guest.vmid), rows.get(guest.vmid)
            if (last is not None and row is not None and last.guest.current is read.current
                    and last.key == row.key and last.recorded == row.recorded
                    and last.adopt == row.adopt):
                # the same row and the same config (by its digest): the same guest
                made[by_vmid[guest.vmid]] = last.guest
            else:
                made[by_vmid[guest.vmid]] = self._with_read(guest, read)
        for guest, _ in to_read:  # the rows read keep the guest with its config (made
            row = rows.get(guest.vmid)  # anew: replace() costs twice a Row's four fields)
            if row is not None:
                rows[guest.vmid] = _Row(key=row.key, recorded=row.recorded, adopt=row.adopt,
                                        guest=made[by_vmid[guest.vmid]])
        self._rows, self._rows_inventory, self._rows_adopt = rows, inventory, adopt
        self._last = rows
        if len(made) != len(self._guests) or not all(map(operator.is_, made,
                                                              self._guests)):
            self._guests = tuple(made)
        self.last_config_reads, self.last_rows_changed = len(to_read), remade
        if full:
            self._last_full = now
        self.last_observed_at = time.time()
        log.debug("observe.done", guests=len(made), rows_changed=remade,
                  config_reads=len(to_read), full=full)
        return ObservedCluster(nodes=tuple(sorted(found.nodes, key=lambda n: n.name)),
                               storages=tuple(found.storages), guests=self._guests,
                               reserved_vmids=reserved,
                               reserved_names={v: inventory[v] for v in reserved})

    async def _fill_lagging(self, lagging: list[dict[str, Any]]) -> dict[int, GuestRead]:
        """Fill in the name, status and template flag of guests pvestatd has not sampled
        yet (rows without a name, or with status unknown) or whose name is unsure
        (:func:`.rows.placeholder_named`), from their config and ``status/current``; return the
        configs read.

        ``/cluster/resources`` takes those values from the stats pvestatd gathers about
        every 10 s: until then a new guest has no name and status ``unknown``
        (pve-manager PVE/API2Tools.pm extract_vm_stats). Taken as it is, such a guest
        matches no declared name, so its create would be planned again, and it would
        look like a nameless orphan. Only new guests lag this way, so this costs two
        requests per guest created in the last seconds."""
        if not lagging:
            return {}
        semaphore = asyncio.Semaphore(self.concurrency)

        async def one(item: dict[str, Any]) -> tuple[int, GuestRead | None]:
            vmid = int(item["vmid"])
            kind: Kind = "vm" if item.get("type") == "qemu" else "ct"
            node = str(item.get("node"))
            async with semaphore:
                try:
                    read, status = await asyncio.gather(
                        observe_guest(self.client, kind, node, vmid),
                        self.client.get(f"/nodes/{node}/{api_kind(kind)}/{vmid}/status/current"))
                except ProxmoxError as exc:  # gone since, or its node is down: left as is
                    log.debug("observe.lagging_unread", vmid=vmid, error=str(exc))
                    return vmid, None
            name = read.raw.get("name" if kind == "vm" else "hostname")
            if name:
                item["name"] = str(name)  # the config's, not a sample's placeholder
            elif item.get("name"):
                item["name"] = None  # no name yet (being made): not ``VM 105``
            if item.get("status") in (None, "unknown") and (status or {}).get("status"):
                item["status"] = str(status["status"])
            if "template" not in item:
                item["template"] = 1 if read.raw.get("template") in (1, "1", True) else 0
            return vmid, read

        done = await asyncio.gather(*(one(item) for item in lagging))
        return {vmid: read for vmid, read in done if read is not None}

    async def confirm_status(self, observed: ObservedCluster,
                             vmids: Iterable[int | None]) -> ObservedCluster | None:
        """``observed`` (this observer's last observation) with the status of each of
        ``vmids`` as ``status/current`` gives it, or None when each was as observed.

        A row's status is pvestatd's last sample, up to a round (about 10 s) old: a guest
        started since still shows ``stopped`` (pve-manager PVE/API2Tools.pm
        extract_vm_stats). Before a plan starts or stops a guest because of its status,
        the engine confirms it here (the executor checks once more before the call). A
        confirmed status holds while the guest's row stays as it was: the next tick
        neither reads it again nor plans from the stale row."""
        keys = {v: row.key for v, row in self._rows.items()}
        fresh = await self._statuses.confirm(self.client, observed.guests, {*vmids}, keys)
        if not fresh:
            return None
        changed = {g.vmid: replace(g, status=fresh[g.vmid])
                   for g in observed.guests if g.vmid in fresh}
        guests = tuple(changed.get(g.vmid, g) for g in observed.guests)
        for vmid, guest in changed.items():  # kept for the ticks while the row is stale
            if (row := self._rows.get(vmid)) is not None:
                self._rows[vmid] = replace(row, guest=guest)
        if observed.guests is self._guests:
            self._guests = guests
        return replace(observed, guests=guests)

    @staticmethod
    def _with_read(guest: ObservedGuest, read: _Config) -> ObservedGuest:
        """``replace(guest, current=..., pending=..., digest=...)``, without replace()'s
        pass over the fields (once per guest read: 10,000 on a first full resync);
        ObservedGuest has no __post_init__ for replace() to run."""
        made: ObservedGuest = _NEW(ObservedGuest)
        fields = made.__dict__
        fields.update(guest.__dict__)
        fields["current"], fields["pending"], fields["digest"] = (
            read.current, read.pending, read.digest)
        return made

    async def _read_all(self, guests: list[ObservedGuest]) -> list[_Config | None]:
        """Every guest's config, ``concurrency`` reads at a time (the client's limits,
        overall and per node, apply too). The reads go round the nodes (one guest of
        each node in turn), so the per-node limit never leaves a reader waiting on
        one busy node while another node is idle; a few readers, each taking the next
        guest when done, instead of one task per guest. A read whose digest is that of
        the config last parsed for the guest (``_last``) gives that config again."""
        results: list[_Config | None] = [None] * len(guests)
        last_rows = self._last
        by_node: dict[str, list[int]] = {}
        for index, guest in enumerate(guests):
            by_node.setdefault(guest.node, []).append(index)
        order = iter([i for turn in itertools.zip_longest(*by_node.values())
                      for i in turn if i is not None])

        foreground = self.foreground

        async def reader() -> None:
            for index in order:  # shared: each guest is read by one reader
                guest = guests[index]
                if foreground is not None and foreground[0].holds_back(foreground[1]):
                    await foreground[0].wait_turn(foreground[1])
                try:
                    items = await pending_items(self.client, guest.kind, guest.node,
                                                guest.vmid)
                except NotFoundError:
                    continue  # deleted or migrated between the two requests
                except ProxmoxError as exc:
                    log.warning("observe.config_failed", vmid=guest.vmid, error=str(exc))
                    continue
                digest = items_digest(items)
                last = last_rows.get(guest.vmid)
                seen = last.guest if last is not None else None
                if (seen is not None and digest is not None and seen.digest == digest
                        and seen.kind == guest.kind and seen.current is not None):
                    results[index] = _Config(current=seen.current, pending=seen.pending,
                                             digest=digest)
                else:
                    results[index] = _Config.of(parse_pending(guest.kind, guest.node,
                                                              guest.vmid, items))

        await asyncio.gather(*(reader() for _ in range(min(self.concurrency, len(guests)))))
        return results

    async def observe_ct_templates(self, observed: ObservedCluster) -> ObservedCluster:
        """``observed`` with the LXC template volumes of its storages filled in."""
        volumes: set[str] = set()
        done_shared: set[str] = set()
        for storage in observed.storages:
            if "vztmpl" not in storage.content or not storage.active:
                continue
            if storage.shared and storage.storage in done_shared:
                continue
            done_shared.add(storage.storage)
            try:
                items = await self.client.get(
                    f"/nodes/{storage.node}/storage/{storage.storage}/content",
                    content="vztmpl")
            except ProxmoxError as exc:
                log.warning("observe.templates_failed", storage=storage.storage,
                            error=str(exc))
                continue
            volumes.update(str(i["volid"]) for i in items or [] if i.get("volid"))
        return replace(observed, ct_templates=tuple(sorted(volumes)))
