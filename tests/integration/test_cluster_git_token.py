"""A cluster with a repository of its own fetches it with its own git token (issue 17):
two repositories served over HTTPS by ``git http-backend``, each refusing any token but
its own, and the clones each cluster's settings make."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mycopod.config import Settings, load_settings
from mycopod.declarations.source import GitSource, SourceError
from tests.support.githttp import GitHttps, serving_git
from tests.support.gitrepo import Remote

MAIN_TOKEN = "main-git-token-1234"
B_TOKEN = "site-b-git-token-5678"

CONFIG = """
[declarations]
repo = "{main}"
token = "{main_token}"
[[clusters]]
name = "a"
path = "site-a/"
[clusters.proxmox]
url = "https://pve-a.lan:8006"
token_id = "root@pam!mycopod"
token_secret = "pve-a"
[[clusters]]
name = "site-b"
repo = "{b}"
{b_token}
[clusters.proxmox]
url = "https://pve-b.lan:8006"
token_id = "root@pam!mycopod"
token_secret = "pve-b"
"""


def remote(root: Path, files: dict[str, str | bytes | None]) -> Remote:
    root.mkdir()
    made = Remote(root)
    made.commit(files)
    return made


@pytest.fixture
def git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHttps]:
    root = tmp_path / "served"
    root.mkdir()
    remote(root / "main", {"site-a/web.md": "web-1 is a VM.\n"})
    remote(root / "b", {"db.md": "db-1 is a VM.\n"})
    with serving_git(root, {"main/remote.git": MAIN_TOKEN,
                            "b/remote.git": B_TOKEN}) as server:
        monkeypatch.setenv("GIT_SSL_CAINFO", str(server.cafile))
        yield server


def settings_with(git: GitHttps, tmp_path: Path, b_token: str = "",
                  environ: dict[str, str] | None = None) -> Settings:
    path = tmp_path / "mycopod.toml"
    path.write_text(CONFIG.format(main=git.url("main/remote.git"), main_token=MAIN_TOKEN,
                                  b=git.url("b/remote.git"), b_token=b_token))
    path.chmod(0o600)
    return load_settings(path, environ=environ or {},
                         overrides={"state_dir": str(tmp_path / "state")})


def fetch(settings: Settings, cluster: str) -> dict[str, str]:
    (mine,) = [s for s in settings.per_cluster() if s.proxmox.cluster == cluster]
    source = GitSource.from_settings(mine)
    return source.files_at(source.fetch())


def test_a_cluster_fetches_its_own_repository_with_its_own_token(git: GitHttps,
                                                                 tmp_path: Path) -> None:
    settings = settings_with(git, tmp_path, f'token = "{B_TOKEN}"')
    assert sorted(fetch(settings, "a")) == ["site-a/web.md"]
    assert sorted(fetch(settings, "site-b")) == ["db.md"]
    # each repository saw only its own token: b's was never sent to the main one, nor
    # the main one to b's
    assert git.tokens_of("main/remote.git") == {MAIN_TOKEN}
    assert git.tokens_of("b/remote.git") == {B_TOKEN}
    assert all(s.status == 200 for s in git.seen)
    assert B_TOKEN in settings.secret_values()
    assert B_TOKEN not in repr(settings) and B_TOKEN not in repr(settings.per_cluster())


@pytest.mark.parametrize("how", ["environment", "file", "credential"])
def test_a_cluster_git_token_set_every_way_a_cluster_secret_is(git: GitHttps, tmp_path: Path,
                                                               how: str) -> None:
    secret = tmp_path / "b-git-token"
    secret.write_text(B_TOKEN + "\n")
    secret.chmod(0o600)
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "clusters_site-b_token").write_text(B_TOKEN + "\n")
    (creds / "clusters_site-b_token").chmod(0o600)
    line, environ = {
        "environment": ("", {"MYCOPOD_CLUSTERS__SITE_B__TOKEN": B_TOKEN}),
        "file": (f'token_file = "{secret}"', {}),
        "credential": ("", {"CREDENTIALS_DIRECTORY": str(creds)}),
    }[how]
    settings = settings_with(git, tmp_path, line, environ)
    assert sorted(fetch(settings, "site-b")) == ["db.md"]
    assert git.tokens_of("b/remote.git") == {B_TOKEN}


def test_without_a_token_of_its_own_a_cluster_uses_the_declarations_token(
        git: GitHttps, tmp_path: Path) -> None:
    settings = settings_with(git, tmp_path)
    with pytest.raises(SourceError) as err:
        fetch(settings, "site-b")
    # the [declarations] token went to b's repository, which refuses it; never shown
    assert git.tokens_of("b/remote.git") == {MAIN_TOKEN}
    assert MAIN_TOKEN not in str(err.value) and B_TOKEN not in str(err.value)
    git.tokens["b/remote.git"] = MAIN_TOKEN  # a repository the shared token may read
    assert sorted(fetch(settings, "site-b")) == ["db.md"]


def test_a_wrong_cluster_token_fails_without_showing_it(git: GitHttps, tmp_path: Path) -> None:
    settings = settings_with(git, tmp_path, 'token = "not-the-token-of-b"')
    with pytest.raises(SourceError) as err:
        fetch(settings, "site-b")
    assert "Authentication failed" in str(err.value)
    assert "not-the-token-of-b" not in str(err.value)
    assert git.tokens_of("b/remote.git") == {"not-the-token-of-b"}


def test_a_git_token_on_a_cluster_reading_a_folder_is_refused(git: GitHttps,
                                                              tmp_path: Path) -> None:
    from mycopod.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        settings_with(git, tmp_path, environ={"MYCOPOD_CLUSTERS__A__TOKEN": "x-token"})
    assert str(err.value) == (
        "config: [[clusters]] 'a': token is for a cluster with its own repo; this one reads "
        "the [declarations] repository (with its settings): set repo, or leave token out")
