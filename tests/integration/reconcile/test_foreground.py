"""Foreground work first (issue 17, reconcile/foreground.py): in a replica leading several
clusters, another cluster's push or run holds back a cluster's drift-check reads; its own
never does, and the wait is bounded."""

from __future__ import annotations

import asyncio
from typing import Any

from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle
from mycopod.reconcile.foreground import Foreground


async def observer_of(make_ctx: Any, sim: SimHandle) -> tuple[Any, set[str]]:
    ctx = await make_ctx()
    owned = direct.add_guests(sim.cluster, 6, owned_tag=ctx.policy.ownership_tag,
                              name_prefix="web")
    assert ctx.observer is not None
    configs = [sim.cluster.guests[vmid].config for vmid in owned]
    return ctx.observer, {str(c.get("name") or c.get("hostname")) for c in configs}


async def test_another_clusters_push_holds_back_the_reads_until_it_is_done(
        make_ctx: Any, sim: SimHandle) -> None:
    observer, owned = await observer_of(make_ctx, sim)
    foreground = Foreground()
    observer.foreground = (foreground, "site-a")
    async with foreground.work("site-b"):  # site-b's webhook or run
        resync = asyncio.create_task(observer.observe(full=True))
        await asyncio.sleep(0.5)  # six reads take milliseconds when nothing waits
        assert not resync.done() and foreground.waits > 0
    observed = await asyncio.wait_for(resync, 10)
    assert observer.last_config_reads == len(owned)
    assert {g.name for g in observed.guests if g.owned and g.current is not None} == owned


async def test_a_clusters_own_foreground_work_is_never_held_back(
        make_ctx: Any, sim: SimHandle) -> None:
    observer, owned = await observer_of(make_ctx, sim)
    foreground = Foreground()
    observer.foreground = (foreground, "site-a")
    # site-a's own run may be waiting for this very observation: it must go on
    async with foreground.work("site-b"), foreground.work("site-a"):
        await asyncio.wait_for(observer.observe(full=True), 5)
    assert observer.last_config_reads == len(owned) and foreground.waits == 0


async def test_the_wait_is_bounded(make_ctx: Any, sim: SimHandle) -> None:
    observer, owned = await observer_of(make_ctx, sim)
    foreground = Foreground(max_wait=0.2)
    observer.foreground = (foreground, "site-a")
    async with foreground.work("site-b"):  # a push that never ends
        await asyncio.wait_for(observer.observe(full=True), 10)
    assert observer.last_config_reads == len(owned)
