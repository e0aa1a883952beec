"""Compiled declarations (table ``declarations``): one row per commit of the repository.

A row records the commit (sha, author, message, time), the declaration files with how
each was compiled, and either the compiled spec (``compile_status = 'ok'``) or the error
text. The reconcile engine applies :meth:`DeclarationStore.latest_good`: a commit that
fails to compile is recorded but never replaces the last good spec.

Changes submitted by a User (``POST /declarations``) wait for an Admin. The unit of a
User's change is the file it wrote: the submission's row keeps ``path`` and the sha256
of what it wrote (``path_sha256``) and, when the User's text differs from the file in
force, ``needs_approval``. The rule is level-triggered, on content rather than on
commits: *a declaration carries a User change as long as its file at that path is
exactly what the User wrote and no Admin approved it.* So a later commit by anyone
(an Admin's push touching another file, a merge) that still holds the User's file still
carries it and needs the approval too; only approving it, or a new content of that file,
ends it. Such a declaration is never the spec in force (:meth:`latest_good` passes over
it, so drift runs keep the last approved state), and a run asked to apply it waits for
an Admin (see :mod:`mycopod.reconcile.reconciler`); approving that run marks the changes it
showed approved (``approved_by``/``approved_at``), and the declaration is then in force.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, Field, field_validator

from mycopod.spec import ClusterSpec, parse_spec, spec_dict
from mycopod.store import pgtext

__all__ = ["Declaration", "DeclarationStore", "FileRecord", "UserChange", "submission_key",
           "submission_lock"]

UPSERT = """
INSERT INTO declarations (user_id, github_commit_sha, content, source, path, files, spec,
    compile_status, compile_error, commit_author, commit_message, committed_at,
    path_sha256, needs_approval, cluster)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT (cluster, github_commit_sha) DO UPDATE SET
    user_id = COALESCE(EXCLUDED.user_id, declarations.user_id),
    content = EXCLUDED.content,
    source = CASE WHEN declarations.source = 'api' THEN 'api' ELSE EXCLUDED.source END,
    path = COALESCE(EXCLUDED.path, declarations.path),
    files = EXCLUDED.files, spec = EXCLUDED.spec,
    compile_status = EXCLUDED.compile_status, compile_error = EXCLUDED.compile_error,
    commit_author = EXCLUDED.commit_author, commit_message = EXCLUDED.commit_message,
    committed_at = EXCLUDED.committed_at,
    path_sha256 = COALESCE(EXCLUDED.path_sha256, declarations.path_sha256),
    needs_approval = declarations.needs_approval OR EXCLUDED.needs_approval
RETURNING id, user_id, github_commit_sha, content, created_at, source, path, files, spec,
    compile_status, compile_error, commit_author, commit_message, committed_at,
    path_sha256, needs_approval, approved_by, approved_at, cluster"""
SELECT_BY_ID = """
SELECT id, user_id, github_commit_sha, content, created_at, source, path, files, spec,
    compile_status, compile_error, commit_author, commit_message, committed_at,
    path_sha256, needs_approval, approved_by, approved_at, cluster
FROM declarations WHERE id = $1"""
SELECT_BY_COMMIT = """
SELECT id, user_id, github_commit_sha, content, created_at, source, path, files, spec,
    compile_status, compile_error, commit_author, commit_message, committed_at,
    path_sha256, needs_approval, approved_by, approved_at, cluster
FROM declarations WHERE github_commit_sha = $1 AND cluster = $2"""
SELECT_LATEST = """
SELECT id, user_id, github_commit_sha, content, created_at, source, path, files, spec,
    compile_status, compile_error, commit_author, commit_message, committed_at,
    path_sha256, needs_approval, approved_by, approved_at, cluster
FROM declarations WHERE cluster = $1 ORDER BY created_at DESC, id DESC LIMIT 1"""
# The rule of issue 18, item 3, in SQL (the same condition in the next two queries):
# submission ``s`` is a User's change no Admin approved yet, and declaration ``d``
# carries it: its files include the very file (path and content) the submission wrote,
# whoever made ``d``'s commit.
#: the spec in force: the newest declaration that compiled and carries no User change
#: waiting for approval
SELECT_LATEST_GOOD = """
SELECT id, user_id, github_commit_sha, content, created_at, source, path, files, spec,
    compile_status, compile_error, commit_author, commit_message, committed_at,
    path_sha256, needs_approval, approved_by, approved_at, cluster
