"""Every page of the web UI answers in under 200 ms with 1,000 guests and 10,000 runs.

Starts an embedded PostgreSQL with a migrated database seeded by
``tests/support/ui_seed.py`` (a fleet of ``--guests`` guests declared in English and
compiled by the real grammar, a guest report naming every one, ``--runs`` finished runs,
one action per guest and a run waiting for approval), serves the real app, signs in
through the login form as a browser does and asks for each page ``--repeat`` times, one
request at a time. Prints JSON: per page p50/p95/max in milliseconds and the page's size;
``ok`` is true when every page's p95 is under ``--budget-ms`` and every answer was 200.

    python bench/ui.py [--guests 1000] [--runs 10000] [--repeat 20] [--budget-ms 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "controller"))
sys.path.insert(0, str(REPO))  # tests.support.ui_seed: the same data the UI tests use

PASSWORD = "bench-password-123"
#: one attempt per guest in this many of the old runs (the guest pages' history)
ACTION_RUNS = 10
ACTIONS = """
INSERT INTO reconciliation_actions (run_id, seq, kind, target, vmid, node, params,
    destructive, action_description, result, started_at, finished_at, message)
SELECT r.id, g, 'configure', 'web-' || g, 100 + g, 'pve1', '{}'::jsonb, false,
       'configure web-' || g, 'Success', r.started_at, r.finished_at, 'OK'
FROM (SELECT id, started_at, finished_at FROM reconciliation_runs
      WHERE status = 'Succeeded' ORDER BY id LIMIT $2) r,
     generate_series(1, $1) AS g"""


async def prepare(server_url: str, guests: int, runs: int) -> tuple[str, Any]:
    import asyncpg
    from tests.support import ui_seed

    from mycopod.store import db, migrate
    from mycopod.store.users import UserStore

    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute("DROP DATABASE IF EXISTS mycopod_bench_ui")
        await conn.execute("CREATE DATABASE mycopod_bench_ui")
    finally:
        await conn.close()
    url = urlunsplit(urlsplit(server_url)._replace(path="/mycopod_bench_ui"))
    conn = await asyncpg.connect(url)
    try:
        await migrate.up(conn, directory=REPO / "migrations")
    finally:
        await conn.close()
    pool = await db.create_pool(url, connect_timeout=10, min_size=2, max_size=10)
    await UserStore(pool).add("bench-admin", PASSWORD, "admin")
    seeded = await ui_seed.seed(pool, guests=guests, runs=runs)
    await pool.execute(ACTIONS, guests, ACTION_RUNS)
    await pool.execute("ANALYZE")
    return url, (pool, seeded)


async def measure(args: argparse.Namespace, server_url: str, state_dir: Path) -> dict[str, Any]:
    import aiohttp

    from mycopod.api.app import bound_port, create_app, start_api
    from mycopod.api.context import ApiContext
    from mycopod.config import load_settings

    _url, (pool, seeded) = await prepare(server_url, args.guests, args.runs)
    settings = load_settings(environ={}, overrides={
        "state_dir": str(state_dir),
        "api": {"host": "127.0.0.1", "port": 0, "rate_limit_per_minute": 1_000_000}})
    runner = await start_api(create_app(ApiContext(pool=pool, settings=settings)),
                             settings.api)
    base = f"http://127.0.0.1:{bound_port(runner)}"
    middle = args.guests // 2
    pages = ["/", "/ui/runs", "/ui/runs?status=Failed&trigger=commit",
             f"/ui/runs/{seeded.done_run}", f"/ui/runs/{seeded.approval_run}",
             "/ui/approvals", "/ui/guests", f"/ui/guests?q=web-{middle}",
             "/ui/guests?status=drifted", f"/ui/guests/web-{middle}",
             "/ui/declarations",
             f"/ui/declarations/{seeded.declaration_id}/file?path=fleet.md",
             f"/ui/declarations/{seeded.bad_declaration_id}/file?path=bad.md",
             "/ui/commits", "/ui/users", "/ui/settings"]
    figures: dict[str, Any] = {}
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            async with session.post(f"{base}/ui/login", allow_redirects=False,
                                    data={"username": "bench-admin", "password": PASSWORD},
                                    headers={"Origin": base}) as resp:
                assert resp.status == 303, await resp.text()
            for path in pages:
                times: list[float] = []
                statuses: set[int] = set()
                size = 0
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    async with session.get(base + path, allow_redirects=False) as resp:
                        body = await resp.read()
                    times.append((time.perf_counter() - started) * 1000)
                    statuses.add(resp.status)
                    size = len(body)
                times.sort()
                figures[path] = {
                    "p50_ms": round(statistics.median(times), 1),
                    "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
                    "max_ms": round(times[-1], 1), "kib": round(size / 1024, 1),
                    "status": sorted(statuses)}
    finally:
        await runner.cleanup()
        await pool.close()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guests", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--budget-ms", type=float, default=200.0)
    args = parser.parse_args()

    from mycopod import telemetry
    from mycopod.store import embedded

    telemetry.configure_logging(level="warning", fmt="json", stream=sys.stderr)
    workdir = Path(tempfile.mkdtemp(prefix="mycopod-bench-ui-"))
    try:
        server_url = embedded.start(workdir)
        figures = asyncio.run(measure(args, server_url, workdir / "state"))
    finally:
        embedded.stop(workdir)
        shutil.rmtree(workdir, ignore_errors=True)
    slowest = max(figures.items(), key=lambda item: item[1]["p95_ms"])
    ok = all(f["p95_ms"] < args.budget_ms and f["status"] == [200] for f in figures.values())
    print(json.dumps({
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "data": {"guests": args.guests, "runs": args.runs + 2,
                 "actions_per_guest": ACTION_RUNS},
        "budget_ms": args.budget_ms, "repeat": args.repeat, "pages": figures,
        "slowest": {"page": slowest[0], "p95_ms": slowest[1]["p95_ms"]}, "ok": ok,
    }, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
