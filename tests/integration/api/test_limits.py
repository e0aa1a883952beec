"""Issue 18, item 1 through the API: a User's declaration of 100,000 guests is refused
quickly and briefly, and no answer carries an unbounded list (GET /reconcile/{id} was
118 MB for that run)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from mycopod.config import PolicySettings
from mycopod.declarations.grammar import MAX_ISSUES
from mycopod.proxmox.model import NodeState, ObservedCluster, StorageState
from mycopod.reconcile import planner, reconciler
from mycopod.spec import ClusterSpec, GuestSpec
from mycopod.store.actions import ActionStore
from mycopod.store.declarations import FileRecord
from mycopod.store.runs import RunStore

from . import test_declarations
from .conftest import Api, git

#: the API with a declarations repository holding web.md (a fixture)
repo_api = test_declarations.repo_api

#: the attack's file: about 9 KB, 100 lines, 1000 guests on each
ATTACK = "".join(f"Create 1000 servers named g{i:02d}-1 through g{i:02d}-1000, each with "
                 "1 core and 1 GB of RAM.\n" for i in range(1, 101))


def size(body: Any) -> int:
    return len(json.dumps(body))


async def test_the_attack_declaration_is_a_quick_small_422(repo_api: Api) -> None:
    alice = repo_api.users["alice"]
    bare = repo_api.bare  # type: ignore[attr-defined]
    head = git("rev-parse", "main", cwd=bare)
    assert 8_000 < len(ATTACK) < 10_000
    started = time.monotonic()
    _, body = await repo_api.call("POST", "/declarations", alice, expect=422,
                                  json={"path": "fleet.md", "text": ATTACK})
    assert time.monotonic() - started < 5  # it took 43 s, and froze the daemon
    assert size(body) < 64 * 1024  # the 201 was 42 MB
    error = body["error"]
    assert error["code"] == "compile_error"
    assert '"g01-1 through g01-1000" names 1000 guests; one sentence may name at most 100' \
        in error["message"]
    # the grammar stops after MAX_ISSUES problems and says so
    assert len(error["details"]) == MAX_ISSUES + 1 and error["details"][-2]["line"] == MAX_ISSUES
    assert error["details"][-1]["message"].startswith(f"stopped after {MAX_ISSUES} problems")
    assert git("rev-parse", "main", cwd=bare) == head  # nothing committed, nothing to run


async def test_within_the_sentence_limit_the_spec_limit_refuses_it(repo_api: Api) -> None:
    """The same attack with ranges of 100: 10,000 guests, over declarations.max_guests."""
    alice = repo_api.users["alice"]
    bare = repo_api.bare  # type: ignore[attr-defined]
    head = git("rev-parse", "main", cwd=bare)
    text = "".join(f"Create 100 VMs named g{i:02d}-1 through g{i:02d}-100.\n"
                   for i in range(100))
    started = time.monotonic()
    _, body = await repo_api.call("POST", "/declarations", alice, expect=422,
                                  json={"path": "fleet.md", "text": text})
    assert time.monotonic() - started < 5
    assert size(body) < 16 * 1024
    message = body["error"]["message"]
    assert "at least 2100 guests declared" in message
    assert "declarations.max_guests allows (2000)" in message
    # with the other files of the branch: web.md's guest makes one too many
    text = "".join(f"Create 100 VMs named g{i:02d}-1 through g{i:02d}-100.\n"
                   for i in range(20))
    _, body = await repo_api.call("POST", "/declarations", alice, expect=422,
                                  json={"path": "fleet.md", "text": text})
    assert "2001 guests declared, more than the setting declarations.max_guests allows " \
        "(2000)" in body["error"]["message"]
    assert git("rev-parse", "main", cwd=bare) == head


async def test_a_422_lists_at_most_100_problems(repo_api: Api, tmp_path: Path) -> None:
    alice = repo_api.users["alice"]
    # Files that do not compile on their own are left out of the branch check, so the
    # most problems one answer can gather are those of files that only fail together:
    # here 150 guests each declared in the branch and again in the submitted file.
    text = "".join(f"vm-{i} is a VM.\n" for i in range(150))
    work = tmp_path / "work"  # repo_api's working copy
    (work / "other.md").write_text(text)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "other", cwd=work)
    git("push", "-q", str(repo_api.bare), "HEAD:main", cwd=work)  # type: ignore[attr-defined]
    _, body = await repo_api.call("POST", "/declarations", alice, expect=422,
                                  json={"path": "bad.md", "text": text})
    assert len(body["error"]["details"]) == 100
    assert "problems in all; the first 100 are listed)" in body["error"]["message"]


def _big_run_plan(count: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The planner's own plan and report for ``count`` new guests on an empty cluster."""
    gib = 1024**3
    observed = ObservedCluster(
        nodes=(NodeState(name="pve1", online=True, maxmem=100_000 * gib, mem=0),),
        storages=(StorageState(node="pve1", storage="local-lvm", content=("images",),
                               shared=False),))
    spec = ClusterSpec(guests=[GuestSpec.model_validate({"name": f"g-{i:04d}"})
                               for i in range(count)])
    plan = planner.plan(spec, observed, PolicySettings())
    return plan.to_json(), reconciler.report(plan, observed).to_json()