FROM declarations d
WHERE d.cluster = $1 AND compile_status = 'ok' AND NOT EXISTS (
    SELECT 1 FROM declarations s
    WHERE s.cluster = d.cluster AND s.needs_approval AND s.approved_at IS NULL
      AND d.files @> jsonb_build_array(
          jsonb_build_object('path', s.path, 'sha256', s.path_sha256)))
ORDER BY created_at DESC, id DESC LIMIT 1"""
#: the User changes waiting for approval that declaration $1 carries
SELECT_UNAPPROVED = """
SELECT s.id AS declaration_id, s.github_commit_sha AS commit_sha, s.path, s.user_id,
    u.username, s.created_at AS submitted_at
FROM declarations d
JOIN declarations s ON s.cluster = d.cluster AND s.needs_approval
    AND s.approved_at IS NULL
    AND d.files @> jsonb_build_array(
        jsonb_build_object('path', s.path, 'sha256', s.path_sha256))
LEFT JOIN users u ON u.id = s.user_id
WHERE d.id = $1
ORDER BY s.id"""
APPROVE = """
UPDATE declarations SET approved_by = $2, approved_at = NOW()
WHERE id = ANY($1::int[]) AND needs_approval AND approved_at IS NULL
RETURNING id"""
SELECT_PAGE_VISIBLE = """
SELECT id, user_id, github_commit_sha, '' AS content, created_at, source, path, files,
    NULL::jsonb AS spec, compile_status, compile_error, commit_author, commit_message,
    committed_at, path_sha256, needs_approval, approved_by, approved_at, cluster
FROM declarations WHERE ($3::int IS NULL OR source = 'git' OR user_id = $3)
    AND ($4::text IS NULL OR cluster = $4)
ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"""
COUNT_VISIBLE = """
SELECT count(*) FROM declarations WHERE ($1::int IS NULL OR source = 'git' OR user_id = $1)
    AND ($2::text IS NULL OR cluster = $2)"""
IS_VISIBLE = """
SELECT EXISTS (SELECT 1 FROM declarations
               WHERE id = $1 AND ($2::int IS NULL OR source = 'git' OR user_id = $2))"""
#: held while a commit is pushed and recorded by the API, and while the poller records and
#: queues a new head, so the poller never sees a User's commit before it is known as one
#: ("myco" "subm" in ASCII; the migration lock is "myco" "migr")
#: a run whose declaration did not compile: retrying cannot help, a new commit can
COMPILE_STATUS = "SELECT compile_status FROM declarations WHERE id = $1"
#: the same rows without the compiled spec (the web UI's pages: parsing a spec of 2,000
#: guests costs far more than the page), and a few of the spec's guests by name
_WITHOUT_SPEC = ("path, files, spec,", "path, files, NULL::jsonb AS spec,")
SELECT_BY_ID_NO_SPEC = SELECT_BY_ID.replace(*_WITHOUT_SPEC)
SELECT_LATEST_NO_SPEC = SELECT_LATEST.replace(*_WITHOUT_SPEC)
SELECT_LATEST_GOOD_NO_SPEC = SELECT_LATEST_GOOD.replace(*_WITHOUT_SPEC)
SELECT_SPEC_GUESTS = """
SELECT g FROM declarations d, jsonb_array_elements(d.spec -> 'guests') AS g
WHERE d.id = $1 AND g ->> 'name' = ANY($2::text[])"""
SUBMISSION_LOCK_KEY = 0x6D79636F_7375626D - (1 << 63)
#: how long a submission or the poller waits for the other one
SUBMISSION_LOCK_SECONDS = 60.0


class FileRecord(BaseModel):
    """How one file of the commit was compiled."""

    path: str
    sha256: str
    compiler: str | None = None
    model: str = ""
    cached: bool = False
    guests: list[str] = Field(default_factory=list)
    #: with a spec: the paragraphs that failed and were left out (the rest applies)
    error: str | None = None
    #: paragraph by paragraph: text, "understood as", compiler and model (files the LLM
    #: helped compile; see :mod:`mycopod.declarations.hybrid`)
    paragraphs: list[dict[str, Any]] = Field(default_factory=list)
    #: guest name -> model, for guests declared by an LLM-compiled paragraph
    llm_guests: dict[str, str] = Field(default_factory=dict)
    #: what the grammar read and deliberately did not use, ``(line, note)`` each
    #: (``ignored as context: '...'`` ...: issue 13, "no word is ever silently ignored")
    ignored: list[tuple[int, str]] = Field(default_factory=list)


class Declaration(BaseModel):
    id: int
    user_id: int | None
    github_commit_sha: str
    #: the declaration text: the files, each under a ``<!-- file: path -->`` line
    content: str
    created_at: datetime
    source: Literal["git", "api"]
    path: str | None
    files: list[FileRecord]
    spec: ClusterSpec | None
    compile_status: Literal["ok", "error"]
    compile_error: str | None
    commit_author: str | None
    commit_message: str | None
    committed_at: datetime | None
    #: an API submission: the sha256 of the file it wrote (``path``)
    path_sha256: str | None = None
    #: a User's submission that changed its file: it applies only once approved
    needs_approval: bool = False
    approved_by: int | None = None
    approved_at: datetime | None = None
    #: the cluster these declarations are for (docs/scaling.md)
    cluster: str = "default"

    @field_validator("spec", mode="before")
    @classmethod
    def _spec(cls, value: Any) -> Any:
        return parse_spec(value) if isinstance(value, dict) else value

    @property
    def ok(self) -> bool:
        return self.compile_status == "ok"

    @property
    def llm_guests(self) -> dict[str, str]:
        """Guest name -> model, for guests an LLM-compiled paragraph declares."""
        return {g: m for f in self.files for g, m in f.llm_guests.items()}

    @property
    def incomplete(self) -> bool:
        """Compiled, but some paragraphs failed and were left out of the spec."""
        return self.ok and any(f.error for f in self.files)

    def file_sha256(self, path: str) -> str | None:
        """The content hash of ``path`` in this commit (None: not one of its files)."""
        return next((f.sha256 for f in self.files if f.path == path), None)


class UserChange(BaseModel):
    """A User's submission (one file) that no Admin approved yet."""

    declaration_id: int
    commit_sha: str
    path: str
    user_id: int | None
    username: str | None
    submitted_at: datetime

    def describe(self) -> str:
        who = self.username or f"user {self.user_id}"
        return f"{self.path} (submitted by {who} in commit {self.commit_sha[:12]})"


