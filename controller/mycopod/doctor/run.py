"""The checks in order, each seeing what the earlier ones found."""

from __future__ import annotations

import argparse
import sys

from mycopod.doctor import clusters, local
from mycopod.doctor.report import Finding, exit_code, write_json, write_text


async def diagnose(config: str | None) -> list[Finding]:
    found, settings = local.check_config(config)
    if settings is None:
        return found
    found += await local.check_database(settings)
    if settings.clusters:
        found += await clusters.each_cluster(settings)
    else:
        found += await clusters.one_cluster(settings) + await clusters.shared(settings)
    found += await local.check_llm(settings)
    return found


def command(args: argparse.Namespace) -> int:
    import asyncio

    from mycopod import telemetry

    telemetry.configure_logging(level="error", fmt="json", stream=sys.stderr, secrets=[])
    findings = asyncio.run(diagnose(args.config))
    (write_json if args.json else write_text)(findings, sys.stdout)
    return exit_code(findings)
