"""The declarations repository: fetch the branch, read files at a commit, commit files.

Interface (blocking gitpython calls; async callers use ``asyncio.to_thread`` or
``fetch_async``):

- ``GitSource(settings: DeclarationsSettings, *, state_dir: Path)`` and
  ``GitSource.from_settings(settings: Settings)``;
- ``fetch() -> str``: the head sha of the branch after fetching; raises SourceError;
- ``files_at(commit) -> dict[str, str]``: path -> text of every declaration file
  (``glob``, README.md excluded), read from git objects; raises SourceFilesError
  listing every bad file (over 256 KiB, not UTF-8, a symlink pointing outside);
- ``commit_info(commit) -> CommitInfo`` (author, message, time);
- ``commit_declaration(path, text, *, author_name, author_email) -> str``: writes one
  file through a commit on the branch and pushes it (a rejected push is retried once
  after a fetch and rebase).

Why so: git is the single source of truth. A clone is kept under ``state_dir`` and the
files are read from the commit's tree, never from a working tree, so what compiles is
exactly what was pushed. The branch head is followed even through a force-push (the
rewrite is logged and kept in ``rewrites``); an unreachable remote keeps the last good
head (``last_good``) and grows ``retry_delay()`` exponentially. An https token is sent
as an HTTP header on each command, never written into the clone's config or a log.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import re
import stat
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import structlog
from gitdb import IStream

from mycopod import telemetry
from mycopod.backoff import Backoff
from mycopod.config import DeclarationsSettings
from mycopod.config_clusters import state_name
from mycopod.declarations.paths import glob_regex, is_declaration
from mycopod.errors import MycoPodError

if TYPE_CHECKING:
    from mycopod.config import Settings

__all__ = ["MAX_FILE_BYTES", "CommitInfo", "GitSource", "SourceError", "SourceFilesError",
           "glob_regex"]

log = structlog.get_logger(__name__)

MAX_FILE_BYTES = 256 * 1024
_SHA_RE = re.compile(r"^[0-9a-f]{4,40}$")


class SourceError(MycoPodError):
    """The repository cannot be read or written; the message says why and what to do."""


class SourceFilesError(SourceError):
    """Some declaration files of a commit cannot be used; ``problems`` is (path, message),
    ``files`` the ones that could be read."""

    def __init__(self, problems: list[tuple[str, str]],
                 files: dict[str, str] | None = None) -> None:
        self.problems = problems
        self.files = files or {}
        super().__init__("\n".join(f"{path}: {message}" for path, message in problems))


class BranchMovedError(SourceError):
    """The branch moved past the commit a change was checked against."""


@dataclass(frozen=True, slots=True)
class CommitInfo:
    sha: str
    author: str
    author_email: str
    message: str
    time: datetime


class GitSource:
    """A local clone that follows one branch of the declarations repository."""

    def __init__(self, settings: DeclarationsSettings, *, state_dir: Path,
                 cluster: str = "default") -> None:
        if not settings.repo:
            raise SourceError("no declarations repository configured (set declarations.repo)")
        self.settings = settings
        self.url = self._normalise_url(settings.repo)
        self.branch = settings.branch
        #: only files under this folder are declarations ("site-a/"; "": all of them)
        self.prefix = settings.path or ""
        # one clone per cluster: each cluster's poller fetches and reads on its own
        clone = ("declarations.git" if cluster == "default"
                 else f"declarations-{state_name(cluster)}.git")
        self.path = Path(state_dir) / clone
        self.pattern = glob_regex(settings.glob)
        self.last_good: str | None = None
        self.last_error: str | None = None
        #: failed fetches in a row, and how long the poller waits after them
        poll = settings.poll_seconds
        self.backoff = Backoff(poll, min(max(poll, 600.0), poll * 1024), jitter=False)
        #: (old head, new head) of every history rewrite seen
        self.rewrites: list[tuple[str, str]] = []
        self._lock = threading.RLock()
        self._repo: Any = None

    @classmethod
    def from_settings(cls, settings: Settings) -> GitSource:
        return cls(settings.declarations, state_dir=Path(settings.state_dir),
                   cluster=settings.proxmox.cluster)

    # --- plumbing ----------------------------------------------------------------------

    @staticmethod
    def _normalise_url(repo: str) -> str:
        if re.match(r"^[a-z][a-z0-9+.-]*://", repo) or re.match(r"^[\w.-]+@[\w.-]+:", repo):
            return repo
        return str(Path(repo).expanduser().resolve())

    def _secret(self) -> str | None:
        token = self.settings.token
        return token.get_secret_value() if token is not None else None

    def _git_args(self) -> list[str]:
        args = ["git", "-c", "core.quotepath=off", "-c", "protocol.file.allow=always"]
        token = self._secret()
        if token and self.url.startswith("https://"):
            basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
            args += ["-c", f"http.extraHeader=Authorization: Basic {basic}"]
        return args

    def _env(self) -> dict[str, str]:
        return {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true",
                "GIT_SSH_COMMAND": os.environ.get(
                    "GIT_SSH_COMMAND", "ssh -o BatchMode=yes -o ConnectTimeout=15")}

    def _scrub(self, text: str) -> str:
        token = self._secret()
        if token:
            text = text.replace(token, "***")
            text = text.replace(base64.b64encode(f"x-access-token:{token}".encode()).decode(),
                                "***")
        return text

    def _run(self, *args: str) -> str:
        import git

        repo = self._open()
        try:
            out = repo.git.execute([*self._git_args(), *args], env=self._env(),
                                   kill_after_timeout=120)
        except git.GitCommandError as exc:
            stderr = self._scrub(str(exc.stderr or exc)).strip()
            lines = [ln.strip().removeprefix("stderr: ").strip("'") for ln in
                     stderr.splitlines() if ln.strip()]
            fatal = [ln for ln in lines if ln.startswith(("fatal:", "error:", "remote:"))]
            detail = (fatal[0] if fatal else lines[-1]) if lines else str(exc)
            raise SourceError(f"git {args[0]} failed: {detail}") from None
        return str(out)

    def _open(self) -> Any:
        import git

        if self._repo is not None:
            return self._repo
        try:
            if (self.path / ".git").exists():
                repo = git.Repo(self.path)
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                repo = git.Repo.init(self.path, initial_branch=self.branch)
                repo.create_remote("origin", self.url)
            with repo.config_writer() as cfg:
                cfg.set_value("remote \"origin\"", "url", self.url)
        except (OSError, git.GitError) as exc:
            raise SourceError(f"cannot prepare the clone in {self.path}: {exc}") from None
        self._repo = repo
        return repo

    # --- reading -----------------------------------------------------------------------

    def fetch(self) -> str:
        """Fetch the branch; its head sha. On failure the last good head stays in force."""
        with self._lock:
            try:
                head = self._fetch()
            except SourceError as exc:
                self.backoff.failure()
                self.last_error = str(exc)
                log.warning("repo.fetch_failed", repo=self._scrub(self.url), error=str(exc),
                            failures=self.failures, last_good=self.last_good,
                            retry_in=self.retry_delay())
                raise
            if self.last_good and head != self.last_good and not self._is_ancestor(
                    self.last_good, head):
                self.rewrites.append((self.last_good, head))
                log.warning("repo.history_rewritten", branch=self.branch, old=self.last_good,
                            new=head)
            self.last_good = head
            self.backoff.success()
            telemetry.REPO_LAST_FETCH.set_to_current_time()
            self.last_error = None
            return head

    def _fetch(self) -> str:
        refspec = f"+refs/heads/{self.branch}:refs/remotes/origin/{self.branch}"
        try:
            self._run("fetch", "--prune", "--no-tags", "origin", refspec)
        except SourceError as exc:
            if "couldn't find remote ref" in str(exc) or "could not find remote ref" in str(
                    exc):
                refs = self._run("ls-remote", "--heads", "origin").strip()
                if not refs:
                    raise SourceError(f"the declarations repository {self._scrub(self.url)} "
                                      "is empty: push a first commit to branch "
                                      f"{self.branch!r}") from None
                raise SourceError(f"branch {self.branch!r} does not exist in "
                                  f"{self._scrub(self.url)} (set declarations.branch)") from None
            raise SourceError(f"cannot fetch {self._scrub(self.url)}: "
                              f"{str(exc).removeprefix('git fetch failed: ')}") from None
        return self._run("rev-parse", f"refs/remotes/origin/{self.branch}").strip()

    def fetch_ref(self, ref: str, *, local: str) -> str:
        """Fetch ``ref`` of the remote (a pull request's ``refs/pull/N/head``) into
        ``local`` (under ``refs/mycopod/``); its sha. The branch is left as it is."""
        if not re.match(r"^refs/[A-Za-z0-9/_.-]+$", ref) or ".." in ref:
            raise SourceError(f"{ref!r} is not a ref name")
        with self._lock:
            self._open()
            self._run("fetch", "--no-tags", "origin", f"+{ref}:refs/mycopod/{local}")
            return self._run("rev-parse", f"refs/mycopod/{local}").strip()

    def _is_ancestor(self, old: str, new: str) -> bool:
        try:
            self._run("merge-base", "--is-ancestor", old, new)
        except SourceError:
            return False
        return True

    @property
    def failures(self) -> int:
        return self.backoff.failures

    def retry_delay(self) -> float:
        """Seconds to wait before the next fetch: the poll interval, doubled per failure
        (up to 10 minutes, or 1024 poll intervals when that is shorter)."""
        return self.backoff.delay() or float(self.settings.poll_seconds)

    def _commit(self, commit: str) -> Any:
        import git

        if not _SHA_RE.match(commit):
            raise SourceError(f"{commit!r} is not a commit sha")
        repo = self._open()
        try:
            found = repo.commit(commit)
            found.tree  # noqa: B018 - resolves the object now, so a missing one fails here
        except (ValueError, git.BadName, git.GitError):
            raise SourceError(f"commit {commit} is not in the repository (fetch first?)"
                              ) from None
        return found

    def files_at(self, commit: str) -> dict[str, str]:
        """Every declaration file of ``commit`` as path -> text, read from git objects."""
        with self._lock:
            tree = self._commit(commit).tree
            files: dict[str, str] = {}
            problems: list[tuple[str, str]] = []
            for item in tree.traverse():
                if item.type != "blob" or not is_declaration(item.path, self.pattern):
                    continue
                if not item.path.startswith(self.prefix):
                    continue
                mode = item.mode
                blob = item
                if stat.S_ISLNK(mode):
                    target = blob.data_stream.read().decode("utf-8", "replace")
                    resolved = PurePosixPath(item.path).parent / target
                    parts: list[str] = []
                    for part in resolved.parts:
                        if part == "..":
                            if not parts:
                                parts = ["<outside>"]
                                break
                            parts.pop()
                        elif part not in (".", ""):
                            parts.append(part)
                    if target.startswith("/") or parts[:1] == ["<outside>"]:
                        problems.append((item.path, f"is a symlink to {target!r}, outside the "
                                                    "repository; symlinks must stay inside"))
                        continue
                    try:
                        blob = tree / "/".join(parts)
                    except KeyError:
                        problems.append((item.path, f"is a symlink to {target!r}, which does "
                                                    "not exist"))
                        continue
                    if blob.type != "blob" or stat.S_ISLNK(blob.mode):
                        problems.append((item.path, f"is a symlink to {target!r}, which is not "
                                                    "a regular file"))
                        continue
                if blob.size > MAX_FILE_BYTES:
                    problems.append((item.path, f"is {blob.size} bytes; declaration files "
                                                f"must be at most {MAX_FILE_BYTES // 1024} KiB"))
                    continue
                data = blob.data_stream.read()
                try:
                    files[item.path] = data.decode("utf-8")
                except UnicodeDecodeError as exc:
                    problems.append((item.path, f"is not UTF-8 text (byte {exc.start}); save "
                                                "it as UTF-8"))
            if problems:
                raise SourceFilesError(problems, files)
            return files

    def created_in(self, path: str, commit: str) -> str | None:
        """The commit that created ``path`` as it exists at ``commit``: the last one
        that added it (a rename counts as adding the new name); None when ``commit``
        has no such file."""
        normal = self._check_path(path)
        with self._lock:
            try:
                _ = self._commit(commit).tree / normal
            except KeyError:
                return None
            out = self._run("log", "-1", "--no-renames", "--diff-filter=A", "--format=%H",
                            commit, "--", normal).strip()
            return out or None

    def commit_info(self, commit: str) -> CommitInfo:
        with self._lock:
            c = self._commit(commit)
            return CommitInfo(
                sha=c.hexsha, author=str(c.author.name), author_email=str(c.author.email),
                message=str(c.message).strip(),
                time=datetime.fromtimestamp(c.committed_date, tz=UTC))

    # --- writing -----------------------------------------------------------------------

    def _check_path(self, path: str) -> str:
        clean = PurePosixPath(path)
        if clean.is_absolute() or ".." in clean.parts or not path or "\\" in path:
            raise SourceError(f"{path!r} is not a relative path inside the repository")
        normal = str(clean)
        if not is_declaration(normal, self.pattern):
            raise SourceError(f"{normal!r} is not a declaration file (it must match "
                              f"{self.settings.glob!r} and not be README.md)")
        if not normal.startswith(self.prefix):
            raise SourceError(f"{normal!r} is not in this cluster's folder {self.prefix!r}")
        return normal

    def commit_declaration(self, path: str, text: str, *, author_name: str,
                           author_email: str, message: str | None = None,
                           parent: str | None = None) -> str:
        """Commit ``text`` as ``path`` on the branch and push it; the new commit's sha.

        With ``parent``, the commit goes right on top of that commit (the one the caller
        checked the change against) or not at all: BranchMovedError if the branch moved.
        """
        normal = self._check_path(path)
        if len(text.encode("utf-8")) > MAX_FILE_BYTES:
            raise SourceError(f"the declaration is larger than {MAX_FILE_BYTES // 1024} KiB")
        with self._lock:
            for attempt in (1, 2):
                try:
                    head = self.fetch()
                except SourceError as exc:
                    if "is empty" not in str(exc):
                        raise
                    head = None
                if parent is not None and head != parent:
                    raise BranchMovedError(f"branch {self.branch!r} moved while {normal} was "
                                           "being checked; submit it again")
                sha = self._write_commit({normal: text}, base=head, author_name=author_name,
                                         author_email=author_email,
                                         message=message or f"Declare {normal} (submitted "
                                         f"by {author_name})")
                try:
                    self._run("push", "origin", f"{sha}:refs/heads/{self.branch}")
                except SourceError as exc:
                    if attempt == 2:
                        raise SourceError(f"the push of {normal} was rejected twice: {exc}"
                                          ) from None
                    log.info("repo.push_retry", path=normal, error=str(exc))
                    continue
                self.last_good = sha
                log.info("repo.committed", path=normal, commit=sha, author=author_name)
                return sha
        raise SourceError("unreachable")  # pragma: no cover

    def commit_branch(self, files: dict[str, str], *, branch: str, author_name: str,
                      author_email: str, message: str) -> str:
        """Commit ``files`` (path → text) on top of the followed branch's head as the new
        branch ``branch`` and push it, for review; the commit's sha. An existing branch of
        that name is never overwritten (the push is refused)."""
        checked = {self._check_path(path): text for path, text in files.items()}
        if branch == self.branch or not re.match(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$", branch):
            raise SourceError(f"{branch!r} is not a new branch name for review")
        with self._lock:
            head = self.fetch()
            if self._run("ls-remote", "origin", f"refs/heads/{branch}").strip():
                raise SourceError(f"branch {branch!r} exists already; pick a new name")
            sha = self._write_commit(checked, base=head, author_name=author_name,
                                     author_email=author_email, message=message)
            self._run("push", "origin", f"{sha}:refs/heads/{branch}")
        log.info("repo.branch_pushed", branch=branch, commit=sha, files=len(checked))
        return sha

    def _write_commit(self, files: dict[str, str], *, base: str | None, author_name: str,
                      author_email: str, message: str) -> str:
        """A commit on top of ``base`` writing ``files``, made without a working tree."""
        env = {"GIT_AUTHOR_NAME": author_name, "GIT_AUTHOR_EMAIL": author_email,
               "GIT_COMMITTER_NAME": "MycoPod", "GIT_COMMITTER_EMAIL": "mycopod@localhost"}
        repo = self._open()
        index = self.path / ".git" / "mycopod-index"
        index.unlink(missing_ok=True)
        run_env = {**self._env(), **env, "GIT_INDEX_FILE": str(index)}
        try:
            if base:
                repo.git.execute(["git", "read-tree", base], env=run_env)
            for path, text in files.items():
                data = text.encode("utf-8")
                blob = repo.odb.store(IStream("blob", len(data), io.BytesIO(data))).hexsha
                repo.git.execute(["git", "update-index", "--add", "--cacheinfo",
                                  f"100644,{blob.decode()},{path}"], env=run_env)
            tree = repo.git.execute(["git", "write-tree"], env=run_env)
            args = ["git", "commit-tree", tree, "-m", message]
            if base:
                args[3:3] = ["-p", base]
            return str(repo.git.execute(args, env=run_env)).strip()
        except Exception as exc:
            raise SourceError(f"cannot commit {', '.join(files)}: {exc}") from None
        finally:
            index.unlink(missing_ok=True)

    # --- async helpers -----------------------------------------------------------------

    async def fetch_async(self) -> str:
        return await asyncio.to_thread(self.fetch)
