"""`mycopod run` as systemd runs it: READY=1 on the notify socket, /health, SIGHUP, SIGTERM."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.support.daemon import Daemon, free_port, wait_until


def test_run_notifies_systemd_serves_health_reloads_and_stops_cleanly(
    database_url: str, tmp_path: Path
) -> None:
    notify = tmp_path / "notify.sock"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(notify))
    receiver.settimeout(20)
    config = tmp_path / "mycopod.toml"
    config.write_text("[policy]\nprune = false\n")
    daemon = Daemon("solo", {
        "MYCOPOD_STATE_DIR": str(tmp_path / "state"),
        "MYCOPOD_DATABASE__URL": database_url,
        "MYCOPOD_API__PORT": str(free_port()),
        "MYCOPOD_API__JWT_SECRET": "y" * 40,
        "MYCOPOD_LOGGING__FORMAT": "json",
        "MYCOPOD_CONFIG": str(config),
        "NOTIFY_SOCKET": str(notify),
        "WATCHDOG_USEC": "2000000",
    }, tmp_path)
    try:
        daemon.start()
        messages: list[str] = []
        while not any("READY=1" in m for m in messages):
            messages.append(receiver.recv(4096).decode())
        assert any(m.startswith("STATUS=starting") for m in messages)
        health = daemon.wait_healthy()
        assert health["database"] == "up"
        wait_until(lambda: daemon.role() == "leader", timeout=10, what="leadership")
        # The watchdog ping comes every WatchdogSec/2 (here 1 s) from the event loop.
        while "WATCHDOG=1" not in messages:
            messages.append(receiver.recv(4096).decode())

        config.write_text("[policy]\nprune = true\n[apply]\ndrift_seconds = 7\n")
        assert daemon.proc is not None
        daemon.proc.send_signal(1)  # SIGHUP
        wait_until(lambda: "reload.done" in daemon.log_path.read_text(), timeout=10,
                   what="the reload to be logged")
        line = next(x for x in daemon.log_path.read_text().splitlines() if "reload.done" in x)
        assert "policy.prune" in line and "apply.drift_seconds" in line

        seconds = daemon.terminate()
        assert daemon.proc.returncode == 0, daemon.tail()
        assert seconds < 10
        rest = []
        receiver.settimeout(1)
        try:
            while True:
                rest.append(receiver.recv(4096).decode())
        except TimeoutError:
            pass
        assert any("STOPPING=1" in m for m in rest)
    finally:
        daemon.stop()
        receiver.close()
