"""Regression tests for the attacks of issue 18 on authentication and what the API shows.

Each test replays one attack against the real app on a real socket with a real
PostgreSQL and checks that it is now refused: concurrent password guessing (item 7),
sessions that outlived a password, role or account change (item 8), two Admins demoting
each other at once (item 9), login CSRF on the status page, internals in a 503 body,
another user's spec through a run, and the webhook's 413 message (item 10).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import structlog
from argon2 import PasswordHasher
from pydantic import SecretStr

from mycopod.api import ratelimit
from mycopod.store import db as dbmod
from mycopod.store import users as users_module
from mycopod.store.declarations import DeclarationStore
from mycopod.store.refresh_tokens import RefreshTokenStore
from mycopod.store.runs import RunStore
from mycopod.store.users import User, UserStore

from .conftest import PASSWORD, Api, make_settings, start_api, with_repository

NEW_PASSWORD = "a brand new passphrase"
DB_TEXT = ("db-1 is a VM with 4 cores, 8 GB of RAM and a 64 GB disk on local-lvm. "
           "It should be running.\n")


async def login(api: Api, username: str, password: str = PASSWORD) -> tuple[int, Any]:
    return await api.call("POST", "/auth/login",
                          json={"username": username, "password": password})


async def session(api: Api, username: str) -> dict[str, str]:
    status, body = await login(api, username)
    assert status == 200, body
    return body["data"]


def bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def refresh_status(api: Api, tokens: dict[str, str]) -> int:
    status, _ = await api.call("POST", "/auth/refresh",
                               json={"refresh_token": tokens["refresh_token"]})
    return status


async def access_status(api: Api, tokens: dict[str, str]) -> int:
    status, _ = await api.call("GET", "/logs", headers=bearer(tokens))
    return status


async def fresh(api: Api, user: User) -> User:
    """The user as the database has it now (with its current token version)."""
    current = await UserStore(api.pool).get(user.id)
    assert current is not None
    return current


# --- item 7: the login throttle ----------------------------------------------------------


class CountingHasher(PasswordHasher):
    """The tests' light argon2, counting the password checks that really happen."""

    checks = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        type(self).checks += 1
        return super().verify(hash, password)


@pytest.fixture
async def wide_api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The API on a pool as wide as a daemon's, so the database does not serialise logins."""
    pool = await dbmod.create_pool(database_url, min_size=1, max_size=30)
    client, ctx = await start_api(pool, make_settings(tmp_path))
    harness = Api(client=client, ctx=ctx, pool=pool)
    await harness.add_user("alice", "user")
    try:
        yield harness
    finally:
        await client.close()
        await pool.close()


