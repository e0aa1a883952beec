"""Worker tasks: UPIDs, the timed runner, task status and logs.

PVE answers an asynchronous call with a UPID at once and does the work in a forked
worker; clients poll ``tasks/{upid}/status`` until it says ``stopped`` and read
``exitstatus``. Here a task is an asyncio task that waits ``task_seconds`` and then
applies its effect to the cluster in one step under the cluster lock, so a task either
takes effect fully or, on error, is rolled back. Tasks on the same guest run one after
the other, like PVE's per-guest config lock (an ``flock``): a task that cannot get it
within ``lock_timeout`` (PVE: 10 s) fails "can't lock file '…' - got timeout".
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from mycopod.pvesim.errors import TaskError
from mycopod.pvesim.faults import Faults
from mycopod.pvesim.state import Cluster, Guest

log = structlog.get_logger(__name__)

#: finished tasks kept for status/log queries
TASK_HISTORY = 5000


@dataclass
class Task:
    upid: str
    node: str
    pid: int
    pstart: int
    starttime: int
    type: str
    id: str
    user: str
    status: str = "running"
    exitstatus: str | None = None
    endtime: int | None = None
    log: list[str] = field(default_factory=list)

    def status_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "upid": self.upid,
            "node": self.node,
            "pid": self.pid,
            "pstart": self.pstart,
            "starttime": self.starttime,
            "type": self.type,
            "id": self.id,
            "user": self.user,
            "status": self.status,
        }
        # pve-manager PVE/API2/Tasks.pm $convert_token_task: a token's task shows the
        # user and the token name apart (the UPID keeps USER!TOKEN)
        if "!" in self.user:
            out["user"], out["tokenid"] = self.user.split("!", 1)
        if self.status == "stopped":
            out["exitstatus"] = self.exitstatus
        return out

    def list_dict(self) -> dict[str, Any]:
        out = self.status_dict()
        out.pop("exitstatus", None)
        if self.status == "stopped":
            out["status"] = self.exitstatus
            out["endtime"] = self.endtime
        else:
            out.pop("status")
        return out


def make_upid(
    node: str, pid: int, pstart: int, starttime: int, wtype: str, wid: str, user: str
) -> str:
    return f"UPID:{node}:{pid:08X}:{pstart:08X}:{starttime:08X}:{wtype}:{wid}:{user}:"


def parse_upid(upid: str) -> tuple[str, ...] | None:
    parts = upid.split(":")
    if len(parts) != 9 or parts[0] != "UPID" or parts[8] != "":
        return None
    return tuple(parts[1:8])


@dataclass
class Job:
    """What a task does when its time is up (``apply``), and how to undo what the
    request already did when it fails (``rollback``). Both run under the cluster lock."""

    apply: Callable[[Task], None]
    rollback: Callable[[Task], None] | None = None
    #: the guest whose tasks must not overlap
    vmid: int | None = None
    kind: str = "qemu"
    #: the guest the task works on; if it is gone by then, the task fails as PVE's would
    guest: Guest | None = None


def lock_path(kind: str, vmid: object) -> str:
    """The file PVE locks while changing a guest's config."""
    if kind == "lxc":
        return f"/run/lock/lxc/pve-config-{vmid}.lock"
    return f"/var/lock/qemu-server/lock-{vmid}.conf"


