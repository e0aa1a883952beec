"""How the controller reaches the other parts: the engine, the declarations, the API.

The controller (:mod:`mycopod.reconcile.controller`) decides *when* things happen; this
module is the thin layer that knows *which* function of which area does them, so the
controller reads as a loop of intents and each area keeps its own interface.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg
import structlog

from mycopod import telemetry
from mycopod.config import Settings
from mycopod.runtime import RuntimeStatus

if TYPE_CHECKING:
    from mycopod.declarations.source import GitSource
    from mycopod.declarations.workers import CompileWorkers
    from mycopod.reconcile.engine import EngineContext
    from mycopod.store.runs import Run

log = structlog.get_logger(__name__)

#: a run whose declaration did not compile: retrying cannot help, a new commit can
DECLARATION_STATUS = "SELECT compile_status FROM declarations WHERE id = $1"


# -- engine ------------------------------------------------------------------------------


async def engine_context(settings: Settings, pool: asyncpg.Pool, *,
                         runtime: RuntimeStatus | None = None) -> EngineContext | None:
    """The engine's context, or None when no Proxmox cluster is configured. Every
    Proxmox call's outcome goes to ``runtime`` (what /health reports)."""
    if not settings.proxmox.url:
        log.warning("controller.no_proxmox", note="set proxmox.url to reconcile a cluster")
        return None
    from mycopod.reconcile.engine import EngineContext

    return EngineContext.create(
        pool, settings, on_outcome=runtime.proxmox_outcome if runtime is not None else None)


async def close_engine_context(ctx: EngineContext | None) -> None:
    if ctx is not None:
        await ctx.client.aclose()


def update_engine_settings(ctx: EngineContext | None, settings: Settings) -> None:
    """After a SIGHUP: the engine reads policy and apply limits from its settings."""
    if ctx is None:
        return
    ctx.settings = settings
    ctx.policy = settings.policy
    if ctx.observer is not None:
        ctx.observer.resync_seconds = settings.apply.resync_seconds


def request_engine_stop(ctx: EngineContext | None) -> None:
    """Ask a running reconcile to stop after its current actions."""
    if ctx is not None:
        ctx.stop_requested.set()


async def execute_run(ctx: EngineContext, run: Run) -> Any:
    from mycopod.reconcile import engine

    return await engine.execute_run(run, ctx=ctx)


async def check_drift(ctx: EngineContext, *,
                      runtime: RuntimeStatus | None = None) -> list[str]:
    """Observe and plan the latest good spec; the guests a run would change.

    Steps an approval must cover (destructive ones, creates over a budget) are left
    out: they follow the approval rules, so only a run (manual, or for a commit)
    proposes them, and a rejected one is not proposed again at every check.
    """
    from mycopod.reconcile import engine

    await ctx.refresh_policy()
    loaded = await ctx.load_spec(None)  # the latest good declaration
    if loaded is None:
        assert ctx.observer is not None
        observed = await ctx.observer.observe(full=None)
        ctx.last_observed = observed
        return []
    observed, plan = await engine.observe_and_plan(ctx, loaded.spec)
    summary = engine.report(plan, observed)
    telemetry.MANAGED_GUESTS.set(summary.managed)
    telemetry.DRIFTED_GUESTS.set(summary.drifted)
    telemetry.ORPHANED_GUESTS.set(summary.orphaned)
    if runtime is not None:
        runtime.report = summary
    gated = {target for _kind, target in plan.approval_keys()}
    return sorted({a.target for a in plan.actions if a.target not in gated})


async def compile_failed(pool: asyncpg.Pool, run: Any) -> bool:
    """Did this run fail because its declaration does not compile?"""
    declaration_id = run["declaration_id"]
    if declaration_id is None:
        return False
    status = await pool.fetchval(DECLARATION_STATUS, declaration_id)
    return bool(status == "error")


# -- declarations ------------------------------------------------------------------------


async def declarations_source(settings: Settings) -> GitSource | None:
    """The declarations repository source, or None when none is configured."""
    if not settings.declarations.repo:
        log.warning("controller.no_repo", note="set declarations.repo to follow a repository")
        return None
    from mycopod.declarations.source import GitSource

    return GitSource.from_settings(settings)


def compile_workers(settings: Settings) -> CompileWorkers:
    """The processes that compile declarations, shared by the poller and the API."""
    from mycopod.declarations.workers import CompileWorkers

    return CompileWorkers(settings.compile)


async def fetch(source: GitSource) -> str | None:
    """Fetch the repository; the head commit of the followed branch."""
    head = await source.fetch_async()
    return str(head) if head else None


@dataclass(frozen=True)
class Compiled:
    declaration_id: int | None
    ok: bool
    error: str | None = None
    #: the commit was made by POST /declarations, submitted by this user
    submitted_by: int | None = None
    from_api: bool = False


async def compile_commit(settings: Settings, pool: asyncpg.Pool | asyncpg.Connection,
                         source: GitSource, commit: str, *,
                         workers: CompileWorkers | None = None) -> Compiled:
    """Compile ``commit`` into a declaration row (errors are recorded there too)."""
    from mycopod.declarations import pipeline

    row = await pipeline.compile_commit(source, commit, pool=pool, settings=settings,
                                        workers=workers)
    error = row.compile_error.splitlines()[0] if row.compile_error else None
    return Compiled(declaration_id=row.id, ok=row.compile_status == "ok", error=error,
                    submitted_by=row.user_id, from_api=row.source == "api")


@asynccontextmanager
async def submission_lock(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection holding the declarations submission lock (see
    :func:`mycopod.store.declarations.submission_lock`): recording a new head and
    queueing its run happen under it, on that connection."""
    from mycopod.store.declarations import submission_lock

    async with pool.acquire() as conn, submission_lock(conn):
        yield conn


# -- API ---------------------------------------------------------------------------------


async def start_api(settings: Settings, pool: asyncpg.Pool, *, runtime: RuntimeStatus,
                    source: GitSource | None, compilers: CompileWorkers | None = None) -> Any:
    from mycopod.api.app import create_app, start_api
    from mycopod.api.context import ApiContext

    app = create_app(ApiContext(pool=pool, settings=settings, runtime=runtime, source=source,
                                compilers=compilers))
    return await start_api(app, settings.api)
