"""Helpers for the daemon's end-to-end tests: real `mycopod run` processes, a real git
repository, the simulator over HTTPS, and the API over HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import requests

T = TypeVar("T")

#: the password of the users the tests add, and the webhook secret of the daemons they run
PASSWORD = "correct horse battery staple"
WEBHOOK_SECRET = "hook-secret-for-tests"

#: successful creates per guest: a guest created twice shows n = 2
CREATES_PER_TARGET = (
    "SELECT target, count(*) AS n FROM reconciliation_actions "
    "WHERE kind IN ('create', 'clone') AND result = 'Success' GROUP BY target")

GIT_ENV = {"GIT_AUTHOR_NAME": "Test Owner", "GIT_AUTHOR_EMAIL": "owner@example.invalid",
           "GIT_COMMITTER_NAME": "Test Owner", "GIT_COMMITTER_EMAIL": "owner@example.invalid"}
MYCOPOD = str(Path(sys.executable).with_name("mycopod"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], T | None], *, timeout: float, what: str,
               interval: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception as exc:  # retried until the deadline, reported if it never passes
            last_error = exc
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}"
                         + (f" (last error: {last_error!r})" if last_error else ""))


class Repo:
    """A bare repository (what MycoPod follows) and a working clone (what the owner edits)."""

    def __init__(self, root: Path) -> None:
        self.bare = root / "declarations.git"
        self.work = root / "work"
        self.git("init", "--quiet", "--bare", "--initial-branch=main", str(self.bare), cwd=root)
        self.git("clone", "--quiet", str(self.bare), str(self.work), cwd=root)
        self.git("checkout", "--quiet", "-B", "main")

    def git(self, *args: str, cwd: Path | None = None) -> str:
        proc = subprocess.run(["git", *args], cwd=cwd or self.work, capture_output=True,
                              text=True, env={**os.environ, **GIT_ENV}, check=False,
                              timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    def push(self, files: dict[str, str | None], message: str = "update") -> str:
        for name, text in files.items():
            path = self.work / name
            if text is None:
                path.unlink()
            else:
                path.write_text(text)
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        self.git("push", "--quiet", "origin", "main")
        return self.git("rev-parse", "HEAD")

    def pull_request(self, number: int, files: dict[str, str]) -> str:
        """Commit ``files`` on a branch off main and push it as pull request ``number``
        (``refs/pull/N/head``, as GitHub does); returns its head. The clone stays on it."""
        self.git("checkout", "--quiet", "-B", f"pr-{number}", "main")
        for name, text in files.items():
            (self.work / name).write_text(text)
        self.git("add", "--all")
        self.git("commit", "--quiet", "-m", f"pull request {number}")
        self.git("push", "--quiet", "origin", f"HEAD:refs/pull/{number}/head")
        return self.git("rev-parse", "HEAD")


class Daemon:
    """One `mycopod run` subprocess."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.env = env
        self.port = int(env["MYCOPOD_API__PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Daemon:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([MYCOPOD, "run"], env={**os.environ, **self.env},
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self

    def health(self) -> dict[str, Any] | None:
        try:
            resp = requests.get(f"{self.url}/health", timeout=2)
        except requests.RequestException:
            return None
        if resp.status_code != 200:
            return None
        return dict(resp.json()["data"])

    def wait_healthy(self, timeout: float = 30) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n"
                                     f"{self.tail()}")
            return self.health()

        return wait_until(check, timeout=timeout, what=f"{self.name} /health")

    def role(self) -> str | None:
        health = self.health()
        return health.get("role") if health else None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self) -> float:
        """SIGTERM; the seconds it took to exit (asserting it did)."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        return time.monotonic() - started

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Api:
    """A logged-in API client."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url
        resp = requests.post(f"{url}/auth/login", json={"username": username,
                                                         "password": password}, timeout=10)
        assert resp.status_code == 200, resp.text
        self.token = resp.json()["data"]["access_token"]

    def get(self, path: str, **params: Any) -> Any:
        resp = requests.get(f"{self.url}{path}", params=params, timeout=10,
                            headers={"Authorization": f"Bearer {self.token}"})
        assert resp.status_code == 200, f"{path}: {resp.status_code} {resp.text}"
        return resp.json()["data"]

    def post(self, path: str, body: dict[str, Any]) -> Any:
        resp = requests.post(f"{self.url}{path}", json=body, timeout=10,
                             headers={"Authorization": f"Bearer {self.token}"})
        assert resp.status_code in (200, 201, 202), f"{path}: {resp.status_code} {resp.text}"
        return resp.json()["data"]


