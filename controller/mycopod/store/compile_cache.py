"""The compile cache (table ``compile_cache``): one compiled file, by content and compiler.

A row is keyed by (sha256 of the file's content, compiler, model, prompt version), so an
unchanged file is never compiled twice, and a new grammar or prompt version (which is
part of the key) never reuses a stale result. A row holds the spec as canonical data, or
the error text when the file does not compile. Lookups for a whole commit are one query
that also counts the hits, and its new results are stored in one round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel

__all__ = ["CacheEntry", "CacheKey", "CacheRow", "CompileCacheStore"]

HIT_MANY = """
UPDATE compile_cache AS c SET hits = c.hits + 1
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS k(sha, compiler, model, pv)
WHERE c.content_sha256 = k.sha AND c.compiler = k.compiler AND c.model = k.model
  AND c.prompt_version = k.pv
RETURNING c.content_sha256, c.compiler, c.model, c.prompt_version, c.spec, c.error,
          c.created_at, c.hits, c.ignored"""
UPSERT = """
INSERT INTO compile_cache (content_sha256, compiler, model, prompt_version, spec, error,
    ignored)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (content_sha256, compiler, model, prompt_version)
DO UPDATE SET spec = EXCLUDED.spec, error = EXCLUDED.error, ignored = EXCLUDED.ignored,
    created_at = NOW()
RETURNING content_sha256, compiler, model, prompt_version, spec, error, created_at, hits,
    ignored"""
COUNT = "SELECT count(*) FROM compile_cache"

class CacheKey(BaseModel):
    model_config = {"frozen": True}

    content_sha256: str
    compiler: str
    model: str = ""
    prompt_version: str = ""


#: one entry to store: (key, spec, error) or (key, spec, error, ignored)
CacheRow = (tuple[CacheKey, dict[str, Any] | None, str | None]
            | tuple[CacheKey, dict[str, Any] | None, str | None,
                    Sequence[tuple[int, str]] | None])


class CacheEntry(BaseModel):
    content_sha256: str
    compiler: str
    model: str
    prompt_version: str
    #: the file's ClusterSpec as plain data (``spec_dict``), or None with ``error``
    spec: dict[str, Any] | None
    error: str | None
    created_at: datetime
    hits: int
    #: a grammar result: what the grammar did not use, ``(line, note)`` each (migration
    #: 0011); None for an LLM answer or an error
    ignored: list[tuple[int, str]] | None = None

    @property
    def key(self) -> CacheKey:
        return CacheKey(content_sha256=self.content_sha256, compiler=self.compiler,
                        model=self.model, prompt_version=self.prompt_version)


def _entry(row: asyncpg.Record) -> CacheEntry:
    data = dict(row)
    data["content_sha256"] = data["content_sha256"].strip()
    return CacheEntry(**data)


def _args(key: CacheKey, spec: dict[str, Any] | None, error: str | None,
          ignored: Sequence[tuple[int, str]] | None = None) -> tuple[Any, ...]:
    if spec is None and error is None:
        raise ValueError("a cache entry needs a spec or an error")
    return (key.content_sha256, key.compiler, key.model, key.prompt_version, spec, error,
            None if ignored is None else [[line, note] for line, note in ignored])


class CompileCacheStore:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection) -> None:
        self.db = db

    async def hit_many(self, keys: Sequence[CacheKey]) -> dict[CacheKey, CacheEntry]:
        """The cached entries among ``keys`` (each found one counts a hit)."""
        if not keys:
            return {}
        rows = await self.db.fetch(
            HIT_MANY, [k.content_sha256 for k in keys], [k.compiler for k in keys],
            [k.model for k in keys], [k.prompt_version for k in keys])
        entries = [_entry(r) for r in rows]
        return {e.key: e for e in entries}

    async def get(self, key: CacheKey) -> CacheEntry | None:
        return (await self.hit_many([key])).get(key)

    async def put(self, key: CacheKey, *, spec: dict[str, Any] | None,
                  error: str | None, ignored: Sequence[tuple[int, str]] | None = None
                  ) -> CacheEntry:
        row = await self.db.fetchrow(UPSERT, *_args(key, spec, error, ignored))
        assert row is not None
        return _entry(row)

    async def put_many(self, entries: Sequence[CacheRow]) -> None:
        """Store (key, spec, error[, ignored]) entries as :meth:`put` does, in one round
        trip."""
        if entries:
            await self.db.executemany(UPSERT, [_args(*entry) for entry in entries])

    async def count(self) -> int:
        return int(await self.db.fetchval(COUNT))
