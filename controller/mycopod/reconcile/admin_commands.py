"""What ``mycopod suspend|resume|override|rollback`` do (:mod:`.admin_cli` parses them).

Each goes through the function the API uses (the settings store with its validation,
:func:`mycopod.reconcile.approvals.override`, :func:`mycopod.declarations.rollback.
commit_rollback`) and then tells the leader with ``pg_notify``
(:mod:`mycopod.store.wakeups`): a resume or an override is claimed at once, a rollback
commit fetched at once.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

import asyncpg
import structlog

from mycopod.config import Settings
from mycopod.errors import MycoPodError
from mycopod.store import wakeups
from mycopod.store.settings import SettingsStore
from mycopod.store.users import User, UserStore

log = structlog.get_logger(__name__)

__all__ = ["run"]


async def _who(pool: asyncpg.Pool, name: str | None) -> User | None:
    """The Admin named by ``--as``; None without it."""
    if name is None:
        return None
    user = await UserStore(pool).get_by_name(name)
    if user is None:
        raise MycoPodError(f"--as {name}: no such user (see 'mycopod user list')")
    if user.disabled:
        raise MycoPodError(f"--as {name}: the user is disabled")
    if not user.is_admin:
        raise MycoPodError(f"--as {name}: {name} is not an Admin; only an Admin may do this")
    return user


async def run(name: str, args: argparse.Namespace) -> int:
    from mycopod.reconcile.commands import _database, _settings

    settings = _settings(args)
    async with _database(settings) as pool:
        user = await _who(pool, args.as_user)
        if name in ("suspend", "resume"):
            return await _suspend(pool, settings, user, suspended=name == "suspend")
        if name == "override":
            return await _override(pool, settings, user, args.run_id)
        return await _rollback(pool, settings, user, args.commit)


async def _suspend(pool: asyncpg.Pool, settings: Settings, user: User | None, *,
                   suspended: bool) -> int:
    store = SettingsStore(pool)
    base = await store.effective_policy(settings.policy)
    was = base.suspended
    cluster = settings.proxmox.cluster
    waiting = await pool.fetch("SELECT id, commit_sha FROM reconciliation_runs "
                               "WHERE cluster = $1 AND status = 'Waiting' ORDER BY id",
                               cluster)
    await store.put("suspended", suspended, user_id=user.id if user else None, base=base)
    # the worker looks at waiting runs now (a resume releases them at once)
    await wakeups.notify(pool, wakeups.RECONCILE, cluster)
    log.info("settings.changed", user_id=user.id if user else None, key="suspended",
             value=suspended, via="cli", login=getpass.getuser())
    if suspended:
        print("Suspended: nothing is applied until 'mycopod resume'. Commits still compile "
              "and their runs wait." + (" (It was suspended already.)" if was else ""))
        return 0
    runs = ", ".join(f"run {r['id']}" + (f" ({r['commit_sha'][:12]})" if r["commit_sha"]
                                         else "") for r in waiting)
    print("Resumed" + (" (it was not suspended)" if not was else "") + ": "
          + (f"{runs} {'apply' if len(waiting) > 1 else 'applies'} now, unless a "
             "maintenance window holds it."
             if waiting else "no run was waiting."))
    return 0


async def _override(pool: asyncpg.Pool, settings: Settings, user: User | None,
                    run_id: int) -> int:
    from mycopod.reconcile import approvals

    try:
        run = await approvals.override(pool, run_id, user=user)
    except approvals.RunNotFound:
        raise MycoPodError(f"run {run_id} not found") from None
    except approvals.ApprovalError as exc:
        raise MycoPodError(f"{exc} (only a run that is Waiting can be overridden)"
                           ) from None
    print(f"Run {run.id} is queued to apply now, whatever the windows say "
          f"(override recorded at {run.override_at:%Y-%m-%d %H:%M:%S %Z}"
          + (f" for {user.username}" if user else "") + ").")
    return 0


async def _rollback(pool: asyncpg.Pool, settings: Settings, user: User | None,
                    commit: str) -> int:
    from mycopod.declarations import rollback as rollbacks
    from mycopod.declarations.source import GitSource

    if not settings.declarations.repo:
        raise MycoPodError("no declarations repository is configured (declarations.repo)")
    source = GitSource.from_settings(settings)
    author = user.username if user else getpass.getuser()
    sha, target = await asyncio.to_thread(
        rollbacks.commit_rollback, source, commit, author_name=author,
        author_email=f"{author}@users.mycopod.invalid")
    await wakeups.notify(pool, wakeups.FETCH, settings.proxmox.cluster)
    log.info("reconcile.rollback", user_id=user.id if user else None, commit=sha,
             rolled_back_to=target, via="cli")
    sys.stdout.write(f"Committed {sha[:12]} on {source.branch!r}: the declarations as at "
                     f"{target[:12]}, authored by {author}. MycoPod reconciles it like any "
                     "commit.\n")
    return 0
