"""``/users`` (Admin): list, create, change role or disable.

The last enabled Admin cannot be demoted or disabled: that would lock everybody out of
user management with no way back through the API. Disabling a user also revokes their
refresh tokens; their access token already stops working because the role and the
disabled flag are read on every request.
"""

from __future__ import annotations

import structlog

from mycopod.api.errors import conflict, not_found, unprocessable
from mycopod.api.models import UserCreate, UserOut, UserPatch
from mycopod.api.routing import Call, Endpoint
from mycopod.store.refresh_tokens import RefreshTokenStore
from mycopod.store.users import UserError, UserStore, normalise_role

log = structlog.get_logger(__name__)


async def list_users(call: Call) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in await UserStore(call.conn).list()]


async def create_user(call: Call) -> UserOut:
    body: UserCreate = call.body
    try:
        user = await UserStore(call.conn).add(body.username, body.password, body.role)
    except UserError as exc:
        if "already exists" in str(exc):
            raise conflict(str(exc)) from None
        raise unprocessable(str(exc)) from None
    log.info("users.created", user_id=call.me.id, created=user.id, role=user.role)
    return UserOut.model_validate(user)


async def update_user(call: Call) -> UserOut:
    body: UserPatch = call.body
    user_id = call.params["userId"]
    store = UserStore(call.conn)
    async with call.conn.transaction():
        current = await store.get(user_id)
        if current is None:
            raise not_found("user")
        role = normalise_role(body.role) if body.role is not None else None
        loses_admin = current.is_admin and not current.disabled and (
            (role is not None and role != "Admin") or body.disabled is True)
        if loses_admin and await store.count_active_admins() <= 1:
            raise conflict("this is the last enabled Admin: make another user Admin first")
        updated = await store.update(user_id, role=role, disabled=body.disabled)
        if updated is None:
            raise not_found("user")
        if body.disabled:
            await RefreshTokenStore(call.conn).revoke_user(user_id)
    log.info("users.updated", user_id=call.me.id, target=user_id, role=updated.role,
             disabled=updated.disabled)
    return UserOut.model_validate(updated)


ENDPOINTS = [
    Endpoint("GET", "/users", "listUsers", "List users", "users", list_users, auth="admin",
             response=list[UserOut], errors=(401, 403)),
    Endpoint("POST", "/users", "createUser", "Create a user", "users", create_user,
             auth="admin", body=UserCreate, response=UserOut, status=201,
             errors=(401, 403, 409, 422)),
    Endpoint("PATCH", "/users/{userId}", "updateUser", "Change a user's role or disable them",
             "users", update_user, auth="admin", body=UserPatch, path_params={"userId": "id"},
             response=UserOut, errors=(401, 403, 404, 409, 422)),
]
