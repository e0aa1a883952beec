"""Authentication: login, refresh rotation, and every way a token must be refused."""

from __future__ import annotations

import base64
import json
import os
import stat
import time

import jwt
import pytest

from mycopod.api import auth
from mycopod.api.state import STATE
from mycopod.store.refresh_tokens import RefreshTokenStore
from mycopod.store.users import UserStore

from .conftest import PASSWORD, Api


async def login(api: Api, username: str, password: str = PASSWORD) -> tuple[int, dict]:
    return await api.call("POST", "/auth/login", json={"username": username,
                                                      "password": password})


async def test_login_returns_tokens_that_work(api: Api) -> None:
    status, body = await login(api, "alice")
    assert status == 200, body
    data = body["data"]
    assert body["status"] == "ok"
    assert data["token_type"] == "Bearer"
    assert data["expires_in"] == 900
    status, me = await api.call("GET", "/logs",
                                headers={"Authorization": f"Bearer {data['access_token']}"})
    assert status == 200, me


async def test_wrong_password_is_401_with_envelope(api: Api) -> None:
    status, body = await login(api, "alice", "wrong password!")
    assert status == 401
    assert body["status"] == "error"
    assert body["error"]["code"] == "unauthorized"
    status, _ = await login(api, "nobody-here", "wrong password!")
    assert status == 401


def _forge(claims: dict, header: dict) -> str:
    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{b64(header)}.{b64(claims)}."


def _claims(user_id: int, **over: object) -> dict:
    now = int(time.time())
    claims = {"sub": str(user_id), "role": "Admin", "iss": auth.ISSUER, "aud": auth.AUDIENCE,
              "iat": now, "nbf": now, "exp": now + 600}
    claims.update(over)
    return claims


async def _refused(api: Api, token: str, path: str = "/users") -> None:
    status, body = await api.call("GET", path, headers={"Authorization": f"Bearer {token}"})
    assert status == 401, body
    assert body["error"]["code"] == "unauthorized"


async def test_alg_none_is_refused(api: Api) -> None:
    admin = api.users["admin"]
    await _refused(api, _forge(_claims(admin.id), {"alg": "none", "typ": "JWT"}))


async def test_wrong_key_is_refused(api: Api) -> None:
    admin = api.users["admin"]
    token = jwt.encode(_claims(admin.id), "another-key-of-at-least-32-bytes!!", algorithm="HS256")
    await _refused(api, token)


async def test_other_algorithm_with_same_key_is_refused(api: Api) -> None:
    admin = api.users["admin"]
    secret = api.client.server.app[STATE].issuer.secret
    token = jwt.encode(_claims(admin.id), secret, algorithm="HS512")
    await _refused(api, token)


async def test_expired_token_is_refused(api: Api) -> None:
    admin = api.users["admin"]
    secret = api.client.server.app[STATE].issuer.secret
    past = int(time.time()) - 3600
    token = jwt.encode(_claims(admin.id, iat=past, nbf=past, exp=past + 60), secret,
                       algorithm="HS256")
    status, body = await api.call("GET", "/users", headers={"Authorization": f"Bearer {token}"})
    assert status == 401
    assert "expired" in body["error"]["message"]


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf", "iss", "aud", "sub"])
async def test_missing_or_wrong_registered_claims_are_refused(api: Api, claim: str) -> None:
    admin = api.users["admin"]
    secret = api.client.server.app[STATE].issuer.secret
    claims = _claims(admin.id)
    del claims[claim]
    await _refused(api, jwt.encode(claims, secret, algorithm="HS256"))
    wrong = {"iss": "someone-else", "aud": "other-api", "nbf": int(time.time()) + 3600,
             "iat": "yesterday", "exp": int(time.time()) - 3600, "sub": "not-a-number"}
    await _refused(api, jwt.encode(_claims(admin.id, **{claim: wrong[claim]}), secret,
                                   algorithm="HS256"))


async def test_tampered_role_claim_is_refused(api: Api) -> None:
    alice = api.users["alice"]
    token = api.token(alice)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["role"] == "User"
    claims["role"] = "Admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    await _refused(api, f"{header}.{forged}.{signature}")


async def test_role_comes_from_the_database_not_the_token(api: Api) -> None:
    alice = api.users["alice"]
    # a validly signed token whose role claim says Admin: the database says User
    token = api.token(alice.model_copy(update={"role": "Admin"}))
    status, _ = await api.call("GET", "/users", headers={"Authorization": f"Bearer {token}"})
    assert status == 403
    admin = await api.add_user("carol", "admin")
    token = api.token(admin)
    await api.call("GET", "/users", headers={"Authorization": f"Bearer {token}"}, expect=200)
    await UserStore(api.pool).update(admin.id, role="user")
    # a demotion ends the session: the old token is refused outright
    status, body = await api.call("GET", "/users", headers={"Authorization": f"Bearer {token}"})
    assert status == 401, body
    assert "session was ended" in body["error"]["message"]


