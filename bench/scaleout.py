"""Scale-out: many clusters across replica processes, one PostgreSQL (issue 17); JSON.

Starts ``--clusters`` simulator processes (``mycopod sim --latency-ms 2``), each seeded
with ``--guests`` guests MycoPod owns (as bench/reconcile.py seeds them), one git
repository with a folder per cluster declaring exactly those guests, and ``--replicas``
``mycopod run`` processes on one database. Prints:

- ``start``: seconds from launching the replicas until every cluster is led by exactly
  one replica and each leads ``floor..ceil`` of ``clusters / replicas`` (read from every
  replica's ``/health``, checked against the advisory locks in ``pg_locks``), the
  clusters per replica, and the seconds until every cluster's first run succeeded;
- ``sigkill``: after SIGKILL of the replica leading the most, the seconds until each of
  its clusters is led by a survivor (target < 15 s), and the seconds from a push's
  webhook (sent to a surviving replica) until the change is in that cluster's simulator
  (target < 5 s);
- ``rss_mib``: VmHWM and VmRSS of every replica (/proc/PID/status), before and after
  the kill (target < 300 MB).

Usage: ``python bench/scaleout.py [--clusters 10] [--guests 1000] [--replicas 3]
[--latency-ms 2] [--database-url URL] [--keep] [--log-level info] [--profile-seconds 20]``
(default: an embedded
PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import requests
import structlog

import reconcile as setup  # bench/reconcile.py (the script's folder is on sys.path)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.support

from tests.support.clusters import TOKEN_ID, TOKEN_SECRET, clusters_env  # noqa: E402
from tests.support.daemon import Daemon, Repo, free_port, query, wait_until  # noqa: E402
from tests.support.fairshare_replica import holders  # noqa: E402

from mycopod.config import DatabaseSettings  # noqa: E402
from mycopod.pvesim import persistence  # noqa: E402
from mycopod.store import db as dbmod  # noqa: E402

TARGET_TAKEOVER_SECONDS = 15.0
TARGET_PUSH_SECONDS = 5.0
TARGET_RSS_MIB = 300.0


def seeded(state: Path) -> list[tuple[str, str, int]]:
    """(name, node, vmid) of the guests ``prepare_state`` made, by vmid."""
    cluster = persistence.load_or_create(state, node_count=3)
    return sorted(((g.name, g.node, g.vmid) for g in cluster.guests.values()
                   if g.name.startswith("bulk-")), key=lambda g: g[2])


def declarations(names: list[str], probe_cores: int = 1) -> str:
    """The seeded guests as they are (the first, the probe, with ``probe_cores``)."""
    lines = []
    for i, name in enumerate(names):
        cores = probe_cores if i == 0 else 1
        lines.append(f"{name} is a stopped VM with {cores} "
                     f"core{'s' if cores > 1 else ''}, 1 GB of RAM and an 8 GB disk on tank.")
    return "\n\n".join(lines) + "\n"


def start_sim(state: Path, latency_ms: float, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mycopod.cli", "sim", "--port", str(port), "--state",
             str(state), "--latency-ms", str(latency_ms), "--task-seconds", "0.05",
             "--stats-interval", "2", "--seed", "1"], stdout=out, stderr=subprocess.STDOUT)
    return proc, f"https://127.0.0.1:{port}"


def sim_get(url: str, path: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            resp = requests.get(f"{url}/api2/json{path}", verify=False,  # noqa: S501
                                headers={"Authorization":
                                         f"PVEAPIToken={TOKEN_ID}={TOKEN_SECRET}"},
                                timeout=10)
        except requests.RequestException:
            return None
    return resp.json()["data"] if resp.status_code == 200 else None


def leads(replica: Daemon) -> set[str] | None:
    if replica.proc is None or replica.proc.poll() is not None:
        return set()
    health = replica.health()
    if health is None:
        return None
    return {c["name"] for c in health["clusters"] if c["role"] == "leader"}


def assignment(replicas: list[Daemon], clusters: list[str],
               low: int, high: int) -> dict[str, list[str]] | None:
    """Replica -> clusters led, when every cluster has exactly one leader and every live
    replica leads between ``low`` and ``high``; else None."""
    seen: dict[str, list[str]] = {}
    for replica in replicas:
        led = leads(replica)
        if led is None:
            return None
        if replica.proc is not None and replica.proc.poll() is None:
            seen[replica.name] = sorted(led)
    every = [c for led in seen.values() for c in led]
    if sorted(every) != sorted(clusters):
        return None
    if any(not low <= len(led) <= high for led in seen.values()):
        return None
    return seen


def rss(replicas: list[Daemon]) -> dict[str, dict[str, float]]:
    out = {}
    for replica in replicas:
        if replica.proc is None or replica.proc.poll() is not None:
            continue
        fields = {}
        for line in Path(f"/proc/{replica.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                fields[key] = round(int(value.split()[0]) / 1024, 1)
        out[replica.name] = fields
    return out


def webhook(replica: Daemon, commit: str) -> None:
    import hashlib
    import hmac

    body = json.dumps({"ref": "refs/heads/main", "after": commit}).encode()
    signature = hmac.new(b"hook-secret-for-tests", body, hashlib.sha256).hexdigest()
    resp = requests.post(f"{replica.url}/webhooks/github", data=body, timeout=10, headers={
        "Content-Type": "application/json", "X-GitHub-Event": "push",
        "X-Hub-Signature-256": "sha256=" + signature})
    assert resp.status_code == 200, resp.text


def push(url: str, repo: Repo, replica: Daemon, sim_url: str, cluster: str,
         guests: list[tuple[str, str, int]], cores: int, stages: dict[str, Any]) -> float:
    """Seconds from a push's webhook (sent to ``replica``) until the probe guest (the
    cluster's first) has ``cores`` in the simulator."""
    _name, node, vmid = guests[0]
    commit = repo.push({f"{cluster}/guests.md": declarations([g[0] for g in guests],
                                                             probe_cores=cores)})
    sent, sent_wall = time.monotonic(), time.time()
    webhook(replica, commit)
    wait_until(lambda: int((sim_get(sim_url, f"/nodes/{node}/qemu/{vmid}/config")
                            or {}).get("cores", 1)) == cores, timeout=60,
               what=f"the pushed change in {cluster}'s simulator", interval=0.05)
    took = time.monotonic() - sent
    # where the time went: webhook -> run queued (fetch, compile) -> claimed -> applied
    row = query(url, "SELECT extract(epoch FROM created_at) AS queued, "
                "extract(epoch FROM started_at) AS started, "
                "extract(epoch FROM finished_at) AS finished FROM reconciliation_runs "
                "WHERE commit_sha = $1 AND cluster = $2 ORDER BY id LIMIT 1", commit, cluster)
    recorded = query(url, "SELECT cluster, extract(epoch FROM created_at) AS at FROM "
                     "declarations WHERE github_commit_sha = $1 ORDER BY created_at", commit)
    # every cluster's poller records the new head (one repository): when each did
    stages["recorded_after_webhook"] = {r["cluster"]: round(float(r["at"]) - sent_wall, 2)
                                        for r in recorded}
    if row:
        r = row[0]
        stages.update({"queued_after_webhook": r["queued"] and float(r["queued"]) - sent_wall,
                       "claimed_after_queued": r["started"] and r["queued"]
                       and float(r["started"] - r["queued"]),
                       "run_seconds": r["finished"] and r["started"]
                       and float(r["finished"] - r["started"])})
        for key, value in stages.items():
            if not isinstance(value, dict):
                stages[key] = None if value is None else round(float(value), 2)
    return took


