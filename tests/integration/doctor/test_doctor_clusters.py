"""``mycopod doctor`` with ``[[clusters]]`` (issue 17): each cluster's repository (its own
one fetched over HTTPS with its own git token), declarations and Proxmox are checked,
and its webhook secret and pull-request forge when it has its own repository; every
finding names the cluster and the key to fix."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from mycopod.doctor import report
from mycopod.doctor.run import diagnose
from mycopod.pvesim.testing import SimHandle, running_simulator
from tests.support.doctor import GOOD, secret_file
from tests.support.forge import FakeForge, running_forge
from tests.support.githttp import GitHttps, serving_git
from tests.support.gitrepo import Remote
from tests.support.pvesim import TASK_SECONDS

pytestmark = pytest.mark.timeout(120)

B_TOKEN = "site-b-git-token-for-doctor"


@pytest.fixture
def sims() -> Iterator[tuple[SimHandle, SimHandle]]:
    with running_simulator(nodes=1, task_seconds=TASK_SECONDS) as a, \
            running_simulator(nodes=1, task_seconds=TASK_SECONDS) as b:
        yield a, b


@pytest.fixture
def git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHttps]:
    root = tmp_path / "served"
    for name, files in (("main", {"site-a/lab.md": GOOD}), ("b", {"lab.md": GOOD})):
        (root / name).mkdir(parents=True)
        Remote(root / name).commit(files)
    with serving_git(root, {"main/remote.git": "main-token", "b/remote.git": B_TOKEN}) as srv:
        monkeypatch.setenv("GIT_SSL_CAINFO", str(srv.cafile))
        yield srv


@pytest.fixture
async def forge() -> AsyncIterator[FakeForge]:
    async with running_forge() as served:
        yield served


def write(tmp_path: Path, git: GitHttps, sims: tuple[SimHandle, SimHandle], *,
          database_url: str, b_secret: str, b_extra: str = "", top: str = "") -> Path:
    a, b = sims
    pve_a = secret_file(tmp_path / "pve-a", a.token_secret)
    pve_b = secret_file(tmp_path / "pve-b", b_secret)
    config = tmp_path / "mycopod.toml"
    config.write_text(
        f'state_dir = "{tmp_path / "state"}"\n{top}'
        f'[database]\nurl = "{database_url}"\n'
        f'[declarations]\nrepo = "{git.url("main/remote.git")}"\ntoken = "main-token"\n'
        f'webhook_secret = "main-hook"\n'
        f'[[clusters]]\nname = "a"\npath = "site-a/"\n'
        f'[clusters.proxmox]\nurl = "{a.url}"\ntoken_id = "{a.token_id}"\n'
        f'token_secret_file = "{pve_a}"\nverify_tls = false\n'
        f'[[clusters]]\nname = "b"\nrepo = "{git.url("b/remote.git")}"\n{b_extra}'
        f'[clusters.proxmox]\nurl = "{b.url}"\ntoken_id = "{b.token_id}"\n'
        f'token_secret_file = "{pve_b}"\nverify_tls = false\n')
    config.chmod(0o600)
    return config


def by_check(findings: list[report.Finding]) -> dict[str, report.Finding]:
    return {f.check: f for f in findings}


async def test_each_cluster_is_checked_and_named(tmp_path: Path, git: GitHttps,
                                                 sims: tuple[SimHandle, SimHandle],
                                                 database_url: str) -> None:
    token = secret_file(tmp_path / "b-git-token", B_TOKEN)
    config = write(tmp_path, git, sims, database_url=database_url,
                   b_secret="not-the-secret-of-b", b_extra=f'token_file = "{token}"\n')
    findings = await diagnose(str(config))
    checks = by_check(findings)
    # no complaint about the single [proxmox] nor [declarations] a [[clusters]] replaces
    assert "config.proxmox" not in checks and checks["config"].status == "ok"
    for name in ("repository", "declarations", "proxmox", "proxmox.auth",
                 "proxmox.privileges", "clock", "references"):
        assert checks[f"clusters.a.{name}"].status == "ok", checks[f"clusters.a.{name}"]
    assert checks["clusters.a.declarations"].message == "cluster 'a': compile: 1 guest(s)"
    # b's own repository was read with b's own token, and only with it
    assert checks["clusters.b.repository"].status == "ok", checks["clusters.b.repository"]
    assert git.tokens_of("b/remote.git") == {B_TOKEN}
    assert git.tokens_of("main/remote.git") == {"main-token"}
    auth = checks["clusters.b.proxmox.auth"]
    assert auth.status == "fail" and auth.message.startswith("cluster 'b': ")
    assert "MYCOPOD_CLUSTERS__B__PROXMOX__TOKEN_SECRET" in auth.fix
    assert "clusters_b_proxmox_token_secret" in auth.fix
    assert "[clusters.proxmox] of 'b'" in auth.fix
    # b has its own repository but no webhook secret of its own: said, with how to set it
    hook = checks["clusters.b.webhook"]
    assert hook.status == "warn" and "no webhook_secret of its own" in hook.message
    assert "MYCOPOD_CLUSTERS__B__WEBHOOK_SECRET" in hook.fix
    assert "/webhooks/github?cluster=b" in hook.fix
    assert checks["webhook"].status == "ok"  # the [declarations] repository's
    assert report.exit_code(findings) == 1
    assert all(B_TOKEN not in f.message + f.fix for f in findings)


async def test_a_wrong_cluster_git_token_fails_naming_its_keys(
        tmp_path: Path, git: GitHttps, sims: tuple[SimHandle, SimHandle],
        database_url: str, forge: FakeForge) -> None:
    config = write(tmp_path, git, sims, database_url=database_url,
                   b_secret=sims[1].token_secret,
                   b_extra='token = "wrong-git-token"\nwebhook_secret = "b-hook"\n',
                   top=f'[forge]\napi_url = "{forge.url}"\n'
                       'repository = "lab/declarations"\ntoken = "forge-token"\n')
    findings = await diagnose(str(config))
    checks = by_check(findings)
    repository = checks["clusters.b.repository"]
    assert repository.status == "fail" and repository.message.startswith("cluster 'b': ")
    assert "Authentication failed" in repository.message
    assert "MYCOPOD_CLUSTERS__B__TOKEN" in repository.fix
    assert "clusters_b_token" in repository.fix
    assert all("wrong-git-token" not in f.message + f.fix for f in findings)
    assert checks["clusters.b.proxmox.auth"].status == "ok"
    assert checks["clusters.b.webhook"].status == "ok"
    own = checks["clusters.b.forge"]
    assert own.status == "warn" and "[clusters.forge] of 'b'" in own.fix
    assert checks["forge"].status == "ok"  # [forge] answers, its token may write
    # the inline secrets of the entries are named too
    assert "clusters.b.token" in checks["config.secrets"].message
    assert "clusters.b.webhook_secret" in checks["config.secrets"].message


async def test_an_unreadable_cluster_git_token_file_is_named(
        tmp_path: Path, git: GitHttps, sims: tuple[SimHandle, SimHandle],
        database_url: str) -> None:
    missing = tmp_path / "no-such-token"
    config = write(tmp_path, git, sims, database_url=database_url,
                   b_secret=sims[1].token_secret, b_extra=f'token_file = "{missing}"\n')
    (only,) = await diagnose(str(config))
    assert only.check == "config" and only.status == "fail"
    assert only.message.startswith(f"config: [[clusters]] 'b': token_file: cannot read "
                                   f"secret file {missing}")


async def test_a_public_api_and_no_webhook_secret_for_a_clusters_repo_fails(
        tmp_path: Path, git: GitHttps, sims: tuple[SimHandle, SimHandle],
        database_url: str) -> None:
    config = write(tmp_path, git, sims, database_url=database_url,
                   b_secret=sims[1].token_secret, b_extra=f'token = "{B_TOKEN}"\n',
                   top='[api]\nhost = "0.0.0.0"\n')
    text = config.read_text().replace('webhook_secret = "main-hook"\n', "")
    config.write_text(text)
    checks = by_check(await diagnose(str(config)))
    hook = checks["clusters.b.webhook"]
    assert hook.status == "fail" and "reachable from other machines" in hook.message
    assert "clusters_b_webhook_secret" in hook.fix
    assert checks["webhook"].status == "fail"  # the [declarations] repository's, as before


async def test_a_cluster_forge_of_its_own_is_asked(
        tmp_path: Path, git: GitHttps, sims: tuple[SimHandle, SimHandle],
        database_url: str) -> None:
    async with running_forge(repository="b/decl", token="b-forge-token",
                             permissions={"push": False, "pull": True}) as own:
        config = write(tmp_path, git, sims, database_url=database_url,
                       b_secret=sims[1].token_secret,
                       b_extra=f'token = "{B_TOKEN}"\nwebhook_secret = "b-hook"\n'
                               f'[clusters.forge]\napi_url = "{own.url}"\n'
                               'repository = "b/decl"\ntoken = "b-forge-token"\n')
        findings = await diagnose(str(config))
    found = by_check(findings)["clusters.b.forge"]
    assert found.status == "warn", found
    assert found.message.startswith("cluster 'b': the token of [clusters.forge] of 'b' may "
                                    "read b/decl but not write")
    assert [(r.method, r.path) for r in own.requests] == [("GET", "/repos/b/decl")]
    assert all("b-forge-token" not in f.message + f.fix for f in findings)
