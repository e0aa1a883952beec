"""The sd_notify messages reach a socket like systemd's, and nothing breaks without one."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

from mycopod.sdnotify import Notifier


def _receiver(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path if not path.startswith("@") else "\0" + path[1:])
    sock.settimeout(2)
    return sock


def test_messages_arrive_on_the_notify_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "notify.sock")
    with _receiver(path) as sock:
        notifier = Notifier(environ={"NOTIFY_SOCKET": path})
        assert notifier.enabled
        assert notifier.ready("leader; 3 guests\nmanaged")
        assert sock.recv(4096) == b"READY=1\nSTATUS=leader; 3 guests managed"
        assert notifier.watchdog()
        assert sock.recv(4096) == b"WATCHDOG=1"
        assert notifier.stopping()
        assert sock.recv(4096) == b"STOPPING=1\nSTATUS=stopping"


def test_abstract_socket_names_are_understood() -> None:
    name = f"@mycopod-test-{uuid.uuid4().hex}"
    with _receiver(name) as sock:
        assert Notifier(environ={"NOTIFY_SOCKET": name}).status("observing")
        assert sock.recv(4096) == b"STATUS=observing"


def test_without_systemd_every_call_is_a_quiet_no_op(tmp_path: Path) -> None:
    notifier = Notifier(environ={})
    assert not notifier.enabled
    assert notifier.ready("x") is False
    assert notifier.watchdog_interval is None
    gone = Notifier(environ={"NOTIFY_SOCKET": str(tmp_path / "missing.sock")})
    assert gone.watchdog() is False  # logged once, never raised


def test_watchdog_interval_is_half_of_watchdog_sec() -> None:
    env = {"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": str(os.getpid())}
    assert Notifier(environ=env).watchdog_interval == 10.0
    other = {"WATCHDOG_USEC": "20000000", "WATCHDOG_PID": "1"}
    assert Notifier(environ=other).watchdog_interval is None
