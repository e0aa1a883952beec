"""Pull-request plans end to end: a signed pull_request webhook (GitHub's documented
shape) on the real API, the pull request's head fetched from a real repository, compiled
and planned against the simulator, and one comment created then updated in place on a
local stand-in of GitHub's REST API."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from mycopod.api.app import create_app
from mycopod.api.context import ApiContext
from mycopod.config import DeclarationsSettings
from mycopod.config_gitops import ForgeSettings
from mycopod.declarations.source import GitSource
from mycopod.forge.client import ForgeClient
from mycopod.forge.pr_plans import PullRequestPlanner
from mycopod.runtime import RuntimeStatus
from tests.support.forge import running_forge
from tests.support.gitrepo import Remote

SECRET = "webhook-secret-for-tests"
WEB = "web-1 is a VM with 2 cores, 4 GB of RAM and a 32 GB disk on local-lvm.\n"
DB = "db-1 is a VM with 4 cores, 8 GB of RAM and a 64 GB disk on local-lvm.\n"


def delivery(action: str, number: int, head: str, base: str) -> tuple[bytes, dict[str, str]]:
    """A pull_request delivery as GitHub documents it (the fields MycoPod reads and a few
    it does not), signed."""
    body = json.dumps({
        "action": action, "number": number,
        "pull_request": {"number": number, "title": "more guests", "state": "open",
                         "html_url": f"https://github.com/lab/declarations/pull/{number}",
                         "head": {"sha": head, "ref": "feature", "label": "lab:feature"},
                         "base": {"sha": base, "ref": "main", "label": "lab:main"}},
        "repository": {"full_name": "lab/declarations", "id": 1},
        "sender": {"login": "octocat"}}).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-GitHub-Event": "pull_request",
                  "X-GitHub-Delivery": "d-1", "X-Hub-Signature-256": signature}


async def until(check: Any, what: str) -> None:
    for _ in range(400):
        if check():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Planning:
    """The pull-request planner running behind the real API, on the stand-in forge."""

    forge: Any
    planner: PullRequestPlanner
    client: TestClient


@contextlib.asynccontextmanager
async def pr_planning(engine: Any, db: asyncpg.Pool, remote: Remote,
                      state_dir: Path) -> AsyncIterator[Planning]:
    """The engine's settings with the webhook secret, the repository's source fetched,
    the forge stand-in, the planner running and the API serving its webhook; all stopped
    after the block."""
    settings = engine.settings
    settings.declarations.webhook_secret = SecretStr(SECRET)
    source = GitSource(DeclarationsSettings(repo=str(remote.bare)), state_dir=state_dir)
    await source.fetch_async()
    async with running_forge() as forge:
        planner = PullRequestPlanner(
            source=source, pool=db, settings=lambda: settings, engine=engine,
            client=ForgeClient(ForgeSettings(api_url=forge.url, repository="lab/declarations",
                                             token="forge-token")))
        client = TestClient(TestServer(create_app(ApiContext(
            pool=db, settings=settings, runtime=RuntimeStatus(), source=source,
            pr_plans=planner))))
        await client.start_server()
        task = asyncio.create_task(planner.run(), name="pr-planner")
        try:
            yield Planning(forge, planner, client)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await client.close()


async def test_comment_created_then_updated(make_ctx: Any, db: asyncpg.Pool,
                                            tmp_path: Path) -> None:
    engine = await make_ctx()
    remote = Remote(tmp_path)
    base = remote.commit({"web.md": WEB})
    async with pr_planning(engine, db, remote, tmp_path / "s") as planning:
        forge, planner, client = planning.forge, planning.planner, planning.client
        head = remote.commit({"db.md": DB}, push=False)
        remote.git("push", "-q", "origin", "HEAD:refs/pull/7/head")
        body, headers = delivery("opened", 7, head, base)
        async with client.post("/webhooks/github", data=body, headers=headers) as resp:
            assert resp.status == 200, await resp.text()
        # how fast: bench/latency_gitops.py measures it; a test does not time it
        await until(lambda: planner.done == 1, "the first plan")
        (created,) = forge.of("create")
        assert created.path == "/repos/lab/declarations/issues/7/comments"
        text = created.body["body"]
        assert "`db.md` (added)" in text and "web.md" not in text.split("**Plan**")[0]
        assert "| db-1 | create |" in text and "understood as:" in text
        (status,) = [b for s, b in forge.statuses if s == head]
        assert (status["context"], status["state"]) == ("mycopod/plan", "success")

        # a push to the pull request: the same comment, updated in place
        again = remote.commit({"db.md": "db-1 is a VM with two hundred potatoes.\n"},
                              push=False)
        remote.git("push", "-q", "-f", "origin", "HEAD:refs/pull/7/head")
        body, headers = delivery("synchronize", 7, again, base)
        async with client.post("/webhooks/github", data=body, headers=headers) as resp:
            assert resp.status == 200
        await until(lambda: planner.done == 2, "the second plan")
        (updated,) = forge.of("update")
        assert updated.path == f"/repos/lab/declarations/issues/comments/{min(forge.comments)}"
        assert len(forge.of("create")) == 1
        assert "does not compile" in updated.body["body"].lower()
        assert "db.md:1" in updated.body["body"]
        (failed,) = [b for s, b in forge.statuses if s == again]
        assert failed["state"] == "failure" and "db.md:1" in failed["description"]

        # closing needs no plan
        body, headers = delivery("closed", 7, again, base)
        async with client.post("/webhooks/github", data=body, headers=headers) as resp:
            assert resp.status == 202
    assert forge.invalid == []
    assert not (await engine.pool.fetchval("SELECT count(*) FROM reconciliation_runs"))
