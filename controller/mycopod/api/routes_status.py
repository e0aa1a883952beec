"""``GET /``: the status page, server-rendered, behind the same login as the API.

A browser cannot send a bearer header on navigation, so the page keeps the very same
tokens in cookies: the access JWT and the rotating refresh token, both ``HttpOnly`` and
``SameSite=Strict``. The cookies are honoured only by ``/`` and the ``/ui/`` form
endpoints, never by the JSON API, so the API stays free of cross-site request forgery.

The forms are guarded twice. Every ``/ui/`` POST whose ``Origin`` (or, without one,
``Referer``) names another origin than this server is refused, the login form included:
a cross-site page cannot sign a browser in to an account of its choosing (login CSRF).
And the forms of a signed-in page carry a token derived from the signing key and the
session (the refresh token family), so it changes with every sign-in and dies with the
session. The page reloads itself with a meta refresh; its layout, stylesheet and clock script
are the web UI's (:mod:`mycopod.api.ui`), and it works without script.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import structlog
from aiohttp import web
from yarl import URL

from mycopod.api import auth, paging
from mycopod.api.errors import ApiError
from mycopod.api.ratelimit import in_networks
from mycopod.api.routing import Call, Endpoint, parse_id
from mycopod.api.state import CTX, SESSION_ID, STATE
from mycopod.reconcile import approvals
from mycopod.reconcile.plan import Plan, PlanIssue, PlanVersionError
from mycopod.store.declarations import DeclarationStore
from mycopod.store.refresh_tokens import RefreshTokenStore
from mycopod.store.runs import Run, RunStore
from mycopod.store.users import User

log = structlog.get_logger(__name__)

ACCESS_COOKIE = "mycopod_access"
REFRESH_COOKIE = "mycopod_refresh"
REFRESH_SECONDS = 10
RECENT_RUNS = 15
#: rows of each table on the page (the plan's actions, guests, orphans, conflicts): the
#: page of a cluster with thousands of guests stays small; the API pages the rest
PAGE_ROWS = paging.DEFAULT_WINDOW
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NOTICES = {
    "approved": "Run approved: the controller picks it up now.",
    "rejected": "Run rejected.",
    "forbidden": "Only an Admin may do that.",
    "four_eyes": "Four-eyes rule: another Admin must approve a run you requested.",
    "conflict": "That run is no longer waiting for approval.",
    "not_found": "No such run.",
    "csrf": "The form expired; try again.",
    "signed_out": "Signed out.",
}
CROSS_ORIGIN = ("This form was not sent from MycoPod's own page: open the status page and "
                "sign in there.")

def csrf_token(secret: str, user: User, session: str) -> str:
    """The form token of ``user``'s ``session``: a new one with every sign-in."""
    message = f"csrf:{user.id}:{session}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        return None
    if not parsed.is_absolute() or parsed.scheme not in ("http", "https"):
        return None  # "null", an opaque or a malformed origin
    return parsed.scheme, (parsed.host or "").lower(), parsed.port


def same_origin(request: web.Request) -> bool:
    """False when the request says it comes from a page of another origin.

    Browsers send ``Origin`` with every form POST (``null`` from an opaque or a
    no-referrer context, which is refused too); ``Referer`` is the fallback. A request
    with neither (not a browser) is allowed: it carries no one else's cookies.
    """
    if "Origin" in request.headers:
        claimed = request.headers["Origin"]
    elif "Referer" in request.headers:
        claimed = request.headers["Referer"]
    else:
        return True
    scheme = "https" if _is_https(request) else "http"
    here = _origin(f"{scheme}://{request.host}")
    return here is not None and _origin(claimed) == here


def _fmt_time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else None


def _ago(value: datetime | None) -> str | None:
    if value is None:
        return None
    seconds = int((datetime.now(UTC) - value).total_seconds())
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


def _duration(run: Run) -> str:
    if run.started_at and run.finished_at:
        return f"{(run.finished_at - run.started_at).total_seconds():.1f} s"
    return "—"


def _set_cookies(response: web.StreamResponse, request: web.Request, access: str,
                 refresh: str, *, refresh_seconds: int) -> None:
    options: dict[str, Any] = {"httponly": True, "samesite": "Strict", "path": "/",
                               "secure": _is_https(request)}
    response.set_cookie(ACCESS_COOKIE, access, **options)
    response.set_cookie(REFRESH_COOKIE, refresh, max_age=refresh_seconds, **options)


def _is_https(request: web.Request) -> bool:
    """Served over TLS, directly or by a trusted proxy that says so."""
    if request.secure:
        return True
    state = request.app[STATE]
    return (request.headers.get("X-Forwarded-Proto", "").lower() == "https"
            and in_networks(request.remote, state.trusted_proxies))


def _clear_cookies(response: web.StreamResponse) -> None:
    response.del_cookie(ACCESS_COOKIE, path="/")
    response.del_cookie(REFRESH_COOKIE, path="/")


