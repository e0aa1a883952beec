"""`mycopod run` reads a bare "on pve3" through the cluster it manages (issue 13): the
daemon, the simulator (nodes pve1..pve3), a git repository and PostgreSQL as separate
processes, checked as an owner would: where the guests land, and /health's compile error
for a node that is not there."""

from __future__ import annotations

from pathlib import Path

import pytest

from mycopod.pvesim.testing import running_simulator
from tests.support.daemon import Daemon, Repo, daemon_env, free_port, query, wait_until

pytestmark = pytest.mark.timeout(180)

PLACED = ("db-1 is a VM with 2 cores, running on pve3.\n\n"
          "db-2 is a VM with 1 core on pve2.\n")


def _node(sim: object, name: str) -> str | None:
    for guest in list(sim.cluster.guests.values()):  # type: ignore[attr-defined]
        if guest.config.get("name") == name:
            return str(guest.node)
    return None


def test_the_daemon_places_guests_by_the_clusters_names(database_url: str,
                                                         tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    repo.push({"db.md": PLACED}, "databases")
    with running_simulator(task_seconds=0.05) as sim:
        env = daemon_env(state_dir=tmp_path / "state", database_url=database_url, sim=sim,
                         repo=repo, port=free_port())
        daemon = Daemon("d1", env, tmp_path).start()
        try:
            daemon.wait_healthy(timeout=60)
            wait_until(lambda: _node(sim, "db-1") == "pve3" and _node(sim, "db-2") == "pve2",
                       timeout=90, what="db-1 on pve3 and db-2 on pve2")
            bad = repo.push({"db.md": PLACED + "\ndb-3 is a VM with 1 core, running on "
                                               "pve7.\n"}, "a node that is not there")

            def refused() -> str | None:
                health = daemon.health() or {}
                error = (health.get("repo") or {}).get("compile_error") or ""
                return error if bad[:12] in error else None

            error = wait_until(refused, timeout=60, what="the compile error on /health")
            assert "no node, storage, bridge or pool named 'pve7'" in error
            assert "nodes: pve1, pve2, pve3" in error
            assert not query(database_url, "SELECT id FROM reconciliation_runs "
                                           "WHERE commit_sha = $1", bad)
            assert _node(sim, "db-3") is None
        finally:
            daemon.stop()
