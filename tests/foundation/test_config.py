"""Settings: sources and their order, secrets from files, and every bad-config message."""

from __future__ import annotations

import os
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


def test_example_config_documents_every_key() -> None:
    path = REPO / "config" / "mycopod.example.toml"
    text = path.read_text()
    data = tomllib.loads(text)
    for key in Settings.model_fields:
        if key in GROUPS:
            assert f"[{key}]" in text, f"[{key}] is not documented"
            for sub in GROUPS[key].model_fields:
                assert f"{sub} =" in text or f"# {sub} =" in text, f"{key}.{sub} undocumented"
        else:
            assert f"{key} =" in text, f"{key} is not documented"
    # and the file as shipped is a valid configuration
    load_settings(path, environ={})
    assert isinstance(data, dict)
