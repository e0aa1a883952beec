"""The database check against a server that accepts the connection, then stalls (a
PostgreSQL under load), through a TCP relay on 127.0.0.1: the check says no, names
the timeout, and leaves no task or future behind with an exception that
asyncio would log (the replicas' logs once showed asyncpg's "Future exception was never
retrieved" right after a check timed out; this relay did not bring it back)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from mycopod.store.db import ConnectivityCheck


@contextlib.asynccontextmanager
async def stalling_relay(database_url: str, stall: str) -> AsyncIterator[str]:
    """A relay to the database that stalls: with ``query`` it forwards the start-up and
    authentication, then holds every client message from the first Parse ('P') on (the
    query never arrives); with ``startup`` it holds the server's answers after its
    first (the connection is never ready)."""
    parts = urlsplit(database_url)
    query = dict(parse_qsl(parts.query))
    socket_dir = query.pop("host", None)  # the embedded server listens on a Unix socket
    port = parts.port or 5432

    async def upstream() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if socket_dir:
            return await asyncio.open_unix_connection(f"{socket_dir}/.s.PGSQL.{port}")
        return await asyncio.open_connection(parts.hostname or "127.0.0.1", port)

    writers: list[asyncio.StreamWriter] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   *, client: bool) -> None:
        stalled, chunks = False, 0
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                chunks += 1
                stalled = stalled or (stall == "query" and client and data[:1] == b"P") or (
                    stall == "startup" and not client and chunks > 1)
                if not stalled:
                    writer.write(data)
                    await writer.drain()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await upstream()
        writers.extend((writer, up_writer))
        await asyncio.gather(pipe(reader, up_writer, client=True),
                             pipe(up_reader, writer, client=False))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    relay_port = server.sockets[0].getsockname()[1]
    user = parts.netloc.rsplit("@", 1)[0] if "@" in parts.netloc else ""
    address = f"127.0.0.1:{relay_port}"
    try:
        yield urlunsplit(parts._replace(netloc=f"{user}@{address}" if user else address,
                                        query=urlencode(query)))
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()


@pytest.mark.parametrize("stall", ["startup", "query"])
async def test_a_check_of_a_stalled_server_is_no_and_leaves_nothing_unretrieved(
        database_url: str, stall: str) -> None:
    loop = asyncio.get_running_loop()
    unhandled: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    try:
        assert await ConnectivityCheck(database_url, timeout=2.0).check() is True
        async with stalling_relay(database_url, stall) as stalled_url:
            check = ConnectivityCheck(stalled_url, timeout=0.5)
            assert await check.check() is False
            assert check.error is not None and "Timeout" in check.error
        await asyncio.sleep(0.1)
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert [c.get("message") for c in unhandled] == []
