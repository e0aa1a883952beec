"""Connecting to PostgreSQL: the configured server, or the embedded one.

``open_database`` is the one way the rest of MycoPod gets a pool. It starts the
embedded server when no URL is configured, waits with exponential backoff for a server
that is not up yet (a database restarting at boot is normal, not fatal), and installs
a JSON codec so ``jsonb`` columns take and return plain Python values.

:class:`ConnectivityCheck` answers "can a client connect and query now?" with a new
connection, not a pooled one: a pooled session can keep answering while the server
refuses every new connection (a smart shutdown waits for the sessions to end). The
daemon's database supervisor asks it every ``database.check_seconds``; ``/health`` asks
it too, and one attempt serves every caller of the same moment.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import structlog

from mycopod.backoff import Backoff
from mycopod.config import DatabaseSettings
from mycopod.errors import DatabaseError
from mycopod.store import embedded

log = structlog.get_logger(__name__)

#: errors that mean "the server is not (yet) reachable", worth retrying at start-up
CONNECT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.TooManyConnectionsError,
)


@dataclass
class Database:
    url: str
    pool: asyncpg.Pool
    embedded: bool
    #: the state folder of the embedded server (None for a configured one)
    state_dir: Path | None = None

    @property
    def display_url(self) -> str:
        return redact_url(self.url)


def redact_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (safe to print and log)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


async def init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(
            kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


def resolve_url(settings: DatabaseSettings, *, state_dir: Path) -> tuple[str, bool]:
    """The URL to use and whether it is the embedded server (started here if needed)."""
    if settings.url:
        return settings.url, False
    return embedded.start(state_dir), True


async def create_pool(
    url: str,
    *,
    connect_timeout: float = 30.0,
    password: str | None = None,
    min_size: int = 1,
    max_size: int = 10,
) -> asyncpg.Pool:
    """A pool on ``url``, retrying with backoff until ``connect_timeout`` seconds passed."""
    deadline = time.monotonic() + connect_timeout
    backoff = Backoff(base=0.2, cap=5.0, jitter=False)
    while True:
        attempt = backoff.failures + 1
        try:
            return await asyncpg.create_pool(
                url,
                password=password,
                min_size=min_size,
                max_size=max_size,
                init=init_connection,
                timeout=max(1.0, min(10.0, deadline - time.monotonic())),
                command_timeout=60,
            )
        except asyncpg.InvalidPasswordError:
            raise DatabaseError(
                f"PostgreSQL at {redact_url(url)} refused the password "
                "(check database.url / database.password)"
            ) from None
        except asyncpg.InvalidCatalogNameError as exc:
            raise DatabaseError(f"PostgreSQL at {redact_url(url)}: {exc}") from None
        except CONNECT_ERRORS as exc:
            remaining = deadline - time.monotonic()
            reason = str(exc) or type(exc).__name__
            if remaining <= 0:
                raise DatabaseError(
                    f"cannot connect to PostgreSQL at {redact_url(url)}: {reason} "
                    f"(gave up after {connect_timeout:g}s and {attempt} attempts; "
                    "check that the server runs and database.url is right)"
                ) from None
            delay = backoff.failure()
            log.warning(
                "database.unreachable", url=redact_url(url), error=reason,
                attempt=attempt, retry_in=round(min(delay, remaining), 2),
            )
            await asyncio.sleep(min(delay, remaining))


@asynccontextmanager
async def open_database(
    settings: DatabaseSettings, *, state_dir: Path, **pool_options: Any
) -> AsyncIterator[Database]:
    """Open the configured (or embedded) database; close the pool and release it at exit."""
    url, is_embedded = await asyncio.to_thread(resolve_url, settings, state_dir=state_dir)
    password = settings.password.get_secret_value() if settings.password else None
    options: dict[str, Any] = {
        "min_size": settings.pool_min_size,
        "max_size": settings.pool_max_size,
    }
    options.update(pool_options)
    try:
        pool = await create_pool(
            url, connect_timeout=settings.connect_timeout, password=password, **options
        )
        try:
            yield Database(url=url, pool=pool, embedded=is_embedded,
                           state_dir=state_dir if is_embedded else None)
        finally:
            started = time.monotonic()
            await close_pool(pool, seconds=CLOSE_SECONDS)
            log.debug("shutdown.step", step="database pool",
                      seconds=round(time.monotonic() - started, 3))
    finally:
        if is_embedded:
            started = time.monotonic()
            await embedded.stop_within(state_dir, seconds=CLOSE_SECONDS)
            log.debug("shutdown.step", step="embedded PostgreSQL",
                      seconds=round(time.monotonic() - started, 3))


#: how long each step of closing the database may take at shutdown (well inside
#: systemd's TimeoutStopSec), before it is cut short with a warning
CLOSE_SECONDS = 10.0


async def close_pool(pool: asyncpg.Pool, *, seconds: float) -> None:
    """Close the pool gracefully (every connection released, then closed), or, if that
    takes over ``seconds`` (a connection still borrowed, a server that does not
    answer), terminate its connections."""
    try:
        await asyncio.wait_for(pool.close(), seconds)
    except TimeoutError:
        log.warning("database.pool_close_timeout", seconds=seconds,
                    note="connections still busy; terminated")
        pool.terminate()


async def restart_embedded(database: Database) -> None:
    """Start the embedded server again if its postmaster is gone or shutting down (a
    live one is left alone); raises :class:`DatabaseError` when it cannot be now."""
    if database.state_dir is None:
        raise DatabaseError("only the embedded PostgreSQL can be restarted by MycoPod")
    await asyncio.to_thread(embedded.restart, database.state_dir)


class ConnectivityCheck:
    """Whether a new client can connect to the database and run ``SELECT 1`` now.

    ``check(max_age=...)`` reuses a result younger than ``max_age`` seconds, else opens
    a connection (at most ``timeout`` seconds for all of it) and closes it. Callers of
    the same moment wait for one attempt rather than each opening a connection, so a
    flood of ``/health`` requests cannot open connections in bulk.
    """

    def __init__(self, url: str, *, password: str | None = None, timeout: float = 2.0,
                 max_age: float = 1.0) -> None:
        self.url = url
        self.password = password
        self.timeout = timeout
        self.max_age = max_age
        #: the last answer (None: not asked yet), why it was no, and when (monotonic)
        self.ok: bool | None = None
        self.error: str | None = None
        self.checked_at: float | None = None
        self._lock = asyncio.Lock()

    async def check(self, *, max_age: float | None = None) -> bool:
        limit = self.max_age if max_age is None else max_age
        async with self._lock:
            if (self.checked_at is not None
                    and time.monotonic() - self.checked_at <= limit):
                return bool(self.ok)
            self.ok, self.error = await self._attempt()
            self.checked_at = time.monotonic()
            return self.ok

    async def _attempt(self) -> tuple[bool, str | None]:
        conn: asyncpg.Connection | None = None
        try:
            async with asyncio.timeout(self.timeout):
                conn = await asyncpg.connect(
                    self.url, password=self.password, timeout=self.timeout,
                    server_settings={"application_name": "mycopod-check"})
                value = await conn.fetchval("SELECT 1")
                await conn.close()
            return value == 1, None
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception as exc:  # every failure to answer is "no", with its reason
            return False, (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        finally:
            if conn is not None and not conn.is_closed():
                conn.terminate()
