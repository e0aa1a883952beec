"""The leadership seam of several clusters (issue 17): ``Daemon(elect=...)`` gives each
cluster its own election object, and only the clusters this replica leads are applied.
Here cluster a has the real advisory-lock election and cluster b an election that never
leads (what a fair-share election does with a cluster over this replica's share): a's
folder is applied to its simulator, b's simulator is left alone, and /health says so."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import requests

from mycopod.cluster_unit import Election
from mycopod.config import load_settings
from mycopod.reconcile.leader import LeaderElection
from tests.support.clusters import SimProcess, clusters_config, running_daemon
from tests.support.daemon import Repo, free_port

pytestmark = pytest.mark.timeout(120)


class NeverLeads:
    """An election that never takes the cluster (LeaderElection's surface)."""

    def __init__(self) -> None:
        self.leader = False
        self.changed = asyncio.Event()

    async def run(self) -> None:
        await asyncio.Event().wait()

    async def release(self) -> None:
        return None


async def test_only_the_clusters_this_replica_leads_are_applied(database_url: str,
                                                                tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    (repo.work / "site-a").mkdir()
    (repo.work / "site-b").mkdir()
    repo.push({"site-a/app.md": "web-1 is a VM with 1 core and 1 GB of RAM.\n",
               "site-b/app.md": "web-1 is a VM with 1 core and 1 GB of RAM.\n"})
    sim_a = SimProcess(tmp_path / "sim-a.log").start()
    sim_b = SimProcess(tmp_path / "sim-b.log").start()
    port = free_port()
    try:
        config = clusters_config(tmp_path / "mycopod.toml", database_url=database_url,
                                 repo=repo,
                                 clusters={"a": (sim_a, "site-a/"), "b": (sim_b, "site-b/")})
        settings = load_settings(config, environ={}, overrides={
            "state_dir": str(tmp_path / "state"), "apply": {"drift_seconds": 1.0},
            "api": {"port": port, "jwt_secret": "x" * 40}})
        elections: dict[str, Election] = {}

        def elect(cluster: str) -> Election:
            elections[cluster] = (LeaderElection(database_url, cluster=cluster,
                                                 check_seconds=1.0)
                                  if cluster == "a" else NeverLeads())
            return elections[cluster]

        async with running_daemon(settings, tmp_path, elect=elect,
                                  until=lambda: "web-1" in sim_a.guests(),
                                  what="cluster a was not applied") as database:
            await asyncio.sleep(3)  # b's poller ran meanwhile
            assert await asyncio.to_thread(sim_b.guests) == {}
            health = (await asyncio.to_thread(
                requests.get, f"http://127.0.0.1:{port}/health", timeout=5)).json()["data"]
            assert {c["name"]: c["role"] for c in health["clusters"]} == {
                "a": "leader", "b": "standby"}
            # b still follows its folder (what /health shows), only without acting;
            # with several clusters a standby does not observe b's Proxmox at all
            b = next(c for c in health["clusters"] if c["name"] == "b")
            assert b["repo"]["head"] and b["proxmox"]["reachable"] is None
            runs = await database.pool.fetch("SELECT cluster FROM reconciliation_runs")
            assert {r["cluster"] for r in runs} == {"a"}
            assert isinstance(elections["a"], LeaderElection) and elections["a"].leader
    finally:
        sim_a.stop()
        sim_b.stop()
