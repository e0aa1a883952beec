"""A configuration that points at a running simulator, a git remote and a database."""

from __future__ import annotations

from pathlib import Path

from mycopod.pvesim.testing import SimHandle
from tests.support.gitrepo import Remote

GOOD = ("web-1 is a VM with 2 cores, 2 GB of RAM and a 16 GB disk on local-lvm. "
        "It should be running.\n")


def secret_file(path: Path, value: str) -> Path:
    path.write_text(value)
    path.chmod(0o600)
    return path


def write_config(tmp: Path, *, sim: SimHandle, repo: str, database_url: str | None,
                 token_id: str | None = None, token_secret: str | None = None,
                 extra: str = "") -> Path:
    secret = secret_file(tmp / "proxmox_token_secret", token_secret or sim.token_secret)
    database = f'[database]\nurl = "{database_url}"\n' if database_url else ""
    config = tmp / "mycopod.toml"
    config.write_text(
        f'state_dir = "{tmp / "state"}"\n{database}'
        f'[proxmox]\nurl = "{sim.url}"\ntoken_id = "{token_id or sim.token_id}"\n'
        f'token_secret_file = "{secret}"\nverify_tls = false\n'
        f'[declarations]\nrepo = "{repo}"\n{extra}')
    return config


def remote_with(tmp: Path, text: str = GOOD) -> Remote:
    (tmp / "repo").mkdir()
    remote = Remote(tmp / "repo")
    remote.commit({"lab.md": text})
    return remote
