"""``mycopod run``, ``demo``, ``backup`` and ``restore``: the daemon and its upkeep.

Light on purpose (argparse only at import time): the handlers import what they need.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    run = sub.add_parser(
        "run", parents=[common], help="run the controller (API, poller, reconciler)",
        description="Run MycoPod: apply pending migrations, then serve the API and keep the "
        "cluster in the declared state until SIGTERM. Several replicas may share one "
        "database; one per cluster (the leader) reconciles. SIGHUP reloads the settings "
        "that can change safely.",
    )
    run.set_defaults(handler=_run)

    demo = sub.add_parser(
        "demo", parents=[common], help="run everything locally: database, simulator, repo",
        description="Start an embedded PostgreSQL, a simulated 3-node Proxmox VE cluster "
        "over TLS, a demo declarations repository and the controller with its API on "
        "127.0.0.1:8080, all with state in .mycopod/demo/. Ctrl-C stops it; running it "
        "again resumes.",
    )
    demo.add_argument("--dir", type=Path, default=Path(".mycopod/demo"),
                      help="state folder (default: .mycopod/demo)")
    demo.add_argument("--port", type=int, default=8080, help="API port (default: 8080)")
    demo.add_argument("--task-seconds", type=float, default=1.0,
                      help="how long simulated Proxmox tasks take (default: 1.0)")
    demo.set_defaults(handler=_demo)

    backup = sub.add_parser(
        "backup", parents=[common], help="dump the database (pg_dump, custom format)",
        description="Write a pg_dump (custom format) of the database in use, the embedded one "
        "included. Default file: STATE_DIR/backups/mycopod-<UTC time>.dump.",
    )
    backup.add_argument("--output", "-o", type=Path, metavar="FILE",
                        help="where to write the dump")
    backup.set_defaults(handler=_backup)

    restore = sub.add_parser(
        "restore", parents=[common], help="restore a backup into an empty database",
        description="Restore a dump made by 'mycopod backup' into the configured database, "
        "which must be empty (a fresh state_dir for the embedded one). Stop the daemon first.",
    )
    restore.add_argument("file", type=Path, metavar="FILE")
    restore.set_defaults(handler=_restore)


def _setup(args: argparse.Namespace, *, stream: Any = None, level: str | None = None) -> Any:
    from mycopod import telemetry
    from mycopod.config import load_settings

    settings = load_settings(args.config)
    telemetry.configure_logging(level=level or settings.logging.level,
                                fmt=settings.logging.format, stream=stream,
                                secrets=settings.secret_values())
    return settings


def _run(args: argparse.Namespace) -> int:
    import asyncio

    from mycopod import daemon

    settings = _setup(args)
    return asyncio.run(daemon.serve(settings, config_path=args.config))


def _demo(args: argparse.Namespace) -> int:
    from mycopod.demo import main

    return main(directory=args.dir, port=args.port, task_seconds=args.task_seconds,
                debug=args.debug)


def _backup(args: argparse.Namespace) -> int:
    import asyncio
    from datetime import UTC, datetime

    from mycopod import backup
    from mycopod.store import db

    settings = _setup(args, stream=sys.stderr, level="warning")
    output: Path = args.output or (
        settings.state_dir / "backups"
        / f"mycopod-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.dump")
    password = (settings.database.password.get_secret_value()
                if settings.database.password else None)

    async def main() -> Path:
        async with db.open_database(settings.database, state_dir=settings.state_dir,
                                    min_size=1, max_size=1) as database:
            return await asyncio.to_thread(backup.dump, database.url, output,
                                           password=password, prefer_bundled=database.embedded)

    written = asyncio.run(main())
    print(f"backup written to {written} ({written.stat().st_size} bytes)")
    return 0


def _restore(args: argparse.Namespace) -> int:
    import asyncio

    from mycopod import backup
    from mycopod.store import db

    settings = _setup(args, stream=sys.stderr, level="warning")
    password = (settings.database.password.get_secret_value()
                if settings.database.password else None)
    if not args.file.is_file():
        raise backup.BackupError(f"backup file {args.file} does not exist")

    async def main() -> None:
        async with db.open_database(settings.database, state_dir=settings.state_dir,
                                    min_size=1, max_size=1) as database:
            if not await backup.is_empty(database.url, password=password):
                raise backup.BackupError(
                    f"the database {database.display_url} is not empty; restore into an "
                    "empty database (a new one, or a fresh state_dir for the embedded one)")
            await asyncio.to_thread(backup.restore, database.url, args.file,
                                    password=password, prefer_bundled=database.embedded)

    asyncio.run(main())
    print(f"restored {args.file}")
    return 0
