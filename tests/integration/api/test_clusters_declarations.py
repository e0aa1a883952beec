"""POST /declarations with several clusters (issue 17): it names its cluster, is written
in that cluster's folder of the repository and compiled with that cluster's facts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from mycopod.api.context import ClusterView
from mycopod.config import load_settings
from mycopod.declarations import pipeline
from mycopod.declarations.facts import ClusterFacts
from mycopod.declarations.source import GitSource
from mycopod.proxmox.cluster_facts import FactsKeeper
from mycopod.runtime import RuntimeStatus
from tests.integration.api.conftest import Api, git, start_api


class _NotRead:
    """A Proxmox that must not be asked: the keeper's facts are fresh."""

    async def get(self, path: str, **params: Any) -> Any:
        raise AssertionError(f"Proxmox read for {path}")


def _known(*nodes: str) -> FactsKeeper:
    keeper = FactsKeeper(_NotRead(), max_age=3600)
    keeper.facts = ClusterFacts(nodes=list(nodes), bridges=["vmbr0"])
    keeper._read_at = keeper.clock()
    return keeper


@pytest.fixture
async def two(db: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[tuple[Api, Path]]:
    """Clusters a (pve1-3) and b (pve1-2), each with its folder of one repository, which
    holds web-1 in both (a guest name is unique within its cluster only)."""
    bare, work = tmp_path / "remote.git", tmp_path / "work"
    git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    git("init", "-q", "-b", "main", str(work), cwd=tmp_path)
    for folder in ("site-a", "site-b"):
        (work / folder).mkdir()
        (work / folder / "web.md").write_text("web-1 is a VM with 2 cores.\n")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "two sites", cwd=work)
    git("push", "-q", str(bare), "HEAD:main", cwd=work)
    settings = load_settings(environ={}, overrides={
        "state_dir": str(tmp_path / "state"), "api": {"rate_limit_per_minute": 100_000},
        "declarations": {"repo": str(bare)},
        "clusters": [{"name": "a", "path": "site-a/"}, {"name": "b", "path": "site-b/"}]})
    views = {}
    for each, nodes in zip(settings.per_cluster(), (("pve1", "pve2", "pve3"),
                                                    ("pve1", "pve2")), strict=True):
        name = each.proxmox.cluster
        source = GitSource(each.declarations, state_dir=tmp_path / "state", cluster=name)
        await pipeline.compile_commit(source, source.fetch(), pool=db, settings=each)
        runtime = RuntimeStatus(cluster=name, leader=True)
        runtime.facts = _known(*nodes)
        views[name] = ClusterView(settings=each, runtime=runtime, source=source)
    first = settings.per_cluster()[0]
    client, ctx = await start_api(db, first, runtime=views["a"].runtime,
                                  source=views["a"].source)
    ctx.clusters = views
    api = Api(client=client, ctx=ctx, pool=db)
    await api.add_user("admin", "admin")
    try:
        yield api, bare
    finally:
        await client.close()


async def test_a_declaration_goes_to_the_cluster_it_names(
        two: tuple[Api, Path], tmp_path: Path) -> None:
    api, bare = two
    admin = api.users["admin"]
    text = "db-1 is a VM with 2 cores on pve3.\n"
    status, body = await api.call("POST", "/declarations", admin,
                                  json={"path": "site-a/db.md", "text": text})
    assert status == 422 and body["error"]["code"] == "cluster_required", body
    assert "one of: a, b" in body["error"]["message"]
    status, body = await api.call("POST", "/declarations", admin,
                                  json={"path": "site-a/db.md", "text": text, "cluster": "c"})
    assert status == 422 and body["error"]["code"] == "unknown_cluster", body
    assert "the clusters are: a, b" in body["error"]["message"]
    status, body = await api.call("POST", "/declarations", admin,
                                  json={"path": "site-b/db.md", "text": text, "cluster": "a"})
    assert status == 422 and "not in cluster 'a''s folder 'site-a/'" in (
        body["error"]["message"]), body
    # b has no pve3: compiled with b's nodes, refused
    status, body = await api.call("POST", "/declarations", admin,
                                  json={"path": "site-b/db.md", "text": text, "cluster": "b"})
    assert status == 422, body
    assert "nodes: pve1, pve2;" in body["error"]["details"][0]["message"]

    _, body = await api.call("POST", "/declarations", admin, expect=201,
                             json={"path": "site-a/db.md", "text": text, "cluster": "a"})
    data = body["data"]
    assert data["cluster"] == "a"
    assert {g["name"]: g.get("node") for g in data["spec"]["guests"]} == {
        "db-1": "pve3", "web-1": None}
    assert git("--git-dir", str(bare), "show", "main:site-a/db.md", cwd=tmp_path) == (
        text.strip())
    assert api.ctx.clusters["a"].runtime.wake_fetch.is_set()
    assert not api.ctx.clusters["b"].runtime.wake_fetch.is_set()
    _, page = await api.call("GET", "/declarations", admin, params={"cluster": "b"},
                             expect=200)
    assert [d["source"] for d in page["data"]["items"]] == ["git"]
    _, page = await api.call("GET", "/declarations", admin, params={"cluster": "a"},
                             expect=200)
    assert page["data"]["items"][0]["id"] == data["id"]

    # the same guest name in b's folder is b's own guest
    _, body = await api.call("POST", "/declarations", admin, expect=201, json={
        "path": "site-b/db.md", "text": "db-1 is a VM with 1 core on pve2.\n",
        "cluster": "b"})
    assert body["data"]["cluster"] == "b"
    assert {g["name"] for g in body["data"]["spec"]["guests"]} == {"db-1", "web-1"}
