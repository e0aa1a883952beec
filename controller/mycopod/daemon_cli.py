"""``mycopod run`` and ``mycopod demo``: the long-running commands."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    run = sub.add_parser(
        "run", parents=[common], help="run the controller (API, poller, reconciler)",
        description="Run MycoPod: apply pending migrations, then serve the API and keep the "
        "cluster in the declared state until SIGTERM.",
    )
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from aiohttp import web

    from mycopod import telemetry
    from mycopod.config import load_settings
    from mycopod.store import db, migrate

    settings = load_settings(args.config)
    telemetry.configure_logging(level=settings.logging.level, fmt=settings.logging.format,
                                secrets=settings.secret_values())
    import structlog

    log = structlog.get_logger("mycopod.run")

    async def main() -> int:
        async with db.open_database(settings.database, state_dir=settings.state_dir) as database:
            async with database.pool.acquire() as conn:
                await migrate.up(conn)

            async def health(_request: web.Request) -> web.Response:
                try:
                    await database.pool.fetchval("SELECT 1")
                    return web.json_response({"status": "ok", "data": {"database": "up"}})
                except Exception:
                    return web.json_response({"status": "ok", "data": {"database": "down"}},
                                             status=503)

            app = web.Application()
            app.router.add_get("/health", health)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, settings.api.host, settings.api.port)
            await site.start()
            log.info("api.listening", host=settings.api.host, port=settings.api.port)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
            await runner.cleanup()
        return 0

    return asyncio.run(main())
