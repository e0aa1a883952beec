"""Browser tests: Debian's chromium driven by Playwright against the real app.

No browser is downloaded (``playwright install`` is never run): Playwright launches the
system's ``/usr/bin/chromium`` (``$MYCOPOD_CHROMIUM`` overrides it). The app runs on a
real socket in a thread with its own event loop and pool over the test's fresh database,
seeded by :mod:`tests.support.ui_seed`; the test drives the browser synchronously.
Without chromium or the playwright package the tests are skipped with the reason, and
``.ci/run`` installs both.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from mycopod.api.app import bound_port, create_app, start_api
from mycopod.api.context import ApiContext
from mycopod.store import db as dbmod
from tests.integration.api.conftest import PASSWORD, fast_argon2, make_settings  # noqa: F401
from tests.support import ui_seed

CHROMIUM = os.environ.get("MYCOPOD_CHROMIUM", "/usr/bin/chromium")


@dataclass
class Live:
    url: str
    seeded: ui_seed.Seeded
    users: dict[str, int]
    pool: asyncpg.Pool
    loop: asyncio.AbstractEventLoop

    def fetch(self, query: str, *args: Any) -> Any:
        """One value from the database, read on the server's loop (Playwright's sync API
        holds this thread's)."""
        return asyncio.run_coroutine_threadsafe(self.pool.fetchval(query, *args),
                                                self.loop).result(10)


@pytest.fixture
def live(database_url: str, tmp_path: Path, fast_argon2: None) -> Iterator[Live]:  # noqa: F811
    from mycopod.store.users import UserStore

    ready = threading.Event()
    stop: dict[str, Any] = {}
    box: dict[str, Any] = {}

    async def serve() -> None:
        pool = await dbmod.create_pool(database_url, connect_timeout=10, min_size=1,
                                       max_size=4)
        try:
            users = {}
            for name, role in (("admin", "admin"), ("alice", "user")):
                users[name] = (await UserStore(pool).add(name, PASSWORD, role)).id
            seeded = await ui_seed.seed(pool, guests=5, runs=60)
            settings = make_settings(tmp_path, host="127.0.0.1", port=0)
            runner = await start_api(create_app(ApiContext(pool=pool, settings=settings)),
                                     settings.api)
            box.update(port=bound_port(runner), seeded=seeded, users=users, pool=pool)
            stop["event"] = asyncio.Event()
            stop["loop"] = asyncio.get_running_loop()
            ready.set()
            await stop["event"].wait()
            await runner.cleanup()
        except BaseException as exc:
            box["error"] = exc
            ready.set()
            raise
        finally:
            await pool.close()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="ui-live-server",
                              daemon=True)
    thread.start()
    assert ready.wait(60), "the app did not start"
    if "error" in box:
        raise box["error"]
    try:
        yield Live(url=f"http://127.0.0.1:{box['port']}", seeded=box["seeded"],
                   users=box["users"], pool=box["pool"], loop=stop["loop"])
    finally:
        stop["loop"].call_soon_threadsafe(stop["event"].set)
        thread.join(30)


@pytest.fixture
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip(f"no chromium at {CHROMIUM}: apt-get install chromium")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()
