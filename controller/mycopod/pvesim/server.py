"""Running the simulator: TLS, the aiohttp site, state persistence, the ready line.

``SimServer`` embeds the app in the caller's event loop (``AppRunner`` + ``TCPSite``) so
tests can run it inside their own loop; ``serve`` is the blocking ``mycopod sim``.
With a state file, the cluster is saved shortly after each change and at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import ipaddress
import signal
import ssl
import tempfile
from pathlib import Path

import structlog
from aiohttp import web

from mycopod.pvesim import persistence, resources
from mycopod.pvesim.app import make_app
from mycopod.pvesim.core import Sim, SimOptions

log = structlog.get_logger(__name__)

SAVE_INTERVAL = 0.5


@functools.lru_cache(maxsize=8)
def self_signed_context(host: str) -> ssl.SSLContext:
    """A server TLS context with a self-signed certificate for ``host``, made once per
    process (tests start many simulators)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pvesim.mycopod")])
    alt: list[x509.GeneralName] = [x509.DNSName("localhost")]
    for h in {host, "127.0.0.1"}:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            alt.append(x509.DNSName(h))
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .sign(key, hashes.SHA256())
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory(prefix="pvesim-tls-") as tmp:
        cert_path, key_path = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        ctx.load_cert_chain(cert_path, key_path)
    return ctx


class SimServer:
    """The simulator on a host and port, in the running event loop."""

    def __init__(self, options: SimOptions | None = None) -> None:
        self.options = options or SimOptions()
        self.sim: Sim | None = None
        self.port = self.options.port
        self._runner: web.AppRunner | None = None
        self._saver: asyncio.Task[None] | None = None
        self._stats: asyncio.Task[None] | None = None
        self._dirty = asyncio.Event()

    @property
    def url(self) -> str:
        scheme = "https" if self.options.tls else "http"
        return f"{scheme}://{self.options.host}:{self.port}"

    async def start(self) -> None:
        opts = self.options
        self.sim = Sim(opts)
        ctx: ssl.SSLContext | None = None
        if opts.tls:
            if opts.cert and opts.key:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(opts.cert, opts.key)
            else:
                ctx = self_signed_context(opts.host)
        self._runner = web.AppRunner(
            make_app(self.sim), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, opts.host, opts.port, ssl_context=ctx, reuse_address=True)
        await site.start()
        addrs = self._runner.addresses
        if addrs:
            self.port = int(addrs[0][1])
        if opts.stats_interval > 0:
            self._stats = asyncio.get_running_loop().create_task(
                self._stats_loop(opts.stats_interval), name="pvesim-pvestatd"
            )
        if opts.state_file is not None:
            loop = asyncio.get_running_loop()
            self.sim.cluster.listeners.append(lambda: self._mark_dirty(loop))
            self._saver = loop.create_task(self._save_loop(), name="pvesim-state-saver")
            self._save()

    def _mark_dirty(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.call_soon_threadsafe(self._dirty.set)

    def _save(self) -> None:
        if self.sim is not None and self.options.state_file is not None:
            persistence.save(self.sim.cluster, self.options.state_file)

    async def _save_loop(self) -> None:
        while True:
            await self._dirty.wait()
            await asyncio.sleep(SAVE_INTERVAL)
            self._dirty.clear()
            try:
                self._save()
            except OSError as exc:
                log.error("pvesim.save_failed", path=str(self.options.state_file), error=str(exc))

    async def _stats_loop(self, interval: float) -> None:
        """pvestatd: a stats round every ``interval`` seconds."""
        assert self.sim is not None
        while True:
            await asyncio.sleep(interval)
            with self.sim.cluster.lock:
                resources.stats_round(self.sim.cluster)

    async def stop(self) -> None:
        if self._stats is not None:
            self._stats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stats
            self._stats = None
        if self._saver is not None:
            self._saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._saver
            self._saver = None
        if self.sim is not None:
            await self.sim.tasks.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._save()
        if self.sim is not None and self.sim.request_log is not None:
            self.sim.request_log.close()


def ready_line(server: SimServer) -> str:
    o = server.options
    return (
        f"pvesim ready at {server.url} - user {o.user} password {o.password} - "
        f"API token {o.token_id}={o.token_secret}"
    )


async def serve(options: SimOptions) -> None:
    """Run until SIGINT/SIGTERM; print the ready line once listening."""
    server = SimServer(options)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(ready_line(server), flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()
