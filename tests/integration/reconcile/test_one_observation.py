"""Right after a takeover (the observer's cache invalidated), a run that starts while the
drift check's full resync is under way waits for it and then reads only what changed:
one full resync of the cluster, not two at once (issue 17)."""

from __future__ import annotations

import asyncio
from typing import Any

from mycopod import spec as specmod
from mycopod.pvesim import direct
from mycopod.pvesim.testing import SimHandle
from mycopod.reconcile import reconciler


async def test_two_observations_at_once_make_one_full_resync(make_ctx: Any,
                                                             sim: SimHandle) -> None:
    ctx = await make_ctx()
    tag = ctx.policy.ownership_tag
    owned = direct.add_guests(sim.cluster, 6, owned_tag=tag, name_prefix="web")
    spec = specmod.ClusterSpec()
    assert ctx.observer is not None
    ctx.observer.invalidate()  # as on taking leadership
    observer = ctx.observer
    reads: list[int] = []
    plain = observer.observe

    async def counted(**kwargs: Any) -> Any:
        observed = await plain(**kwargs)
        reads.append(observer.last_config_reads)  # this observation's config reads
        return observed

    observer.observe = counted  # type: ignore[method-assign]
    await asyncio.gather(reconciler.observe_and_plan(ctx, spec),
                         reconciler.observe_and_plan(ctx, spec))
    assert reads == [len(owned), 0]  # the second read nothing again