def _declaration(row: asyncpg.Record | None) -> Declaration | None:
    return Declaration(**dict(row)) if row is not None else None


class DeclarationStore:
    """The declarations of one cluster (by id: whichever cluster's the row is)."""

    def __init__(self, db: asyncpg.Pool | asyncpg.Connection, cluster: str = "default") -> None:
        self.db = db
        self.cluster = cluster

    async def record(
        self, *, commit_sha: str, content: str, files: list[FileRecord],
        spec: ClusterSpec | None, error: str | None, source: str = "git",
        user_id: int | None = None, path: str | None = None, author: str | None = None,
        message: str | None = None, committed_at: datetime | None = None,
        path_sha256: str | None = None, needs_approval: bool = False,
    ) -> Declaration:
        """Store (or replace) the row of ``commit_sha``: the spec, or the error.

        Free text (content, author, message, error) is recorded as faithfully as
        PostgreSQL allows (:func:`~mycopod.store.pgtext.scrub`): a character it cannot
        hold must never make the record of a commit fail. Declaration files holding such
        characters are already a compile error by then (the pipeline checks them).
        A row is recorded once per commit; when the API and the poller both record it,
        the API's origin, user and approval flag stay.
        """
        if (spec is None) == (error is None):
            raise ValueError("a declaration has either a spec or an error")
        if needs_approval and (source != "api" or path is None or path_sha256 is None):
            raise ValueError("only an API submission of one file can wait for approval")
        text = [pgtext.scrub(t) if t is not None else None
                for t in (content, error, author, message)]
        row = await self.db.fetchrow(
            UPSERT, user_id, commit_sha, text[0], source, path,
            [f.model_dump() for f in files], spec_dict(spec) if spec is not None else None,
            "ok" if spec is not None else "error", text[1], text[2], text[3], committed_at,
            path_sha256, needs_approval, self.cluster)
        result = _declaration(row)
        assert result is not None
        return result

    async def get(self, declaration_id: int) -> Declaration | None:
        return _declaration(await self.db.fetchrow(SELECT_BY_ID, declaration_id))

    async def compile_status(self, declaration_id: int) -> str | None:
        """``ok`` or ``error`` (None: no such declaration), without loading the spec."""
        status = await self.db.fetchval(COMPILE_STATUS, declaration_id)
        return str(status) if status is not None else None

    async def get_by_commit(self, commit_sha: str) -> Declaration | None:
        return _declaration(await self.db.fetchrow(SELECT_BY_COMMIT, commit_sha, self.cluster))

    async def latest(self) -> Declaration | None:
        return _declaration(await self.db.fetchrow(SELECT_LATEST, self.cluster))

    async def latest_good(self) -> Declaration | None:
        """The spec in force: the newest declaration that compiled and carries no User
        change waiting for an Admin's approval (see :meth:`unapproved_changes`)."""
        return _declaration(await self.db.fetchrow(SELECT_LATEST_GOOD, self.cluster))

    async def get_without_spec(self, declaration_id: int) -> Declaration | None:
        """The row with ``spec`` None (read :meth:`spec_guests` for the guests needed)."""
        return _declaration(await self.db.fetchrow(SELECT_BY_ID_NO_SPEC, declaration_id))

    async def latest_without_spec(self) -> Declaration | None:
        return _declaration(await self.db.fetchrow(SELECT_LATEST_NO_SPEC, self.cluster))

    async def latest_good_without_spec(self) -> Declaration | None:
        return _declaration(await self.db.fetchrow(SELECT_LATEST_GOOD_NO_SPEC, self.cluster))

    async def spec_guests(self, declaration_id: int, names: list[str]) -> ClusterSpec:
        """The guests of the declaration's spec named in ``names`` (those that exist)."""
        rows = await self.db.fetch(SELECT_SPEC_GUESTS, declaration_id, names)
        return parse_spec({"guests": [r["g"] for r in rows]})

    async def unapproved_changes(self, declaration_id: int) -> list[UserChange]:
        """The User changes declaration ``declaration_id`` carries that no Admin approved.

        A User's submission of ``path`` is carried by every declaration whose file at
        ``path`` is byte for byte the one the User wrote, whoever made its commit: a
        later commit by someone else does not launder it. It stops counting once it is
        approved (:meth:`approve_changes`), or once the file changed again.
        """
        rows = await self.db.fetch(SELECT_UNAPPROVED, declaration_id)
        return [UserChange(**dict(r)) for r in rows]

    async def approve_changes(self, declaration_ids: list[int],
                              user_id: int | None) -> list[int]:
        """Mark these User changes approved (``user_id`` None: by policy or the CLI)."""
        if not declaration_ids:
            return []
        rows = await self.db.fetch(APPROVE, declaration_ids, user_id)
        return [int(r["id"]) for r in rows]

    async def page_visible(self, *, viewer_id: int | None, limit: int = 50,
                           offset: int = 0, cluster: str | None = None,
                           ) -> tuple[list[Declaration], int]:
        """What a viewer may see, newest first, without ``content`` and ``spec``; and the
        total. A page shows neither, and parsing a spec of 2000 guests takes about 40 ms:
        a page of 200 would cost seconds of CPU.

        ``viewer_id`` None (an Admin) sees everything; a User sees every declaration
        that came from git and their own API submissions. ``cluster`` None: every
        cluster's (the API's ``?cluster=`` filter).
        """
        rows = await self.db.fetch(SELECT_PAGE_VISIBLE, limit, offset, viewer_id, cluster)
        total = await self.db.fetchval(COUNT_VISIBLE, viewer_id, cluster)
        return [Declaration(**dict(r)) for r in rows], int(total)

    async def is_visible(self, declaration_id: int, *, viewer_id: int | None) -> bool:
        """Whether the declaration exists and the viewer may see it (as in
        :meth:`page_visible`): without loading its content or spec."""
        return bool(await self.db.fetchval(IS_VISIBLE, declaration_id, viewer_id))

