"""Issue 18, items 3 and 5, replayed against a running daemon: `mycopod run` as its own
process, the simulator over HTTPS, a real git repository, the API over HTTP.

3. A User re-posted the owner's ``web.md`` with "Keep them stopped": 201, and about 20 s
   later the production VMs were stopped with no approval, by a run labelled
   ``webhook`` with no requester.
5. A NUL byte pushed in a declaration file stopped the pipeline: a database error on
   every poll, the commit never recorded, ``/health`` saying all was well, and every
   ``POST /declarations`` refused until the file was removed.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import requests

from mycopod.pvesim.testing import running_simulator
from mycopod.store.users import UserStore
from tests.support.daemon import (
    Api,
    Daemon,
    Repo,
    all_running,
    daemon_env,
    free_port,
    guests_named,
    query,
    wait_until,
)

pytestmark = pytest.mark.timeout(180)

PASSWORD = "correct horse battery staple"
WEB = ("Create 2 servers named web-1 through web-2, each a VM with 1 core and 1 GB of "
       "RAM.\n")
STOPPED = WEB.replace("RAM.", "RAM. Keep them stopped.")
DB = "db-1 is a VM with 1 core and 1 GB of RAM.\n"


async def _add_users(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        store = UserStore(conn)  # type: ignore[arg-type]
        return {"admin": (await store.add("admin", PASSWORD, "admin")).id,
                "alice": (await store.add("alice", PASSWORD, "user")).id}
    finally:
        await conn.close()


def _post(api: Api, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{api.url}{path}", json=body, timeout=30,
                         headers={"Authorization": f"Bearer {api.token}"})


def _runs(url: str, commit: str) -> list[asyncpg.Record]:
    return query(url, "SELECT id, status, trigger, requested_by, approved_by FROM "
                 "reconciliation_runs WHERE commit_sha = $1 ORDER BY id", commit)


def _states(sim: Any) -> dict[str, str]:
    """name -> status of the guests MycoPod manages here (not the simulator's templates
    and its unowned legacy-app)."""
    return {name: status for _, name, status in guests_named(sim, "")
            if name not in ("legacy-app", "debian-12", "ubuntu-24.04")}


def _cores(sim: Any, name: str) -> str | None:
    for guest in list(sim.cluster.guests.values()):
        if guest.name == name:
            return str({**guest.config, **guest.pending}.get("cores"))
    return None


def test_a_users_change_waits_for_an_admin(database_url: str, tmp_path: Path) -> None:
    ids = asyncio.run(_add_users(database_url))
    repo = Repo(tmp_path)
    with running_simulator(task_seconds=0.05) as sim:
        env = daemon_env(state_dir=tmp_path / "state", database_url=database_url, sim=sim,
                         repo=repo, port=free_port())
        daemon = Daemon("d", env, tmp_path).start()
        try:
            daemon.wait_healthy()
            wait_until(lambda: daemon.role() == "leader", timeout=15, what="leadership")
            repo.push({"web.md": WEB}, "production web servers")
            wait_until(lambda: all_running(sim, "web-", 2), timeout=30,
                       what="web-1 and web-2 running")
            admin = Api(daemon.url, "admin", PASSWORD)
            alice = Api(daemon.url, "alice", PASSWORD)

            # The attack: alice re-posts the owner's file. Refused, naming the file.
            resp = _post(alice, "/declarations", {"path": "web.md", "text": STOPPED})
            assert resp.status_code == 403, resp.text
            assert resp.json()["error"]["message"].startswith(
                "web.md already exists and came from the git repository")

            # Her own new file is committed, and its run waits for an Admin.
            resp = _post(alice, "/declarations", {"path": "alice.md", "text": DB})
            assert resp.status_code == 201, resp.text
            commit = resp.json()["data"]["github_commit_sha"]
            run = wait_until(lambda: (r := _runs(database_url, commit))
                             and r[0]["status"] == "AwaitingApproval" and r[0],
                             timeout=20, what="alice's run to wait for approval")
            assert (run["trigger"], run["requested_by"]) == ("api", ids["alice"])
            detail = admin.get(f"/reconcile/{run['id']}")
            assert any("alice.md (submitted by alice" in r
                       for r in detail["plan"]["approval_reasons"])
            time.sleep(5)  # polls, drift checks (every 2 s): nothing applies it meanwhile
            assert _states(sim) == {"web-1": "running", "web-2": "running"}
            assert [r["id"] for r in _runs(database_url, commit)] == [run["id"]]

            # An Admin approves: it applies, and the run says who asked and who approved.
            admin.post(f"/reconcile/{run['id']}/approve", {})
            wait_until(lambda: _states(sim).get("db-1") == "running", timeout=20,
                       what="db-1 running after the approval")
            done = wait_until(lambda: (r := _runs(database_url, commit))
                              and r[0]["status"] == "Succeeded" and r[0],
                              timeout=20, what="the approved run to succeed")
            assert (done["requested_by"], done["approved_by"]) == (ids["alice"], ids["admin"])

            # With users_can_reconcile, her change to her own file applies by itself.
            resp = requests.put(f"{daemon.url}/settings/users_can_reconcile",
                                json={"value": True}, timeout=10,
                                headers={"Authorization": f"Bearer {admin.token}"})
            assert resp.status_code == 200, resp.text
            resp = _post(alice, "/declarations",
                         {"path": "alice.md", "text": DB.replace("1 core", "2 cores")})
            assert resp.status_code == 201, resp.text
            second = resp.json()["data"]["github_commit_sha"]
            wait_until(lambda: _cores(sim, "db-1") == "2", timeout=20,
                       what="2 cores on db-1 without an approval")
            runs = wait_until(lambda: (r := _runs(database_url, second))
                              and r[0]["status"] == "Succeeded" and r, timeout=20,
                              what="the run of alice's second change")
            assert [(r["trigger"], r["requested_by"], r["approved_by"]) for r in runs] == [
                ("api", ids["alice"], None)]
            # ...but still only her own files
            resp = _post(alice, "/declarations", {"path": "web.md", "text": STOPPED})
            assert resp.status_code == 403, resp.text
            assert _states(sim) == {"web-1": "running", "web-2": "running", "db-1": "running"}
        finally:
            daemon.stop()


def test_a_nul_byte_is_reported_and_the_pipeline_moves_on(database_url: str,
                                                          tmp_path: Path) -> None:
    asyncio.run(_add_users(database_url))
    repo = Repo(tmp_path)
    with running_simulator(task_seconds=0.05) as sim:
        env = daemon_env(state_dir=tmp_path / "state", database_url=database_url, sim=sim,
                         repo=repo, port=free_port())
        daemon = Daemon("d", env, tmp_path).start()
        try:
            daemon.wait_healthy()
            wait_until(lambda: daemon.role() == "leader", timeout=15, what="leadership")
            repo.push({"web.md": WEB})
            wait_until(lambda: all_running(sim, "web-", 2), timeout=30,
                       what="web-1 and web-2 running")

            (repo.work / "evil.md").write_bytes(b"db-9 is a VM.\n\x00\n")
            bad = repo.push({}, "a NUL byte")
            row = wait_until(lambda: query(database_url, "SELECT compile_status, "
                                           "compile_error FROM declarations WHERE "
                                           "github_commit_sha = $1", bad),
                             timeout=15, what="the NUL commit to be recorded")[0]
            assert row["compile_status"] == "error"
            assert row["compile_error"].startswith("evil.md:2: contains a NUL character")
            health = wait_until(lambda: (h := daemon.health()) and h["repo"]["compile_error"]
                                and h, timeout=10, what="/health to show the compile error")
            assert health["repo"]["compile_error"].startswith(
                f"commit {bad[:12]}: evil.md:2: contains a NUL character")
            assert health["repo"]["head"] == bad and health["repo"]["error"] is None
            assert _runs(database_url, bad) == []  # nothing applies from it
            assert "poller.database_error" not in daemon.tail(200)

            # POST /declarations still works; the spec in force stays the last good one.
            admin = Api(daemon.url, "admin", PASSWORD)
            resp = _post(admin, "/declarations", {"path": "db.md", "text": DB})
            assert resp.status_code == 201, resp.text
            assert resp.json()["data"]["compile_status"] == "error"
            time.sleep(3)
            assert _states(sim) == {"web-1": "running", "web-2": "running"}

            # The fix is processed at once, with the file submitted meanwhile.
            repo.git("pull", "--quiet", "--rebase", "origin", "main")
            fixed = repo.push({"evil.md": "db-9 is a VM with 1 core and 1 GB of RAM.\n"})
            wait_until(lambda: all_running(sim, "db-", 2), timeout=30,
                       what="db-1 and db-9 running after the fix")
            assert wait_until(lambda: (r := _runs(database_url, fixed))
                              and r[0]["status"] == "Succeeded", timeout=20,
                              what="the fixed commit's run")
            wait_until(lambda: (h := daemon.health()) and h["repo"]["compile_error"] is None,
                       timeout=10, what="/health to clear the compile error")
        finally:
            daemon.stop()
