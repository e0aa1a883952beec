"""Benchmark the steady state at scale: one cluster, 10,000 guests; prints JSON.

With the simulator in its own process at ``--latency-ms 2`` (the setup of
``bench/reconcile.py``), it measures what the drift ticker does
(:class:`mycopod.reconcile.triggers.DriftTicker`, one
:func:`~mycopod.reconcile.triggers.check_drift` per tick):

- ``full_resync``: a tick with a full sweep (every owned guest's config read), under the
  client's global and per-node limits (``[proxmox] max_workers``, the observer's
  concurrency), after a first one (``first_full_resync``, where nothing is known yet:
  TLS handshakes, every config parsed and every guest planned; the later ones parse
  and plan only what changed since, by the configs' digests: nothing here);
- ``steady_state``: the next ticks of the same process, nothing changed (median of
  ``--ticks``): one ``/cluster/resources``, and no planning when no row changed (the
  inventory holds every guest, as after MycoPod created them, and is read each tick);
  ``rows_made_again_max``: the most rows a tick made into guests again (0: every row
  was compared and kept);
- ``one_row_changed``: a tick after one guest's row changed (its status), which reads
  and plans that guest only.

Wall times are medians (``--full-runs`` full resyncs, ``--ticks`` steady ticks); each
comes with the CPU time of this process (``time.process_time``), which a loaded machine
disturbs less. The full resync's limits are checked twice, by the client's own counters
(``client.limits``) and by the simulator's (``GET /_sim/stats``: the most requests it
was answering at once, overall and per node): at most ``[proxmox] max_workers`` at
once, and the per-node limit on each node; the run fails if they were exceeded.
Each full resync also gives the simulator's CPU time (its process's user and system
time, from ``/proc``), and ``connections``: how many TLS connections carried its
requests (the client keeps them alive: at most ``max_workers``). ``load_average``: the
machine's, at the start and the end (the machine may be shared).
``memory``: this process's resident set (VmRSS) and its peak (VmHWM) after the full
resyncs and after the steady ticks, and how much the resident set grew over the
steady ticks (it must stay about flat).

Targets (issue 17): steady state under 150 ms with 1 request; full resync under 6 s.

Usage: ``python bench/scale.py [--guests 10000] [--ticks 20] [--full-runs 3]
[--max-workers N] [--database-url URL] [--profile FILE] [--sim-profile FILE]
[--profile-first FILE]`` (cProfile of this process, of the simulator process, or of
the first full resync alone).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import logging
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import requests
import structlog

import reconcile as setup  # bench/reconcile.py (the script's folder is on sys.path)
from mycopod.config import DatabaseSettings
from mycopod.proxmox.client import ProxmoxClient
from mycopod.pvesim import persistence
from mycopod.pvesim.state import Cluster
from mycopod.reconcile import reconciler, triggers
from mycopod.spec import ClusterSpec
from mycopod.store import db as dbmod
from mycopod.store import migrate
from mycopod.store.inventory import InventoryStore

TARGET_STEADY_SECONDS = 0.150
TARGET_FULL_SECONDS = 6.0
TARGET_RSS_MIB = 300


async def tick(ctx: reconciler.EngineContext, *, full: bool = False,
               profile: Path | None = None) -> tuple[float, int, list[str], float]:
    """One drift check; wall time, Proxmox requests, the guests a run would change, and
    the CPU time this process spent on it (``profile``: a cProfile of this tick alone
    written there)."""
    assert ctx.observer is not None
    if full:
        ctx.observer.invalidate()
    before = ctx.client.request_count
    profiler = None
    if profile is not None:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    cpu = time.process_time()
    started = time.perf_counter()
    drift = await triggers.check_drift(ctx)
    result = (time.perf_counter() - started, ctx.client.request_count - before, drift,
              time.process_time() - cpu)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    return result


def memory() -> dict[str, float]:
    """This process's resident set and its peak, in MiB (Linux /proc/self/status)."""
    found: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[{"VmRSS": "rss_mib", "VmHWM": "peak_rss_mib"}[key]] = round(
                int(value.split()[0]) / 1024, 1)
    return found


def process_cpu(pid: int) -> float:
    """A process's CPU time so far (user and system), in seconds (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sim_stats(sim: Any, *, reset: bool = False) -> dict[str, Any]:
    """The simulator's request counters (``/_sim/stats``); ``reset`` starts them afresh."""
    answer = requests.request("POST" if reset else "GET", f"{sim.url}/_sim/stats",
                              verify=False, timeout=30)
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


