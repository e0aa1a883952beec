"""A database that looks like a cluster someone has run for a while, for the UI's tests,
its browser tests and ``bench/ui.py``: a fleet declared in English (compiled by the real
grammar), an older commit that failed to compile, runs with plans, reports and actions,
and a run waiting for approval to delete a guest."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from mycopod.declarations import compiler
from mycopod.reconcile.plan import (
    ClusterReport,
    GuestFacts,
    GuestIssue,
    GuestReport,
    PendingRestart,
    Plan,
    make_action,
)
from mycopod.store.actions import ActionStore
from mycopod.store.declarations import DeclarationStore, FileRecord
from mycopod.store.runs import RunStore

GOOD_SHA = "a1" * 20
BAD_SHA = "b2" * 20
DB_TEXT = ("# Databases\n\ndb-1 is a virtual machine with four vCPUs and 16 GiB of memory, "
           "connected to bridge vmbr1 on VLAN 30.\n")
BAD_TEXT = "# Broken\n\nweb-9 is a VM with 2 cores.\n\nweb-10 is a spaceship with wings.\n"


def fleet_text(guests: int) -> str:
    """``guests`` web servers, a sentence per hundred (the grammar's limit)."""
    return "# The fleet\n\n" + "\n".join(
        f"Create {min(100, guests - first + 1)} web servers named web-{first} through "
        f"web-{min(first + 99, guests)}, each a VM with 2 cores, 2 GB of RAM and a 10 GB "
        "disk on local-lvm. It should be running.\n"
        for first in range(1, guests + 1, 100))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _content(files: dict[str, str]) -> str:
    return "".join(f"<!-- file: {path} -->\n{text}\n" for path, text in files.items())


@dataclass
class Seeded:
    approval_run: int
    done_run: int
    declaration_id: int
    bad_declaration_id: int
    guests: int


async def seed(pool: asyncpg.Pool, *, guests: int = 5, runs: int = 10,
               requested_by: int | None = None) -> Seeded:
    files = {"fleet.md": fleet_text(guests), "db.md": DB_TEXT}
    spec = await compiler.compile_files(files)
    store = DeclarationStore(pool)
    now = datetime.now(UTC)
    bad = await store.record(
        commit_sha=BAD_SHA, content=_content({"fleet.md": files["fleet.md"],
                                              "bad.md": BAD_TEXT}),
        files=[FileRecord(path="fleet.md", sha256=_sha(files["fleet.md"]), compiler="grammar",
                          guests=[g.name for g in spec.guests if g.name.startswith("web-")]),
               FileRecord(path="bad.md", sha256=_sha(BAD_TEXT), compiler="grammar",
                          error="bad.md:5: the words 'a spaceship with wings' are not "
                          "understood: say 'a VM' or 'an LXC container'")],
        spec=None, error="bad.md:5: the words 'a spaceship with wings' are not understood",
        author="Owner <owner@lab>", message="Try a spaceship",
        committed_at=now - timedelta(hours=2))
    good = await store.record(
        commit_sha=GOOD_SHA, content=_content(files),
        files=[FileRecord(path="fleet.md", sha256=_sha(files["fleet.md"]), compiler="grammar",
                          guests=[g.name for g in spec.guests if g.name.startswith("web-")]),
               FileRecord(path="db.md", sha256=_sha(DB_TEXT), compiler="llm",
                          model="openai/gpt-4o-mini", guests=["db-1"])],
        spec=spec, error=None, author="Owner <owner@lab>",
        message="Declare the web fleet and the database", committed_at=now - timedelta(hours=1))
    await _bulk_runs(pool, runs)
    report = _report(guests)
    runs_store = RunStore(pool)
    done = await runs_store.create(trigger="commit", declaration_id=good.id,
                                   commit_sha=GOOD_SHA)
    plan = Plan(actions=[make_action("create", id=f"c{i}", target=f"web-{i}",
                                     guest_kind="vm", vmid=100 + i, node="pve1",
                                     reason="declared, not in the cluster",
                                     params=_create_params(100 + i))
                         for i in range(1, min(guests, 3) + 1)])
    await runs_store.save_plan(done.id, plan.to_json(), summary=report.to_json())
    await runs_store.set_status(done.id, "InProgress")
    actions = ActionStore(pool)
    for seq, action in enumerate(plan.actions):
        row = await actions.insert_pending(
            done.id, seq=seq, kind=action.kind, target=action.target, vmid=action.vmid,
            node=action.node, params={}, destructive=False,
            description=f"create VM {action.target}")
        await actions.finish(row.id, result="Success" if seq else "Error",
                             message="OK" if seq else "storage 'local-lvm' is full: "
                             "unable to allocate 10 GiB\nTASK ERROR: allocation failed",
                             upid=f"UPID:pve1:0000{seq}:create")
    await runs_store.set_status(done.id, "Failed", error="1 of 3 actions failed",
                                summary=report.to_json())
    waiting = await runs_store.create(trigger="commit", declaration_id=good.id,
                                      commit_sha=GOOD_SHA, requested_by=requested_by)
    doomed = Plan(actions=[
        make_action("delete", id="d1", target="old-test", guest_kind="vm", vmid=900,
                    node="pve2", reason="no declaration names it and prune is on"),
        make_action("start", id="s1", target="web-1", guest_kind="vm", vmid=101,
                    node="pve1", reason="declared running, observed stopped")],
        approval_reasons=["deletes old-test (max_deletions_per_run)"])
    await runs_store.save_plan(waiting.id, doomed.to_json(), summary=report.to_json())
    await runs_store.set_status(waiting.id, "AwaitingApproval")
    return Seeded(approval_run=waiting.id, done_run=done.id, declaration_id=good.id,
                  bad_declaration_id=bad.id, guests=guests)


def _create_params(vmid: int) -> object:
    from mycopod.reconcile.plan import CreateParams

    return CreateParams(vmid=vmid, node="pve1")


def _report(guests: int) -> ClusterReport:
    rows = []
    for i in range(1, guests + 1):
        declared = GuestFacts(cores=2, memory_mib=2048, state="running", node="pve1",
                              vmid=100 + i)
        observed = dataclasses.replace(declared, **({"cores": 1} if i == 2 else {}))
        status = "drifted" if i == 2 else "in-sync"
        rows.append(GuestReport(name=f"web-{i}", status=status, kind="vm", vmid=100 + i,
                                node="pve1", declared=declared, observed=observed,
                                drift=["cores 1 → 2"] if i == 2 else []))
    rows.append(GuestReport(name="db-1", status="missing", kind="vm",
                            declared=GuestFacts(cores=4, memory_mib=16384, state="running")))
    return ClusterReport(
        managed=guests, drifted=1, orphaned=1, guests=rows,
        orphans=[GuestIssue(name="old-test", vmid=900, node="pve2",
                            message="tagged mycopod, declared nowhere")],
        conflicts=[GuestIssue(name="legacy-db", vmid=901, node="pve3",
                              message="a guest of that name exists without the tag")],
        pending_restart=[PendingRestart(name="web-1", vmid=101, changes=("cores",))])


async def _bulk_runs(pool: asyncpg.Pool, runs: int) -> None:
    """``runs`` finished runs of the past, in one statement."""
    if runs <= 0:
        return
    await pool.execute("""
        INSERT INTO reconciliation_runs (trigger, cluster, status, commit_sha, created_at,
            started_at, finished_at, updated_at, error)
        SELECT (ARRAY['commit','drift','webhook','manual'])[1 + n % 4], 'default',
               (ARRAY['Succeeded','Succeeded','Failed','Cancelled'])[1 + n % 4],
               $2, NOW() - make_interval(mins => n + 180), NOW() - make_interval(mins => n + 180),
               NOW() - make_interval(mins => n + 180) + interval '3 seconds', NOW(),
               CASE WHEN n % 4 = 2 THEN 'a Proxmox task failed' END
        FROM generate_series(1, $1) AS n""", runs, GOOD_SHA)
