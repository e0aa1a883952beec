"""Benchmark of the HTTP API: GET /logs (10,000 runs) and GET /health, against a baseline.

    python bench/api.py [--duration 8] [--concurrency 32] [--runs 10000]

Starts an embedded PostgreSQL with a migrated database holding ``--runs`` runs, then,
one at a time, two servers in their own processes:

- ``mycopod``: the real application (``create_app`` + ``start_api``), with everything a
  request goes through: middleware, rate limit, JWT verification, the user's role read
  from the database, pydantic validation and serialisation, metrics;
- ``baseline``: a bare aiohttp + asyncpg handler doing the same query
  (``mycopod.store.runs.LIST``, 50 rows, plus the next cursor) and ``SELECT 1``
  for /health, serialised with ``pydantic_core.to_json`` (the fastest encoder at hand,
  so the baseline is not handicapped by ``json.dumps`` calling back for datetimes).

Each server is measured alone, ``--rounds`` times, alternating (baseline, mycopod,
baseline, mycopod); the better round of each counts. The load generator is a third
process (aiohttp client, ``--concurrency`` connections, keep-alive) that hits one URL for
``--duration`` seconds after a one-second warm-up and reports requests per second and
latency percentiles. Prints one JSON document with both
servers' figures and mycopod's share of the baseline's throughput (target: >= 0.70).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "controller"))

PASSWORD = "bench-password-123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def url_for(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


# --- the database ---------------------------------------------------------------------

SEED = """
INSERT INTO reconciliation_runs (trigger, status, cluster, commit_sha, dry_run, error,
    requested_by, started_at, finished_at, created_at, updated_at)
SELECT (ARRAY['commit', 'webhook', 'drift', 'manual'])[1 + i % 4],
       (ARRAY['Succeeded', 'Succeeded', 'Succeeded', 'Failed', 'Cancelled'])[1 + i % 5],
       'default', md5(i::text) || substr(md5((i + 1)::text), 1, 8), i % 7 = 0,
       CASE WHEN i % 5 = 3 THEN 'configure web-' || i || ': VM is locked (backup)' END,
       CASE WHEN i % 4 = 3 THEN 1 END,
       now() - make_interval(secs => (20000 - i) * 60),
       now() - make_interval(secs => (20000 - i) * 60 - 12.5),
       now() - make_interval(secs => (20000 - i) * 60),
       now() - make_interval(secs => (20000 - i) * 60 - 12.5)
