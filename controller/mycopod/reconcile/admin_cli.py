"""``mycopod suspend``, ``resume``, ``override RUN_ID`` and ``rollback SHA``.

The Admin's switches of docs/gitops.md, from a shell. Like ``mycopod user`` and
``mycopod reconcile --once`` they act on the database (and, for a rollback, the
declarations remote) directly, with the configuration of the host they run on, and
reach the daemon through PostgreSQL ``NOTIFY``, so it acts at once, whichever replica
leads. They run the same code as the API (``PUT /settings/suspended``,
``POST /reconcile/{id}/override``, ``POST /reconcile/rollback``).

Who: ``--as NAME`` names the MycoPod Admin recorded as having done it (the rollback's
author, ``override_by``, the setting's ``updated_by``); without it the command line is
recorded as nobody in particular (no user id) and the rollback is authored by the
operating-system login.

Light on purpose: only argparse at module level (:mod:`mycopod.reconcile.admin_commands`
does the work).
"""

from __future__ import annotations

import argparse
from typing import Any


def _as(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as", dest="as_user", metavar="NAME",
                        help="the MycoPod Admin to record as having done it (default: "
                        "no user; a rollback is then authored by your login name)")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    suspend = sub.add_parser(
        "suspend", parents=[common], help="stop applying anything (commits still compile)",
        description="Set the policy setting 'suspended': from now on nothing is applied. "
        "Commits are still compiled and planned, their runs wait (status Waiting) and "
        "their commit statuses say so; drift is still reported. Same as "
        "PUT /settings/suspended {\"value\": true}.")
    _as(suspend)
    suspend.set_defaults(handler=_handler("suspend"))

    resume = sub.add_parser(
        "resume", parents=[common], help="apply again: the latest commit is applied at once",
        description="Clear 'suspended'. The waiting run (the latest commit's) is released "
        "at once and applies, unless a maintenance window still holds it.")
    _as(resume)
    resume.set_defaults(handler=_handler("resume"))

    override = sub.add_parser(
        "override", parents=[common], help="run a waiting run now, whatever the windows say",
        description="Queue a run that is Waiting (suspended, or outside a maintenance "
        "window) to apply at once; recorded in the run (override_by, override_at). Same as "
        "POST /reconcile/RUN_ID/override. See waiting runs with GET /logs?status=Waiting "
        "or on the status page.")
    override.add_argument("run_id", type=int, metavar="RUN_ID", help="the waiting run")
    _as(override)
    override.set_defaults(handler=_handler("override"))

    rollback = sub.add_parser(
        "rollback", parents=[common], help="put the declarations back as at an earlier commit",
        description="Commit, on top of the followed branch, the declarations exactly as they "
        "were at SHA (a revert of everything after it) and push it; the daemon then "
        "compiles and reconciles it like any commit. Nothing is force-pushed. Same as "
        "POST /reconcile/rollback.")
    rollback.add_argument("commit", metavar="SHA",
                          help="an earlier commit of the followed branch (7 to 40 hex digits)")
    _as(rollback)
    rollback.set_defaults(handler=_handler("rollback"))


def _handler(name: str) -> Any:
    def handle(args: argparse.Namespace) -> int:
        import asyncio

        from mycopod.reconcile import admin_commands

        code: int = asyncio.run(admin_commands.run(name, args))
        return code

    return handle
