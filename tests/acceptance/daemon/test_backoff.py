"""A failing reconcile is retried with growing delays; a failing compile is not retried."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import asyncpg
import pytest

from mycopod.pvesim.testing import running_simulator
from tests.support.daemon import Daemon, Repo, daemon_env, free_port, query, wait_until

pytestmark = pytest.mark.timeout(120)


def _runs(url: str, commit: str) -> list[asyncpg.Record]:
    return query(url, "SELECT id, status, trigger, created_at FROM reconciliation_runs "
                 "WHERE commit_sha = $1 ORDER BY id", commit)


def _declaration(url: str, commit: str) -> asyncpg.Record | None:
    rows = query(url, "SELECT compile_status, compile_error FROM declarations "
                 "WHERE github_commit_sha = $1", commit)
    return rows[0] if rows else None


def test_failed_runs_back_off_and_bad_compiles_wait_for_a_commit(database_url: str,
                                                                  tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    with running_simulator(task_seconds=0.1) as sim:
        env = daemon_env(state_dir=tmp_path / "state", database_url=database_url, sim=sim,
                         repo=repo, port=free_port())
        daemon = Daemon("d", env, tmp_path).start()
        try:
            daemon.wait_healthy()
            failing = repo.push({"bad.md": "web-1 is a VM cloned from the template "
                                 "no-such-template.\n"})
            runs = wait_until(lambda: (r := _runs(database_url, failing))
                              and len(r) >= 4 and r, timeout=30,
                              what="three retries of the failing run")
            assert all(r["status"] == "Failed" for r in runs[:3]), runs
            gaps = [(b["created_at"] - a["created_at"]).total_seconds()
                    for a, b in itertools.pairwise(runs[:4])]
            # 1 s, then 1..2 s, then 2..4 s (exponential, with jitter), plus run time.
            assert gaps[0] >= 0.9 and gaps[1] >= 0.9 and gaps[2] >= 1.9, gaps
            assert gaps[2] > gaps[0], gaps

            broken = repo.push({"bad.md": "web-1 is a VM with 2 flux capacitors.\n"})
            row = wait_until(lambda: _declaration(database_url, broken),
                             timeout=15, what="the broken commit to be compiled")
            assert row["compile_status"] == "error"
            time.sleep(3)
            assert _runs(database_url, broken) == []  # nothing to retry
        finally:
            daemon.stop()
