"""``mycopod suspend``, ``override``, ``resume`` and ``rollback`` as an Admin types them,
against a running daemon: `mycopod run` as its own process, the simulator over HTTPS, a
real git repository. The daemon's fallback poll for runs is set to 60 s, so a command
that takes effect sooner did wake it (through PostgreSQL NOTIFY)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from mycopod.pvesim import direct
from mycopod.pvesim.testing import running_simulator
from mycopod.store.users import UserStore
from tests.support.daemon import (
    MYCOPOD,
    Api,
    Daemon,
    Repo,
    daemon_env,
    free_port,
    query,
    wait_until,
)

pytestmark = pytest.mark.timeout(240)
PASSWORD = "correct horse battery staple"


def web(cores: int) -> str:
    return f"web-1 is a VM with {cores} cores, 4 GB of RAM and a 32 GB disk on local-lvm.\n"


def mycopod(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MYCOPOD, *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=120)


def cores(sim: Any) -> int | None:
    try:
        return int(direct.config(sim.cluster, "web-1")["cores"])
    except Exception:  # not created yet
        return None


def run_of(url: str, commit: str, status: str) -> int | None:
    rows = query(url, "SELECT id FROM reconciliation_runs WHERE commit_sha = $1 "
                 "AND status = $2", commit, status)
    return int(rows[0]["id"]) if rows else None


async def _add_admin(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        store = UserStore(conn)  # type: ignore[arg-type]
        await store.add("alice", PASSWORD, "user")
        return (await store.add("root-admin", PASSWORD, "admin")).id
    finally:
        await conn.close()


def test_suspend_override_resume_and_rollback_from_the_command_line(
        tmp_path: Path, database_url: str) -> None:
    admin = asyncio.run(_add_admin(database_url))
    repo = Repo(tmp_path)
    first = repo.push({"web.md": web(2)}, "two cores")
    with running_simulator(task_seconds=0.02, seed=3) as sim:
        env = daemon_env(state_dir=tmp_path / "daemon", database_url=database_url, sim=sim,
                         repo=repo, port=free_port(),
                         MYCOPOD_APPLY__CLAIM_POLL_SECONDS="60",
                         MYCOPOD_DECLARATIONS__POLL_SECONDS="60")
        # the operator's shell: the same database and remote, a clone of its own
        cli = {**env, "MYCOPOD_STATE_DIR": str(tmp_path / "cli"),
               "MYCOPOD_LOGGING__FORMAT": "console"}
        daemon = Daemon("d1", env, tmp_path).start()
        try:
            daemon.wait_healthy()
            wait_until(lambda: cores(sim) == 2, timeout=60, what="the first commit applied")

            refused = mycopod(cli, "suspend", "--as", "alice")
            assert refused.returncode == 1
            assert refused.stderr.strip() == ("mycopod: --as alice: alice is not an Admin; "
                                              "only an Admin may do this")
            done = mycopod(cli, "suspend", "--as", "root-admin")
            assert done.returncode == 0, done.stderr
            assert done.stdout.startswith("Suspended: nothing is applied")
            assert query(database_url, "SELECT updated_by FROM settings WHERE key = "
                         "'suspended'")[0]["updated_by"] == admin

            second = repo.push({"web.md": web(4)}, "four cores")
            requests_fetch(daemon)
            waiting = wait_until(lambda: run_of(database_url, second, "Waiting"), timeout=30,
                                 what="the second commit's run waiting")
            time.sleep(1.0)
            assert cores(sim) == 2  # suspended: nothing applied

            # override: this one run applies now; the cluster stays suspended
            started = time.monotonic()
            done = mycopod(cli, "override", str(waiting), "--as", "root-admin")
            assert done.returncode == 0, done.stderr
            assert done.stdout.startswith(f"Run {waiting} is queued to apply now")
            wait_until(lambda: cores(sim) == 4, timeout=30, what="the override applied")
            assert time.monotonic() - started < 30  # well before the 60 s poll
            row = query(database_url, "SELECT status, override_by FROM reconciliation_runs "
                        "WHERE id = $1", waiting)[0]
            assert (row["status"], row["override_by"]) == ("Succeeded", admin)
            again = mycopod(cli, "override", str(waiting))
            assert again.returncode == 1 and "is Succeeded, not Waiting" in again.stderr
            missing = mycopod(cli, "override", "99999")
            assert missing.returncode == 1
            assert missing.stderr.strip() == "mycopod: run 99999 not found"

            third = repo.push({"web.md": web(6)}, "six cores")
            requests_fetch(daemon)
            held = wait_until(lambda: run_of(database_url, third, "Waiting"), timeout=30,
                              what="the third commit's run waiting")
            started = time.monotonic()
            done = mycopod(cli, "resume")
            assert done.returncode == 0, done.stderr
            assert done.stdout.strip() == (f"Resumed: run {held} ({third[:12]}) applies now, "
                                           "unless a maintenance window holds it.")
            wait_until(lambda: cores(sim) == 6, timeout=30, what="the resume applied")
            assert time.monotonic() - started < 30

            # roll back to the first commit: a new commit, fetched and applied at once
            bad = mycopod(cli, "rollback", "not-a-sha")
            assert bad.returncode == 1 and "is not a commit sha" in bad.stderr
            assert "Traceback" not in bad.stderr
            started = time.monotonic()
            done = mycopod(cli, "rollback", first[:10], "--as", "root-admin")
            assert done.returncode == 0, done.stderr
            wait_until(lambda: cores(sim) == 2, timeout=30, what="the rollback applied")
            assert time.monotonic() - started < 30  # the daemon fetched without its poll

            # the guest's history says who did each of it
            rolled = repo.git("--git-dir", str(repo.bare), "rev-parse", "main")
            history = Api(daemon.url, "root-admin", PASSWORD).get("/guests/web-1/history")
            newest = history["items"][0]
            assert (newest["commit_sha"], newest["author"]) == (
                rolled, "root-admin <root-admin@users.mycopod.invalid>")
            overridden = [e for e in history["items"] if e["commit_sha"] == second]
            assert overridden and all(e["overridden_by"] == "root-admin" for e in overridden)
            assert history["items"][-1] == {**history["items"][-1], "kind": "create",
                                            "commit_sha": first,
                                            "author": "Test Owner <owner@example.invalid>"}
            assert history["total"] == len(history["items"])
        finally:
            daemon.stop()
    head = repo.git("--git-dir", str(repo.bare), "rev-parse", "main")
    assert done.stdout.startswith(f"Committed {head[:12]} on 'main': the declarations as "
                                  f"at {first[:12]}, authored by root-admin.")
    assert repo.git("--git-dir", str(repo.bare), "log", "-1", "--format=%an|%P", head) == (
        f"root-admin|{third}")
    assert (repo.git("--git-dir", str(repo.bare), "rev-parse", f"{head}^{{tree}}")
            == repo.git("--git-dir", str(repo.bare), "rev-parse", f"{first}^{{tree}}"))
    (run,) = query(database_url, "SELECT status, trigger FROM reconciliation_runs "
                   "WHERE commit_sha = $1", head)
    assert run["status"] == "Succeeded"


def requests_fetch(daemon: Daemon) -> None:
    """A push webhook, as the forge sends it, so the daemon fetches now (its poll is long)."""
    import hashlib
    import hmac
    import json

    import requests

    body = json.dumps({"ref": "refs/heads/main"}).encode()
    signature = "sha256=" + hmac.new(b"hook-secret-for-tests", body,
                                     hashlib.sha256).hexdigest()
    resp = requests.post(f"{daemon.url}/webhooks/github", data=body, timeout=10,
                         headers={"Content-Type": "application/json",
                                  "X-GitHub-Event": "push", "X-GitHub-Delivery": "d",
                                  "X-Hub-Signature-256": signature})
    assert resp.status_code in (200, 202), resp.text
