"""Logging: secrets never reach a log line; context is bound per run."""

from __future__ import annotations

import io
import json
import logging

import structlog

from mycopod import telemetry
from mycopod.config import load_settings


def test_configured_secret_never_appears_in_logs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret_file = tmp_path / "tok"
    secret_file.write_text("pve-token-0123456789")
    secret_file.chmod(0o600)
    settings = load_settings(environ={
        "MYCOPOD_PROXMOX__URL": "https://pve:8006",
        "MYCOPOD_PROXMOX__TOKEN_ID": "root@pam!mycopod",
        "MYCOPOD_PROXMOX__TOKEN_SECRET_FILE": str(secret_file),
        "MYCOPOD_DATABASE__URL": "postgresql://u:db-pass-987654@db/x",
    })
    out = io.StringIO()
    telemetry.configure_logging(level="debug", fmt="json", stream=out,
                                secrets=settings.secret_values())
    log = structlog.get_logger("test")
    log.info("proxmox.request", url="https://pve:8006/api2/json?x=pve-token-0123456789")
    log.info("auth", header="PVEAPIToken=root@pam!mycopod=pve-token-0123456789")
    log.info("login", password="hunter2-hunter2", token_secret="abc-abc-abc")
    log.error("db.failed", error="could not connect to postgresql://u:db-pass-987654@db/x")
    log.info("nested", details={"api_key": "sk-123456", "list": ["pve-token-0123456789"]})
    logging.getLogger("somelib").warning("leaked %s", "pve-token-0123456789")
    text = out.getvalue()
    for secret in ("pve-token-0123456789", "hunter2-hunter2", "abc-abc-abc", "db-pass-987654",
                   "sk-123456"):
        assert secret not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["event"] == "proxmox.request" and "***" in lines[0]["url"]
    assert lines[2]["password"] == "***"
    assert len(lines) == 6


def test_context_is_bound_through_contextvars() -> None:
    out = io.StringIO()
    telemetry.configure_logging(level="info", fmt="json", stream=out)
    telemetry.bind(run_id=42, commit="abc123")
    try:
        structlog.get_logger("t").info("action.finished", guest="web-1")
    finally:
        telemetry.unbind("run_id", "commit")
    record = json.loads(out.getvalue().splitlines()[-1])
    assert record["run_id"] == 42 and record["commit"] == "abc123" and record["guest"] == "web-1"


def test_console_format_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    telemetry.configure_logging(level="info", fmt="auto", stream=out)
    structlog.get_logger("t").info("hello", x=1)
    assert "hello" in out.getvalue() and not out.getvalue().lstrip().startswith("{")
