"""Rollback: a new commit that puts the declarations back as they were at an earlier one.

``POST /reconcile/rollback`` (and :func:`commit_rollback`) never rewrites history: it
commits, on top of the followed branch's head, the tree of the earlier commit (a revert
of everything after it), authored by the calling user, and pushes it. The poller then
compiles and reconciles it like any other commit, so auto-sync stays on and keeps
agreeing with git: the repository's head is still the truth, and a later push moves on
from the rolled-back state. Nothing is force-pushed.
"""

from __future__ import annotations

import re

import structlog

from mycopod.declarations.source import BranchMovedError, GitSource, SourceError

log = structlog.get_logger(__name__)

__all__ = ["commit_rollback"]

_SHA = re.compile(r"^[0-9a-f]{7,40}$")


def commit_rollback(source: GitSource, commit: str, *, author_name: str,
                    author_email: str) -> tuple[str, str]:
    """Commit and push the tree of ``commit`` on top of the head; (new sha, full sha of
    ``commit``). SourceError when ``commit`` is not an earlier commit of the branch."""
    if not _SHA.match(commit):
        raise SourceError(f"{commit!r} is not a commit sha (7 to 40 hexadecimal digits)")
    with source._lock:
        head = source.fetch()
        try:
            target = source._run("rev-parse", "--verify", "--quiet",
                                 f"{commit}^{{commit}}").strip()
        except SourceError:
            raise SourceError(f"commit {commit} is not in the declarations repository"
                              ) from None
        if target == head:
            raise SourceError(f"commit {commit} is the head of {source.branch!r} already: "
                              "nothing to roll back")
        if not source._is_ancestor(target, head):
            raise SourceError(f"commit {commit} is not an earlier commit of branch "
                              f"{source.branch!r}; roll back to one of its history")
        message = (f"Roll back to {target[:12]} (requested by {author_name})\n\n"
                   f"Restores the declarations as they were at {target}.")
        env = {"GIT_AUTHOR_NAME": author_name, "GIT_AUTHOR_EMAIL": author_email,
               "GIT_COMMITTER_NAME": "MycoPod", "GIT_COMMITTER_EMAIL": "mycopod@localhost"}
        repo = source._open()
        try:
            sha = str(repo.git.execute(
                ["git", "commit-tree", f"{target}^{{tree}}", "-p", head, "-m", message],
                env={**source._env(), **env})).strip()
        except Exception as exc:
            raise SourceError(f"cannot commit the rollback: {exc}") from None
        try:
            source._run("push", "origin", f"{sha}:refs/heads/{source.branch}")
        except SourceError:
            raise BranchMovedError(f"branch {source.branch!r} moved while the rollback was "
                                   "being written; ask again") from None
        log.info("repo.rolled_back", commit=sha, to=target, author=author_name)
        return sha, target
