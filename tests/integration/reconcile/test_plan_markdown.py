"""``mycopod plan --markdown``: the very comment the pull-request planner posts, printed
by the real command (a subprocess) for a ref of the remote and for a checked-out tree."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg

from mycopod.config import DeclarationsSettings
from mycopod.config_gitops import ForgeSettings
from mycopod.declarations.source import GitSource
from mycopod.forge.client import ForgeClient
from mycopod.forge.pr_plans import PullRequestPlanner
from mycopod.pvesim.testing import SimHandle
from tests.support.forge import running_forge
from tests.support.gitrepo import Remote

WEB = "web-1 is a VM with 2 cores, 4 GB of RAM and a 32 GB disk on local-lvm.\n"
DB = "db-1 is a VM with 4 cores, 8 GB of RAM and a 64 GB disk on local-lvm.\n"


def environment(database_url: str, sim: SimHandle, state: Path, repo: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("MYCOPOD_")}
    env.update({"MYCOPOD_STATE_DIR": str(state), "MYCOPOD_DATABASE__URL": database_url,
                "MYCOPOD_PROXMOX__URL": sim.url, "MYCOPOD_PROXMOX__USER": sim.user,
                "MYCOPOD_PROXMOX__PASSWORD": sim.password,
                "MYCOPOD_PROXMOX__VERIFY_TLS": "false",
                "MYCOPOD_DECLARATIONS__REPO": str(repo), "PYTHONWARNINGS": "ignore"})
    return env


async def mycopod(env: dict[str, str], *args: str,
                  cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "mycopod.cli", *args], env=env, cwd=cwd,
        capture_output=True, text=True, timeout=120)


async def posted_comment(engine: Any, db: asyncpg.Pool, remote: Remote, tmp_path: Path,
                         number: int, head: str, base: str) -> str:
    source = GitSource(DeclarationsSettings(repo=str(remote.bare)), state_dir=tmp_path / "s")
    await source.fetch_async()
    async with running_forge() as forge:
        planner = PullRequestPlanner(
            source=source, pool=db, settings=lambda: engine.settings, engine=engine,
            client=ForgeClient(ForgeSettings(api_url=forge.url, repository="lab/declarations",
                                             token="forge-token")))  # type: ignore[arg-type]
        try:
            await planner.plan_pull_request(number, head, base_sha=base)
        finally:
            await planner.client.aclose()
        (created,) = forge.of("create")
    body: str = created.body["body"]
    return body


async def test_plan_markdown_prints_the_pull_request_comment(
        make_ctx: Any, db: asyncpg.Pool, database_url: str, sim: SimHandle,
        tmp_path: Path) -> None:
    engine = await make_ctx()
    remote = Remote(tmp_path)
    base = remote.commit({"web.md": WEB}, "web")
    head = remote.commit({"db.md": DB}, "db", push=False)
    remote.git("push", "-q", "origin", "HEAD:refs/pull/7/head")
    comment = await posted_comment(engine, db, remote, tmp_path, 7, head, base)
    assert "| db-1 | create |" in comment and "`db.md` (added)" in comment

    env = environment(database_url, sim, tmp_path / "cli", remote.bare)
    by_ref = await mycopod(env, "plan", "--markdown", "--ref", "refs/pull/7/head")
    assert by_ref.returncode == 2, by_ref.stderr  # changes pending
    assert by_ref.stdout == comment
    by_sha = await mycopod(env, "plan", "--markdown", "--ref", head[:10])  # fetched now
    assert by_sha.stdout == comment
    same = await mycopod(env, "plan", "--markdown", "--ref", "refs/pull/7/head",
                         "--base", head)
    assert "**Files changed**: no declaration file" in same.stdout
    assert "| db-1 | create |" in same.stdout  # still the plan of the whole head
    unknown = await mycopod(env, "plan", "--markdown", "--ref", "0badc0ffee")
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert "--ref 0badc0ffee: no such commit in the declarations repository" in unknown.stderr

    # CI that checked the pull request out: the working tree, the same text
    in_tree = await mycopod(env, "plan", "--markdown", cwd=remote.work)
    assert in_tree.returncode == 2, in_tree.stderr
    assert in_tree.stdout == comment

    # an uncommitted edit that does not compile: file:line, exit 1, no commit named
    (remote.work / "db.md").write_text("db-1 is a VM with two hundred potatoes.\n")
    broken = await mycopod(env, "plan", "--markdown", "--tree", str(remote.work))
    assert broken.returncode == 1, broken.stderr
    assert "### MycoPod plan for `working tree`" in broken.stdout
    assert "Does not compile" in broken.stdout and "db.md:1" in broken.stdout
    # nothing was queued or applied by any of it
    assert not await db.fetchval("SELECT count(*) FROM reconciliation_runs")
    assert "db-1" not in {g.name for g in sim.cluster.guests.values()}


async def test_plan_markdown_without_spec_repository_or_cluster(database_url: str, sim: SimHandle,
                                            tmp_path: Path) -> None:
    env = environment(database_url, sim, tmp_path / "cli", tmp_path / "nowhere")
    spec = tmp_path / "spec.json"
    spec.write_text('{"guests": []}')
    result = await mycopod(env, "plan", "--markdown", "--spec", str(spec))
    assert result.returncode == 2
    assert "cannot be used with --spec" in result.stderr

    # no repository, no cluster: every file is new, and there is no plan (exit 1)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "web.md").write_text(WEB)
    (tree / "README.md").write_text("# not a declaration\n")
    bare = {k: v for k, v in env.items()
            if not k.startswith(("MYCOPOD_PROXMOX__", "MYCOPOD_DECLARATIONS__"))}
    alone = await mycopod(bare, "plan", "--markdown", "--tree", str(tree))
    assert alone.returncode == 1, alone.stderr
    assert "- `web.md` (added)" in alone.stdout and "README" not in alone.stdout
    assert "**No plan**: no Proxmox cluster is configured" in alone.stdout
    assert "### MycoPod plan for `working tree`" in alone.stdout
