"""POST /declarations/import with several clusters (issue 17): it reads the cluster it
names, and its files are named (and committed) in that cluster's folder."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from mycopod.api.context import ClusterView
from mycopod.config import load_settings
from mycopod.declarations import pipeline
from mycopod.declarations.source import GitSource
from mycopod.pvesim.testing import SimHandle, running_simulator
from mycopod.runtime import RuntimeStatus
from tests.integration.api.conftest import Api, git, start_api
from tests.support import brownfield


async def test_the_import_reads_the_cluster_it_names(db: asyncpg.Pool, sim: SimHandle,
                                                     tmp_path: Path) -> None:
    brownfield.build(sim)  # a's guests; b is a simulator of its own, with only its seed
    bare, work = tmp_path / "remote.git", tmp_path / "work"
    git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    git("init", "-q", "-b", "main", str(work), cwd=tmp_path)
    (work / "site-a").mkdir()
    (work / "site-a" / "web.md").write_text("web-1 is a VM with 2 cores.\n")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "site a", cwd=work)
    git("push", "-q", str(bare), "HEAD:main", cwd=work)
    with running_simulator(task_seconds=0.02, seed=3) as empty:
        def proxmox(handle: SimHandle) -> dict[str, object]:
            return {"url": handle.url, "user": handle.user, "password": handle.password,
                    "verify_tls": False, "timeout": 10}

        settings = load_settings(environ={}, overrides={
            "state_dir": str(tmp_path / "state"),
            "api": {"rate_limit_per_minute": 100_000},
            "declarations": {"repo": str(bare)},
            "clusters": [{"name": "a", "path": "site-a/", "proxmox": proxmox(sim)},
                         {"name": "b", "path": "site-b/", "proxmox": proxmox(empty)}]})
        views = {}
        for each in settings.per_cluster():
            name = each.proxmox.cluster
            source = GitSource(each.declarations, state_dir=tmp_path / "state", cluster=name)
            await pipeline.compile_commit(source, source.fetch(), pool=db, settings=each)
            views[name] = ClusterView(settings=each, runtime=RuntimeStatus(cluster=name),
                                      source=source)
        client, ctx = await start_api(db, settings.per_cluster()[0],
                                      runtime=views["a"].runtime, source=views["a"].source)
        ctx.clusters = views
        api = Api(client=client, ctx=ctx, pool=db)
        try:
            admin = await api.add_user("root-admin", "admin")
            status, body = await api.call("POST", "/declarations/import", admin, json={})
            assert status == 422 and body["error"]["code"] == "cluster_required", body
            status, body = await api.call("POST", "/declarations/import", admin,
                                          json={"cluster": "z"})
            assert status == 422 and "the clusters are: a, b" in body["error"]["message"]

            _, body = await api.call("POST", "/declarations/import", admin, expect=200,
                                     json={"cluster": "b"})
            only_b = body["data"]
            assert only_b["guests"] == ["legacy-app"]  # the one guest b's simulator has
            assert all(name.startswith("site-b/") for name in only_b["files"])

            _, body = await api.call("POST", "/declarations/import", admin, expect=200,
                                     json={"cluster": "a", "branch": "import/site-a"})
            data = body["data"]
            assert len(data["guests"]) > 1 and data["files"]  # a's own guests
            assert all(name.startswith("site-a/") for name in data["files"]), data["files"]
            listed = git("--git-dir", str(bare), "ls-tree", "-r", "--name-only",
                         "import/site-a", cwd=tmp_path).split()
            assert set(data["files"]) <= set(listed)
        finally:
            await client.close()
