"""``mycopod migrate``, ``mycopod user`` and ``mycopod db``: the database's commands."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    migrate = sub.add_parser(
        "migrate", parents=[common], help="apply, revert or list database migrations",
        description="Apply pending migrations (up, the default), revert the last N (down N), "
        "or list every migration with its state (status). Uses database.url, or the embedded "
        "PostgreSQL in state_dir when none is set.",
    )
    migrate.add_argument("action", nargs="?", default="up", choices=["up", "down", "status"])
    migrate.add_argument("steps", nargs="?", type=int,
                         help="with 'down': how many migrations to revert (required)")
    migrate.set_defaults(handler=_migrate)

    user = sub.add_parser(
        "user", parents=[common], help="manage API users",
        description="Add, list, disable users or change a password. Passwords are read from "
        "standard input (one line), or prompted for on a terminal, and stored as argon2id "
        "hashes.",
    )
    actions = user.add_subparsers(dest="user_action", metavar="ACTION", required=True)
    add = actions.add_parser("add", parents=[common], help="create a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, help="admin or user")
    add.set_defaults(handler=_user_add)
    lst = actions.add_parser("list", parents=[common], help="list users with role and state")
    lst.set_defaults(handler=_user_list)
    dis = actions.add_parser("disable", parents=[common], help="disable a user (effective at once)")
    dis.add_argument("name")
    dis.set_defaults(handler=_user_disable)
    pwd = actions.add_parser("passwd", parents=[common], help="set a new password")
    pwd.add_argument("name")
    pwd.set_defaults(handler=_user_passwd)

    db = sub.add_parser(
        "db", parents=[common], help="print the database URL in use",
        description="Print the PostgreSQL URL MycoPod uses (the password masked), starting the "
        "embedded server in state_dir when no database.url is configured.",
    )
    db.set_defaults(handler=_db)


def _run(args: argparse.Namespace, body: Callable[[Any, Any], Awaitable[T]],
         *, migrate_first: bool = True) -> T:
    from mycopod import telemetry
    from mycopod.config import load_settings
    from mycopod.store import db, migrate

    settings = load_settings(args.config)
    telemetry.configure_logging(level="warning", fmt=settings.logging.format,
                                stream=sys.stderr, secrets=settings.secret_values())

    async def main() -> T:
        async with db.open_database(settings.database, state_dir=settings.state_dir,
                                    min_size=1, max_size=2) as database:
            if migrate_first:
                async with database.pool.acquire() as conn:
                    await migrate.up(conn)
            return await body(database, settings)

    return asyncio.run(main())


def _migrate(args: argparse.Namespace) -> int:
    from mycopod.errors import UsageError
    from mycopod.store import migrate

    if args.action == "down" and args.steps is None:
        raise UsageError("'migrate down' needs the number of migrations to revert, e.g. "
                         "'mycopod migrate down 1'")
    if args.action != "down" and args.steps is not None:
        raise UsageError(f"'migrate {args.action}' takes no number")

    async def body(database: Any, _settings: Any) -> int:
        async with database.pool.acquire() as conn:
            if args.action == "up":
                done = await migrate.up(conn)
                print(f"applied {len(done)} migration(s)" + "".join(
                    f"\n  {m.version:04d}_{m.name}" for m in done))
            elif args.action == "down":
                done = await migrate.down(conn, args.steps)
                print(f"reverted {len(done)} migration(s)" + "".join(
                    f"\n  {m.version:04d}_{m.name}" for m in done))
            else:
                for item in await migrate.status(conn):
                    when = item.applied_at.isoformat(timespec="seconds") if item.applied_at else ""
                    print(f"{item.version:04d}_{item.name:<40} {item.state:<8} {when}".rstrip())
        return 0

    return _run(args, body, migrate_first=False)


def _read_password(prompt: str = "Password: ") -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        second = getpass.getpass("Repeat: ")
        if first != second:
            from mycopod.store.users import UserError

            raise UserError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _user_add(args: argparse.Namespace) -> int:
    from mycopod.store.users import UserStore, check_password, normalise_role

    normalise_role(args.role)  # refuse an unknown role before asking for a password
    password = _read_password()
    check_password(password)

    async def body(database: Any, _settings: Any) -> int:
        user = await UserStore(database.pool).add(args.name, password, args.role)
        print(f"added {user.username} ({user.role}), id {user.id}")
        return 0

    return _run(args, body)


def _user_list(args: argparse.Namespace) -> int:
    from mycopod.store.users import UserStore

    async def body(database: Any, _settings: Any) -> int:
        users = await UserStore(database.pool).list()
        print(f"{'ID':>4}  {'USERNAME':<24} {'ROLE':<6} {'STATE':<9} CREATED")
        for u in users:
            state = "disabled" if u.disabled else "active"
            print(f"{u.id:>4}  {u.username:<24} {u.role:<6} {state:<9} "
                  f"{u.created_at.isoformat(timespec='seconds')}")
        return 0

    return _run(args, body)


def _user_disable(args: argparse.Namespace) -> int:
    from mycopod.store.users import UserStore

    async def body(database: Any, _settings: Any) -> int:
        await UserStore(database.pool).set_disabled(args.name, True)
        print(f"disabled {args.name}")
        return 0

    return _run(args, body)


def _user_passwd(args: argparse.Namespace) -> int:
    from mycopod.store.users import UserStore, check_password

    password = _read_password("New password: ")
    check_password(password)

    async def body(database: Any, _settings: Any) -> int:
        await UserStore(database.pool).set_password(args.name, password)
        print(f"password changed for {args.name}")
        return 0

    return _run(args, body)


def _db(args: argparse.Namespace) -> int:
    from mycopod.config import load_settings
    from mycopod.store import db

    settings = load_settings(args.config)
    if settings.database.url:
        print(db.redact_url(settings.database.url))
        return 0

    async def body(database: Any, _settings: Any) -> int:
        print(database.display_url)
        return 0

    return _run(args, body, migrate_first=False)
