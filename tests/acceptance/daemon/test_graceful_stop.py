"""SIGTERM in the middle of a run: the daemon waits the grace period, cuts the run (marked
Interrupted), exits 0; the next start redoes the work."""

from __future__ import annotations

from pathlib import Path

import pytest

from mycopod.pvesim.testing import running_simulator
from tests.support.daemon import (
    Daemon,
    Repo,
    daemon_env,
    free_port,
    guests_named,
    query,
    wait_until,
)

pytestmark = pytest.mark.timeout(120)


def _statuses(url: str) -> list[str]:
    return [r["status"] for r in query(url, "SELECT status FROM reconciliation_runs ORDER BY id")]


def test_sigterm_cuts_a_long_run_after_the_grace_period(database_url: str,
                                                         tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    with running_simulator(task_seconds=2.0) as sim:
        env = daemon_env(state_dir=tmp_path / "state", database_url=database_url, sim=sim,
                         repo=repo, port=free_port(), MYCOPOD_APPLY__GRACE_SECONDS="1")
        daemon = Daemon("d", env, tmp_path).start()
        try:
            daemon.wait_healthy()
            repo.push({"slow.md": "Create 4 servers named slow-1 through slow-4, each a VM "
                       "with 1 core and 1 GB of RAM.\n"})
            wait_until(lambda: "InProgress" in _statuses(database_url),
                       timeout=20, what="the run to be applying")
            seconds = daemon.terminate()
            assert daemon.proc is not None and daemon.proc.returncode == 0, daemon.tail()
            assert seconds < 1 + 3, seconds  # the grace period, then the cut
            assert _statuses(database_url) == ["Interrupted"]

            daemon = Daemon("d-again", env, tmp_path).start()
            wait_until(lambda: len(guests_named(sim, "slow-")) == 4 and all(
                s == "running" for *_, s in guests_named(sim, "slow-")), timeout=40,
                what="the work to be redone after the restart")
            assert sorted(n for _, n, _ in guests_named(sim, "slow-")) == [
                f"slow-{i}" for i in range(1, 5)]
            # The cut run was queued again at the start, for the same commit.
            statuses = wait_until(lambda: (s := _statuses(database_url))
                                  and s[-1] == "Succeeded" and s, timeout=20,
                                  what="the redone run to finish")
            assert statuses[0] == "Interrupted" and statuses[1] == "Succeeded", statuses
        finally:
            daemon.stop()
