"""Issue 18, item 3, in the engine: a User's change applies only after an Admin's approval
(or when the policy lets Users reconcile), whatever run or later commit carries it.

The attack: a User's commit stopped the production VMs about 20 s later with no
approval. Here the User's commit is recorded as the API records it, and each run is
carried out by the engine against the simulator over HTTPS, as the daemon's worker does.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from mycopod.declarations import pipeline
from mycopod.pvesim.testing import SimHandle
from mycopod.reconcile import reconciler
from mycopod.store.declarations import (
    SUBMISSION_LOCK_KEY,
    Declaration,
    DeclarationStore,
    submission_lock,
)
from mycopod.store.runs import Run, RunStore

WEB = ("Create 2 servers named web-1 through web-2, each a VM with 1 core and 1 GB of "
       "RAM.\n")
STOPPED = WEB.replace("RAM.", "RAM. Keep them stopped.")
DB = "db-1 is a VM with 1 core and 1 GB of RAM.\n"


def guests(sim: SimHandle) -> dict[str, tuple[str, str]]:
    """name -> (status, cores) of the simulator's guests."""
    with sim.cluster.lock:
        return {g.name: (g.status, str(g.config.get("cores")))
                for g in sim.cluster.guests.values() if not g.config.get("template")}


async def add_user(pool: asyncpg.Pool, name: str, role_id: int) -> int:
    return int(await pool.fetchval("INSERT INTO users (username, password_hash, role_id) "
                                   "VALUES ($1, 'x', $2) RETURNING id", name, role_id))


async def declare(pool: asyncpg.Pool, files: dict[str, str], commit: str, *,
                  by: int | None = None, path: str | None = None) -> Declaration:
    """Record a commit as the poller does (git), or as POST /declarations records a
    User's submission of ``path`` (``by``)."""
    if by is None:
        return await pipeline.compile_commit(files, commit * 40, pool=pool)
    assert path is not None
    return await pipeline.compile_commit(
        files, commit * 40, pool=pool, origin="api", user_id=by, path=path,
        path_sha256=pipeline.content_sha256(files[path]), needs_approval=True)


async def run(ctx: reconciler.EngineContext, trigger: str, declaration: Declaration | None = None,
              requested_by: int | None = None) -> Run:
    """Queue a run and carry it out as the daemon's worker does (the spec is loaded by
    the engine: the run's declaration, or the one in force)."""
    runs = RunStore(ctx.pool)
    await runs.create(trigger=trigger, cluster=ctx.cluster,  # type: ignore[arg-type]
                      declaration_id=declaration.id if declaration else None,
                      commit_sha=declaration.github_commit_sha if declaration else None,
                      requested_by=requested_by)
    claimed = await runs.claim_next_pending(ctx.cluster)
    assert claimed is not None
    return await reconciler.execute_run(claimed, ctx=ctx)


async def approve(ctx: reconciler.EngineContext, waiting: Run, admin: int) -> Run:
    runs = RunStore(ctx.pool)
    assert await runs.approve(waiting.id, admin) is not None
    claimed = await runs.claim_next_pending(ctx.cluster)
    assert claimed is not None and claimed.id == waiting.id
    return await reconciler.execute_run(claimed, ctx=ctx)


