"""The daemon's pull-request planner with several clusters (issue 17): a signed
pull_request delivery to ``mycopod run``'s own API, the planner wired by the daemon to
each cluster's clone and Proxmox, one comment with a section per cluster touched and a
``mycopod/plan/<name>`` status per cluster on the GitHub stand-in."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
import requests

from mycopod.config import load_settings
from tests.support.clusters import SimProcess, clusters_config, running_daemon
from tests.support.daemon import Repo, free_port
from tests.support.forge import running_forge

pytestmark = pytest.mark.timeout(150)

SECRET = "hook-secret-for-tests"  # what clusters_config sets


def pull_request(number: int, head: str, base: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({
        "action": "opened", "number": number,
        "pull_request": {"number": number, "title": "edges", "state": "open",
                         "head": {"sha": head, "ref": "edges"},
                         "base": {"sha": base, "ref": "main"}},
        "repository": {"full_name": "lab/declarations"}}).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-GitHub-Event": "pull_request",
                  "X-Hub-Signature-256": signature}


async def test_the_daemon_plans_a_pull_request_per_cluster(database_url: str,
                                                           tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    (repo.work / "site-a").mkdir()
    (repo.work / "site-b").mkdir()
    base = repo.push({"site-a/app.md": "web-1 is a VM with 1 core and 1 GB of RAM.\n",
                      "site-b/app.md": "web-1 is a VM with 1 core and 1 GB of RAM.\n"})
    head = repo.pull_request(5, {"site-a/app.md": "web-1 is a VM with 2 cores and 1 GB of RAM.\n",
                                 "site-b/db.md": "db-1 is a VM with 1 core and 1 GB of RAM.\n"})
    sim_a = SimProcess(tmp_path / "sim-a.log").start()
    sim_b = SimProcess(tmp_path / "sim-b.log").start()
    port = free_port()
    try:
        async with running_forge() as forge:
            config = clusters_config(tmp_path / "mycopod.toml", database_url=database_url,
                                     repo=repo, clusters={"a": (sim_a, "site-a/"),
                                                          "b": (sim_b, "site-b/")})
            settings = load_settings(config, environ={}, overrides={
                "state_dir": str(tmp_path / "state"),
                "api": {"port": port, "jwt_secret": "x" * 40},
                "forge": {"api_url": forge.url, "repository": "lab/declarations",
                          "token": "forge-token"}})
            async with running_daemon(settings, tmp_path,
                                      until=lambda: bool(sim_a.guests() and sim_b.guests()),
                                      what="the clusters were not applied"):
                body, headers = pull_request(5, head, base)
                resp = await asyncio.to_thread(
                    requests.post, f"http://127.0.0.1:{port}/webhooks/github",
                    data=body, headers=headers, timeout=10)
                assert resp.status_code == 200, resp.text
                deadline = time.monotonic() + 60
                while not forge.of("create"):
                    assert time.monotonic() < deadline, "no comment was written"
                    await asyncio.sleep(0.3)
    finally:
        sim_a.stop()
        sim_b.stop()
    assert forge.invalid == []
    (created,) = forge.of("create")
    assert created.path == "/repos/lab/declarations/issues/5/comments"
    text = created.body["body"]
    assert "**Clusters**: 2 of 2 touched: `a`, `b`" in text
    a = text[text.index("#### Cluster `a`"):text.index("#### Cluster `b`")]
    b = text[text.index("#### Cluster `b`"):]
    assert "| web-1 | configure |" in a and "db-1" not in a
    assert "| db-1 | create |" in b and "| web-1 |" not in b
    plans = {s["context"]: s for sha, s in forge.statuses if sha == head}
    assert plans["mycopod/plan/a"]["state"] == plans["mycopod/plan/b"]["state"] == "success"
    assert "mycopod/plan" not in plans