async def scale(pool: Any, n: int, ticks: int, latency_ms: float,
                workdir: Path, full_runs: int = 3, max_workers: int | None = None,
                sim_profile: Path | None = None,
                first_profile: Path | None = None) -> dict[str, Any]:
    state = workdir / f"scale-{n}.json"
    # The simulator's state is made and read in another process: this one's memory is
    # the controller's alone (what a replica holds), not 10,000 simulated guests too.
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as other:
        spec_json, inventory, victim = other.submit(_prepare, state, n).result()
    spec = ClusterSpec.model_validate_json(spec_json)
    # pvestatd's sampling every 2 s: a started guest shows in /cluster/resources then
    with setup.SimProcess(state, latency_ms=latency_ms, seed=1, stats_interval=2,
                          profile=sim_profile) as sim:
        assert sim.proc is not None
        sim_pid = sim.proc.pid
        settings = setup.settings_for(sim)
        if max_workers is not None:
            settings = settings.model_copy(update={"proxmox": settings.proxmox.model_copy(
                update={"max_workers": max_workers})})
        # as after MycoPod created them: every guest in the inventory (read at each tick)
        await InventoryStore(pool).record_many(settings.proxmox.cluster, inventory)
        del inventory
        client = ProxmoxClient.from_settings(settings.proxmox, task_poll=setup.TASK_POLL)
        loaded = reconciler.LoadedSpec(spec=spec)

        async def load(_run: Any) -> reconciler.LoadedSpec:
            return loaded

        ctx = reconciler.EngineContext.create(pool, settings, client=client,
                                              spec_loader=load)
        try:
            await client.get("/version")  # log in: the ticket is not part of a tick
            # first contact (TLS handshakes), and nothing known yet: every config is
            # parsed and every guest planned
            sim_before = process_cpu(sim_pid)
            cold = await tick(ctx, full=True, profile=first_profile)
            cold_sim_cpu = process_cpu(sim_pid) - sim_before
            client.limits.reset_peaks()
            await asyncio.to_thread(sim_stats, sim, reset=True)
            fulls, sim_cpu = [], []
            for _ in range(full_runs):
                sim_before = process_cpu(sim_pid)
                fulls.append(await tick(ctx, full=True))
                sim_cpu.append(process_cpu(sim_pid) - sim_before)
            server = await asyncio.to_thread(sim_stats, sim)
            limits = client.limits
            assert not any(d for _, _, d, _ in fulls)
            # the limits held, as the client counted and as the cluster saw it
            assert limits.max_in_flight <= limits.total, limits.max_in_flight
            assert server["peak"] <= limits.total, server
            assert all(c <= limits.per_node for c in limits.max_in_flight_per_node.values())
            assert all(c <= limits.per_node for c in server["peak_per_node"].values()), server
            # the connections were kept alive: a few carried every request
            assert server["connections"] <= limits.total, server
            after_full = memory()
            steady = [await tick(ctx)]
            after_first = memory()
            reused = int(ctx.plan_memo.reused)
            # rows made into guests again (0: every row compared, none changed)
            remade = [ctx.observer.last_rows_changed]
            for _ in range(ticks - 1):
                steady.append(await tick(ctx))
                reused += ctx.plan_memo.reused
                remade.append(ctx.observer.last_rows_changed)
            after_steady = memory()
            assert not any(d for _, _, d, _ in steady)
            await client.post(f"/nodes/{victim[1]}/qemu/{victim[0]}/status/start")
            await asyncio.sleep(2.5)
            changed_s, changed_req, changed_drift, changed_cpu = await tick(ctx)
            changed_rows = ctx.observer.last_rows_changed
        finally:
            await client.aclose()
    seconds = [s for s, _, _, _ in steady]
    requests = max(r for _, r, _, _ in steady)
    median = statistics.median(seconds)
    full_s = statistics.median(s for s, _, _, _ in fulls)
    return {
        "guests": n, "latency_ms": latency_ms,
        "full_resync": {"seconds_median": round(full_s, 3),
                        "seconds": [round(s, 3) for s, _, _, _ in fulls],
                        "cpu_seconds_median": round(statistics.median(
                            c for _, _, _, c in fulls), 3),
                        "cpu_seconds": [round(c, 3) for _, _, _, c in fulls],
                        "simulator_cpu_seconds_median": round(statistics.median(sim_cpu), 3),
                        "simulator_cpu_seconds": [round(c, 3) for c in sim_cpu],
                        "proxmox_requests": max(r for _, r, _, _ in fulls),
                        "max_workers": settings.proxmox.max_workers,
                        "per_node_limit": limits.per_node,
                        "max_in_flight": limits.max_in_flight,
                        "max_in_flight_per_node": limits.max_in_flight_per_node,
                        "simulator_peak": server["peak"],
                        "simulator_peak_per_node": server["peak_per_node"],
                        "simulator_requests": server["requests"],
                        "connections": server["connections"],
                        "target_seconds": TARGET_FULL_SECONDS,
                        "met": full_s < TARGET_FULL_SECONDS},
        # the first full resync of the process: every config parsed, every guest planned
        "first_full_resync": {"seconds": round(cold[0], 3), "cpu_seconds": round(cold[3], 3),
                              "simulator_cpu_seconds": round(cold_sim_cpu, 3)},
        "steady_state": {"seconds_median": round(median, 4),
                         "seconds_max": round(max(seconds), 4),
                         "cpu_seconds_median": round(statistics.median(
                             c for _, _, _, c in steady), 4),
                         "proxmox_requests": requests, "ticks": ticks,
                         # ticks that handed back the last plan (nothing changed)
                         "ticks_plan_reused": reused,
                         "rows_made_again_max": max(remade),
                         "target_seconds": TARGET_STEADY_SECONDS,
                         "met": median < TARGET_STEADY_SECONDS and requests == 1},
        "one_row_changed": {"seconds": round(changed_s, 4), "cpu_seconds": round(changed_cpu, 4),
                            "proxmox_requests": changed_req, "drifted": changed_drift,
                            "rows_made_again": changed_rows},
        "memory": {"after_full_resync": after_full, "after_steady_ticks": after_steady,
                   # from the first steady tick to the last
                   "rss_growth_over_steady_ticks_mib": round(
                       after_steady["rss_mib"] - after_first["rss_mib"], 1),
                   "target_mib": TARGET_RSS_MIB,
                   "met": after_steady["peak_rss_mib"] < TARGET_RSS_MIB},
    }


