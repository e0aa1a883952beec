"""The systemd unit is valid and carries the settings the issue asks for."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
UNIT = REPO / "systemd" / "mycopod.service"


def _directives() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def test_unit_has_the_required_settings() -> None:
    d = _directives()
    assert d["Type"] == ["notify"]
    assert d["Restart"] == ["on-failure"]
    assert d["DynamicUser"] == ["yes"] and d["StateDirectory"] == ["mycopod"]
    assert "WatchdogSec" in d
    creds = {v.split(":", 1)[0] for v in d["LoadCredential"]}
    assert creds == {"proxmox_token_secret", "llm_api_key", "api_jwt_secret",
                     "declarations_webhook_secret", "database_password"}
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices",
                "MemoryDenyWriteExecute"):
        assert d[key] == ["yes"], key
    assert d["ProtectSystem"] == ["strict"]
    assert d["CapabilityBoundingSet"] == [""]
    assert d["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]
    assert d["SystemCallFilter"] == ["@system-service"]


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed on this machine")
    # verify checks that ExecStart's program exists: point it at this venv's mycopod.
    program = Path(sys.executable).with_name("mycopod")
    if not program.exists():
        pytest.skip(f"the mycopod console script is not installed next to {sys.executable}")
    unit = tmp_path / "mycopod.service"
    unit.write_text(UNIT.read_text().replace("/opt/mycopod/bin/mycopod", str(program)))
    proc = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                          timeout=60, check=False)
    problems = [line for line in (proc.stdout + proc.stderr).splitlines()
                if "mycopod.service" in line]
    if proc.returncode != 0 and not problems:
        pytest.skip(f"systemd-analyze cannot run here: {proc.stderr.strip()[:200]}")
    assert proc.returncode == 0 and not problems, proc.stdout + proc.stderr