async def test_a_users_change_waits_for_an_admin_whoever_commits_next(
        make_ctx: Any, sim: SimHandle, db: asyncpg.Pool) -> None:
    admin, alice = await add_user(db, "root", 1), await add_user(db, "alice", 2)
    ctx = await make_ctx()
    owner = await declare(db, {"web.md": WEB}, "0")
    assert (await run(ctx, "commit", owner)).status == "Succeeded"
    before = guests(sim)
    assert before == {"web-1": ("running", "1"), "web-2": ("running", "1"),
                      "legacy-app": ("running", "2")}  # the simulator's unowned guest

    # Alice's own new file: recorded as the API records it; its run waits.
    mine = await declare(db, {"web.md": WEB, "alice.md": DB}, "1", by=alice, path="alice.md")
    waiting = await run(ctx, "api", mine, requested_by=alice)
    assert (waiting.status, waiting.trigger, waiting.requested_by) == (
        "AwaitingApproval", "api", alice)
    assert waiting.plan is not None
    assert {a["target"] for a in waiting.plan["actions"]} == {"db-1"}  # what the Admin sees
    assert any("alice.md (submitted by alice in commit 1111111111" in r
               for r in waiting.plan["approval_reasons"])
    assert [c["declaration_id"] for c in waiting.plan["user_changes"]] == [mine.id]
    assert guests(sim) == before

    # Drift runs and manual runs apply the spec in force, which is not Alice's.
    assert (await run(ctx, "drift")).status == "Succeeded"
    assert (await run(ctx, "manual", requested_by=admin)).status == "Succeeded"
    assert guests(sim) == before

    # The owner pushes another change on top: that commit still carries Alice's file,
    # so its run waits too (the User's change is not laundered), and nothing changes.
    later = await declare(db, {"web.md": STOPPED, "alice.md": DB}, "2")
    assert later.source == "git" and later.ok
    waiting2 = await run(ctx, "commit", later)
    assert waiting2.status == "AwaitingApproval", waiting2.error
    assert [c["declaration_id"] for c in waiting2.plan["user_changes"]] == [  # type: ignore[index]
        mine.id]
    assert guests(sim) == before

    # An Admin approves the newest run: everything it showed applies.
    done = await approve(ctx, waiting2, admin)
    assert done.status == "Succeeded", done.error
    assert guests(sim) == {**before, "web-1": ("stopped", "1"), "web-2": ("stopped", "1"),
                           "db-1": ("running", "1")}
    approved = await DeclarationStore(db).get(mine.id)
    assert approved is not None and approved.approved_by == admin
    assert await DeclarationStore(db).latest_good() == later


async def test_approving_the_waiting_run_applies_it(make_ctx: Any, sim: SimHandle,
                                                    db: asyncpg.Pool) -> None:
    admin, alice = await add_user(db, "root", 1), await add_user(db, "alice", 2)
    ctx = await make_ctx()
    assert (await run(ctx, "commit", await declare(db, {"web.md": WEB}, "0"))
            ).status == "Succeeded"
    mine = await declare(db, {"web.md": WEB, "alice.md": DB}, "1", by=alice, path="alice.md")
    waiting = await run(ctx, "api", mine, requested_by=alice)
    assert waiting.status == "AwaitingApproval" and "db-1" not in guests(sim)
    done = await approve(ctx, waiting, admin)
    assert (done.status, done.trigger, done.requested_by, done.approved_by) == (
        "Succeeded", "api", alice, admin)
    assert guests(sim)["db-1"] == ("running", "1")
    # applied once approved: the next runs apply it without asking again
    assert (await run(ctx, "drift")).status == "Succeeded"
    again = await run(ctx, "api", mine, requested_by=alice)
    assert again.status == "Succeeded" and again.plan is not None
    assert again.plan["user_changes"] == []


async def test_users_can_reconcile_lets_a_users_own_change_apply(
        make_ctx: Any, sim: SimHandle, db: asyncpg.Pool) -> None:
    alice = await add_user(db, "alice", 2)
    ctx = await make_ctx(users_can_reconcile=True)
    assert (await run(ctx, "commit", await declare(db, {"web.md": WEB}, "0"))
            ).status == "Succeeded"
    mine = await declare(db, {"web.md": WEB, "alice.md": DB}, "1", by=alice, path="alice.md")
    done = await run(ctx, "api", mine, requested_by=alice)
    assert (done.status, done.trigger, done.requested_by) == ("Succeeded", "api", alice)
    assert guests(sim)["db-1"] == ("running", "1")
    row = await DeclarationStore(db).get(mine.id)
    # approved by the policy: no Admin, and it stays applied if the policy changes
    assert row is not None and row.approved_at is not None and row.approved_by is None
    assert await DeclarationStore(db).latest_good() == row


async def test_the_submission_lock_keeps_the_poller_out_while_the_api_records(
        db: asyncpg.Pool) -> None:
    """POST /declarations pushes and records under the lock; the poller records a new head
    under it too, so it cannot record a User's commit as a plain git one first."""
    async with db.acquire() as api_conn, db.acquire() as poller_conn:
        async with submission_lock(api_conn):
            with pytest.raises(TimeoutError):
                async with submission_lock(poller_conn, wait=0.3):
                    pass
        async with submission_lock(poller_conn, wait=0.3):
            pass
    # a connection given back to the pool drops the lock even if it was never released
    async with db.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", SUBMISSION_LOCK_KEY)
    async with db.acquire() as first, db.acquire() as second:
        for conn in (first, second):
            async with submission_lock(conn, wait=0.3):
                pass
