"""[[clusters]]: several Proxmox clusters in one configuration file, and every mistake in
them stopping start-up with a message that names it (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mycopod.config import load_settings
from mycopod.errors import ConfigError

TWO = """
[declarations]
repo = "{repo}"
[policy]
prune = false
[[clusters]]
name = "a"
path = "site-a"
policy = {{ prune = true }}
[clusters.proxmox]
url = "https://pve-a.lan:8006"
token_id = "root@pam!mycopod"
token_secret_file = "{secret}"
[[clusters]]
name = "b"
path = "./site-b/"
[clusters.proxmox]
url = "https://pve-b.lan:8006"
token_id = "root@pam!mycopod"
token_secret = "secret-of-b"
verify_tls = false
"""


def config(tmp_path: Path, text: str = TWO) -> Path:
    secret = tmp_path / "pve-a-token"
    secret.write_text("secret-of-a\n")
    secret.chmod(0o600)
    path = tmp_path / "mycopod.toml"
    path.write_text(text.format(repo=tmp_path / "repo", secret=secret))
    return path


def test_each_cluster_gets_its_own_proxmox_folder_and_policy(tmp_path: Path) -> None:
    settings = load_settings(config(tmp_path), environ={})
    a, b = settings.per_cluster()
    assert (a.proxmox.cluster, a.proxmox.url) == ("a", "https://pve-a.lan:8006")
    assert (b.proxmox.cluster, b.proxmox.url) == ("b", "https://pve-b.lan:8006")
    assert a.proxmox.token_secret is not None
    assert a.proxmox.token_secret.get_secret_value() == "secret-of-a"
    assert b.proxmox.verify_tls is False and a.proxmox.verify_tls is True
    assert (a.declarations.path, b.declarations.path) == ("site-a/", "site-b/")
    assert a.declarations.repo == b.declarations.repo == str(tmp_path / "repo")
    assert (a.policy.prune, b.policy.prune) == (True, False)
    assert settings.cluster_names() == ["a", "b"]
    # both clusters' secrets are redacted from the logs
    assert {"secret-of-a", "secret-of-b"} <= set(settings.secret_values())


def test_a_single_proxmox_is_still_the_default_cluster(tmp_path: Path) -> None:
    path = tmp_path / "one.toml"
    path.write_text('[proxmox]\nurl = "https://pve.lan:8006"\ntoken_id = "root@pam!m"\n'
                    'token_secret = "s"\n')
    settings = load_settings(path, environ={})
    (only,) = settings.per_cluster()
    assert only is settings and only.proxmox.cluster == "default"
    assert settings.cluster_names() == ["default"]


def test_a_cluster_with_its_own_repository(tmp_path: Path) -> None:
    text = TWO.replace('path = "./site-b/"', 'repo = "/srv/b.git"\nbranch = "prod"')
    a, b = load_settings(config(tmp_path, text), environ={}).per_cluster()
    assert (b.declarations.repo, b.declarations.branch, b.declarations.path) == (
        "/srv/b.git", "prod", None)
    assert (a.declarations.branch, a.declarations.path) == ("main", "site-a/")


@pytest.mark.parametrize(("change", "message"), [
    (('name = "b"', 'name = "a"'), "the name 'a' is used by two entries"),
    (('path = "./site-b/"', 'path = "site-a/x"'),
     "'a' and 'b' would both own declarations (paths 'site-a/' and 'site-a/x/' overlap"),
    (('path = "./site-b/"', ''), "(the whole repository)' overlap"),
    (('name = "b"', 'name = ""'), "[[clusters]] entry 2: name: String should have at least 1"),
    (('name = "b"', f'name = "{"x" * 64}"'), "[[clusters]] entry 2: name: String should have"
                                             " at most 63"),
    (('path = "site-a"', 'path = "../up"'), "must be a folder inside the repository"),
    (('prune = true', 'prun = true'), "'a' policy has unknown key 'prun'; did you mean 'prune'?"),
    (('prune = true', 'max_deletions_per_run = -1'),
     "'a' policy.max_deletions_per_run: Input should be greater than or equal to 0"),
    (('token_secret = "secret-of-b"', ''), "[[clusters]] entry 2: proxmox: token_secret is "
                                           "required"),
    (('[declarations]', '[proxmox]\nurl = "https://old:8006"\ntoken_id = "r@pam!t"\n'
                        'token_secret = "x"\n[declarations]'),
     "both [proxmox] and [[clusters]] are given; move the [proxmox] settings"),
    (('verify_tls = false', 'verify_tsl = false'), "verify_tsl"),
])
def test_a_bad_clusters_config_names_what_is_wrong(tmp_path: Path, change: tuple[str, str],
                                                  message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(config(tmp_path, TWO.replace(*change)), environ={})
    assert message in str(err.value)
    assert str(err.value).startswith("config: ")
