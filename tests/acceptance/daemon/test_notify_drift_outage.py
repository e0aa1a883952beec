"""``mycopod run`` with ``[notify]`` pointed at a local Apprise JSON receiver: drift made
behind its back (self_heal off) is told once, and a Proxmox that is gone for longer than
``lost_after_seconds`` is told once, and once more when it is back.

The simulator is a process of its own (``mycopod sim --state FILE``), so it can be
killed and restarted from its saved state like a real pveproxy.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from tests.support.daemon import Daemon, Repo, daemon_env, free_port, wait_until

pytestmark = pytest.mark.timeout(180)

TOKEN = "PVEAPIToken=root@pam!mycopod=mycopod-token"


class Sim:
    def __init__(self, state: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.state, self.log = state, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Sim:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mycopod.cli", "sim", "--port", str(self.port),
                 "--task-seconds", "0.05", "--state", str(self.state)],
                stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: self.call("GET", "/cluster/resources") is not None, timeout=20,
                   what="the simulator")
        return self

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def call(self, method: str, path: str) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the simulator's self-signed certificate
            try:
                resp = requests.request(method, f"{self.url}/api2/json{path}",
                                        verify=False,  # our own simulator, self-signed
                                        headers={"Authorization": TOKEN}, timeout=5)
            except requests.RequestException:
                return None
        return resp.json()["data"] if resp.status_code == 200 else None

    def guest(self, name: str) -> dict[str, Any] | None:
        return next((g for g in self.call("GET", "/cluster/resources") or []
                     if g.get("name") == name), None)


@contextmanager
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An Apprise JSON receiver (what json://host:port/notify posts)."""
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            got.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"json://127.0.0.1:{server.server_address[1]}/notify", got
    finally:
        server.shutdown()
        server.server_close()


def titles(got: list[dict[str, Any]]) -> list[str]:
    return [g["title"] for g in got]


def test_drift_and_a_lost_proxmox_are_told_once(database_url: str, tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    sim = Sim(tmp_path / "pve-sim.json", tmp_path / "sim.log").start()
    handle = SimpleNamespace(url=sim.url, token_id="root@pam!mycopod",
                             token_secret="mycopod-token")
    with receiver() as (url, got):
        daemon = Daemon("solo", daemon_env(
            state_dir=tmp_path / "state", database_url=database_url, sim=handle, repo=repo,
            port=free_port(), MYCOPOD_APPLY__DRIFT_SECONDS="1",
            MYCOPOD_POLICY__SELF_HEAL="false", MYCOPOD_NOTIFY__URLS=url,
            MYCOPOD_NOTIFY__LOST_AFTER_SECONDS="3",
            MYCOPOD_NOTIFY__PUBLIC_URL="https://mycopod.lab"), tmp_path)
        try:
            daemon.start()
            daemon.wait_healthy()
            wait_until(lambda: daemon.role() == "leader", timeout=15, what="leadership")
            repo.push({"web.md": "web-1 is a VM with 1 core and 1 GB of RAM.\n"})
            web = wait_until(lambda: (g := sim.guest("web-1")) and g["status"] == "running"
                             and g, timeout=60, what="web-1 created and running")
            time.sleep(3)
            assert got == []  # in sync: nothing to tell

            # stopped behind MycoPod's back: told once, over several drift checks
            assert sim.call("POST", f"/nodes/{web['node']}/qemu/{web['vmid']}/status/stop")
            wait_until(lambda: got, timeout=20, what="the drift notification")
            time.sleep(4)
            assert titles(got) == ["MycoPod: drift on web-1 not self-healed"], got
            assert "state stopped → running" in got[0]["message"]
            assert "https://mycopod.lab/ui/guests" in got[0]["message"]
            assert (sim.guest("web-1") or {}).get("status") == "stopped"  # not healed

            # Proxmox gone for longer than lost_after_seconds, then back
            time.sleep(1.0)  # the simulator saves its state every 0.5 s
            sim.kill()
            wait_until(lambda: len(got) >= 2, timeout=30, what="the lost notification")
            time.sleep(2)
            assert titles(got)[1:] == ["MycoPod: lost the Proxmox connection (default)"]
            sim.start()
            wait_until(lambda: len(got) >= 3, timeout=30, what="the recovered notification")
            time.sleep(3)
            assert titles(got)[2:] == ["MycoPod: the Proxmox connection recovered (default)"]
            assert got[2]["type"] == "success"
        finally:
            daemon.stop()
            sim.stop()