def profile(survivors: list[Daemon], args: argparse.Namespace,
            work: Path) -> list[subprocess.Popen[bytes]]:
    """With ``--profile-seconds``: py-spy (``pip install py-spy``) samples each survivor
    from the kill on, into ``profile-<replica>.json`` (speedscope, idle samples too, so a
    thread's samples are in time order: bench/profile_timeline.py reads them)."""
    if not args.profile_seconds:
        return []
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    procs = []
    for replica in survivors:
        assert replica.proc is not None
        procs.append(subprocess.Popen(
            [spy, "record", "--pid", str(replica.proc.pid), "--duration",
             str(args.profile_seconds), "--rate", "100", "--format", "speedscope", "--threads",
             "--idle", "--nonblocking", "-o", str(work / f"profile-{replica.name}.json")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs


def bench(url: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    names = [f"c{i:02d}" for i in range(args.clusters)]
    sims: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    replicas: list[Daemon] = []
    result: dict[str, Any] = {"clusters": args.clusters, "guests_per_cluster": args.guests,
                              "replicas": args.replicas, "latency_ms": args.latency_ms}
    try:
        started = time.monotonic()
        repo = Repo(work)
        files = {}
        guests: dict[str, list[tuple[str, str, int]]] = {}
        for name in names:
            (repo.work / name).mkdir()
            state = work / f"sim-{name}.json"
            setup.prepare_state(state, args.guests)
            guests[name] = seeded(state)
            files[f"{name}/guests.md"] = declarations([g[0] for g in guests[name]])
            sims[name] = start_sim(state, args.latency_ms, work / f"sim-{name}.log")
        repo.push(files)
        for name, (_proc, sim_url) in sims.items():
            wait_until(lambda u=sim_url: sim_get(u, "/version"), timeout=60,
                       what=f"simulator {name}")
        result["setup_seconds"] = round(time.monotonic() - started, 2)
        config = work / "mycopod.toml"
        lines = [f'[database]\nurl = "{url}"\n',
                 f'[declarations]\nrepo = "{repo.bare}"\npoll_seconds = 30.0\n'
                 'webhook_secret = "hook-secret-for-tests"\n']
        for name, (_proc, sim_url) in sims.items():
            lines.append(f'[[clusters]]\nname = "{name}"\npath = "{name}/"\n'
                         f'[clusters.proxmox]\nurl = "{sim_url}"\ntoken_id = "{TOKEN_ID}"\n'
                         f'token_secret = "{TOKEN_SECRET}"\nverify_tls = false\n')
        config.write_text("\n".join(lines))
        config.chmod(0o600)
        low, high = args.clusters // args.replicas, math.ceil(args.clusters / args.replicas)
        t0 = time.monotonic()
        for i in range(args.replicas):
            replica = Daemon(f"replica-{i + 1}", clusters_env(
                config=config, state_dir=work / f"state-{i + 1}", port=free_port(),
                MYCOPOD_APPLY__DRIFT_SECONDS="10",
                # the cold first compile of 10 x 1,000 guests at start, on a machine
                # shared with other work, must not run out of its 30 s (then a cluster
                # has no first run and the benchmark waits for it): the start is not
                # what is measured; a push compiles one paragraph
                MYCOPOD_COMPILE__REQUEST_SECONDS="180",
                MYCOPOD_COMPILE__FILE_SECONDS="180",
                MYCOPOD_LOGGING__LEVEL=args.log_level), work)
            replicas.append(replica.start())
        shares = wait_until(lambda: assignment(replicas, names, low, high), timeout=120,
                            what="every cluster led once, each replica its share",
                            interval=0.1)
        led_seconds = time.monotonic() - t0
        held = asyncio.run(holders(url, names))  # the advisory locks, from pg_locks
        per_holder = Counter(r for replicas_ in held.values() for r in replicas_)
        wait_until(lambda: len(query(url, "SELECT DISTINCT cluster FROM reconciliation_runs "
                                     "WHERE status = 'Succeeded'")) == args.clusters,
                   timeout=600, what="every cluster's first run", interval=0.5)
        result["start"] = {
            "seconds_until_led": round(led_seconds, 2),
            "clusters_per_replica": {k: len(v) for k, v in shares.items()},
            "share_bounds": [low, high],
            "pg_locks_every_cluster_one_holder": all(len(r) == 1 for r in held.values()),
            "pg_locks_clusters_per_holder": sorted(per_holder.values()),
            "seconds_until_every_first_run_succeeded": round(time.monotonic() - t0, 2),
            "actions_by_kind": {r["kind"]: r["n"] for r in query(
                url, "SELECT kind || ':' || result AS kind, count(*) AS n FROM "
                "reconciliation_actions GROUP BY 1")},
        }
        time.sleep(15)  # a few drift ticks each, for the memory figures
        result["rss_mib_before_kill"] = rss(replicas)

        victim = max(replicas, key=lambda r: (len(shares[r.name]), r.name))
        orphans = shares[victim.name]
        survivors = [r for r in replicas if r is not victim]
        assert victim.proc is not None
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(timeout=10)
        killed = time.monotonic()
        profilers = profile(survivors, args, work)
        after = wait_until(lambda: assignment(replicas, names, low, high + 1), timeout=60,
                           what="the victim's clusters led by survivors", interval=0.1)
        takeover = time.monotonic() - killed
        pushed = orphans[0]
        stages: dict[str, Any] = {"webhook_after_kill": round(time.monotonic() - killed, 2)}
        push_seconds = push(url, repo, survivors[0], sims[pushed][1], pushed, guests[pushed],
                            2, stages)
        result["sigkill"] = {
            "killed": victim.name, "its_clusters": orphans,
            "takeover_seconds": round(takeover, 2),
            "clusters_per_replica_after": {k: len(v) for k, v in after.items()},
            "push_cluster": pushed, "push_webhook_to": survivors[0].name,
            "push_applied_seconds": round(push_seconds, 2), "push_stages": stages,
        }
        time.sleep(10)
        # the same once the takeover's full resyncs are done: a push in the steady state
        later: dict[str, Any] = {}
        result["sigkill"]["push_applied_seconds_10s_later"] = round(push(
            url, repo, survivors[-1], sims[pushed][1], pushed, guests[pushed], 3, later), 2)
        result["sigkill"]["push_stages_10s_later"] = later
        for proc in profilers:
            proc.wait(timeout=args.profile_seconds + 60)
        result["rss_mib_after_kill"] = rss(replicas)
        result["actions_by_kind_at_end"] = {r["kind"]: r["n"] for r in query(
            url, "SELECT kind || ':' || result AS kind, count(*) AS n FROM "
            "reconciliation_actions GROUP BY 1")}
        every = [v for r in (result["rss_mib_before_kill"], result["rss_mib_after_kill"])
                 for fields in r.values() for v in fields.values()]
        result["targets_met"] = {
            "takeover_under_15_s": takeover < TARGET_TAKEOVER_SECONDS,
            "push_under_5_s": push_seconds < TARGET_PUSH_SECONDS,
            "rss_under_300_mb": max(every) * 1.048576 < TARGET_RSS_MIB,
        }
        return result
    finally:
        for replica in replicas:
            replica.stop()
        for proc, _url in sims.values():
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="mycopod-scaleout-"))
    try:
        async with dbmod.open_database(DatabaseSettings(url=args.database_url),
                                       state_dir=work / "db", min_size=1) as database:
            return await asyncio.to_thread(bench, database.url, args, work)
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--guests", type=int, default=1000, help="guests per cluster")
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=2.0)
    parser.add_argument("--database-url")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    parser.add_argument("--profile-seconds", type=int, default=0,
                        help="py-spy the survivors for this long after the kill (--keep)")
    parser.add_argument("--log-level", default="warning",
                        help="the replicas' log level (info shows each compile and run)")
    options = parser.parse_args()
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    print(json.dumps(asyncio.run(main(options)), indent=2))
