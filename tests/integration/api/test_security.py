"""Input handling and leaks: what a hostile or careless client must not achieve."""

from __future__ import annotations

import hashlib
import hmac
import io
import logging

import pytest
import structlog
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from mycopod import telemetry
from mycopod.api.app import create_app
from mycopod.api.context import ApiContext
from mycopod.api.ratelimit import client_address, parse_networks
from mycopod.runtime import RuntimeStatus
from mycopod.store.runs import RunStore

from .conftest import PASSWORD, Api, make_settings, start_api

INJECTIONS = [
    "' OR '1'='1",
    "admin'--",
    "1; DROP TABLE users; --",
    "\" OR \"\"=\"",
    "1) UNION SELECT password_hash FROM users --",
    "%' AND 1=CAST((SELECT password_hash FROM users LIMIT 1) AS int) --",
]


async def test_wrong_content_type_is_415(api: Api) -> None:
    for headers, data in [({"Content-Type": "text/plain"}, b'{"username":"a","password":"b"}'),
                          ({"Content-Type": "application/x-www-form-urlencoded"},
                           b"username=a&password=b"),
                          ({}, b"")]:
        status, body = await api.call("POST", "/auth/login", headers=headers, data=data)
        assert status == 415, (headers, body)
        assert body["error"]["code"] == "unsupported_media_type"


async def test_malformed_json_is_400(api: Api) -> None:
    for raw in (b"{", b"not json", b'{"username": "a",}', b"", b"[1, 2"):
        status, body = await api.call("POST", "/auth/login", data=raw,
                                      headers={"Content-Type": "application/json"})
        assert status == 400, (raw, body)
        assert body["error"]["code"] == "malformed_json"


async def test_wrong_shapes_and_unknown_fields_are_422(api: Api) -> None:
    for payload in ([1, 2], "a string", {"username": "a"},
                    {"username": "a", "password": "b", "admin": True},
                    {"username": 5, "password": "b"}):
        status, body = await api.call("POST", "/auth/login", json=payload)
        assert status == 422, (payload, body)
        assert body["error"]["details"], body


async def test_oversized_body_is_413(api: Api) -> None:
    admin = api.users["admin"]
    huge = {"username": "x", "password": "y" * (2 * 1024 * 1024)}
    status, body = await api.call("POST", "/auth/login", json=huge)
    assert status == 413, body
    assert body["error"]["code"] == "too_large"
    status, body = await api.call("POST", "/reconcile", admin, json={"x": "y" * 700_000})
    assert status == 413


async def test_validation_errors_never_echo_the_input(api: Api) -> None:
    secret_password = "my-very-secret-password-123"
    status, body = await api.call("POST", "/auth/login",
                                  json={"username": "a", "password": secret_password, "x": 1})
    assert status == 422
    assert secret_password not in str(body)


async def test_sql_injection_payloads_are_harmless(api: Api) -> None:
    admin, alice = api.users["admin"], api.users["alice"]
    await RunStore(api.pool).create(trigger="manual")
    users_before = await api.pool.fetchval("SELECT count(*) FROM users")
    for payload in INJECTIONS:
        status, _ = await api.call("POST", "/auth/login",
                                   json={"username": payload, "password": payload})
        assert status in (401, 429)
        status, _ = await api.call("POST", "/auth/refresh", json={"refresh_token": payload})
        assert status == 401
        status, _ = await api.call("POST", "/users", admin,
                                   json={"username": payload, "password": payload + "xxxxxxxx",
                                         "role": "user"})
        assert status == 422
        status, _ = await api.call("PATCH", f"/users/{alice.id}", admin,
                                   json={"role": payload})
        assert status == 422
        for param in ("status", "trigger", "since", "cursor", "limit"):
            status, _ = await api.call("GET", "/logs", alice, params={param: payload})
            assert status == 422, param
        status, _ = await api.call("PUT", f"/settings/{payload}", admin, json={"value": payload})
        assert status == 404
        status, _ = await api.call("PUT", "/settings/ownership_tag", admin,
                                   json={"value": payload})
        assert status == 422
        status, _ = await api.call("GET", f"/reconcile/{payload}", alice)
        assert status == 404
        status, _ = await api.call("GET", f"/logs/{payload}/actions", alice)
        assert status == 404
    assert await api.pool.fetchval("SELECT count(*) FROM users") == users_before
    assert await api.pool.fetchval("SELECT count(*) FROM reconciliation_runs") == 1


async def test_nul_and_surrogates_are_422_not_500(api: Api) -> None:
    for raw in (b'{"username": "a\\u0000b", "password": "x"}',
                b'{"username": "\\ud800", "password": "x"}'):
        status, body = await api.call("POST", "/auth/login", data=raw,
                                      headers={"Content-Type": "application/json"})
        assert status in (400, 401, 422), body


