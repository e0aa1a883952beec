"""The status page behind its login form, and the GitHub webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

from pydantic import SecretStr

from mycopod.reconcile.plan import CreateParams, Plan, make_action
from mycopod.store.runs import RunStore

from .conftest import PASSWORD, Api, make_settings, start_api

SECRET = "webhook-secret-for-tests"


async def _page_login(api: Api, username: str) -> None:
    async with api.client.post("/ui/login", data={"username": username, "password": PASSWORD},
                               allow_redirects=False) as resp:
        assert resp.status == 303, await resp.text()
        assert resp.headers["Location"] == "/"
        cookie = resp.headers.getall("Set-Cookie")
        assert any("HttpOnly" in c and "SameSite=Strict" in c for c in cookie)


async def _page(api: Api) -> str:
    async with api.client.get("/") as resp:
        assert resp.status == 200
        assert resp.content_type == "text/html"
        text = await resp.text()
        assert "http://" not in text.replace("http-equiv", "")
        # no inline script and no external asset: the one script is the UI's own clock
        # file (localising <time>), and the page works without it
        assert re.findall(r"<script[^>]*>", text) == [
            '<script src="/ui/static/time.js" defer>']
        return text


async def _awaiting_run(api: Api, requested_by: int | None = None) -> int:
    store = RunStore(api.pool)
    run = await store.create(trigger="commit", commit_sha="c" * 40, requested_by=requested_by)
    plan = Plan(actions=[
        make_action("create", id="web-1#1:create", target="web-1", guest_kind="vm",
                    vmid=101, node="pve1", reason="missing: create from template",
                    params=CreateParams(vmid=101, node="pve1")),
        make_action("delete", id="old-db#1:delete", target="old-db", guest_kind="vm",
                    vmid=105, node="pve2", reason="orphan, prune is on")],
        approval_reasons=["delete needs approval"]).to_json()
    summary = {"managed": 2, "drifted": 1, "orphaned": 1,
               "guests": [{"name": "web-1", "status": "drifted", "kind": "vm", "vmid": 101,
                           "node": "pve1",
                           "declared": {"cores": 4, "memory_mib": 2048, "state": "running"},
                           "observed": {"cores": 2, "memory_mib": 2048, "state": "running"},
                           "drift": ["cores 2 → 4"]}],
               "orphans": [{"name": "old-db", "vmid": 105, "node": "pve2",
                            "message": "not in the spec"}],
               "conflicts": [{"name": "legacy-app", "vmid": 200, "node": "pve1",
                              "message": "a guest with this name exists and is not MycoPod's"}]}
    await store.save_plan(run.id, plan, summary=summary)
    await store.set_status(run.id, "AwaitingApproval")
    return run.id


async def test_page_needs_login(api: Api) -> None:
    text = await _page(api)
    assert 'action="/ui/login"' in text and "Managed guests" not in text
    async with api.client.post("/ui/login", data={"username": "alice", "password": "nope"},
                               allow_redirects=False) as resp:
        assert resp.status == 401
        assert "wrong username or password" in await resp.text()
    async with api.client.post("/ui/login", json={"username": "alice"}) as resp:
        assert resp.status == 415


async def test_admin_sees_plan_and_approves(api: Api) -> None:
    run_id = await _awaiting_run(api)
    await _page_login(api, "admin")
    text = await _page(api)
    assert f"run #{run_id}" in text
    assert 'class="destructive"' in text and "old-db" in text
    assert "cores 2 → 4" in text and "legacy-app" in text
    assert 'http-equiv="refresh"' in text
    assert f'action="/ui/runs/{run_id}/approve"' in text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', text)
    assert csrf
    async with api.client.post(f"/ui/runs/{run_id}/approve", data={"csrf": "forged"},
                               allow_redirects=False) as resp:
        assert resp.status == 303 and resp.headers["Location"] == "/?n=csrf"
    run = await RunStore(api.pool).get(run_id)
    assert run is not None and run.status == "AwaitingApproval"
    async with api.client.post(f"/ui/runs/{run_id}/approve", data={"csrf": csrf.group(1)},
                               allow_redirects=False) as resp:
        assert resp.headers["Location"] == "/?n=approved"
    run = await RunStore(api.pool).get(run_id)
    assert run is not None and run.status == "Pending"
    assert run.approved_by == api.users["admin"].id


async def test_the_page_follows_the_four_eyes_rule_of_the_api(api: Api) -> None:
    admin = api.users["admin"]
    run_id = await _awaiting_run(api, requested_by=admin.id)
    await api.call("PUT", "/settings/four_eyes", admin, expect=200, json={"value": True})
    await _page_login(api, "admin")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', await _page(api))
    assert csrf
    async with api.client.post(f"/ui/runs/{run_id}/approve", data={"csrf": csrf.group(1)},
                               allow_redirects=False) as resp:
        assert resp.headers["Location"] == "/?n=four_eyes"
    run = await RunStore(api.pool).get(run_id)
    assert run is not None and run.status == "AwaitingApproval"
    async with api.client.post(f"/ui/runs/{run_id}/reject", data={"csrf": csrf.group(1)},
                               allow_redirects=False) as resp:
        assert resp.headers["Location"] == "/?n=rejected"
    run = await RunStore(api.pool).get(run_id)
    assert run is not None and run.status == "Cancelled" and run.rejected_by == admin.id


async def test_user_sees_no_buttons_and_cannot_approve(api: Api) -> None:
    run_id = await _awaiting_run(api)
    await _page_login(api, "alice")
    text = await _page(api)
    assert "old-db" in text and "/approve" not in text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', text)
    assert csrf
    async with api.client.post(f"/ui/runs/{run_id}/approve", data={"csrf": csrf.group(1)},
                               allow_redirects=False) as resp:
        assert resp.headers["Location"] == "/?n=forbidden"
    run = await RunStore(api.pool).get(run_id)
    assert run is not None and run.status == "AwaitingApproval"


async def test_page_escapes_what_it_shows(api: Api) -> None:
    store = RunStore(api.pool)
    run = await store.create(trigger="manual")
    await store.save_plan(run.id, Plan(actions=[make_action(
        "create", id="x#1:create", target="<script>x", guest_kind="vm", vmid=101, node="pve1",
        reason="<img src=x onerror=alert(1)>", params=CreateParams(vmid=101, node="pve1"),
    )]).to_json())
    await _page_login(api, "alice")
    text = await _page(api)
    assert "<img src=x" not in text and "&lt;img src=x" in text


async def test_page_says_why_it_cannot_show_a_newer_plan(api: Api) -> None:
    store = RunStore(api.pool)
    run = await store.create(trigger="manual")
    await store.save_plan(run.id, {"version": 99, "actions": [{"kind": "warp"}]})
    await _page_login(api, "alice")
    text = await _page(api)
    assert f"run #{run.id}" in text
    assert "version 99, written by a newer MycoPod" in text


async def test_page_cookie_is_not_api_auth(api: Api) -> None:
    await _page_login(api, "admin")
    status, _ = await api.call("GET", "/users")  # the cookie jar is sent, no bearer
    assert status == 401


async def test_disabled_user_is_logged_out_of_the_page(api: Api) -> None:
    from mycopod.store.users import UserStore

    await _page_login(api, "alice")
    assert "Latest runs" in await _page(api)
    await UserStore(api.pool).update(api.users["alice"].id, disabled=True)
    assert 'action="/ui/login"' in await _page(api)


def _signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _push(body: bytes, secret: str | None = SECRET) -> dict[str, str]:
    """The headers of a GitHub push delivery of ``body``, signed with ``secret`` (or not)."""
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "push"}
    if secret is not None:
        headers["X-Hub-Signature-256"] = _signed(body, secret)
    return headers


async def test_webhook_signature_and_wake(db, tmp_path) -> None:
    settings = make_settings(tmp_path)
    settings.declarations.webhook_secret = SecretStr(SECRET)
    client, ctx = await start_api(db, settings)
    body = json.dumps({"ref": "refs/heads/main", "after": "d" * 40}).encode()
    try:
        async with client.post("/webhooks/github", data=body,
                               headers=_push(body, "wrong-secret")) as resp:
            assert resp.status == 401
            assert (await resp.json())["error"]["code"] == "unauthorized"
        async with client.post("/webhooks/github", data=body, headers=_push(body, None)) as resp:
            assert resp.status == 401
        assert not ctx.runtime.wake_fetch.is_set()
        async with client.post("/webhooks/github", data=body, headers=_push(body)) as resp:
            assert resp.status == 200, await resp.text()
            assert (await resp.json())["data"]["accepted"] is True
        assert ctx.runtime.wake_fetch.is_set()
        other = json.dumps({"ref": "refs/heads/feature"}).encode()
        async with client.post("/webhooks/github", data=other, headers=_push(other)) as resp:
            assert resp.status == 202
    finally:
        await client.close()


async def test_webhook_without_secret_is_refused(api: Api) -> None:
    status, body = await api.call("POST", "/webhooks/github", data=b"{}",
                                  headers={"X-GitHub-Event": "ping",
                                           "X-Hub-Signature-256": _signed(b"{}")})
    assert status == 401


async def test_cookies_are_secure_behind_a_trusted_tls_proxy(db, tmp_path) -> None:
    from mycopod.store.users import UserStore

    client, _ctx = await start_api(db, make_settings(tmp_path,
                                                     trusted_proxies=["127.0.0.1", "::1"]))
    try:
        await UserStore(db).add("alice", PASSWORD, "user")
        async with client.post("/ui/login", data={"username": "alice", "password": PASSWORD},
                               headers={"X-Forwarded-Proto": "https"},
                               allow_redirects=False) as resp:
            assert resp.status == 303
            assert all("Secure" in c for c in resp.headers.getall("Set-Cookie"))
    finally:
        await client.close()


async def test_webhook_takes_large_push_payloads(db, tmp_path) -> None:
    settings = make_settings(tmp_path)
    settings.declarations.webhook_secret = SecretStr(SECRET)
    client, ctx = await start_api(db, settings)
    body = json.dumps({"ref": "refs/heads/main", "after": "e" * 40,
                       "commits": ["x" * 1000] * 800}).encode()  # ~800 KiB
    try:
        async with client.post("/webhooks/github", data=body, headers=_push(body)) as resp:
            assert resp.status == 200, await resp.text()
        assert ctx.runtime.wake_fetch.is_set()
        huge = b"{" + b" " * (1024 * 1024 + 10) + b"}"
        async with client.post("/webhooks/github", data=huge, headers=_push(huge)) as resp:
            assert resp.status == 413
    finally:
        await client.close()