async def test_a_run_of_2000_guests_is_shown_in_windows(api: Api) -> None:
    alice = api.users["alice"]
    plan, summary = _big_run_plan(2000)
    assert len(plan["actions"]) == 4000 and size(plan) > 1_500_000
    store = RunStore(api.pool)
    run = await store.create(trigger="commit", commit_sha="a" * 40)
    await store.save_plan(run.id, plan, summary=summary)
    actions = ActionStore(api.pool)
    for seq in range(250):
        await actions.insert_pending(run.id, seq=seq, kind="create", target=f"g-{seq:04d}",
                                     vmid=1000 + seq, node="pve1", params={},
                                     destructive=False, description="create")
    await store.set_status(run.id, "AwaitingApproval")

    _, body = await api.call("GET", f"/reconcile/{run.id}", alice, expect=200)
    assert size(body) < 400 * 1024
    data = body["data"]
    assert data["truncated"] is True
    assert data["totals"] == {"actions": 250, "plan.actions": 4000, "plan.guests": 2000,
                              "plan.orphans": 0, "plan.conflicts": 0,
                              "plan.pending_restart": 0, "plan.errors": 0, "plan.notes": 0,
                              "plan.approval_reasons": 2, "plan.user_changes": 0,
                              "summary.conflicts": 0,
                              "summary.orphans": 0, "summary.pending_restart": 0,
                              "summary.errors": 0, "summary.guests": 2000}
    assert len(data["plan"]["actions"]) == 100 and len(data["summary"]["guests"]) == 100
    assert len(data["actions"]) == 100 and data["actions"][0]["seq"] == 0
    assert data["plan"]["approval_reasons"][0] == (
        "2000 guests to create exceed max_creates_per_run (50)")
    assert data["summary"]["managed"] == 0  # what is not a list is shown whole

    _, body = await api.call("GET", f"/reconcile/{run.id}", alice, expect=200,
                             params={"offset": "3950", "limit": "500"})
    data = body["data"]
    assert [a["id"] for a in data["plan"]["actions"]] == [
        a["id"] for a in plan["actions"][3950:]]
    assert data["actions"] == [] and data["summary"]["guests"] == []
    await api.call("GET", f"/reconcile/{run.id}", alice, expect=422, params={"limit": "501"})

    _, body = await api.call("GET", f"/logs/{run.id}/actions", alice, expect=200,
                             params={"offset": "200", "limit": "200"})
    assert body["data"]["total"] == 250
    assert [a["seq"] for a in body["data"]["items"]] == list(range(200, 250))
    await api.call("GET", f"/logs/{run.id}/actions", alice, expect=422,
                   params={"limit": "201"})

    # the status page shows the first rows and says how many more there are
    from .test_status_webhook import _page, _page_login

    await _page_login(api, "alice")
    page = await _page(api)
    assert len(page) < 200 * 1024
    assert "… and 3900 more actions" in page and "… and 1900 more guests" in page


