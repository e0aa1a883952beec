"""Benchmark the steady state at scale: one cluster, 10,000 guests; prints JSON.

With the simulator in its own process at ``--latency-ms 2`` (the setup of
``bench/reconcile.py``), it measures what the drift ticker does
(:class:`mycopod.reconcile.triggers.DriftTicker`, one
:func:`~mycopod.reconcile.triggers.check_drift` per tick):

- ``full_resync``: a tick with a full sweep (every owned guest's config read), under the
  client's global and per-node limits (``[proxmox] max_workers``, the observer's
  concurrency);
- ``steady_state``: the next ticks of the same process, nothing changed (median of
  ``--ticks``): one ``/cluster/resources``, and no planning when no row changed;
- ``one_row_changed``: a tick after one guest's row changed (its status), which reads
  and plans that guest only.

Targets (issue 17): steady state under 150 ms with 1 request; full resync under 6 s.

Usage: ``python bench/scale.py [--guests 10000] [--ticks 5] [--database-url URL]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import structlog

import reconcile as setup  # bench/reconcile.py (the script's folder is on sys.path)
from mycopod.config import DatabaseSettings
from mycopod.proxmox.client import ProxmoxClient
from mycopod.reconcile import reconciler, triggers
from mycopod.store import db as dbmod
from mycopod.store import migrate

TARGET_STEADY_SECONDS = 0.150
TARGET_FULL_SECONDS = 6.0


async def tick(ctx: reconciler.EngineContext, *, full: bool = False) -> tuple[float, int,
                                                                               list[str]]:
    """One drift check; wall time, Proxmox requests, the guests a run would change."""
    assert ctx.observer is not None
    if full:
        ctx.observer.invalidate()
    before = ctx.client.request_count
    started = time.perf_counter()
    drift = await triggers.check_drift(ctx)
    return time.perf_counter() - started, ctx.client.request_count - before, drift


async def scale(pool: Any, n: int, ticks: int, latency_ms: float,
                workdir: Path) -> dict[str, Any]:
    state = workdir / f"scale-{n}.json"
    setup.prepare_state(state, n)
    # pvestatd's sampling every 2 s: a started guest shows in /cluster/resources then
    with setup.SimProcess(state, latency_ms=latency_ms, seed=1, stats_interval=2) as sim:
        spec = setup.bulk_spec(sim.load())
        settings = setup.settings_for(sim)
        client = ProxmoxClient.from_settings(settings.proxmox, task_poll=setup.TASK_POLL)
        loaded = reconciler.LoadedSpec(spec=spec)

        async def load(_run: Any) -> reconciler.LoadedSpec:
            return loaded

        ctx = reconciler.EngineContext.create(pool, settings, client=client,
                                              spec_loader=load)
        try:
            await client.get("/version")  # log in: the ticket is not part of a tick
            await tick(ctx, full=True)  # first contact (TLS handshakes)
            full_s, full_req, full_drift = await tick(ctx, full=True)
            steady = [await tick(ctx) for _ in range(ticks)]
            assert not full_drift and not any(d for _, _, d in steady)
            victim = next(g for g in spec.guests)
            await client.post(f"/nodes/{_node(sim, victim.name)}/qemu/"
                              f"{_vmid(sim, victim.name)}/status/start")
            await asyncio.sleep(2.5)
            changed_s, changed_req, changed_drift = await tick(ctx)
        finally:
            await client.aclose()
    seconds = [s for s, _, _ in steady]
    requests = max(r for _, r, _ in steady)
    median = statistics.median(seconds)
    return {
        "guests": n, "latency_ms": latency_ms,
        "full_resync": {"seconds": round(full_s, 3), "proxmox_requests": full_req,
                        "max_workers": settings.proxmox.max_workers,
                        "target_seconds": TARGET_FULL_SECONDS,
                        "met": full_s < TARGET_FULL_SECONDS},
        "steady_state": {"seconds_median": round(median, 4),
                         "seconds_max": round(max(seconds), 4),
                         "proxmox_requests": requests, "ticks": ticks,
                         "target_seconds": TARGET_STEADY_SECONDS,
                         "met": median < TARGET_STEADY_SECONDS and requests == 1},
        "one_row_changed": {"seconds": round(changed_s, 4), "proxmox_requests": changed_req,
                            "drifted": changed_drift},
    }


def _vmid(sim: Any, name: str) -> int:
    from mycopod.pvesim import direct
    found = direct.find_guest(sim.load(), name)
    assert found is not None
    return found.vmid


def _node(sim: Any, name: str) -> str:
    from mycopod.pvesim import direct
    found = direct.find_guest(sim.load(), name)
    assert found is not None
    return found.node


async def main(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="mycopod-scale-"))
    try:
        async with dbmod.open_database(DatabaseSettings(url=args.database_url),
                                       state_dir=work / "db", min_size=2) as database:
            async with database.pool.acquire() as conn:
                await migrate.up(conn)
            return await scale(database.pool, args.guests, args.ticks, args.latency_ms, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guests", type=int, default=10_000)
    parser.add_argument("--ticks", type=int, default=5)
    parser.add_argument("--latency-ms", type=float, default=2.0)
    parser.add_argument("--database-url")
    parser.add_argument("--profile", help="write a cProfile of the whole run here")
    options = parser.parse_args()
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    if options.profile:
        import cProfile
        with cProfile.Profile() as profile:
            result = asyncio.run(main(options))
        profile.dump_stats(options.profile)
    else:
        result = asyncio.run(main(options))
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