async def cookie_user(call: Call) -> tuple[User | None, tuple[str, str] | None]:
    """The user of the page's cookies, refreshing an expired access token on the way."""
    from mycopod.api.routes_auth import refresh_tokens

    request = call.request
    token = request.cookies.get(ACCESS_COOKIE)
    if token:
        try:
            return await auth.current_user(request, call.state.issuer, call.conn,
                                           token=token), None
        except ApiError:
            pass
    refresh = request.cookies.get(REFRESH_COOKIE)
    if refresh:
        try:
            user, pair = await refresh_tokens(call, refresh)
            return user, (pair.access_token, pair.refresh_token)
        except ApiError:
            pass
    return None, None


def _latest_plan(run: Run) -> Plan:
    """The run's plan; one this MycoPod cannot read shows why as its only error."""
    try:
        return Plan.from_json(run.plan)
    except PlanVersionError as exc:
        return Plan(errors=[PlanIssue(guest=f"run {run.id}", message=str(exc))])


async def page_context(call: Call, user: User, notice: str | None) -> dict[str, Any]:
    from mycopod.api.ui import data

    # several clusters: the figures, plan and runs of the one chosen (?cluster=)
    cluster = data.cluster_of(call)
    rt = call.ctx.runtime_of(cluster)
    runs, _ = await RunStore(call.conn).list_runs(
        limit=RECENT_RUNS, cluster=cluster if call.ctx.clusters else None)
    latest = await RunStore(call.conn).get(runs[0].id) if runs else None
    # cached while the report is the same
    report, _run_id = await data.report(call, cluster)
    plan = _latest_plan(latest) if latest else Plan()
    compile_info = await _compile_result(call, cluster)
    more: dict[str, int] = {}

    def rows(name: str, items: list[Any]) -> list[Any]:
        if len(items) > PAGE_ROWS:
            more[name] = len(items) - PAGE_ROWS
        return items[:PAGE_ROWS]

    return {
        "user": user,
        "csrf": csrf_token(call.state.issuer.secret, user, call.request.get(SESSION_ID, "")),
        "notice": notice,
        "cluster": cluster,
        "role": "leader" if rt.leader else "standby",
        "commit": rt.repo_head or (compile_info or {}).get("commit") or (
            latest.commit_sha if latest else None),
        "compile": compile_info,
        "proxmox_ok": rt.proxmox_ok,
        "proxmox_ago": _ago(rt.proxmox_last_contact),
        "last_success_at": rt.last_successful_reconcile,
        "counts": {"managed": report.managed, "drifted": report.drifted,
                   "orphaned": report.orphaned},
        "latest": None if latest is None else {
            "id": latest.id, "status": latest.status,
            "actions": rows("actions", plan.actions),
            "errors": rows("errors", plan.errors),
            "approval_reasons": plan.approval_reasons,
            "sources": plan.sources,
        },
        "guests": rows("guests", [g for g in report.guests if g.status != "orphan"]),
        "orphans": rows("orphans", report.orphans),
        "conflicts": rows("conflicts", report.conflicts),
        "more": more,
        "runs": [{"id": r.id, "status": r.status, "trigger": r.trigger,
                  "commit_sha": r.commit_sha, "created_at": r.created_at,
                  "duration": _duration(r), "cluster": r.cluster} for r in runs],
        # several clusters: each one's role, and a column of the runs (docs/scaling.md)
        "clusters": [{"name": n, "role": "leader" if v.runtime.leader else "standby"}
                     for n, v in call.ctx.views().items()] if call.ctx.clusters else [],
        "refresh_seconds": REFRESH_SECONDS,
        # issue 14: nothing is applied while suspended; an Admin's button says it here
        "suspended": (await call.ctx.effective_policy(cluster)).suspended,
    }


async def _compile_result(call: Call, cluster: str) -> dict[str, Any] | None:
    """The compile result of the cluster's newest declaration (a failed commit shows its
    error)."""
    declaration = await DeclarationStore(call.conn, cluster).latest_without_spec()
    if declaration is None:
        return None
    return {"status": declaration.compile_status,
            "error": paging.clip(declaration.compile_error, paging.ITEM_TEXT),
            "commit": declaration.github_commit_sha}


def render_page(context: dict[str, Any]) -> str:
    from mycopod.api.ui import core

    return core.render("status.html", context)


def _html(text: str, status: int = 200) -> web.Response:
    from mycopod.api.ui import core

    return core.html(text, status)


def _login_page(notice: str | None = None, status: int = 200) -> web.Response:
    return _html(render_page({"user": None, "notice": notice}), status)


