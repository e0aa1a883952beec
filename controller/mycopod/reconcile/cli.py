"""``mycopod plan`` and ``mycopod reconcile --once``.

Light on purpose: only argparse at module level; the engine is imported by the handler.

- ``mycopod plan [FILE.md ...] [--spec SPEC.json] [--json]`` prints what a reconcile
  would do, grouped per guest like ``terraform plan``; nothing is applied or recorded.
  Exit 0: no changes; 2: changes pending; 1: failure.
- ``mycopod plan --markdown [--ref REF | --tree DIR | FILE.md ...]`` prints the text of
  the pull-request plan comment (:mod:`mycopod.reconcile.plan_markdown`).
- ``mycopod reconcile --once [--approve] [FILE.md ...] [--spec SPEC.json]`` fetches the
  declarations repository, compiles HEAD, observes, plans, applies per policy, records
  the run and prints a summary. Exit 0: Succeeded (or nothing to do); 1: Failed;
  3: awaiting approval (``--approve`` approves it at once), or waiting (suspended,
  outside a maintenance window; docs/gitops.md).

Without FILE or ``--spec`` the spec comes from the declarations repository (fetch, then
compile the branch head through the declarations pipeline).
"""

from __future__ import annotations

import argparse

EXIT_CHANGES = 2
EXIT_AWAITING = 3


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    plan = sub.add_parser(
        "plan", parents=[common], help="show what a reconcile would change",
        description="Observe the cluster and print the plan for the declarations, grouped "
        "per guest, with reasons and destructive steps marked. Applies nothing. Exit code "
        "0: no changes, 2: changes pending.")
    _spec_options(plan)
    shown = plan.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="print the plan as JSON")
    shown.add_argument("--markdown", action="store_true",
                       help="print the pull-request plan comment (Markdown): changed files, "
                       "how each paragraph was understood, the plan table; for CI systems "
                       "other than GitHub/Gitea. Compared with the followed branch's head. "
                       "Exit code 1 when it does not compile")
    plan.add_argument("--ref", metavar="REF",
                      help="with --markdown: plan this ref of the declarations remote "
                      "(refs/pull/7/head, a branch, or a commit sha) instead of a working tree")
    plan.add_argument("--base", metavar="REF",
                      help="with --markdown: what the files are compared with (a ref, branch "
                      "or commit sha; default: the head of the followed branch)")
    plan.add_argument("--tree", metavar="DIR", default=".",
                      help="with --markdown: the checked-out declarations to plan "
                      "(default: the current directory)")
    plan.set_defaults(handler=_plan)

    rec = sub.add_parser(
        "reconcile", parents=[common], help="reconcile the cluster once",
        description="Fetch, compile HEAD, observe, plan, apply per policy, record the run "
        "and print a summary. Exit code 0: Succeeded or nothing to do, 1: failed, "
        "3: awaiting approval.")
    _spec_options(rec)
    rec.add_argument("--once", action="store_true", required=True,
                     help="run one reconcile and exit (the daemon is 'mycopod run')")
    rec.add_argument("--approve", action="store_true",
                     help="approve destructive steps of this run yourself")
    rec.add_argument("--dry-run", action="store_true", help="plan and record, apply nothing")
    rec.add_argument("--json", action="store_true", help="print the run as JSON")
    rec.set_defaults(handler=_reconcile)


def _spec_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cluster", metavar="NAME",
                        help="the [[clusters]] entry to use (default: the only cluster; "
                        "required when several are configured)")
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="declaration files to use instead of the repository")
    parser.add_argument("--spec", metavar="SPEC.json",
                        help="a compiled spec (as 'mycopod compile --json' prints)")


def _plan(args: argparse.Namespace) -> int:
    import asyncio

    from mycopod.reconcile.commands import plan_command

    code: int = asyncio.run(plan_command(args))
    return code


def _reconcile(args: argparse.Namespace) -> int:
    import asyncio

    from mycopod.reconcile.commands import reconcile_command

    code: int = asyncio.run(reconcile_command(args))
    return code
