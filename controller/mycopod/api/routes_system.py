"""``/health``, ``/metrics`` and ``/openapi.json``: what machines poll.

``/health`` needs no login: a load balancer or a Proxmox cron script asks it. Its code
is 200 when this process can reach the database (the one thing without which it can do
nothing) and 503 otherwise; Proxmox, the repository and the last good reconcile are
reported with how long ago they were seen, for a person or an alert rule to judge.
"Can reach the database" is asked now: a new connection (shared by the requests of the
same second, see ``ConnectivityCheck``), since a pooled one can still answer while the
server refuses new ones, and a query on the pool, both within a short timeout.

``/metrics`` is Prometheus text. It can be restricted to a bearer token and/or a list of
client networks (the TCP peer, never a forwarded header); with both configured either
one lets a scraper in.
"""

from __future__ import annotations

import asyncio
import hmac
from datetime import UTC, datetime

import asyncpg
import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from mycopod import telemetry
from mycopod.api import auth
from mycopod.api.errors import ApiError
from mycopod.api.models import ClusterHealth, Health, ProxmoxHealth, RepoHealth
from mycopod.api.ratelimit import in_networks
from mycopod.api.routing import Call, Endpoint, error_response, ok_response
from mycopod.api.state import STATE
from mycopod.runtime import RuntimeStatus
from mycopod.store import locks
from mycopod.store.runs import RunStore

log = structlog.get_logger(__name__)

HEALTH_DB_TIMEOUT = 2.0
#: a check whose timeout fired this much later than asked was held up by a busy event
#: loop, not by the database: it is asked again once before it counts
HEALTH_LOOP_LAG = 0.5


def _ago(when: datetime | None, now: datetime) -> float | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    # (a Proxmox call may answer while /health is being built: never a negative age)
    return round(max(0.0, (now - when).total_seconds()), 3)


async def _ask_database(pool: asyncpg.Pool) -> tuple[str | None, float]:
    """One ``SELECT 1``: (what went wrong or None, how late its timeout fired)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    connected = False
    try:
        async with asyncio.timeout(HEALTH_DB_TIMEOUT), pool.acquire() as conn:
            connected = True
            answered = await locks.ping(conn)
        return (None if answered else "the database gave a wrong answer to SELECT 1"), 0.0
    except TimeoutError:
        late = loop.time() - started - HEALTH_DB_TIMEOUT
        if not connected and pool.get_size() >= pool.get_max_size():
            return (f"all {pool.get_max_size()} database connections stayed busy for "
                    f"{HEALTH_DB_TIMEOUT:g} s (database.pool_max_size)"), late
        return f"the database did not answer within {HEALTH_DB_TIMEOUT:g} s", late
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise
    except Exception as exc:  # any failure to connect or answer: report, never raise
        log.warning("health.database_error", error=type(exc).__name__)
        return "the database is unreachable", 0.0


async def database_problem(call: Call) -> str | None:
    """Why the database cannot be used now; None when it answered ``SELECT 1``.

    A failure to connect (unreachable), no free connection in the pool and no answer in
    time are told apart, so that none is reported as another. A timeout that fired much
    later than asked means the event loop was busy, not that the database was slow: the
    check is then asked again, on a loop now free, before anything is reported.
    """
    check = call.ctx.runtime.database  # the daemon's check on a new connection
    if check is not None and not await check.check():
        log.warning("health.database_down", error=check.error)
        return "the database is unreachable"
    problem, late = await _ask_database(call.ctx.pool)
    if problem is not None and late > HEALTH_LOOP_LAG:
        log.warning("health.loop_was_busy", late_seconds=round(late, 3))
        problem, _ = await _ask_database(call.ctx.pool)
    if problem is not None:
        log.warning("health.database_down", problem=problem)
    return problem


def _cluster_health(rt: RuntimeStatus, now: datetime) -> ClusterHealth:
    return ClusterHealth(
        name=rt.cluster, role="leader" if rt.leader else "standby",
        proxmox=ProxmoxHealth(reachable=rt.proxmox_ok, last_contact=rt.proxmox_last_contact,
                              seconds_since_contact=_ago(rt.proxmox_last_contact, now),
                              error=rt.proxmox_error),
        repo=RepoHealth(head=rt.repo_head, last_fetch=rt.repo_last_fetch,
                        seconds_since_fetch=_ago(rt.repo_last_fetch, now), error=rt.repo_error,
                        compile_error=rt.compile_error),
        last_successful_reconcile=rt.last_successful_reconcile)


async def health(call: Call) -> web.Response:
    now = datetime.now(UTC)
    problem = await database_problem(call)
    up = problem is None
    clusters = [_cluster_health(v.runtime, now) for v in call.ctx.views().values()]
    first = _cluster_health(call.ctx.runtime, now)
    report = Health(
        database="up" if up else "down", proxmox=first.proxmox, repo=first.repo,
        last_successful_reconcile=first.last_successful_reconcile,
        role="leader" if any(c.role == "leader" for c in clusters) else "standby",
        cluster=first.name, clusters=clusters,
    )
    if up:
        return ok_response(HEALTH.adapter, report)
    return error_response(ApiError(503, "unhealthy", problem or "the database is unreachable",
                                   details=report.model_dump(mode="json")))


def metrics_allowed(request: web.Request) -> bool:
    state = request.app[STATE]
    if state.metrics_token is None and not state.metrics_allow:
        return True
    if state.metrics_allow and in_networks(request.remote, state.metrics_allow):
        return True
    if state.metrics_token is not None:
        token = auth.bearer_token(request) or ""
        return hmac.compare_digest(token.encode(), state.metrics_token.encode())
    return False


async def metrics(call: Call) -> web.Response:
    if not metrics_allowed(call.request):
        if call.state.metrics_token is not None:
            raise ApiError(401, "unauthorized", "send the metrics bearer token",
                           headers={"WWW-Authenticate": "Bearer"})
        raise ApiError(403, "forbidden", "this address may not read /metrics")
    for name, view in call.ctx.views().items():
        rt = view.runtime
        telemetry.LEADER.labels(cluster=name).set(1 if rt.leader else 0)
        try:
            async with asyncio.timeout(HEALTH_DB_TIMEOUT):
                counts = await RunStore(call.ctx.pool).counts_by_status(name)
            telemetry.RUNS_AWAITING_APPROVAL.labels(cluster=name).set(
                counts.get("AwaitingApproval", 0))
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("metrics.count_failed", error=type(exc).__name__)  # keep the last
        if rt.last_successful_reconcile is not None:
            telemetry.LAST_SUCCESS.labels(cluster=name).set(
                rt.last_successful_reconcile.timestamp())
    body = await asyncio.to_thread(generate_latest, telemetry.REGISTRY)
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


async def openapi(call: Call) -> web.Response:
    return web.Response(body=call.state.openapi_bytes, content_type="application/json")


HEALTH = Endpoint(
    "GET", "/health", "health", "Liveness and what this process last saw", "system", health,
    auth="public", response=Health, errors=(503,), needs_conn=False,
    description="200 when the database is up, 503 (error envelope, the report in details) "
    "when it is not. No login needed.")

ENDPOINTS = [
    HEALTH,
    Endpoint("GET", "/metrics", "metrics", "Prometheus metrics", "system", metrics,
             auth="public", content_type="text/plain", errors=(401, 403), needs_conn=False),
    Endpoint("GET", "/openapi.json", "openapi", "This document (OpenAPI 3.1)", "system",
             openapi, auth="public", content_type="application/json", needs_conn=False),
]
