"""``/auth``: log in, rotate refresh tokens, log out.

Failed logins are counted per username and per client address before the password is
even checked, so a guesser is stopped at the sixth attempt without costing an argon2
verification each time. The password check itself runs in a worker thread: argon2 is
deliberately slow and must not stall the event loop for every other request.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog

from mycopod.api.errors import ApiError, unauthorized
from mycopod.api.models import LoginRequest, LogoutRequest, LogoutResult, RefreshRequest, TokenPair
from mycopod.api.routing import Call, Endpoint
from mycopod.api.state import CLIENT, USER_ID
from mycopod.store.refresh_tokens import RefreshTokenStore
from mycopod.store.users import SELECT_BY_NAME, User, verify_password

log = structlog.get_logger(__name__)


def _too_many(wait: int) -> ApiError:
    return ApiError(429, "too_many_attempts",
                    f"too many failed logins: try again in {wait} s",
                    headers={"Retry-After": str(wait)})


async def _tokens(call: Call, user: User) -> TokenPair:
    settings = call.ctx.settings.api
    refresh = await RefreshTokenStore(call.conn).issue(
        user.id, lifetime=timedelta(seconds=settings.refresh_token_seconds))
    return TokenPair(access_token=call.state.issuer.issue(user), refresh_token=refresh,
                     expires_in=settings.access_token_seconds)


async def authenticate(call: Call, username: str, password: str) -> User:
    """The user for these credentials, applying the failed-login limits (429/401)."""
    state = call.state
    client = call.request.get(CLIENT, "unknown")
    user_key = username.strip().lower()
    wait = max(state.login_failures_by_user.retry_after(user_key),
               state.login_failures_by_ip.retry_after(client))
    if wait:
        log.warning("auth.login_throttled", username=username, client=client, retry_after=wait)
        raise _too_many(wait)
    row = await call.conn.fetchrow(SELECT_BY_NAME, username)
    stored = row["password_hash"] if row else None
    good = await asyncio.to_thread(verify_password, stored, password)
    if not good or row is None or row["disabled"]:
        state.login_failures_by_user.record(user_key)
        state.login_failures_by_ip.record(client)
        log.warning("auth.login_failed", username=username, client=client)
        raise unauthorized("wrong username or password, or the account is disabled")
    state.login_failures_by_user.clear(user_key)
    data = dict(row)
    data.pop("password_hash")
    user = User(**data)
    call.request[USER_ID] = user.id
    return user


async def login(call: Call) -> TokenPair:
    body: LoginRequest = call.body
    user = await authenticate(call, body.username, body.password)
    log.info("auth.login", user_id=user.id, client=call.request.get(CLIENT))
    return await _tokens(call, user)


async def refresh_tokens(call: Call, token: str) -> tuple[User, TokenPair]:
    settings = call.ctx.settings.api
    store = RefreshTokenStore(call.conn)
    rotation = await store.rotate(token, lifetime=timedelta(seconds=settings.refresh_token_seconds))
    if rotation.outcome == "reused":
        log.warning("auth.refresh_reused", user_id=rotation.user_id,
                    family=str(rotation.family_id), client=call.request.get(CLIENT))
        raise unauthorized("this refresh token was already used: its whole family is revoked, "
                           "log in again")
    if rotation.outcome != "ok" or rotation.token is None or rotation.user_id is None:
        raise unauthorized(f"the refresh token is {rotation.outcome}: log in again")
    from mycopod.api.auth import load_user

    user = await load_user(call.conn, rotation.user_id)
    if user is None or user.disabled:
        assert rotation.family_id is not None
        await store.revoke_family(rotation.family_id)
        raise unauthorized("this account is disabled or no longer exists")
    call.request[USER_ID] = user.id
    pair = TokenPair(access_token=call.state.issuer.issue(user), refresh_token=rotation.token,
                     expires_in=settings.access_token_seconds)
    return user, pair


async def refresh(call: Call) -> TokenPair:
    body: RefreshRequest = call.body
    _user, pair = await refresh_tokens(call, body.refresh_token)
    return pair


async def logout(call: Call) -> LogoutResult:
    body: LogoutRequest = call.body
    store = RefreshTokenStore(call.conn)
    if body.refresh_token:
        revoked = await store.revoke_family_of(body.refresh_token, user_id=call.me.id)
    else:
        revoked = await store.revoke_user(call.me.id)
    log.info("auth.logout", user_id=call.me.id, revoked=revoked)
    return LogoutResult(revoked=revoked)


ENDPOINTS = [
    Endpoint("POST", "/auth/login", "login", "Log in with a username and password", "auth",
             login, auth="public", body=LoginRequest, response=TokenPair, errors=(401, 429),
             description="Returns a short-lived access JWT and a rotating refresh token. "
             "Five failed attempts a minute per username or per client address give 429."),
    Endpoint("POST", "/auth/refresh", "refresh", "Exchange a refresh token for new tokens",
             "auth", refresh, auth="public", body=RefreshRequest, response=TokenPair,
             errors=(401,),
             description="The refresh token rotates: the one presented stops working. "
             "Presenting a rotated token again revokes its whole family."),
    Endpoint("POST", "/auth/logout", "logout", "Revoke refresh tokens", "auth", logout,
             body=LogoutRequest, response=LogoutResult, errors=(401,),
             description="With refresh_token: revoke its family. Without: revoke every "
             "refresh token of the caller (log out everywhere)."),
]