async def test_200_concurrent_guesses_get_five_password_checks(
        wide_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = CountingHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(users_module, "_hasher", hasher)
    CountingHasher.checks = 0
    guesses = [f"wrong guess number {i:03d}" for i in range(200)]
    guesses[13] = PASSWORD

    async def guess(password: str) -> tuple[int, str | None]:
        async with wide_api.client.post("/auth/login", json={"username": "alice",
                                                             "password": password}) as resp:
            await resp.read()
            return resp.status, resp.headers.get("Retry-After")

    results = await asyncio.gather(*(guess(p) for p in guesses))
    statuses = [status for status, _ in results]
    counts = Counter(statuses)
    assert set(counts) <= {200, 401, 429}, counts
    # the budget is five password checks a minute, however many guesses arrive at once
    assert CountingHasher.checks == 5, (CountingHasher.checks, counts)
    assert counts[401] + counts[200] == 5, counts
    assert counts[429] == 195, counts
    assert all(1 <= int(wait or 0) <= 60 for status, wait in results if status == 429)
    # the right password succeeded only if it was one of the five checked
    if statuses[13] == 200:
        assert counts == Counter({429: 195, 401: 4, 200: 1})
    else:
        assert statuses[13] == 429 and counts[200] == 0, counts
        status, _ = await login(wide_api, "alice")  # and the window stays closed
        assert status == 429
        assert CountingHasher.checks == 5


def test_attempt_reserves_in_every_window_or_in_none() -> None:
    now = [0.0]
    by_user = ratelimit.FailureWindow(2, 60.0, clock=lambda: now[0])
    by_ip = ratelimit.FailureWindow(3, 60.0, clock=lambda: now[0])
    held = [ratelimit.Attempt(((by_user, "alice"), (by_ip, "10.0.0.1"))) for _ in range(3)]
    assert [a.reserve() for a in held] == [0, 0, 1]  # two in flight fill alice's window
    assert by_ip.retry_after("10.0.0.1") == 0  # the refused one held nothing
    with held[0] as attempt:
        attempt.succeeded()
    with held[1]:
        pass  # no verdict (an exception, a cancellation): counted as a failure
    assert by_user.retry_after("alice") == 0  # one failure, one slot free
    by_user.record("alice")
    assert by_user.retry_after("alice") == 60
    now[0] = 61.0
    assert by_user.retry_after("alice") == 0


# --- item 8: sessions end with a new password, role or disabling, or on request ---------


async def test_new_password_ends_every_session(api: Api) -> None:
    first, second = await session(api, "alice"), await session(api, "alice")
    assert await access_status(api, first) == 200
    await UserStore(api.pool).set_password("alice", NEW_PASSWORD)  # `mycopod user passwd`
    for tokens in (first, second):
        assert await refresh_status(api, tokens) == 401
        assert await access_status(api, tokens) == 401
    status, _ = await login(api, "alice")
    assert status == 401
    status, body = await login(api, "alice", NEW_PASSWORD)
    assert status == 200, body
    renewed = body["data"]
    assert await access_status(api, renewed) == 200
    assert await refresh_status(api, renewed) == 200


@pytest.mark.parametrize("change", [{"role": "admin"}, {"disabled": True}])
async def test_role_change_or_disabling_ends_every_session(api: Api,
                                                           change: dict[str, Any]) -> None:
    admin, alice = api.users["admin"], api.users["alice"]
    tokens = await session(api, "alice")
    bystander = await session(api, "bob")
    await api.call("PATCH", f"/users/{alice.id}", admin, expect=200, json=change)
    assert await refresh_status(api, tokens) == 401
    assert await access_status(api, tokens) == 401
    # nobody else's session is touched
    assert await access_status(api, bystander) == 200
    assert await refresh_status(api, bystander) == 200


async def test_patch_that_changes_nothing_keeps_sessions(api: Api) -> None:
    admin, alice = api.users["admin"], api.users["alice"]
    tokens = await session(api, "alice")
    await api.call("PATCH", f"/users/{alice.id}", admin, expect=200,
                   json={"role": "USER", "disabled": False})
    assert await access_status(api, tokens) == 200
    assert await refresh_status(api, tokens) == 200


async def test_logout_everywhere_for_oneself(api: Api) -> None:
    phone, laptop = await session(api, "alice"), await session(api, "alice")
    other = await session(api, "bob")
    await api.call("POST", "/auth/logout-all", expect=401)  # whose sessions? nobody's
    await api.call("POST", f"/users/{api.users['alice'].id}/logout-all", expect=401)
    status, body = await api.call("POST", "/auth/logout-all", headers=bearer(phone))
    assert status == 200, body
    assert body["data"]["revoked"] == 2
    for tokens in (phone, laptop):
        assert await access_status(api, tokens) == 401
        assert await refresh_status(api, tokens) == 401
    assert await access_status(api, other) == 200
    assert await access_status(api, await session(api, "alice")) == 200  # a new login works


async def test_logout_everywhere_by_an_admin(api: Api) -> None:
    admin, alice, bob = api.users["admin"], api.users["alice"], api.users["bob"]
    tokens = await session(api, "alice")
    admin_tokens = await session(api, "admin")
    # a User cannot log anybody out
    _, body = await api.call("POST", f"/users/{alice.id}/logout-all", bob, expect=403)
    assert body["error"]["code"] == "forbidden"
    assert await access_status(api, tokens) == 200
    _, body = await api.call("POST", f"/users/{alice.id}/logout-all",
                             headers=bearer(admin_tokens), expect=200)
    assert body["data"]["revoked"] == 1
    assert await access_status(api, tokens) == 401
    assert await refresh_status(api, tokens) == 401
    assert await access_status(api, admin_tokens) == 200  # the Admin's own session stays
    await api.call("POST", "/users/424242/logout-all", admin, expect=404)
    _, spec = await api.call("GET", "/openapi.json")  # both are documented
    assert "post" in spec["paths"]["/auth/logout-all"]
    assert "post" in spec["paths"]["/users/{userId}/logout-all"]


async def test_refresh_token_that_escaped_revocation_is_refused(api: Api) -> None:
    """A token rotated at the moment the sessions ended (so the revoking UPDATE missed
    its new row) still fails: it carries the old token version."""
    tokens = await session(api, "alice")
    await UserStore(api.pool).end_sessions(api.users["alice"].id)
    await api.pool.execute("UPDATE refresh_tokens SET revoked_at = NULL")  # the escapee
    assert await refresh_status(api, tokens) == 401
    state = await RefreshTokenStore(api.pool).state(tokens["refresh_token"])
    assert state is not None and state["rotated_at"] is None


# --- item 9: the last-Admin guard under concurrency ------------------------------------


@pytest.mark.parametrize("change", [{"role": "user"}, {"disabled": True}])
async def test_two_admins_demoting_each_other_leave_one_admin(api: Api,
                                                              change: dict[str, Any]) -> None:
    first = api.users["admin"]
    second = await api.add_user("admin2", "admin")
    store = UserStore(api.pool)
    undo = {"role": "admin"} if "role" in change else {"disabled": False}
    for _ in range(12):
        a, b = await fresh(api, first), await fresh(api, second)
        statuses = await asyncio.gather(
            api.call("PATCH", f"/users/{b.id}", a, json=change),
            api.call("PATCH", f"/users/{a.id}", b, json=change))
        codes = sorted(status for status, _ in statuses)
        assert await store.count_active_admins() == 1, codes
        # one demotion went through; the other was refused: by the guard (409), or, when
        # it arrived after the first had committed, as a former Admin (401/403)
        assert codes[0] == 200 and codes[1] in (401, 403, 409), codes
        now = [await fresh(api, u) for u in (a, b)]
        survivor, demoted = now if now[0].is_admin and not now[0].disabled else now[::-1]
        await api.call("PATCH", f"/users/{demoted.id}", survivor, expect=200, json=undo)
        assert await store.count_active_admins() == 2


# --- item 10: login CSRF on the status page ---------------------------------------------


def _origin(api: Api) -> str:
    return f"http://{api.client.host}:{api.client.port}"


async def _ui_login(api: Api, headers: dict[str, str], username: str = "alice"
                    ) -> tuple[int, list[str], str]:
    async with api.client.post("/ui/login", data={"username": username, "password": PASSWORD},
                               headers=headers, allow_redirects=False) as resp:
        return resp.status, resp.headers.getall("Set-Cookie", []), await resp.text()


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1.evil.example"},
    {"Referer": "https://evil.example/forum/thread"},
])
async def test_cross_origin_login_is_refused(api: Api, headers: dict[str, str]) -> None:
    status, cookies, text = await _ui_login(api, headers)
    assert status == 403
    assert cookies == []
    assert "own page" in text
    assert not api.client.session.cookie_jar.filter_cookies(api.client.make_url("/"))


