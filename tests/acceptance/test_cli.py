"""The ``mycopod`` command as a user runs it: exit codes, messages, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from mycopod.cli import build_parser

REPO = Path(__file__).resolve().parents[2]


def mycopod(*args: str, env: dict[str, str] | None = None, stdin: str = "",
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MYCOPOD_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "mycopod.cli", *args], input=stdin, capture_output=True,
        text=True, env=full_env, timeout=120, cwd=cwd,
    )


def test_every_subcommand_has_helpful_help() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    names = list(sub.choices)  # type: ignore[union-attr]
    assert {"migrate", "user", "db", "run"} <= set(names)
    for name in names:
        result = mycopod(name, "--help")
        assert result.returncode == 0, (name, result.stderr)
        assert "usage: mycopod" in result.stdout
        assert len(result.stdout.splitlines()) >= 4, f"{name} --help says too little"


def test_usage_error_exits_2() -> None:
    result = mycopod("migrate", "sideways")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
    assert mycopod("no-such-command").returncode == 2


def test_user_management_end_to_end(database_url: str) -> None:
    env = {"MYCOPOD_DATABASE__URL": database_url}
    added = mycopod("user", "add", "alice", "--role", "admin", env=env,
                    stdin="correct horse battery\n")
    assert added.returncode == 0, added.stderr
    listed = mycopod("user", "list", env=env)
    assert listed.returncode == 0
    line = next(ln for ln in listed.stdout.splitlines() if "alice" in ln)
    assert "Admin" in line and "active" in line

    async def stored_hash() -> str:
        conn = await asyncpg.connect(database_url)
        try:
            return str(await conn.fetchval(
                "SELECT password_hash FROM users WHERE username = 'alice'"))
        finally:
            await conn.close()

    import asyncio

    digest = asyncio.run(stored_hash())
    assert digest.startswith("$argon2id$")
    assert "correct horse" not in digest

    dup = mycopod("user", "add", "alice", "--role", "user", env=env,
                  stdin="another long password\n")
    assert dup.returncode == 1
    assert dup.stderr.strip() == "mycopod: a user named 'alice' already exists"

    short = mycopod("user", "add", "bob", "--role", "user", env=env, stdin="short\n")
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    empty = mycopod("user", "add", "bob", "--role", "user", env=env, stdin="\n")
    assert empty.returncode == 1 and "empty" in empty.stderr
    role = mycopod("user", "add", "bob", "--role", "root", env=env, stdin="long enough pw\n")
    assert role.returncode == 1 and "unknown role 'root'" in role.stderr
    for result in (dup, short, empty, role):
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1

    assert mycopod("user", "disable", "alice", env=env).returncode == 0
    assert "disabled" in mycopod("user", "list", env=env).stdout
    assert mycopod("user", "passwd", "alice", env=env,
                   stdin="a brand new password\n").returncode == 0


def test_migrate_status_lists_every_migration_applied(database_url: str) -> None:
    result = mycopod("migrate", "status", env={"MYCOPOD_DATABASE__URL": database_url})
    assert result.returncode == 0, result.stderr
    files = sorted(p.stem for p in (REPO / "controller/mycopod/migrations").glob("[0-9]*.sql"))
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(files)
    for name, line in zip(files, lines, strict=True):
        assert line.startswith(name) and " applied " in f"{line} "


def test_embedded_database_is_used_and_reused(tmp_path: Path) -> None:
    env = {"MYCOPOD_STATE_DIR": str(tmp_path / "state")}
    first = mycopod("migrate", env=env)
    assert first.returncode == 0, first.stderr
    status = mycopod("migrate", "status", env=env)
    assert status.returncode == 0 and "applied" in status.stdout
    db = mycopod("db", env=env)
    assert db.returncode == 0
    assert str(tmp_path / "state" / "pgdata") in db.stdout
    assert (tmp_path / "state" / "pgdata" / "PG_VERSION").exists()
    # stopped cleanly at exit: no server is left running on that data folder
    assert not (tmp_path / "state" / "pgdata" / "postmaster.pid").exists()


def test_misspelt_config_key_fails_with_its_name(tmp_path: Path) -> None:
    cfg = tmp_path / "mycopod.toml"
    cfg.write_text("[policy]\nprnue = true\n")
    result = mycopod("--config", str(cfg), "migrate", "status")
    assert result.returncode == 1
    assert "policy.prnue" in result.stderr and "Traceback" not in result.stderr
    after = mycopod("migrate", "status", "--config", str(cfg))
    assert after.returncode == 1 and "policy.prnue" in after.stderr


def test_unreachable_database_gives_a_clear_error() -> None:
    result = mycopod("migrate", "status", env={
        "MYCOPOD_DATABASE__URL": "postgresql://nobody@127.0.0.1:1/none",
        "MYCOPOD_DATABASE__CONNECT_TIMEOUT": "1.5"})
    assert result.returncode == 1
    assert "cannot connect to PostgreSQL at postgresql://nobody@127.0.0.1:1/none" in result.stderr
    assert "gave up after 1.5s" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("flag", ["--debug"])
def test_debug_shows_the_traceback(flag: str) -> None:
    result = mycopod(flag, "migrate", "status", env={
        "MYCOPOD_DATABASE__URL": "postgresql://nobody@127.0.0.1:1/none",
        "MYCOPOD_DATABASE__CONNECT_TIMEOUT": "0.5"})
    assert result.returncode == 1
    assert "Traceback" in result.stderr
