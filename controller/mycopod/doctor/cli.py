"""``mycopod doctor`` (light module: argparse only)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "doctor",
        parents=[common],
        help="check the settings against the database, Proxmox, git and the LLM",
        description="Check a configuration against the world, one line per check (ok, warn "
        "or fail, with what to do): settings and secrets; the database reachable, migrated "
        "and writable; Proxmox reachable with TLS verifying; the token, its privileges; the "
        "nodes' clocks; the declarations repository and branch; every node, storage, "
        "bridge, pool, template and ISO the declarations name; the webhook secret; the "
        "LLM. Changes nothing. Exit 0 when nothing fails, 1 otherwise.",
    )
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from mycopod.doctor.run import command

    return command(args)
