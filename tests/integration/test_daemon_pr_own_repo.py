"""Pull requests on a cluster's own repository are planned (issue 17): two clusters, the
second with a repository of its own and a ``[clusters.forge]`` on a forge stand-in of its
own; its signed ``pull_request`` delivery at ``/webhooks/github?cluster=b`` gets the plan
comment and the ``mycopod/plan/b`` status on that repository, through that forge's
address and token, and nothing reaches the ``[declarations]`` repository's forge; the
commit statuses of its runs go to its repository too. b's repository is served over
HTTPS and takes only b's own git token."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mycopod.config import load_settings
from tests.support.clusters import TOKEN_ID, TOKEN_SECRET, SimProcess, running_daemon
from tests.support.daemon import Repo, free_port
from tests.support.forge import FakeForge, running_forge
from tests.support.githttp import GitHttps, serving_git

pytestmark = pytest.mark.timeout(150)

MAIN_SECRET = "main-hook-secret"
B_SECRET = "site-b-hook-secret"
B_GIT_TOKEN = "site-b-git-token"


def pull_request(number: int, head: str, base: str, secret: str,
                 repository: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({
        "action": "opened", "number": number,
        "pull_request": {"number": number, "title": "db-2", "state": "open",
                         "head": {"sha": head, "ref": "db-2"},
                         "base": {"sha": base, "ref": "main"}},
        "repository": {"full_name": repository}}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-GitHub-Event": "pull_request",
                  "X-Hub-Signature-256": signature}


def contexts(forge: FakeForge, sha: str) -> set[str]:
    return {status["context"] for at, status in forge.statuses if at == sha}


def config(path: Path, *, database_url: str, main: Repo, b: str, sim_a: SimProcess,
           sim_b: SimProcess, forge_b: str) -> Path:
    path.write_text(f"""
[database]
url = "{database_url}"
[declarations]
repo = "{main.bare}"
poll_seconds = 1.0
webhook_secret = "{MAIN_SECRET}"
[[clusters]]
name = "a"
path = "site-a/"
[clusters.proxmox]
url = "{sim_a.url}"
token_id = "{TOKEN_ID}"
token_secret = "{TOKEN_SECRET}"
verify_tls = false
[[clusters]]
name = "b"
repo = "{b}"
token = "{B_GIT_TOKEN}"
webhook_secret = "{B_SECRET}"
[clusters.forge]
repository = "site-b/declarations"
api_url = "{forge_b}"
token = "site-b-forge-token"
[clusters.proxmox]
url = "{sim_b.url}"
token_id = "{TOKEN_ID}"
token_secret = "{TOKEN_SECRET}"
verify_tls = false
""")
    path.chmod(0o600)
    return path


@pytest.fixture
def git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHttps]:
    """b's repository (tmp_path/b/declarations.git) over HTTPS, taking only b's git token
    (for the branch and the pull request's ref alike)."""
    with serving_git(tmp_path, {"b/declarations.git": B_GIT_TOKEN}) as served:
        monkeypatch.setenv("GIT_SSL_CAINFO", str(served.cafile))
        yield served


async def test_a_pull_request_on_a_clusters_own_repository_is_planned(
        database_url: str, tmp_path: Path, git: GitHttps) -> None:
    (tmp_path / "main").mkdir()
    (tmp_path / "b").mkdir()
    main = Repo(tmp_path / "main")
    (main.work / "site-a").mkdir()
    main_head = main.push({"site-a/app.md": "web-1 is a VM with 1 core and 1 GB of RAM.\n"})
    b = Repo(tmp_path / "b")
    base = b.push({"db.md": "db-1 is a VM with 1 core and 1 GB of RAM.\n"})
    head = b.pull_request(7, {"db2.md": "db-2 is a VM with 2 cores and 1 GB of RAM.\n"})
    sim_a = SimProcess(tmp_path / "sim-a.log").start()
    sim_b = SimProcess(tmp_path / "sim-b.log").start()
    port = free_port()
    hook = f"http://127.0.0.1:{port}/webhooks/github"
    try:
        async with running_forge() as forge_main, \
                running_forge(repository="site-b/declarations",
                              token="site-b-forge-token") as forge_b:
            path = config(tmp_path / "mycopod.toml", database_url=database_url, main=main,
                          b=git.url("b/declarations.git"), sim_a=sim_a, sim_b=sim_b,
                          forge_b=forge_b.url)
            settings = load_settings(path, environ={}, overrides={
                "state_dir": str(tmp_path / "state"),
                "api": {"port": port, "jwt_secret": "x" * 40},
                "forge": {"api_url": forge_main.url, "repository": "lab/declarations",
                          "token": "forge-token"}})
            async with running_daemon(settings, tmp_path,
                                      until=lambda: bool(sim_a.guests() and sim_b.guests()),
                                      what="the clusters were not applied"):
                # the main repository's secret does not sign b's pull requests
                body, headers = pull_request(7, head, base, MAIN_SECRET,
                                             "site-b/declarations")
                resp = await asyncio.to_thread(requests.post, f"{hook}?cluster=b",
                                               data=body, headers=headers, timeout=10)
                assert resp.status_code == 401, resp.text
                # a cluster reading a folder of the main repository has no pull
                # requests of its own: answered 202, and said why
                resp = await asyncio.to_thread(requests.post, f"{hook}?cluster=a",
                                               data=body, headers=headers, timeout=10)
                assert resp.status_code == 202, resp.text
                assert "follow its webhook (/webhooks/github without ?cluster)" in \
                    resp.json()["data"]["detail"]
                body, headers = pull_request(7, head, base, B_SECRET,
                                             "site-b/declarations")
                resp = await asyncio.to_thread(requests.post, f"{hook}?cluster=b",
                                               data=body, headers=headers, timeout=10)
                assert resp.status_code == 200, resp.text
                assert resp.json()["data"]["detail"] == f"planning pull request 7 at {head}"
                deadline = time.monotonic() + 60
                while not ({"mycopod/plan/b"} <= contexts(forge_b, head)
                           and "mycopod/reconcile" in contexts(forge_b, base)):
                    assert time.monotonic() < deadline, "b's forge did not get both statuses"
                    await asyncio.sleep(0.3)
    finally:
        sim_a.stop()
        sim_b.stop()
    assert git.tokens_of("b/declarations.git") == {B_GIT_TOKEN}
    assert {s.status for s in git.seen} == {200}
    assert forge_b.invalid == [] and forge_main.invalid == []
    (created,) = forge_b.of("create")
    assert created.path == "/repos/site-b/declarations/issues/7/comments"
    assert created.headers["Authorization"] in ("Bearer site-b-forge-token",
                                                "token site-b-forge-token")
    text = created.body["body"]
    assert "#### Cluster `b`" in text and "#### Cluster `a`" not in text
    assert "| db-2 | create |" in text and "| db-1 |" not in text
    plans = {s["context"]: s for sha, s in forge_b.statuses if sha == head}
    assert set(plans) == {"mycopod/plan/b"}
    assert plans["mycopod/plan/b"]["state"] == "success"
    # nothing of b's reached the [declarations] repository's forge: neither its pull
    # request, nor the statuses of its commits (which that repository does not hold)
    assert forge_main.of("create") == []
    assert contexts(forge_main, head) == contexts(forge_main, base) == set()
    # the statuses of b's runs went to b's repository, a's to the [declarations] one
    assert contexts(forge_b, base) == {"mycopod/reconcile"}
    assert [s["state"] for sha, s in forge_b.statuses if sha == base][-1] == "success"
    assert "mycopod/reconcile" in contexts(forge_main, main_head)