async def status_page(call: Call) -> web.Response:
    user, fresh = await cookie_user(call)
    notice = NOTICES.get(call.request.query.get("n", ""))
    if user is None:
        response = _login_page(notice)
        if call.request.cookies.get(ACCESS_COOKIE) or call.request.cookies.get(REFRESH_COOKIE):
            _clear_cookies(response)
        return response
    from mycopod.api.ui import core

    context = await page_context(call, user, notice)
    response = _html(render_page({**core.layout(call, user, "overview"), **context}))
    if fresh is not None:
        _set_cookies(response, call.request, *fresh,
                     refresh_seconds=call.ctx.settings.api.refresh_token_seconds)
    return response


def _redirect(notice: str | None = None) -> web.Response:
    location = f"/?n={notice}" if notice else "/"
    return web.Response(status=303, headers={"Location": location})


async def _form(request: web.Request) -> dict[str, str]:
    if request.content_type not in FORM_TYPES:
        raise ApiError(415, "unsupported_media_type", "send the form as "
                       "application/x-www-form-urlencoded")
    data = await request.post()
    return {k: v for k, v in data.items() if isinstance(v, str)}


def _ui_call(request: web.Request, conn: Any) -> Call:
    return Call(request=request, ctx=request.app[CTX], state=request.app[STATE], user=None,
                conn=conn, params={})


async def ui_login(request: web.Request) -> web.Response:
    from mycopod.api.routes_auth import log_in

    if not same_origin(request):
        log.warning("auth.login_cross_origin", origin=request.headers.get("Origin"),
                    referer=request.headers.get("Referer"))
        return _login_page(CROSS_ORIGIN, 403)
    form = await _form(request)
    username, password = form.get("username", ""), form.get("password", "")
    if not username or not password or len(username) > 100 or len(password) > 1024:
        return _login_page("Enter a username and a password.", 400)
    call = _ui_call(request, None)
    try:
        user, pair = await log_in(call, username, password)
    except ApiError as exc:
        response = _login_page(exc.message, exc.status)
        response.headers.update(exc.headers)
        return response
    log.info("auth.login", user_id=user.id, via="status page")
    response = _redirect()
    _set_cookies(response, request, pair.access_token, pair.refresh_token,
                 refresh_seconds=request.app[CTX].settings.api.refresh_token_seconds)
    return response


async def _ui_user(call: Call, form: dict[str, str]) -> User | None:
    if not same_origin(call.request):
        raise ApiError(403, "csrf", "cross-origin form")
    user, _fresh = await cookie_user(call)
    if user is None:
        return None
    session = call.request.get(SESSION_ID)
    if session is None:
        raise ApiError(403, "csrf", "no session behind this form")
    expected = csrf_token(call.state.issuer.secret, user, session)
    if not hmac.compare_digest(form.get("csrf", ""), expected):
        raise ApiError(403, "csrf", "bad form token")
    return user


async def ui_logout(request: web.Request) -> web.Response:
    form = await _form(request)
    async with request.app[CTX].pool.acquire() as conn:
        call = _ui_call(request, conn)
        try:
            user = await _ui_user(call, form)
        except ApiError:
            return _redirect("csrf")
        refresh = request.cookies.get(REFRESH_COOKIE)
        if user is not None and refresh:
            await RefreshTokenStore(conn).revoke_family_of(refresh, user_id=user.id)
    response = _redirect("signed_out")
    _clear_cookies(response)
    return response


async def _ui_decide(request: web.Request, *, approve: bool) -> web.Response:
    form = await _form(request)
    ctx = request.app[CTX]
    async with ctx.pool.acquire() as conn:
        call = _ui_call(request, conn)
        try:
            user = await _ui_user(call, form)
            if user is None:
                return _redirect()
            run_id = parse_id(request.match_info["runId"], "run")
            if approve:
                run = await approvals.approve(conn, run_id, user=user,
                                              policy=ctx.effective_policy)
                ctx.runtime_of(run.cluster).wake_reconcile.set()  # its cluster's worker
            else:
                await approvals.reject(conn, run_id, user=user)
        except (ApiError, approvals.ApprovalError) as exc:
            return _redirect(exc.code if exc.code in NOTICES else "conflict")
    return _redirect("approved" if approve else "rejected")


async def ui_approve(request: web.Request) -> web.Response:
    return await _ui_decide(request, approve=True)


async def ui_reject(request: web.Request) -> web.Response:
    return await _ui_decide(request, approve=False)


def register_ui(app: web.Application) -> None:
    app.router.add_post("/ui/login", ui_login)
    app.router.add_post("/ui/logout", ui_logout)
    app.router.add_post("/ui/runs/{runId}/approve", ui_approve)
    app.router.add_post("/ui/runs/{runId}/reject", ui_reject)


ENDPOINTS = [
    Endpoint("GET", "/", "statusPage", "The status page (HTML, behind a login form)", "ui",
             status_page, auth="public", content_type="text/html",
             description="Without a session cookie it shows the login form (POST /ui/login)."),
]
