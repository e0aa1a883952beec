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
    (('token_secret = "secret-of-b"', ''), "[[clusters]] 'b': proxmox: token_secret is "
                                           "required when token_id is set (set token_secret "
                                           "or token_secret_file in its [clusters.proxmox], "
                                           "the environment variable MYCOPOD_CLUSTERS__B__"
                                           "PROXMOX__TOKEN_SECRET or the systemd credential "
                                           "clusters_b_proxmox_token_secret)"),
    (('url = "https://pve-b.lan:8006"', 'url = "https://PVE-A.lan:8006/"'),
     "clusters: 'a' and 'b' have the same proxmox.url 'https://PVE-A.lan:8006/'"),
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


# -- secrets of a cluster: a file, the environment, systemd credentials ----------------------


def _no_secret_of_b(tmp_path: Path) -> Path:
    return config(tmp_path, TWO.replace('token_secret = "secret-of-b"', ''))


def _token(settings: object, name: str) -> str:
    (entry,) = [c for c in settings.per_cluster()  # type: ignore[attr-defined]
                if c.proxmox.cluster == name]
    assert entry.proxmox.token_secret is not None
    return str(entry.proxmox.token_secret.get_secret_value())


def test_a_cluster_token_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(_no_secret_of_b(tmp_path),
                             environ={"MYCOPOD_CLUSTERS__B__PROXMOX__TOKEN_SECRET": "env-b"})
    assert (_token(settings, "a"), _token(settings, "b")) == ("secret-of-a", "env-b")
    assert "env-b" in settings.secret_values()
    assert "env-b" not in repr(settings)
    # the environment beats the file, as MYCOPOD_PROXMOX__TOKEN_SECRET does
    settings = load_settings(_no_secret_of_b(tmp_path),
                             environ={"MYCOPOD_CLUSTERS__A__PROXMOX__TOKEN_SECRET": "env-a",
                                      "MYCOPOD_CLUSTERS__B__PROXMOX__TOKEN_SECRET": "env-b"})
    assert _token(settings, "a") == "env-a"


def test_a_cluster_token_file_from_the_environment(tmp_path: Path) -> None:
    secret = tmp_path / "b-token"
    secret.write_text("file-of-b\n")
    secret.chmod(0o600)
    settings = load_settings(
        _no_secret_of_b(tmp_path),
        environ={"MYCOPOD_CLUSTERS__B__PROXMOX__TOKEN_SECRET_FILE": str(secret)})
    assert _token(settings, "b") == "file-of-b"


def test_a_cluster_token_from_systemd_credentials(tmp_path: Path) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    for name, value in (("clusters_b_proxmox_token_secret", "cred-b"),
                        ("clusters_a_proxmox_token_secret", "cred-a")):
        (creds / name).write_text(value + "\n")
        (creds / name).chmod(0o600)
    settings = load_settings(_no_secret_of_b(tmp_path),
                             environ={"CREDENTIALS_DIRECTORY": str(creds)})
    # the credential fills what the file leaves unset; a's own token_secret_file wins
    assert (_token(settings, "a"), _token(settings, "b")) == ("secret-of-a", "cred-b")
    assert "cred-b" in settings.secret_values()


def test_a_cluster_name_with_a_dash_in_the_environment(tmp_path: Path) -> None:
    text = _no_secret_of_b(tmp_path).read_text().replace('name = "b"', 'name = "site-b.x"')
    path = tmp_path / "dash.toml"
    path.write_text(text)
    settings = load_settings(
        path, environ={"MYCOPOD_CLUSTERS__SITE_B_X__PROXMOX__TOKEN_SECRET": "env-dash"})
    assert _token(settings, "site-b.x") == "env-dash"


@pytest.mark.parametrize(("environ", "message"), [
    ({"MYCOPOD_CLUSTERS__C__PROXMOX__TOKEN_SECRET": "x"},
     "environment variable MYCOPOD_CLUSTERS__C__PROXMOX__TOKEN_SECRET sets no cluster's "
     "secret"),
    ({"MYCOPOD_CLUSTERS__B__PROXMOX__URL": "https://x:8006"},
     "MYCOPOD_CLUSTERS__B__PROXMOX__URL sets no cluster's secret; the environment sets only "
     "secrets of a [[clusters]] entry"),
])
def test_a_cluster_variable_that_sets_nothing_is_named(tmp_path: Path, environ: dict[str, str],
                                                      message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(config(tmp_path), environ=environ)
    assert message in str(err.value)


def test_an_unreadable_cluster_secret_file_names_the_cluster_and_key(tmp_path: Path) -> None:
    text = TWO.replace('token_secret_file = "{secret}"',
                       f'token_secret_file = "{tmp_path / "missing"}"')
    with pytest.raises(ConfigError) as err:
        load_settings(config(tmp_path, text), environ={})
    assert str(err.value).startswith("config: [[clusters]] 'a': proxmox.token_secret_file: "
                                     f"cannot read secret file {tmp_path / 'missing'}")
    loose = tmp_path / "loose"
    loose.write_text("secret-in-loose-file\n")
    loose.chmod(0o644)
    text = TWO.replace('token_secret_file = "{secret}"', f'token_secret_file = "{loose}"')
    with pytest.raises(ConfigError) as err:
        load_settings(config(tmp_path, text), environ={})
    assert "[[clusters]] 'a': proxmox.token_secret_file: secret file" in str(err.value)
    assert "chmod 600" in str(err.value)
    assert "secret-in-loose-file" not in str(err.value)


def test_two_clusters_reading_the_same_variable_are_named(tmp_path: Path) -> None:
    text = _no_secret_of_b(tmp_path).read_text().replace('name = "a"', 'name = "s-1"').replace(
        'name = "b"', 'name = "s.1"')
    path = tmp_path / "clash.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={"MYCOPOD_CLUSTERS__S_1__PROXMOX__TOKEN_SECRET": "x"})
    assert "clusters 's-1' and 's.1' both read MYCOPOD_CLUSTERS__S_1__PROXMOX__TOKEN_SECRET" \
        in str(err.value)


def test_a_cluster_webhook_secret_from_a_credential_or_the_environment(tmp_path: Path) -> None:
    text = TWO.replace('path = "./site-b/"', 'repo = "/srv/b.git"').replace(
        'name = "b"', 'name = "site.b"')
    creds = tmp_path / "creds"
    creds.mkdir()
    # the name's "." is "_" in a file name, as in the clone's name
    (creds / "clusters_site_b_webhook_secret").write_text("hook-from-credential\n")
    (creds / "clusters_site_b_webhook_secret").chmod(0o600)
    settings = load_settings(config(tmp_path, text),
                             environ={"CREDENTIALS_DIRECTORY": str(creds)})
    (b,) = [c for c in settings.clusters if c.name == "site.b"]
    assert b.webhook_secret is not None
    assert b.webhook_secret.get_secret_value() == "hook-from-credential"
    assert "hook-from-credential" in settings.secret_values()
    # the per-cluster settings carry it as that cluster's declarations.webhook_secret
    _, per_b = settings.per_cluster()
    assert per_b.declarations.webhook_secret == b.webhook_secret
    settings = load_settings(config(tmp_path, text), environ={
        "CREDENTIALS_DIRECTORY": str(creds),
        "MYCOPOD_CLUSTERS__SITE_B__WEBHOOK_SECRET": "hook-from-env"})
    (b,) = [c for c in settings.clusters if c.name == "site.b"]
    assert b.webhook_secret is not None
    assert b.webhook_secret.get_secret_value() == "hook-from-env"
