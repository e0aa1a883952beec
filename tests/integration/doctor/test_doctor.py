"""``mycopod doctor`` against the simulator, a git remote and PostgreSQL: it passes on a
good configuration and fails, naming the problem, on each broken one."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from mycopod.doctor import report
from mycopod.doctor.run import diagnose
from mycopod.pvesim.testing import SimHandle, running_simulator
from tests.support.doctor import remote_with, write_config
from tests.support.pvesim import TASK_SECONDS, Clock

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sim(clock: Clock) -> Iterator[SimHandle]:
    with running_simulator(nodes=2, task_seconds=TASK_SECONDS, clock=clock) as handle:
        yield handle


def by_check(findings: list[report.Finding]) -> dict[str, report.Finding]:
    return {f.check: f for f in findings}


async def test_a_good_configuration_passes(tmp_path: Path, sim: SimHandle,
                                           database_url: str) -> None:
    remote = remote_with(tmp_path)
    config = write_config(tmp_path, sim=sim, repo=str(remote.bare), database_url=database_url)
    findings = await diagnose(str(config))
    assert report.exit_code(findings) == 0, findings
    checks = by_check(findings)
    for name in ("config", "database", "database.migrated", "database.writable", "repository",
                 "declarations", "proxmox", "proxmox.auth", "proxmox.privileges", "clock",
                 "references", "webhook", "llm"):
        assert checks[name].status == "ok", checks[name]
    assert checks["proxmox.tls"].status == "warn"  # verify_tls = false: said, not failed


async def test_a_wrong_token_secret_fails(tmp_path: Path, sim: SimHandle,
                                          database_url: str) -> None:
    remote = remote_with(tmp_path)
    config = write_config(tmp_path, sim=sim, repo=str(remote.bare), database_url=database_url,
                          token_secret="not-the-secret")
    checks = by_check(await diagnose(str(config)))
    auth = checks["proxmox.auth"]
    assert auth.status == "fail" and "refused" in auth.message and "401" in auth.message
    assert "proxmox_token_secret" in auth.fix
    assert "proxmox.privileges" not in checks  # nothing more is asked with a bad token


async def test_a_token_missing_privileges_fails_naming_them(tmp_path: Path, sim: SimHandle,
                                                            database_url: str) -> None:
    remote = remote_with(tmp_path)
    o = sim.sim.options
    config = write_config(tmp_path, sim=sim, repo=str(remote.bare), database_url=database_url,
                          token_id=o.audit_token_id, token_secret=o.audit_token_secret)
    findings = await diagnose(str(config))
    assert report.exit_code(findings) == 1
    privileges = by_check(findings)["proxmox.privileges"]
    assert privileges.status == "fail"
    assert "VM.Allocate" in privileges.message and "VM.PowerMgmt" in privileges.message
    assert "VM.Audit" not in privileges.message  # the auditor role has that one
    assert "pveum acl modify / --tokens mycopod@pve!audit --roles MycoPod" in privileges.fix


async def test_an_unknown_storage_in_a_declaration_fails(tmp_path: Path, sim: SimHandle,
                                                         database_url: str) -> None:
    remote = remote_with(tmp_path, "db-1 is a VM with 2 cores, 2 GB of RAM and a 16 GB disk "
                         "on fast-nvme.\n")
    config = write_config(tmp_path, sim=sim, repo=str(remote.bare), database_url=database_url)
    findings = await diagnose(str(config))
    assert report.exit_code(findings) == 1
    references = by_check(findings)["references"]
    assert references.status == "fail"
    assert "db-1" in references.message and "'fast-nvme'" in references.message


async def test_a_bare_on_node_compiles_through_the_clusters_names(
        tmp_path: Path, sim: SimHandle, database_url: str) -> None:
    remote = remote_with(tmp_path, "db-1 is a VM with 2 cores on pve2.\n\n"
                         "db-2 is a VM with 2 cores on pve7.\n")
    config = write_config(tmp_path, sim=sim, repo=str(remote.bare), database_url=database_url)
    declarations = by_check(await diagnose(str(config)))["declarations"]
    assert declarations.status == "fail"
    assert "no node, storage, bridge or pool named 'pve7' (nodes: pve1, pve2;" \
        in declarations.message  # db-1's "on pve2" was read through the cluster


async def test_an_unreachable_repository_fails(tmp_path: Path, sim: SimHandle,
                                               database_url: str) -> None:
    config = write_config(tmp_path, sim=sim, repo=str(tmp_path / "no-such.git"),
                          database_url=database_url)
    findings = await diagnose(str(config))
    assert report.exit_code(findings) == 1
    repository = by_check(findings)["repository"]
    assert repository.status == "fail" and "no-such.git" in repository.message


async def test_a_missing_branch_fails(tmp_path: Path, sim: SimHandle,
                                      database_url: str) -> None:
    remote = remote_with(tmp_path)
    config = write_config(tmp_path, sim=sim, repo=str(remote.bare), database_url=database_url,
                          extra='branch = "production"\n')
    repository = by_check(await diagnose(str(config)))["repository"]
    assert repository.status == "fail" and "'production' does not exist" in repository.message


async def test_a_database_that_is_not_migrated_fails(tmp_path: Path, sim: SimHandle,
                                                     database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("DELETE FROM schema_migrations WHERE version = "
                           "(SELECT max(version) FROM schema_migrations)")
    finally:
        await conn.close()
    remote = remote_with(tmp_path)
    config = write_config(tmp_path, sim=sim, repo=str(remote.bare), database_url=database_url)
    migrated = by_check(await diagnose(str(config)))["database.migrated"]
    assert migrated.status == "fail" and "not migrated" in migrated.message
    assert "mycopod migrate up" in migrated.fix


async def test_an_empty_database_fails(tmp_path: Path, sim: SimHandle,
                                       database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()
    remote = remote_with(tmp_path)
    config = write_config(tmp_path, sim=sim, repo=str(remote.bare), database_url=database_url)
    migrated = by_check(await diagnose(str(config)))["database.migrated"]
    assert migrated.status == "fail" and "not migrated" in migrated.message


async def test_a_clock_off_by_a_minute_fails(tmp_path: Path, sim: SimHandle, clock: Clock,
                                             database_url: str) -> None:
    clock.advance(60)
    remote = remote_with(tmp_path)
    config = write_config(tmp_path, sim=sim, repo=str(remote.bare), database_url=database_url)
    check = by_check(await diagnose(str(config)))["clock"]
    assert check.status == "fail" and re.search(r"pve1 \+(59|60) s", check.message)


async def test_a_public_api_without_webhook_secret_fails(tmp_path: Path, sim: SimHandle,
                                                         database_url: str) -> None:
    remote = remote_with(tmp_path)
    config = write_config(tmp_path, sim=sim, repo=str(remote.bare), database_url=database_url,
                          extra='[api]\nhost = "0.0.0.0"\n')
    webhook = by_check(await diagnose(str(config)))["webhook"]
    assert webhook.status == "fail" and "declarations_webhook_secret" in webhook.fix


async def test_unreachable_proxmox_and_bad_config(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "mycopod.toml"
    config.write_text("[proxmox]\nurll = 1\n")
    (only,) = await diagnose(str(config))
    assert only.status == "fail" and "proxmox.urll" in only.message
    secret = tmp_path / "s"
    secret.write_text("x")
    secret.chmod(0o600)
    config.write_text(f'[database]\nurl = "{database_url}"\n[proxmox]\n'
                      'url = "https://127.0.0.1:1"\ntoken_id = "a@pam!b"\n'
                      f'token_secret_file = "{secret}"\n')
    checks = by_check(await diagnose(str(config)))
    assert checks["proxmox"].status == "fail" and "cannot reach" in checks["proxmox"].message


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    import io

    out = io.StringIO()
    report.write_json([report.ok("a", "fine"), report.fail("b", "broken", "fix it")], out)
    data = json.loads(out.getvalue())
    assert data["ok"] is False
    assert data["checks"][1] == {"check": "b", "status": "fail", "message": "broken",
                                 "fix": "fix it"}
