"""Helpers for several clusters in one deployment: a simulator process per cluster and
a configuration file with one [[clusters]] entry each."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import requests

from mycopod.config import Settings
from mycopod.daemon import Daemon
from mycopod.store import db, migrate
from tests.support.daemon import Repo, free_port, wait_until

TOKEN_ID = "root@pam!mycopod"
TOKEN_SECRET = "mycopod-token"


class SimProcess:
    """`mycopod sim` as a process of its own."""

    def __init__(self, log: Path, *args: str) -> None:
        """``args``: more ``mycopod sim`` options, e.g. ``--request-log``, FILE."""
        self.args = args
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> SimProcess:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mycopod.cli", "sim", "--port", str(self.port),
                 "--task-seconds", "0.05", "--stats-interval", "0", *self.args],
                stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: self.get("/cluster/resources") is not None, timeout=30,
                   what="the simulator")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def get(self, path: str) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the simulator's self-signed certificate
            try:
                resp = requests.get(f"{self.url}/api2/json{path}",
                                    verify=False,  # noqa: S501 - our simulator, self-signed
                                    headers={"Authorization":
                                             f"PVEAPIToken={TOKEN_ID}={TOKEN_SECRET}"},
                                    timeout=5)
            except requests.RequestException:
                return None
        return resp.json()["data"] if resp.status_code == 200 else None

    def guests(self) -> dict[str, dict[str, Any]]:
        """Name -> config of every guest MycoPod owns (tagged ``mycopod``)."""
        found = {}
        for row in self.get("/cluster/resources") or []:
            if row.get("type") not in ("qemu", "lxc"):
                continue
            config = self.get(f"/nodes/{row['node']}/{row['type']}/{row['vmid']}/config")
            if config is not None and "mycopod" in str(config.get("tags", "")).split(";"):
                found[str(config.get("name") or config.get("hostname"))] = config
        return found


def clusters_config(path: Path, *, database_url: str, repo: Repo,
                    clusters: dict[str, tuple[SimProcess, str]]) -> Path:
    """A configuration with one [[clusters]] entry per ``name: (simulator, folder)``."""
    lines = [f'[database]\nurl = "{database_url}"\n',
             f'[declarations]\nrepo = "{repo.bare}"\npoll_seconds = 1.0\n'
             'webhook_secret = "hook-secret-for-tests"\n']
    for name, (sim, folder) in clusters.items():
        lines.append(f'[[clusters]]\nname = "{name}"\npath = "{folder}"\n'
                     f'[clusters.proxmox]\nurl = "{sim.url}"\ntoken_id = "{TOKEN_ID}"\n'
                     f'token_secret = "{TOKEN_SECRET}"\nverify_tls = false\n')
    path.write_text("\n".join(lines))
    path.chmod(0o600)
    return path


def clusters_env(*, config: Path, state_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {
        "MYCOPOD_CONFIG": str(config),
        "MYCOPOD_STATE_DIR": str(state_dir),
        "MYCOPOD_API__PORT": str(port),
        "MYCOPOD_API__JWT_SECRET": "x" * 40,
        "MYCOPOD_APPLY__DRIFT_SECONDS": "2",
        "MYCOPOD_APPLY__GRACE_SECONDS": "5",
        "MYCOPOD_LOGGING__FORMAT": "json",
        "MYCOPOD_LOGGING__LEVEL": "info",
        "PYTHONWARNINGS": "ignore",
    }
    env.update(extra)
    return env


__all__ = ["SimProcess", "clusters_config", "clusters_env"]


@asynccontextmanager
async def running_daemon(settings: Settings, state_dir: Path, *,
                         until: Callable[[], bool], what: str,
                         **daemon_args: Any) -> AsyncIterator[db.Database]:
    """A migrated database and a :class:`Daemon` running in this event loop, handed over
    once ``until()`` (called in a thread: it may ask a simulator) holds, within 60 s
    (``what`` names it in the failure); the daemon is stopped on the way out and must
    exit 0."""
    async with db.open_database(settings.database, state_dir=state_dir) as database:
        async with database.pool.acquire() as conn:
            await migrate.up(conn)
        daemon = Daemon(settings, database, install_signals=False, **daemon_args)
        running = asyncio.create_task(daemon.run())
        try:
            deadline = time.monotonic() + 60
            while not await asyncio.to_thread(until):
                assert not running.done(), running
                assert time.monotonic() < deadline, what
                await asyncio.sleep(0.3)
            yield database
        finally:
            daemon.request_stop()
            assert await asyncio.wait_for(running, 30) == 0
