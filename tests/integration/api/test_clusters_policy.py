"""With several clusters each one's policy decides for its own runs (issue 17): who may
start a reconcile (``users_can_reconcile``) and who may approve (``four_eyes``) follow
the cluster of the run, its configured policy and its settings rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from mycopod.api.context import ClusterView
from mycopod.runtime import RuntimeStatus
from mycopod.store.runs import RunStore
from tests.integration.api.conftest import Api, make_settings, start_api


@pytest.fixture
async def two(db: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[Api]:
    """Clusters a and b; b's configuration turns four_eyes on ([[clusters]] override)."""
    settings = make_settings(tmp_path)
    strict = settings.model_copy(update={
        "policy": settings.policy.model_copy(update={"four_eyes": True})})
    a, b = RuntimeStatus(cluster="a", leader=True), RuntimeStatus(cluster="b", leader=True)
    client, ctx = await start_api(db, settings, runtime=a)
    ctx.clusters = {"a": ClusterView(settings=settings, runtime=a),
                    "b": ClusterView(settings=strict, runtime=b)}
    harness = Api(client=client, ctx=ctx, pool=db)
    await harness.add_user("admin", "admin")
    await harness.add_user("root", "admin")
    await harness.add_user("alice", "user")
    try:
        yield harness
    finally:
        await client.close()


async def _waiting_run(api: Api, cluster: str, requested_by: int) -> int:
    store = RunStore(api.pool)
    run = await store.create(trigger="manual", cluster=cluster, requested_by=requested_by)
    await store.set_status(run.id, "AwaitingApproval")
    return run.id


async def test_users_can_reconcile_is_read_from_each_cluster(two: Api) -> None:
    admin, alice = two.users["admin"], two.users["alice"]
    await two.call("PUT", "/settings/users_can_reconcile", admin, params={"cluster": "a"},
                   json={"value": True}, expect=200)
    _, body = await two.call("POST", "/reconcile", alice, json={"cluster": "a"}, expect=202)
    assert body["data"]["cluster"] == "a"
    status, body = await two.call("POST", "/reconcile", alice, json={"cluster": "b"})
    assert status == 403, body
    assert "users_can_reconcile" in body["error"]["message"]
    # none named: a run for every cluster, so every cluster must allow it
    status, _ = await two.call("POST", "/reconcile", alice, json={})
    assert status == 403
    _, page = await two.call("GET", "/logs", admin, expect=200)
    assert [r["cluster"] for r in page["data"]["items"]] == ["a"]


async def test_four_eyes_follows_the_runs_cluster(two: Api) -> None:
    admin = two.users["admin"]
    on_a = await _waiting_run(two, "a", admin.id)
    on_b = await _waiting_run(two, "b", admin.id)
    # b's configuration has four_eyes: its requester cannot approve it
    status, body = await two.call("POST", f"/reconcile/{on_b}/approve", admin)
    assert status == 403 and body["error"]["code"] == "four_eyes", body
    _, body = await two.call("POST", f"/reconcile/{on_a}/approve", admin, expect=200)
    assert body["data"]["status"] == "Pending"
    assert two.ctx.clusters["a"].runtime.wake_reconcile.is_set()
    assert not two.ctx.clusters["b"].runtime.wake_reconcile.is_set()
    _, body = await two.call("POST", f"/reconcile/{on_b}/approve", two.users["root"],
                             expect=200)
    assert body["data"]["approved_by"] == two.users["root"].id
    assert two.ctx.clusters["b"].runtime.wake_reconcile.is_set()

    # a settings row of a turns four_eyes on there, and only there
    await two.call("PUT", "/settings/four_eyes", admin, params={"cluster": "a"},
                   json={"value": True}, expect=200)
    await two.call("PUT", "/settings/four_eyes", admin, params={"cluster": "b"},
                   json={"value": False}, expect=200)
    again_a = await _waiting_run(two, "a", admin.id)
    again_b = await _waiting_run(two, "b", admin.id)
    status, body = await two.call("POST", f"/reconcile/{again_a}/approve", admin)
    assert status == 403 and body["error"]["code"] == "four_eyes", body
    await two.call("POST", f"/reconcile/{again_b}/approve", admin, expect=200)
