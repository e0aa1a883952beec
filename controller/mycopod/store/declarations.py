"""Compiled declarations (table ``declarations``): one row per commit of the repository.

A row records the commit (sha, author, message, time), the declaration files with how
each was compiled, and either the compiled spec (``compile_status = 'ok'``) or the error
text. The reconcile engine applies :meth:`DeclarationStore.latest_good`: a commit that
fails to compile is recorded but never replaces the last good spec.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, Field, field_validator

from mycopod.spec import ClusterSpec, parse_spec, spec_dict

__all__ = ["Declaration", "DeclarationStore", "FileRecord"]

UPSERT = """
INSERT INTO declarations (user_id, github_commit_sha, content, source, path, files, spec,
    compile_status, compile_error, commit_author, commit_message, committed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (github_commit_sha) DO UPDATE SET
    user_id = COALESCE(EXCLUDED.user_id, declarations.user_id),
    content = EXCLUDED.content,
    source = CASE WHEN declarations.source = 'api' THEN 'api' ELSE EXCLUDED.source END,
    path = COALESCE(EXCLUDED.path, declarations.path),
    files = EXCLUDED.files, spec = EXCLUDED.spec,
    compile_status = EXCLUDED.compile_status, compile_error = EXCLUDED.compile_error,
    commit_author = EXCLUDED.commit_author, commit_message = EXCLUDED.commit_message,
    committed_at = EXCLUDED.committed_at
RETURNING id, user_id, github_commit_sha, content, created_at, source, path, files, spec,
    compile_status, compile_error, commit_author, commit_message, committed_at"""
SELECT_BY_ID = """
SELECT id, user_id, github_commit_sha, content, created_at, source, path, files, spec,
    compile_status, compile_error, commit_author, commit_message, committed_at
FROM declarations WHERE id = $1"""
SELECT_BY_COMMIT = """
SELECT id, user_id, github_commit_sha, content, created_at, source, path, files, spec,
    compile_status, compile_error, commit_author, commit_message, committed_at
FROM declarations WHERE github_commit_sha = $1"""
SELECT_LATEST = """
SELECT id, user_id, github_commit_sha, content, created_at, source, path, files, spec,
    compile_status, compile_error, commit_author, commit_message, committed_at
FROM declarations ORDER BY created_at DESC, id DESC LIMIT 1"""
SELECT_LATEST_GOOD = """
SELECT id, user_id, github_commit_sha, content, created_at, source, path, files, spec,
    compile_status, compile_error, commit_author, commit_message, committed_at
FROM declarations WHERE compile_status = 'ok' ORDER BY created_at DESC, id DESC LIMIT 1"""
SELECT_PAGE_VISIBLE = """
SELECT id, user_id, github_commit_sha, '' AS content, created_at, source, path, files,
    spec, compile_status, compile_error, commit_author, commit_message, committed_at
FROM declarations WHERE ($3::int IS NULL OR source = 'git' OR user_id = $3)
ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"""
COUNT_VISIBLE = """
SELECT count(*) FROM declarations WHERE ($1::int IS NULL OR source = 'git' OR user_id = $1)"""
IS_VISIBLE = """
SELECT EXISTS (SELECT 1 FROM declarations
               WHERE id = $1 AND ($2::int IS NULL OR source = 'git' OR user_id = $2))"""


class FileRecord(BaseModel):
    """How one file of the commit was compiled."""

    path: str
    sha256: str
    compiler: str | None = None
    model: str = ""
    cached: bool = False
    guests: list[str] = Field(default_factory=list)
    error: str | None = None


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

    @field_validator("spec", mode="before")
    @classmethod
    def _spec(cls, value: Any) -> Any:
        return parse_spec(value) if isinstance(value, dict) else value

    @property
    def ok(self) -> bool:
        return self.compile_status == "ok"


def _declaration(row: asyncpg.Record | None) -> Declaration | None:
    return Declaration(**dict(row)) if row is not None else None


class DeclarationStore:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection) -> None:
        self.db = db

    async def record(
        self, *, commit_sha: str, content: str, files: list[FileRecord],
        spec: ClusterSpec | None, error: str | None, source: str = "git",
        user_id: int | None = None, path: str | None = None, author: str | None = None,
        message: str | None = None, committed_at: datetime | None = None,
    ) -> Declaration:
        """Store (or replace) the row of ``commit_sha``: the spec, or the error."""
        if (spec is None) == (error is None):
            raise ValueError("a declaration has either a spec or an error")
        row = await self.db.fetchrow(
            UPSERT, user_id, commit_sha, content, source, path,
            [f.model_dump() for f in files], spec_dict(spec) if spec is not None else None,
            "ok" if spec is not None else "error", error, author, message, committed_at)
        result = _declaration(row)
        assert result is not None
        return result

    async def get(self, declaration_id: int) -> Declaration | None:
        return _declaration(await self.db.fetchrow(SELECT_BY_ID, declaration_id))

    async def get_by_commit(self, commit_sha: str) -> Declaration | None:
        return _declaration(await self.db.fetchrow(SELECT_BY_COMMIT, commit_sha))

    async def latest(self) -> Declaration | None:
        return _declaration(await self.db.fetchrow(SELECT_LATEST))

    async def latest_good(self) -> Declaration | None:
        """The newest declaration that compiled: the spec in force."""
        return _declaration(await self.db.fetchrow(SELECT_LATEST_GOOD))

    async def page_visible(self, *, viewer_id: int | None, limit: int = 50,
                           offset: int = 0) -> tuple[list[Declaration], int]:
        """What a viewer may see, newest first, without ``content``; and the total.

        ``viewer_id`` None (an Admin) sees everything; a User sees every declaration
        that came from git and their own API submissions.
        """
        rows = await self.db.fetch(SELECT_PAGE_VISIBLE, limit, offset, viewer_id)
        total = await self.db.fetchval(COUNT_VISIBLE, viewer_id)
        return [Declaration(**dict(r)) for r in rows], int(total)

    async def is_visible(self, declaration_id: int, *, viewer_id: int | None) -> bool:
        """Whether the declaration exists and the viewer may see it (as in
        :meth:`page_visible`): without loading its content or spec."""
        return bool(await self.db.fetchval(IS_VISIBLE, declaration_id, viewer_id))
