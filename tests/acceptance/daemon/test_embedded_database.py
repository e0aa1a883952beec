"""The daemon keeps its embedded PostgreSQL up, and /health says what is true about it.

A real `mycopod run` with no database URL starts pgserver's PostgreSQL in its state
folder. The postmaster is then killed (SIGKILL) in the middle of a run, or told to stop
(SIGTERM, a smart shutdown that never ends while the daemon's pool holds sessions).
Before the supervisor, the first left the daemon at 503 forever and the second left
/health at 200 while every new connection was refused.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import tempfile
import time
from pathlib import Path

import pytest
import requests

from mycopod.pvesim.testing import running_simulator
from mycopod.store import embedded
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

pytestmark = pytest.mark.timeout(150)


def embedded_daemon(tmp_path: Path, sim: object, repo: Repo) -> tuple[Daemon, Path]:
    # Not under tmp_path: as root the server's user must traverse every folder above
    # its data, and any pytest session starting meanwhile chmods /tmp/pytest-of-root
    # back to 0700.
    state = Path(tempfile.mkdtemp(prefix="mycopod-embedded-"))
    env = daemon_env(state_dir=state, database_url="", sim=sim, repo=repo,
                     port=free_port(), MYCOPOD_DATABASE__CHECK_SECONDS="0.5",
                     MYCOPOD_APPLY__DRIFT_SECONDS="30")
    del env["MYCOPOD_DATABASE__URL"]  # the embedded server, in state/pgdata
    return Daemon("embedded", env, tmp_path), state


def postmaster(state: Path) -> int:
    """The pid of the running, ready postmaster (0 while there is none)."""
    current = embedded.state(state)
    return (current.pid or 0) if current.status == "ready" else 0


def db_url(state: Path) -> str:
    return f"postgresql://postgres:@/postgres?host={embedded.pgdata_dir(state)}"


def health(daemon: Daemon) -> tuple[int, dict]:
    resp = requests.get(f"{daemon.url}/health", timeout=5)
    body = resp.json()
    return resp.status_code, body.get("data") or body["error"]["details"]


def stop_all(daemon: Daemon, state: Path) -> None:
    daemon.stop()
    leftover = embedded.state(state)  # never leave a postmaster behind a failed test
    if leftover.alive and leftover.pid:
        os.kill(leftover.pid, signal.SIGQUIT)
    shutil.rmtree(state, ignore_errors=True)


def test_a_killed_postmaster_is_restarted_and_the_daemon_leads_and_applies_again(
        tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    with running_simulator(task_seconds=0.3) as sim:
        daemon, state = embedded_daemon(tmp_path, sim, repo)
        try:
            daemon.start()
            daemon.wait_healthy(timeout=60)
            wait_until(lambda: daemon.role() == "leader", timeout=15, what="leadership")
            commit = repo.push({"fleet.md": "Create 8 servers named pk-1 through pk-8, "
                                "each a VM with 1 core and 1 GB of RAM.\n"})
            wait_until(lambda: len(guests_named(sim, "pk-")) >= 2, timeout=30,
                       what="the run to start creating", interval=0.02)
            old = postmaster(state)
            os.kill(old, signal.SIGKILL)
            assert len(guests_named(sim, "pk-")) < 8, "finished before the kill"

            wait_until(lambda: postmaster(state) not in (0, old), timeout=20,
                       what="PostgreSQL to be restarted")
            wait_until(lambda: (h := health(daemon))[0] == 200
                       and h[1]["database"] == "up" and h[1]["role"] == "leader",
                       timeout=20, what="/health 200 and leadership again")
            assert daemon.proc is not None and daemon.proc.poll() is None  # same process

            wait_until(lambda: all_running(sim, "pk-", 8), timeout=60,
                       what="the cut run to be finished")
            url = db_url(state)
            runs = query(url, "SELECT status FROM reconciliation_runs WHERE commit_sha = $1 "
                         "ORDER BY id", commit)
            assert runs[0]["status"] == "Interrupted", runs
            creates = query(url, CREATES_PER_TARGET)
            assert all(r["n"] == 1 for r in creates), creates
            names = sorted(n for _, n, _ in guests_named(sim, "pk-"))
            assert names == sorted(f"pk-{i}" for i in range(1, 9)), "duplicates or missing"

            repo.push({"more.md": "Create 2 servers named pn-1 through pn-2, each a VM "
                       "with 1 core and 1 GB of RAM.\n"})
            wait_until(lambda: all_running(sim, "pn-", 2), timeout=40,
                       what="a new commit to be applied")
            assert stat.S_IMODE(state.stat().st_mode) & 0o067 == 0  # still private
        finally:
            stop_all(daemon, state)
        assert daemon.proc is not None and daemon.proc.returncode == 0, daemon.tail()


def test_a_stopping_postmaster_is_reported_down_then_restarted(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    with running_simulator(task_seconds=0.1) as sim:
        daemon, state = embedded_daemon(tmp_path, sim, repo)
        try:
            daemon.start()
            daemon.wait_healthy(timeout=60)
            wait_until(lambda: daemon.role() == "leader", timeout=15, what="leadership")
            old = postmaster(state)
            os.kill(old, signal.SIGTERM)  # a smart shutdown: sessions keep working
            told = time.monotonic()
            code, report = wait_until(lambda: (h := health(daemon))[0] == 503 and h,
                                      timeout=5, what="/health to say the database is down")
            assert time.monotonic() - told < 3
            assert report["database"] == "down"
            wait_until(lambda: postmaster(state) not in (0, old), timeout=20,
                       what="PostgreSQL to be restarted")
            wait_until(lambda: daemon.health() is not None, timeout=15,
                       what="/health 200 again")
            assert daemon.health()["database"] == "up"  # type: ignore[index]
            wait_until(lambda: daemon.role() == "leader", timeout=15,
                       what="leadership again")
        finally:
            stop_all(daemon, state)
        assert daemon.proc is not None and daemon.proc.returncode == 0, daemon.tail()