async def test_same_origin_login_works(api: Api) -> None:
    status, cookies, _ = await _ui_login(api, {"Origin": _origin(api)})
    assert status == 303 and any("mycopod_access" in c for c in cookies)
    api.client.session.cookie_jar.clear()
    status, cookies, _ = await _ui_login(api, {"Referer": _origin(api) + "/?n=signed_out"})
    assert status == 303 and cookies
    async with api.client.get("/") as resp:
        assert resp.headers["Referrer-Policy"] == "same-origin"  # so forms carry Origin


async def _awaiting_run(api: Api) -> int:
    store = RunStore(api.pool)
    run = await store.create(trigger="commit", commit_sha="c" * 40)
    await store.save_plan(run.id, {"actions": [], "approval_reasons": ["x"], "errors": []})
    await store.set_status(run.id, "AwaitingApproval")
    return run.id


async def _page_token(api: Api) -> str:
    async with api.client.get("/") as resp:
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', await resp.text())
    assert found
    return found.group(1)


async def test_form_token_changes_with_every_session(api: Api) -> None:
    run_id = await _awaiting_run(api)
    origin = {"Origin": _origin(api)}
    assert (await _ui_login(api, origin, "admin"))[0] == 303
    old = await _page_token(api)
    assert old == await _page_token(api)  # stable within a session
    api.client.session.cookie_jar.clear()
    assert (await _ui_login(api, origin, "admin"))[0] == 303  # the same user, a new session
    new = await _page_token(api)
    assert new != old
    # the token of another session is refused, and so is a cross-origin form
    for token, headers in ((old, origin), (new, {"Origin": "https://evil.example"})):
        async with api.client.post(f"/ui/runs/{run_id}/approve", data={"csrf": token},
                                   headers=headers, allow_redirects=False) as resp:
            assert resp.headers["Location"] == "/?n=csrf"
    run = await RunStore(api.pool).get(run_id)
    assert run is not None and run.status == "AwaitingApproval"
    async with api.client.post(f"/ui/runs/{run_id}/approve", data={"csrf": new},
                               headers=origin, allow_redirects=False) as resp:
        assert resp.headers["Location"] == "/?n=approved"


# --- item 10: a 503 shows no internals ---------------------------------------------------



@pytest.fixture
async def repo_api(api: Api, tmp_path: Path) -> tuple[Api, Path]:
    return api, await with_repository(
        api, tmp_path, "web-1 is a VM with 2 cores. It should be running.\n")


