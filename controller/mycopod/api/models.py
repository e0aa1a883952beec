"""Request and response models of the HTTP API.

Every handler reads its body and query through one of these models and answers with
another, and :mod:`mycopod.api.openapi` builds ``/openapi.json`` from the very same
classes, so the document cannot drift from the code. Request models forbid unknown
fields: a misspelt ``dry_rn`` is an error, not a silently ignored option.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import TypedDict

from mycopod.api.paging import DEFAULT_WINDOW, MAX_PAGE, MAX_WINDOW
from mycopod.reconcile.plan import ClusterReport, Plan
from mycopod.spec import ClusterSpec
from mycopod.store.declarations import FileRecord
from mycopod.store.runs import RunStatus, Trigger
from mycopod.store.settings import KNOWN_KEYS

#: largest id PostgreSQL's SERIAL holds; larger path ids are simply not found
MAX_ID = 2**31 - 1
MAX_DECLARATION_BYTES = 256 * 1024
ROLE_PATTERN = r"^([Aa][Dd][Mm][Ii][Nn]|[Uu][Ss][Ee][Rr])$"


class Request(BaseModel):
    """Base of request bodies and query strings: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Response(BaseModel):
    model_config = ConfigDict(extra="ignore", from_attributes=True)


class PageQuery(Request):
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=1_000_000)


class WindowQuery(Request):
    """Which part of the lists a detail embeds: entries offset .. offset+limit-1 of each."""

    limit: int = Field(DEFAULT_WINDOW, ge=1, le=MAX_WINDOW,
                       description="entries shown of each embedded list")
    offset: int = Field(0, ge=0, le=1_000_000,
                        description="the first entry shown of each embedded list")


# --- envelope -------------------------------------------------------------------------


class ErrorBody(Response):
    code: str
    message: str
    details: Any = None


class ErrorEnvelope(Response):
    status: Literal["error"]
    error: ErrorBody


# --- auth -----------------------------------------------------------------------------


class LoginRequest(Request):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(Request):
    refresh_token: str = Field(min_length=1, max_length=200)


class LogoutRequest(Request):
    refresh_token: str | None = Field(None, min_length=1, max_length=200)


class TokenPair(Response):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name
    #: seconds until the access token expires
    expires_in: int


class LogoutResult(Response):
    revoked: int


# --- users ----------------------------------------------------------------------------


class UserOut(Response):
    id: int
    username: str
    role: Literal["Admin", "User"]
    disabled: bool
    created_at: datetime
    updated_at: datetime


class UserPage(Response):
    items: list[UserOut]
    total: int


