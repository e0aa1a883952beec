"""Users and their roles (tables ``users`` and ``roles``).

Passwords are stored only as argon2id hashes (argon2-cffi's defaults follow RFC 9106's
recommendations). The role is always read together with the user, so a demoted or
disabled user loses access on their next request.

Changing a password or a role, or disabling a user, ends every session of that user:
``token_version`` goes up by one (every access and refresh token carries the version it
was issued under) and the refresh tokens are revoked, in one transaction with the change.
The same happens on "log out everywhere" (:meth:`UserStore.end_sessions`).

The last enabled Admin is guarded under a lock: :meth:`UserStore.lock_active_admins`
takes ``FOR UPDATE`` on every enabled Admin row, so two Admins demoting each other at once
are serialised and the second one counts what the first one left.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Literal

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel

from mycopod.errors import MycoPodError
from mycopod.store.refresh_tokens import RefreshTokenStore

RoleName = Literal["Admin", "User"]
MIN_PASSWORD_LENGTH = 10
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$"

_hasher = PasswordHasher()
#: verified against when a user does not exist, so a login takes the same time either way
_DUMMY_HASH = _hasher.hash("mycopod-no-such-user")

SELECT_ALL = """
SELECT u.id, u.username, r.name AS role, u.disabled, u.created_at, u.updated_at,
       u.token_version
FROM users u JOIN roles r ON r.id = u.role_id ORDER BY u.id"""
SELECT_PAGE = """
SELECT u.id, u.username, r.name AS role, u.disabled, u.created_at, u.updated_at,
       u.token_version
FROM users u JOIN roles r ON r.id = u.role_id ORDER BY u.id LIMIT $1 OFFSET $2"""
COUNT_ALL = "SELECT count(*) FROM users"
SELECT_BY_ID = """
SELECT u.id, u.username, r.name AS role, u.disabled, u.created_at, u.updated_at,
       u.token_version
FROM users u JOIN roles r ON r.id = u.role_id WHERE u.id = $1"""
SELECT_BY_ID_FOR_UPDATE = SELECT_BY_ID + " FOR UPDATE OF u"
SELECT_BY_NAME = """
SELECT u.id, u.username, r.name AS role, u.disabled, u.created_at, u.updated_at,
       u.token_version, u.password_hash
FROM users u JOIN roles r ON r.id = u.role_id WHERE u.username = $1"""
INSERT = """
WITH inserted AS (
    INSERT INTO users (username, password_hash, role_id)
    SELECT $1, $2, id FROM roles WHERE name = $3
    RETURNING *
)
SELECT u.id, u.username, r.name AS role, u.disabled, u.created_at, u.updated_at,
       u.token_version
FROM inserted u JOIN roles r ON r.id = u.role_id"""
#: $4: whether the change ends the user's sessions (the caller read the row FOR UPDATE)
UPDATE = """
WITH updated AS (
    UPDATE users SET
        role_id = COALESCE((SELECT id FROM roles WHERE name = $2), role_id),
        disabled = COALESCE($3, disabled),
        token_version = token_version + CASE WHEN $4 THEN 1 ELSE 0 END,
        updated_at = NOW()
    WHERE id = $1
    RETURNING *
)
SELECT u.id, u.username, r.name AS role, u.disabled, u.created_at, u.updated_at,
       u.token_version
FROM updated u JOIN roles r ON r.id = u.role_id"""
UPDATE_PASSWORD = """
UPDATE users SET password_hash = $2, token_version = token_version + 1, updated_at = NOW()
WHERE username = $1 RETURNING id"""  # noqa: S105 (SQL, not a password)
SET_DISABLED_BY_NAME = """
UPDATE users SET disabled = $2,
    token_version = token_version + CASE WHEN $2 AND NOT disabled THEN 1 ELSE 0 END,
    updated_at = NOW()
