"""Two replicas on one database: what lands on the standby reaches the leader at once.

The leader's worker and poller are set to look for work only every 30 s here, so a run
claimed (or a commit queued) within a couple of seconds can only be the LISTEN/NOTIFY
wake-up (docs/scaling.md), not a poll."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import requests

from mycopod.pvesim.testing import running_simulator
from tests.support.daemon import (
    PASSWORD,
    Api,
    Daemon,
    Repo,
    add_user,
    daemon_env,
    free_port,
    push_delivery,
    query,
    wait_until,
)

pytestmark = pytest.mark.timeout(180)

SLOW_POLL = "30"
#: well under the 30 s polls: only a wake-up explains it
AT_ONCE = 3.0


def test_requests_to_the_standby_reach_the_leader_at_once(database_url: str,
                                                          tmp_path: Path) -> None:
    asyncio.run(add_user(database_url, "admin", "admin"))
    repo = Repo(tmp_path)
    repo.push({"app.md": "web-1 is a VM with 1 core and 1 GB of RAM.\n"})
    with running_simulator(task_seconds=0.1) as sim:
        daemons = []
        for name in ("a", "b"):
            env = daemon_env(state_dir=tmp_path / f"state-{name}", database_url=database_url,
                             sim=sim, repo=repo, port=free_port(),
                             MYCOPOD_APPLY__DRIFT_SECONDS="30",
                             MYCOPOD_APPLY__CLAIM_POLL_SECONDS=SLOW_POLL,
                             MYCOPOD_DECLARATIONS__POLL_SECONDS=SLOW_POLL)
            daemons.append(Daemon(name, env, tmp_path))
        a, b = daemons
        try:
            a.start()
            a.wait_healthy()
            wait_until(lambda: a.role() == "leader", timeout=10, what="a to lead")
            b.start()
            b.wait_healthy()
            assert b.role() == "standby"
            wait_until(lambda: not query(database_url, "SELECT 1 FROM reconciliation_runs "
                                         "WHERE status NOT IN ('Succeeded', 'Failed')"),
                       timeout=30, what="the first commit's run to finish")
            admin = Api(b.url, "admin", PASSWORD)

            # POST /reconcile on the standby: claimed by the leader at once, each time
            for _ in range(3):
                sent = time.monotonic()
                run_id = admin.post("/reconcile", {"dry_run": True})["run_id"]
                wait_until(lambda rid=run_id: query(
                    database_url, "SELECT 1 FROM reconciliation_runs WHERE id = $1 "
                    "AND status <> 'Pending'", rid), timeout=AT_ONCE,
                    what="the leader to claim the run", interval=0.02)
                assert time.monotonic() - sent < AT_ONCE

            # a push's webhook delivered to the standby: the leader fetches and queues it
            commit = repo.push({"app.md": "web-1 is a VM with 2 cores and 1 GB of RAM.\n"})
            body, headers = push_delivery(commit)
            sent = time.monotonic()
            resp = requests.post(f"{b.url}/webhooks/github", data=body, headers=headers,
                                 timeout=10)
            assert resp.status_code == 200, resp.text
            rows = wait_until(lambda: query(
                database_url, "SELECT trigger FROM reconciliation_runs WHERE commit_sha = $1",
                commit), timeout=AT_ONCE + 5, what="the leader to queue the pushed commit",
                interval=0.05)
            assert time.monotonic() - sent < AT_ONCE + 5  # a fetch and a compile included
            assert rows[0]["trigger"] == "webhook"
            assert b.role() == "standby" and a.role() == "leader"
        finally:
            for daemon in daemons:
                daemon.stop()