def _prepare(state: Path, n: int) -> tuple[str, list[tuple[int, str, str, str]],
                                          tuple[int, str]]:
    """In another process: the simulator's state file with ``n`` guests; the spec that
    matches it, their inventory rows, and the (vmid, node) of the first declared one."""
    setup.prepare_state(state, n)
    cluster: Cluster = persistence.load_or_create(state, node_count=3)
    spec = setup.bulk_spec(cluster)
    rows = [(g.vmid, g.name, "vm", g.node) for g in cluster.guests.values()
            if g.name.startswith("bulk-")]
    first = next(g for g in cluster.guests.values() if g.name == spec.guests[0].name)
    # exclude_unset: what a declaration states is what it sets (planning compares those)
    return spec.model_dump_json(exclude_unset=True), rows, (first.vmid, first.node)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="mycopod-scale-"))
    load_start = [round(x, 2) for x in os.getloadavg()]
    try:
        async with dbmod.open_database(DatabaseSettings(url=args.database_url),
                                       state_dir=work / "db", min_size=2) as database:
            async with database.pool.acquire() as conn:
                await migrate.up(conn)
            result = await scale(
                database.pool, args.guests, args.ticks, args.latency_ms, work,
                full_runs=args.full_runs, max_workers=args.max_workers,
                sim_profile=Path(args.sim_profile).resolve() if args.sim_profile else None,
                first_profile=Path(args.profile_first).resolve() if args.profile_first
                else None)
            result["load_average"] = {"start": load_start,
                                      "end": [round(x, 2) for x in os.getloadavg()],
                                      "nice": os.nice(0)}
            return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guests", type=int, default=10_000)
    parser.add_argument("--ticks", type=int, default=20)
    parser.add_argument("--full-runs", type=int, default=3)
    parser.add_argument("--max-workers", type=int,
                        help="[proxmox] max_workers (default: bench/reconcile.py's 32)")
    parser.add_argument("--latency-ms", type=float, default=2.0)
    parser.add_argument("--database-url")
    parser.add_argument("--profile", help="write a cProfile of the whole run here")
    parser.add_argument("--sim-profile", help="write a cProfile of the simulator here")
    parser.add_argument("--profile-first",
                        help="write a cProfile of the first full resync alone here")
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
