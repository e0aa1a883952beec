"""Tell systemd how the daemon is doing: the sd_notify protocol, written by hand.

systemd's ``Type=notify`` waits for ``READY=1`` before it counts the service as started,
and ``WatchdogSec=`` restarts a service that stops sending ``WATCHDOG=1``. The protocol
is one datagram of ``KEY=value`` lines sent to the Unix socket named by
``$NOTIFY_SOCKET`` (a path, or ``@name`` for an abstract socket), so it needs no library
(the issue asks for no new dependency).

Notifying is best effort: outside systemd (no ``$NOTIFY_SOCKET``) every call is a no-op,
and a send that fails is logged once and never stops the daemon, since a missing status
line is not worth an outage.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

import structlog

log = structlog.get_logger(__name__)

__all__ = ["Notifier"]


class Notifier:
    """Sends sd_notify messages to ``$NOTIFY_SOCKET`` (or to an explicit socket path)."""

    def __init__(self, socket_path: str | None = None, *,
                 environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.socket_path = socket_path if socket_path is not None else env.get("NOTIFY_SOCKET")
        self._watchdog_usec = _watchdog_usec(env)
        self._warned = False
        self.ready_sent = False

    @property
    def enabled(self) -> bool:
        return bool(self.socket_path)

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between ``WATCHDOG=1`` pings: half of ``WatchdogSec``, or None if off."""
        if not self._watchdog_usec:
            return None
        return self._watchdog_usec / 2 / 1_000_000

    def send(self, **fields: str | int) -> bool:
        """Send one message, ``send(READY=1, STATUS="...")``; True if it was delivered."""
        if not self.socket_path:
            return False
        # STATUS is one line: a newline would start another (bogus) assignment.
        lines = [f"{key}={str(value).replace(chr(10), ' ')}" for key, value in fields.items()]
        payload = "\n".join(lines).encode("utf-8")
        address = self.socket_path
        if address.startswith("@"):
            address = "\0" + address[1:]
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.setblocking(False)
                sock.sendto(payload, address)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning("sdnotify.failed", socket=self.socket_path, error=str(exc))
            return False
        return True

    def ready(self, status: str) -> bool:
        self.ready_sent = True
        return self.send(READY=1, STATUS=status)

    def status(self, status: str) -> bool:
        return self.send(STATUS=status)

    def watchdog(self) -> bool:
        return self.send(WATCHDOG=1)

    def reloading(self) -> bool:
        return self.send(RELOADING=1, STATUS="reloading settings")

    def stopping(self, status: str = "stopping") -> bool:
        return self.send(STOPPING=1, STATUS=status)


def _watchdog_usec(env: Mapping[str, str]) -> int | None:
    """``$WATCHDOG_USEC``, if it is meant for this process (``$WATCHDOG_PID`` matches)."""
    raw = env.get("WATCHDOG_USEC")
    if not raw:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid and pid.strip() != str(os.getpid()):
        return None
    try:
        usec = int(raw)
    except ValueError:
        return None
    return usec if usec > 0 else None
