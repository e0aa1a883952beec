"""``mycopod demo`` (``make demo``): the whole product on one machine, nothing to set up.

It starts, with every bit of state under ``.mycopod/demo/``:

- the embedded PostgreSQL (``pgdata/``);
- the Proxmox VE simulator, 3 nodes, over TLS with a certificate made here and trusted
  by MycoPod through ``proxmox.ca_file`` (so the demo verifies TLS like production
  does), its cluster saved in ``pve-sim.json``;
- a bare declarations repository ``origin/declarations.git`` and a working clone
  ``declarations/`` seeded with the examples of ``config/examples/``;
- an admin user whose random password is printed once, on the first run;
- the controller with its API on ``127.0.0.1:8080``, composed by the same root as
  ``mycopod run`` (:func:`mycopod.daemon.serve`; the settings are written to
  ``mycopod.toml``, so every other command works on the demo with
  ``--config .mycopod/demo/mycopod.toml``).

Ctrl-C stops everything cleanly; running it again resumes with the same state.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
import secrets
import shutil
import socket
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import structlog

from mycopod.errors import MycoPodError

log = structlog.get_logger(__name__)

SIM_PORT = 8006
#: the example declarations packaged with MycoPod (also ``config/examples`` in the checkout)
SEEDS = resources.files("mycopod") / "data" / "examples"
FALLBACK_SEED = ("web.md", "web-1 is a VM with 2 cores and 2 GB of RAM, cloned from the "
                 "template ubuntu-24.04, tagged web.\n")
GIT_ENV = {"GIT_AUTHOR_NAME": "MycoPod demo", "GIT_AUTHOR_EMAIL": "demo@mycopod.invalid",
           "GIT_COMMITTER_NAME": "MycoPod demo", "GIT_COMMITTER_EMAIL": "demo@mycopod.invalid"}


def _git(*args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, **GIT_ENV}
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=False, timeout=60)
    if proc.returncode != 0:
        raise MycoPodError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def make_repository(directory: Path) -> tuple[Path, Path]:
    """The bare repository and its working clone, seeded once with the examples."""
    if shutil.which("git") is None:
        raise MycoPodError("git is not installed; the demo keeps its declarations in git "
                           "(apt install git)")
    # Not state_dir/declarations.git: that name is MycoPod's own clone (GitSource).
    bare = directory / "origin" / "declarations.git"
    clone = directory / "declarations"
    if not bare.exists():
        bare.parent.mkdir(parents=True, exist_ok=True)
        _git("init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    if not clone.exists():
        _git("clone", "--quiet", str(bare), str(clone))
        _git("checkout", "--quiet", "-B", "main", cwd=clone)
        seeds = sorted((s for s in SEEDS.iterdir() if s.name.endswith(".md")),
                       key=lambda s: s.name) if SEEDS.is_dir() else []
        if seeds:
            for seed in seeds:
                (clone / seed.name).write_bytes(seed.read_bytes())
        else:
            (clone / FALLBACK_SEED[0]).write_text(FALLBACK_SEED[1])
        _git("add", "--all", cwd=clone)
        _git("commit", "--quiet", "-m", "Example declarations", cwd=clone)
        _git("push", "--quiet", "origin", "main", cwd=clone)
    return bare, clone


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the simulator's), made once."""
    cert = directory / "pve-sim.crt"
    key = directory / "pve-sim.key"
    if cert.exists() and key.exists():
        return cert, key
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "MycoPod demo Proxmox VE")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
        .sign(private, hashes.SHA256())
    )
    key.write_bytes(private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    key.chmod(0o600)
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _free_port(preferred: int) -> int:
    """``preferred`` unless another process listens on it (connections of our previous
    run lingering in TIME_WAIT do not count: the server binds with SO_REUSEADDR too)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def write_config(directory: Path, *, sim_url: str, ca_file: Path, bare: Path,
                 api_port: int) -> Path:
    """The demo's settings, as a file other commands can use with --config."""
    path = directory / "mycopod.toml"
    path.write_text(f"""# Written by 'mycopod demo' at every start; edits are overwritten.
state_dir = "{directory.resolve()}"

[proxmox]
url = "{sim_url}"
token_id = "root@pam!mycopod"
token_secret = "mycopod-token"
ca_file = "{ca_file.resolve()}"

[declarations]
repo = "{bare.resolve()}"
poll_seconds = 3.0

[api]
host = "127.0.0.1"
port = {api_port}

[apply]
drift_seconds = 15.0

[logging]
level = "info"
format = "console"
""")
    return path


async def ensure_admin(settings: Any) -> str | None:
    """Create the ``admin`` user on the first run; its password (None if it existed)."""
    from mycopod.store import db, migrate
    from mycopod.store.users import UserStore

    async with db.open_database(settings.database, state_dir=settings.state_dir,
                                min_size=1, max_size=2) as database:
        async with database.pool.acquire() as conn:
            await migrate.up(conn)
        users = UserStore(database.pool)
        if await users.list():
            return None
        password = secrets.token_urlsafe(12)
        await users.add("admin", password, "admin")
        return password


def _banner(*, api_port: int, clone: Path, config: Path, password: str | None,
            sim_url: str) -> str:
    here = Path.cwd()
    rel_clone = os.path.relpath(clone, here)
    rel_config = os.path.relpath(config, here)
    login = (f"  user admin, password {password}   (shown only this once; keep it)"
             if password else
             f"  user admin (password printed on the first run; reset it with\n"
             f"  'mycopod user passwd admin --config {rel_config}')")
    return f"""
MycoPod demo
  API and status page   http://127.0.0.1:{api_port}/
{login}
  Proxmox VE simulator  {sim_url}  (3 nodes, TLS)
  declarations          {rel_clone}/  (a clone; push to apply)

Next:
  1. edit a file:   $EDITOR {rel_clone}/web.md     (say, 2 cores -> 4 cores)
  2. commit, push:  git -C {rel_clone} commit -am "more cores" && git -C {rel_clone} push
  3. watch:         http://127.0.0.1:{api_port}/   (or curl http://127.0.0.1:{api_port}/health)
  The first reconcile creates the example guests within a minute.
  Other commands:   mycopod plan --config {rel_config}

Ctrl-C stops everything; 'make demo' again resumes.
"""


async def _serve(settings: Any, *, config: Path, sim_options: Any, banner: str) -> int:
    from mycopod import daemon
    from mycopod.pvesim.server import SimServer

    sim = SimServer(sim_options)
    await sim.start()
    try:
        print(banner, flush=True)
        return await daemon.serve(settings, config_path=str(config))
    finally:
        await sim.stop()


def main(*, directory: Path, port: int = 8080, task_seconds: float = 1.0,
         debug: bool = False) -> int:
    from mycopod import telemetry
    from mycopod.config import load_settings
    from mycopod.pvesim.core import SimOptions

    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    if _port_taken(port):
        raise MycoPodError(f"port {port} on 127.0.0.1 is in use (another 'make demo'?); "
                           "stop it, or run 'mycopod demo --port N'")
    bare, clone = make_repository(directory)
    cert, key = make_certificate(directory)
    sim_port = _free_port(SIM_PORT)
    sim_url = f"https://127.0.0.1:{sim_port}"
    config = write_config(directory, sim_url=sim_url, ca_file=cert, bare=bare, api_port=port)
    settings = load_settings(config)
    telemetry.configure_logging(level="debug" if debug else settings.logging.level,
                                fmt=settings.logging.format, stream=sys.stderr,
                                secrets=settings.secret_values())
    password = asyncio.run(ensure_admin(settings))
    sim_options = SimOptions(host="127.0.0.1", port=sim_port, nodes=3, tls=True, cert=cert,
                             key=key, task_seconds=task_seconds,
                             state_file=directory / "pve-sim.json")
    banner = _banner(api_port=port, clone=clone, config=config, password=password,
                     sim_url=sim_url)
    return asyncio.run(_serve(settings, config=config, sim_options=sim_options,
                              banner=banner))