def _assert_clean_503(status: int, body: Any, logs: list[dict[str, Any]],
                      *internals: str) -> None:
    assert status == 503, body
    text = str(body)
    for word in ("git ", "cmdline", "stderr", "fatal", "remote:", *internals):
        assert word not in text, (word, text)
    error_id = body["error"]["details"]["error_id"]
    assert error_id in body["error"]["message"]
    logged = [e for e in logs if e["event"] == "api.unavailable"]
    assert logged and logged[0]["error_id"] == error_id
    assert any(i in logged[0]["error"] for i in internals), logged  # the log has it all


async def test_503_when_the_repository_is_gone_shows_no_internals(
        repo_api: tuple[Api, Path]) -> None:
    api, bare = repo_api
    bare.rename(bare.with_name("moved.git"))
    with structlog.testing.capture_logs() as logs:
        status, body = await api.call("POST", "/declarations", api.users["alice"],
                                      json={"path": "db.md", "text": DB_TEXT})
    _assert_clean_503(status, body, logs, str(bare))


async def test_503_when_the_push_is_refused_shows_no_internals(
        repo_api: tuple[Api, Path]) -> None:
    api, bare = repo_api
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'rejected by hook-policy-7' >&2\nexit 1\n")
    hook.chmod(0o755)
    with structlog.testing.capture_logs() as logs:
        status, body = await api.call("POST", "/declarations", api.users["alice"],
                                      json={"path": "db.md", "text": DB_TEXT})
    _assert_clean_503(status, body, logs, "hook-policy-7", str(bare))


# --- item 10: runs follow the visibility of their declaration ----------------------------


async def test_user_cannot_read_another_users_spec_through_a_run(api: Api) -> None:
    admin, alice, bob = api.users["admin"], api.users["alice"], api.users["bob"]
    declarations, runs = DeclarationStore(api.pool), RunStore(api.pool)
    mine = await declarations.record(commit_sha="a" * 40, content=DB_TEXT, files=[],
                                     spec=None, error="x", source="api", user_id=alice.id)
    from_git = await declarations.record(commit_sha="b" * 40, content=DB_TEXT, files=[],
                                         spec=None, error="x", source="git")
    private = await runs.create(trigger="manual", declaration_id=mine.id,
                                requested_by=alice.id)
    await runs.save_plan(private.id, {"actions": [{"kind": "create", "target": "db-1",
                                                   "reason": "secret-spec-detail"}]})
    public = await runs.create(trigger="commit", declaration_id=from_git.id)
    drift = await runs.create(trigger="drift")
    # bob: exactly the answer of a run that does not exist
    _, hidden = await api.call("GET", f"/reconcile/{private.id}", bob, expect=404)
    _, missing = await api.call("GET", "/reconcile/424242", bob, expect=404)
    assert hidden == missing
    assert "secret-spec-detail" not in str(hidden)
    await api.call("GET", f"/logs/{private.id}/actions", bob, expect=404)
    await api.call("GET", f"/declarations/{mine.id}", bob, expect=404)  # the same rule
    for run_id in (public.id, drift.id):
        await api.call("GET", f"/reconcile/{run_id}", bob, expect=200)
        await api.call("GET", f"/logs/{run_id}/actions", bob, expect=200)
    for user in (alice, admin):
        _, body = await api.call("GET", f"/reconcile/{private.id}", user, expect=200)
        assert body["data"]["plan"]["actions"][0]["reason"] == "secret-spec-detail"


# --- item 10: the webhook's 413 names its real limit --------------------------------------


async def test_webhook_413_names_the_real_limit(db: asyncpg.Pool, tmp_path: Path) -> None:
    from mycopod.declarations import webhook

    settings = make_settings(tmp_path)
    settings.declarations.webhook_secret = SecretStr("webhook-secret-for-tests")
    client, _ctx = await start_api(db, settings)
    huge = b"{" + b" " * webhook.MAX_BODY + b"}"

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(huge), 64 * 1024):
            yield huge[start:start + 64 * 1024]

    try:
        for data in (huge, chunks()):  # with a Content-Length, and chunked without one
            async with client.post("/webhooks/github", data=data, headers={
                    "Content-Type": "application/json", "X-GitHub-Event": "push"}) as resp:
                assert resp.status == 413
                message = (await resp.json())["error"]["message"]
            assert "1 MiB" in message and "640" not in message, message
        # a JSON endpoint states its own, smaller limit the same way
        async with client.post("/auth/login", data=chunks(),
                               headers={"Content-Type": "application/json"}) as resp:
            assert resp.status == 413
            assert "640 KiB" in (await resp.json())["error"]["message"]
    finally:
        await client.close()
