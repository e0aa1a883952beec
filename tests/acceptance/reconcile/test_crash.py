"""SIGKILL in the middle of applying 20 creates; the next reconcile converges.

``mycopod reconcile --once`` runs as a real subprocess against the simulator (HTTPS), a
real PostgreSQL database and a real git repository. It is killed while creating; the
attempt it was making stays Pending in the action log, the next start marks the run
Interrupted, and reconciling again converges with no duplicate guest (found by tag,
inventory and name).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

from mycopod.pvesim.testing import running_simulator

DECLARATION = ("Create 20 VMs named w-1 through w-20, each with 1 core and 512 MB of RAM "
               "and a 2 GB disk on tank.\n")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def make_repo(path: Path) -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "owner@example.org")
    git(path, "config", "user.name", "Owner")
    (path / "lab.md").write_text(DECLARATION)
    git(path, "add", "lab.md")
    git(path, "commit", "-q", "-m", "twenty VMs")
    return path


def environment(database_url: str, sim: Any, state: Path, repo: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("MYCOPOD_")}
    env.update({
        "MYCOPOD_STATE_DIR": str(state),
        "MYCOPOD_DATABASE__URL": database_url,
        "MYCOPOD_PROXMOX__URL": sim.url,
        "MYCOPOD_PROXMOX__USER": sim.user,
        "MYCOPOD_PROXMOX__PASSWORD": sim.password,
        "MYCOPOD_PROXMOX__VERIFY_TLS": "false",
        "MYCOPOD_DECLARATIONS__REPO": str(repo),
        "MYCOPOD_APPLY__MAX_PARALLEL": "4",
        "MYCOPOD_APPLY__PER_NODE_PARALLEL": "2",
        "PYTHONWARNINGS": "ignore",
    })
    return env


def reconcile_cmd() -> list[str]:
    return [sys.executable, "-m", "mycopod.cli", "reconcile", "--once"]


async def _count(url: str, sql: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


def count(url: str, sql: str) -> int:
    return asyncio.run(_count(url, sql))


def test_sigkill_mid_apply_then_converges(tmp_path: Path, database_url: str) -> None:
    repo = make_repo(tmp_path / "declarations")
    with running_simulator(task_seconds=0.3, seed=11) as sim:
        env = environment(database_url, sim, tmp_path / "state", repo)
        proc = subprocess.Popen(reconcile_cmd(), env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"finished before the kill: {proc.communicate()}")
            done = count(database_url, "SELECT count(*) FROM reconciliation_actions "
                         "WHERE kind = 'create' AND result = 'Success'")
            if done >= 5:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert count(database_url, "SELECT count(*) FROM reconciliation_runs "
                     "WHERE status = 'InProgress'") == 1
        assert count(database_url, "SELECT count(*) FROM reconciliation_actions "
                     "WHERE result = 'Pending'") >= 1
        created_before = count(database_url, "SELECT count(*) FROM reconciliation_actions "
                               "WHERE kind = 'create' AND result IN ('Success', 'Pending')")
        assert created_before < 20

        outputs = []
        for _ in range(6):
            result = subprocess.run(reconcile_cmd(), env=env, capture_output=True, text=True,
                                    timeout=120)
            outputs.append(result.stdout + result.stderr)
            if result.returncode == 0 and "Nothing to do" in result.stdout:
                break
        else:
            raise AssertionError("did not converge:\n" + "\n---\n".join(outputs))

        with sim.cluster.lock:
            guests = [g.name for g in sim.cluster.guests.values() if g.name.startswith("w-")]
            statuses = {g.name: g.status for g in sim.cluster.guests.values()}
        assert sorted(guests) == sorted(f"w-{i}" for i in range(1, 21)), "duplicates/missing"
        assert all(statuses[f"w-{i}"] == "running" for i in range(1, 21))
        assert count(database_url, "SELECT count(*) FROM reconciliation_runs "
                     "WHERE status = 'Interrupted'") == 1
        assert "marked interrupted" in outputs[0]
        assert count(database_url, "SELECT count(*) FROM inventory") == 20
