"""A bare "on pve3", read through the cluster's facts on every compile path (issue 13).

End to end: a real repository, the poller (with the facts the daemon keeps), the run
worker and the simulator (nodes pve1..pve3) over real HTTPS."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg

from mycopod.config import DeclarationsSettings
from mycopod.declarations import facts as factsmod
from mycopod.declarations import pipeline
from mycopod.declarations.source import GitSource
from mycopod.proxmox import cluster_facts
from mycopod.pvesim import direct
from mycopod.pvesim.state import Pool
from mycopod.pvesim.testing import SimHandle
from mycopod.reconcile.controller import Controller
from mycopod.reconcile.plan import Plan
from mycopod.reconcile.queue import RunQueue
from mycopod.reconcile.triggers import RepoPoller
from mycopod.runtime import RuntimeStatus
from mycopod.store.runs import Run, RunStore
from tests.integration.api.conftest import Api, api, fast_argon2, with_repository  # noqa: F401
from tests.support.daemon import free_port
from tests.support.gitrepo import Remote

PLACED = ("db-1 is a VM with 2 cores, running on pve3.\n\n"
          "db-2 is a VM with 1 core on pve2.\n")


async def run_of(db: asyncpg.Pool, sha: str) -> Run:
    for _ in range(400):
        run_id = await db.fetchval("SELECT id FROM reconciliation_runs WHERE commit_sha = $1 "
                                   "ORDER BY id DESC LIMIT 1", sha)
        run = await RunStore(db).get(run_id) if run_id else None
        if run is not None and run.finished:
            return run
        await asyncio.sleep(0.05)
    raise AssertionError(f"no finished run for {sha}")


async def test_the_facts_are_read_from_proxmox(make_ctx: Any) -> None:
    ctx = await make_ctx()
    facts = await cluster_facts.read(ctx.client)
    assert facts.nodes == ["pve1", "pve2", "pve3"]
    assert "local-lvm" in facts.storage_names("images")
    assert "vmbr0" in facts.bridges
    keeper = cluster_facts.FactsKeeper(ctx.client)
    assert await keeper.get() == facts


async def test_the_keeper_reads_again_when_old_and_keeps_the_last_when_proxmox_is_down(
        make_ctx: Any, sim: SimHandle) -> None:
    ctx = await make_ctx()
    now = [0.0]
    keeper = cluster_facts.FactsKeeper(ctx.client, max_age=30, clock=lambda: now[0])
    first = await keeper.get()
    assert first is not None and "lab" not in first.pools
    with sim.cluster.lock:
        sim.cluster.pools["lab"] = Pool("lab")
    now[0] = 29.0
    assert await keeper.get() == first  # still fresh: not read again
    now[0] = 30.0
    fresh = await keeper.get()
    assert fresh is not None and "lab" in fresh.pools
    down = await make_ctx(proxmox={"url": f"https://127.0.0.1:{free_port()}"})
    keeper.client = down.client
    now[0] = 61.0
    assert await keeper.get() == fresh  # Proxmox down: the last names known
    assert await cluster_facts.FactsKeeper(down.client).get() is None  # none known yet


async def test_a_bare_on_node_places_the_guest_and_an_unknown_one_lists_the_nodes(
        make_ctx: Any, sim: SimHandle, db: asyncpg.Pool, tmp_path: Path) -> None:
    ctx = await make_ctx()
    remote = Remote(tmp_path)
    source = GitSource(DeclarationsSettings(repo=str(remote.bare)), state_dir=tmp_path / "s")
    runtime = RuntimeStatus()
    runtime.facts = cluster_facts.FactsKeeper(ctx.client)  # as the daemon sets it
    queue = RunQueue(db, ctx.cluster, wake=runtime.wake_reconcile)
    poller = RepoPoller(source, queue, runtime=runtime, settings=lambda: ctx.settings,
                        leading=lambda: True, can_reconcile=True)
    controller = Controller(ctx, queue, runtime=runtime, settings=lambda: ctx.settings,
                            stopping=lambda: False)
    task = asyncio.create_task(controller.run(), name="run-worker")
    try:
        sha = remote.commit({"db.md": PLACED}, "databases")
        await poller._queue_head(await source.fetch_async(), webhook=False)
        done = await run_of(db, sha)
        assert done.status == "Succeeded", done.error
        placed = {n: direct.find_guest(sim.cluster, n) for n in ("db-1", "db-2")}
        assert {n: g.node for n, g in placed.items() if g} == {"db-1": "pve3", "db-2": "pve2"}
        # the plan says where each guest comes from and how it was understood
        sources = {s.guest: s for s in Plan.from_json(done.plan).sources}
        assert (sources["db-1"].file, sources["db-1"].line, sources["db-1"].by) == (
            "db.md", 1, "grammar")
        assert sources["db-1"].text == "db-1 is a VM with 2 cores, running on pve3."
        assert "on node pve3" in sources["db-1"].understood_as
        assert sources["db-2"].line == 3 and "on node pve2" in sources["db-2"].understood_as

        bad = remote.commit({"db.md": PLACED + "\ndb-3 is a VM with 1 core, running on "
                                               "pve7.\n"}, "a node that is not there")
        await poller._queue_head(await source.fetch_async(), webhook=False)
        assert runtime.compile_error is not None
        assert "no node, storage, bridge or pool named 'pve7'" in runtime.compile_error
        assert "nodes: pve1, pve2, pve3" in runtime.compile_error
        assert "db.md:5" in runtime.compile_error
        assert await db.fetchval("SELECT count(*) FROM reconciliation_runs "
                                 "WHERE commit_sha = $1", bad) == 0
        assert direct.find_guest(sim.cluster, "db-3") is None
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_the_cache_is_keyed_by_the_facts_when_the_text_says_on(
        db: asyncpg.Pool) -> None:
    three = factsmod.ClusterFacts(nodes=["pve1", "pve2", "pve3"], bridges=["vmbr0"])
    two = factsmod.ClusterFacts(nodes=["pve1", "pve2"], bridges=["vmbr0"])
    files = {"db.md": "db-1 is a VM with 2 cores on pve3.\n",
             "web.md": "web-1 is a VM with 2 cores.\n"}
    first = await pipeline.compile_files_cached(files, pool=db, facts=three)
    assert first.error is None and first.spec is not None
    assert first.spec.guests[0].node == "pve3"
    again = await pipeline.compile_files_cached(files, pool=db, facts=three)
    assert again.hits == 2
    # pve3 left the cluster: never the old answer from the cache
    later = await pipeline.compile_files_cached(files, pool=db, facts=two)
    assert later.error is not None and "named 'pve3' (nodes: pve1, pve2" in later.error
    # a file that never says "on" reads the same in any cluster: still a hit
    assert {r.path: r.cached for r in later.files} == {"db.md": False, "web.md": True}


async def test_post_declarations_reads_on_pve3_through_the_cluster(
        make_ctx: Any, api: Api, tmp_path: Path) -> None:  # noqa: F811
    ctx = await make_ctx()
    await with_repository(api, tmp_path, "web-1 is a VM with 2 cores.\n")
    api.ctx.runtime.facts = cluster_facts.FactsKeeper(ctx.client)  # as the daemon sets it
    admin = api.users["admin"]
    _, body = await api.call("POST", "/declarations", admin, expect=201, json={
        "path": "db.md", "text": "db-1 is a VM with 2 cores on pve3.\n"})
    assert {g["name"]: g.get("node") for g in body["data"]["spec"]["guests"]} == {
        "db-1": "pve3", "web-1": None}
    _, body = await api.call("POST", "/declarations", admin, expect=422, json={
        "path": "db.md", "text": "db-1 is a VM with 2 cores on pve7.\n"})
    assert body["error"]["details"][0]["line"] == 1
    assert "named 'pve7' (nodes: pve1, pve2, pve3;" in body["error"]["details"][0]["message"]
