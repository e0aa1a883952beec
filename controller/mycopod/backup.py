"""Backups: ``pg_dump`` in custom format, and ``pg_restore`` into an empty database.

The tools come from ``$PATH`` when a configured server is used (they must be at least
as new as the server), and from the PostgreSQL bundled with pgserver otherwise, so the
embedded database is backed up with the very binaries that run it. The password never
goes on a command line (where ``ps`` would show it): it is passed in ``PGPASSWORD``.

Restoring refuses a database that already has tables: mixing a backup into live data is
never what anyone wants, and an empty database is cheap to make.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

from mycopod.errors import MycoPodError
from mycopod.store import embedded

__all__ = ["BackupError", "dump", "is_empty", "restore", "tool"]

COUNT_TABLES = """
SELECT count(*) FROM pg_catalog.pg_tables
WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
"""


class BackupError(MycoPodError):
    """pg_dump or pg_restore failed, or the target is not suitable."""


def _major(program: str) -> int:
    """The major version of a PostgreSQL client program (0 if it cannot tell)."""
    try:
        out = subprocess.run([program, "--version"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
    except OSError:
        return 0
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else 0


def tool(name: str, *, prefer_bundled: bool) -> str:
    """Path of ``pg_dump``/``pg_restore``: the newest of the bundled one and $PATH's.

    pg_dump refuses a server newer than itself, and a newer one reads older servers
    fine, so the newest wins; on a tie, the bundled one for the embedded database.
    """
    bundled = str(embedded.bin_dir() / name)
    on_path = shutil.which(name)
    order = [bundled, on_path] if prefer_bundled else [on_path, bundled]
    found = [c for c in order if c and Path(c).is_file() and os.access(c, os.X_OK)]
    if not found:
        raise BackupError(f"{name} not found (install postgresql-client, or use the "
                          "embedded database whose tools are bundled)")
    return max(found, key=lambda c: (_major(c), -found.index(c)))


def _split_password(url: str, password: str | None) -> tuple[str, dict[str, str]]:
    """The URL without its password, and the environment that carries it instead."""
    parts = urlsplit(url)
    env = dict(os.environ)
    secret = password or (unquote(parts.password) if parts.password else None)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", "@", 1)
        url = urlunsplit(parts._replace(netloc=netloc))
    if secret:
        env["PGPASSWORD"] = secret
    return url, env


def _run(argv: list[str], *, env: dict[str, str], what: str) -> None:
    try:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False,
                              timeout=3600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackupError(f"{what} could not run: {exc}") from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        last = detail[-1] if detail else f"exit status {proc.returncode}"
        raise BackupError(f"{what} failed: {last}")


def dump(url: str, output: Path, *, password: str | None = None,
         prefer_bundled: bool = False) -> Path:
    """Write a custom-format dump of the database at ``url`` to ``output``."""
    output.parent.mkdir(parents=True, exist_ok=True)
    clean_url, env = _split_password(url, password)
    tmp = output.with_name(output.name + ".partial")
    _run([tool("pg_dump", prefer_bundled=prefer_bundled), "--format=custom", "--no-owner",
          f"--file={tmp}", f"--dbname={clean_url}"], env=env, what="pg_dump")
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, output)
    os.chmod(output, 0o600)
    return output


async def is_empty(url: str, *, password: str | None = None) -> bool:
    conn = await asyncpg.connect(url, password=password)
    try:
        return int(await conn.fetchval(COUNT_TABLES)) == 0
    finally:
        await conn.close()


def restore(url: str, source: Path, *, password: str | None = None,
            prefer_bundled: bool = False) -> None:
    """Restore the dump ``source`` into the (empty) database at ``url``."""
    if not source.is_file():
        raise BackupError(f"backup file {source} does not exist")
    clean_url, env = _split_password(url, password)
    _run([tool("pg_restore", prefer_bundled=prefer_bundled), "--no-owner", "--exit-on-error",
          "--single-transaction", f"--dbname={clean_url}", str(source)],
         env=env, what="pg_restore")
