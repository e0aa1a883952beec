"""``mycopod doctor`` asks the forge (``GET /repos/{owner}/{repo}``, the local GitHub
stand-in over HTTP): the repository is there, the token is accepted and may write the
commit statuses and comments; each failure says which key to fix."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from mycopod.config_gitops import ForgeSettings
from mycopod.doctor import report
from mycopod.doctor.forge import check_forge
from mycopod.doctor.run import diagnose
from mycopod.pvesim.testing import running_simulator
from tests.support.doctor import remote_with, write_config
from tests.support.forge import running_forge
from tests.support.pvesim import TASK_SECONDS

pytestmark = pytest.mark.timeout(60)


TOKEN = "forge-token"  # the stand-in's token


def settings(url: str, *, token: str = TOKEN,
             repository: str = "lab/declarations") -> ForgeSettings:
    return ForgeSettings(api_url=url, repository=repository, token=token, timeout=5)


async def test_a_forge_that_answers_and_lets_the_token_write_passes() -> None:
    async with running_forge() as forge:
        found = await check_forge(settings(forge.url))
    assert found.status == "ok", found
    assert "lab/declarations" in found.message and "may write" in found.message
    assert [(r.method, r.path) for r in forge.requests] == [("GET", "/repos/lab/declarations")]
    assert forge.invalid == []  # the request conforms to GitHub's description


async def test_a_wrong_token_fails_and_is_never_shown() -> None:
    async with running_forge() as forge:
        found = await check_forge(settings(forge.url, token="wrong-forge-token"))
    assert found.status == "fail" and "refused the token of [forge] (HTTP 401)" in found.message
    assert "set a valid token in [forge]" in found.fix
    assert "wrong-forge-token" not in found.message + found.fix


async def test_an_unknown_repository_fails_naming_the_key() -> None:
    async with running_forge() as forge:
        found = await check_forge(settings(forge.url, repository="lab/other"),
                                  check="clusters.b.forge", table="[clusters.forge] of 'b'")
    assert found.check == "clusters.b.forge" and found.status == "fail"
    assert "lab/other at" in found.message and "HTTP 404" in found.message
    assert "check repository (owner/name) in [clusters.forge] of 'b'" in found.fix


async def test_a_read_only_token_is_a_warning_that_says_what_to_grant() -> None:
    async with running_forge(permissions={"admin": False, "push": False,
                                          "pull": True}) as forge:
        found = await check_forge(settings(forge.url))
    assert found.status == "warn" and "may read lab/declarations but not write" in found.message
    assert "'Commit statuses' and 'Pull requests'" in found.fix


async def test_an_unreachable_forge_fails_naming_api_url() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    found = await check_forge(settings(f"http://127.0.0.1:{port}"))
    assert found.status == "fail" and "could not reach the forge of [forge]" in found.message
    assert "check api_url in [forge]" in found.fix


async def test_doctor_checks_the_forge_of_a_configuration(tmp_path: Path,
                                                          database_url: str) -> None:
    async with running_forge() as forge:
        with running_simulator(nodes=1, task_seconds=TASK_SECONDS) as sim:
            remote = remote_with(tmp_path)
            config = write_config(
                tmp_path, sim=sim, repo=str(remote.bare), database_url=database_url,
                extra=f'[forge]\napi_url = "{forge.url}"\nrepository = "lab/declarations"\n'
                      'token = "wrong"\n')
            findings = await diagnose(str(config))
    (found,) = [f for f in findings if f.check == "forge"]
    assert found.status == "fail" and "HTTP 401" in found.message
    assert report.exit_code(findings) == 1
