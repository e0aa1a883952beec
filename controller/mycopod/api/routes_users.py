"""``/users`` (Admin): list, create, change role or disable, log out everywhere.

The last enabled Admin cannot be demoted or disabled: that would lock everybody out of
user management with no way back through the API. The check and the change run in one
transaction that first locks every enabled Admin row
(:meth:`~mycopod.store.users.UserStore.lock_active_admins`), so two Admins demoting each
other at the same moment are serialised: the second sees one Admin left and gets 409.

Changing a role or disabling a user ends all of their sessions (refresh token families
revoked, access tokens refused from their next request), and so does
``POST /users/{userId}/logout-all``.
"""

from __future__ import annotations

import structlog

from mycopod.api.errors import conflict, not_found, unprocessable
from mycopod.api.models import LogoutResult, PageQuery, UserCreate, UserOut, UserPage, UserPatch
from mycopod.api.routing import Call, Endpoint
from mycopod.store.users import UserError, UserStore, normalise_role

log = structlog.get_logger(__name__)


async def list_users(call: Call) -> UserPage:
    query: PageQuery = call.query
    users, total = await UserStore(call.conn).page(limit=query.limit, offset=query.offset)
    return UserPage(items=[UserOut.model_validate(u) for u in users], total=total)


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
    role = normalise_role(body.role) if body.role is not None else None
    async with call.conn.transaction():
        # lock first, then read: a concurrent demotion either committed before (and is
        # counted here) or waits until this transaction ends
        admins = await store.lock_active_admins()
        current = await store.get(user_id)
        if current is None:
            raise not_found("user")
        loses_admin = current.id in admins and (
            (role is not None and role != "Admin") or body.disabled is True)
        if loses_admin and len(admins) <= 1:
            raise conflict("this is the last enabled Admin: make another user Admin first")
        updated = await store.update(user_id, role=role, disabled=body.disabled)
        if updated is None:
            raise not_found("user")
    log.info("users.updated", user_id=call.me.id, target=user_id, role=updated.role,
             disabled=updated.disabled, sessions_ended=updated.token_version
             != current.token_version)
    return UserOut.model_validate(updated)


async def logout_user(call: Call) -> LogoutResult:
    user_id = call.params["userId"]
    revoked = await UserStore(call.conn).end_sessions(user_id)
    if revoked is None:
        raise not_found("user")
    log.info("auth.logout_all", user_id=call.me.id, target=user_id, revoked=revoked)
    return LogoutResult(revoked=revoked)


ENDPOINTS = [
    Endpoint("GET", "/users", "listUsers", "List users (paged, by id)", "users", list_users,
             auth="admin", query=PageQuery, response=UserPage, errors=(401, 403)),
    Endpoint("POST", "/users", "createUser", "Create a user", "users", create_user,
             auth="admin", body=UserCreate, response=UserOut, status=201,
             errors=(401, 403, 409, 422)),
    Endpoint("PATCH", "/users/{userId}", "updateUser", "Change a user's role or disable them",
             "users", update_user, auth="admin", body=UserPatch, path_params={"userId": "id"},
             response=UserOut, errors=(401, 403, 404, 409, 422),
             description="409 for the last enabled Admin. A new role or disabling ends "
             "every session of the user (as POST /users/{userId}/logout-all does)."),
    Endpoint("POST", "/users/{userId}/logout-all", "logoutUserEverywhere",
             "Log a user out everywhere", "users", logout_user, auth="admin",
             path_params={"userId": "id"}, response=LogoutResult, errors=(401, 403, 404),
             description="Revokes every refresh token family of the user; their access "
             "tokens stop working at once. revoked: the number of refresh tokens revoked."),
]
