"""Run, action and inventory stores against a real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from mycopod.store.actions import ActionStore
from mycopod.store.inventory import InventoryStore
from mycopod.store.runs import InvalidCursor, RunStore


async def test_lifecycle(db: asyncpg.Pool) -> None:
    runs = RunStore(db)
    run = await runs.create(trigger="manual", cluster="c1", dry_run=False)
    assert run.status == "Pending" and run.trigger == "manual"
    assert await runs.claim_next_pending("other") is None
    claimed = await runs.claim_next_pending("c1")
    assert claimed is not None and claimed.id == run.id and claimed.status == "Planning"
    assert claimed.started_at is not None
    assert await runs.claim_next_pending("c1") is None
    saved = await runs.save_plan(run.id, {"actions": [{"kind": "delete"}]},
                                 summary={"managed": 1}, commit_sha="abc")
    assert saved is not None and saved.plan == {"actions": [{"kind": "delete"}]}
    assert saved.commit_sha == "abc" and saved.summary == {"managed": 1}
    waiting = await runs.set_status(run.id, "AwaitingApproval")
    assert waiting is not None and waiting.finished_at is None
    assert await runs.reject(run.id + 100, None) is None
    approved = await runs.approve(run.id, None)
    assert approved is not None and approved.status == "Pending"
    assert approved.approved_at is not None
    assert await runs.approve(run.id, None) is None  # no longer waiting
    again = await runs.claim_next_pending("c1")
    assert again is not None and again.id == run.id
    done = await runs.set_status(run.id, "Failed", error="boom")
    assert done is not None and done.finished_at is not None and done.error == "boom"
    ok = await runs.set_status(run.id, "Succeeded")
    assert ok is not None and ok.error is None


async def test_reject_and_interrupted(db: asyncpg.Pool) -> None:
    runs = RunStore(db)
    a = await runs.create(trigger="drift", cluster="c1")
    await runs.claim_next_pending("c1")
    await runs.set_status(a.id, "AwaitingApproval")
    rejected = await runs.reject(a.id, None)
    assert rejected is not None and rejected.status == "Cancelled"
    b = await runs.create(trigger="commit", cluster="c1")
    c = await runs.create(trigger="webhook", cluster="c1")
    await runs.claim_next_pending("c1")  # b: Planning
    await runs.claim_next_pending("c1")  # c: Planning
    await runs.set_status(c.id, "InProgress")
    assert sorted(await runs.mark_interrupted("c1")) == [b.id, c.id]
    got = await runs.get(c.id)
    assert got is not None and got.status == "Interrupted" and got.error
    counts = await runs.counts_by_status("c1")
    assert counts["Interrupted"] == 2 and counts["Cancelled"] == 1 and counts["Pending"] == 0


async def test_claim_skips_locked_rows(db: asyncpg.Pool) -> None:
    runs = RunStore(db)
    first = await runs.create(trigger="manual", cluster="c1")
    second = await runs.create(trigger="manual", cluster="c1")
    claimed = await asyncio.gather(runs.claim_next_pending("c1"), runs.claim_next_pending("c1"))
    assert sorted(r.id for r in claimed if r) == [first.id, second.id]


async def test_list_runs_keyset(db: asyncpg.Pool) -> None:
    runs = RunStore(db)
    ids = [(await runs.create(trigger="manual" if i % 2 else "drift")).id for i in range(7)]
    page, cursor = await runs.list_runs(limit=3)
    assert [r.id for r in page] == ids[::-1][:3] and cursor
    assert page[0].plan is None
    seen = [r.id for r in page]
    while cursor:
        page, cursor = await runs.list_runs(limit=3, cursor=cursor)
        seen += [r.id for r in page]
    assert seen == ids[::-1]
    manual, _ = await runs.list_runs(trigger="manual")
    assert all(r.trigger == "manual" for r in manual) and len(manual) == 3
    future, _ = await runs.list_runs(since=datetime.now(UTC) + timedelta(hours=1))
    assert future == []
    with pytest.raises(InvalidCursor):
        await runs.list_runs(cursor="not-a-cursor!")


async def test_actions_and_inventory(db: asyncpg.Pool) -> None:
    run = await RunStore(db).create(trigger="manual")
    actions = ActionStore(db)
    row = await actions.insert_pending(run.id, seq=0, kind="create", target="web-1", vmid=101,
                                       node="pve1", params={"vmid": 101}, destructive=False,
                                       description="missing: create VM")
    assert row.result == "Pending" and row.started_at and row.finished_at is None
    assert await actions.count_pending(run.id) == 1
    done = await actions.finish(row.id, result="Success", message="created",
                                upid="UPID:pve1:1:2:3:qmcreate:101:root@pam:", vmid=102)
    assert done.result == "Success" and done.finished_at and done.vmid == 102
    await actions.insert_skipped(run.id, seq=1, kind="start", target="web-1", vmid=102,
                                 node="pve1", params={}, destructive=False,
                                 description="start", message="skipped")
    listed = await actions.list_for_run(run.id)
    assert [a.kind for a in listed] == ["create", "start"]
    assert listed[1].result == "Skipped" and listed[1].finished_at

    inv = InventoryStore(db)
    await inv.record("c1", vmid=101, name="web-1", kind="vm", node="pve1", run_id=run.id)
    await inv.record_many("c1", [(102, "web-2", "vm", "pve2"), (103, "db", "ct", None)])
    await inv.set_node("c1", vmid=101, node="pve3")
    assert await inv.names("c1") == {101: "web-1", 102: "web-2", 103: "db"}
    await inv.remove("c1", vmid=103)
    rows: list[Any] = await inv.list("c1")
    assert [(r.vmid, r.node) for r in rows] == [(101, "pve3"), (102, "pve2")]
