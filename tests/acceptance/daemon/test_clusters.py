"""Two clusters in one deployment (issue 17): one `mycopod run`, one git repository with a
folder per cluster, each cluster its own simulator process. site-a/ is applied to
cluster a only and site-b/ to cluster b only; the same guest name in both is fine."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.clusters import SimProcess, clusters_config, clusters_env
from tests.support.daemon import PASSWORD, Api, Daemon, Repo, add_user, free_port, query, wait_until

pytestmark = pytest.mark.timeout(180)


def test_each_cluster_gets_its_own_folder(database_url: str, tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    (repo.work / "site-a").mkdir()
    (repo.work / "site-b").mkdir()
    repo.push({"site-a/app.md": "web-1 is a VM with 1 core and 1 GB of RAM.\n",
               "site-b/app.md": "web-1 is a VM with 2 cores and 1 GB of RAM.\n"
                                "db-1 is a VM with 1 core and 1 GB of RAM.\n"})
    sim_a = SimProcess(tmp_path / "sim-a.log").start()
    sim_b = SimProcess(tmp_path / "sim-b.log").start()
    config = clusters_config(tmp_path / "mycopod.toml", database_url=database_url, repo=repo,
                             clusters={"a": (sim_a, "site-a/"), "b": (sim_b, "site-b/")})
    daemon = Daemon("clusters", clusters_env(config=config, state_dir=tmp_path / "state",
                                             port=free_port()), tmp_path)
    try:
        daemon.start()
        daemon.wait_healthy()
        # each simulator gets its own folder's guests, and only those
        wait_until(lambda: set(sim_a.guests()) == {"web-1"}
                   and set(sim_b.guests()) == {"web-1", "db-1"}, timeout=60,
                   what=f"both clusters applied:\n{daemon.tail()}")
        assert int(sim_a.guests()["web-1"]["cores"]) == 1
        assert int(sim_b.guests()["web-1"]["cores"]) == 2
        # the database says which cluster each row is for
        inventory = {(r["cluster"], r["name"]) for r in query(
            database_url, "SELECT cluster, name FROM inventory")}
        assert inventory == {("a", "web-1"), ("b", "web-1"), ("b", "db-1")}
        runs = {r["cluster"] for r in query(
            database_url, "SELECT cluster FROM reconciliation_runs WHERE status = 'Succeeded'")}
        assert runs == {"a", "b"}
        declarations = {(r["cluster"], r["guests"]) for r in query(
            database_url, "SELECT cluster, jsonb_array_length(spec -> 'guests') AS guests "
            "FROM declarations")}
        assert declarations == {("a", 1), ("b", 2)}
        # a later push to one folder changes that cluster only
        repo.push({"site-a/app.md": "web-1 is a VM with 3 cores and 1 GB of RAM.\n"})
        wait_until(lambda: int(sim_a.guests()["web-1"]["cores"]) == 3, timeout=30,
                   what="cluster a to take the new commit")
        assert int(sim_b.guests()["web-1"]["cores"]) == 2
        health = requests.get(f"{daemon.url}/health", timeout=5).json()["data"]
        assert health["role"] == "leader"
        assert {(c["name"], c["role"]) for c in health["clusters"]} == {
            ("a", "leader"), ("b", "leader")}
        metrics = requests.get(f"{daemon.url}/metrics", timeout=5).text
        assert 'mycopod_leader{cluster="a"} 1.0' in metrics
        assert 'mycopod_leader{cluster="b"} 1.0' in metrics
        assert 'mycopod_actions_total{cluster="b",kind="create",result="Success"} 2.0' in metrics
        assert 'mycopod_actions_total{cluster="a",kind="create",result="Success"} 1.0' in metrics
        # the API's lists filter by cluster
        asyncio.run(add_user(database_url, "admin", "admin"))
        admin = Api(daemon.url, "admin", PASSWORD)
        runs_b = admin.get("/logs", cluster="b")["items"]
        assert runs_b and {r["cluster"] for r in runs_b} == {"b"}
        assert {r["cluster"] for r in admin.get("/logs")["items"]} == {"a", "b"}
        declared = admin.get("/declarations", cluster="a")["items"]
        assert declared and {d["cluster"] for d in declared} == {"a"}
        # a manual run for cluster b only
        queued = admin.post("/reconcile", {"cluster": "b", "dry_run": True})
        assert list(queued["runs"]) == ["b"]
        wait_until(lambda: query(database_url, "SELECT 1 FROM reconciliation_runs WHERE id = $1"
                                 " AND cluster = 'b' AND status = 'Succeeded'",
                                 queued["run_id"]), timeout=20, what="b's manual run")
    finally:
        daemon.stop()
        sim_a.stop()
        sim_b.stop()
    log = daemon.log_path.read_text()
    assert '"repo-poller[a]"' in log and '"repo-poller[b]"' in log
    # several clusters: leadership comes from the fair-share election, one lease each
    assert log.count('"event": "fairshare.acquired"') == 2, log


def test_a_bad_clusters_config_stops_mycopod_run_with_its_message(tmp_path: Path) -> None:
    config = tmp_path / "mycopod.toml"
    config.write_text('[declarations]\nrepo = "/srv/declarations.git"\n'
                      '[[clusters]]\nname = "a"\npath = "site/"\n'
                      '[clusters.proxmox]\nurl = "https://a:8006"\ntoken_id = "r@pam!t"\n'
                      'token_secret = "s"\n'
                      '[[clusters]]\nname = "b"\npath = "site/b/"\n'
                      '[clusters.proxmox]\nurl = "https://b:8006"\ntoken_id = "r@pam!t"\n'
                      'token_secret = "s"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYCOPOD_")}
    result = subprocess.run([sys.executable, "-m", "mycopod.cli", "--config", str(config),
                             "run"], capture_output=True, text=True, env=env, timeout=60,
                            check=False)
    assert result.returncode == 1
    assert ("'a' and 'b' would both own declarations (paths 'site/' and 'site/b/' overlap"
            in result.stderr), result.stderr
    assert "Traceback" not in result.stderr
