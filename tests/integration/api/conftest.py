"""Fixtures for the API tests: the real app on a real socket, on a fresh database.

Users are created through the store with light argon2 parameters (the production ones
cost ~50 ms per hash on purpose); tokens for most tests are issued directly by the app's
issuer, and only the login tests go through ``POST /auth/login``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher

from mycopod.api.app import create_app
from mycopod.api.context import ApiContext
from mycopod.api.state import STATE
from mycopod.config import DeclarationsSettings, Settings, load_settings
from mycopod.declarations import pipeline
from mycopod.declarations.source import GitSource
from mycopod.runtime import RuntimeStatus
from mycopod.store import users as users_module
from mycopod.store.users import User, UserStore

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    light = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(users_module, "_hasher", light)
    monkeypatch.setattr(users_module, "_DUMMY_HASH", light.hash("mycopod-no-such-user"))


def make_settings(state_dir: Path, **api: Any) -> Settings:
    options: dict[str, Any] = {"rate_limit_per_minute": 100_000}
    options.update(api)
    return load_settings(environ={}, overrides={"state_dir": str(state_dir), "api": options})


@dataclass
class Api:
    client: TestClient
    ctx: ApiContext
    pool: asyncpg.Pool
    users: dict[str, User] = field(default_factory=dict)

    async def add_user(self, username: str, role: str = "user") -> User:
        user = await UserStore(self.pool).add(username, PASSWORD, role)
        self.users[username] = user
        return user

    def token(self, user: User) -> str:
        return self.client.server.app[STATE].issuer.issue(user)

    def auth(self, user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"}

    async def call(self, method: str, path: str, user: User | None = None, *,
                   expect: int | None = None, **kwargs: Any) -> tuple[int, Any]:
        headers = dict(kwargs.pop("headers", {}))
        if user is not None:
            headers.update(self.auth(user))
        async with self.client.request(method, path, headers=headers, **kwargs) as resp:
            text = await resp.text()
            try:
                import json

                body: Any = json.loads(text)
            except ValueError:
                body = text
            if expect is not None:
                assert resp.status == expect, (resp.status, body)
            return resp.status, body


async def start_api(pool: asyncpg.Pool, settings: Settings,
                    runtime: RuntimeStatus | None = None, source: Any = None
                    ) -> tuple[TestClient, ApiContext]:
    ctx = ApiContext(pool=pool, settings=settings, runtime=runtime or RuntimeStatus(),
                     source=source)
    client = TestClient(TestServer(create_app(ctx)))
    await client.start_server()
    return client, ctx


@pytest.fixture
async def api(db: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[Api]:
    client, ctx = await start_api(db, make_settings(tmp_path))
    harness = Api(client=client, ctx=ctx, pool=db)
    await harness.add_user("admin", "admin")
    await harness.add_user("alice", "user")
    await harness.add_user("bob", "user")
    try:
        yield harness
    finally:
        await client.close()


def git(*args: str, cwd: Path) -> str:
    """Run git as the repository's owner; its output."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "Owner", "GIT_AUTHOR_EMAIL": "owner@lab",
           "GIT_COMMITTER_NAME": "Owner", "GIT_COMMITTER_EMAIL": "owner@lab"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


async def with_repository(api: Api, tmp_path: Path, web: str) -> Path:
    """Give ``api`` a declarations repository whose owner pushed ``web`` as web.md, and
    record that commit as the poller would; the bare repository (``tmp_path/work`` is
    the owner's working copy)."""
    bare, work = tmp_path / "remote.git", tmp_path / "work"
    git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    git("init", "-q", "-b", "main", str(work), cwd=tmp_path)
    (work / "web.md").write_text(web)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "web", cwd=work)
    git("push", "-q", str(bare), "HEAD:main", cwd=work)
    source = GitSource(DeclarationsSettings(repo=str(bare)), state_dir=tmp_path / "state")
    api.ctx.source = source
    await pipeline.compile_commit(source, source.fetch(), pool=api.pool)
    return bare
