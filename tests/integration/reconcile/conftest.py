"""End-to-end fixtures: the simulator over real HTTPS, a ProxmoxClient, an EngineContext."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from mycopod.config import Settings, load_settings
from mycopod.proxmox.client import ProxmoxClient
from mycopod.pvesim.testing import SimHandle, running_simulator
from mycopod.reconcile import reconciler
from mycopod.spec import ClusterSpec, parse_spec
from mycopod.store.runs import Run, RunStore

#: the 14 shared examples, copied unchanged into the repository so CI has them
EXAMPLES = Path(__file__).resolve().parents[2] / "unit" / "declarations" / "examples"
#: every request any end-to-end test made: (method, path, params), for the schema test
RECORDED: list[tuple[str, str, dict[str, Any]]] = []


def record(method: str, path: str, params: dict[str, Any]) -> None:
    RECORDED.append((method, path, params))


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    with running_simulator(task_seconds=0.02, seed=7) as handle:
        yield handle


def make_settings(sim: SimHandle, *, proxmox: dict[str, Any] | None = None,
                  **policy: Any) -> Settings:
    return load_settings(environ={}, overrides={
        "proxmox": {"url": sim.url, "user": sim.user, "password": sim.password,
                    "verify_tls": False, "timeout": 10, **(proxmox or {})},
        "policy": policy,
        "apply": {"max_parallel": 8, "per_node_parallel": 4},
    })


@pytest.fixture
async def make_ctx(sim: SimHandle, db: asyncpg.Pool) -> AsyncIterator[Any]:
    """``await make_ctx(**policy)`` → a fresh EngineContext (fresh observer cache)."""
    made: list[reconciler.EngineContext] = []

    async def factory(*, proxmox: dict[str, Any] | None = None,
                      **policy: Any) -> reconciler.EngineContext:
        settings = make_settings(sim, proxmox=proxmox, **policy)
        client = ProxmoxClient.from_settings(settings.proxmox, request_hook=record,
                                             retry_initial=0.01, retry_max=0.1, retries=8,
                                             task_poll=0.01)
        ctx = reconciler.EngineContext.create(db, settings, client=client)
        made.append(ctx)
        return ctx

    yield factory
    for ctx in made:
        await ctx.client.aclose()


async def reconcile(ctx: reconciler.EngineContext, spec: ClusterSpec, *,
                    trigger: str = "manual", dry_run: bool = False) -> Run:
    runs = RunStore(ctx.pool)
    created = await runs.create(trigger=trigger, cluster=ctx.cluster,  # type: ignore[arg-type]
                                dry_run=dry_run)
    claimed = await runs.claim_next_pending(ctx.cluster)
    assert claimed is not None and claimed.id == created.id
    return await reconciler.execute_run(claimed, ctx=ctx, spec=spec)


def example(name: str) -> ClusterSpec:
    return parse_spec(json.loads((EXAMPLES / f"{name}.json").read_text()))
