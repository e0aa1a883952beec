"""``GET /guests/{name}/history``: who did what to a guest, newest first, paged."""

from __future__ import annotations

from typing import Any

from mycopod.store.actions import ActionStore
from mycopod.store.inventory import InventoryStore
from mycopod.store.runs import RunStore

from .conftest import Api


async def _declaration(api: Api, sha: str, *, source: str = "git", user_id: int | None = None,
                       author: str | None = None) -> int:
    return int(await api.pool.fetchval(
        "INSERT INTO declarations (github_commit_sha, content, source, user_id, commit_author) "
        "VALUES ($1, '', $2, $3, $4) RETURNING id", sha, source, user_id, author))


async def _act(api: Api, run_id: int, kind: str, target: str, *, ok: bool = True,
               requested_by: int | None = None) -> int:
    store = ActionStore(api.pool)
    row = await store.insert_pending(run_id, seq=0, kind=kind, target=target, vmid=101,
                                     node="pve1", params={}, destructive=kind == "delete",
                                     description=f"{kind} {target}", requested_by=requested_by)
    await store.finish(row.id, result="Success" if ok else "Error",
                       message=None if ok else "500 storage full")
    return row.id


async def test_history_names_commit_author_requester_approver_and_overrider(api: Api) -> None:
    admin, alice, bob = api.users["admin"], api.users["alice"], api.users["bob"]
    runs = RunStore(api.pool)
    # 1. the owner's commit creates web-1
    git_decl = await _declaration(api, "a" * 40, author="Owner")
    first = await runs.create(trigger="commit", declaration_id=git_decl, commit_sha="a" * 40)
    created = await _act(api, first.id, "create", "web-1")
    await _act(api, first.id, "create", "db-1")  # another guest: not in web-1's history
    # 2. alice asks for a reconcile, an Admin approves, it fails
    second = await runs.create(trigger="manual", declaration_id=git_decl,
                               requested_by=alice.id, commit_sha="a" * 40)
    await api.pool.execute("UPDATE reconciliation_runs SET approved_by = $2 WHERE id = $1",
                           second.id, admin.id)
    await runs.set_status(second.id, "Failed", error="500 storage full")
    failed = await _act(api, second.id, "configure", "web-1", ok=False)
    # 3. bob's submitted declaration, run outside its window by the Admin
    bobs = await _declaration(api, "b" * 40, source="api", user_id=bob.id, author="bob")
    third = await runs.create(trigger="api", declaration_id=bobs, commit_sha="b" * 40)
    await api.pool.execute("UPDATE reconciliation_runs SET override_by = $2, "
                           "override_at = NOW() WHERE id = $1", third.id, admin.id)
    await runs.set_status(third.id, "Succeeded")
    stopped = await _act(api, third.id, "stop", "web-1", requested_by=bob.id)

    _, body = await api.call("GET", "/guests/web-1/history", admin, expect=200)
    page: dict[str, Any] = body["data"]
    assert page["total"] == 3
    assert [e["action_id"] for e in page["items"]] == [stopped, failed, created]
    newest, middle, oldest = page["items"]
    assert newest == {**newest, "run_id": third.id, "kind": "stop", "trigger": "api",
                      "commit_sha": "b" * 40, "author": "bob", "requester": "bob",
                      "approver": None, "overridden_by": "admin", "result": "Success",
                      "run_status": "Succeeded"}
    assert middle == {**middle, "run_id": second.id, "requester": "alice",
                      "approver": "admin", "result": "Error", "run_status": "Failed",
                      "message": "500 storage full", "author": "Owner"}
    assert oldest == {**oldest, "run_id": first.id, "kind": "create", "requester": None,
                      "commit_sha": "a" * 40, "author": "Owner", "vmid": 101,
                      "node": "pve1"}

    # paged like the other lists
    _, body = await api.call("GET", "/guests/web-1/history?limit=1&offset=1", admin,
                             expect=200)
    assert body["data"]["total"] == 3
    assert [e["action_id"] for e in body["data"]["items"]] == [failed]
    await api.call("GET", "/guests/web-1/history?limit=0", admin, expect=422)

    # a User sees what they may see of runs: not bob's submission
    _, body = await api.call("GET", "/guests/web-1/history", alice, expect=200)
    assert body["data"]["total"] == 2
    assert [e["action_id"] for e in body["data"]["items"]] == [failed, created]
    _, body = await api.call("GET", "/guests/web-1/history", bob, expect=200)
    assert body["data"]["total"] == 3

    # a name never met: 404; a guest known to the inventory without actions: empty
    _, body = await api.call("GET", "/guests/wbe-1/history", admin, expect=404)
    assert body["error"]["message"] == "guest not found"
    await InventoryStore(api.pool).record("default", vmid=300, name="quiet-1", kind="vm",
                                     node="pve1")
    _, body = await api.call("GET", "/guests/quiet-1/history", alice, expect=200)
    assert body["data"] == {"items": [], "total": 0}
    # and nothing without a token
    status, body = await api.call("GET", "/guests/web-1/history")
    assert status == 401 and body["error"]["code"] == "unauthorized"


async def test_history_is_in_the_openapi_document(api: Api) -> None:
    _, doc = await api.call("GET", "/openapi.json", expect=200)
    operation = doc["paths"]["/guests/{name}/history"]["get"]
    assert operation["operationId"] == "getGuestHistory"
    assert {"401", "404", "200"} <= set(operation["responses"])
    entry = doc["components"]["schemas"]["GuestHistoryEntry"]
    assert {"commit_sha", "author", "requester", "approver", "overridden_by",
            "run_id"} <= set(entry["properties"])
