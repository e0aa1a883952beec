"""Push-to-applied latency of `mycopod run`, its idle CPU, and its memory with 1,000 guests.

Everything is real and separate: the simulator (`mycopod sim --task-seconds 0.2`) and
the daemon (`mycopod run`) are subprocesses, PostgreSQL is the embedded one, the
declarations live in a git repository, and each push is announced through a signed
GitHub webhook (polling is set to 10 minutes, so only the webhook can trigger a run).

Latency of one push: from `git push` returning to the simulator reporting the new
value of the changed guest (one guest's cores, compiled by the grammar), over 20
pushes. Idle CPU: the daemon's CPU time over one drift interval (60 s) with nothing to
do, with one guest and again with 1,000 owned guests. RSS: the daemon's resident memory
once the 1,000 guests are converged and observed.

With them, the figures of bench/latency_gitops.py (issue 14): a pull-request plan of a
50-file repository with one changed file, seconds from the signed ``pull_request``
webhook to the comment posted on the GitHub stand-in (``pr_plan_*``, target under 3 s),
and whether notifications to a slow receiver add time to a run's apply phase
(``notify_apply_*``). ``--only gitops`` measures only those, ``--only push`` the others.

Prints one JSON object. Usage: .venv/bin/python bench/latency.py [--guests 1000]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
import urllib3

urllib3.disable_warnings()

MYCOPOD = str(Path(sys.executable).with_name("mycopod"))
SECRET = "bench-webhook-secret"
TOKEN_ID = "root@pam!mycopod"
TOKEN_SECRET = "mycopod-token"
GIT_ENV = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def git(*args: str, cwd: Path) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV},
                         capture_output=True, text=True, check=True, timeout=60)
    return out.stdout.strip()


def wait(check: Any, timeout: float, what: str, interval: float = 0.01) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception:  # not up yet
            value = None
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"bench: timed out waiting for {what}")


class Pve:
    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        # Per request as well: REQUESTS_CA_BUNDLE in the environment beats session.verify.
        self.session.trust_env = False
        self.session.verify = False
        self.session.headers["Authorization"] = f"PVEAPIToken={TOKEN_ID}={TOKEN_SECRET}"

    def resources(self) -> list[dict[str, Any]]:
        resp = self.session.get(f"{self.url}/api2/json/cluster/resources",
                                params={"type": "vm"}, timeout=10)
        resp.raise_for_status()
        return list(resp.json()["data"])

    def config(self, node: str, vmid: int) -> dict[str, Any]:
        resp = self.session.get(f"{self.url}/api2/json/nodes/{node}/qemu/{vmid}/config",
                                timeout=10)
        resp.raise_for_status()
        return dict(resp.json()["data"])

    def find(self, name: str) -> tuple[str, int] | None:
        for item in self.resources():
            if item.get("name") == name:
                return str(item["node"]), int(item["vmid"])
        return None


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pushes", type=int, default=20)
    parser.add_argument("--guests", type=int, default=1000)
    parser.add_argument("--idle-seconds", type=float, default=60.0,
                        help="CPU measuring window: one drift interval (default 60)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--only", choices=["all", "push", "gitops"], default="all")
    args = parser.parse_args()
    gitops: dict[str, Any] = {}
    if args.only != "push":
        import latency_gitops  # bench/latency_gitops.py

        gitops = latency_gitops.figures()
        if args.only == "gitops":
            print(json.dumps(gitops, indent=2))
            return 0

    from mycopod.store import embedded

    root = Path(tempfile.mkdtemp(prefix="mycopod-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    db_state = root / "pg"
    try:
        db_url = embedded.start(db_state)
        # -- simulator -----------------------------------------------------------------
        sim_port = free_port()
        sim_log = open(root / "sim.log", "wb")
        sim = subprocess.Popen([MYCOPOD, "sim", "--port", str(sim_port), "--task-seconds",
                                "0.2"], stdout=sim_log, stderr=subprocess.STDOUT)
        procs.append(sim)
        pve = Pve(f"https://127.0.0.1:{sim_port}")
        wait(pve.resources, 30, "the simulator", interval=0.1)
        # -- repository ----------------------------------------------------------------
        bare, work = root / "declarations.git", root / "work"
        git("init", "--quiet", "--bare", "--initial-branch=main", str(bare), cwd=root)
        git("clone", "--quiet", str(bare), str(work), cwd=root)
        git("checkout", "--quiet", "-B", "main", cwd=work)
        # -- daemon --------------------------------------------------------------------
        api_port = free_port()
        env = {
            **os.environ,
            "MYCOPOD_STATE_DIR": str(root / "state"),
            "MYCOPOD_DATABASE__URL": db_url,
            "MYCOPOD_PROXMOX__URL": pve.url,
            "MYCOPOD_PROXMOX__TOKEN_ID": TOKEN_ID,
            "MYCOPOD_PROXMOX__TOKEN_SECRET": TOKEN_SECRET,
            "MYCOPOD_PROXMOX__VERIFY_TLS": "false",
            "MYCOPOD_DECLARATIONS__REPO": str(bare),
            "MYCOPOD_DECLARATIONS__POLL_SECONDS": "600",
            "MYCOPOD_DECLARATIONS__WEBHOOK_SECRET": SECRET,
            "MYCOPOD_API__PORT": str(api_port),
            "MYCOPOD_APPLY__MAX_PARALLEL": "32",
            "MYCOPOD_APPLY__PER_NODE_PARALLEL": "12",
            # it measures applying 1,000 creates: the create budgets, which would ask a
            # person to approve them, are raised out of the way
            "MYCOPOD_POLICY__MAX_CREATES_PER_RUN": "100000",
            "MYCOPOD_POLICY__MAX_CREATES_PER_WINDOW": "100000",
            "MYCOPOD_LOGGING__LEVEL": "warning",
            "MYCOPOD_LOGGING__FORMAT": "json",
        }
        daemon_log = open(root / "daemon.log", "wb")
        daemon = subprocess.Popen([MYCOPOD, "run"], env=env, stdout=daemon_log,
                                  stderr=subprocess.STDOUT)
        procs.append(daemon)
        api = f"http://127.0.0.1:{api_port}"
        wait(lambda: requests.get(f"{api}/health", timeout=2).status_code == 200, 60,
             "the daemon", interval=0.1)

        def push(text: str, path: str = "bench.md") -> str:
            (work / path).write_text(text)
            git("add", "--all", cwd=work)
            git("commit", "--quiet", "-m", "bench", cwd=work)
            git("push", "--quiet", "origin", "main", cwd=work)
            sha = git("rev-parse", "HEAD", cwd=work)
            body = json.dumps({"ref": "refs/heads/main", "after": sha,
                               "repository": {"full_name": "bench/declarations"}}).encode()
            signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            resp = requests.post(f"{api}/webhooks/github", data=body, timeout=10, headers={
                "Content-Type": "application/json", "X-GitHub-Event": "push",
                "X-GitHub-Delivery": sha[:12], "X-Hub-Signature-256": signature})
            if resp.status_code >= 300:
                raise SystemExit(f"bench: webhook answered {resp.status_code}: {resp.text}")
            return sha

        # -- latency ---------------------------------------------------------------------
        push("bench-1 is a VM with 1 core and 1 GB of RAM.\n")
        where = wait(lambda: pve.find("bench-1"), 60, "bench-1 to be created", 0.05)
        wait(lambda: pve.config(*where).get("cores") in (1, "1"), 30, "bench-1 converged")
        latencies = []
        for i in range(args.pushes):
            cores = 2 + i % 2
            started = time.monotonic()
            push(f"bench-1 is a VM with {cores} cores and 1 GB of RAM.\n")
            wait(lambda cores=cores: str(pve.config(*where).get("cores")) == str(cores), 60,
                 f"push {i + 1} to be applied", interval=0.005)
            latencies.append(time.monotonic() - started)
        # -- idle CPU --------------------------------------------------------------------
        time.sleep(3)
        cpu0, t0 = cpu_seconds(daemon.pid), time.monotonic()
        time.sleep(args.idle_seconds)
        idle_cpu = (cpu_seconds(daemon.pid) - cpu0) / (time.monotonic() - t0) * 100
        # -- memory with N owned guests --------------------------------------------------
        rss_before = rss_mib(daemon.pid)
        # one sentence may name at most 100 guests (the grammar's limit): a sentence each
        fleet = "".join(
            f"Create {min(100, args.guests - first + 1)} servers named fleet-{first} through "
            f"fleet-{min(first + 99, args.guests)}, each a VM with 1 core, 512 MB of RAM and "
            "a 1 GB disk on tank. Keep them stopped.\n"
            for first in range(1, args.guests + 1, 100))
        converge_start = time.monotonic()
        push(fleet, "fleet.md")

        def fleet_done() -> bool:
            names = [r.get("name", "") for r in pve.resources()]
            return sum(1 for n in names if n.startswith("fleet-")) >= args.guests

        wait(fleet_done, 1800, f"{args.guests} guests", interval=1.0)
        converge_seconds = time.monotonic() - converge_start
        # Settle: the first drift check after the run reads every new guest's config once
        # (their summaries changed); after that a check is one /cluster/resources.
        time.sleep(args.idle_seconds + 5)
        rss_fleet = rss_mib(daemon.pid)
        cpu1, t1 = cpu_seconds(daemon.pid), time.monotonic()
        time.sleep(args.idle_seconds)
        idle_cpu_fleet = (cpu_seconds(daemon.pid) - cpu1) / (time.monotonic() - t1) * 100

        quantiles = statistics.quantiles(latencies, n=20, method="inclusive")
        result = {
            "pushes": len(latencies),
            "sim_task_seconds": 0.2,
            "latency_p50_s": round(statistics.median(latencies), 3),
            "latency_p95_s": round(quantiles[18], 3),
            "latency_min_s": round(min(latencies), 3),
            "latency_max_s": round(max(latencies), 3),
            "target_p50_s": 2.0,
            "idle_window_s": args.idle_seconds,
            "idle_cpu_percent": round(idle_cpu, 2),
            "rss_mib_one_guest": round(rss_before, 1),
            "owned_guests": args.guests,
            "converge_seconds": round(converge_seconds, 1),
            "rss_mib_owned_guests": round(rss_fleet, 1),
            "idle_cpu_percent_owned_guests": round(idle_cpu_fleet, 2),
            **gitops,
        }
        print(json.dumps(result, indent=2))
        return 0
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    proc.kill()
        embedded.stop(db_state)
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
