"""The embedded PostgreSQL used when no ``database.url`` is configured.

It is the ``pgserver`` package's PostgreSQL, with its data in ``state_dir/pgdata`` and
listening only on a Unix socket inside that folder. pgserver counts the processes that
use one data folder and stops the server when the last of them exits, so several
``mycopod`` processes (a replica, the CLI next to the daemon) can share it, and it
survives restarts with its data intact.

Two things pgserver does not do are done here:

- **Restarting.** pgserver starts the server once. A postmaster that is killed (SIGKILL,
  the OOM killer) or told to shut down (SIGTERM) stays down, and a smart shutdown never
  even finishes while a connection pool keeps its sessions open. :func:`state` reads
  what the postmaster wrote in ``postmaster.pid`` and whether its process still lives;
  :func:`restart` finishes a pending shutdown (fast mode) and starts the server again.
  The daemon's database supervisor calls it with backoff.
- **Keeping state_dir private.** Run as root, pgserver runs PostgreSQL as a
  ``pgserver`` user and, so that this user can reach the data folder, opens every
  folder above it to everyone (``go+rx``: a 0700 state_dir becomes 0755), and leaves
  them so. Every pgserver call here runs inside :func:`_pgserver_access`, which puts
  back each folder's mode after the call with only the traverse bit that user needs
  (:func:`secure`). state_dir ends 0700, or 0710 with the server's group when the
  server runs as another user: PostgreSQL opens its files by their full path, so it
  must be able to traverse state_dir while it runs (at 0700 its next checkpoint
  PANICs). The data folder is 0700.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import logging
import os
import signal
import stat
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from mycopod.errors import DatabaseError

log = structlog.get_logger(__name__)

_lock = threading.Lock()
_servers: dict[Path, Any] = {}

#: what state_dir and the data folder allow: their owner only (see :func:`secure`)
PRIVATE = 0o700
#: the lock file that keeps two processes' permission windows from interleaving
ACCESS_LOCK = ".pgserver-access.lock"


def pgdata_dir(state_dir: Path) -> Path:
    return (state_dir / "pgdata").expanduser().resolve()


# -- state -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerState:
    """What ``postmaster.pid`` and the process table say about the embedded server.

    ``status`` is PostgreSQL's own word from ``postmaster.pid`` (``ready``,
    ``starting``, ``stopping``, ``standby``) while the postmaster lives, ``stopped`` when
    there is none, and ``exited`` when its process has died but is not reaped yet (a
    zombie: its PID still blocks a new postmaster).
    """

    status: str
    pid: int | None = None

    @property
    def alive(self) -> bool:
        return self.status not in ("stopped", "exited")


def _process_state(pid: int) -> str:
    """``running``, ``exited`` (a zombie) or ``gone`` (no such process, or the PID now
    belongs to something that is not PostgreSQL)."""
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return "exited"
        return "running" if "postgres" in process.name() else "gone"
    except psutil.NoSuchProcess:
        return "gone"
    except psutil.AccessDenied:
        return "running"


def state(state_dir: Path) -> ServerState:
    """The embedded server's state now (reads one small file; no connection)."""
    try:
        lines = (pgdata_dir(state_dir) / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return ServerState("stopped")
    except OSError as exc:
        raise DatabaseError(f"cannot read {pgdata_dir(state_dir)}/postmaster.pid: "
                            f"{exc}") from None
    pid_text = lines[0].strip() if lines else ""
    if not pid_text.isdigit():
        return ServerState("stopped")
    pid = int(pid_text)
    process = _process_state(pid)
    if process == "gone":
        return ServerState("stopped", pid)
    if process == "exited":
        return ServerState("exited", pid)
    status = lines[7].strip() if len(lines) > 7 and lines[7].strip() else "starting"
    return ServerState(status, pid)


# -- permissions -------------------------------------------------------------------------


def _chmod(path: Path, mode: int) -> None:
    try:
        path.chmod(mode)
    except OSError as exc:  # not ours to change (another owner): say so, go on
        log.warning("embedded.chmod_failed", path=str(path), mode=f"{mode:04o}",
                    error=str(exc))


def server_ids(pgdata: Path) -> tuple[int, int] | None:
    """(uid, gid) the PostgreSQL processes run as, when that is not this process's user.

    That is the case as root only: pgserver then runs them as its ``pgserver`` user,
    keeping root's group (it passes ``user=`` to ``subprocess`` and no group). The
    running postmaster is asked first, so a change in pgserver's habit is followed.
    """
    if not (hasattr(os, "geteuid") and os.geteuid() == 0):
        return None
    import psutil

    running = state(pgdata.parent)
    if running.alive and running.pid is not None:
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(running.pid)
            uid, gid = process.uids().effective, process.gids().effective
            return None if uid == os.geteuid() else (uid, gid)
    import pwd

    try:
        return pwd.getpwnam("pgserver").pw_uid, os.getegid()
    except KeyError:  # pgserver creates its user at its first start
        return None


def _traverse_bit(info: os.stat_result, mode: int, ids: tuple[int, int]) -> int:
    """The one permission bit that lets ``ids`` (uid, gid) through a folder owned as
    ``info`` says, with permissions ``mode``; 0 when it passes already. Only the class
    that applies counts: owner, else group, else other."""
    uid, gid = ids
    if info.st_uid == uid:
        return 0 if mode & stat.S_IXUSR else stat.S_IXUSR
    if info.st_gid == gid:
        return 0 if mode & stat.S_IXGRP else stat.S_IXGRP
    return 0 if mode & stat.S_IXOTH else stat.S_IXOTH


def secure(pgdata: Path, modes: dict[Path, int] | None = None) -> None:
    """Give state_dir, the folders above it and the data folder the least access that
    lets PostgreSQL run.

    Folders above state_dir get back their mode from ``modes`` (as noted before
    pgserver widened them), plus the one traverse bit the server's user needs, if it
    needs one. state_dir is 0700; when the server runs as another user (as root), 0710
    with the server's group, since PostgreSQL opens its files by their full path (a
    checkpoint at 0700 ends in a PANIC). The data folder is 0700.
    """
    state_dir = pgdata.parent
    ids = server_ids(pgdata)
    for folder in state_dir.parents:
        try:
            info = folder.stat()
        except OSError:
            continue
        wanted = (modes or {}).get(folder, stat.S_IMODE(info.st_mode))
        if ids is not None:
            wanted |= _traverse_bit(info, wanted, ids)
        if wanted != stat.S_IMODE(info.st_mode):
            _chmod(folder, wanted)
    private = PRIVATE
    if ids is not None:
        private |= stat.S_IXGRP
        if state_dir.stat().st_gid != ids[1]:
            try:
                os.chown(state_dir, -1, ids[1])
            except OSError as exc:
                log.warning("embedded.chgrp_failed", path=str(state_dir), error=str(exc))
    if stat.S_IMODE(state_dir.stat().st_mode) != private:
        _chmod(state_dir, private)
    with contextlib.suppress(FileNotFoundError):
        if stat.S_IMODE(pgdata.stat().st_mode) != PRIVATE:
            _chmod(pgdata, PRIVATE)


@contextlib.contextmanager
def _pgserver_access(pgdata: Path) -> Iterator[None]:
    """Run a pgserver call, then take back what it opened.

    As root pgserver makes state_dir and every folder above it readable by everyone
    (``go+rx``) when it starts a server. Their modes are noted before the call and
    :func:`secure` puts them back after it, with only what the server needs. Before the
    call the server's user is let through as well (a stop or a restart runs ``pg_ctl``
    as that user, and pgserver opens nothing then). Calls from other processes wait
    for each other (a lock file in state_dir), so none notes modes another widened.
    """
    state_dir = pgdata.parent
    state_dir.mkdir(mode=PRIVATE, parents=True, exist_ok=True)
    with open(state_dir / ACCESS_LOCK, "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        modes: dict[Path, int] = {}
        for folder in state_dir.parents:
            with contextlib.suppress(OSError):
                modes[folder] = stat.S_IMODE(folder.stat().st_mode)
        secure(pgdata, modes)
        try:
            yield
        finally:
            secure(pgdata, modes)


# -- start, restart, stop ----------------------------------------------------------------


def _failed(pgdata: Path, exc: BaseException, what: str = "start") -> DatabaseError:
    logfile = pgdata / "log"
    hint = f"; see {logfile}" if logfile.exists() else ""
    return DatabaseError(f"could not {what} the embedded PostgreSQL in {pgdata}: "
                         f"{exc}{hint}")


def start(state_dir: Path) -> str:
    """Start (or join) the embedded server for ``state_dir``; return its connection URL."""
    pgdata = pgdata_dir(state_dir)
    with _lock:
        server = _servers.get(pgdata)
        if server is None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    import pgserver

                logging.getLogger("pgserver").setLevel(logging.WARNING)
                with _pgserver_access(pgdata):
                    server = pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
            except Exception as exc:  # pgserver raises bare subprocess/assert errors
                raise _failed(pgdata, exc) from exc
            # pgserver stops the server at exit by itself, but outside our permission
            # window (as root its pg_ctl could not reach the data folder): do it here.
            atexit.unregister(server._cleanup)
            _servers[pgdata] = server
        return str(server.get_uri())


def _finish_shutdown(pid: int, *, timeout: float) -> None:
    """A postmaster that was told to stop (a smart shutdown waits for every session):
    ask for a fast shutdown, which ends the sessions, and wait until it has exited.
    If it does not within ``timeout``, an immediate shutdown (recovery at next start)."""
    for sig, wait in ((signal.SIGINT, timeout), (signal.SIGQUIT, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if _process_state(pid) != "running":
                return
            time.sleep(0.1)
    raise DatabaseError(f"the embedded PostgreSQL (PID {pid}) does not stop")


def restart(state_dir: Path, *, stop_timeout: float = 10.0) -> str:
    """Start the embedded server again if it is down or shutting down; its URL.

    A live server that is ready, starting or in recovery is left alone. Raises
    :class:`DatabaseError` when it cannot be started now (the caller retries with
    backoff): the old postmaster is not reaped yet, or PostgreSQL refused to start.
    """
    pgdata = pgdata_dir(state_dir)
    with _lock:
        server = _servers.get(pgdata)
    if server is None:
        return start(state_dir)
    with _lock:
        current = state(state_dir)
        if current.status == "stopping" and current.pid is not None:
            log.warning("embedded.finishing_shutdown", pid=current.pid)
            _finish_shutdown(current.pid, timeout=stop_timeout)
            current = state(state_dir)
        if current.status == "exited":
            raise DatabaseError(f"the embedded PostgreSQL's old postmaster (PID "
                                f"{current.pid}) has exited but is not reaped yet")
        if not current.alive:
            log.warning("embedded.restarting", pgdata=str(pgdata), old_pid=current.pid)
            try:
                # pgserver's own inter-process lock, as its start and stop take it
                with _pgserver_access(pgdata), server._lock:
                    server.ensure_postgres_running()
            except (subprocess.SubprocessError, OSError, AssertionError) as exc:
                raise _failed(pgdata, exc, "restart") from exc
            log.info("embedded.restarted", pid=state(state_dir).pid)
        return str(server.get_uri())


def stop(state_dir: Path) -> None:
    """Release this process's handle; the server stops when no other process uses it."""
    pgdata = pgdata_dir(state_dir)
    with _lock:
        server = _servers.pop(pgdata, None)
    if server is None:
        return
    if not state(pgdata.parent).alive:
        # Nothing to stop (it died on its own): pgserver would signal a dead PID. It
        # still drops this process from the handles of the data folder.
        server._postmaster_info = None
    try:
        with _pgserver_access(pgdata):
            server.cleanup()
    except Exception as exc:  # a server that died on its own: nothing left to stop
        log.warning("embedded.stop_failed", pgdata=str(pgdata),
                    error=f"{type(exc).__name__}: {exc}")


async def stop_within(state_dir: Path, *, seconds: float) -> None:
    """:func:`stop`, bounded: after ``seconds`` an immediate shutdown (SIGQUIT;
    PostgreSQL recovers at its next start) with a warning, so a stop never holds the
    daemon's exit.

    pgserver's stop is ``pg_ctl -w stop``, which waits up to a minute for the
    postmaster. It runs on a daemon thread of its own: a thread of the loop's default
    executor still waiting would hold the process at exit (``asyncio.run`` joins them).
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def finished() -> None:
        if not done.done():
            done.set_result(None)

    def run() -> None:
        try:
            stop(state_dir)
        finally:
            loop.call_soon_threadsafe(finished)

    threading.Thread(target=run, name="embedded-stop", daemon=True).start()
    try:
        await asyncio.wait_for(asyncio.shield(done), seconds)
        return
    except TimeoutError:
        pass
    current = state(state_dir)
    log.warning("embedded.stop_timeout", pgdata=str(pgdata_dir(state_dir)), seconds=seconds,
                pid=current.pid, status=current.status,
                note="immediate shutdown (SIGQUIT); PostgreSQL recovers at its next start")
    if current.alive and current.pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(current.pid, signal.SIGQUIT)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(done), 5.0)


def _stop_all() -> None:
    """At interpreter exit: release whatever :func:`stop` was not called for."""
    for pgdata in list(_servers):
        stop(pgdata.parent)


atexit.register(_stop_all)


def bin_dir() -> Path:
    """Folder of the bundled PostgreSQL client tools (pg_dump, pg_restore, psql)."""
    import pgserver._commands as commands

    return Path(commands.POSTGRES_BIN_PATH)
