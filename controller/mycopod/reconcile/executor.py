"""The executor: runs a plan against Proxmox, guest by guest, recording every attempt.

- Actions of one guest run in dependency order; guests run in parallel, at most
  ``[apply] max_parallel`` at once and ``per_node_parallel`` per node.
- Each action row is written ``Pending`` before the call and finished after it (Success
  or Error, Proxmox's message, the UPID, times, ``requested_by``).
- Before acting, the guest is re-read (``/cluster/resources`` can be stale): concrete
  parameters are computed from its fresh config by :mod:`mycopod.proxmox.translate`, so
  an action that is already done is a no-op, and after a crash the next run neither
  repeats nor duplicates work. Writes pass the config ``digest``; on a checksum mismatch
  the guest is re-read and its parameters recomputed instead of overwriting.
- After the task, the guest is re-read to confirm the intended state.
- On a vmid collision ("already exists") the next free id is taken. The guest goes into
  the inventory just before its create or clone call, so a successor leader can always
  tie a half-made guest to its name.
- The first error on a guest stops that guest's remaining actions (recorded Skipped);
  other guests continue.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog

from mycopod import telemetry
from mycopod.config import ApplySettings
from mycopod.proxmox import payloads
from mycopod.proxmox.client import ProxmoxClient
from mycopod.proxmox.errors import ConflictError, NotFoundError, ProxmoxError
from mycopod.proxmox.observer import Observer, api_kind
from mycopod.reconcile import ha_wait, vmids
from mycopod.reconcile.config_steps import ActionFailed, _Guest
from mycopod.reconcile.guard import Guard, IdentityConflict
from mycopod.reconcile.plan import (
    Action,
    AdoptAction,
    CloneAction,
    ConfigureAction,
    CreateAction,
    DeleteAction,
    MigrateAction,
    Plan,
    RemoveDeviceAction,
    ResizeDiskAction,
    SetPoolAction,
    StartAction,
    StopAction,
    TagAdoptAction,
)
from mycopod.spec import ClusterSpec, GuestSpec
from mycopod.store.actions import ActionResult, ActionStore
from mycopod.store.inventory import InventoryStore

log = structlog.get_logger(__name__)

#: how many next ids are tried after a vmid collision
VMID_RETRIES = 10


@dataclass
class ExecutionResult:
    #: guest name → first error message
    failed: dict[str, str] = field(default_factory=dict)
    succeeded: list[str] = field(default_factory=list)
    actions: int = 0
    #: the first Proxmox error of the run, in time order
    first_error: str | None = None
    #: a stop was requested (SIGTERM): actions not yet started were skipped
    stopped: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed


class Executor(Guard):
    """Applies one plan for one run. Create one per run."""

    def __init__(self, *, client: ProxmoxClient, pool: asyncpg.Pool, cluster: str,
                 run_id: int, ownership_tag: str, apply: ApplySettings,
                 requested_by: int | None = None, observer: Observer | None = None,
                 used_vmids: set[int] | None = None,
                 stop: asyncio.Event | None = None,
                 credentials: Callable[[str], str] | None = None) -> None:
        self.client = client
        self.credentials = credentials
        self.stop = stop
        self.actions = ActionStore(pool)
        self.inventory = InventoryStore(pool)
        self.cluster = cluster
        self.run_id = run_id
        self.tag = ownership_tag
        self.apply = apply
        self.requested_by = requested_by
        self.observer = observer
        self.used_vmids = set(used_vmids or ())
        self._vmid_lock = asyncio.Lock()
        self.result = ExecutionResult()

    async def execute(self, plan: Plan, spec: ClusterSpec) -> ExecutionResult:
        by_guest: dict[str, list[tuple[int, Action]]] = defaultdict(list)
        for seq, action in enumerate(plan.actions):
            by_guest[action.target].append((seq, action))
        for action in plan.actions:
            if action.vmid is not None:
                self.used_vmids.add(action.vmid)
        global_slots = asyncio.Semaphore(self.apply.max_parallel)
        node_slots: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(self.apply.per_node_parallel))

        async def one(name: str, steps: list[tuple[int, Action]]) -> None:
            first = steps[0][1]
            node_key = first.node or ""
            async with node_slots[node_key], global_slots:
                try:
                    await self._run_guest(name, steps, spec.guest(name))
                except Exception as exc:  # one guest's bug must not stop the others
                    log.exception("apply.guest_crashed", run_id=self.run_id, guest=name)
                    message = f"internal error: {type(exc).__name__}: {exc}"
                    self.result.failed[name] = message
                    if self.result.first_error is None:
                        self.result.first_error = f"{name}: {message}"

        async with asyncio.TaskGroup() as group:
            for name, steps in by_guest.items():
                group.create_task(one(name, steps), name=f"apply:{name}")
        return self.result

    async def _run_guest(self, name: str, steps: list[tuple[int, Action]],
                         spec: GuestSpec | None) -> None:
        first = steps[0][1]
        guest = _Guest(name=name, kind=first.guest_kind, vmid=first.vmid, node=first.node,
                       spec=spec)
        failed: str | None = None
        for seq, action in steps:
            if failed is None and self.stop is not None and self.stop.is_set():
                self.result.stopped = True
                failed = "not started: the controller is stopping"
            if failed is not None:
                await self.actions.insert_skipped(
                    self.run_id, seq=seq, kind=action.kind, target=name, vmid=guest.vmid,
                    node=guest.node, params=action.params.model_dump(mode="json"),
                    destructive=action.destructive, description=action.reason,
                    requested_by=self.requested_by,
                    message=failed if failed.startswith("not started") else
                    f"skipped: an earlier action on {name} failed")
                telemetry.ACTIONS.labels(action.kind, "Skipped", self.cluster).inc()
                continue
            row = await self.actions.insert_pending(
                self.run_id, seq=seq, kind=action.kind, target=name, vmid=guest.vmid,
                node=guest.node, params=action.params.model_dump(mode="json"),
                destructive=action.destructive, description=action.reason,
                requested_by=self.requested_by)
            self.result.actions += 1
            started = time.monotonic()
            try:
                message, upid = await self._apply(action, guest)
            except (ProxmoxError, ActionFailed) as exc:
                failed = exc.message
                upid = getattr(exc, "upid", None)
                outcome: ActionResult = ("Conflict" if isinstance(exc, IdentityConflict)
                                         else "Error")
                await self.actions.finish(row.id, result=outcome, message=failed, upid=upid,
                                          vmid=guest.vmid, node=guest.node)
                telemetry.ACTIONS.labels(action.kind, outcome, self.cluster).inc()
                log.warning("action.failed", run_id=self.run_id, guest=name,
                            kind=action.kind, vmid=guest.vmid, error=failed)
                self.result.failed[name] = failed
                if self.result.first_error is None:
                    self.result.first_error = f"{name}: {failed}"
                continue
            finally:
                if self.observer is not None and guest.vmid is not None:
                    self.observer.invalidate(guest.vmid)
            await self.actions.finish(row.id, result="Success", message=message, upid=upid,
                                      vmid=guest.vmid, node=guest.node)
            telemetry.ACTIONS.labels(action.kind, "Success", self.cluster).inc()
            log.info("action.finished", run_id=self.run_id, guest=name, kind=action.kind,
                     vmid=guest.vmid, node=guest.node, result="Success",
                     seconds=round(time.monotonic() - started, 3))
        if failed is None:
            self.result.succeeded.append(name)
        elif failed.startswith("not started"):
            self.result.failed.setdefault(name, failed)

    # -- one action ----------------------------------------------------------------------

    async def _apply(self, action: Action, guest: _Guest) -> tuple[str, str | None]:
        await self._guard(action, guest)
        match action:
            case AdoptAction():
                return await self._do_adopt(action, guest)
            case CreateAction():
                return await self._do_create(action, guest)
            case CloneAction():
                return await self._do_clone(action, guest)
            case ConfigureAction():
                return await self._do_configure(action, guest)
            case ResizeDiskAction():
                return await self._do_resize_disk(action, guest)
            case TagAdoptAction():
                return await self._do_tag_adopt(action, guest)
            case RemoveDeviceAction():
                return await self._do_remove_device(action, guest)
            case SetPoolAction():
                return await self._do_set_pool(action, guest)
            case StartAction():
                return await self._power(guest, "start", "running")
            case StopAction():
                return await self._power(guest, "stop", "stopped")
            case DeleteAction():
                return await self._do_delete(guest)
            case MigrateAction():
                return await self._do_migrate(action, guest)

    async def _call_with_free_vmid(self, guest: _Guest, planned: int, verb: str,
                                   call: Callable[[int], Awaitable[Any]]) -> tuple[Any, bool]:
        """``call(vmid)`` with a free vmid, taking the next one after "already exists".

        The guest goes into the inventory *before* the call: a leader killed between
        Proxmox accepting the call and the row being written would otherwise leave a
        half-made guest no successor can tie to its name, and the successor would create
        the name again. The row is taken back when the vmid turns out to be someone
        else's. Returns the call's result and whether the guest was found to exist already
        (a retried call that had in fact gone through)."""
        collided: set[int] = set()
        for _ in range(VMID_RETRIES):
            vmid = await vmids.free_vmid(self.client, planned, collided=collided,
                                         used=self.used_vmids, lock=self._vmid_lock)
            if vmid is None:
                raise ActionFailed(f"no free VMID found from {planned} to "
                                   f"{planned + vmids.PROBES}")
            guest.vmid = vmid
            await self._accepted(guest)
            try:
                result = await call(vmid)
            except ConflictError as exc:
                owner = await vmids.whose(self.client, vmid, name=guest.name,
                                          ownership_tag=self.tag)
                if owner == "ours":
                    return None, True
                if owner != "theirs":  # maybe ours: another vmid could make a duplicate
                    raise ActionFailed(
                        f"VMID {vmid} already exists and "
                        f"{'is still being made' if owner == 'unfinished' else 'cannot be read'}"
                        f", perhaps by this {verb} (an answer lost on the way); "
                        f"{guest.name} is not made under another VMID: the next run "
                        "looks again") from None
                await self.inventory.remove(self.cluster, vmid=vmid)
                log.info(f"{verb}.vmid_taken", guest=guest.name, vmid=vmid, error=exc.message)
                collided.add(vmid)
                continue
            return result, False
        raise ActionFailed(f"no free VMID after {VMID_RETRIES} collisions")

    async def _do_create(self, action: CreateAction,
                         guest: _Guest) -> tuple[str, str | None]:
        spec = self._need_spec(guest)
        planned = action.params.vmid

        async def create(vmid: int) -> Any:
            params = payloads.create_params(spec, vmid=vmid, ownership_tag=self.tag,
                                            ostemplate=action.params.ostemplate)
            return await self.client.post(f"/nodes/{guest.node}/{api_kind(guest.kind)}", **params)

        result, found = await self._call_with_free_vmid(guest, planned, "create", create)
        if found:
            return f"created as {guest.vmid} (found after a retried call)", None
        upid = await self._wait(result)
        await self._record_identity(guest)
        status = await self._status(guest)
        return f"created VMID {guest.vmid} on {guest.node} ({status})", upid

    async def _do_clone(self, action: CloneAction, guest: _Guest) -> tuple[str, str | None]:
        p = action.params
        planned = p.newid
        template_node, template_vmid = p.template_node, p.template_vmid

        async def clone(vmid: int) -> Any:
            params: dict[str, Any] = {"newid": vmid, "full": 1,
                                      "hostname" if guest.kind == "ct" else "name": guest.name}
            if guest.node and guest.node != template_node:
                params["target"] = guest.node
            if p.storage:
                params["storage"] = p.storage
            if p.pool:
                params["pool"] = p.pool
            return await self.client.post(
                f"/nodes/{template_node}/{api_kind(guest.kind)}/{template_vmid}/clone", **params)

        result, found = await self._call_with_free_vmid(guest, planned, "clone", clone)
        if found:
            return f"cloned as {guest.vmid} (found after a retried call)", None
        upid = await self._wait(result)
        await self._record_identity(guest)
        return f"cloned template {template_vmid} to VMID {guest.vmid} on {guest.node}", upid

    async def _power(self, guest: _Guest, verb: str, want: str) -> tuple[str, str | None]:
        if await self._status(guest) == want:
            return f"already {want}", None
        result = await self.client.post(f"{self._base(guest)}/status/{verb}")
        upid = await self._wait(result)
        status = await self._status(guest)
        if status != want and ha_wait.is_ha_task(upid):  # the HA manager acts later
            if (status := await ha_wait.settle(lambda: self._status(guest), want)) != want:
                return f"{verb} requested from the HA manager (still {status})", upid
        if status != want:
            raise ActionFailed(f"{verb} finished but the guest is {status}", upid=upid)
        return f"{want}", upid

    async def _do_delete(self, guest: _Guest) -> tuple[str, str | None]:
        assert guest.vmid is not None
        params: dict[str, Any] = {"purge": 1, "destroy-unreferenced-disks": 1}
        try:
            result = await self.client.delete(self._base(guest), **params)
        except NotFoundError:
            await self.inventory.remove(self.cluster, vmid=guest.vmid)
            return "already gone", None
        upid = await self._wait(result)
        try:
            await self.client.get(f"{self._base(guest)}/status/current")
        except NotFoundError:
            await self.inventory.remove(self.cluster, vmid=guest.vmid)
            return f"deleted VMID {guest.vmid}", upid
        raise ActionFailed(f"VMID {guest.vmid} still exists after the delete", upid=upid)

    async def _do_migrate(self, action: MigrateAction,
                          guest: _Guest) -> tuple[str, str | None]:
        assert guest.vmid is not None
        target = action.params.target
        running = await self._status(guest) == "running"
        params: dict[str, Any] = {"target": target}
        if guest.kind == "vm":
            if running:
                params["online"] = 1
            params["with-local-disks"] = 1
        elif running:
            params["restart"] = 1
        result = await self.client.post(f"{self._base(guest)}/migrate", **params)
        upid = await self._wait(result)
        if not await ha_wait.arrived(self.client, upid, guest.vmid, target):
            return f"migration to {target} requested from the HA manager", upid
        source = guest.node
        guest.node = target
        await self.inventory.set_node(self.cluster, vmid=guest.vmid, node=target)
        await self._status(guest)  # confirms it answers on the target node
        return f"migrated from {source} to {target}", upid
