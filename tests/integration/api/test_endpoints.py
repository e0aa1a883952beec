"""Users, settings, reconcile, logs, health, metrics: what an owner's tools see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from mycopod import telemetry
from mycopod.store.actions import ActionStore
from mycopod.store.runs import RunStore

from .conftest import Api, git, make_settings, start_api, with_repository


async def test_users_admin_crud(api: Api) -> None:
    admin = api.users["admin"]
    _, body = await api.call("GET", "/users", admin, expect=200)
    assert [u["username"] for u in body["data"]["items"]] == ["admin", "alice", "bob"]
    assert body["data"]["total"] == 3
    assert all("password" not in str(u) for u in body["data"]["items"])
    _, body = await api.call("POST", "/users", admin, expect=201,
                             json={"username": "dave", "password": "long enough pw",
                                   "role": "ADMIN"})
    assert body["data"]["role"] == "Admin"
    dave = body["data"]["id"]
    await api.call("POST", "/users", admin, expect=409,
                   json={"username": "dave", "password": "long enough pw", "role": "user"})
    _, body = await api.call("POST", "/users", admin, expect=422,
                             json={"username": "eve", "password": "short", "role": "user"})
    assert body["error"]["code"] == "validation_error"
    await api.call("POST", "/users", admin, expect=422,
                   json={"username": "eve", "password": "long enough pw", "role": "root"})
    _, body = await api.call("PATCH", f"/users/{dave}", admin, expect=200,
                             json={"role": "user", "disabled": True})
    assert body["data"] == {**body["data"], "role": "User", "disabled": True}
    await api.call("PATCH", "/users/999999", admin, expect=404, json={"disabled": True})


async def test_last_admin_cannot_be_demoted(api: Api) -> None:
    admin = api.users["admin"]
    _, body = await api.call("PATCH", f"/users/{admin.id}", admin, expect=409,
                             json={"role": "user"})
    assert "last enabled Admin" in body["error"]["message"]


async def test_user_gets_403_on_admin_routes(api: Api) -> None:
    alice = api.users["alice"]
    run = await RunStore(api.pool).create(trigger="manual")
    for method, path, kwargs in [
        ("GET", "/users", {}),
        ("POST", "/users", {"json": {"username": "x1", "password": "long enough pw",
                                     "role": "user"}}),
        ("PATCH", f"/users/{alice.id}", {"json": {"role": "admin"}}),
        ("PUT", "/settings/prune", {"json": {"value": True}}),
        ("POST", f"/reconcile/{run.id}/approve", {}),
        ("POST", f"/reconcile/{run.id}/reject", {}),
        ("POST", f"/reconcile/{run.id}/override", {}),
        ("POST", "/reconcile/rollback", {"json": {"commit": "a" * 40}}),
        ("PUT", "/settings/suspended", {"json": {"value": True}}),
        ("POST", "/reconcile", {"json": {}}),  # users_can_reconcile is off
    ]:
        status, body = await api.call(method, path, alice, **kwargs)
        assert status == 403, (method, path, body)
        assert body["error"]["code"] == "forbidden"


async def test_settings_read_and_write(api: Api) -> None:
    admin, alice = api.users["admin"], api.users["alice"]
    _, body = await api.call("GET", "/settings", alice, expect=200)
    prune = next(s for s in body["data"] if s["key"] == "prune")
    assert prune == {**prune, "value": False, "source": "config"}
    _, body = await api.call("PUT", "/settings/prune", admin, expect=200, json={"value": True})
    assert body["data"]["value"] is True and body["data"]["updated_by"] == admin.id
    _, body = await api.call("PUT", "/settings/prune", admin, expect=422,
                             json={"value": "yes please"})
    assert "prune" in body["error"]["message"]
    await api.call("PUT", "/settings/max_deletions_per_run", admin, expect=422,
                   json={"value": -1})
    await api.call("PUT", "/settings/no_such_key", admin, expect=404, json={"value": 1})
    await api.call("PUT", "/settings/prune", admin, expect=422, json={"value": True, "x": 1})


async def test_reconcile_queue_and_users_can_reconcile(api: Api) -> None:
    admin, alice = api.users["admin"], api.users["alice"]
    wake = api.ctx.runtime.wake_reconcile
    assert not wake.is_set()
    _, body = await api.call("POST", "/reconcile", admin, expect=202, json={"dry_run": True})
    run_id = body["data"]["run_id"]
    assert body["data"]["status"] == "Pending" and wake.is_set()
    run = await RunStore(api.pool).get(run_id)
    assert run is not None and run.requested_by == admin.id and run.dry_run
    assert run.trigger == "manual"
    await api.call("POST", "/reconcile", alice, expect=403, json={})
    await api.call("PUT", "/settings/users_can_reconcile", admin, expect=200,
                   json={"value": True})
    _, body = await api.call("POST", "/reconcile", alice, expect=202, json={})
    run = await RunStore(api.pool).get(body["data"]["run_id"])
    assert run is not None and run.requested_by == alice.id
    await api.call("POST", "/reconcile", admin, expect=404, json={"declaration_id": 12345})
    await api.call("POST", "/reconcile", admin, expect=422, json={"dry_rn": True})


async def _waiting_run(api: Api, requested_by: int | None) -> int:
    store = RunStore(api.pool)
    run = await store.create(trigger="manual", requested_by=requested_by)
    await store.save_plan(run.id, {"actions": [{"kind": "delete", "target": "old",
                                                "reason": "orphan", "destructive": True}]})
    await store.set_status(run.id, "AwaitingApproval")
    return run.id


async def test_approve_reject_and_four_eyes(api: Api) -> None:
    admin = api.users["admin"]
    run_id = await _waiting_run(api, admin.id)
    await api.call("PUT", "/settings/four_eyes", admin, expect=200, json={"value": True})
    _, body = await api.call("POST", f"/reconcile/{run_id}/approve", admin, expect=403)
    assert body["error"]["code"] == "four_eyes"
    other = await api.add_user("second-admin", "admin")
    _, body = await api.call("POST", f"/reconcile/{run_id}/approve", other, expect=200)
    assert body["data"]["status"] == "Pending" and body["data"]["approved_by"] == other.id
    await api.call("POST", f"/reconcile/{run_id}/approve", other, expect=409)
    run_id = await _waiting_run(api, None)
    _, body = await api.call("POST", f"/reconcile/{run_id}/reject", admin, expect=200)
    assert body["data"]["status"] == "Cancelled" and body["data"]["rejected_by"] == admin.id
    await api.call("POST", "/reconcile/99999/approve", admin, expect=404)


async def test_override_a_waiting_run_and_suspend_through_settings(api: Api) -> None:
    admin, alice = api.users["admin"], api.users["alice"]
    store = RunStore(api.pool)
    run = await store.create(trigger="commit", commit_sha="f" * 40)
    await store.park(run.id, "waiting for the window Sat 02:00 UTC", until=None,
                     supersede=[])
    _, body = await api.call("GET", f"/reconcile/{run.id}", alice, expect=200)
    assert body["data"]["status"] == "Waiting"
    assert body["data"]["waiting_reason"] == "waiting for the window Sat 02:00 UTC"
    _, body = await api.call("POST", f"/reconcile/{run.id}/override", alice, expect=403)
    assert body["error"]["code"] == "forbidden"
    wake = api.ctx.runtime.wake_reconcile
    _, body = await api.call("POST", f"/reconcile/{run.id}/override", admin, expect=200)
    assert body["data"]["status"] == "Pending" and body["data"]["override_by"] == admin.id
    assert body["data"]["override_at"] is not None and wake.is_set()
    _, body = await api.call("POST", f"/reconcile/{run.id}/override", admin, expect=409)
    assert "not Waiting" in body["error"]["message"]
    await api.call("POST", "/reconcile/99999/override", admin, expect=404)
    wake.clear()
    _, body = await api.call("PUT", "/settings/suspended", admin, expect=200,
                             json={"value": True})
    assert body["data"]["value"] is True
    assert wake.is_set()  # the worker looks at waiting runs at once (a resume applies now)
    wake.clear()
    await api.call("PUT", "/settings/users_can_reconcile", admin, expect=200,
                   json={"value": True})
    assert not wake.is_set()
    window = {"kind": "deny", "schedule": "0 2 * * 6", "duration": "2h"}
    _, body = await api.call("PUT", "/settings/windows", admin, expect=200,
                             json={"value": [window]})
    assert body["data"]["value"] == [{**window, "timezone": "UTC", "applies_to": "all"}]
    _, body = await api.call("PUT", "/settings/windows", admin, expect=422,
                             json={"value": [{**window, "timezone": "Mars/Base"}]})
    assert body["error"]["message"].startswith(
        "setting windows[0].timezone: timezone 'Mars/Base' is not an IANA time zone")


async def test_rollback_commits_the_earlier_tree_as_the_admin(api: Api,
                                                               tmp_path: Path) -> None:
    admin = api.users["admin"]
    await api.call("POST", "/reconcile/rollback", admin, expect=503,
                   json={"commit": "a" * 40})
    bare = await with_repository(api, tmp_path, "web-1 is a VM with 2 cores.\n")
    first = git("rev-parse", "main", cwd=bare)
    work = tmp_path / "work"
    (work / "web.md").write_text("web-1 is a VM with 4 cores.\n")
    git("commit", "-q", "-am", "four", cwd=work)
    git("push", "-q", str(bare), "HEAD:main", cwd=work)
    await api.call("POST", "/reconcile/rollback", admin, expect=422, json={"commit": "HEAD"})
    _, body = await api.call("POST", "/reconcile/rollback", admin, expect=422,
                             json={"commit": "f" * 40})
    assert "not in the declarations repository" in body["error"]["message"]
    wake = api.ctx.runtime.wake_fetch
    wake.clear()
    _, body = await api.call("POST", "/reconcile/rollback", admin, expect=202,
                             json={"commit": first[:8]})
    sha = body["data"]["commit"]
    assert body["data"]["rolled_back_to"] == first and wake.is_set()
    assert git("rev-parse", "main", cwd=bare) == sha
    assert git("show", f"{sha}:web.md", cwd=bare) == "web-1 is a VM with 2 cores."
    assert git("log", "-1", "--format=%an", sha, cwd=bare) == "admin"


async def test_get_run_with_plan_actions_and_timing(api: Api) -> None:
    alice = api.users["alice"]
    store = RunStore(api.pool)
    run = await store.create(trigger="commit", commit_sha="a" * 40)
    await store.save_plan(run.id, {"actions": [{"kind": "create", "target": "web",
                                                "reason": "missing: create"}]})
    await store.set_status(run.id, "InProgress")
    actions = ActionStore(api.pool)
    row = await actions.insert_pending(run.id, seq=0, kind="create", target="web", vmid=101,
                                       node="pve1", params={"cores": 2}, destructive=False,
                                       description="create web")
    await actions.finish(row.id, result="Success", upid="UPID:pve1:1")
    await store.set_status(run.id, "Succeeded")
    # started_at is set when the controller claims a run; here, 1.25 s before the end
    await api.pool.execute("UPDATE reconciliation_runs SET started_at = finished_at - "
                           "interval '1.25 seconds' WHERE id = $1", run.id)
    duration = 1.25
    _, body = await api.call("GET", f"/reconcile/{run.id}", alice, expect=200)
    data = body["data"]
    assert data["status"] == "Succeeded" and data["commit_sha"] == "a" * 40
    assert data["duration_seconds"] == duration
    _, body = await api.call("GET", "/logs", alice, expect=200)
    assert [r["duration_seconds"] for r in body["data"]["items"]
            if r["id"] == run.id] == [duration]
    assert data["plan"]["actions"][0]["reason"] == "missing: create"
    assert data["actions"][0]["result"] == "Success"
    assert data["actions"][0]["upid"] == "UPID:pve1:1"
    _, body = await api.call("GET", f"/logs/{run.id}/actions", alice, expect=200)
    assert [a["kind"] for a in body["data"]["items"]] == ["create"]
    assert body["data"]["total"] == 1
    await api.call("GET", "/reconcile/424242", alice, expect=404)
    await api.call("GET", "/logs/424242/actions", alice, expect=404)
    await api.call("GET", "/reconcile/abc", alice, expect=404)
    await api.call("GET", "/reconcile/99999999999999", alice, expect=404)


async def test_logs_filters_and_keyset_pagination(api: Api) -> None:
    alice = api.users["alice"]
    store = RunStore(api.pool)
    ids = []
    for i in range(7):
        run = await store.create(trigger="drift" if i % 2 else "commit")
        ids.append(run.id)
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        _, body = await api.call("GET", "/logs", alice, expect=200, params=params)
        seen += [r["id"] for r in body["data"]["items"]]
        cursor = body["data"]["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)
    _, body = await api.call("GET", "/logs", alice, expect=200, params={"trigger": "drift"})
    assert {r["trigger"] for r in body["data"]["items"]} == {"drift"}
    assert len(body["data"]["items"]) == 3
    _, body = await api.call("GET", "/logs", alice, expect=200, params={"status": "Failed"})
    assert body["data"]["items"] == []
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    _, body = await api.call("GET", "/logs", alice, expect=200, params={"since": future})
    assert body["data"]["items"] == []
    for bad in ({"limit": "201"}, {"limit": "0"}, {"status": "Exploded"},
                {"cursor": "garbage!"}, {"since": "yesterday"}, {"colour": "red"}):
        status, body = await api.call("GET", "/logs", alice, params=bad)
        assert status == 422, (bad, body)


async def test_health_up_and_down(api: Api) -> None:
    runtime = api.ctx.runtime
    runtime.leader = True
    runtime.proxmox_ok = True
    runtime.proxmox_last_contact = datetime.now(UTC) - timedelta(seconds=5)
    runtime.repo_head = "b" * 40
    runtime.repo_last_fetch = datetime.now(UTC)
    _, body = await api.call("GET", "/health", expect=200)
    data = body["data"]
    assert data["database"] == "up" and data["role"] == "leader"
    assert data["proxmox"]["reachable"] is True
    assert 4 <= data["proxmox"]["seconds_since_contact"] < 60
    assert data["repo"]["head"] == "b" * 40
    runtime.leader = False
    await api.pool.close()  # the database goes away
    status, body = await api.call("GET", "/health")
    assert status == 503
    assert body["error"]["details"]["database"] == "down"
    assert body["error"]["details"]["role"] == "standby"


async def test_metrics_open_and_counted(api: Api) -> None:
    await api.call("GET", "/health", expect=200)
    status, text = await api.call("GET", "/metrics")
    assert status == 200
    assert 'mycopod_http_requests_total{code="200",route="/health"}' in text
    for name in ("mycopod_reconcile_runs_total", "mycopod_reconcile_duration_seconds",
                 "mycopod_actions_total", "mycopod_managed_guests", "mycopod_drifted_guests",
                 "mycopod_orphaned_guests", "mycopod_runs_awaiting_approval",
                 "mycopod_proxmox_requests_total", "mycopod_llm_requests_total",
                 "mycopod_llm_tokens_total", "mycopod_compile_cache_hits_total",
                 "mycopod_last_successful_reconcile_timestamp_seconds",
                 "mycopod_declarations_info"):
        assert name in text, name
    assert telemetry.REGISTRY.get_sample_value(
        "mycopod_http_requests_total", {"route": "/health", "code": "200"}) >= 1


async def test_metrics_token_and_allow_list(db, tmp_path) -> None:
    token = "metrics-token-0123456789"
    client, _ctx = await start_api(db, make_settings(tmp_path, metrics_token=token))
    try:
        async with client.get("/metrics") as resp:
            assert resp.status == 401
        async with client.get("/metrics", headers={"Authorization": "Bearer nope"}) as resp:
            assert resp.status == 401
        async with client.get("/metrics", headers={"Authorization": f"Bearer {token}"}) as resp:
            assert resp.status == 200
    finally:
        await client.close()
    client, _ctx = await start_api(db, make_settings(tmp_path / "b",
                                                     metrics_allow=["10.9.0.0/16"]))
    try:
        async with client.get("/metrics") as resp:
            assert resp.status == 403
    finally:
        await client.close()
    client, _ctx = await start_api(db, make_settings(tmp_path / "c",
                                                     metrics_allow=["127.0.0.0/8", "::1"]))
    try:
        async with client.get("/metrics") as resp:
            assert resp.status == 200
    finally:
        await client.close()


async def test_openapi_document(api: Api) -> None:
    _, doc = await api.call("GET", "/openapi.json", expect=200)
    assert doc["openapi"] == "3.1.0"
    for path in ("/auth/login", "/auth/refresh", "/auth/logout", "/users", "/users/{userId}",
                 "/reconcile", "/reconcile/{runId}", "/reconcile/{runId}/approve",
                 "/reconcile/{runId}/reject", "/reconcile/{runId}/override", "/logs",
                 "/logs/{runId}/actions", "/settings",
                 "/settings/{key}", "/health", "/metrics", "/openapi.json"):
        assert path in doc["paths"], path
    login = doc["components"]["schemas"]["LoginRequest"]
    assert login["additionalProperties"] is False


async def test_metrics_count_runs_awaiting_approval(api: Api) -> None:
    store = RunStore(api.pool)
    for _ in range(2):
        run = await store.create(trigger="manual")
        await store.set_status(run.id, "AwaitingApproval")
    status, text = await api.call("GET", "/metrics")
    assert status == 200
    assert 'mycopod_runs_awaiting_approval{cluster="default"} 2.0' in text


async def test_start_api_serves_tls(db, tmp_path) -> None:
    import datetime as dt
    import ssl

    import aiohttp
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from mycopod.api.app import bound_port, create_app, start_api
    from mycopod.api.context import ApiContext

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "api.crt", tmp_path / "api.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    settings = make_settings(tmp_path, host="127.0.0.1", port=0, tls_cert=str(cert_path),
                             tls_key=str(key_path))
    runner = await start_api(create_app(ApiContext(pool=db, settings=settings)), settings.api)
    try:
        context = ssl.create_default_context(cafile=str(cert_path))
        async with aiohttp.ClientSession() as session:
            url = f"https://localhost:{bound_port(runner)}/health"
            async with session.get(url, ssl=context) as resp:
                assert resp.status == 200
                assert (await resp.json())["data"]["database"] == "up"
    finally:
        await runner.cleanup()


async def test_database_down_is_503_not_500(api: Api) -> None:
    alice = api.users["alice"]
    token = api.token(alice)
    await api.pool.close()
    status, body = await api.call("GET", "/logs", headers={"Authorization": f"Bearer {token}"})
    assert status == 503, body
    assert body["error"]["code"] == "database_unavailable"


async def test_run_detail_shows_the_typed_plan_and_report_exactly_as_stored(api: Api) -> None:
    """GET /reconcile/{id} documents plan and summary as the typed Plan and ClusterReport,
    and answers them as stored: no key added, none dropped."""
    from mycopod.reconcile.plan import ClusterReport
    from mycopod.reconcile.planner import plan as make_plan
    from mycopod.spec import parse_spec
    from tests.support.plans import cluster, policy

    spec = parse_spec({"guests": [{"name": "web", "cores": 2}, {"name": "db", "kind": "ct"}]})
    plan = make_plan(spec, cluster(), policy())
    stored_plan = plan.to_json()
    stored_summary = ClusterReport(guests=plan.guests, actions=len(plan.actions)).to_json()
    store = RunStore(api.pool)
    run = await store.create(trigger="manual")
    await store.save_plan(run.id, stored_plan, summary=stored_summary)
    _, body = await api.call("GET", f"/reconcile/{run.id}", api.users["alice"], expect=200)
    assert body["data"]["plan"] == stored_plan
    assert body["data"]["summary"] == stored_summary
    _, doc = await api.call("GET", "/openapi.json", expect=200)
    detail = doc["components"]["schemas"]["RunDetail"]["properties"]
    assert {"$ref": "#/components/schemas/Plan"} in detail["plan"]["anyOf"]
    assert {"$ref": "#/components/schemas/ClusterReport"} in detail["summary"]["anyOf"]
