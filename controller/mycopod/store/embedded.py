"""The embedded PostgreSQL used when no ``database.url`` is configured.

It is the ``pgserver`` package's PostgreSQL, with its data in ``state_dir/pgdata`` and
listening only on a Unix socket inside that folder. pgserver counts the processes that
use one data folder and stops the server when the last of them exits, so several
``mycopod`` processes (a replica, the CLI next to the daemon) can share it, and it
survives restarts with its data intact.
"""

from __future__ import annotations

import logging
import threading
import warnings
from pathlib import Path
from typing import Any

from mycopod.errors import DatabaseError

_lock = threading.Lock()
_servers: dict[Path, Any] = {}


def pgdata_dir(state_dir: Path) -> Path:
    return (state_dir / "pgdata").expanduser().resolve()


def start(state_dir: Path) -> str:
    """Start (or join) the embedded server for ``state_dir``; return its connection URL."""
    pgdata = pgdata_dir(state_dir)
    with _lock:
        server = _servers.get(pgdata)
        if server is None:
            try:
                pgdata.parent.mkdir(parents=True, exist_ok=True)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    import pgserver

                logging.getLogger("pgserver").setLevel(logging.WARNING)
                server = pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
            except Exception as exc:  # pgserver raises bare subprocess/assert errors
                log = pgdata / "log"
                hint = f"; see {log}" if log.exists() else ""
                raise DatabaseError(
                    f"could not start the embedded PostgreSQL in {pgdata}: {exc}{hint}"
                ) from exc
            _servers[pgdata] = server
        return str(server.get_uri())


def stop(state_dir: Path) -> None:
    """Release this process's handle; the server stops when no other process uses it."""
    pgdata = pgdata_dir(state_dir)
    with _lock:
        server = _servers.pop(pgdata, None)
    if server is not None:
        server.cleanup()


def bin_dir() -> Path:
    """Folder of the bundled PostgreSQL client tools (pg_dump, pg_restore, psql)."""
    import pgserver._commands as commands

    return Path(commands.POSTGRES_BIN_PATH)
