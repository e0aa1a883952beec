"""The aiohttp application and how the daemon serves it.

:func:`create_app` builds the application from an :class:`ApiContext`; it opens nothing
itself but a small housekeeping task (in ``cleanup_ctx``, so it is closed with the app).
:func:`start_api` serves it on the daemon's own event loop (``AppRunner`` + ``TCPSite``),
over TLS when ``[api] tls_cert``/``tls_key`` are set; otherwise it expects to sit behind
a reverse proxy such as the nginx example in ``config/nginx/``.

One middleware does what every request needs, in this order: find the client address
(forwarded headers believed only from trusted proxies), apply the general rate limit,
run the handler, turn any error into the JSON envelope, count the request in
``mycopod_http_requests_total`` and, for state-changing methods, write an audit line with
the user id. An unexpected exception becomes a 500 whose body holds only an error id;
the same id is logged with the traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import structlog
from aiohttp import web

from mycopod import telemetry
from mycopod.api import auth, openapi, ratelimit
from mycopod.api.context import ApiContext
from mycopod.api.errors import ApiError
from mycopod.api.routing import Endpoint, error_response, register, size_text
from mycopod.api.state import CLIENT, CTX, STATE, USER_ID, ApiState
from mycopod.config import ApiSettings
from mycopod.declarations import webhook
from mycopod.store.ratelimits import RateLimitStore

log = structlog.get_logger(__name__)

#: largest request body aiohttp reads: GitHub's push payloads may reach the webhook's own
#: limit; JSON endpoints stop at routing.JSON_MAX_BODY
CLIENT_MAX_SIZE = webhook.MAX_BODY
#: failures that mean "the database cannot be reached", answered 503 rather than 500
DATABASE_DOWN: tuple[type[BaseException], ...] = (
    OSError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError,
    asyncpg.ConnectionDoesNotExistError, asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_FAILURES_PER_MINUTE = 5
SWEEP_SECONDS = 3600.0
_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type",
               422: "invalid", 429: "rate_limited"}
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # not "no-referrer": under it a browser sends "Origin: null" with the status page's own
    # forms, which the /ui/ same-origin check must refuse; "same-origin" still sends
    # nothing to other sites
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
#: the metric children per route and code: ``labels()`` takes a lock and builds a key on
#: every call, which is measurable on the busiest routes
_COUNTERS: dict[tuple[str, int], Any] = {}
_LATENCIES: dict[str, Any] = {}
#: how long a request waits to spend its shared budget before going on without it
SHARED_LIMIT_SECONDS = 0.25
SHARED_LIMIT_ERRORS: tuple[type[BaseException], ...] = (TimeoutError, *DATABASE_DOWN)


def _count(route: str, status: int, seconds: float) -> None:
    counter = _COUNTERS.get((route, status))
    if counter is None:
        counter = _COUNTERS[(route, status)] = telemetry.HTTP_REQUESTS.labels(route, str(status))
    counter.inc()
    latency = _LATENCIES.get(route)
    if latency is None:
        latency = _LATENCIES[route] = telemetry.HTTP_LATENCY.labels(route)
    latency.observe(seconds)


def all_endpoints() -> list[Endpoint]:
    from mycopod.api import (
        routes_auth,
        routes_declarations,
        routes_guests,
        routes_import,
        routes_reconcile,
        routes_settings,
        routes_status,
        routes_system,
        routes_users,
        routes_webhook,
    )

    return [
        *routes_auth.ENDPOINTS,
        *routes_users.ENDPOINTS,
        *routes_import.ENDPOINTS,
        *routes_declarations.ENDPOINTS,
        *routes_reconcile.ENDPOINTS,
        *routes_guests.ENDPOINTS,
        *routes_settings.ENDPOINTS,
        *routes_system.ENDPOINTS,
        *routes_webhook.ENDPOINTS,
        *routes_status.ENDPOINTS,
    ]


def _http_error(exc: web.HTTPException) -> web.Response:
    status = exc.status
    code = _HTTP_CODES.get(status, "http_error")
    if status == 413:
        # a body read outside read_body (the /ui/ forms) stops at the app's limit
        message = f"the request body is too large (at most {size_text(CLIENT_MAX_SIZE)})"
    elif status == 404:
        message = "no such endpoint (see /openapi.json)"
    elif status == 405:
        message = "this endpoint does not take that method (see /openapi.json)"
    else:
        message = exc.reason or code
    headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
    return error_response(ApiError(status, code, message, headers=headers))


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _shared_take(request: web.Request, client: str) -> int:
    """The general budget shared by every replica (store/ratelimits.py): 0, or the seconds
    to wait. Skipped while the database is known to be down (``/health`` must answer)."""
    ctx = request.app[CTX]
    check = ctx.runtime.database
    if check is not None and check.ok is False:
        return 0
    try:
        # bounded: a pool with no free connection must not hold every request up
        return await asyncio.wait_for(RateLimitStore(ctx.pool).take(
            client, per_minute=ctx.settings.api.rate_limit_per_minute), SHARED_LIMIT_SECONDS)
    except SHARED_LIMIT_ERRORS:
        return 0  # the in-memory limit still holds


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    started = time.perf_counter()
    client = ratelimit.client_address(request.remote, request.headers.get("X-Forwarded-For"),
                                      state.trusted_proxies)
    request[CLIENT] = client
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    response: web.StreamResponse
    try:
        wait = state.general.take(client) or await _shared_take(request, client)
        if wait:
            raise ApiError(429, "rate_limited", f"too many requests: retry in {wait} s",
                           headers={"Retry-After": str(wait)})
        response = await handler(request)
    except ApiError as exc:
        response = error_response(exc)
    except web.HTTPException as exc:
        response = _http_error(exc)
    except DATABASE_DOWN as exc:
        log.warning("api.database_unavailable", route=route, error=type(exc).__name__)
        response = error_response(ApiError(
            503, "database_unavailable", "the database is unavailable; try again shortly",
            headers={"Retry-After": "5"}))
    except (UnicodeError, asyncpg.DataError) as exc:
        # text PostgreSQL cannot store (lone surrogates, NUL) or a value out of its range
        log.info("api.unstorable_input", route=route, error=type(exc).__name__)
        response = error_response(ApiError(
            422, "invalid", "the request holds characters or values that cannot be stored"))
    except asyncio.CancelledError:
        raise
    except Exception:
        error_id = uuid.uuid4().hex[:16]
        log.exception("api.internal_error", error_id=error_id, route=route,
                      method=request.method, user_id=request.get(USER_ID))
        response = error_response(ApiError(
            500, "internal_error",
            f"internal error; the server log has the details under error id {error_id}",
            details={"error_id": error_id}))
    response.headers.update(_SECURITY_HEADERS)
    status = response.status
    _count(route, status, time.perf_counter() - started)
    if request.method not in SAFE_METHODS:
        log.info("api.audit", user_id=request.get(USER_ID), method=request.method,
                 route=route, status=status, client=client)
    return response


async def _sweeper(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: delete long-expired refresh tokens hourly, stop with the app."""
    from mycopod.store.refresh_tokens import RefreshTokenStore

    ctx = app[CTX]

    async def sweep() -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                removed = await RefreshTokenStore(ctx.pool).delete_expired()
                if removed:
                    log.info("auth.refresh_tokens_swept", removed=removed)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("auth.sweep_failed", error=type(exc).__name__)

    task = asyncio.create_task(sweep(), name="api.refresh-token-sweeper")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _compile_workers(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: compile workers for an app that runs without the daemon's."""
    from mycopod.declarations.workers import CompileWorkers

    ctx = app[CTX]
    if ctx.compilers is not None:  # the daemon's: it closes them
        yield
        return
    ctx.compilers = CompileWorkers(ctx.settings.compile)
    try:
        yield
    finally:
        workers, ctx.compilers = ctx.compilers, None
        await workers.close()


def build_state(ctx: ApiContext, endpoints: list[Endpoint]) -> ApiState:
    api = ctx.settings.api
    secret = auth.load_or_create_secret(api, state_dir=ctx.settings.state_dir)
    state = ApiState(
        issuer=auth.TokenIssuer(secret=secret, access_seconds=api.access_token_seconds),
        login_failures_by_user=ratelimit.FailureWindow(LOGIN_FAILURES_PER_MINUTE, 60.0),
        login_failures_by_ip=ratelimit.FailureWindow(LOGIN_FAILURES_PER_MINUTE, 60.0),
        general=ratelimit.TokenBucket(api.rate_limit_per_minute),
        compiles=ratelimit.InFlight(ctx.settings.compile.per_user),
        trusted_proxies=ratelimit.parse_networks(api.trusted_proxies),
        metrics_allow=ratelimit.parse_networks(api.metrics_allow),
        metrics_token=(api.metrics_token.get_secret_value()
                       if api.metrics_token is not None else None),
    )
    import json

    state.openapi = openapi.build([e for e in endpoints if not e.path.startswith("/ui/")])
    state.openapi_bytes = json.dumps(state.openapi).encode()
    return state


def create_app(ctx: ApiContext) -> web.Application:
    """The API application for ``ctx``; serve it with :func:`start_api`."""
    endpoints = all_endpoints()
    app = web.Application(middlewares=[api_middleware], client_max_size=CLIENT_MAX_SIZE)
    app[CTX] = ctx
    app[STATE] = build_state(ctx, endpoints)
    register(app, endpoints)
    from mycopod.api import routes_status

    routes_status.register_ui(app)
    from mycopod.api import ui

    ui.register(app)
    app.cleanup_ctx.append(_sweeper)
    app.cleanup_ctx.append(_compile_workers)
    return app


def ssl_context(settings: ApiSettings) -> ssl.SSLContext | None:
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(settings.tls_cert), str(settings.tls_key))
    return context


async def start_api(app: web.Application, settings: ApiSettings) -> web.AppRunner:
    """Serve ``app`` on the running loop; ``await runner.cleanup()`` stops it."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5.0)
    await runner.setup()
    context = ssl_context(settings)
    site = web.TCPSite(runner, settings.host, settings.port, ssl_context=context)
    await site.start()
    log.info("api.listening", host=settings.host, port=bound_port(runner),
             tls=context is not None)
    return runner


def bound_port(runner: web.AppRunner) -> int:
    """The port actually bound (useful with port 0)."""
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    raise RuntimeError("the API is not listening")


__all__ = ["ApiContext", "bound_port", "create_app", "ssl_context", "start_api"]