async def test_internal_error_gives_an_error_id_and_no_internals(db, tmp_path) -> None:
    ctx = ApiContext(pool=db, settings=make_settings(tmp_path), runtime=RuntimeStatus())
    app = create_app(ctx)

    async def boom(_request: web.Request) -> web.Response:
        raise RuntimeError("connection to 10.1.2.3 failed: password 'hunter2hunter2'")

    app.router.add_get("/boom", boom)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        with structlog.testing.capture_logs() as logs:
            async with client.get("/boom") as resp:
                assert resp.status == 500
                body = await resp.json()
    finally:
        await client.close()
    error_id = body["error"]["details"]["error_id"]
    assert error_id in body["error"]["message"]
    assert "hunter2" not in str(body) and "10.1.2.3" not in str(body)
    assert "RuntimeError" not in str(body) and "Traceback" not in str(body)
    logged = [e for e in logs if e["event"] == "api.internal_error"]
    assert logged and logged[0]["error_id"] == error_id


async def test_state_changes_are_audited_with_user_id(api: Api) -> None:
    admin = api.users["admin"]
    with structlog.testing.capture_logs() as logs:
        await api.call("PUT", "/settings/prune", admin, expect=200, json={"value": True})
        await api.call("POST", "/reconcile", admin, expect=202, json={})
    audits = [e for e in logs if e["event"] == "api.audit"]
    assert [(e["route"], e["user_id"], e["status"]) for e in audits] == [
        ("/settings/{key}", admin.id, 200), ("/reconcile", admin.id, 202)]
    row = await api.pool.fetchrow("SELECT updated_by FROM settings WHERE key = 'prune'")
    assert row["updated_by"] == admin.id


def test_forwarded_for_trusted_only_from_proxies() -> None:
    trusted = parse_networks(["127.0.0.1/32", "10.0.0.0/8"])
    assert client_address("203.0.113.9", "1.2.3.4", trusted) == "203.0.113.9"
    assert client_address("127.0.0.1", "1.2.3.4", trusted) == "1.2.3.4"
    assert client_address("127.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.7", trusted) == "1.2.3.4"
    assert client_address("127.0.0.1", "not-an-ip", trusted) == "127.0.0.1"
    assert client_address("127.0.0.1", None, trusted) == "127.0.0.1"
    assert client_address("127.0.0.1", "1.2.3.4", []) == "127.0.0.1"


async def test_general_rate_limit_per_client(db, tmp_path) -> None:
    client, _ctx = await start_api(db, make_settings(tmp_path, rate_limit_per_minute=5,
                                                     trusted_proxies=["127.0.0.1", "::1"]))
    try:
        codes = []
        for _ in range(7):
            async with client.get("/health", headers={"X-Forwarded-For": "198.51.100.1"}) as r:
                codes.append(r.status)
                retry = r.headers.get("Retry-After")
        assert codes == [200] * 5 + [429] * 2
        assert retry is not None and int(retry) >= 1
        # another client behind the same trusted proxy has its own budget
        async with client.get("/health", headers={"X-Forwarded-For": "198.51.100.2"}) as r:
            assert r.status == 200
    finally:
        await client.close()


@pytest.fixture
def log_stream():
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    yield stream
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)
    telemetry.set_secret_values([])


async def test_configured_secrets_never_reach_logs_or_responses(db, tmp_path,
                                                                log_stream) -> None:
    jwt_secret = "jwt-secret-value-that-is-long-enough-0123456789"
    metrics_token = "metrics-token-value-9876543210"
    webhook_secret = "webhook-secret-value-55555"
    settings = make_settings(tmp_path, jwt_secret=jwt_secret, metrics_token=metrics_token)
    settings.declarations.webhook_secret = SecretStr(webhook_secret)
    telemetry.configure_logging(level="debug", fmt="json", stream=log_stream,
                                secrets=settings.secret_values())
    client, _ctx = await start_api(db, settings)
    seen: list[str] = []
    try:
        from mycopod.store.users import UserStore

        await UserStore(db).add("admin", PASSWORD, "admin")
        for method, path, kwargs in [
            ("POST", "/auth/login", {"json": {"username": "admin", "password": jwt_secret}}),
            ("POST", "/auth/login", {"json": {"username": jwt_secret, "password": "x"}}),
            ("POST", "/auth/login", {"json": {"username": "admin", "password": PASSWORD}}),
            ("GET", "/metrics", {"headers": {"Authorization": f"Bearer {metrics_token}"}}),
            ("GET", "/metrics", {"headers": {"Authorization": "Bearer wrong"}}),
            ("GET", "/health", {}),
            ("GET", "/openapi.json", {}),
            ("GET", "/logs", {"headers": {"Authorization": f"Bearer {jwt_secret}"}}),
            ("PUT", "/settings/prune", {"json": {"value": metrics_token}}),
            ("POST", "/webhooks/github", {"data": b"{}", "headers": {
                "X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=00"}}),
            ("POST", "/webhooks/github", {"data": webhook_secret.encode(), "headers": {
                "X-GitHub-Event": "push",
                "X-Hub-Signature-256": "sha256=" + hmac.new(
                    webhook_secret.encode(), webhook_secret.encode(),
                    hashlib.sha256).hexdigest()}}),
        ]:
            async with client.request(method, path, **kwargs) as resp:
                seen.append(await resp.text())
                seen.append(str(resp.headers))
    finally:
        await client.close()
    output = log_stream.getvalue()
    assert "auth.login" in output  # the log was really written
    for secret in (jwt_secret, metrics_token, webhook_secret):
        assert secret not in output
        assert all(secret not in text for text in seen)