def submission_key(cluster: str = "default") -> int:
    """The advisory lock key of ``cluster``'s submission lock: one per cluster, so that
    recording one cluster's new head never waits for another's (``default`` keeps the key
    it always had)."""
    if cluster == "default":
        return SUBMISSION_LOCK_KEY
    digest = hashlib.sha256(f"mycopod-submission:{cluster}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@asynccontextmanager
async def submission_lock(conn: asyncpg.Connection, *, cluster: str = "default",
                          wait: float = SUBMISSION_LOCK_SECONDS) -> AsyncIterator[None]:
    """Hold ``cluster``'s declarations submission lock on ``conn`` (a connection, not the
    pool). Each cluster records its own declaration rows, so the lock is per cluster.

    ``POST /declarations`` holds it from before its push until its commit is recorded
    as the User's; the poller holds it while it records a new head and queues its run.
    So the poller finds every API commit already recorded with its submitter, on any
    replica. Do the work inside on ``conn`` itself: a holder that waited for a second
    connection could wait forever on the others queued behind the lock. Raises
    TimeoutError after ``wait`` seconds of waiting. A connection returned to the pool
    drops its advisory locks (asyncpg's reset), so an error inside cannot leak it.
    """
    key = submission_key(cluster)
    async with asyncio.timeout(wait):
        await conn.execute("SELECT pg_advisory_lock($1)", key)
    try:
        yield
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", key)
