"""Benchmark the reconcile engine against the simulator; prints JSON.

1. No-op reconcile of N owned guests (default 100 and 1,000) at ``--latency-ms 2``:
   - ``full_resync``: a fresh process (empty config cache): one ``/cluster/resources``
     plus ``config?current=1`` and ``pending`` of every owned guest;
   - ``steady_state``: the next poll of the same process: one ``/cluster/resources``.
   Wall time of the whole run (database rows included) and the Proxmox request count.
2. Converge from empty: N = 100 guests at ``--task-seconds 0.5``, against the lower bound
   set by the parallelism limits (``max_parallel``, ``per_node_parallel`` and where the
   planner put each guest): ``rounds × tasks per guest × task_seconds``.

Usage: ``python bench/reconcile.py [--sizes 100,1000] [--converge 100]
[--database-url URL]`` (default: an embedded PostgreSQL in a temporary folder).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import structlog

from mycopod.config import DatabaseSettings, load_settings
from mycopod.proxmox.client import ProxmoxClient
from mycopod.pvesim import direct, persistence
from mycopod.pvesim.state import Cluster
from mycopod.reconcile import reconciler
from mycopod.spec import ClusterSpec, GuestSpec
from mycopod.store import db as dbmod
from mycopod.store import migrate
from mycopod.store.runs import RunStore

REPO = Path(__file__).resolve().parents[1]
TASK_POLL = float(os.environ.get("BENCH_TASK_POLL", "0.05"))


class SimProcess:
    """The simulator in its own process (as a real cluster is another machine: the
    client and the server must not share one GIL), started from a prepared state file."""

    user, password = "root@pam", "mycopod"

    def __init__(self, state: Path, *, profile: Path | None = None, **options: Any) -> None:
        self.state = state
        self.options = options
        #: write a cProfile of the simulator process here (when it stops)
        self.profile = profile
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.cluster: Cluster | None = None

    def __enter__(self) -> SimProcess:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        python = [sys.executable]
        if self.profile is not None:
            python += ["-m", "cProfile", "-o", str(self.profile)]
        argv = [*python, "-m", "mycopod.cli", "sim", "--port", str(port),
                "--state", str(self.state)]
        for key, value in self.options.items():
            argv += [f"--{key.replace('_', '-')}", str(value)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        assert self.proc.stdout is not None
        self.proc.stdout.readline()  # the ready line
        self.url = f"https://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def load(self) -> Cluster:
        return persistence.load_or_create(self.state, node_count=3)


def prepare_state(path: Path, bulk: int) -> None:
    cluster = Cluster.initial(node_count=3, seed=1)
    if bulk:
        direct.add_guests(cluster, bulk, owned_tag="mycopod", storage="tank", disk_gib=8)
    persistence.save(cluster, path)


def settings_for(sim: Any, **apply: Any) -> Any:
    return load_settings(environ={}, overrides={
        "proxmox": {"url": sim.url, "user": sim.user, "password": sim.password,
                    "verify_tls": False, "timeout": 30, "max_workers": 32},
        "apply": apply,
        # the benchmark measures applying its creates: the create budgets, which would
        # ask a person to approve 100 creates, are raised out of the way
        "policy": {"max_creates_per_run": 100_000, "max_creates_per_window": 100_000},
    })


async def one_run(ctx: reconciler.EngineContext, spec: ClusterSpec) -> tuple[Any, float, int]:
    runs = RunStore(ctx.pool)
    await runs.create(trigger="drift", cluster=ctx.cluster)
    run = await runs.claim_next_pending(ctx.cluster)
    assert run is not None
    before = ctx.client.request_count
    started = time.perf_counter()
    final = await reconciler.execute_run(run, ctx=ctx, spec=spec)
    return final, time.perf_counter() - started, ctx.client.request_count - before


def bulk_spec(cluster: Cluster) -> ClusterSpec:
    """The spec that matches the guests ``add_guests`` made (so a reconcile is a no-op)."""
    guests = []
    with cluster.lock:
        for g in cluster.guests.values():
            if g.name.startswith("bulk-"):
                guests.append(GuestSpec.model_validate({
                    "name": g.name, "state": "stopped", "cores": 1, "memory_mib": 1024,
                    "disks": [{"slot": "scsi0", "storage": "tank", "size_gib": 8}],
                    "networks": [{"ip": None}]}))
    return ClusterSpec(guests=guests)


async def noop(pool: Any, n: int, latency_ms: float, workdir: Path) -> dict[str, Any]:
    state = workdir / f"noop-{n}.json"
    prepare_state(state, n)
    with SimProcess(state, latency_ms=latency_ms, seed=1) as sim:
        spec = bulk_spec(sim.load())
        settings = settings_for(sim)
        client = ProxmoxClient.from_settings(settings.proxmox, task_poll=TASK_POLL)
        ctx = reconciler.EngineContext.create(pool, settings, client=client)
        try:
            await client.get("/version")  # log in: the ticket is not part of a poll
            cold, cold_s, cold_req = await one_run(ctx, spec)
            assert ctx.observer is not None
            ctx.observer.invalidate()  # a full resync, on warm connections
            full, full_s, full_req = await one_run(ctx, spec)
            steady, steady_s, steady_req = await one_run(ctx, spec)
            for run in (cold, full, steady):
                assert run.status == "Succeeded", run.error
                assert not (run.plan or {}).get("actions")
        finally:
            await client.aclose()
        await pool.execute("DELETE FROM inventory")
    return {
        "guests": n, "latency_ms": latency_ms,
        "first_contact": {"seconds": round(cold_s, 3), "proxmox_requests": cold_req,
                          "note": "full resync on new TLS connections (handshakes)"},
        "full_resync": {"seconds": round(full_s, 3), "proxmox_requests": full_req},
        "steady_state": {"seconds": round(steady_s, 3), "proxmox_requests": steady_req},
    }


async def converge(pool: Any, n: int, task_seconds: float, latency_ms: float,
                   max_parallel: int, per_node: int, workdir: Path) -> dict[str, Any]:
    state = workdir / "converge.json"
    prepare_state(state, 0)
    with SimProcess(state, latency_ms=latency_ms, task_seconds=task_seconds, seed=2) as sim:
        settings = settings_for(sim, max_parallel=max_parallel, per_node_parallel=per_node)
        client = ProxmoxClient.from_settings(settings.proxmox, task_poll=TASK_POLL)
        ctx = reconciler.EngineContext.create(pool, settings, client=client)
        spec = ClusterSpec(guests=[GuestSpec.model_validate({
            "name": f"c-{i:03d}", "memory_mib": 512,
            "disks": [{"slot": "scsi0", "storage": "tank", "size_gib": 2}]})
            for i in range(n)])
        try:
            await client.get("/version")
            final, seconds, requests = await one_run(ctx, spec)
            assert final.status == "Succeeded", final.error
            again, _, _ = await one_run(ctx, spec)
            assert not (again.plan or {}).get("actions")
        finally:
            await client.aclose()
    actions = (final.plan or {}).get("actions", [])
    per_guest = Counter(a["target"] for a in actions)
    tasks_per_guest = max(per_guest.values())
    per_node_count = Counter(a["node"] for a in actions if a["kind"] == "create")
    rounds = max(math.ceil(n / max_parallel),
                 max(math.ceil(c / per_node) for c in per_node_count.values()))
    bound = rounds * tasks_per_guest * task_seconds
    return {
        "guests": n, "task_seconds": task_seconds, "latency_ms": latency_ms,
        "max_parallel": max_parallel, "per_node_parallel": per_node,
        "guests_per_node": dict(sorted(per_node_count.items())),
        "tasks_per_guest": tasks_per_guest, "seconds": round(seconds, 3),
        "lower_bound_seconds": round(bound, 3), "ratio": round(seconds / bound, 3),
        "proxmox_requests": requests, "target_ratio": 1.3,
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="mycopod-bench-"))
    try:
        # without --database-url: an embedded PostgreSQL under the work folder
        async with dbmod.open_database(DatabaseSettings(url=args.database_url),
                                       state_dir=work / "db", min_size=2) as database:
            pool = database.pool
            async with pool.acquire() as conn:
                await migrate.up(conn)
            results: dict[str, Any] = {"noop": [], "converge": None}
            for n in [int(s) for s in args.sizes.split(",") if s]:
                results["noop"].append(await noop(pool, n, args.latency_ms, work))
            if args.converge:
                results["converge"] = await converge(pool, args.converge, args.task_seconds,
                                                     args.latency_ms, args.max_parallel,
                                                     args.per_node, work)
            return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--latency-ms", type=float, default=2.0)
    parser.add_argument("--converge", type=int, default=100)
    parser.add_argument("--task-seconds", type=float, default=0.5)
    parser.add_argument("--max-parallel", type=int, default=4)
    parser.add_argument("--per-node", type=int, default=2)
    parser.add_argument("--database-url")
    options = parser.parse_args()
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    json.dump(asyncio.run(main(options)), sys.stdout, indent=2)
    sys.stdout.write("\n")
