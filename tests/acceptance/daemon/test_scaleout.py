"""Scale-out (issue 17): two `mycopod run` replicas, two clusters (a simulator process
each, with its request log), one git repository with a folder per cluster.

The replicas' pollers and workers look for work only every 60 s here, so a push applied
within seconds can only be the webhook's LISTEN/NOTIFY wake-up reaching the cluster's
leader (docs/scaling.md). The simulators' request logs (``mycopod sim --request-log``)
are what the cluster really saw: every action's Proxmox call is made exactly once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from mycopod.pvesim import requestlog
from tests.support.clusters import SimProcess, clusters_config, clusters_env
from tests.support.daemon import (
    PASSWORD,
    Daemon,
    Repo,
    add_user,
    free_port,
    push_delivery,
    query,
    wait_until,
)

pytestmark = pytest.mark.timeout(180)

SLOW_POLL = "60"
#: far under the 60 s polls: a fetch, a compile and a create or update included
AT_ONCE = 10.0
#: issue 17: a dead leader's cluster moves within 15 s
TAKEOVER = 15.0

APP = {"a": "web-1 is a VM with {cores} and 1 GB of RAM.\n",
       "b": "web-1 is a VM with {cores} and 1 GB of RAM.\n"
            "db-1 is a VM with 1 core and 1 GB of RAM.\n"}


def _app(cluster: str, cores: int) -> dict[str, str]:
    text = APP[cluster].format(cores="1 core" if cores == 1 else f"{cores} cores")
    return {f"site-{cluster}/app.md": text}


def _webhook(replica: Daemon, commit: str) -> None:
    body, headers = push_delivery(commit)
    resp = requests.post(f"{replica.url}/webhooks/github", data=body, headers=headers,
                         timeout=10)
    assert resp.status_code == 200, resp.text


def _leads(replica: Daemon) -> set[str]:
    health = replica.health() or {}
    return {c["name"] for c in health.get("clusters", []) if c["role"] == "leader"}


def _cores(sim: SimProcess, name: str) -> int:
    return int(sim.guests()[name]["cores"])


def _login(replica: Daemon, password: str) -> int:
    return requests.post(f"{replica.url}/auth/login", json={
        "username": "alice", "password": password}, timeout=10).status_code


def test_two_replicas_share_two_clusters(database_url: str, tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    (repo.work / "site-a").mkdir()
    (repo.work / "site-b").mkdir()
    repo.push({**_app("a", 1), **_app("b", 2)})
    logs = {name: tmp_path / f"requests-{name}.jsonl" for name in ("a", "b")}
    sims = {name: SimProcess(tmp_path / f"sim-{name}.log", "--request-log", str(logs[name]))
            for name in ("a", "b")}
    config = clusters_config(tmp_path / "mycopod.toml", database_url=database_url, repo=repo,
                             clusters={n: (s, f"site-{n}/") for n, s in sims.items()})
    replicas = [Daemon(f"replica-{i}", clusters_env(
        config=config, state_dir=tmp_path / f"state-{i}", port=free_port(),
        MYCOPOD_DECLARATIONS__POLL_SECONDS=SLOW_POLL,
        MYCOPOD_APPLY__CLAIM_POLL_SECONDS=SLOW_POLL,
        MYCOPOD_APPLY__DRIFT_SECONDS="30"), tmp_path) for i in (1, 2)]
    try:
        for sim in sims.values():
            sim.start()
        for replica in replicas:
            replica.start()
        for replica in replicas:
            replica.wait_healthy()

        # a) fair share: each replica leads one cluster, both clusters converge
        def split() -> dict[str, Daemon] | None:
            leads = [_leads(r) for r in replicas]
            if all(len(x) == 1 for x in leads) and leads[0] | leads[1] == {"a", "b"}:
                return {next(iter(x)): r for x, r in zip(leads, replicas, strict=True)}
            return None

        leader = wait_until(split, timeout=30, what="each replica to lead one cluster:\n"
                            + "\n".join(r.tail(10) for r in replicas))
        wait_until(lambda: set(sims["a"].guests()) == {"web-1"}
                   and set(sims["b"].guests()) == {"web-1", "db-1"}, timeout=60,
                   what="both clusters applied")
        assert _cores(sims["a"], "web-1") == 1 and _cores(sims["b"], "web-1") == 2
        assert split() == leader  # leadership did not flap on the way

        # b) a push's webhook delivered to the replica that does NOT lead cluster a
        other = next(r for r in replicas if r is not leader["a"])
        commit = repo.push(_app("a", 3))
        sent = time.monotonic()
        _webhook(other, commit)
        wait_until(lambda: _cores(sims["a"], "web-1") == 3, timeout=AT_ONCE,
                   what="cluster a to apply the pushed commit", interval=0.1)
        assert time.monotonic() - sent < AT_ONCE
        rows = query(database_url, "SELECT cluster, trigger FROM reconciliation_runs "
                     "WHERE commit_sha = $1", commit)
        assert {(r["cluster"], r["trigger"]) for r in rows} >= {("a", "webhook")}
        assert _cores(sims["b"], "web-1") == 2

        # d) failed logins spread over both replicas are limited as one budget (five a
        # minute): each replica alone saw fewer than five
        asyncio.run(add_user(database_url, "alice", "user"))
        one, two = replicas
        assert [_login(one, "wrong") for _ in range(3)] == [401] * 3
        assert [_login(two, "wrong") for _ in range(2)] == [401] * 2
        assert _login(two, PASSWORD) == 429
        assert _login(one, PASSWORD) == 429

        # c) SIGKILL of cluster b's leader: the survivor leads b within 15 s, and a later
        # push to b (its webhook sent to the survivor) is applied
        victim = leader["b"]
        survivor = next(r for r in replicas if r is not victim)
        victim.kill()
        killed = time.monotonic()
        wait_until(lambda: _leads(survivor) == {"a", "b"}, timeout=TAKEOVER + 5,
                   what=f"the survivor to lead both clusters:\n{survivor.tail(20)}",
                   interval=0.2)
        assert time.monotonic() - killed < TAKEOVER
        commit = repo.push(_app("b", 4))
        _webhook(survivor, commit)
        wait_until(lambda: _cores(sims["b"], "web-1") == 4, timeout=AT_ONCE,
                   what=f"cluster b to apply the later push:\n{survivor.tail(20)}")
        assert _cores(sims["a"], "web-1") == 3
    finally:
        for replica in replicas:
            replica.stop()
        for sim in sims.values():
            sim.stop()

    # e) no action executed twice: every action's task was started by exactly one call,
    # and every task the simulator started belongs to an action
    for name, log in logs.items():
        actions = query(database_url, "SELECT a.kind, a.target, a.upid FROM "
                        "reconciliation_actions a JOIN reconciliation_runs r "
                        "ON r.id = a.run_id WHERE r.cluster = $1 AND a.result = 'Success'",
                        name)
        entries = requestlog.read(log)
        started = Counter(e["upid"] for e in entries if "upid" in e)
        action_upids = [a["upid"] for a in actions if a["upid"]]
        assert action_upids, f"cluster {name}: no action recorded a task"
        assert len(set(action_upids)) == len(action_upids), actions
        assert {u: started[u] for u in action_upids} == dict.fromkeys(action_upids, 1)
        assert set(started) == set(action_upids), (name, started, actions)
        creates = [e for e in entries if e["method"] == "POST" and e["status"] == 200
                   and e["path"].rsplit("/", 1)[-1] in ("qemu", "lxc")]
        assert len(creates) == sum(a["kind"] in ("create", "clone") for a in actions)
    assert len([a for a in query(database_url, "SELECT 1 FROM reconciliation_actions a "
                                 "JOIN reconciliation_runs r ON r.id = a.run_id WHERE "
                                 "a.kind = 'create' AND a.result = 'Success'")]) == 3
