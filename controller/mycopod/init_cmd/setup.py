"""The answers: from flags, or asked with questionary, each checked live as doctor does."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from mycopod.config import DeclarationsSettings, ProxmoxSettings, Settings
from mycopod.doctor import local, proxmox
from mycopod.doctor.report import Finding, write_text
from mycopod.errors import MycoPodError, UsageError
from mycopod.init_cmd.files import Answers, Layout, write_all


def check_proxmox(a: Answers) -> list[Finding]:
    settings = ProxmoxSettings(url=a.proxmox_url, token_id=a.token_id,
                               token_secret=SecretStr(a.token_secret),
                               verify_tls=a.verify_tls, ca_file=a.ca_file)
    return asyncio.run(proxmox.check(settings, None))


def check_repository(a: Answers, state_dir: Path) -> list[Finding]:
    dec = DeclarationsSettings(repo=a.repo, branch=a.branch,
                               token=SecretStr(a.repo_token) if a.repo_token else None)
    settings = Settings(state_dir=state_dir, declarations=dec)
    return asyncio.run(local.check_repository(settings))[0]


def check_database(a: Answers) -> list[Finding]:
    if not a.database_url:
        return []
    from mycopod.config import DatabaseSettings

    db = DatabaseSettings(url=a.database_url, connect_timeout=5,
                          password=SecretStr(a.database_password) if a.database_password
                          else None)
    found = asyncio.run(local.check_database(Settings(database=db)))
    # a new database is not migrated yet: `mycopod run` does it; only reaching it counts
    return [f for f in found if f.check != "database.migrated"]


def _failed(found: list[Finding]) -> bool:
    return any(f.status == "fail" for f in found)


def _program() -> Path:
    beside = Path(sys.executable).with_name("mycopod")
    if beside.exists():
        return beside
    found = shutil.which("mycopod")
    return Path(found) if found else Path("/opt/mycopod/bin/mycopod")


def from_flags(args: argparse.Namespace) -> Answers:
    missing = [f"--{n.replace('_', '-')}" for n in ("proxmox_url", "token_id", "repo")
               if not getattr(args, n)]
    if not (args.token_secret or args.token_secret_file):
        missing.append("--token-secret-file (or --token-secret)")
    if missing:
        raise UsageError(f"--non-interactive needs {', '.join(missing)}")
    secret = args.token_secret or Path(args.token_secret_file).read_text("utf-8").strip()
    extra: dict[str, Any] = {}
    if args.webhook_secret:
        extra["webhook_secret"] = args.webhook_secret
    return Answers(proxmox_url=args.proxmox_url, token_id=args.token_id, token_secret=secret,
                   repo=args.repo, branch=args.branch, verify_tls=args.verify_tls,
                   ca_file=args.ca_file, database_url=args.database_url,
                   database_password=args.database_password, api_host=args.api_host,
                   api_port=args.api_port, state_dir=args.state_dir, **extra)


def _ask(question: Any) -> Any:
    answer = question.ask()
    if answer is None:  # Ctrl-C in questionary
        raise KeyboardInterrupt
    return answer


def interactive(args: argparse.Namespace, scratch: Path) -> Answers:
    import questionary

    def report(found: list[Finding]) -> bool:
        write_text(found, sys.stdout)
        return not _failed(found) or not _ask(questionary.confirm("Try again?", default=True))

    while True:
        url = _ask(questionary.text("Proxmox VE API URL:", default=args.proxmox_url or
                                    "https://pve1.lan:8006"))
        verify = _ask(questionary.confirm("Verify its TLS certificate?",
                                          default=args.verify_tls))
        ca = _ask(questionary.path("CA certificate (empty: the system's; "
                                   "/etc/pve/pve-root-ca.pem from a node):",
                                   default=str(args.ca_file or ""))) if verify else ""
        token_id = _ask(questionary.text("API token id (USER@REALM!NAME):",
                                         default=args.token_id or "mycopod@pve!mycopod"))
        token = _ask(questionary.password("API token secret:"))
        answers = Answers(proxmox_url=url, token_id=token_id, token_secret=token, repo="",
                          verify_tls=verify, ca_file=Path(ca) if ca else None)
        if report(check_proxmox(answers)):
            break
    while True:
        answers.repo = _ask(questionary.text("Declarations repository (URL or path):",
                                             default=args.repo or ""))
        answers.branch = _ask(questionary.text("Branch:", default=args.branch))
        if report(check_repository(answers, scratch)):
            break
    while True:
        embedded = _ask(questionary.confirm("Use the embedded PostgreSQL (one machine)?",
                                            default=not args.database_url))
        if embedded:
            break
        answers.database_url = _ask(questionary.text(
            "PostgreSQL URL:", default=args.database_url or
            "postgresql://mycopod@127.0.0.1:5432/mycopod"))
        answers.database_password = _ask(questionary.password("Its password (empty: none):"))
        if report(check_database(answers)):
            break
    return answers


def command(args: argparse.Namespace) -> int:
    import tempfile

    layout = Layout(config_dir=args.config_dir, unit_dir=args.unit_dir,
                    program=args.program or _program())
    with tempfile.TemporaryDirectory(prefix="mycopod-init-") as scratch:
        if args.non_interactive:
            answers = from_flags(args)
            if not args.no_check:
                found = (check_proxmox(answers) + check_repository(answers, Path(scratch))
                         + check_database(answers))
                if _failed(found):
                    write_text(found, sys.stderr)
                    raise MycoPodError("the answers do not check out (above); nothing was "
                                       "written (--no-check writes anyway)")
        else:
            answers = interactive(args, Path(scratch))
    for path in write_all(answers, layout, force=args.force):
        print(f"wrote {path}")
    print(f"""
Next:
  CREDENTIALS_DIRECTORY={layout.credentials} {layout.program} doctor --config {layout.config}
  systemctl daemon-reload && systemctl enable --now mycopod
  journalctl -u mycopod -f
The webhook secret for the git host is in {layout.credentials}/declarations_webhook_secret
(URL: https://THIS-HOST/webhooks/github).""")
    return 0