async def test_disabled_user_token_is_refused(api: Api) -> None:
    alice = api.users["alice"]
    token = api.token(alice)
    await api.call("GET", "/logs", headers={"Authorization": f"Bearer {token}"}, expect=200)
    await UserStore(api.pool).update(alice.id, disabled=True)
    await _refused(api, token, "/logs")
    status, _ = await login(api, "alice")
    assert status == 401


async def test_missing_and_malformed_authorization(api: Api) -> None:
    status, body = await api.call("GET", "/logs")
    assert status == 401
    for header in ("Basic YWxpY2U6cHc=", "Bearer", "Bearer not.a.jwt", "Bearer ' OR 1=1 --"):
        status, _ = await api.call("GET", "/logs", headers={"Authorization": header})
        assert status == 401, header


async def test_refresh_rotates_and_reuse_revokes_the_family(api: Api) -> None:
    _, body = await login(api, "alice")
    first = body["data"]["refresh_token"]
    status, body = await api.call("POST", "/auth/refresh", json={"refresh_token": first})
    assert status == 200, body
    second = body["data"]["refresh_token"]
    assert second != first
    # reuse of the rotated token: refused, and the whole family (second too) revoked
    status, body = await api.call("POST", "/auth/refresh", json={"refresh_token": first})
    assert status == 401
    assert "family" in body["error"]["message"]
    state = await RefreshTokenStore(api.pool).state(second)
    assert state is not None and state["revoked_at"] is not None
    status, _ = await api.call("POST", "/auth/refresh", json={"refresh_token": second})
    assert status == 401
    # another login (another family) is unaffected
    _, body = await login(api, "alice")
    status, _ = await api.call("POST", "/auth/refresh",
                               json={"refresh_token": body["data"]["refresh_token"]})
    assert status == 200


async def test_refresh_tokens_are_stored_hashed(api: Api) -> None:
    _, body = await login(api, "alice")
    token = body["data"]["refresh_token"]
    rows = await api.pool.fetch("SELECT token_hash FROM refresh_tokens")
    assert rows and all(token not in r["token_hash"] for r in rows)


async def test_refresh_of_disabled_user_is_refused(api: Api) -> None:
    _, body = await login(api, "alice")
    await UserStore(api.pool).update(api.users["alice"].id, disabled=True)
    status, _ = await api.call("POST", "/auth/refresh",
                               json={"refresh_token": body["data"]["refresh_token"]})
    assert status == 401


async def test_logout_revokes_refresh_token(api: Api) -> None:
    _, body = await login(api, "alice")
    tokens = body["data"]
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    status, out = await api.call("POST", "/auth/logout", headers=headers,
                                 json={"refresh_token": tokens["refresh_token"]})
    assert status == 200 and out["data"]["revoked"] == 1
    status, _ = await api.call("POST", "/auth/refresh",
                               json={"refresh_token": tokens["refresh_token"]})
    assert status == 401


async def test_login_brute_force_gives_429_with_retry_after(api: Api) -> None:
    for _ in range(5):
        status, _ = await login(api, "alice", "guess-guess-guess")
        assert status == 401
    async with api.client.post("/auth/login", json={"username": "alice",
                                                    "password": PASSWORD}) as resp:
        assert resp.status == 429  # even the right password waits
        assert 1 <= int(resp.headers["Retry-After"]) <= 60
    # per client address too: another username from the same address is throttled
    status, _ = await login(api, "bob")
    assert status == 429


async def test_login_limit_per_username_across_addresses(api: Api) -> None:
    state = api.client.server.app[STATE]
    for i in range(5):
        state.login_failures_by_user.record("bob")
        assert i < 5
    status, _ = await login(api, "BOB")
    assert status == 429
    status, _ = await login(api, "alice")
    assert status == 200


def test_secret_is_generated_with_mode_0600(tmp_path) -> None:
    from mycopod.config import ApiSettings

    first = auth.load_or_create_secret(ApiSettings(), state_dir=tmp_path)
    path = tmp_path / "jwt_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert auth.load_or_create_secret(ApiSettings(), state_dir=tmp_path) == first
    os.chmod(path, 0o644)
    with pytest.raises(Exception, match="chmod 600"):
        auth.load_or_create_secret(ApiSettings(), state_dir=tmp_path)


def test_verified_token_cache_still_checks_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    from mycopod.store.users import User

    issuer = auth.TokenIssuer("k" * 40, access_seconds=60)
    now = datetime.now(UTC)
    token = issuer.issue(User(id=7, username="u", role="User", disabled=False,
                              created_at=now, updated_at=now))
    assert issuer.verify(token).user_id == 7
    assert issuer.verify(token).user_id == 7  # from the cache
    real = time.time
    monkeypatch.setattr(auth.time, "time", lambda: real() + 3600)
    with pytest.raises(auth.ApiError) as info:
        issuer.verify(token)
    assert info.value.status == 401 and "expired" in info.value.message
    other = auth.TokenIssuer("z" * 40, access_seconds=60)
    with pytest.raises(auth.ApiError):
        other.verify(token)  # a cache never crosses keys
