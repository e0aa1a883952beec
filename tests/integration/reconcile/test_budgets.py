"""Budgets on creates and deletions (issue 18, items 1 and 4), end to end: real git
commits compiled by the pipeline, runs on the engine, the simulator over HTTPS and the
real database, whose action rows are what the window budgets count."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mycopod.config import DeclarationsSettings
from mycopod.declarations import pipeline
from mycopod.declarations.source import GitSource
from mycopod.pvesim.testing import SimHandle
from mycopod.reconcile import reconciler
from mycopod.spec import ClusterSpec, GuestSpec
from mycopod.store.actions import ActionStore
from mycopod.store.runs import Run, RunStore

from .conftest import reconcile


def names(sim: SimHandle) -> list[str]:
    with sim.cluster.lock:
        return sorted(g.name for g in sim.cluster.guests.values())


def small(*guest_names: str) -> ClusterSpec:
    return ClusterSpec(guests=[GuestSpec.model_validate(
        {"name": n, "memory_mib": 256, "state": "stopped",
         "disks": [{"slot": "scsi0", "storage": "tank", "size_gib": 1}]})
        for n in guest_names])


async def approve_and_run(ctx: reconciler.EngineContext, run: Run, spec: ClusterSpec | None = None
                          ) -> Run:
    runs = RunStore(ctx.pool)
    assert await runs.approve(run.id, None) is not None
    claimed = await runs.claim_next_pending(ctx.cluster)
    assert claimed is not None and claimed.id == run.id
    return await reconciler.execute_run(claimed, ctx=ctx, spec=spec)


# --- creates per run (item 1) ---------------------------------------------------------------


async def test_a_spec_with_more_creates_than_the_limit_waits_for_approval(
        make_ctx: Any, sim: SimHandle) -> None:
    """The attack's run created guests with no approval. With auto-approve on and the
    default limit (50), a spec of 51 new guests waits, and nothing is created."""
    before = names(sim)
    ctx = await make_ctx(auto_approve_destructive=True)
    run = await reconcile(ctx, small(*[f"g-{i:02d}" for i in range(51)]))
    assert run.status == "AwaitingApproval", run.error
    assert run.plan is not None
    assert "51 guests to create exceed max_creates_per_run (50)" in run.plan["approval_reasons"]
    assert names(sim) == before
    assert await ActionStore(ctx.pool).list_for_run(run.id) == []


async def test_an_approval_covers_the_creates_it_saw(make_ctx: Any, sim: SimHandle) -> None:
    ctx = await make_ctx(max_creates_per_run=2)
    three = small("a", "b", "c")
    waiting = await reconcile(ctx, three)
    assert waiting.status == "AwaitingApproval"
    assert not {"a", "b", "c"} & set(names(sim))
    # approved, but meanwhile the spec grew: creating d was never approved
    again = await approve_and_run(ctx, waiting, small("a", "b", "c", "d"))
    assert again.status == "AwaitingApproval" and again.approved_by is None
    assert not {"a", "b", "c", "d"} & set(names(sim))
    done = await approve_and_run(ctx, again, small("a", "b", "c", "d"))
    assert done.status == "Succeeded", done.error
    assert {"a", "b", "c", "d"} <= set(names(sim))


async def test_a_spec_over_max_guests_is_never_planned(make_ctx: Any, sim: SimHandle) -> None:
    """A spec given whole (``mycopod reconcile --spec``), or stored before the limit, or
    under a lowered limit: the run fails naming the limit, and nothing is planned."""
    ctx = await make_ctx(auto_approve_destructive=True)
    declarations = ctx.settings.declarations.model_copy(update={"max_guests": 3})
    ctx.settings = ctx.settings.model_copy(update={"declarations": declarations})
    before = names(sim)
    run = await reconcile(ctx, small("a", "b", "c", "d"))
    assert run.status == "Failed" and run.plan is None
    assert run.error == ("4 guests declared, more than the setting declarations.max_guests "
                         "allows (3); declare fewer guests, or have an Admin raise "
                         "declarations.max_guests")
    assert names(sim) == before


async def test_the_drift_check_does_not_propose_creates_over_the_budget(
        make_ctx: Any, sim: SimHandle) -> None:
    """Otherwise a rejected run of too many creates would come back at every check."""
    from mycopod.reconcile import triggers

    text = "Create 3 VMs named d-1 through d-3 with 256 MB of RAM.\n"
    await pipeline.compile_commit({"d.md": text}, "f" * 40, pool=(await make_ctx()).pool)
    assert await triggers.check_drift(await make_ctx(max_creates_per_run=2)) == []
    assert await triggers.check_drift(await make_ctx()) == ["d-1", "d-2", "d-3"]


# --- deletions over a window (item 4) -------------------------------------------------------


class Remote:
    """A bare repository and a working clone, written with the git CLI."""

    def __init__(self, root: Path) -> None:
        self.bare, self.work = root / "remote.git", root / "work"
        self.git("init", "-q", "--bare", "-b", "main", str(self.bare), cwd=root)
        self.git("init", "-q", "-b", "main", str(self.work), cwd=root)

    def git(self, *args: str, cwd: Path | None = None) -> str:
        env = {**os.environ, "GIT_AUTHOR_NAME": "Owner", "GIT_AUTHOR_EMAIL": "owner@lab",
               "GIT_COMMITTER_NAME": "Owner", "GIT_COMMITTER_EMAIL": "owner@lab"}
        return subprocess.run(["git", *args], cwd=cwd or self.work, env=env, check=True,
                              capture_output=True, text=True).stdout.strip()

    def commit(self, files: dict[str, str]) -> str:
        for name, text in files.items():
            (self.work / name).write_text(text)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "update")
        self.git("push", "-q", str(self.bare), "HEAD:main")
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    return Remote(tmp_path)


async def push_and_run(ctx: reconciler.EngineContext, remote: Remote, source: GitSource,
                       files: dict[str, str]) -> Run:
    """What the controller does for a new commit: compile it, queue a run, run it."""
    sha = remote.commit(files)
    assert source.fetch() == sha
    declaration = await pipeline.compile_commit(source, sha, pool=ctx.pool,
                                                settings=ctx.settings)
    assert declaration.ok, declaration.compile_error
    runs = RunStore(ctx.pool)
    await runs.create(trigger="commit", cluster=ctx.cluster, commit_sha=sha,
                      declaration_id=declaration.id)
    claimed = await runs.claim_next_pending(ctx.cluster)
    assert claimed is not None
    return await reconciler.execute_run(claimed, ctx=ctx)


VM = "{} is a VM with 256 MB of RAM and a 1 GB disk on tank. It should be stopped.\n"
GONE = "{} should not exist.\n"


async def test_deletions_split_over_commits_hit_the_window_budget(
        make_ctx: Any, sim: SimHandle, remote: Remote, tmp_path: Path) -> None:
    """The attack: with auto-approve on and max_deletions_per_run = 1, three commits
    deleted three VMs in 30 s. Now the second deletion within the window waits for an
    Admin, whatever auto-approve says, and so does the third."""
    ctx = await make_ctx(auto_approve_destructive=True)  # budgets at their defaults
    assert (ctx.policy.max_deletions_per_run, ctx.policy.max_deletions_per_window,
            ctx.policy.budget_window_seconds) == (1, 1, 3600)
    source = GitSource(DeclarationsSettings(repo=str(remote.bare)), state_dir=tmp_path / "s")
    files = {f"{n}.md": VM.format(n) for n in ("vm-a", "vm-b", "vm-c", "vm-d")}
    created = await push_and_run(ctx, remote, source, files)
    assert created.status == "Succeeded", created.error
    assert {"vm-a", "vm-b", "vm-c", "vm-d"} <= set(names(sim))

    first = await push_and_run(ctx, remote, source, {"vm-a.md": GONE.format("vm-a")})
    assert first.status == "Succeeded", first.error  # one deletion: within the budget
    assert "vm-a" not in names(sim)

    second = await push_and_run(ctx, remote, source, {"vm-b.md": GONE.format("vm-b")})
    assert second.status == "AwaitingApproval"
    assert second.plan is not None
    assert any("1 deletion(s), after 1 executed in the last 3600 s" in r
               and "max_deletions_per_window (1)" in r
               for r in second.plan["approval_reasons"]), second.plan["approval_reasons"]
    assert "vm-b" in names(sim)
    approved = await approve_and_run(ctx, second)  # an Admin says so: it goes ahead
    assert approved.status == "Succeeded", approved.error
    assert "vm-b" not in names(sim)

    third = await push_and_run(ctx, remote, source, {"vm-c.md": GONE.format("vm-c")})
    assert third.status == "AwaitingApproval"
    assert "vm-c" in names(sim)
    assert await RunStore(ctx.pool).reject(third.id, None) is not None

    # an hour later the budget is free again: the record of executed deletions is what
    # counts, so age it rather than wait (the owner also takes the rejected change back)
    await ctx.pool.execute("UPDATE reconciliation_actions SET started_at = started_at - "
                           "interval '2 hours', finished_at = finished_at - interval '2 hours'")
    later = await push_and_run(ctx, remote, source, {"vm-c.md": VM.format("vm-c"),
                                                     "vm-d.md": GONE.format("vm-d")})
    assert later.status == "Succeeded", later.error
    assert "vm-d" not in names(sim) and "vm-c" in names(sim)


async def test_the_creates_window_counts_earlier_runs(make_ctx: Any, sim: SimHandle) -> None:
    ctx = await make_ctx(max_creates_per_window=3)
    assert (await reconcile(ctx, small("a", "b"))).status == "Succeeded"
    waiting = await reconcile(ctx, small("a", "b", "c", "d"))
    assert waiting.status == "AwaitingApproval"
    assert waiting.plan is not None
    assert any("2 guests to create, after 2 created" in r and "max_creates_per_window (3)" in r
               for r in waiting.plan["approval_reasons"])
    assert not {"c", "d"} & set(names(sim))