def daemon_env(*, state_dir: Path, database_url: str, sim: Any, repo: Repo, port: int,
               notify_socket: str | None = None, **extra: str) -> dict[str, str]:
    env = {
        "MYCOPOD_STATE_DIR": str(state_dir),
        "MYCOPOD_DATABASE__URL": database_url,
        "MYCOPOD_PROXMOX__URL": sim.url,
        "MYCOPOD_PROXMOX__TOKEN_ID": sim.token_id,
        "MYCOPOD_PROXMOX__TOKEN_SECRET": sim.token_secret,
        "MYCOPOD_PROXMOX__VERIFY_TLS": "false",
        "MYCOPOD_DECLARATIONS__REPO": str(repo.bare),
        "MYCOPOD_DECLARATIONS__POLL_SECONDS": "1",
        "MYCOPOD_DECLARATIONS__WEBHOOK_SECRET": WEBHOOK_SECRET,
        "MYCOPOD_API__PORT": str(port),
        "MYCOPOD_API__JWT_SECRET": "x" * 40,
        "MYCOPOD_APPLY__DRIFT_SECONDS": "2",
        "MYCOPOD_APPLY__GRACE_SECONDS": "5",
        "MYCOPOD_LOGGING__FORMAT": "json",
        "MYCOPOD_LOGGING__LEVEL": "info",
        "PYTHONWARNINGS": "ignore",
    }
    if notify_socket:
        env["NOTIFY_SOCKET"] = notify_socket
    env.update(extra)
    return env


def guests_named(sim: Any, prefix: str) -> list[tuple[int, str, str]]:
    """(vmid, name, status) of the simulator's guests whose name starts with ``prefix``."""
    found = []
    for vmid, guest in list(sim.cluster.guests.items()):
        name = str(guest.config.get("name") or guest.config.get("hostname") or "")
        if name.startswith(prefix):
            found.append((vmid, name, str(getattr(guest, "status", ""))))
    return sorted(found, key=lambda g: g[1])


def all_running(sim: Any, prefix: str, count: int) -> bool:
    """At least ``count`` guests named ``prefix``..., all of them running."""
    found = guests_named(sim, prefix)
    return len(found) >= count and all(status == "running" for *_, status in found)


def query(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    """The rows of ``sql``, on a connection of its own (the daemons are other processes)."""
    async def fetch() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(url)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    return asyncio.run(fetch())


__all__ = ["CREATES_PER_TARGET", "Api", "Daemon", "Repo", "all_running", "daemon_env",
           "free_port", "guests_named", "query", "wait_until"]


async def add_user(url: str, username: str, role: str, password: str = PASSWORD) -> int:
    """A user in the daemon's database, as `mycopod user add` makes one; its id."""
    from mycopod.store.users import UserStore

    conn = await asyncpg.connect(url)
    try:
        return (await UserStore(conn).add(username, password, role)).id  # type: ignore[arg-type]
    finally:
        await conn.close()


def push_delivery(commit: str, *, secret: str = WEBHOOK_SECRET,
                  branch: str = "main") -> tuple[bytes, dict[str, str]]:
    """A push webhook for ``commit`` on ``branch``, signed with ``secret`` (default: the
    tests' webhook secret) as GitHub signs it (body and headers)."""
    body = json.dumps({"ref": f"refs/heads/{branch}", "after": commit}).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-GitHub-Event": "push",
                  "X-Hub-Signature-256": "sha256=" + signature}
