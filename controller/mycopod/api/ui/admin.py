"""Users and Settings (Admin), and "sign out everywhere" (anyone, for themself).

Every change calls the JSON API's own handler (``POST /users``, ``PATCH /users/{id}``,
``POST /users/{id}/logout-all``, ``PUT /settings/{key}``) with the form's values, so the
last-Admin lock, the session ending on a new role and the strict validation of a setting
are the API's, not a copy. A refused change re-renders the page with the message next
to the field it concerns (422/409), instead of a redirect that would lose it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from aiohttp import web
from pydantic import ValidationError

from mycopod.api import routes_settings, routes_status, routes_users
from mycopod.api.errors import ApiError, not_found
from mycopod.api.models import SettingPut, SettingsQuery, UserCreate, UserPatch
from mycopod.api.routing import Call, parse_id
from mycopod.api.ui import core, data
from mycopod.config import PolicySettings
from mycopod.store.settings import KNOWN_KEYS, SettingsStore
from mycopod.store.users import User, UserError, UserStore

PAGE = 50
#: what each policy setting means, shown under its field
HELP = {
    "ownership_tag": "Proxmox tag that marks a guest as MycoPod's.",
    "prune": "Delete managed guests no declaration names any more.",
    "adopt_existing": "Take over existing guests whose name a declaration names.",
    "auto_approve_destructive": "Apply deletions and migrations without an Admin's approval "
                                "(the budgets still apply).",
    "max_deletions_per_run": "More deletions in one run wait for approval.",
    "max_creates_per_run": "More creates in one run wait for approval.",
    "max_deletions_per_window": "Deletions within the budget window beyond which a run waits.",
    "max_creates_per_window": "Creates within the budget window beyond which a run waits.",
    "budget_window_seconds": "The budget window, in seconds.",
    "restart_on_change": "Restart a guest to apply a change that needs it.",
    "self_heal": "Correct drift found by the drift checker.",
    "users_can_reconcile": "Users may start runs, and their changes apply without approval.",
    "four_eyes": "An Admin cannot approve a run they requested.",
    "vmid_min": "Lowest vmid MycoPod allocates (empty: no bound).",
    "vmid_max": "Highest vmid MycoPod allocates (empty: no bound).",
    "suspended": "Apply nothing: runs are planned and wait until this is off again.",
    "windows": "Maintenance windows, as JSON: [{\"kind\": \"allow\", \"schedule\": "
               "\"0 2 * * 6\", \"duration\": \"4h\", \"timezone\": \"UTC\"}] "
               "(docs/gitops.md).",
}


def _errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors(include_url=False, include_input=False):
        field = str(err["loc"][0]) if err["loc"] else "form"
        out.setdefault(field, str(err["msg"]))
    return out


async def _users_values(call: Call, **extra: Any) -> dict[str, Any]:
    q = call.request.query
    offset = int(q["offset"]) if q.get("offset", "").isdigit() and len(q["offset"]) < 9 else 0
    users, total = await UserStore(call.conn).page(limit=PAGE, offset=offset)
    return {"users": users, "total": total, "offset": offset, "page": PAGE,
            "notice": core.notice(call), "errors": {}, "form": {}, **extra}


def _render(call: Call, user: User, template: str, active: str, values: dict[str, Any],
            status: int) -> web.Response:
    return core.html(core.render(template, {**core.layout(call, user, active), **values}),
                     status)


@core.page("users", admin=True)
async def users_page(call: Call, user: User) -> core.PageResult:
    return "ui/users.html", await _users_values(call)


@core.action(admin=True)
async def add_user(call: Call, user: User, form: dict[str, str]) -> web.Response:
    fields = {k: form.get(k, "") for k in ("username", "password", "role")}
    try:
        call.body = UserCreate(**fields)
        await routes_users.create_user(call)
    except ValidationError as exc:
        values = await _users_values(call, errors=_errors(exc), form=fields)
        return _render(call, user, "ui/users.html", "users", values, 422)
    except ApiError as exc:
        values = await _users_values(call, errors={"username": exc.message}, form=fields)
        return _render(call, user, "ui/users.html", "users", values, exc.status)
    return core.redirect("/ui/users", "user_added")


async def _target(call: Call) -> User:
    user_id = parse_id(call.request.match_info["userId"], "user")
    call.params["userId"] = user_id
    target = await UserStore(call.conn).get(user_id)
    if target is None:
        raise not_found("user")
    return target


async def _row_error(call: Call, user: User, target: User, message: str,
                     status: int) -> web.Response:
    values = await _users_values(call, errors={f"user-{target.id}": message})
    return _render(call, user, "ui/users.html", "users", values, status)


@core.action(admin=True)
async def change_user(call: Call, user: User, form: dict[str, str]) -> web.Response:
    target = await _target(call)
    change: dict[str, Any] = {}
    if form.get("role"):
        change["role"] = form["role"]
    if form.get("disabled") in ("true", "false"):
        change["disabled"] = form["disabled"] == "true"
    try:
        call.body = UserPatch(**change)
        await routes_users.update_user(call)
    except ValidationError as exc:
        return await _row_error(call, user, target, "; ".join(_errors(exc).values()), 422)
    except ApiError as exc:
        return await _row_error(call, user, target, exc.message, exc.status)
    return core.redirect("/ui/users", "user_changed")


@core.action(admin=True)
async def reset_password(call: Call, user: User, form: dict[str, str]) -> web.Response:
    target = await _target(call)
    try:
        await UserStore(call.conn).set_password(target.username, form.get("password", ""))
    except UserError as exc:
        return await _row_error(call, user, target, str(exc), 422)
    return core.redirect("/ui/users", "password_reset")


@core.action(admin=True)
async def end_user_sessions(call: Call, user: User, form: dict[str, str]) -> web.Response:
    await _target(call)
    await routes_users.logout_user(call)
    return core.redirect("/ui/users", "user_sessions_ended")


@core.action()
async def sign_out_everywhere(call: Call, user: User, form: dict[str, str]) -> web.Response:
    """End every session of the signed-in user (this one included)."""
    await UserStore(call.conn).end_sessions(user.id)
    response = core.redirect("/", "sessions_ended")
    routes_status._clear_cookies(response)
    return response


def _kind(key: str) -> str:
    annotation = str(PolicySettings.model_fields[key].annotation)
    if annotation.startswith("list"):
        return "json"
    if "bool" in annotation:
        return "bool"
    return "int" if "int" in annotation else "text"


def _parse(key: str, raw: str) -> Any:
    """The form's text as the JSON value the setting takes (validated by the API)."""
    raw = raw.strip()
    kind = _kind(key)
    if kind == "bool" and raw in ("true", "false"):
        return raw == "true"
    if kind == "json":
        try:
            return json.loads(raw)
        except ValueError:
            return raw  # refused by the setting's validation, with its message
    if kind == "int":
        if raw == "" and PolicySettings.model_fields[key].default is None:
            return None
        try:
            return int(raw)
        except ValueError:
            return raw
    return raw




