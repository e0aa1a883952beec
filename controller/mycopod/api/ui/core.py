"""What every page of the web UI shares: templates, the session, the forms.

The pages reuse the status page's session (:mod:`mycopod.api.routes_status`): the same
access and refresh tokens in ``HttpOnly; SameSite=Strict`` cookies, refreshed through the
same rotating refresh-token machinery, the same role, ``disabled`` flag and token version
read from the database on every request. There is no second login.

:func:`page` wraps a handler that returns a template name and its values: it finds the
signed-in user (or sends the browser to the login form), refuses admin pages to a User
with a 403 page, renders the template inside the layout (navigation bar, sign-out forms)
and sets any refreshed cookies. :func:`action` wraps a form POST: the origin check and
the session-bound CSRF token come first, then the role; a refused form answers 403 with a
page saying why, never a silent redirect. Times are rendered as UTC in ``<time
datetime>`` and localised by ``static/time.js``; every page works without it.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
import structlog
from aiohttp import web
from markupsafe import Markup, escape

from mycopod.api import routes_status as status
from mycopod.api.errors import ApiError
from mycopod.api.routing import Call
from mycopod.api.state import CTX, SESSION_ID, STATE
from mycopod.store.users import User

log = structlog.get_logger(__name__)

TEMPLATES = Path(__file__).parent.parent / "templates"
STATIC = Path(__file__).parent.parent / "static"
#: no inline script or style anywhere: the stylesheet and the clock script are files
CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
NAV = (("overview", "/", "Overview", False), ("runs", "/ui/runs", "Runs", False),
       ("guests", "/ui/guests", "Guests", False),
       ("declarations", "/ui/declarations", "Declarations", False),
       ("approvals", "/ui/approvals", "Approvals", False),
       ("users", "/ui/users", "Users", True), ("settings", "/ui/settings", "Settings", True))


def when(value: datetime | str | None) -> Markup:
    """A moment as ``<time datetime=UTC ISO>``: UTC text without script, local with it."""
    if value is None:
        return Markup('<span class="muted">—</span>')
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return Markup(escape(value))
    utc = value.astimezone(UTC)
    return Markup('<time datetime="{}">{}</time>').format(
        utc.isoformat(timespec="seconds").replace("+00:00", "Z"),
        utc.strftime("%Y-%m-%d %H:%M:%S UTC"))


def seconds(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "—"
    total = (end - start).total_seconds()
    return f"{total:.1f} s" if total < 120 else f"{total / 60:.1f} min"


def short(sha: str | None) -> str:
    return (sha or "—")[:12]


def query(base: str, **params: Any) -> str:
    """``base`` with the non-empty ``params`` as its query string."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{base}?{urlencode(kept)}" if kept else base


env = jinja2.Environment(
    loader=jinja2.PackageLoader("mycopod.api", "templates"),  # importlib.resources
    autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True, lstrip_blocks=True,
)
env.filters["when"] = when
env.filters["short"] = short
env.globals["seconds"] = seconds
env.globals["query"] = query


def layout(call: Call, user: User | None, active: str) -> dict[str, Any]:
    """The values the layout needs: the navigation for this user and the form token."""
    nav = [{"key": k, "href": h, "label": label} for k, h, label, admin in NAV
           if not admin or (user is not None and user.is_admin)]
    csrf = (status.csrf_token(call.state.issuer.secret, user,
                              call.request.get(SESSION_ID, "")) if user else "")
    return {"user": user, "nav": nav, "active": active, "csrf": csrf,
            "cluster": call.ctx.runtime.cluster,
            "generated": datetime.now(UTC)}


def render(template: str, values: dict[str, Any]) -> str:
    return env.get_template(template).render(**values)


def html(text: str, status_code: int = 200) -> web.Response:
    response = web.Response(text=text, status=status_code, content_type="text/html")
    response.headers["Content-Security-Policy"] = CSP
    return response


def ui_call(request: web.Request, conn: Any) -> Call:
    return Call(request=request, ctx=request.app[CTX], state=request.app[STATE], user=None,
                conn=conn, params={})


