"""Two replicas on one database: exactly one leads and applies; when it is SIGKILLed the
other takes over within 15 s and finishes the work with no duplicate guest or action."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from mycopod.pvesim.testing import running_simulator
from tests.support.daemon import (
    CREATES_PER_TARGET,
    Daemon,
    Repo,
    all_running,
    daemon_env,
    free_port,
    guests_named,
    query,
    wait_until,
)

pytestmark = pytest.mark.timeout(180)


def test_standby_takes_over_from_a_killed_leader(database_url: str, tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    with running_simulator(task_seconds=0.3) as sim:
        daemons = []
        for name in ("a", "b"):
            env = daemon_env(state_dir=tmp_path / f"state-{name}", database_url=database_url,
                             sim=sim, repo=repo, port=free_port(),
                             MYCOPOD_APPLY__DRIFT_SECONDS="30")
            daemons.append(Daemon(name, env, tmp_path))
        a, b = daemons
        try:
            a.start()
            a.wait_healthy()
            wait_until(lambda: a.role() == "leader", timeout=10, what="a to lead")
            b.start()
            b.wait_healthy()
            time.sleep(1)
            assert (a.role(), b.role()) == ("leader", "standby")
            leads = 'mycopod_leader{cluster="default"}'
            assert f"{leads} 1.0" in requests.get(f"{a.url}/metrics", timeout=5).text
            assert f"{leads} 0.0" in requests.get(f"{b.url}/metrics", timeout=5).text

            commit = repo.push({"fleet.md": "Create 12 servers named ha-1 through ha-12, "
                                "each a VM with 1 core and 1 GB of RAM.\n"})
            wait_until(lambda: len(guests_named(sim, "ha-")) >= 2, timeout=20,
                       what="the leader to start applying", interval=0.02)
            assert b.role() == "standby"  # only the leader applies
            a.kill()
            killed_at = time.monotonic()
            assert len(guests_named(sim, "ha-")) < 12, "finished before the kill"

            wait_until(lambda: b.role() == "leader", timeout=15, what="b to take over")
            assert time.monotonic() - killed_at < 15

            wait_until(lambda: all_running(sim, "ha-", 12), timeout=60,
                       what="b to finish the work")
            names = sorted(n for _, n, _ in guests_named(sim, "ha-"))
            assert names == sorted(f"ha-{i}" for i in range(1, 13))

            runs = query(database_url, "SELECT id, status FROM reconciliation_runs "
                         "WHERE commit_sha = $1 ORDER BY id", commit)
            assert runs[0]["status"] == "Interrupted", runs
            wait_until(lambda: query(
                database_url, "SELECT 1 FROM reconciliation_runs WHERE status = 'Succeeded' "
                "AND id > $1", runs[0]["id"]), timeout=20, what="a run to succeed after")
            creates = query(database_url, CREATES_PER_TARGET)
            # Never created twice; a create in flight at the kill stays Pending (the guest is
            # found afterwards through the inventory, not created again).
            assert all(r["n"] == 1 for r in creates), creates
            assert {r["target"] for r in creates} <= {f"ha-{i}" for i in range(1, 13)}
            assert b.terminate() < 10 and b.proc is not None and b.proc.returncode == 0
        finally:
            for daemon in daemons:
                daemon.stop()


def test_a_leader_that_loses_its_lock_session_stops_applying(database_url: str,
                                                             tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    with running_simulator(task_seconds=0.3) as sim:
        daemons = [Daemon(name, daemon_env(
            state_dir=tmp_path / f"state-{name}", database_url=database_url, sim=sim,
            repo=repo, port=free_port(), MYCOPOD_APPLY__DRIFT_SECONDS="30"), tmp_path)
            for name in ("a", "b")]
        a, b = daemons
        try:
            a.start()
            a.wait_healthy()
            wait_until(lambda: a.role() == "leader", timeout=10, what="a to lead")
            b.start()
            b.wait_healthy()
            commit = repo.push({"fleet.md": "Create 12 servers named cut-1 through cut-12, "
                                "each a VM with 1 core and 1 GB of RAM.\n"})
            wait_until(lambda: len(guests_named(sim, "cut-")) >= 2, timeout=20,
                       what="the leader to start applying", interval=0.02)
            # The leader's lock session dies (a database failover, a network cut) while
            # the process lives on.
            query(database_url, "SELECT pg_terminate_backend(pid) FROM pg_locks "
                  "WHERE locktype = 'advisory' AND granted")
            runs = wait_until(lambda: (r := query(
                database_url, "SELECT status, error FROM reconciliation_runs "
                "WHERE commit_sha = $1 ORDER BY id", commit)) and r[0]["status"] != "InProgress"
                and r, timeout=5, what="the old leader to stop applying")
            assert runs[0]["status"] == "Interrupted"
            assert "lost the leader lock" in runs[0]["error"]
            wait_until(lambda: {a.role(), b.role()} == {"leader", "standby"}, timeout=15,
                       what="a new leader")

            wait_until(lambda: all_running(sim, "cut-", 12), timeout=60,
                       what="the work to be finished")
            names = sorted(n for _, n, _ in guests_named(sim, "cut-"))
            assert names == sorted(f"cut-{i}" for i in range(1, 13))
            creates = query(database_url, CREATES_PER_TARGET)
            assert all(r["n"] == 1 for r in creates), creates
        finally:
            for daemon in daemons:
                daemon.stop()
