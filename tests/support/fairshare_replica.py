"""One replica competing for clusters, as a process of its own (tests and bench/fairshare.py).

    python -m tests.support.fairshare_replica URL REPLICA_ID CLUSTER... [--check-seconds S]
        [--heartbeat-timeout S]

Prints one JSON line per leadership change, as the lease sees it:
``{"t": <unix time>, "replica": ..., "cluster": ..., "leader": true|false}``, flushed at
once, and ``{"ready": ...}`` when it starts. An acquisition is printed after the lock is
taken, a step-down before the lock is given back, so the printed intervals of one cluster
can never overlap if the election is right. SIGTERM closes it cleanly (locks given back,
heartbeat row removed); SIGKILL is what the takeover tests use.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import asyncpg
import structlog

from mycopod.reconcile.fairshare import FairShare
from mycopod.reconcile.leader import lock_key
from mycopod.store import replicas

REPO = Path(__file__).resolve().parents[2]


class ReplicaProcess:
    """A replica process, and the leadership changes it printed (read by a thread)."""

    def __init__(self, url: str, replica: str, clusters: list[str], *,
                 check_seconds: float = 1.0, heartbeat_timeout: float = 5.0) -> None:
        self.replica = replica
        self.changes: list[dict[str, Any]] = []
        self.killed_at: float | None = None
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.fairshare_replica", url, replica, *clusters,
             "--check-seconds", str(check_seconds),
             "--heartbeat-timeout", str(heartbeat_timeout)],
            cwd=REPO, stdout=subprocess.PIPE, text=True)
        self.ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            record = json.loads(line)
            if "ready" in record:
                self.ready.set()
            else:
                self.changes.append(record)

    def leading(self) -> set[str]:
        """The clusters it says it leads now (from its printed changes)."""
        now: dict[str, bool] = {}
        for change in list(self.changes):
            now[change["cluster"]] = change["leader"]
        return {c for c, leader in now.items() if leader}

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.killed_at = time.time()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._reader.join(5)


def intervals(procs: list[ReplicaProcess], until: float) -> dict[str, list[tuple[float, float,
                                                                                 str]]]:
    """Per cluster, every ``(start, end, replica)`` a replica said it led (a killed one's
    end is its kill; one still leading ends at ``until``)."""
    out: dict[str, list[tuple[float, float, str]]] = {}
    for p in procs:
        start: dict[str, float] = {}
        for change in list(p.changes):
            if change["leader"]:
                start[change["cluster"]] = change["t"]
            elif change["cluster"] in start:
                out.setdefault(change["cluster"], []).append(
                    (start.pop(change["cluster"]), change["t"], p.replica))
        end = p.killed_at if p.killed_at is not None else until
        for cluster, t in start.items():
            out.setdefault(cluster, []).append((t, end, p.replica))
    return out


def overlaps(procs: list[ReplicaProcess], until: float) -> list[str]:
    """Every moment two replicas said they led the same cluster (empty: never)."""
    found = []
    for cluster, spans in intervals(procs, until).items():
        spans.sort()
        for (_s1, e1, r1), (s2, _e2, r2) in itertools.pairwise(spans):
            if s2 < e1:
                found.append(f"{cluster}: {r1} until {e1:.3f}, {r2} from {s2:.3f}")
    return found


async def holders(url: str, clusters: list[str]) -> dict[str, list[str]]:
    """Per cluster, the replicas whose session holds its lock, from pg_locks."""
    names = {lock_key(c): c for c in clusters}
    conn = await asyncpg.connect(url)
    try:
        rows = await replicas.holders(conn)
    finally:
        await conn.close()
    out: dict[str, list[str]] = {c: [] for c in clusters}
    for key, replica in rows:
        if key in names:
            out[names[key]].append(replica)
    return out


def _print(record: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("replica")
    parser.add_argument("clusters", nargs="+")
    parser.add_argument("--check-seconds", type=float, default=1.0)
    parser.add_argument("--heartbeat-timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
                        logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    share = FairShare(args.url, args.clusters, replica_id=args.replica,
                      check_seconds=args.check_seconds,
                      heartbeat_timeout=args.heartbeat_timeout)
    for name in args.clusters:
        share.lease(name, on_change=lambda leader, name=name: _print(
            {"t": time.time(), "replica": args.replica, "cluster": name, "leader": leader}))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    runner = asyncio.create_task(share.run())
    _print({"ready": args.replica, "t": time.time()})
    await stop.wait()
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
    await share.close()


if __name__ == "__main__":
    asyncio.run(main())