class TaskRunner:
    def __init__(
        self, cluster: Cluster, faults: Faults, *, task_seconds: float, lock_timeout: float = 10.0
    ) -> None:
        self.cluster = cluster
        self.faults = faults
        self.task_seconds = task_seconds
        self.lock_timeout = lock_timeout
        self.tasks: OrderedDict[str, Task] = OrderedDict()
        self._pids = itertools.count(cluster.rng.randrange(100_000, 3_000_000))
        self._guest_locks: dict[int, asyncio.Lock] = {}
        #: the asyncio tasks of running tasks, by UPID (also keeps them referenced)
        self._runners: dict[str, asyncio.Task[None]] = {}

    def start(self, *, node: str, wtype: str, wid: str | int, user: str, job: Job) -> str:
        now = int(self.cluster.clock())
        pid = next(self._pids)
        pstart = pid * 7 % 10_000_000 + 1_000
        upid = make_upid(node, pid, pstart, now, wtype, str(wid), user)
        task = Task(upid, node, pid, pstart, now, wtype, str(wid), user)
        task.log.append(f"starting {wtype} {wid}")
        self.tasks[upid] = task
        while len(self.tasks) > TASK_HISTORY:
            self.tasks.popitem(last=False)
        runner = asyncio.get_running_loop().create_task(
            self._run(task, job), name=f"pvesim-task-{upid}"
        )
        runner.add_done_callback(lambda _: self._runners.pop(upid, None))
        self._runners[upid] = runner
        return upid

    def stop(self, upid: str) -> None:
        """Stop a running task (``DELETE …/tasks/{upid}``); it ends "interrupted by signal"
        and what its request began is rolled back."""
        runner = self._runners.get(upid)
        if runner is not None:
            runner.cancel()

    def config_lock(self, vmid: int) -> asyncio.Lock:
        """The guest's config lock (PVE's ``flock`` on ``lock_path``)."""
        return self._guest_locks.setdefault(vmid, asyncio.Lock())

    async def acquire_config_lock(self, kind: str, vmid: int) -> asyncio.Lock:
        """Wait for the guest's config lock at most ``lock_timeout`` seconds, then fail
        as PVE does (pve-common PVE/Tools.pm lock_file_full, via pve-guest-common
        PVE/AbstractConfig.pm lock_config: a 10 s timeout)."""
        lock = self.config_lock(vmid)
        try:
            async with asyncio.timeout(self.lock_timeout):
                await lock.acquire()
        except TimeoutError:
            raise TaskError(f"can't lock file '{lock_path(kind, vmid)}' - got timeout") from None
        return lock

    def later(self, delay: float, name: str, fn: Callable[[], None]) -> None:
        """Run ``fn`` under the cluster lock after ``delay`` seconds (what a daemon such
        as the HA manager does later); cancelled when the simulator stops."""

        async def run() -> None:
            await asyncio.sleep(delay)
            with self.cluster.lock:
                fn()

        runner = asyncio.get_running_loop().create_task(run(), name=f"pvesim-{name}")
        key = f"later:{id(runner)}"
        runner.add_done_callback(lambda _: self._runners.pop(key, None))
        self._runners[key] = runner

    async def _run(self, task: Task, job: Job) -> None:
        lock = None
        try:
            if job.vmid is not None:
                try:
                    lock = await self.acquire_config_lock(job.kind, job.vmid)
                except TaskError as exc:
                    with self.cluster.lock:
                        if job.rollback is not None:
                            job.rollback(task)
                        self._end(task, str(exc))
                        self.cluster.touch()
                    return
            try:
                await asyncio.sleep(self.task_seconds)
                with self.cluster.lock:
                    self._finish(task, job)
            finally:
                if lock is not None:
                    lock.release()
        except asyncio.CancelledError:
            # the simulator is stopping: undo what the request began, so a saved state
            # never keeps a half-created guest or a stale lock
            with self.cluster.lock:
                if task.status == "running":
                    if job.rollback is not None:
                        job.rollback(task)
                    self._end(task, "interrupted by signal")
                    self.cluster.touch()
            raise

    def _finish(self, task: Task, job: Job) -> None:
        try:
            if self.faults.task_fails():
                vmid = job.vmid if job.vmid is not None else task.id
                raise TaskError(f"can't lock file '{lock_path(job.kind, vmid)}' - got timeout")
            if job.guest is not None and self.cluster.guests.get(job.guest.vmid) is not job.guest:
                raise TaskError(f"Configuration file '{job.guest.conf_path}' does not exist")
            job.apply(task)
        except TaskError as exc:
            if job.rollback is not None:
                job.rollback(task)
            self._end(task, str(exc).rstrip("\n"))
        except Exception as exc:  # a bug in the simulator: fail the task, keep serving
            log.exception("pvesim.task.crashed", upid=task.upid)
            if job.rollback is not None:
                job.rollback(task)
            self._end(task, f"internal simulator error: {exc}")
        else:
            self._end(task, "OK")
        self.cluster.touch()

    def _end(self, task: Task, exitstatus: str) -> None:
        task.status = "stopped"
        task.exitstatus = exitstatus
        task.endtime = int(self.cluster.clock())
        task.log.append("TASK OK" if exitstatus == "OK" else f"TASK ERROR: {exitstatus}")

    async def close(self) -> None:
        runners = list(self._runners.values())
        for runner in runners:
            runner.cancel()
        if runners:
            await asyncio.gather(*runners, return_exceptions=True)
