"""The comment MycoPod keeps on each pull request (table ``forge_comments``)."""

from __future__ import annotations

import asyncpg

__all__ = ["ForgeCommentStore"]

GET = "SELECT comment_id FROM forge_comments WHERE repository = $1 AND pr_number = $2"
PUT = """
INSERT INTO forge_comments (repository, pr_number, comment_id, head_sha)
VALUES ($1, $2, $3, $4)
ON CONFLICT (repository, pr_number) DO UPDATE SET comment_id = EXCLUDED.comment_id,
    head_sha = EXCLUDED.head_sha, updated_at = NOW()"""


class ForgeCommentStore:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = db

    async def get(self, repository: str, number: int) -> int | None:
        value = await self._db.fetchval(GET, repository, number)
        return int(value) if value is not None else None

    async def put(self, repository: str, number: int, *, comment_id: int,
                  head_sha: str) -> None:
        await self._db.execute(PUT, repository, number, comment_id, head_sha)
