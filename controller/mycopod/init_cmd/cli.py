"""``mycopod init`` (light module: argparse only)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "init", parents=[common], help="first set-up: settings, credentials, systemd unit",
        description="Ask for the Proxmox URL and token, the declarations repository and the "
        "database (embedded by default), check each answer live, then write "
        "CONFIG_DIR/mycopod.toml, one credential file per secret in CONFIG_DIR/credentials "
        "(mode 0600) and the systemd unit with its LoadCredential= lines. With "
        "--non-interactive every answer comes from the flags (for automation).")
    p.add_argument("--non-interactive", action="store_true", help="take answers from flags")
    p.add_argument("--proxmox-url", help="https://HOST:8006")
    p.add_argument("--token-id", help="USER@REALM!NAME")
    p.add_argument("--token-secret-file", type=Path, help="file holding the token secret")
    p.add_argument("--token-secret", help="the token secret (visible in ps: prefer the file)")
    p.add_argument("--no-verify-tls", dest="verify_tls", action="store_false",
                   help="do not verify Proxmox's TLS certificate")
    p.add_argument("--ca-file", type=Path, help="CA of the Proxmox certificate")
    p.add_argument("--repo", help="declarations repository: URL or path")
    p.add_argument("--branch", default="main", help="branch to follow (default: main)")
    p.add_argument("--database-url", help="PostgreSQL URL (default: embedded)")
    p.add_argument("--database-password", help="its password, written as a credential")
    p.add_argument("--webhook-secret", help="webhook secret (default: generated)")
    p.add_argument("--api-host", default="127.0.0.1", help="API address (default: %(default)s)")
    p.add_argument("--api-port", type=int, default=8080, help="API port (default: %(default)s)")
    p.add_argument("--state-dir", type=Path, default=Path("/var/lib/mycopod"),
                   help="state folder (default: %(default)s)")
    p.add_argument("--config-dir", type=Path, default=Path("/etc/mycopod"),
                   help="where the settings and credentials go (default: %(default)s)")
    p.add_argument("--unit-dir", type=Path, default=Path("/etc/systemd/system"),
                   help="where mycopod.service goes (default: %(default)s)")
    p.add_argument("--program", type=Path,
                   help="the mycopod program for ExecStart (default: this one)")
    p.add_argument("--no-check", action="store_true", help="write without checking live")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from mycopod.init_cmd.setup import command

    return command(args)