async def _settings_values(call: Call, **extra: Any) -> dict[str, Any]:
    name = data.cluster_of(call)
    names = call.ctx.cluster_names()
    base = call.ctx.views()[name].settings.policy
    rows = await SettingsStore(call.conn, name).list(base)
    return {"clusters": names if len(names) > 1 else [], "selected_cluster": name,
            "settings": [{"key": r.key, "source": r.source,
                          "value": json.dumps(r.value) if _kind(r.key) == "json" else r.value,
                          "updated_at": r.updated_at, "kind": _kind(r.key),
                          "help": HELP.get(r.key, "")} for r in rows if r.key in KNOWN_KEYS],
            "errors": {}, "typed": {}, "notice": core.notice(call), **extra}


@core.page("settings", admin=True)
async def settings_page(call: Call, user: User) -> core.PageResult:
    return "ui/settings.html", await _settings_values(call)


@core.action(admin=True)
async def put_setting(call: Call, user: User, form: dict[str, str]) -> web.Response:
    key = call.request.match_info["key"]
    if key not in KNOWN_KEYS:
        raise not_found("setting")
    call.params["key"] = key
    call.body = SettingPut(value=_parse(key, form.get("value", "")))
    cluster = data.cluster_of(call)
    call.query = SettingsQuery(cluster=cluster)  # the cluster the page shows
    try:
        await routes_settings.put_setting(call)
    except ApiError as exc:
        values = await _settings_values(call, errors={key: exc.message},
                                        typed={key: form.get("value", "")})
        return _render(call, user, "ui/settings.html", "settings", values, exc.status)
    # the overview's Suspend/Resume button comes back to the overview; both keep the
    # cluster they show
    back = "/" if form.get("back") == "overview" else "/ui/settings"
    where = f"{back}?cluster={quote(cluster)}" if len(call.ctx.views()) > 1 else back
    return core.redirect(where, "setting_saved")


ROUTES = [
    ("GET", "/ui/users", users_page),
    ("POST", "/ui/users", add_user),
    ("POST", "/ui/users/{userId}", change_user),
    ("POST", "/ui/users/{userId}/password", reset_password),
    ("POST", "/ui/users/{userId}/logout-all", end_user_sessions),
    ("POST", "/ui/logout-all", sign_out_everywhere),
    ("GET", "/ui/settings", settings_page),
    ("POST", "/ui/settings/{key}", put_setting),
]
