"""``mycopod init --non-interactive``: the files it writes, that doctor passes on them, and
that systemd accepts the unit."""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mycopod.cli import main
from mycopod.doctor import report
from mycopod.doctor.run import diagnose
from mycopod.pvesim.testing import running_simulator
from tests.support.doctor import remote_with, secret_file

pytestmark = pytest.mark.timeout(120)
PROGRAM = Path(sys.executable).with_name("mycopod")


def _init(tmp: Path, *flags: str) -> int:
    return main(["init", "--non-interactive", "--config-dir", str(tmp / "etc"),
                 "--unit-dir", str(tmp / "systemd"), "--state-dir", str(tmp / "state"),
                 "--program", str(PROGRAM), *flags])


async def test_init_writes_what_doctor_passes(tmp_path: Path, database_url: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    with running_simulator(nodes=2) as sim:
        remote = remote_with(tmp_path)
        secret = secret_file(tmp_path / "token", sim.token_secret)
        import asyncio

        code = await asyncio.to_thread(
            _init, tmp_path, "--proxmox-url", sim.url, "--token-id", sim.token_id,
            "--token-secret-file", str(secret), "--no-verify-tls", "--repo", str(remote.bare),
            "--database-url", database_url)
        assert code == 0
        etc = tmp_path / "etc"
        creds = etc / "credentials"
        assert stat.S_IMODE(creds.stat().st_mode) == 0o700
        names = sorted(p.name for p in creds.iterdir())
        assert names == ["api_jwt_secret", "declarations_webhook_secret",
                         "proxmox_token_secret"]
        for path in creds.iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert (creds / "proxmox_token_secret").read_text().strip() == sim.token_secret
        config = (etc / "mycopod.toml").read_text()
        assert sim.token_secret not in config and sim.url in config
        unit = (tmp_path / "systemd" / "mycopod.service").read_text()
        loads = [ln for ln in unit.splitlines() if ln.startswith("LoadCredential=")]
        assert sorted(ln.split("=", 1)[1].split(":")[0] for ln in loads) == names
        assert f"LoadCredential=proxmox_token_secret:{creds}/proxmox_token_secret" in loads
        assert f"ExecStart={PROGRAM} run --config {etc}/mycopod.toml" in unit
        # what systemd does: the credentials as $CREDENTIALS_DIRECTORY/<group>_<key>
        monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
        findings = await diagnose(str(etc / "mycopod.toml"))
        assert report.exit_code(findings) == 0, findings

    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed on this machine")
    if not PROGRAM.exists():
        pytest.skip(f"no mycopod console script next to {sys.executable}")
    proc = subprocess.run([analyze, "verify", str(tmp_path / "systemd" / "mycopod.service")],
                          capture_output=True, text=True, timeout=60, check=False)
    problems = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "mycopod.service" in ln]
    if proc.returncode != 0 and not problems:
        pytest.skip(f"systemd-analyze cannot run here: {proc.stderr.strip()[:200]}")
    assert proc.returncode == 0 and not problems, proc.stdout + proc.stderr


def test_init_refuses_bad_answers_and_writes_nothing(tmp_path: Path) -> None:
    with running_simulator(nodes=1) as sim:
        remote = remote_with(tmp_path)
        secret = secret_file(tmp_path / "token", "wrong")
        code = _init(tmp_path, "--proxmox-url", sim.url, "--token-id", sim.token_id,
                     "--token-secret-file", str(secret), "--no-verify-tls",
                     "--repo", str(remote.bare))
    assert code == 1
    assert not (tmp_path / "etc" / "mycopod.toml").exists()


def test_init_needs_the_flags(tmp_path: Path) -> None:
    assert _init(tmp_path) == 2
