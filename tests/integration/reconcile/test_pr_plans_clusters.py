"""Pull-request plans with several clusters (issue 17): a pull request touching two
clusters' folders gets one comment with a section per cluster, each planned against its
own simulator, and a commit status per cluster, on the GitHub stand-in (every request
validated against GitHub's REST description); a pull request touching no cluster's folder
gets a comment saying so; ``mycopod plan --markdown`` prints the very same comment."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import asyncpg
import pytest

from mycopod.config import Settings, load_settings
from mycopod.config_gitops import ForgeSettings
from mycopod.declarations.source import GitSource
from mycopod.forge.client import ForgeClient
from mycopod.forge.pr_clusters import PlanTarget
from mycopod.forge.pr_plans import PullRequestPlanner
from mycopod.pvesim.testing import SimHandle, running_simulator
from mycopod.reconcile import reconciler
from tests.support.forge import FakeForge, running_forge
from tests.support.gitrepo import Remote

WEB = "web-1 is a VM with 2 cores, 4 GB of RAM and a 32 GB disk on local-lvm.\n"
DB = "db-1 is a VM with 4 cores, 8 GB of RAM and a 64 GB disk on local-lvm.\n"
# pve3 exists in site-a's simulator (3 nodes), not in site-b's (1 node)
ON_PVE3 = "{name} is a VM with 1 core, 2 GB of RAM and a 16 GB disk on local-lvm, on pve3.\n"

CONFIG = """
[database]
url = "{database}"
[declarations]
repo = "{repo}"
{clusters}
"""
CLUSTER = """
[[clusters]]
name = "{name}"
path = "{name}/"
[clusters.proxmox]
url = "{url}"
user = "{user}"
password = "{password}"
verify_tls = false
timeout = 10
"""


@pytest.fixture
def sims() -> Iterator[dict[str, SimHandle]]:
    with ExitStack() as stack:
        yield {"site-a": stack.enter_context(running_simulator(nodes=3)),
               "site-b": stack.enter_context(running_simulator(nodes=1))}


def write_config(path: Path, *, database_url: str, repo: Path,
                 sims: dict[str, SimHandle]) -> Path:
    clusters = "".join(CLUSTER.format(name=name, url=sim.url, user=sim.user,
                                      password=sim.password) for name, sim in sims.items())
    path.write_text(CONFIG.format(database=database_url, repo=repo, clusters=clusters))
    path.chmod(0o600)
    return path


async def post_comments(settings: Settings, db: asyncpg.Pool, state: Path,
                        pulls: list[tuple[int, str, str]]) -> FakeForge:
    """Plan each (number, head, base) as the daemon's planner does; the forge stand-in."""
    targets, engines = [], []
    for cluster in settings.per_cluster():
        cluster = cluster.model_copy(update={"state_dir": state})
        source = GitSource.from_settings(cluster)
        await source.fetch_async()
        engine = reconciler.EngineContext.create(db, cluster)
        engines.append(engine)
        targets.append(PlanTarget(cluster.proxmox.cluster, source,
                                  lambda c=cluster: c, engine))  # type: ignore[misc]
    async with running_forge() as forge:
        planner = PullRequestPlanner(
            source=targets[0].source, pool=db, settings=targets[0].settings,
            engine=targets[0].engine, clusters=targets,
            client=ForgeClient(ForgeSettings(api_url=forge.url, repository="lab/declarations",
                                             token="forge-token")))  # type: ignore[arg-type]
        try:
            for number, head, base in pulls:
                await planner.plan_pull_request(number, head, base_sha=base)
        finally:
            await planner.client.aclose()
            for engine in engines:
                await engine.client.aclose()
    assert forge.invalid == []
    return forge


def section(text: str, name: str) -> str:
    """The part of the comment under ``#### Cluster `name```."""
    start = text.index(f"#### Cluster `{name}`")
    end = text.find("#### Cluster", start + 1)
    return text[start:end if end != -1 else len(text)]


async def mycopod(config: Path, state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("MYCOPOD_")}
    env.update({"MYCOPOD_CONFIG": str(config), "MYCOPOD_STATE_DIR": str(state),
                "PYTHONWARNINGS": "ignore"})
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "mycopod.cli", "plan", "--markdown", *args],
        env=env, capture_output=True, text=True, timeout=180)


