"""The issue's acceptance test: `mycopod run` against the simulator, a git repository and
PostgreSQL, as separate processes, checked the way an owner would check them."""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path

import pytest
import requests

from mycopod.pvesim.testing import running_simulator
from tests.support.daemon import (
    CREATES_PER_TARGET,
    PASSWORD,
    Api,
    Daemon,
    Repo,
    add_user,
    all_running,
    daemon_env,
    free_port,
    guests_named,
    query,
    wait_until,
)

pytestmark = pytest.mark.timeout(240)



def _sim_config(sim, name: str) -> dict[str, str]:
    """The guest's configuration with pending changes (what Proxmox's GET config shows)."""
    for guest in list(sim.cluster.guests.values()):
        if guest.name == name:
            return {**guest.config, **guest.pending}
    return {}


def _call(sim, method: str, path: str, **params: str) -> None:
    resp = requests.request(
        method, f"{sim.url}/api2/json{path}", data=params,
        headers={"Authorization": f"PVEAPIToken={sim.token_id}={sim.token_secret}"},
        verify=False, timeout=10)  # the simulator's self-signed certificate
    assert resp.status_code == 200, resp.text


def _put_config(sim, vmid: int, **params: str) -> None:
    guest = sim.cluster.guests[vmid]
    _call(sim, "PUT", f"/nodes/{guest.node}/qemu/{vmid}/config", **params)


def _post(sim, path: str) -> None:
    _call(sim, "POST", path)


def test_push_apply_drift_crash_and_stop(database_url: str, tmp_path: Path) -> None:
    asyncio.run(add_user(database_url, "admin", "admin"))
    repo = Repo(tmp_path)
    notify = tmp_path / "notify.sock"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(notify))
    receiver.settimeout(30)
    with running_simulator(task_seconds=0.2) as sim:
        env = daemon_env(state_dir=tmp_path / "state", database_url=database_url, sim=sim,
                         repo=repo, port=free_port(), notify_socket=str(notify),
                         MYCOPOD_APPLY__RESYNC_SECONDS="3")
        daemon = Daemon("d1", env, tmp_path).start()
        try:
            # 1. It starts: migrations, first observe, READY=1.
            message = ""
            while "READY=1" not in message:
                message = receiver.recv(4096).decode()
            daemon.wait_healthy()
            wait_until(lambda: daemon.role() == "leader", timeout=10, what="leadership")
            api = Api(daemon.url, "admin", PASSWORD)

            # 2. Push a declaration: the guest exists within 10 s; the run is in the API.
            commit = repo.push({"app.md": "web-1 is a VM with 1 core and 1 GB of RAM.\n"})
            wait_until(lambda: guests_named(sim, "web-1"), timeout=10,
                       what="web-1 to exist in Proxmox")

            def succeeded_run(sha: str = commit) -> dict | None:
                runs = api.get("/logs", status="Succeeded")["items"]
                return next((r for r in runs if r["commit_sha"] == sha), None)

            run = wait_until(succeeded_run, timeout=20, what="the run to succeed")
            assert run["trigger"] in ("commit", "webhook")
            detail = api.get(f"/reconcile/{run['id']}")
            kinds = [a["kind"] for a in detail["actions"]]
            assert "create" in kinds and all(a["result"] == "Success"
                                             for a in detail["actions"])
            metrics = requests.get(f"{daemon.url}/metrics", timeout=5).text
            counted = re.search(
                r'mycopod_reconcile_runs_total\{cluster="default",status="Succeeded",'
                r'trigger="(commit|webhook)"\} ([0-9.]+)', metrics)
            assert counted and float(counted.group(2)) >= 1, metrics[:2000]

            # 3. Push a change: it is applied.
            change = repo.push({"app.md": "web-1 is a VM with 2 cores and 1 GB of RAM.\n"})
            wait_until(lambda: _sim_config(sim, "web-1").get("cores") == "2", timeout=15,
                       what="2 cores on web-1")
            # its run over (it reads the config back after the change: a change made out
            # of band before that fails it, and its retry, not a drift run, corrects it)
            wait_until(lambda: succeeded_run(change), timeout=20, what="the change's run")

            # 4. Change the guest out of band: it is corrected (a drift run). A stopped
            # guest shows in the cheap observe (/cluster/resources); a pending config
            # change only in the full resync (resync_seconds, 3 s here).
            vmid = guests_named(sim, "web-1")[0][0]
            _put_config(sim, vmid, cores="6")
            _post(sim, f"/nodes/{sim.cluster.guests[vmid].node}/qemu/{vmid}/status/stop")
            wait_until(lambda: guests_named(sim, "web-1")[0][2] == "stopped", timeout=10,
                       what="web-1 to stop")
            wait_until(lambda: _sim_config(sim, "web-1").get("cores") == "2"
                       and guests_named(sim, "web-1")[0][2] == "running", timeout=20,
                       what="the drift on web-1 to be corrected")
            wait_until(lambda: query(
                database_url, "SELECT 1 FROM reconciliation_runs WHERE trigger = 'drift' "
                "AND status = 'Succeeded'"), timeout=10, what="the drift run to succeed")

            # 5. SIGKILL during a 20-guest apply, restart: converges, no duplicates.
            big = repo.push({"fleet.md": "Create 20 servers named node-1 through node-20, "
                             "each a VM with 1 core and 1 GB of RAM.\n"})
            wait_until(lambda: len(guests_named(sim, "node-")) >= 3, timeout=20,
                       what="the 20-guest apply to be under way", interval=0.02)
            daemon.kill()
            created_before = len(guests_named(sim, "node-"))
            assert created_before < 20, "the apply finished before the kill; slow it down"
            daemon = Daemon("d1-restarted", env, tmp_path).start()
            daemon.wait_healthy()

            wait_until(lambda: all_running(sim, "node-", 20), timeout=60,
                       what="the 20 guests to converge")
            names = [name for _, name, _ in guests_named(sim, "node-")]
            assert sorted(names) == sorted(f"node-{i}" for i in range(1, 21))  # no duplicates
            assert [name for _, name, _ in guests_named(sim, "web-")] == ["web-1"]
            killed = query(database_url, "SELECT id, status FROM reconciliation_runs "
                           "WHERE commit_sha = $1 ORDER BY id", big)
            assert killed[0]["status"] == "Interrupted", killed
            creates = query(database_url, CREATES_PER_TARGET)
            assert all(r["n"] == 1 for r in creates), creates

            # 6. SIGTERM: exit 0 within the grace period (5 s here).
            seconds = daemon.terminate()
            assert daemon.proc is not None and daemon.proc.returncode == 0, daemon.tail()
            assert seconds < 5 + 5
        finally:
            daemon.stop()
            receiver.close()
