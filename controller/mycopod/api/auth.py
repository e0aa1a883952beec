"""Who is calling: access tokens (JWT), the signing key, and the per-request user.

Access tokens are short-lived HS256 JWTs. Verification is strict on purpose: the
algorithm is pinned (a token claiming ``none`` or RS256 is refused before its signature
is even looked at), and ``exp``, ``iat``, ``nbf``, ``iss``, ``aud`` and ``sub`` must all be
present and valid. The token carries the role only as a hint for clients: the role and
the ``disabled`` flag are read from the database on every request, so demoting or
disabling a user takes effect at once, not when their token expires. So is the user's
``token_version``: a token carries the version it was issued under (claim ``ver``), and
ending a user's sessions (a new password or role, disabling, "log out everywhere") raises
the version, which refuses every token issued before at its next use. ``sid`` names the
session (the refresh token family) the token belongs to.

The signing key comes from ``[api] jwt_secret`` (or its file / systemd credential). When
none is configured, one is generated on first start into ``state_dir/jwt_secret`` with
mode 0600 and reused afterwards, so tokens survive a restart.
"""

from __future__ import annotations

import os
import secrets
import stat
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import jwt
import structlog
from aiohttp import web

from mycopod.api.errors import ApiError, forbidden, unauthorized
from mycopod.api.state import SESSION_ID, USER_ID
from mycopod.config import ApiSettings
from mycopod.errors import ConfigError
from mycopod.store.users import User, UserStore

log = structlog.get_logger(__name__)

ALGORITHM = "HS256"
ISSUER = "mycopod"
AUDIENCE = "mycopod-api"
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub"]
#: clock skew tolerated between replicas
LEEWAY_SECONDS = 5
SECRET_FILE = "jwt_secret"  # noqa: S105 - a file name, not a secret
SESSION_ENDED = ("this session was ended (new password or role, or logged out everywhere): "
                 "log in again")
MIN_SECRET_BYTES = 32


def load_or_create_secret(settings: ApiSettings, *, state_dir: Path) -> str:
    """The configured key, or the one in ``state_dir/jwt_secret`` (created if absent)."""
    if settings.jwt_secret is not None and settings.jwt_secret.get_secret_value():
        value = settings.jwt_secret.get_secret_value()
        if len(value.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"config: api.jwt_secret is too short: use at least {MIN_SECRET_BYTES} bytes "
                "(e.g. `openssl rand -base64 48`)"
            )
        return value
    path = state_dir / SECRET_FILE
    state_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        info = path.stat()
        if info.st_mode & 0o077:
            raise ConfigError(
                f"config: {path} is readable by group or others "
                f"(mode {stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}"
            ) from None
        value = path.read_text(encoding="utf-8").strip()
        if len(value.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(f"config: {path} holds a key that is too short; delete it "
                              "to have a new one generated") from None
        return value
    value = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    log.info("auth.secret_generated", path=str(path))
    return value


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a verified access token says about its bearer."""

    user_id: int
    #: the user's token version at issue (0 for tokens issued before versions existed)
    version: int
    #: the session (refresh token family, hex) the token was issued for, if any
    session: str | None
    not_before: float
    expires: float


class TokenIssuer:
    """Issues and verifies access tokens with one key.

    A token that passed full verification is remembered (bounded) with its claims, so the
    next request with the same token skips re-parsing and re-checking the signature; its
    time window is still checked on every use, and the user (with the role, the disabled
    flag and the token version) is still read from the database by the caller.
    """

    CACHE_SIZE = 4096

    def __init__(self, secret: str, access_seconds: int) -> None:
        self.secret = secret
        self.access_seconds = access_seconds
        self._verified: dict[str, AccessClaims] = {}

    def issue(self, user: User, *, session: str | None = None, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims: dict[str, object] = {
            "sub": str(user.id),
            "role": user.role,
            "ver": user.token_version,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": issued,
            "nbf": issued,
            "exp": issued + self.access_seconds,
            "jti": uuid.uuid4().hex,
        }
        if session is not None:
            claims["sid"] = session
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid token; raises ApiError(401) for any defect."""
        known = self._verified.get(token)
        if known is not None:
            now = time.time()
            if now > known.expires + LEEWAY_SECONDS:
                del self._verified[token]
                raise unauthorized("the access token has expired: POST /auth/refresh")
            if now >= known.not_before - LEEWAY_SECONDS:
                return known
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS, "verify_signature": True},
            )
            version = claims.get("ver", 0)
            session = claims.get("sid")
            if type(version) is not int or not (session is None or isinstance(session, str)):
                raise ValueError("malformed ver or sid claim")
            verified = AccessClaims(user_id=int(claims["sub"]), version=version,
                                    session=session, not_before=float(claims["nbf"]),
                                    expires=float(claims["exp"]))
        except jwt.ExpiredSignatureError:
            raise unauthorized("the access token has expired: POST /auth/refresh") from None
        except (jwt.InvalidTokenError, ValueError, TypeError):
            raise unauthorized("the access token is invalid: log in again") from None
        if len(self._verified) >= self.CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = verified
        return verified


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def load_user(conn: asyncpg.Connection, user_id: int) -> User | None:
    if not 0 < user_id < 2**31:  # no such SERIAL id (nor an int4 overflow in the query)
        return None
    return await UserStore(conn).get(user_id)


async def current_user(request: web.Request, issuer: TokenIssuer, conn: asyncpg.Connection, *,
                       token: str | None = None) -> User:
    """The enabled user behind the request's bearer token, role fresh from the database."""
    token = token if token is not None else bearer_token(request)
    if token is None:
        raise unauthorized()
    claims = issuer.verify(token)
    user = await load_user(conn, claims.user_id)
    if user is None or user.disabled:
        raise unauthorized("this account is disabled or no longer exists")
    if claims.version != user.token_version:
        raise unauthorized(SESSION_ENDED)
    request[USER_ID] = user.id
    if claims.session is not None:
        request[SESSION_ID] = claims.session
    return user


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise forbidden()


__all__ = [
    "ApiError",
    "TokenIssuer",
    "bearer_token",
    "current_user",
    "load_or_create_secret",
    "require_admin",
]
