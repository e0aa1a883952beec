"""A "remote" declarations repository in a temporary folder, written with the git CLI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class Remote:
    """A bare repository plus a working clone used to push commits to it."""

    def __init__(self, root: Path, branch: str = "main") -> None:
        self.root = root
        self.branch = branch
        self.bare = root / "remote.git"
        self.work = root / "work"
        self.git("init", "-q", "--bare", "-b", branch, str(self.bare), cwd=root)
        self.git("init", "-q", "-b", branch, str(self.work), cwd=root)
        self.git("remote", "add", "origin", str(self.bare))

    def git(self, *args: str, cwd: Path | None = None) -> str:
        env = {**os.environ, "GIT_AUTHOR_NAME": "Owner", "GIT_AUTHOR_EMAIL": "owner@lab",
               "GIT_COMMITTER_NAME": "Owner", "GIT_COMMITTER_EMAIL": "owner@lab"}
        out = subprocess.run(["git", *args], cwd=cwd or self.work, env=env, check=True,
                             capture_output=True, text=True)
        return out.stdout.strip()

    def commit(self, files: dict[str, str | bytes | None], message: str = "update",
               *, push: bool = True, force: bool = False) -> str:
        for name, content in files.items():
            path = self.work / name
            if content is None:
                path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        if push:
            self.git("push", "-q", *(["--force"] if force else []), "origin",
                     f"HEAD:{self.branch}")
        return self.git("rev-parse", "HEAD")
