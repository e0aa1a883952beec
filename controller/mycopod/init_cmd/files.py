"""The settings file, the credential files and the systemd unit ``mycopod init`` writes."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from mycopod.errors import MycoPodError

#: where the packaged unit expects things; replaced by the answers
UNIT_BIN = "/opt/mycopod/bin/mycopod"
UNIT_CONFIG = "/etc/mycopod/mycopod.toml"
UNIT_CREDENTIALS = "/etc/mycopod/credentials"


@dataclass
class Answers:
    proxmox_url: str
    token_id: str
    token_secret: str
    repo: str
    branch: str = "main"
    verify_tls: bool = True
    ca_file: Path | None = None
    database_url: str | None = None  # None: the embedded PostgreSQL in state_dir
    database_password: str | None = None
    repo_token: str | None = None
    webhook_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    jwt_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    state_dir: Path = Path("/var/lib/mycopod")


@dataclass(frozen=True)
class Layout:
    config_dir: Path
    unit_dir: Path
    program: Path

    @property
    def config(self) -> Path:
        return self.config_dir / "mycopod.toml"

    @property
    def credentials(self) -> Path:
        return self.config_dir / "credentials"

    @property
    def unit(self) -> Path:
        return self.unit_dir / "mycopod.service"


def _toml(value: object) -> str:
    return json.dumps(str(value)) if not isinstance(value, (bool, int)) else \
        str(value).lower() if isinstance(value, bool) else str(value)


def settings_text(a: Answers) -> str:
    lines = ["# Written by `mycopod init`. Every key and its default: mycopod.example.toml",
             "# (in the package: python -c 'import mycopod, pathlib; print(pathlib.Path(",
             "# mycopod.__file__).parent / \"data\" / \"mycopod.example.toml\")').",
             "# Secrets are not here: they are the files in credentials/, handed over by",
             "# systemd (LoadCredential=) as $CREDENTIALS_DIRECTORY/<group>_<key>.",
             f"state_dir = {_toml(a.state_dir)}", "", "[database]"]
    lines.append(f"url = {_toml(a.database_url)}" if a.database_url else
                 "# url unset: the embedded PostgreSQL in state_dir/pgdata")
    lines += ["", "[proxmox]", f"url = {_toml(a.proxmox_url)}", f"token_id = {_toml(a.token_id)}",
              f"verify_tls = {_toml(a.verify_tls)}"]
    if a.ca_file is not None:
        lines.append(f"ca_file = {_toml(a.ca_file)}")
    lines += ["", "[declarations]", f"repo = {_toml(a.repo)}", f"branch = {_toml(a.branch)}",
              "", "[api]", f"host = {_toml(a.api_host)}", f"port = {a.api_port}", ""]
    return "\n".join(lines)


def credentials(a: Answers) -> dict[str, str]:
    """credential name (``<group>_<key>``) -> secret."""
    found = {"proxmox_token_secret": a.token_secret,
             "declarations_webhook_secret": a.webhook_secret,
             "api_jwt_secret": a.jwt_secret}
    if a.database_password:
        found["database_password"] = a.database_password
    if a.repo_token:
        found["declarations_token"] = a.repo_token
    return found


def unit_text(layout: Layout, names: list[str]) -> str:
    """The packaged unit, pointed at this install, with one LoadCredential= per secret."""
    template = (resources.files("mycopod") / "data" / "mycopod.service").read_text("utf-8")
    out: list[str] = []
    for line in template.splitlines():
        if line.startswith("LoadCredential=") and not any(
                line.startswith(f"LoadCredential={n}:") for n in names):
            continue  # a secret not written: systemd would refuse to start without its file
        out.append(line)
    text = "\n".join(out) + "\n"
    loads = "".join(f"LoadCredential={n}:{layout.credentials / n}\n" for n in names
                    if f"LoadCredential={n}:" not in text)
    if loads:  # secrets the packaged unit has no line for (declarations_token)
        text = text.replace("\n# Hardening.", f"{loads}\n# Hardening.", 1)
    text = text.replace(UNIT_BIN, str(layout.program))
    text = text.replace(UNIT_CONFIG, str(layout.config))
    return text.replace(UNIT_CREDENTIALS, str(layout.credentials))


def _write(path: Path, text: str, mode: int, *, force: bool) -> None:
    if path.exists() and not force:
        raise MycoPodError(f"{path} exists; move it away or give --force")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    path.chmod(mode)  # O_CREAT's mode is masked by the umask, and an old file kept its own


def write_all(a: Answers, layout: Layout, *, force: bool = False) -> list[Path]:
    written = []
    secrets_ = credentials(a)
    layout.credentials.mkdir(parents=True, exist_ok=True)
    layout.credentials.chmod(0o700)
    for name, value in secrets_.items():
        _write(layout.credentials / name, value + "\n", 0o600, force=force)
        written.append(layout.credentials / name)
    _write(layout.config, settings_text(a), 0o644, force=force)
    _write(layout.unit, unit_text(layout, list(secrets_)), 0o644, force=force)
    return [layout.config, *written, layout.unit]
