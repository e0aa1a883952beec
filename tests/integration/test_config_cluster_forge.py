"""``[clusters.forge]``: where a cluster's own repository's pull requests are planned, its
address and token defaulting to ``[forge]``'s (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mycopod.config import Settings, load_settings
from mycopod.errors import ConfigError

CONFIG = """
[declarations]
repo = "/srv/main.git"
[forge]
api_url = "https://api.github.com"
repository = "lab/declarations"
token = "global-forge-token"
[[clusters]]
name = "a"
path = "site-a/"
[clusters.proxmox]
url = "https://pve-a.lan:8006"
token_id = "root@pam!mycopod"
token_secret = "pve-a"
[[clusters]]
name = "site-b"
repo = "/srv/b.git"
{b}
[clusters.proxmox]
url = "https://pve-b.lan:8006"
token_id = "root@pam!mycopod"
token_secret = "pve-b"
"""


def load(tmp_path: Path, b: str, environ: dict[str, str] | None = None,
         text: str = CONFIG) -> Settings:
    path = tmp_path / "mycopod.toml"
    path.write_text(text.replace("{b}", b))
    path.chmod(0o600)
    return load_settings(path, environ=environ or {})


def forge_of(settings: Settings, name: str) -> tuple[str | None, str | None, str | None]:
    (mine,) = [s for s in settings.per_cluster() if s.proxmox.cluster == name]
    token = mine.forge.token.get_secret_value() if mine.forge.token else None
    return mine.forge.api_url, mine.forge.repository, token


def test_a_cluster_forge_defaults_to_the_global_address_and_token(tmp_path: Path) -> None:
    settings = load(tmp_path, '[clusters.forge]\nrepository = "site-b/declarations"')
    assert forge_of(settings, "site-b") == ("https://api.github.com", "site-b/declarations",
                                            "global-forge-token")
    # a cluster reading a folder of the [declarations] repository keeps [forge]
    assert forge_of(settings, "a") == ("https://api.github.com", "lab/declarations",
                                       "global-forge-token")


def test_a_cluster_forge_of_its_own(tmp_path: Path) -> None:
    settings = load(tmp_path, '[clusters.forge]\nrepository = "b/decl"\n'
                    'api_url = "https://gitea.lan/api/v1"',
                    environ={"MYCOPOD_CLUSTERS__SITE_B__FORGE__TOKEN": "b-forge-token"})
    assert forge_of(settings, "site-b") == ("https://gitea.lan/api/v1", "b/decl",
                                            "b-forge-token")
    assert "b-forge-token" in settings.secret_values()
    assert "b-forge-token" not in repr(settings)


def test_a_cluster_forge_token_from_a_systemd_credential(tmp_path: Path) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "clusters_site-b_forge_token").write_text("cred-forge-token\n")
    (creds / "clusters_site-b_forge_token").chmod(0o600)
    settings = load(tmp_path, '[clusters.forge]\nrepository = "b/decl"',
                    environ={"CREDENTIALS_DIRECTORY": str(creds)})
    assert forge_of(settings, "site-b")[2] == "cred-forge-token"


def test_without_a_forge_repository_its_pull_requests_are_not_planned(tmp_path: Path) -> None:
    (mine,) = [s for s in load(tmp_path, "").per_cluster() if s.proxmox.cluster == "site-b"]
    assert mine.forge.repository is None and not mine.forge.enabled


@pytest.mark.parametrize(("b", "text", "message"), [
    ('[clusters.forge]\nrepository = "b/decl"', CONFIG.replace("[forge]", "[x]").replace(
        'api_url = "https://api.github.com"\nrepository = "lab/declarations"\n'
        'token = "global-forge-token"\n', ""),
     "config: clusters: 'site-b' sets forge.repository but has no forge api_url and "
     "token; set [forge] api_url and token (or api_url and token in its [clusters.forge])"),
    ('[clusters.forge]\nrepository = "no slash"', CONFIG,
     "[[clusters]] 'site-b': forge.repository"),
])
def test_a_bad_cluster_forge_is_named(tmp_path: Path, b: str, text: str,
                                      message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, b, text=text.replace("[x]\n", ""))
    assert message in str(err.value)


def test_a_forge_on_a_cluster_reading_a_folder_is_refused(tmp_path: Path) -> None:
    text = CONFIG.replace('path = "site-a/"', 'path = "site-a/"\n[clusters.forge]\n'
                          'repository = "a/decl"')
    with pytest.raises(ConfigError) as err:
        load(tmp_path, "", text=text)
    assert "[[clusters]] 'a': forge is for a cluster with its own repo" in str(err.value)


@pytest.mark.parametrize(("b", "extra", "owner"), [
    # the [forge] repository holds the [declarations] repository's commits
    ('[clusters.forge]\nrepository = "Lab/declarations"', "", "[forge] already uses for "
     "/srv/main.git"),
    # two clusters with repositories of their own on one forge repository
    ('[clusters.forge]\nrepository = "b/decl"',
     '\n[[clusters]]\nname = "c"\nrepo = "/srv/c.git"\n[clusters.forge]\nrepository = '
     '"b/decl"\n[clusters.proxmox]\nurl = "https://pve-c.lan:8006"\ntoken_id = '
     '"root@pam!mycopod"\ntoken_secret = "pve-c"\n',
     "cluster 'site-b' already uses for /srv/b.git"),
])
def test_a_forge_repository_of_another_git_repository_is_refused(
        tmp_path: Path, b: str, extra: str, owner: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, b, text=CONFIG + extra)
    assert owner in str(err.value)
    assert "a forge repository holds one git repository's commits" in str(err.value)


def test_clusters_on_one_repository_share_its_forge_repository(tmp_path: Path) -> None:
    extra = ('\n[[clusters]]\nname = "c"\nrepo = "/srv/b.git"\npath = "c/"\n'
             '[clusters.forge]\nrepository = "b/decl"\n[clusters.proxmox]\n'
             'url = "https://pve-c.lan:8006"\ntoken_id = "root@pam!mycopod"\n'
             'token_secret = "pve-c"\n')
    settings = load(tmp_path, 'path = "b/"\n[clusters.forge]\nrepository = "b/decl"',
                    text=CONFIG + extra)
    assert forge_of(settings, "c")[1] == forge_of(settings, "site-b")[1] == "b/decl"
