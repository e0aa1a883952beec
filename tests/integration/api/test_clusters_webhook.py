"""Push webhooks with several clusters (issue 17): a cluster with its own repository and
its own ``webhook_secret`` takes its pushes at ``/webhooks/github?cluster=NAME``, verified
with its secret; the ``[declarations]`` secret still takes the main repository's pushes;
a delivery signed with another cluster's secret is refused and names no secret."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from mycopod.api.context import ClusterView
from mycopod.config import load_settings
from mycopod.runtime import RuntimeStatus
from tests.integration.api.conftest import Api, start_api
from tests.support.daemon import push_delivery

MAIN = "secret-of-the-main-repo"
OWN_B = "secret-of-site-b"
OWN_C = "secret-of-site-c"

CONFIG = """
[declarations]
repo = "{tmp}/main.git"
webhook_secret = "{main}"
[[clusters]]
name = "site-a"
path = "site-a/"
[clusters.proxmox]
url = "https://pve-a.lan:8006"
token_id = "root@pam!mycopod"
token_secret = "pve-a-token"
[[clusters]]
name = "site-b"
repo = "{tmp}/b.git"
branch = "prod"
webhook_secret_file = "{tmp}/b-hook"
[clusters.proxmox]
url = "https://pve-b.lan:8006"
token_id = "root@pam!mycopod"
token_secret = "pve-b-token"
[[clusters]]
name = "site-c"
repo = "{tmp}/c.git"
[clusters.proxmox]
url = "https://pve-c.lan:8006"
token_id = "root@pam!mycopod"
token_secret = "pve-c-token"
"""


@pytest.fixture
async def three(db: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[Api]:
    hook = tmp_path / "b-hook"
    hook.write_text(OWN_B + "\n")
    hook.chmod(0o600)
    path = tmp_path / "mycopod.toml"
    path.write_text(CONFIG.format(tmp=tmp_path, main=MAIN))
    # site-c's secret comes from the environment, as MYCOPOD_DECLARATIONS__WEBHOOK_SECRET
    settings = load_settings(path, environ={"MYCOPOD_CLUSTERS__SITE_C__WEBHOOK_SECRET": OWN_C},
                             overrides={"state_dir": str(tmp_path / "state"),
                                        "api": {"rate_limit_per_minute": 100_000}})
    runtimes = {name: RuntimeStatus(cluster=name, leader=True)
                for name in settings.cluster_names()}
    client, ctx = await start_api(db, settings, runtime=runtimes["site-a"])
    ctx.clusters = {s.proxmox.cluster: ClusterView(settings=s,
                                                   runtime=runtimes[s.proxmox.cluster])
                    for s in settings.per_cluster()}
    try:
        yield Api(client=client, ctx=ctx, pool=db)
    finally:
        await client.close()


def woken(api: Api) -> set[str]:
    names = {n for n, v in api.ctx.clusters.items() if v.runtime.wake_fetch.is_set()}
    for view in api.ctx.clusters.values():
        view.runtime.wake_fetch.clear()
    return names


async def deliver(api: Api, cluster: str | None, secret: str, *,
                  branch: str = "main") -> tuple[int, dict[str, object]]:
    body, headers = push_delivery("d" * 40, secret=secret, branch=branch)
    params = {"cluster": cluster} if cluster else {}
    async with api.client.post("/webhooks/github", data=body, headers=headers,
                               params=params) as resp:
        return resp.status, await resp.json()


async def test_each_repository_is_verified_with_its_own_secret(three: Api) -> None:
    # the main repository: the [declarations] secret; it wakes the clusters without a
    # secret of their own (site-a reads a folder of it)
    status, body = await deliver(three, None, MAIN)
    assert (status, body["data"]["accepted"]) == (200, True)
    assert woken(three) == {"site-a"}
    # site-b's repository, on its branch, with its secret (from webhook_secret_file)
    status, body = await deliver(three, "site-b", OWN_B, branch="prod")
    assert (status, body["data"]["accepted"]) == (200, True)
    assert woken(three) == {"site-b"}
    # site-c's, its secret from MYCOPOD_CLUSTERS__SITE_C__WEBHOOK_SECRET
    status, _ = await deliver(three, "site-c", OWN_C)
    assert status == 200
    assert woken(three) == {"site-c"}
    # a push to another branch of site-b's repository is not its branch
    status, body = await deliver(three, "site-b", OWN_B, branch="main")
    assert status == 202 and "not to branch 'prod'" in body["data"]["detail"]
    assert woken(three) == set()


@pytest.mark.parametrize(("cluster", "secret"), [
    ("site-b", OWN_C),   # another cluster's secret
    ("site-b", MAIN),    # the main repository's secret is not site-b's
    (None, OWN_B),       # a cluster's secret is not the main repository's
    ("site-c", "guess"),
])
async def test_a_delivery_signed_with_another_secret_is_refused(
        three: Api, cluster: str | None, secret: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    status, body = await deliver(three, cluster, secret, branch="prod")
    assert status == 401
    assert body["error"]["code"] == "unauthorized"
    assert "bad webhook signature" in body["error"]["message"]
    assert woken(three) == set()
    said = json.dumps(body) + caplog.text
    for value in (MAIN, OWN_B, OWN_C, "pve-a-token", "pve-b-token"):
        assert value not in said


async def test_an_unknown_cluster_is_named(three: Api) -> None:
    status, body = await deliver(three, "site-z", OWN_B)
    assert status == 400
    assert "cluster 'site-z' is not configured here" in body["error"]["message"]
    assert "site-a" not in body["error"]["message"]  # the public endpoint lists nothing
    assert woken(three) == set()


async def test_a_cluster_without_a_secret_of_its_own_uses_the_main_one(three: Api) -> None:
    status, _ = await deliver(three, "site-a", MAIN)
    assert status == 200
    assert woken(three) == {"site-a"}
    status, _ = await deliver(three, "site-a", OWN_B)
    assert status == 401


async def test_health_shows_no_cluster_secret(three: Api) -> None:
    async with three.client.get("/health") as resp:
        assert resp.status == 200
        text = await resp.text()
    assert {c["name"] for c in (await resp.json())["data"]["clusters"]} == {
        "site-a", "site-b", "site-c"}
    for value in (MAIN, OWN_B, OWN_C, "pve-a-token", "pve-b-token", "pve-c-token"):
        assert value not in text
    # and every one of them is handed to the log redactor
    assert {MAIN, OWN_B, OWN_C, "pve-a-token", "pve-b-token", "pve-c-token"} <= set(
        three.ctx.settings.secret_values())


async def test_a_pull_request_at_a_cluster_without_a_planner_says_what_to_set(
        three: Api) -> None:
    import hashlib
    import hmac

    body = json.dumps({
        "action": "opened", "number": 3,
        "pull_request": {"number": 3, "title": "t", "state": "open",
                         "head": {"sha": "e" * 40, "ref": "x"},
                         "base": {"sha": "f" * 40, "ref": "prod"}},
        "repository": {"full_name": "site-b/declarations"}}).encode()

    async def pr(cluster: str, secret: str) -> tuple[int, str]:
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-GitHub-Event": "pull_request",
                   "X-Hub-Signature-256": signature}
        async with three.client.post("/webhooks/github", data=body, headers=headers,
                                     params={"cluster": cluster}) as resp:
            return resp.status, (await resp.json())["data"]["detail"]

    # site-b has its own repository but no [clusters.forge] repository: nothing planned
    assert await pr("site-b", OWN_B) == (
        202, "pull-request plans of the repository of cluster 'site-b' are off (set "
        "repository in its [clusters.forge], with [forge] api_url and token)")
    # site-a reads a folder of the [declarations] repository: its webhook plans it
    status, detail = await pr("site-a", MAIN)
    assert status == 202 and "follow its webhook (/webhooks/github without ?cluster)" in detail
