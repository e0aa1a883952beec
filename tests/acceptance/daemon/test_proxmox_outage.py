"""Proxmox dies in the middle of a create: /health says so at once, and the guest it
left half-made (``lock=create``, no name) is reported, never deleted, never doubled.

The simulator runs as its own process (``mycopod sim --state FILE``) so it can be
SIGKILLed like a real pveproxy; restarted from its saved state, it still holds the
placeholder of the create it never finished. Before, /health kept
``proxmox.reachable: true`` until the next drift check (here a minute away) while every
call failed with ECONNREFUSED, and the placeholder was reported nowhere.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from tests.support.daemon import Daemon, Repo, daemon_env, free_port, query, wait_until

pytestmark = pytest.mark.timeout(150)

TOKEN = "PVEAPIToken=root@pam!mycopod=mycopod-token"


class SimProcess:
    """`mycopod sim` as a process of its own, its cluster saved in ``state``."""

    def __init__(self, state: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.state = state
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> SimProcess:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mycopod.cli", "sim", "--port", str(self.port),
                 "--task-seconds", "4", "--state", str(self.state)],
                stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: self.resources() is not None, timeout=20, what="the simulator")
        return self

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def resources(self) -> list[dict[str, Any]] | None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the simulator's self-signed certificate
            try:
                resp = requests.get(f"{self.url}/api2/json/cluster/resources",
                                    verify=False,  # noqa: S501 - our simulator, self-signed
                                    headers={"Authorization": TOKEN}, timeout=5)
            except requests.RequestException:
                return None
        return list(resp.json()["data"]) if resp.status_code == 200 else None

    def guests(self) -> list[dict[str, Any]]:
        return [r for r in self.resources() or [] if r.get("type") in ("qemu", "lxc")]


def health(daemon: Daemon) -> tuple[int, dict[str, Any]]:
    resp = requests.get(f"{daemon.url}/health", timeout=5)
    body = resp.json()
    return resp.status_code, body.get("data") or body["error"]["details"]


def test_proxmox_killed_mid_create(database_url: str, tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    sim = SimProcess(tmp_path / "pve-sim.json", tmp_path / "sim.log").start()
    handle = SimpleNamespace(url=sim.url, token_id="root@pam!mycopod",
                             token_secret="mycopod-token")
    daemon = Daemon("solo", daemon_env(
        state_dir=tmp_path / "state", database_url=database_url, sim=handle, repo=repo,
        port=free_port(),
        # the drift checker, which alone updated reachability, is a minute away
        MYCOPOD_APPLY__DRIFT_SECONDS="60",
        # and a deletion would need no approval: the placeholder must still survive
        MYCOPOD_POLICY__PRUNE="true", MYCOPOD_POLICY__AUTO_APPROVE_DESTRUCTIVE="true",
        MYCOPOD_POLICY__MAX_DELETIONS_PER_RUN="10"), tmp_path)
    try:
        daemon.start()
        daemon.wait_healthy()
        wait_until(lambda: daemon.role() == "leader", timeout=15, what="leadership")
        wait_until(lambda: health(daemon)[1]["proxmox"]["reachable"] is True, timeout=20,
                   what="a first contact with Proxmox")

        repo.push({"half.md": "half-1 is a VM with 1 core and 1 GB of RAM.\n"})
        placeholder = wait_until(
            lambda: next((g for g in sim.guests() if g.get("lock") == "create"), None),
            timeout=30, what="the create to be under way", interval=0.05)
        time.sleep(1.0)  # the simulator saves its state every 0.5 s
        sim.kill()
        killed = time.monotonic()

        code, report = wait_until(
            lambda: (h := health(daemon))[1]["proxmox"]["reachable"] is False and h,
            timeout=10, what="/health to report Proxmox unreachable")
        assert time.monotonic() - killed < 8
        assert code == 200 and report["database"] == "up"  # the database is fine
        assert report["proxmox"]["error"]
        time.sleep(2)
        code, report = health(daemon)
        assert code == 200 and report["proxmox"]["reachable"] is False

        sim.start()  # from its saved state: the placeholder is still there, locked
        vmid = int(placeholder["vmid"])
        again = [g for g in sim.guests() if int(g["vmid"]) == vmid]
        assert again and again[0].get("lock") == "create"
        wait_until(lambda: health(daemon)[1]["proxmox"]["reachable"] is True, timeout=30,
                   what="Proxmox reachable again")

        def conflict() -> Any:
            rows = query(database_url, "SELECT id, status, plan FROM reconciliation_runs "
                         "WHERE plan IS NOT NULL ORDER BY id DESC LIMIT 1")
            plan = json.loads(rows[0]["plan"]) if rows else {}  # (no codec on this one)
            found = [c for c in plan.get("conflicts", []) if c["vmid"] == vmid]
            return found and rows[0]["status"] == "Succeeded" and (plan, found[0])

        plan, entry = wait_until(conflict, timeout=40, what="a plan reporting the placeholder")
        assert entry["name"] == "half-1"
        assert "lock=create, no name" in entry["message"]
        assert plan["actions"] == []  # neither created again nor deleted
        guest_report = next(g for g in plan["guests"] if g["name"] == "half-1")
        assert guest_report["status"] == "conflict"

        time.sleep(3)  # a few more runs and drift checks: still never touched
        assert [int(g["vmid"]) for g in sim.guests() if int(g["vmid"]) == vmid] == [vmid]
        assert not [g for g in sim.guests() if g.get("name") == "half-1"]
        deletes = query(database_url, "SELECT count(*) AS n FROM reconciliation_actions "
                        "WHERE kind = 'delete'")
        assert deletes[0]["n"] == 0
        creates = query(database_url, "SELECT count(*) AS n FROM reconciliation_actions "
                        "WHERE kind IN ('create', 'clone')")
        assert creates[0]["n"] == 1
    finally:
        daemon.stop()
        sim.stop()
    assert daemon.proc is not None and daemon.proc.returncode == 0, daemon.tail()
