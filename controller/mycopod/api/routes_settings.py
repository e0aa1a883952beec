"""``/settings``: the policy switches, readable by everyone, changed by an Admin."""

from __future__ import annotations

import structlog

from mycopod.api.errors import ApiError, unprocessable
from mycopod.api.models import SettingOut, SettingPut
from mycopod.api.routing import Call, Endpoint
from mycopod.store.settings import KNOWN_KEYS, SettingError, SettingsStore

log = structlog.get_logger(__name__)


async def list_settings(call: Call) -> list[SettingOut]:
    rows = await SettingsStore(call.conn, call.ctx.cluster).list(call.ctx.settings.policy)
    return [SettingOut.model_validate(r) for r in rows]


async def put_setting(call: Call) -> SettingOut:
    key = call.params["key"]
    if key not in KNOWN_KEYS:
        raise ApiError(404, "not_found", f"unknown setting {key!r}",
                       details={"known": list(KNOWN_KEYS)})
    body: SettingPut = call.body
    store = SettingsStore(call.conn, call.ctx.cluster)
    base = await store.effective_policy(call.ctx.settings.policy)
    try:
        setting = await store.put(key, body.value, user_id=call.me.id, base=base)
    except SettingError as exc:
        raise unprocessable(str(exc)) from None
    log.info("settings.changed", user_id=call.me.id, key=key, value=setting.value)
    return SettingOut.model_validate(setting)


ENDPOINTS = [
    Endpoint("GET", "/settings", "listSettings", "List the policy settings", "settings",
             list_settings, response=list[SettingOut], errors=(401,)),
    Endpoint("PUT", "/settings/{key}", "putSetting", "Change a policy setting", "settings",
             put_setting, auth="admin", body=SettingPut,
             path_params={"key": {"type": "string", "enum": list(KNOWN_KEYS)}},
             response=SettingOut, errors=(401, 403, 404, 422),
             description="Only known keys; the value is validated against the setting's type "
             "(JSON true/false for switches, integers for limits)."),
]
