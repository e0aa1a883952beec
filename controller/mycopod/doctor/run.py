"""The checks in order, each seeing what the earlier ones found."""

from __future__ import annotations

import argparse
import sys

from mycopod.doctor import local, proxmox
from mycopod.doctor.report import Finding, exit_code, fail, warn, write_json, write_text


async def diagnose(config: str | None) -> list[Finding]:
    found, settings = local.check_config(config)
    if settings is None:
        return found
    found += await local.check_database(settings)
    repo, files = await local.check_repository(settings)
    found += repo
    spec = None
    if files is not None:
        compiled, spec = await local.compile_head(settings, files)
        found += compiled
    try:
        found += await proxmox.check(settings.proxmox, spec)
    except proxmox.ApiFailure as exc:  # a call after the token worked
        found.append(fail("proxmox", f"an API call failed: {exc}",
                          "see the line above; grant the privileges MycoPod needs"))
    if spec is None and settings.proxmox.url and files is not None:
        found.append(warn("references", "not checked: the declarations do not compile"))
    found += local.check_webhook(settings)
    found += await local.check_llm(settings)
    return found


def command(args: argparse.Namespace) -> int:
    import asyncio

    from mycopod import telemetry

    telemetry.configure_logging(level="error", fmt="json", stream=sys.stderr, secrets=[])
    findings = asyncio.run(diagnose(args.config))
    (write_json if args.json else write_text)(findings, sys.stdout)
    return exit_code(findings)