FROM generate_series(1, $1) AS i"""


async def prepare(server_url: str, runs: int) -> str:
    import asyncpg

    from mycopod.store import migrate
    from mycopod.store.users import UserStore

    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute("DROP DATABASE IF EXISTS mycopod_bench")
        await conn.execute("CREATE DATABASE mycopod_bench")
    finally:
        await conn.close()
    url = url_for(server_url, "mycopod_bench")
    conn = await asyncpg.connect(url)
    try:
        await migrate.up(conn, directory=REPO / "migrations")
        await UserStore(conn).add("bench-admin", PASSWORD, "admin")
        await conn.execute(SEED, runs)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return url


# --- the two servers ------------------------------------------------------------------


async def serve_mycopod(url: str, port: int, state_dir: str) -> None:
    from mycopod import telemetry
    from mycopod.api.app import create_app, start_api
    from mycopod.api.context import ApiContext
    from mycopod.api.state import STATE
    from mycopod.config import load_settings
    from mycopod.runtime import RuntimeStatus
    from mycopod.store import db
    from mycopod.store.users import UserStore

    telemetry.configure_logging(level="warning", fmt="json", stream=sys.stderr)
    settings = load_settings(environ={}, overrides={
        "state_dir": state_dir,
        "api": {"host": "127.0.0.1", "port": port, "rate_limit_per_minute": 10_000_000}})
    pool = await db.create_pool(url, min_size=10, max_size=10)
    runtime = RuntimeStatus(leader=True)
    app = create_app(ApiContext(pool=pool, settings=settings, runtime=runtime))
    runner = await start_api(app, settings.api)
    user = await UserStore(pool).get_by_name("bench-admin")
    assert user is not None
    print(json.dumps({"ready": True, "token": app[STATE].issuer.issue(user)}), flush=True)
    await asyncio.Event().wait()
    await runner.cleanup()


async def serve_baseline(url: str, port: int) -> None:
    import asyncpg
    from aiohttp import web
    from pydantic_core import to_json

    from mycopod.store import db
    from mycopod.store.runs import LIST, encode_cursor

    pool: asyncpg.Pool = await db.create_pool(url, min_size=10, max_size=10)

    async def logs(_request: web.Request) -> web.Response:
        rows = await pool.fetch(LIST, None, None, None, None, None, 51)
        items = [dict(r) for r in rows[:50]]
        cursor = (encode_cursor(items[-1]["created_at"], items[-1]["id"])
                  if len(rows) > 50 else None)
        body = to_json({"status": "ok", "data": {"items": items, "next_cursor": cursor}})
        return web.Response(body=body, content_type="application/json")

    async def health(_request: web.Request) -> web.Response:
        up = await pool.fetchval("SELECT 1") == 1
        body = to_json({"status": "ok", "data": {"database": "up" if up else "down"}})
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/logs", logs)
    app.router.add_get("/health", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(json.dumps({"ready": True, "token": ""}), flush=True)
    await asyncio.Event().wait()


# --- the load generator ---------------------------------------------------------------


async def load(url: str, *, token: str, duration: float, concurrency: int,
               warmup: float = 1.0) -> dict[str, Any]:
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    latencies: list[float] = []
    errors = 0
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        start = time.perf_counter()
        measure_from = start + warmup
        stop = measure_from + duration

        async def worker() -> None:
            nonlocal errors
            while True:
                began = time.perf_counter()
                if began >= stop:
                    return
                try:
                    async with session.get(url) as resp:
                        await resp.read()
                        status = resp.status
                except aiohttp.ClientError:
                    errors += 1
                    continue
                ended = time.perf_counter()
                if began >= measure_from:
                    latencies.append(ended - began)
                    statuses[status] = statuses.get(status, 0) + 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return float("nan")
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2)

    return {"requests": len(latencies), "rps": round(len(latencies) / duration, 1),
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "errors": errors,
            "statuses": {str(k): v for k, v in sorted(statuses.items())}}


# --- orchestration --------------------------------------------------------------------


def start_server(kind: str, url: str, state_dir: str) -> tuple[subprocess.Popen[str], int, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(HERE), "--serve", kind, "--db", url, "--port", str(port),
         "--state-dir", state_dir],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise RuntimeError(f"the {kind} server did not start")
    return proc, port, json.loads(line)["token"]


def run_load(url: str, token: str, args: argparse.Namespace) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(HERE), "--load", url, "--token", token,
         "--duration", str(args.duration), "--concurrency", str(args.concurrency)],
        check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--serve", choices=["mycopod", "baseline"])
    parser.add_argument("--db")
    parser.add_argument("--port", type=int)
    parser.add_argument("--state-dir")
    parser.add_argument("--load")
    parser.add_argument("--token", default="")
    args = parser.parse_args()

    if args.serve == "mycopod":
        asyncio.run(serve_mycopod(args.db, args.port, args.state_dir))
        return 0
    if args.serve == "baseline":
        asyncio.run(serve_baseline(args.db, args.port))
        return 0
    if args.load:
        result = asyncio.run(load(args.load, token=args.token, duration=args.duration,
                                  concurrency=args.concurrency))
        print(json.dumps(result))
        return 0

    from mycopod import telemetry
    from mycopod.store import embedded

    telemetry.configure_logging(level="warning", fmt="json", stream=sys.stderr)
    workdir = Path(tempfile.mkdtemp(prefix="mycopod-bench-api-"))
    server_url = embedded.start(workdir)
    results: dict[str, Any] = {"mycopod": {}, "baseline": {}}
    try:
        url = asyncio.run(prepare(server_url, args.runs))
        for _round in range(args.rounds):
            for kind in ("baseline", "mycopod"):
                proc, port, token = start_server(kind, url, str(workdir / "state"))
                try:
                    for path in ("/logs", "/health"):
                        got = run_load(f"http://127.0.0.1:{port}{path}", token, args)
                        best = results[kind].get(path.strip("/"))
                        if best is None or got["rps"] > best["rps"]:
                            results[kind][path.strip("/")] = got
                finally:
                    proc.terminate()
                    proc.wait(10)
    finally:
        embedded.stop(workdir)
        shutil.rmtree(workdir, ignore_errors=True)

    report = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "setup": {"runs_in_db": args.runs, "page_size": 50, "duration_s": args.duration,
                  "concurrency": args.concurrency, "rounds": args.rounds,
                  "load_generator": "separate process, aiohttp client, keep-alive"},
        "mycopod": results["mycopod"],
        "baseline": results["baseline"],
        "ratio_rps": {
            path: round(results["mycopod"][path]["rps"] / results["baseline"][path]["rps"], 3)
            for path in ("logs", "health")
        },
        "target_ratio": 0.70,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