WHERE username = $1 RETURNING id"""
BUMP_TOKEN_VERSION = """
UPDATE users SET token_version = token_version + 1 WHERE id = $1 RETURNING id"""  # noqa: S105 (SQL, not a password)
COUNT_ADMINS = """
SELECT count(*) FROM users u JOIN roles r ON r.id = u.role_id
WHERE r.name = 'Admin' AND NOT u.disabled"""
#: every enabled Admin row, locked (in id order, so two lockers cannot deadlock)
LOCK_ACTIVE_ADMINS = """
SELECT u.id FROM users u JOIN roles r ON r.id = u.role_id
WHERE r.name = 'Admin' AND NOT u.disabled
ORDER BY u.id FOR UPDATE OF u"""


class User(BaseModel):
    id: int
    username: str
    role: RoleName
    disabled: bool
    created_at: datetime
    updated_at: datetime
    #: goes up by one whenever the user's sessions are ended; tokens carry it
    token_version: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == "Admin"


class UserError(MycoPodError):
    """A user could not be created or changed; the message says why."""


def normalise_role(role: str) -> RoleName:
    value = role.strip().lower()
    if value == "admin":
        return "Admin"
    if value == "user":
        return "User"
    raise UserError(f"unknown role {role!r}: use 'admin' or 'user'")


def check_password(password: str) -> None:
    if not password or not password.strip():
        raise UserError("the password is empty")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters"
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-work check: a missing user still costs one argon2 verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class UserStore:
    def __init__(self, db: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = db

    async def add(self, username: str, password: str, role: str) -> User:
        import re

        if not re.match(USERNAME_PATTERN, username):
            raise UserError(
                f"invalid username {username!r}: use letters, digits and . _ @ - "
                "(at most 100 characters)"
            )
        role_name = normalise_role(role)
        check_password(password)
        try:
            row = await self._db.fetchrow(INSERT, username, hash_password(password), role_name)
        except asyncpg.UniqueViolationError:
            raise UserError(f"a user named {username!r} already exists") from None
        assert row is not None
        return User(**dict(row))

    async def page(self, *, limit: int, offset: int = 0) -> tuple[list[User], int]:
        """Users by id, ``limit`` from ``offset``; and how many there are in all."""
        rows = await self._db.fetch(SELECT_PAGE, limit, offset)
        total = await self._db.fetchval(COUNT_ALL)
        return [User(**dict(r)) for r in rows], int(total)

    async def list(self) -> list[User]:
        return [User(**dict(r)) for r in await self._db.fetch(SELECT_ALL)]

    async def get(self, user_id: int) -> User | None:
        row = await self._db.fetchrow(SELECT_BY_ID, user_id)
        return User(**dict(row)) if row else None

    async def get_by_name(self, username: str) -> User | None:
        row = await self._db.fetchrow(SELECT_BY_NAME, username)
        if row is None:
            return None
        data = dict(row)
        data.pop("password_hash")
        return User(**data)

    async def credentials(self, username: str) -> tuple[User | None, str | None]:
        """The user named ``username`` (disabled or not) and its password hash; (None,
        None) when there is none. The caller verifies the password, off the event loop
        if it must (argon2 is slow on purpose)."""
        row = await self._db.fetchrow(SELECT_BY_NAME, username)
        if row is None:
            return None, None
        data = dict(row)
        stored = data.pop("password_hash")
        return User(**data), stored

    async def authenticate(self, username: str, password: str) -> User | None:
        """The user if the password matches and the account is enabled, else None."""
        row = await self._db.fetchrow(SELECT_BY_NAME, username)
        stored = row["password_hash"] if row else None
        if not verify_password(stored, password) or row is None or row["disabled"]:
            return None
        data = dict(row)
        data.pop("password_hash")
        return User(**data)

    async def update(self, user_id: int, *, role: str | None = None,
                     disabled: bool | None = None) -> User | None:
        """Change the role and/or the disabled flag; a real change of either (not a
        re-enable) ends the user's sessions in the same transaction."""
        role_name = normalise_role(role) if role is not None else None
        async with _transaction(self._db) as conn:
            current = await conn.fetchrow(SELECT_BY_ID_FOR_UPDATE, user_id)
            if current is None:
                return None
            ends = ((role_name is not None and role_name != current["role"])
                    or (disabled is True and not current["disabled"]))
            row = await conn.fetchrow(UPDATE, user_id, role_name, disabled, ends)
            if row is None:
                return None
            if ends:
                await _revoke_refresh_tokens(conn, user_id)
        return User(**dict(row))

    async def set_password(self, username: str, password: str) -> None:
        """A new password; every session of the user ends."""
        check_password(password)
        hashed = hash_password(password)
        async with _transaction(self._db) as conn:
            user_id = await conn.fetchval(UPDATE_PASSWORD, username, hashed)
            if user_id is None:
                raise UserError(f"no user named {username!r}")
            await _revoke_refresh_tokens(conn, user_id)

    async def set_disabled(self, username: str, disabled: bool = True) -> None:
        async with _transaction(self._db) as conn:
            user_id = await conn.fetchval(SET_DISABLED_BY_NAME, username, disabled)
            if user_id is None:
                raise UserError(f"no user named {username!r}")
            if disabled:
                await _revoke_refresh_tokens(conn, user_id)

    async def end_sessions(self, user_id: int) -> int | None:
        """Log the user out everywhere: access tokens stop working at once and refresh
        tokens are revoked. The number of refresh tokens revoked; None: no such user."""
        async with _transaction(self._db) as conn:
            if await conn.fetchval(BUMP_TOKEN_VERSION, user_id) is None:
                return None
            return await _revoke_refresh_tokens(conn, user_id)

    async def password_hash(self, username: str) -> str | None:
        row = await self._db.fetchrow(SELECT_BY_NAME, username)
        return str(row["password_hash"]) if row else None

    async def count_active_admins(self) -> int:
        return int(await self._db.fetchval(COUNT_ADMINS))

    async def lock_active_admins(self) -> frozenset[int]:
        """The ids of the enabled Admins, locked until the caller's transaction ends.

        Call it inside a transaction, before reading what a last-Admin check depends on:
        a concurrent demotion or disabling of an Admin then waits for this transaction,
        and this one sees what an earlier one committed.
        """
        return frozenset(int(r["id"]) for r in await self._db.fetch(LOCK_ACTIVE_ADMINS))


async def _revoke_refresh_tokens(conn: asyncpg.Connection, user_id: int) -> int:
    return await RefreshTokenStore(conn).revoke_user(user_id)


@asynccontextmanager
async def _transaction(db: asyncpg.Pool | asyncpg.Connection
                       ) -> AsyncIterator[asyncpg.Connection]:
    """A transaction (a savepoint inside one already open) on ``db``'s connection."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn, conn.transaction():
            yield conn
    else:
        async with db.transaction():
            yield db
