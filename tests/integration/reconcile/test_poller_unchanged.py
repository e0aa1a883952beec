"""A push to one cluster's folder of a shared repository runs that cluster only (issue
17): the other clusters' pollers see the new head, find none of their files changed, and
record and queue nothing; a change to their own folder is run as before."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from mycopod.config import load_settings
from mycopod.declarations.source import GitSource
from mycopod.reconcile.queue import RunQueue
from mycopod.reconcile.triggers import RepoPoller
from mycopod.runtime import RuntimeStatus
from tests.support.gitrepo import Remote


async def runs_of(db: asyncpg.Pool, cluster: str) -> list[str]:
    rows = await db.fetch("SELECT commit_sha FROM reconciliation_runs WHERE cluster = $1 "
                          "ORDER BY id", cluster)
    return [r["commit_sha"] for r in rows]


async def declarations_of(db: asyncpg.Pool, cluster: str) -> list[str]:
    rows = await db.fetch("SELECT github_commit_sha FROM declarations WHERE cluster = $1 "
                          "ORDER BY id", cluster)
    return [r["github_commit_sha"] for r in rows]


async def test_a_push_to_one_folder_runs_only_that_cluster(db: asyncpg.Pool,
                                                           tmp_path: Path) -> None:
    remote = Remote(tmp_path)
    pollers: dict[str, tuple[RepoPoller, GitSource]] = {}
    for name in ("site-a", "site-b"):
        settings = load_settings(environ={}, overrides={
            "proxmox": {"cluster": name},
            "declarations": {"repo": str(remote.bare), "path": f"{name}/"}})
        source = GitSource(settings.declarations, state_dir=tmp_path / name)
        runtime = RuntimeStatus(cluster=name)
        poller = RepoPoller(source, RunQueue(db, name, wake=runtime.wake_reconcile),
                            runtime=runtime, settings=lambda s=settings: s,
                            leading=lambda: True, can_reconcile=True)
        pollers[name] = (poller, source)

    async def poll_all() -> None:
        for poller, source in pollers.values():
            await poller._queue_head(await source.fetch_async(), webhook=True)

    first = remote.commit({"site-a/g.md": "a-1 is a VM.\n", "site-b/g.md": "b-1 is a VM.\n"})
    await poll_all()
    assert await declarations_of(db, "site-a") == await declarations_of(db, "site-b") == [
        first]
    assert len(await runs_of(db, "site-b")) == 1
    only_a = remote.commit({"site-a/g.md": "a-1 is a VM with 2 cores.\n"})
    await poll_all()
    assert await declarations_of(db, "site-a") == [first, only_a]
    assert await declarations_of(db, "site-b") == [first]  # nothing of site-b changed
    assert await runs_of(db, "site-b") == [first]  # and nothing queued for it
    only_b = remote.commit({"site-b/g.md": "b-1 is a VM with 4 cores.\n"})
    await poll_all()
    assert await declarations_of(db, "site-a") == [first, only_a]
    assert await declarations_of(db, "site-b") == [first, only_b]
    # a commit that breaks site-b's file is recorded as failing; the next commit that
    # changes only site-a's folder does not hide that: site-b compiles it again
    broken = remote.commit({"site-b/g.md": "b-1 is a VM with 2 GPUs.\n"})
    await poll_all()
    assert await declarations_of(db, "site-b") == [first, only_b, broken]
    again = remote.commit({"site-a/g.md": "a-1 is a VM with 3 cores.\n"})
    await poll_all()
    assert await declarations_of(db, "site-b") == [first, only_b, broken, again]


async def test_a_cluster_reading_the_whole_repository_runs_every_new_commit(
        db: asyncpg.Pool, tmp_path: Path) -> None:
    """An empty commit pushed to retry is a run when the cluster reads the whole
    repository (no folder of its own)."""
    remote = Remote(tmp_path)
    settings = load_settings(environ={}, overrides={"declarations": {"repo": str(remote.bare)}})
    source = GitSource(settings.declarations, state_dir=tmp_path / "whole")
    runtime = RuntimeStatus()
    poller = RepoPoller(source, RunQueue(db, settings.proxmox.cluster,
                                         wake=runtime.wake_reconcile),
                        runtime=runtime, settings=lambda: settings, leading=lambda: True,
                        can_reconcile=True)
    first = remote.commit({"g.md": "a-1 is a VM.\n"})
    await poller._queue_head(await source.fetch_async(), webhook=True)
    retry = remote.commit({}, "retry")  # an empty commit
    assert await source.fetch_async() == retry != first
    await poller._queue_head(retry, webhook=True)
    cluster = settings.proxmox.cluster
    assert await declarations_of(db, cluster) == [first, retry]
    assert (await runs_of(db, cluster))[-1] == retry  # the queued run takes the new commit