async def test_users_are_paged(api: Api) -> None:
    admin = api.users["admin"]
    for i in range(5):
        await api.add_user(f"user{i}")
    _, body = await api.call("GET", "/users", admin, expect=200,
                             params={"limit": "3", "offset": "3"})
    assert body["data"]["total"] == 8
    assert [u["username"] for u in body["data"]["items"]] == ["user0", "user1", "user2"]
    await api.call("GET", "/users", admin, expect=422, params={"limit": "201"})


async def test_declarations_show_windows_of_guests_and_files(api: Api) -> None:
    from mycopod.declarations import pipeline

    admin = api.users["admin"]
    files = {f"f{i:02d}.md": f"Create 10 VMs named f{i:02d}-1 through f{i:02d}-10.\n"
             for i in range(30)}
    row = await pipeline.compile_commit(files, "d" * 40, pool=api.pool)
    assert row.spec is not None and len(row.spec.guests) == 300

    _, body = await api.call("GET", f"/declarations/{row.id}", admin, expect=200)
    data = body["data"]
    assert data["totals"] == {"files": 30, "spec.guests": 300} and data["truncated"]
    assert len(data["spec"]["guests"]) == 100 and data["summary"]["guest_count"] == 300
    assert data["summary"]["rendering"].count(" is a VM") == 100
    assert len(data["files"]) == 30 and data["files_total"] == 30

    _, body = await api.call("GET", f"/declarations/{row.id}", admin, expect=200,
                             params={"offset": "290", "limit": "20"})
    data = body["data"]
    assert [g["name"] for g in data["spec"]["guests"]] == sorted(
        g.name for g in row.spec.guests)[290:]
    assert data["files"] == []

    _, body = await api.call("GET", "/declarations", admin, expect=200)
    [item] = body["data"]["items"]
    assert item["files_total"] == 30 and len(item["files"]) == 20
    assert item["files"][0]["guest_count"] == 10


async def test_a_page_of_declarations_clips_each_item(api: Api) -> None:
    """A file's guest names and a long compile error are cut in a page item."""
    from mycopod.store.declarations import DeclarationStore

    admin = api.users["admin"]
    error = "big.md:1: " + "could not understand it; " * 20_000  # 500 KB
    record = FileRecord(path="big.md", sha256="0" * 64, compiler="grammar",
                        guests=[f"g-{i}" for i in range(2000)], error=error)
    row = await DeclarationStore(api.pool).record(
        commit_sha="e" * 40, content="x", files=[record], spec=None, error=error)
    _, body = await api.call("GET", "/declarations", admin, expect=200)
    assert size(body) < 16 * 1024
    [item] = body["data"]["items"]
    assert item["files"][0]["guest_count"] == 2000 and len(item["files"][0]["guests"]) == 20
    assert item["compile_error"].endswith("more characters not shown)")
    _, body = await api.call("GET", f"/declarations/{row.id}", admin, expect=200)
    assert size(body) < 300 * 1024
    assert body["data"]["compile_error"].startswith(error[:1000])
    assert len(body["data"]["files"][0]["error"]) < 5000
    # a run's error in a page of /logs is clipped too
    run = await RunStore(api.pool).create(trigger="manual")
    await RunStore(api.pool).set_status(run.id, "Failed", error=error)
    _, body = await api.call("GET", "/logs", admin, expect=200)
    assert size(body) < 16 * 1024


async def test_budget_settings_are_policy_an_admin_can_change(api: Api) -> None:
    admin, alice = api.users["admin"], api.users["alice"]
    _, body = await api.call("GET", "/settings", alice, expect=200)
    values = {s["key"]: s["value"] for s in body["data"]}
    assert (values["max_creates_per_run"], values["max_deletions_per_window"],
            values["max_creates_per_window"], values["budget_window_seconds"]) == (
        50, 1, 200, 3600)
    await api.call("PUT", "/settings/max_deletions_per_window", alice, expect=403,
                   json={"value": 5})
    await api.call("PUT", "/settings/max_deletions_per_window", admin, expect=200,
                   json={"value": 5})
    await api.call("PUT", "/settings/budget_window_seconds", admin, expect=422,
                   json={"value": 0})
    await api.call("PUT", "/settings/max_creates_per_run", admin, expect=422,
                   json={"value": -1})
    policy = await api.ctx.effective_policy()
    assert policy.max_deletions_per_window == 5 and policy.budget_window_seconds == 3600
