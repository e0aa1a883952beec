"""The API with several clusters (issue 17): ``?cluster=`` filters the lists, runs and
declarations say their cluster, POST /reconcile queues for one cluster or for each,
/health shows every cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from mycopod.api.context import ClusterView
from mycopod.reconcile.plan import ClusterReport, GuestReport
from mycopod.runtime import RuntimeStatus
from mycopod.spec import parse_spec
from mycopod.store.declarations import DeclarationStore
from tests.integration.api.conftest import PASSWORD, Api, make_settings, start_api


@pytest.fixture
async def two(db: asyncpg.Pool, tmp_path: Path) -> AsyncIterator[Api]:
    settings = make_settings(tmp_path)
    a, b = RuntimeStatus(cluster="a", leader=True), RuntimeStatus(cluster="b")
    b.proxmox_error = "connection refused"
    client, ctx = await start_api(db, settings, runtime=a)
    ctx.clusters = {"a": ClusterView(settings=settings, runtime=a),
                    "b": ClusterView(settings=settings, runtime=b)}
    harness = Api(client=client, ctx=ctx, pool=db)
    await harness.add_user("admin", "admin")
    try:
        yield harness
    finally:
        await client.close()


async def test_reconcile_queues_a_run_per_cluster_or_for_the_one_named(two: Api) -> None:
    admin = two.users["admin"]
    _, body = await two.call("POST", "/reconcile", admin, json={"dry_run": True}, expect=202)
    runs = body["data"]["runs"]
    assert set(runs) == {"a", "b"} and body["data"]["run_id"] == runs["a"]
    assert two.ctx.clusters["b"].runtime.wake_reconcile.is_set()
    _, body = await two.call("POST", "/reconcile", admin, json={"cluster": "b"}, expect=202)
    assert body["data"]["cluster"] == "b" and list(body["data"]["runs"]) == ["b"]
    only_b = body["data"]["run_id"]

    _, page = await two.call("GET", "/logs", admin, params={"cluster": "b"}, expect=200)
    assert [r["id"] for r in page["data"]["items"]] == [only_b, runs["b"]]
    assert {r["cluster"] for r in page["data"]["items"]} == {"b"}
    _, page = await two.call("GET", "/logs", admin, expect=200)
    assert len(page["data"]["items"]) == 3

    status, body = await two.call("POST", "/reconcile", admin, json={"cluster": "c"})
    assert status == 422
    assert "cluster 'c' is not configured; the clusters are: a, b" in body["error"]["message"]


async def test_declarations_filter_by_cluster(two: Api) -> None:
    spec = parse_spec({"guests": [{"name": "web-1", "cores": 1}]})
    for name in ("a", "b"):
        await DeclarationStore(two.pool, name).record(
            commit_sha="f" * 40, content="x", files=[], spec=spec, error=None)
    admin = two.users["admin"]
    _, page = await two.call("GET", "/declarations", admin, params={"cluster": "a"},
                             expect=200)
    assert [d["cluster"] for d in page["data"]["items"]] == ["a"]
    assert page["data"]["total"] == 1
    _, page = await two.call("GET", "/declarations", admin, expect=200)
    assert sorted(d["cluster"] for d in page["data"]["items"]) == ["a", "b"]


async def test_health_shows_each_cluster(two: Api) -> None:
    _, body = await two.call("GET", "/health", expect=200)
    health = body["data"]
    assert health["role"] == "leader" and health["cluster"] == "a"
    by_name = {c["name"]: c for c in health["clusters"]}
    assert by_name["a"]["role"] == "leader" and by_name["b"]["role"] == "standby"
    assert by_name["b"]["proxmox"]["error"] == "connection refused"


async def test_pages_show_the_cluster_of_each_run_and_filter_by_it(two: Api) -> None:
    admin = two.users["admin"]
    await two.call("POST", "/reconcile", admin, json={"cluster": "a"}, expect=202)
    await two.call("POST", "/reconcile", admin, json={"cluster": "b"}, expect=202)
    async with two.client.post("/ui/login", data={"username": "admin", "password": PASSWORD},
                               headers={"Origin": f"http://{two.client.host}:{two.client.port}"},
                               allow_redirects=False) as resp:
        assert resp.status == 303, await resp.text()
    _, page = await two.call("GET", "/ui/runs?cluster=b", expect=200)
    assert '<option value="b" selected>b</option>' in page
    assert "<td>b</td>" in page and "<td>a</td>" not in page
    _, page = await two.call("GET", "/ui/runs", expect=200)
    assert "<td>a</td>" in page and "<td>b</td>" in page
    _, overview = await two.call("GET", "/", expect=200)
    assert '<a href="/ui/runs?cluster=b">b</a>' in overview
    assert '<span class="muted">(standby)</span>' in overview


async def test_settings_are_per_cluster(two: Api) -> None:
    admin = two.users["admin"]
    await two.call("PUT", "/settings/suspended?cluster=b", admin, json={"value": True},
                   expect=200)

    async def suspended(query: str) -> bool:
        _, body = await two.call("GET", f"/settings{query}", admin, expect=200)
        return bool({s["key"]: s["value"] for s in body["data"]}["suspended"])

    assert await suspended("?cluster=b") is True
    assert await suspended("?cluster=a") is False
    assert await suspended("") is False  # the first cluster's
    status, body = await two.call("GET", "/settings?cluster=nope", admin)
    assert status == 422 and "the clusters are: a, b" in body["error"]["message"]


async def test_the_guests_page_shows_the_chosen_clusters_guests(two: Api) -> None:
    for name, guests in (("a", ["only-in-a", "web-1"]), ("b", ["only-in-b", "web-1"])):
        two.ctx.clusters[name].runtime.report = ClusterReport(guests=[
            GuestReport(name=g, status="in-sync", kind="vm", vmid=100 + i, node="pve1")
            for i, g in enumerate(guests)])
    async with two.client.post("/ui/login", data={"username": "admin", "password": PASSWORD},
                               headers={"Origin": f"http://{two.client.host}:{two.client.port}"},
                               allow_redirects=False) as resp:
        assert resp.status == 303, await resp.text()
    _, page = await two.call("GET", "/ui/guests?cluster=b", expect=200)
    assert "only-in-b" in page and "only-in-a" not in page
    assert '<option value="b" selected>b</option>' in page
    assert 'href="/ui/guests/web-1?cluster=b"' in page
    _, page = await two.call("GET", "/ui/guests", expect=200)  # the first cluster's
    assert "only-in-a" in page and "only-in-b" not in page
