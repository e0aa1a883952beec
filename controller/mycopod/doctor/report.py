"""Findings and how they are shown: one line each, ``--json``, and the exit code."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal, TextIO

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Finding:
    #: stable name of the check (``proxmox.privileges``), for scripts reading --json
    check: str
    status: Status
    message: str
    #: what to do about a warn or a fail
    fix: str = ""


def ok(check: str, message: str) -> Finding:
    return Finding(check, "ok", message)


def warn(check: str, message: str, fix: str = "") -> Finding:
    return Finding(check, "warn", message, fix)


def fail(check: str, message: str, fix: str = "") -> Finding:
    return Finding(check, "fail", message, fix)


def exit_code(findings: list[Finding]) -> int:
    """0 only when nothing failed (warnings pass)."""
    return 1 if any(f.status == "fail" for f in findings) else 0


def write_text(findings: list[Finding], out: TextIO) -> None:
    for f in findings:
        out.write(f"{f.status:<4}  {f.check:<22} {f.message}\n")
        if f.fix:
            out.write(f"{'':<28} -> {f.fix}\n")
    failed = sum(f.status == "fail" for f in findings)
    warned = sum(f.status == "warn" for f in findings)
    out.write(f"\n{len(findings)} checks: {failed} failed, {warned} warnings\n")


def write_json(findings: list[Finding], out: TextIO) -> None:
    json.dump({"ok": exit_code(findings) == 0, "checks": [asdict(f) for f in findings]},
              out, indent=2, ensure_ascii=False)
    out.write("\n")
