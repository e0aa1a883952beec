"""Benchmark ``mycopod import`` and the adoption plan of what it wrote; prints JSON.

A cluster of N guests MycoPod does not manage (default 1,000: 70 % VMs, 30 % containers,
spread over three nodes) runs in the simulator in its own process, at ``--latency-ms 2``
per request. Measured:

1. ``import``: reading the cluster and writing one Markdown file per node (one
   ``/cluster/resources``, then the config and status of every guest, 32 at a time),
   wall time and the Proxmox request count. Target: under 10 s.
2. ``compile``: the files compiled offline by the built-in grammar (reported, no target).
3. ``adoption_plan``: a dry-run reconcile of the compiled spec (observe, plan, record the
   run): one ``adopt`` action per guest, each changing nothing. Target: under 5 s.

Usage: ``python bench/import.py [--guests 1000] [--latency-ms 2] [--database-url URL]``
(default: an embedded PostgreSQL in a temporary folder).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import structlog

from mycopod.brownfield import importer
from mycopod.config import DatabaseSettings
from mycopod.declarations import grammar
from mycopod.proxmox.client import ProxmoxClient
from mycopod.pvesim import direct, persistence
from mycopod.pvesim.state import Cluster
from mycopod.reconcile import reconciler
from mycopod.spec import ClusterSpec
from mycopod.store import db as dbmod
from mycopod.store import migrate
from mycopod.store.runs import RunStore

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reconcile import TASK_POLL, SimProcess, settings_for

IMPORT_TARGET_S = 10.0
PLAN_TARGET_S = 5.0


def prepare_state(path: Path, n: int) -> None:
    """N unmanaged guests (no ownership tag), as a brownfield cluster has them: the
    simulator's own (legacy-app, templates aside), then VMs and containers."""
    cluster = Cluster.initial(node_count=3, seed=1)
    with cluster.lock:
        n -= sum(1 for g in cluster.guests.values() if not g.config.get("template"))
    vms = n * 7 // 10
    direct.add_guests(cluster, vms, owned_tag=None, name_prefix="vm", disk_gib=8)
    direct.add_guests(cluster, n - vms, owned_tag=None, kind="lxc", name_prefix="ct",
                      disk_gib=4)
    persistence.save(cluster, path)


async def bench(pool: Any, n: int, latency_ms: float, work: Path) -> dict[str, Any]:
    state = work / "brownfield.json"
    prepare_state(state, n)
    out = work / "declarations"
    with SimProcess(state, latency_ms=latency_ms, seed=1) as sim:
        settings = settings_for(sim)
        client = ProxmoxClient.from_settings(settings.proxmox, task_poll=TASK_POLL)
        try:
            await client.get("/version")  # log in: the ticket is not part of the import
            before = client.request_count
            started = time.perf_counter()
            result = await importer.import_cluster(
                client, selection=importer.Selection(), ownership_tag="mycopod")
            written = importer.write(result, out)
            import_s = time.perf_counter() - started
            import_req = client.request_count - before

            started = time.perf_counter()
            guests = []
            for path in written:
                guests.extend(grammar.compile_text(path.read_text(), filename=path.name).guests)
            spec = ClusterSpec(guests=guests)
            compile_s = time.perf_counter() - started

            ctx = reconciler.EngineContext.create(pool, settings, client=client)
            runs = RunStore(pool)
            await runs.create(trigger="manual", cluster=ctx.cluster, dry_run=True)
            run = await runs.claim_next_pending(ctx.cluster)
            assert run is not None
            before = client.request_count
            started = time.perf_counter()
            planned = await reconciler.execute_run(run, ctx=ctx, spec=spec)
            plan_s = time.perf_counter() - started
            plan_req = client.request_count - before
        finally:
            await client.aclose()
    actions = (planned.plan or {}).get("actions", [])
    assert planned.status == "Succeeded", planned.error
    assert len(guests) == n and len(result.guests) == n, (len(guests), len(result.guests))
    assert len(actions) == n and {a["kind"] for a in actions} == {"adopt"}
    changing = [a["target"] for a in actions if a["params"].get("would_change")]
    assert not changing, changing[:5]
    return {
        "guests": n,
        "containers": sum(1 for g in guests if g.kind == "ct"),
        "latency_ms": latency_ms,
        "import": {"seconds": round(import_s, 3), "proxmox_requests": import_req,
                   "files": len(written), "target_seconds": IMPORT_TARGET_S,
                   "ok": import_s < IMPORT_TARGET_S},
        "compile": {"seconds": round(compile_s, 3), "guests": len(guests)},
        "adoption_plan": {"seconds": round(plan_s, 3), "proxmox_requests": plan_req,
                          "adopt_actions": len(actions), "would_change": len(changing),
                          "target_seconds": PLAN_TARGET_S, "ok": plan_s < PLAN_TARGET_S},
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="mycopod-bench-import-"))
    try:
        async with dbmod.open_database(DatabaseSettings(url=args.database_url),
                                       state_dir=work / "db", min_size=2) as database:
            async with database.pool.acquire() as conn:
                await migrate.up(conn)
            return await bench(database.pool, args.guests, args.latency_ms, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guests", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=2.0)
    parser.add_argument("--database-url")
    options = parser.parse_args()
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    json.dump(asyncio.run(main(options)), sys.stdout, indent=2)
    sys.stdout.write("\n")