def refused(call: Call, user: User | None, message: str, status_code: int = 403) -> web.Response:
    """A page that says why the request was refused (403 for the role or the form)."""
    values = layout(call, user, "")
    values.update(title="Refused" if status_code == 403 else "Not found", message=message)
    return html(render("ui/error.html", values), status_code)


def _login_redirect(request: web.Request) -> web.Response:
    return web.Response(status=303, headers={"Location": "/"})


PageResult = tuple[str, dict[str, Any]] | web.Response
PageHandler = Callable[[Call, User], Awaitable[PageResult]]


def page(active: str, *, admin: bool = False) -> Callable[[PageHandler],
                                                          Callable[[web.Request],
                                                                   Awaitable[web.Response]]]:
    """A GET page: signed-in users only (Admins only with ``admin``)."""
    def wrap(handler: PageHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            async with request.app[CTX].pool.acquire() as conn:
                call = ui_call(request, conn)
                user, fresh = await status.cookie_user(call)
                if user is None:
                    response = _login_redirect(request)
                elif admin and not user.is_admin:
                    response = refused(call, user, "This page is for Admins.")
                else:
                    call.user = user
                    try:
                        result = await handler(call, user)
                    except ApiError as exc:
                        result = refused(call, user, exc.message, exc.status)
                    if isinstance(result, web.Response):
                        response = result
                    else:
                        template, values = result
                        values = {**layout(call, user, active), **values}
                        response = html(render(template, values))
            if fresh is not None:
                status._set_cookies(response, request, *fresh,
                                    refresh_seconds=call.ctx.settings.api.refresh_token_seconds)
            return response

        handle.__name__ = handler.__name__
        return handle
    return wrap


FormHandler = Callable[[Call, User, dict[str, str]], Awaitable[web.Response]]


def action(*, admin: bool = False) -> Callable[[FormHandler],
                                               Callable[[web.Request], Awaitable[web.Response]]]:
    """A form POST: same origin, the session's CSRF token, then the role (403 otherwise)."""
    def wrap(handler: FormHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            form = await status._form(request)
            async with request.app[CTX].pool.acquire() as conn:
                call = ui_call(request, conn)
                if not status.same_origin(request):
                    log.warning("ui.cross_origin_form", path=request.path)
                    return refused(call, None, status.CROSS_ORIGIN)
                user, fresh = await status.cookie_user(call)
                if user is None:
                    return _login_redirect(request)
                session = request.get(SESSION_ID)
                expected = status.csrf_token(call.state.issuer.secret, user, session or "")
                if session is None or not hmac.compare_digest(form.get("csrf", ""), expected):
                    log.warning("ui.csrf_refused", user_id=user.id, path=request.path)
                    response = refused(call, user, "This form has no valid token (it may "
                                       "have expired): reload the page and try again.")
                elif admin and not user.is_admin:
                    log.warning("ui.forbidden", user_id=user.id, path=request.path)
                    response = refused(call, user, "Only an Admin may do that.")
                else:
                    call.user = user
                    try:
                        response = await handler(call, user, form)
                    except ApiError as exc:
                        response = refused(call, user, exc.message, exc.status)
            if fresh is not None:
                status._set_cookies(response, request, *fresh,
                                    refresh_seconds=call.ctx.settings.api.refresh_token_seconds)
            return response

        handle.__name__ = handler.__name__
        return handle
    return wrap


def redirect(location: str, notice: str | None = None) -> web.Response:
    if notice:
        location += ("&" if "?" in location else "?") + urlencode({"n": notice})
    return web.Response(status=303, headers={"Location": location})


NOTICES = {
    **status.NOTICES,
    "queued": "Run queued: the controller picks it up now.",
    "overridden": "Override recorded: the run is queued and applies now.",
    "user_added": "User added.",
    "user_changed": "User changed; their sessions ended.",
    "password_reset": "Password changed; every session of that user ended.",
    "sessions_ended": "Signed out everywhere.",
    "user_sessions_ended": "Every session of that user ended.",
    "setting_saved": "Setting saved.",
}


def notice(call: Call) -> str | None:
    """The notice a redirect named by its code (never text taken from the URL)."""
    return NOTICES.get(call.request.query.get("n", ""))