class UserCreate(Request):
    username: str = Field(min_length=1, max_length=100,
                          pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")
    password: str = Field(min_length=10, max_length=1024)
    role: str = Field(pattern=ROLE_PATTERN, description="admin or user, in any case")


class UserPatch(Request):
    role: str | None = Field(None, pattern=ROLE_PATTERN)
    disabled: bool | None = None


# --- settings -------------------------------------------------------------------------

SettingKey = Literal[KNOWN_KEYS]  # type: ignore[valid-type]


class SettingOut(Response):
    key: str
    value: Any
    #: "database" (changed through the API) or "config" (the configured default)
    source: Literal["database", "config"]
    updated_at: datetime | None = None
    updated_by: int | None = None


class SettingPut(Request):
    value: Any = Field(description="JSON value of the type the setting takes")


# --- health ---------------------------------------------------------------------------


class ProxmoxHealth(Response):
    reachable: bool | None
    last_contact: datetime | None
    seconds_since_contact: float | None
    error: str | None


class RepoHealth(Response):
    head: str | None
    last_fetch: datetime | None
    seconds_since_fetch: float | None
    error: str | None
    #: the newest commit does not compile (the last good spec stays in force)
    compile_error: str | None = None


class ClusterHealth(Response):
    """One cluster as this process sees it (issue 17: several clusters)."""

    name: str
    role: Literal["leader", "standby"]
    proxmox: ProxmoxHealth
    repo: RepoHealth
    last_successful_reconcile: datetime | None


class Health(Response):
    database: Literal["up", "down"]
    proxmox: ProxmoxHealth
    repo: RepoHealth
    last_successful_reconcile: datetime | None
    role: Literal["leader", "standby"]
    cluster: str
    #: every cluster of the deployment (the fields above are the first one's; ``role``
    #: is ``leader`` when this process leads any of them)
    clusters: list[ClusterHealth] = Field(default_factory=list)


# --- reconcile and logs ---------------------------------------------------------------


class ReconcileRequest(Request):
    declaration_id: int | None = Field(None, ge=1, le=MAX_ID)
    dry_run: bool = False
    #: the cluster to reconcile; unset: every cluster (the only one, with one)
    cluster: str | None = Field(None, min_length=1, max_length=63)


class ReconcileAccepted(Response):
    run_id: int
    status: RunStatus
    #: the cluster of ``run_id``
    cluster: str = "default"
    #: every run queued, by cluster (one per cluster when none was named)
    runs: dict[str, int] = Field(default_factory=dict)


class RollbackRequest(Request):
    #: the earlier commit of the followed branch whose declarations come back
    commit: str = Field(pattern=r"^[0-9a-f]{7,40}$")


class RollbackAccepted(Response):
    #: the new commit on the branch (a revert of everything after ``rolled_back_to``)
    commit: str
    rolled_back_to: str


class LogsQuery(Request):
    #: only this cluster's runs
    cluster: str | None = Field(None, min_length=1, max_length=63)
    status: RunStatus | None = None
    trigger: Trigger | None = None
    since: datetime | None = None
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(None, max_length=200)


class ActionOut(Response):
    id: int
    run_id: int
    seq: int
    kind: str
    target: str
    vmid: int | None = None
    node: str | None = None
    action_description: str
    params: Any = None
    destructive: bool
    result: str
    message: str | None = None
    upid: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    executed_at: datetime | None = None
    requested_by: int | None = None


class RunOut(Response):
    id: int
    status: RunStatus
    trigger: Trigger
    cluster: str
    declaration_id: int | None = None
    commit_sha: str | None = None
    dry_run: bool
    requested_by: int | None = None
    approved_by: int | None = None
    approved_at: datetime | None = None
    rejected_by: int | None = None
    #: Waiting: why ("waiting for the window Sat 02:00 UTC") and when that may change
    waiting_reason: str | None = None
    wait_until: datetime | None = None
    #: the Admin who ran it outside its window (POST /reconcile/{runId}/override), and when
    override_by: int | None = None
    override_at: datetime | None = None
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_seconds: float | None = None


class ActionPage(Response):
    items: list[ActionOut]
    total: int


class GuestHistoryEntry(Response):
    """One attempt on a guest (``GET /guests/{name}/history``), with who and why."""

    action_id: int
    run_id: int
    kind: str
    action_description: str
    result: str
    message: str | None = None
    destructive: bool
    vmid: int | None = None
    node: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    run_status: RunStatus
    trigger: Trigger
    commit_sha: str | None = Field(None, description="the commit the run applied")
    author: str | None = Field(None, description="that commit's author")
    requester: str | None = Field(None, description="who asked: the run's requester, or "
                                  "the User whose submitted declaration this applies")
    approver: str | None = Field(None, description="the Admin who approved the run")
    overridden_by: str | None = Field(None, description="the Admin who ran it outside "
                                      "its window")


class GuestHistoryPage(Response):
    items: list[GuestHistoryEntry]
    total: int


class RunDetail(RunOut):
    """A run with its plan and report as stored (keys a stored plan lacks stay absent).

    A stored plan this MycoPod cannot read as a :class:`Plan` (of a newer version) is
    shown as the plain object it is."""

    #: every list in it shows the window of the query's offset and limit
    plan: Plan | dict[str, Any] | None = None
    #: every list in it shows the window of the query's offset and limit
    summary: ClusterReport | dict[str, Any] | None = None
    #: the window of the run's actions (GET /logs/{runId}/actions pages them too)
    actions: list[ActionOut] = Field(default_factory=list)
    #: the full length of every embedded list: "actions", "plan.actions", "summary.guests" ...
    totals: dict[str, int] = Field(default_factory=dict)
    #: some embedded list holds more than is shown: ask again with a larger offset
    truncated: bool = False


class RunRow(TypedDict):
    """A run in a /logs page. A TypedDict rather than a model: validating a page of them
    costs half as much, and /logs is the API's busiest read."""

    id: int
    status: RunStatus
    trigger: Trigger
    cluster: str
    declaration_id: int | None
    commit_sha: str | None
    dry_run: bool
    requested_by: int | None
    approved_by: int | None
    approved_at: datetime | None
    rejected_by: int | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None


class RunPage(TypedDict):
    items: list[RunRow]
    #: pass it back as ``cursor`` for the next page; null on the last page
    next_cursor: str | None


# --- declarations ---------------------------------------------------------------------


class DeclarationCreate(Request):
    path: str = Field(min_length=1, max_length=255,
                      pattern=r"^[A-Za-z0-9_][A-Za-z0-9_./-]*\.md$",
                      description="file path in the declarations repository, ending in .md")
    #: at most 256 KiB of UTF-8; checked by the handler so that a longer text is a 413
    text: str = Field(min_length=1, json_schema_extra={"maxLength": MAX_DECLARATION_BYTES})
    #: the cluster whose folder it is written to (needed with several clusters)
    cluster: str | None = Field(None, min_length=1, max_length=63)

    @field_validator("path")
    @classmethod
    def _no_parent(cls, value: str) -> str:
        if any(part in ("", ".", "..") for part in value.split("/")):
            raise ValueError("use a relative path without '.', '..' or empty parts")
        return value


class SettingsQuery(Request):
    #: the cluster whose settings (default: the first, or the only one)
    cluster: str | None = Field(None, min_length=1, max_length=63)


class WebhookQuery(Request):
    #: the cluster whose own repository sends this push (verified with its webhook_secret)
    cluster: str | None = Field(None, min_length=1, max_length=63)


class DeclarationsQuery(PageQuery):
    #: only this cluster's declarations
    cluster: str | None = Field(None, min_length=1, max_length=63)


# The store's record of how one file was compiled, under the API's name and config (no
# docstring: it would become a description in /openapi.json). In a page, ``guests`` is
# cut to its first entries; ``guest_count`` is the file's number of guests.
class DeclarationFile(FileRecord, Response):
    guest_count: int = 0


class DeclarationOut(Response):
    id: int
    cluster: str = "default"
    source: Literal["git", "api"]
    path: str | None = None
    user_id: int | None = None
    github_commit_sha: str
    compile_status: Literal["ok", "error"]
    compile_error: str | None = None
    commit_author: str | None = None
    commit_message: str | None = None
    committed_at: datetime | None = None
    created_at: datetime
    #: in a page, the first files only; files_total counts them all
    files: list[DeclarationFile] = Field(default_factory=list)
    #: a User's change: it applies only once an Admin approves its run (approved_at)
    needs_approval: bool = False
    approved_by: int | None = None
    approved_at: datetime | None = None
    files_total: int = 0


class DeclarationPage(Response):
    items: list[DeclarationOut]
    total: int


class DeclarationSummary(Response):
    guest_count: int
    kinds: dict[str, int]
    #: the guests of the window rendered back as the plain English the grammar reads
    rendering: str


class DeclarationDetail(DeclarationOut):
    #: the files' text; clipped past 256 KiB (the files are in the repository)
    content: str
    #: the window of the spec's guests (offset, limit); summary.guest_count counts them all
    spec: ClusterSpec | None = None
    summary: DeclarationSummary | None = None
    #: the full length of every embedded list: "spec.guests", "files"
    totals: dict[str, int] = Field(default_factory=dict)
    #: some embedded list holds more than is shown: ask again with a larger offset
    truncated: bool = False


class CompileIssueOut(Response):
    file: str
    line: int
    message: str


class WebhookResult(Response):
    accepted: bool
    event: str
    detail: str | None = None
