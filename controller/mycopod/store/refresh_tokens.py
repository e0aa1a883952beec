"""Refresh tokens (table ``refresh_tokens``): rotating, stored hashed, revoked by family.

A refresh token is a random string handed to the client once; only its sha256 is kept,
so a leaked database does not leak usable tokens. Each use rotates it: the presented
token is marked ``rotated_at`` and a new one of the same *family* is issued. A token
presented again after rotation means two parties hold it (one of them a thief), so the
whole family is revoked and both must log in again (OAuth 2.0 Security BCP, 4.14.2).

Each row also carries the user's ``token_version`` at issue; a rotation inherits it. A
token whose version is no longer the user's is refused as revoked, so ending a user's
sessions (:meth:`mycopod.store.users.UserStore.end_sessions`) also catches a token that
was being rotated at that very moment and escaped the revoking UPDATE.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

INSERT = """
INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, token_version)
VALUES ($1, $2, $3, NOW() + $4::interval, $5)
RETURNING id"""
SELECT_FOR_UPDATE = """
SELECT t.id, t.user_id, t.family_id, t.expires_at, t.rotated_at, t.revoked_at,
       t.expires_at < NOW() AS expired, t.token_version,
       t.token_version = u.token_version AS current_version
FROM refresh_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = $1 FOR UPDATE OF t"""
MARK_ROTATED = "UPDATE refresh_tokens SET rotated_at = NOW() WHERE id = $1"
REVOKE_FAMILY = """
UPDATE refresh_tokens SET revoked_at = NOW() WHERE family_id = $1 AND revoked_at IS NULL"""
REVOKE_USER = """
UPDATE refresh_tokens SET revoked_at = NOW() WHERE user_id = $1 AND revoked_at IS NULL"""
SELECT_FAMILY = "SELECT family_id, user_id FROM refresh_tokens WHERE token_hash = $1"
DELETE_EXPIRED = "DELETE FROM refresh_tokens WHERE expires_at < NOW() - $1::interval"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Rotation:
    """The outcome of presenting a refresh token."""

    #: "ok", "unknown", "expired", "revoked" or "reused" (the family was just revoked)
    outcome: str
    user_id: int | None = None
    token: str | None = None
    family_id: uuid.UUID | None = None
    #: the user's token version the family was issued under
    token_version: int | None = None


class RefreshTokenStore:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = db

    async def issue(self, user_id: int, *, lifetime: timedelta, token_version: int,
                    family_id: uuid.UUID | None = None) -> str:
        """A new token (a new family unless ``family_id`` is given), valid while the
        user's token version is ``token_version``."""
        token = secrets.token_urlsafe(32)
        await self._db.execute(INSERT, user_id, family_id or uuid.uuid4(), token_hash(token),
                               lifetime, token_version)
        return token

    async def rotate(self, token: str, *, lifetime: timedelta) -> Rotation:
        """Exchange ``token`` for a new one of its family, or say why not."""
        async with _connection(self._db) as conn, conn.transaction():
            row = await conn.fetchrow(SELECT_FOR_UPDATE, token_hash(token))
            if row is None:
                return Rotation("unknown")
            family = row["family_id"]
            user_id = row["user_id"]
            if row["revoked_at"] is not None or not row["current_version"]:
                return Rotation("revoked", user_id=user_id, family_id=family)
            if row["rotated_at"] is not None:
                await conn.execute(REVOKE_FAMILY, family)
                return Rotation("reused", user_id=user_id, family_id=family)
            if row["expired"]:
                return Rotation("expired", user_id=user_id, family_id=family)
            await conn.execute(MARK_ROTATED, row["id"])
            new = secrets.token_urlsafe(32)
            version = row["token_version"]
            await conn.execute(INSERT, user_id, family, token_hash(new), lifetime, version)
            return Rotation("ok", user_id=user_id, token=new, family_id=family,
                            token_version=version)

    async def revoke_family_of(self, token: str, *, user_id: int | None = None) -> int:
        """Revoke the family ``token`` belongs to (only if it is ``user_id``'s when given)."""
        row = await self._db.fetchrow(SELECT_FAMILY, token_hash(token))
        if row is None or (user_id is not None and row["user_id"] != user_id):
            return 0
        return _count(await self._db.execute(REVOKE_FAMILY, row["family_id"]))

    async def revoke_family(self, family_id: uuid.UUID) -> int:
        return _count(await self._db.execute(REVOKE_FAMILY, family_id))

    async def revoke_user(self, user_id: int) -> int:
        return _count(await self._db.execute(REVOKE_USER, user_id))

    async def delete_expired(self, *, older_than: timedelta = timedelta(days=1)) -> int:
        return _count(await self._db.execute(DELETE_EXPIRED, older_than))

    async def state(self, token: str) -> dict[str, datetime | None] | None:
        """rotated_at/revoked_at of a token (for tests and audits)."""
        row = await self._db.fetchrow(
            "SELECT rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = $1",
            token_hash(token))
        return dict(row) if row else None


def _count(status: str) -> int:
    try:
        return int(status.rsplit(" ", 1)[-1])
    except ValueError:
        return 0


@asynccontextmanager
async def _connection(db: asyncpg.Pool | asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    """Acquire from a pool, or use the connection given."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            yield conn
    else:
        yield db
