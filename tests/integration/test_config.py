"""Settings: sources and their order, secrets from files, and every bad-config message."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest

from mycopod.config import GROUPS, Settings, load_settings
from mycopod.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_defaults_without_any_source() -> None:
    s = load_settings(environ={})
    assert s.state_dir == Path(".mycopod")
    assert s.database.url is None and s.database.connect_timeout == 30
    assert s.proxmox.verify_tls is True
    assert s.declarations.branch == "main" and s.declarations.glob == "**/*.md"
    assert s.apply.max_parallel == 4 and s.apply.per_node_parallel == 2
    assert s.apply.resync_seconds == 600 and s.apply.drift_seconds == 60
    assert s.policy.ownership_tag == "mycopod" and s.policy.max_deletions_per_run == 1
    assert s.policy.prune is False and s.policy.self_heal is True
    assert (s.policy.max_creates_per_run, s.policy.max_deletions_per_window,
            s.policy.max_creates_per_window, s.policy.budget_window_seconds) == (50, 1, 200, 3600)
    assert s.declarations.max_guests == 2000
    assert s.llm.model is None and s.llm.timeout == 60


def test_env_overrides_toml(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", '[proxmox]\nverify_tls = true\ntimeout = 5\n'
                '[api]\nport = 9000\n')
    s = load_settings(cfg, environ={"MYCOPOD_PROXMOX__VERIFY_TLS": "false",
                                    "MYCOPOD_STATE_DIR": "/tmp/x"})
    assert s.proxmox.verify_tls is False  # env wins over the file
    assert s.proxmox.timeout == 5  # the file's other keys stay
    assert s.api.port == 9000
    assert s.state_dir == Path("/tmp/x")


def test_sources_in_order_env_overrides_file_credentials(tmp_path: Path) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    write(creds / "api_jwt_secret", "from-credentials")
    write(creds / "api_metrics_token", "credentials-token")
    cfg = write(tmp_path / "c.toml", '[api]\nport = 1001\nhost = "file"\n'
                'metrics_token = "file-token"\nrate_limit_per_minute = 7\n')
    s = load_settings(cfg, environ={"MYCOPOD_API__PORT": "1003",
                                    "CREDENTIALS_DIRECTORY": str(creds)},
                      overrides={"api": {"port": 1002, "host": "override"}})
    assert s.api.port == 1003  # the environment over everything
    assert s.api.host == "override"  # overrides over the file
    assert s.api.rate_limit_per_minute == 7  # the file's other keys stay
    assert s.api.metrics_token is not None and s.api.jwt_secret is not None
    assert s.api.metrics_token.get_secret_value() == "file-token"  # a credential never wins
    assert s.api.jwt_secret.get_secret_value() == "from-credentials"  # it fills what is unset


def test_given_environment_replaces_the_process_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MYCOPOD_CONFIG", raising=False)
    monkeypatch.setenv("MYCOPOD_API__PORT", "9999")
    s = load_settings(environ={"MYCOPOD_APPLY__MAX_PARALLEL": "3"})
    assert s.api.port == 8080 and s.apply.max_parallel == 3
    # and the process environment is left as it was
    assert os.environ["MYCOPOD_API__PORT"] == "9999"
    assert "MYCOPOD_APPLY__MAX_PARALLEL" not in os.environ
    assert load_settings().api.port == 9999


def test_config_path_from_environment(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", '[apply]\nmax_parallel = 7\n')
    s = load_settings(environ={"MYCOPOD_CONFIG": str(cfg)})
    assert s.apply.max_parallel == 7


def test_unknown_key_in_file_is_named(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", '[policy]\nprnue = true\n')
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, environ={})
    assert "policy.prnue" in str(err.value)
    assert "did you mean 'prune'" in str(err.value)


def test_unknown_group_in_file_is_named(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", '[proxmx]\nurl = "https://x"\n')
    with pytest.raises(ConfigError, match="unknown key 'proxmx'.*did you mean 'proxmox'"):
        load_settings(cfg, environ={})


def test_unknown_environment_variable_is_named() -> None:
    with pytest.raises(ConfigError, match="MYCOPOD_PROXMOX__VERIFY_TSL"):
        load_settings(environ={"MYCOPOD_PROXMOX__VERIFY_TSL": "false"})


def test_wrong_type_names_key_and_value(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", '[apply]\nmax_parallel = "many"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, environ={})
    assert "apply.max_parallel" in str(err.value)
    assert "'many'" in str(err.value)


def test_wrong_type_from_environment() -> None:
    with pytest.raises(ConfigError, match="proxmox.verify_tls"):
        load_settings(environ={"MYCOPOD_PROXMOX__VERIFY_TLS": "perhaps"})


def test_missing_required_secret() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(environ={"MYCOPOD_PROXMOX__URL": "https://pve:8006",
                               "MYCOPOD_PROXMOX__TOKEN_ID": "root@pam!mycopod"})
    assert "token_secret is required" in str(err.value)


def test_secret_from_file(tmp_path: Path) -> None:
    secret = write(tmp_path / "token", "s3cret-value\n")
    s = load_settings(environ={"MYCOPOD_PROXMOX__URL": "https://pve:8006",
                               "MYCOPOD_PROXMOX__TOKEN_ID": "root@pam!mycopod",
                               "MYCOPOD_PROXMOX__TOKEN_SECRET_FILE": str(secret)})
    assert s.proxmox.token_secret is not None
    assert s.proxmox.token_secret.get_secret_value() == "s3cret-value"
    assert "s3cret-value" not in repr(s)
    assert "s3cret-value" in s.secret_values()


def test_unreadable_secret_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError) as err:
        load_settings(environ={"MYCOPOD_API__JWT_SECRET_FILE": str(missing)})
    assert "api.jwt_secret_file" in str(err.value)
    assert "cannot read secret file" in str(err.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_secret_file_without_read_permission(tmp_path: Path) -> None:
    secret = write(tmp_path / "k", "value-value", mode=0o000)
    with pytest.raises(ConfigError, match="cannot read secret file"):
        load_settings(environ={"MYCOPOD_LLM__API_KEY_FILE": str(secret)})


def test_secret_file_that_is_not_text(tmp_path: Path) -> None:
    secret = tmp_path / "k"
    secret.write_bytes(b"\xff\xfe\x00binary")
    secret.chmod(0o600)
    with pytest.raises(ConfigError) as err:
        load_settings(environ={"MYCOPOD_LLM__API_KEY_FILE": str(secret)})
    assert "llm.api_key_file" in str(err.value) and "cannot read secret file" in str(err.value)


def test_secret_file_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="llm.api_key_file: secret file .* is not a regular"):
        load_settings(environ={"MYCOPOD_LLM__API_KEY_FILE": str(tmp_path)})


def test_secret_file_readable_by_others(tmp_path: Path) -> None:
    secret = write(tmp_path / "k", "value-value", mode=0o644)
    with pytest.raises(ConfigError) as err:
        load_settings(environ={"MYCOPOD_LLM__API_KEY_FILE": str(secret)})
    assert "llm" in str(err.value)
    assert "readable by group or others" in str(err.value)
    assert f"chmod 600 {secret}" in str(err.value)


def test_systemd_credentials_directory(tmp_path: Path) -> None:
    write(tmp_path / "api_jwt_secret", "from-credentials-dir")
    s = load_settings(environ={"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert s.api.jwt_secret is not None
    assert s.api.jwt_secret.get_secret_value() == "from-credentials-dir"


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", "[policy\nprune = true\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(cfg, environ={})


def test_missing_config_file() -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings("/nonexistent/mycopod.toml", environ={})


def documented_keys(text: str) -> dict[str, set[str]]:
    """The keys an example file shows, set (``key = ``) or commented out (``# key = ``),
    per table; ``""`` is the top level, before the first table."""
    keys: dict[str, set[str]] = {"": set()}
    table = ""
    for line in text.splitlines():
        header = re.match(r"^\[([a-z_]+)\]\s*$", line)
        if header:
            table = header.group(1)
            keys.setdefault(table, set())
            continue
        key = re.match(r"^(?:# )?([a-z_]+) = ", line)
        if key:
            keys[table].add(key.group(1))
    return keys


def test_example_config_documents_every_key() -> None:
    path = REPO / "config" / "mycopod.example.toml"
    # one example: the checkout's is the packaged one (mycopod init and the wheel use it)
    assert path.resolve() == (REPO / "controller/mycopod/data/mycopod.example.toml").resolve()
    text = path.read_text()
    shown = documented_keys(text)
    top = {k for k in Settings.model_fields if k not in GROUPS}
    assert shown[""] == top, "top-level keys shown differ from the settings"
    for group, model in GROUPS.items():
        assert group in shown, f"[{group}] is not documented"
        assert shown[group] == set(model.model_fields), (
            f"[{group}]: undocumented {sorted(set(model.model_fields) - shown[group])}, "
            f"not settings {sorted(shown[group] - set(model.model_fields))}")
    assert set(shown) == {"", *GROUPS}, "a table in the example is not a settings group"
    # the file as shipped is a valid configuration, shows every value as its default (as
    # its first line says), and is read: each key it sets counts as set
    settings = load_settings(path, environ={})
    assert settings == load_settings(environ={})
    for key, value in tomllib.loads(text).items():
        if isinstance(value, dict):
            assert set(value) <= getattr(settings, key).model_fields_set, key
        else:
            assert key in settings.model_fields_set, key
