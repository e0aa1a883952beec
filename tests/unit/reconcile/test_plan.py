"""The plan contract: typed actions, the stored JSON, and its versions (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from mycopod.reconcile import planner
from mycopod.reconcile.plan import (
    PLAN_VERSION,
    CloneAction,
    CloneParams,
    CreateAction,
    CreateParams,
    GuestIssue,
    MigrateParams,
    NoParams,
    Plan,
    PlanVersionError,
    ResizeDiskAction,
    make_action,
)
from mycopod.spec import ClusterSpec, GuestSpec
from tests.support.plans import cluster, policy

#: a plan as the code before the plan had a version stored it (version 0), verbatim
STORED_V0: dict[str, Any] = json.loads("""
{
  "actions": [
    {"id": "web-1#1:create", "kind": "create", "target": "web-1", "guest_kind": "vm",
     "vmid": 9001, "node": "pve1", "params": {"vmid": 9001, "node": "pve1"},
     "reason": "missing: create VM (1 core, 1024 MiB, scsi0 32 GiB on local-lvm)",
     "destructive": false, "depends_on": []},
    {"id": "web-1#2:start", "kind": "start", "target": "web-1", "guest_kind": "vm",
     "vmid": 9001, "node": "pve1", "params": {}, "reason": "state none → running",
     "destructive": false, "depends_on": ["web-1#1:create"]},
    {"id": "db-1#1:clone", "kind": "clone", "target": "db-1", "guest_kind": "vm",
     "vmid": 9002, "node": "pve2", "params": {"template_vmid": 9000,
     "template_node": "pve1", "newid": 9002, "target": "pve2", "storage": "local-lvm",
     "pool": null}, "reason": "missing: create from template ubuntu-24.04",
     "destructive": false, "depends_on": []},
    {"id": "old#1:migrate", "kind": "migrate", "target": "old", "guest_kind": "ct",
     "vmid": 120, "node": "pve1", "params": {"target": "pve3", "online": true},
     "reason": "node pve1 → pve3", "destructive": true, "depends_on": []},
    {"id": "big#1:resize_disk", "kind": "resize_disk", "target": "big", "guest_kind": "vm",
     "vmid": 130, "node": "pve1", "params": {"disk": "scsi0", "size": "40G"},
     "reason": "scsi0 32 GiB → 40 GiB", "destructive": false, "depends_on": []}
  ],
  "guests": [{"name": "web-1", "status": "missing", "kind": "vm", "vmid": 9001,
              "node": "pve1", "declared": {"cores": 1, "memory_mib": 1024,
              "state": "running", "node": null, "vmid": null}, "observed": null,
              "drift": ["missing: create VM"]}],
  "orphans": [{"name": "gone", "vmid": 140, "node": "pve2",
               "message": "not in the spec; kept (prune is off)"}],
  "conflicts": [],
  "pending_restart": [{"name": "big", "vmid": 130, "changes": ["cores 2 → 4"]}],
  "errors": [{"guest": "bad", "message": "disks only grow"}],
  "notes": [],
  "approval_reasons": ["destructive steps (migrate) need approval"],
  "creates_need_approval": false,
  "user_changes": [{"declaration_id": 7, "commit_sha": "abc123", "path": "web.md",
                    "user_id": 2, "username": "alice",
                    "submitted_at": "2025-01-02T03:04:05Z"}]
}
""")


def test_a_plan_stored_without_a_version_loads_typed() -> None:
    plan = Plan.from_json(STORED_V0)
    create, start, clone, migrate, resize = plan.actions
    assert isinstance(create, CreateAction) and create.params == CreateParams(
        vmid=9001, node="pve1")
    assert start.params == NoParams()
    assert isinstance(clone, CloneAction) and clone.params == CloneParams(
        template_vmid=9000, template_node="pve1", newid=9002, target="pve2",
        storage="local-lvm")
    assert migrate.params == MigrateParams(target="pve3", online=True)
    assert isinstance(resize, ResizeDiskAction) and resize.params.disk == "scsi0"
    assert plan.orphans == [GuestIssue(name="gone", vmid=140, node="pve2",
                                       message="not in the spec; kept (prune is off)")]
    assert plan.pending_restart[0].changes == ("cores 2 → 4",)
    assert plan.user_changes[0].declaration_id == 7
    assert plan.approval_keys() == {("migrate", "old")}
    # stored again, it is the same JSON with its version
    assert plan.to_json() == {**STORED_V0, "version": PLAN_VERSION}


def test_a_plan_of_a_newer_version_is_refused_with_a_clear_message() -> None:
    with pytest.raises(PlanVersionError, match=r"version 4, written by a newer MycoPod; "
                       r"this one reads plans up to version 3: upgrade MycoPod"):
        Plan.from_json({**STORED_V0, "version": 4})


def test_a_version_1_plan_still_loads() -> None:
    plan = Plan.from_json({**STORED_V0, "version": 1})
    assert plan.version == PLAN_VERSION and len(plan.actions) == len(STORED_V0["actions"])


@pytest.mark.parametrize("data", [
    {"version": "1", "actions": []},
    {"actions": [{"id": "a#1:explode", "kind": "explode", "target": "a"}]},
    {"actions": [{"id": "a#1:resize_disk", "kind": "resize_disk", "target": "a",
                  "params": {"disk": "scsi0"}}]},
])
def test_an_unreadable_stored_plan_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(PlanVersionError, match="reconcile again"):
        Plan.from_json(data)


def test_no_stored_plan_is_an_empty_one() -> None:
    assert Plan.from_json(None) == Plan() == Plan.from_json({})


def test_an_action_takes_only_its_own_kind_of_params() -> None:
    with pytest.raises(ValidationError):
        make_action("start", id="a#1:start", target="a", guest_kind="vm", vmid=1, node="n",
                    reason="r", params=CreateParams(vmid=1, node="n"))
    action = make_action("delete", id="a#1:delete", target="a", guest_kind="vm", vmid=1,
                         node="n", reason="r")
    assert action.destructive and action.params == NoParams()


def test_a_planned_plan_round_trips_through_its_stored_json() -> None:
    want = [GuestSpec.model_validate({"name": "a"}),
            GuestSpec.model_validate({"name": "b", "kind": "ct"}),
            GuestSpec.model_validate({"name": "c", "source": {"clone": "ubuntu-24.04"}})]
    plan = planner.plan(ClusterSpec(guests=want), cluster(), policy())
    stored = json.loads(json.dumps(plan.to_json()))
    assert stored["version"] == PLAN_VERSION
    assert Plan.from_json(stored) == plan
    # a VM's create stores {vmid, node}; a container's adds its template
    creates = {a["target"]: a["params"] for a in stored["actions"] if a["kind"] == "create"}
    assert set(creates["a"]) == {"vmid", "node"}
    assert set(creates["b"]) == {"vmid", "node", "ostemplate"}
