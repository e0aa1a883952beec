"""``/settings``: the policy switches, readable by everyone, changed by an Admin.

They are per cluster: ``?cluster=`` names one (default: the first, or the only one), and
its configured policy (``[policy]`` with its ``[[clusters]]`` overrides) is the base."""

from __future__ import annotations

import structlog

from mycopod.api.errors import ApiError, unprocessable
from mycopod.api.models import SettingOut, SettingPut, SettingsQuery
from mycopod.api.routing import Call, Endpoint
from mycopod.config import PolicySettings
from mycopod.store import wakeups
from mycopod.store.settings import KNOWN_KEYS, SettingError, SettingsStore

log = structlog.get_logger(__name__)


def _cluster(call: Call) -> tuple[str, PolicySettings]:
    """The cluster of ``?cluster=`` and its configured policy; 422 for an unknown one."""
    query: SettingsQuery | None = call.query  # None: the settings page's form
    asked = query.cluster if query is not None else None
    views = call.ctx.views()
    name = asked or call.ctx.cluster
    if asked is not None and name not in views:
        raise unprocessable(f"cluster {name!r} is not configured; the clusters are: "
                            f"{', '.join(views)}", code="unknown_cluster")
    view = views.get(name)
    return name, (view.settings if view is not None else call.ctx.settings).policy


async def list_settings(call: Call) -> list[SettingOut]:
    name, policy = _cluster(call)
    rows = await SettingsStore(call.conn, name).list(policy)
    return [SettingOut.model_validate(r) for r in rows]


async def put_setting(call: Call) -> SettingOut:
    key = call.params["key"]
    if key not in KNOWN_KEYS:
        raise ApiError(404, "not_found", f"unknown setting {key!r}",
                       details={"known": list(KNOWN_KEYS)})
    body: SettingPut = call.body
    name, policy = _cluster(call)
    store = SettingsStore(call.conn, name)
    base = await store.effective_policy(policy)
    try:
        setting = await store.put(key, body.value, user_id=call.me.id, base=base)
    except SettingError as exc:
        raise unprocessable(str(exc)) from None
    log.info("settings.changed", user_id=call.me.id, key=key, value=setting.value,
             cluster=name)
    if key in ("suspended", "windows"):
        # waiting runs are looked at now: a resume applies the latest commit at once
        call.ctx.runtime_of(name).wake_reconcile.set()
        await wakeups.notify(call.conn, wakeups.RECONCILE, name)
    return SettingOut.model_validate(setting)


ENDPOINTS = [
    Endpoint("GET", "/settings", "listSettings", "List the policy settings", "settings",
             list_settings, query=SettingsQuery, response=list[SettingOut],
             errors=(401, 422)),
    Endpoint("PUT", "/settings/{key}", "putSetting", "Change a policy setting", "settings",
             put_setting, auth="admin", body=SettingPut, query=SettingsQuery,
             path_params={"key": {"type": "string", "enum": list(KNOWN_KEYS)}},
             response=SettingOut, errors=(401, 403, 404, 422),
             description="Only known keys; the value is validated against the setting's type "
             "(JSON true/false for switches, integers for limits)."),
]
