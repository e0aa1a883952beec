"""``/auth``: log in, rotate refresh tokens, log out (here or everywhere).

A login attempt is counted per username and per client address *before* the password is
checked: :class:`~mycopod.api.ratelimit.Attempt` reserves a slot in both windows in one
synchronous step, before any ``await``, and the slot counts as a failure unless the
password turns out right. A guesser is stopped at the sixth attempt however many
requests they send at once, and a refused attempt costs neither an argon2 verification
nor a database connection. The password check itself runs in a worker thread: argon2 is
deliberately slow and must not stall the event loop for every other request.

"Log out everywhere" (``POST /auth/logout-all``, or an Admin's
``POST /users/{userId}/logout-all``) raises the user's token version and revokes every
refresh token family: access tokens already issued stop working at their next request.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import structlog

from mycopod.api import ratelimit
from mycopod.api.errors import ApiError, unauthorized
from mycopod.api.models import LoginRequest, LogoutRequest, LogoutResult, RefreshRequest, TokenPair
from mycopod.api.routing import Call, Endpoint
from mycopod.api.state import CLIENT, SESSION_ID, USER_ID
from mycopod.store.ratelimits import RateLimitStore
from mycopod.store.refresh_tokens import RefreshTokenStore
from mycopod.store.users import User, UserStore, verify_password

log = structlog.get_logger(__name__)


def _too_many(wait: int) -> ApiError:
    return ApiError(429, "too_many_attempts",
                    f"too many failed logins: try again in {wait} s",
                    headers={"Retry-After": str(wait)})


async def _tokens(call: Call, user: User) -> TokenPair:
    """A new session: a new refresh token family, and an access token naming it."""
    settings = call.ctx.settings.api
    family = uuid.uuid4()
    refresh = await RefreshTokenStore(call.conn).issue(
        user.id, lifetime=timedelta(seconds=settings.refresh_token_seconds),
        token_version=user.token_version, family_id=family)
    return TokenPair(access_token=call.state.issuer.issue(user, session=family.hex),
                     refresh_token=refresh, expires_in=settings.access_token_seconds)


async def log_in(call: Call, username: str, password: str) -> tuple[User, TokenPair]:
    """Check the credentials under the failed-login limits (429/401); a new session.

    The attempt is reserved before anything is awaited; only then is a database
    connection taken (``call.conn`` is set to it while the check runs).
    """
    state = call.state
    client = call.request.get(CLIENT, "unknown")
    user_key = username.strip().lower()
    attempt = ratelimit.Attempt(((state.login_failures_by_user, user_key),
                                 (state.login_failures_by_ip, client)))
    wait = attempt.reserve()
    if wait:
        log.warning("auth.login_throttled", username=username, client=client, retry_after=wait)
        raise _too_many(wait)
    with attempt:
        # the same budget, shared with every replica (store/ratelimits.py)
        shared = RateLimitStore(call.ctx.pool)
        window = state.login_failures_by_user
        held = await shared.reserve_login([("user", user_key), ("client", client)],
                                          limit=window.limit, window=window.window)
        if held.wait:
            attempt.succeeded()  # refused before any password check: not a failure here
            log.warning("auth.login_throttled", username=username, client=client,
                        retry_after=held.wait, shared=True)
            raise _too_many(held.wait)
        async with call.ctx.pool.acquire() as conn:
            call.conn = conn
            user, stored = await UserStore(conn).credentials(username)
            good = await asyncio.to_thread(verify_password, stored, password)
            if not good or user is None or user.disabled:
                log.warning("auth.login_failed", username=username, client=client)
                raise unauthorized("wrong username or password, or the account is disabled")
            attempt.succeeded()
            state.login_failures_by_user.clear(user_key)
            await shared.release_login(held, clear=("user", user_key))
            call.request[USER_ID] = user.id
            return user, await _tokens(call, user)


async def login(call: Call) -> TokenPair:
    body: LoginRequest = call.body
    user, pair = await log_in(call, body.username, body.password)
    log.info("auth.login", user_id=user.id, client=call.request.get(CLIENT))
    return pair


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
    assert rotation.family_id is not None
    if user is None or user.disabled:
        await store.revoke_family(rotation.family_id)
        raise unauthorized("this account is disabled or no longer exists")
    if user.token_version != rotation.token_version:
        # the sessions were ended while this token was being rotated
        await store.revoke_family(rotation.family_id)
        raise unauthorized("the refresh token is revoked: log in again")
    call.request[USER_ID] = user.id
    call.request[SESSION_ID] = rotation.family_id.hex
    pair = TokenPair(access_token=call.state.issuer.issue(user, session=rotation.family_id.hex),
                     refresh_token=rotation.token, expires_in=settings.access_token_seconds)
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


async def logout_all(call: Call) -> LogoutResult:
    revoked = await UserStore(call.conn).end_sessions(call.me.id)
    log.info("auth.logout_all", user_id=call.me.id, target=call.me.id, revoked=revoked)
    return LogoutResult(revoked=revoked or 0)


ENDPOINTS = [
    Endpoint("POST", "/auth/login", "login", "Log in with a username and password", "auth",
             login, auth="public", body=LoginRequest, response=TokenPair, errors=(401, 429),
             needs_conn=False,  # log_in takes a connection once the attempt is reserved
             description="Returns a short-lived access JWT and a rotating refresh token. "
             "Five failed attempts a minute per username or per client address give 429; "
             "an attempt counts from the moment it arrives, so concurrent attempts beyond "
             "five (checks in flight included) get 429 without their password being "
             "checked."),
    Endpoint("POST", "/auth/refresh", "refresh", "Exchange a refresh token for new tokens",
             "auth", refresh, auth="public", body=RefreshRequest, response=TokenPair,
             errors=(401,),
             description="The refresh token rotates: the one presented stops working. "
             "Presenting a rotated token again revokes its whole family."),
    Endpoint("POST", "/auth/logout", "logout", "Revoke refresh tokens", "auth", logout,
             body=LogoutRequest, response=LogoutResult, errors=(401,),
             description="With refresh_token: revoke its family. Without: revoke every "
             "refresh token of the caller; access tokens already issued run out on their "
             "own (POST /auth/logout-all ends them at once)."),
    Endpoint("POST", "/auth/logout-all", "logoutEverywhere", "Log out everywhere", "auth",
             logout_all, response=LogoutResult, errors=(401,),
             description="Ends every session of the caller: every refresh token family is "
             "revoked and every access token issued so far, this one included, stops "
             "working at once. revoked: the number of refresh tokens revoked."),
]
