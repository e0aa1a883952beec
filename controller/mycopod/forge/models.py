"""The shapes MycoPod sends to and reads from a forge, and the webhook payloads it reads.

GitHub's REST API and Gitea/Forgejo's API v1 agree on every shape used here (commit
statuses, issue comments, the ``pull_request`` webhook), so one set of models serves
both. Payload models ignore the many fields MycoPod does not read. Pure: no I/O.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Comment", "CommitStatus", "PullRequestEvent", "RepositoryAccess", "StatusState"]

StatusState = Literal["pending", "success", "failure", "error"]
#: GitHub keeps at most this many characters of a status description
DESCRIPTION_MAX = 140


class CommitStatus(BaseModel):
    """``POST /repos/{owner}/{repo}/statuses/{sha}``'s body."""

    model_config = ConfigDict(frozen=True)
    state: StatusState
    description: str = Field(max_length=DESCRIPTION_MAX)
    context: str = "mycopod/reconcile"
    target_url: str | None = None

    @classmethod
    def make(cls, state: StatusState, description: str, *, context: str = "mycopod/reconcile",
             target_url: str | None = None) -> CommitStatus:
        """One line, clipped to what the forge keeps."""
        line = " ".join(description.split())
        if len(line) > DESCRIPTION_MAX:
            line = line[:DESCRIPTION_MAX - 1] + "\u2026"
        return cls(state=state, description=line, context=context, target_url=target_url)


class Comment(BaseModel):
    """An issue (pull request) comment as the forge answers it."""

    id: int
    body: str = ""
    html_url: str | None = None


class RepositoryAccess(BaseModel):
    """``GET /repos/{owner}/{repo}`` as far as ``mycopod doctor`` reads it: the name and
    what the token may do (GitHub and Gitea both answer ``permissions`` to a signed-in
    request; GitHub leaves it out for a fine-grained token's view of a public repository)."""

    full_name: str
    permissions: dict[str, bool] | None = None

    @property
    def can_push(self) -> bool | None:
        """Whether the token may write (statuses and comments need it); None: not said."""
        return None if self.permissions is None else bool(self.permissions.get("push"))


class _Ref(BaseModel):
    sha: str = Field(pattern=r"^[0-9a-f]{40}$")
    ref: str


class _PullRequest(BaseModel):
    number: int = Field(ge=1)
    head: _Ref
    base: _Ref
    title: str = ""
    html_url: str | None = None


class _Repository(BaseModel):
    full_name: str


class PullRequestEvent(BaseModel):
    """The ``pull_request`` webhook (X-GitHub-Event: pull_request), as GitHub documents it."""

    action: str
    number: int = Field(ge=1)
    pull_request: _PullRequest
    repository: _Repository

    #: the actions after which the head may have new content
    PLANNED: ClassVar[tuple[str, ...]] = ("opened", "synchronize", "reopened")

    @property
    def wants_plan(self) -> bool:
        return self.action in self.PLANNED
