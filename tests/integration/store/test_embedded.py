"""The embedded PostgreSQL: its folders stay private, and it can be started again.

Run as root, pgserver runs PostgreSQL as its own ``pgserver`` user and opens state_dir
and every folder above it to everyone (0700 became 0755). MycoPod puts them back with
only the traverse bit that user needs; the server must keep working (it opens its files
by their full path: at 0700 its next checkpoint PANICs).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from mycopod.store import embedded

pytestmark = pytest.mark.timeout(90)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def base() -> Iterator[Path]:
    # Under /tmp, not tmp_path: pytest sessions that start meanwhile chmod
    # /tmp/pytest-of-root back to 0700, which no PostgreSQL user could traverse.
    path = Path(tempfile.mkdtemp(prefix="mycopod-embedded-"))
    try:
        yield path
    finally:
        current = embedded.state(path / "outer" / "state")
        embedded.stop(path / "outer" / "state")
        if current.alive and current.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(current.pid, signal.SIGQUIT)
        shutil.rmtree(path, ignore_errors=True)


async def query(url: str, sql: str) -> object:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        if ";" in sql:
            return await conn.execute(sql)
        return await conn.fetchval(sql)
    finally:
        await conn.close()


def test_state_dir_stays_private_when_the_server_starts(base: Path) -> None:
    outer = base / "outer"
    outer.mkdir(mode=0o700)
    state = outer / "state"
    state.mkdir(mode=0o700)
    url = embedded.start(state)
    pgdata = embedded.pgdata_dir(state)
    # Nobody but the owner may list or read them (pgserver left 0755 everywhere).
    for folder in (state, outer, base):
        assert mode(folder) & 0o067 == 0, f"{folder} is {mode(folder):04o}"
    assert mode(pgdata) == 0o700
    server = embedded.server_ids(pgdata)
    if os.geteuid() == 0:
        assert server is not None, "as root pgserver runs PostgreSQL as another user"
        # that user's group may traverse them, nothing more: it opens its files by path
        assert mode(state) == 0o710 and state.stat().st_gid == server[1]
        assert mode(outer) == 0o710 and mode(base) == 0o710
    else:
        assert server is None
        assert mode(state) == mode(outer) == 0o700
    # It keeps running: a checkpoint writes pg_control by its full path.
    asyncio.run(query(url, "CREATE TABLE kept (x int); CHECKPOINT"))
    assert asyncio.run(query(url, "SELECT count(*) FROM kept")) == 0
    assert embedded.state(state).status == "ready"

    embedded.stop(state)
    assert not (pgdata / "postmaster.pid").exists(), "stopped cleanly, through pg_ctl"
    assert mode(state) & 0o067 == 0 and mode(pgdata) == 0o700


def test_restart_after_sigkill_and_after_sigterm(base: Path) -> None:
    state = base / "outer" / "state"
    url = embedded.start(state)
    asyncio.run(query(url, "CREATE TABLE kept (x int)"))
    assert embedded.restart(state) == url  # a live server is left alone
    first = embedded.state(state).pid
    assert first is not None

    os.kill(first, signal.SIGKILL)
    while embedded.state(state).status == "ready":
        time.sleep(0.05)
    deadline = time.monotonic() + 20
    while True:  # until the dead postmaster is reaped, it raises (retried with backoff)
        try:
            embedded.restart(state)
            break
        except Exception:
            assert time.monotonic() < deadline, "not restarted after SIGKILL"
            time.sleep(0.3)
    second = embedded.state(state)
    assert second.status == "ready" and second.pid != first
    assert asyncio.run(query(url, "SELECT count(*) FROM kept")) == 0

    async def smart_shutdown() -> None:
        held = await asyncpg.connect(url)  # a session a smart shutdown waits for
        assert second.pid is not None
        os.kill(second.pid, signal.SIGTERM)
        await asyncio.sleep(0.3)
        assert embedded.state(state).status == "stopping"
        with pytest.raises(asyncpg.CannotConnectNowError):
            await asyncpg.connect(url)
        assert await held.fetchval("SELECT 1") == 1  # what fooled /health
        await asyncio.to_thread(embedded.restart, state)  # a fast shutdown, then a start
        held.terminate()

    asyncio.run(smart_shutdown())
    third = embedded.state(state)
    assert third.status == "ready" and third.pid not in (first, second.pid)
    assert asyncio.run(query(url, "SELECT count(*) FROM kept")) == 0
    assert mode(state) & 0o067 == 0