async def test_a_pull_request_touching_two_clusters(
        db: asyncpg.Pool, database_url: str, sims: dict[str, SimHandle],
        tmp_path: Path) -> None:
    remote = Remote(tmp_path)
    base = remote.commit({"site-a/web.md": WEB, "site-b/db.md": DB}, "two sites")
    both = remote.commit({"site-a/edge.md": ON_PVE3.format(name="edge-1"),
                          "site-b/edge.md": ON_PVE3.format(name="edge-2")}, "edges",
                         push=False)
    remote.git("push", "-q", "origin", "HEAD:refs/pull/7/head")
    remote.git("reset", "-q", "--hard", base)  # each pull request branches off main
    only_a = remote.commit({"site-a/web.md": WEB.replace("2 cores", "4 cores")}, "a",
                           push=False)
    remote.git("push", "-q", "origin", "HEAD:refs/pull/8/head")
    remote.git("reset", "-q", "--hard", base)
    neither = remote.commit({"notes/readme.md": "db-9 is a VM with 1 core.\n"}, "notes",
                            push=False)
    remote.git("push", "-q", "origin", "HEAD:refs/pull/9/head")
    config = write_config(tmp_path / "mycopod.toml", database_url=database_url,
                          repo=remote.bare, sims=sims)
    settings = load_settings(config, environ={})

    forge = await post_comments(settings, db, tmp_path / "daemon",
                                [(7, both, base), (8, only_a, base), (9, neither, base)])
    bodies = {r.path.split("/")[-2]: r.body["body"] for r in forge.of("create")}
    text = bodies["7"]
    assert "**Clusters**: 2 of 2 touched: `site-a`, `site-b`" in text
    a, b = section(text, "site-a"), section(text, "site-b")
    assert a.startswith("#### Cluster `site-a` (`site-a/`)")
    # each cluster's own files, planned against its own Proxmox: pve3 is site-a's only
    assert "`site-a/edge.md` (added)" in a and "site-b/" not in a
    assert "| edge-1 | create |" in a and "edge-2" not in a
    assert "- `edge-1` from `site-a/edge.md:1`: \"edge-1 is a VM with 1 core" in a
    assert "understood by grammar as:" in a
    assert "`site-b/edge.md` (added)" in b and "edge-1" not in b
    assert "pve3" in b and "| edge-2 | create |" not in b
    by_context = {(sha, s["context"]): s for sha, s in forge.statuses}
    assert by_context[(both, "mycopod/plan/site-a")]["state"] == "success"
    assert by_context[(both, "mycopod/plan/site-b")]["state"] in ("failure", "error")
    assert (both, "mycopod/plan") not in by_context

    # one cluster touched: its section, the other named as untouched, its status success
    text = bodies["8"]
    assert "**Clusters**: 1 of 2 touched: `site-a`" in text
    assert "#### Cluster `site-b`" not in text
    assert "**Not touched** (no change to their folders): `site-b`" in text
    assert "| web-1 |" in section(text, "site-a")
    untouched = by_context[(only_a, "mycopod/plan/site-b")]
    assert (untouched["state"], untouched["description"]) == ("success",
                                                              "no change in site-b/")

    # no cluster's folder: a comment saying so, every cluster's status success
    text = bodies["9"]
    assert "**No cluster's declarations change**: this pull request changes no " \
           "declaration file in any cluster's folder (`site-a/` (site-a), `site-b/` " \
           "(site-b)); nothing would be applied." in text
    assert "#### Cluster" not in text and "db-9" not in text
    assert {by_context[(neither, f"mycopod/plan/{n}")]["state"] for n in sims} == {"success"}

    # nothing was queued or applied by planning
    assert not await db.fetchval("SELECT count(*) FROM reconciliation_runs")
    assert "edge-1" not in {g.name for g in sims["site-a"].cluster.guests.values()}

    # the CLI prints the very same comments, for a ref and for a checked-out tree
    for number, code in ((7, 1), (9, 0)):  # 7: site-b's part does not compile
        printed = await mycopod(config, tmp_path / "cli", "--ref", f"refs/pull/{number}/head")
        assert printed.stdout == bodies[str(number)], printed.stderr
        assert printed.returncode == code
    remote.git("checkout", "-q", only_a)
    printed = await mycopod(config, tmp_path / "cli", "--tree", str(remote.work))
    assert printed.returncode == 2, printed.stderr  # changes pending in site-a
    assert printed.stdout == bodies["8"]
    # --cluster narrows it to that cluster
    printed = await mycopod(config, tmp_path / "cli", "--ref", "refs/pull/7/head",
                            "--cluster", "site-a")
    assert "#### Cluster `site-a`" in printed.stdout
    assert "#### Cluster `site-b`" not in printed.stdout and "**Not touched**" not in printed.stdout
